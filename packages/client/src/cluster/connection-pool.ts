// One broker connection per address, created on first use and closed by close(). Counts the
// calls in flight per address, which is what "least loaded node" means for choosing where to
// send metadata and admin requests.

import type { BrokerApi, BrokerConnector } from '../protocol/broker-rpc.js';
import { ClientError } from '../client-error.js';

/** Connections a client keeps at most; past it, idle connections to unknown brokers are closed. */
export const MAX_CONNECTIONS = 1024;

/** Owned by one Producer, Consumer or Admin; close() closes every connection it made. */
export class ConnectionPool {
  private readonly connections = new Map<string, BrokerApi>();
  private readonly inFlight = new Map<string, number>();
  private closed = false;

  constructor(private readonly connector: BrokerConnector) {}

  /** Runs `fn` on the connection to `address`, counting it as in flight meanwhile. */
  async call<T>(address: string, fn: (api: BrokerApi) => Promise<T>): Promise<T> {
    const api = this.connection(address);
    this.inFlight.set(address, (this.inFlight.get(address) ?? 0) + 1);
    try {
      return await fn(api);
    } finally {
      const n = (this.inFlight.get(address) ?? 1) - 1;
      if (n === 0) this.inFlight.delete(address);
      else this.inFlight.set(address, n);
    }
  }

  inFlightCount(address: string): number {
    return this.inFlight.get(address) ?? 0;
  }

  get size(): number {
    return this.connections.size;
  }

  private connection(address: string): BrokerApi {
    if (this.closed) throw new ClientError('CLOSED', 'the client is closed');
    let api = this.connections.get(address);
    if (!api) {
      if (this.connections.size >= MAX_CONNECTIONS) {
        throw new ClientError('ILLEGAL_STATE', `more than ${MAX_CONNECTIONS} broker connections; prune() was not called`);
      }
      api = this.connector(address);
      this.connections.set(address, api);
    }
    return api;
  }

  /** Closes idle connections to addresses not in `keep` (brokers that left or moved). */
  prune(keep: ReadonlySet<string>): void {
    for (const [address, api] of this.connections) {
      if (!keep.has(address) && this.inFlightCount(address) === 0) {
        api.close();
        this.connections.delete(address);
      }
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const api of this.connections.values()) api.close();
    this.connections.clear();
  }
}
