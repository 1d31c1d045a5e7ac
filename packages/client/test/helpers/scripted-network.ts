// The client's network side (BrokerConnector / BrokerApi, our own interface) driven by the test:
// every call waits until the test answers it, or an auto-responder set by the test answers it.
// It is not a broker — it knows nothing of logs, offsets or leaders; each test states the answers.

import type { BrokerApi, BrokerConnector, RpcOptions } from '../../src/protocol/broker-rpc.js';
import { KafkaError } from '../../src/protocol/errors.js';
import type { MetadataResponse, PartitionMetadata } from '../../src/protocol/wire-types.js';
import { settle } from './manual-clock.js';

export type Method = Exclude<keyof BrokerApi, 'close'>;

export interface PendingCall {
  address: string;
  method: Method;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  request: any;
  opts: RpcOptions;
  respond(response: unknown): void;
  fail(err: Error): void;
}

/** Returns a response, an Error to fail the call, or undefined to leave it for the test. */
export type AutoResponder = (call: PendingCall) => unknown;

const METHODS: Method[] = [
  'metadata', 'produce', 'fetch', 'listOffsets', 'createTopics', 'deleteTopics', 'createPartitions', 'describeConfigs',
  'alterConfigs', 'initProducerId', 'findCoordinator', 'joinGroup', 'syncGroup', 'heartbeat', 'leaveGroup', 'offsetCommit',
  'offsetFetch', 'offsetDelete', 'listGroups', 'describeGroups', 'deleteGroups', 'groupLag',
];

export class ScriptedNetwork {
  readonly pending: PendingCall[] = [];
  /** Every call made, in order. */
  readonly history: Array<{ address: string; method: Method; request: unknown }> = [];
  readonly opened: string[] = [];
  readonly closed: string[] = [];
  private responders: AutoResponder[] = [];

  readonly connector: BrokerConnector = (address) => {
    this.opened.push(address);
    const api = { close: () => void this.closed.push(address) } as Record<string, unknown>;
    for (const method of METHODS) {
      api[method] = (request: unknown, opts: RpcOptions) => this.call(address, method, request, opts);
    }
    return api as unknown as BrokerApi;
  };

  /** Answers matching calls automatically (checked newest first). */
  autoRespond(responder: AutoResponder): void {
    this.responders.unshift(responder);
  }

  private call(address: string, method: Method, request: unknown, opts: RpcOptions): Promise<unknown> {
    this.history.push({ address, method, request });
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (): boolean => {
        if (settled) return false;
        settled = true;
        const i = this.pending.indexOf(call);
        if (i >= 0) this.pending.splice(i, 1);
        opts.signal?.removeEventListener('abort', onAbort);
        return true;
      };
      const call: PendingCall = {
        address,
        method,
        request,
        opts,
        respond: (res) => {
          if (finish()) resolve(res);
        },
        fail: (err) => {
          if (finish()) reject(err);
        },
      };
      const onAbort = (): void => call.fail(new KafkaError('NETWORK_EXCEPTION', `call to ${address} cancelled`));
      if (opts.signal?.aborted) {
        onAbort();
        return;
      }
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.push(call);
      for (const r of this.responders) {
        const out = r(call);
        if (out === undefined) continue;
        if (out instanceof Error) call.fail(out);
        else call.respond(out);
        break;
      }
    });
  }

  /** The oldest unanswered call matching `method` (and `address`), waiting for promise jobs to make one. */
  async next(method?: Method, address?: string): Promise<PendingCall> {
    for (let round = 0; round < 50; round++) {
      const c = this.pending.find((p) => (method === undefined || p.method === method) && (address === undefined || p.address === address));
      if (c) return c;
      await settle(1);
    }
    const open = this.pending.map((p) => `${p.method}@${p.address}`).join(', ') || 'none';
    throw new Error(`no pending ${method ?? 'call'}${address ? ` to ${address}` : ''} (pending: ${open})`);
  }

  count(method: Method): number {
    return this.history.filter((h) => h.method === method).length;
  }
}

export interface PartitionSpec {
  leader: number;
  epoch?: number;
  replicas?: number[];
  isr?: number[];
  offline?: number[];
  error?: string;
}

/** A MetadataResponse from a compact description. */
export function metadataResponse(spec: {
  brokers: number[];
  controller?: number;
  topics?: Record<string, PartitionSpec[] | { error: string }>;
  host?: (id: number) => string;
}): MetadataResponse {
  const host = spec.host ?? ((id: number) => `broker${id}`);
  return {
    brokers: spec.brokers.map((id) => ({ id, host: host(id), port: 9092, rack: '' })),
    controllerId: spec.controller ?? spec.brokers[0] ?? -1,
    clusterId: 'test-cluster',
    topics: Object.entries(spec.topics ?? {}).map(([name, t]) => {
      if (!Array.isArray(t)) {
        return { name, isInternal: false, partitions: [], error: wireError(t.error) };
      }
      return {
        name,
        isInternal: false,
        error: null,
        partitions: t.map((p, partition): PartitionMetadata => ({
          partition,
          leader: p.leader,
          leaderEpoch: p.epoch ?? 0,
          replicas: p.replicas ?? [p.leader],
          isr: p.isr ?? p.replicas ?? [p.leader],
          offlineReplicas: p.offline ?? [],
          error: p.error ? wireError(p.error) : null,
        })),
      };
    }),
  };
}

export function wireError(name: string, leaderId = -1, leaderEpoch = -1) {
  const e = new KafkaError(name as never);
  return { code: e.code, name: e.type, message: e.message, leaderId, leaderEpoch };
}
