// Test helpers for the controller: a manual clock, a recording BrokerChannel (a test double of
// our own interface), broker registrations on a real coordination service, and a deadline wait.

import type {
  LeaderAndIsrRequest,
  LeaderAndIsrResponse,
  StopReplicaRequest,
  StopReplicaResponse,
  UpdateMetadataRequest,
  UpdateMetadataResponse,
} from '@samsa/client';
import { CoordinatorClient } from '@samsa/coordinator';
import type { BrokerChannel, BrokerEndpoint } from '../../src/controller/broker-channel.js';
import type { ControllerClock, TimerHandle } from '../../src/controller/controller-clock.js';
import { brokerPath, encodeBrokerRegistration } from '../../src/controller/znodes.js';

export { startSingleMember } from '../../../coordinator/test/client/single-member.js';

/** Timers fire only when advance() passes their due time, in due order. */
export class ManualClock implements ControllerClock {
  private time = 0;
  private seq = 0;
  private readonly timers = new Map<number, { due: number; fn: () => void }>();

  now(): number {
    return this.time;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.seq;
    this.timers.set(id, { due: this.time + Math.max(0, ms), fn });
    return id;
  }
  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as number);
  }
  get pending(): number {
    return this.timers.size;
  }
  /** Moves time on, firing due timers (and letting promise callbacks run between them). */
  async advance(ms: number): Promise<void> {
    const until = this.time + ms;
    for (;;) {
      await flushMicrotasks();
      const next = [...this.timers.entries()].filter(([, t]) => t.due <= until).sort((a, b) => a[1].due - b[1].due || a[0] - b[0])[0];
      if (!next) break;
      this.timers.delete(next[0]);
      this.time = next[1].due;
      next[1].fn();
    }
    this.time = until;
    await flushMicrotasks();
  }
}

export async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

export type Recorded =
  | { brokerId: number; kind: 'leaderAndIsr'; request: LeaderAndIsrRequest }
  | { brokerId: number; kind: 'updateMetadata'; request: UpdateMetadataRequest }
  | { brokerId: number; kind: 'stopReplica'; request: StopReplicaRequest };

/**
 * Records every request delivered, answers with no error. `failing` brokers reject sends (a
 * transport failure: the controller retries); `stopReplicaErrors` makes StopReplica answer with
 * a per-partition error.
 */
export class RecordingChannel implements BrokerChannel {
  readonly delivered: Recorded[] = [];
  readonly attempts: Recorded[] = [];
  readonly failing = new Set<number>();
  readonly stopReplicaErrors = new Set<number>();
  readonly disconnected: number[] = [];

  private record(r: Recorded): void {
    this.attempts.push(r);
    if (this.failing.has(r.brokerId)) throw new Error(`broker ${r.brokerId} unreachable`);
    this.delivered.push(r);
  }

  async leaderAndIsr(broker: BrokerEndpoint, request: LeaderAndIsrRequest): Promise<LeaderAndIsrResponse> {
    this.record({ brokerId: broker.id, kind: 'leaderAndIsr', request });
    return { error: null, partitionErrors: [] };
  }
  async updateMetadata(broker: BrokerEndpoint, request: UpdateMetadataRequest): Promise<UpdateMetadataResponse> {
    this.record({ brokerId: broker.id, kind: 'updateMetadata', request });
    return { error: null };
  }
  async stopReplica(broker: BrokerEndpoint, request: StopReplicaRequest): Promise<StopReplicaResponse> {
    this.record({ brokerId: broker.id, kind: 'stopReplica', request });
    if (this.stopReplicaErrors.has(broker.id)) {
      return {
        error: null,
        partitionErrors: request.partitions.map((p) => ({
          ...p,
          error: { code: 56, name: 'KAFKA_STORAGE_ERROR', message: 'disk', leaderId: -1, leaderEpoch: -1 },
        })),
      };
    }
    return { error: null, partitionErrors: [] };
  }
  disconnect(brokerId: number): void {
    this.disconnected.push(brokerId);
  }

  of<K extends Recorded['kind']>(kind: K, brokerId?: number): Array<Extract<Recorded, { kind: K }>> {
    return this.delivered.filter((r): r is Extract<Recorded, { kind: K }> => r.kind === kind && (brokerId === undefined || r.brokerId === brokerId));
  }

  /** LeaderAndIsr partition states delivered for one partition, in order. */
  leaderAndIsrFor(topic: string, partition: number, brokerId?: number): Array<{ brokerId: number; state: LeaderAndIsrRequest['partitionStates'][number]; controllerEpoch: number }> {
    return this.of('leaderAndIsr', brokerId).flatMap((r) =>
      r.request.partitionStates
        .filter((s) => s.topic === topic && s.partition === partition)
        .map((state) => ({ brokerId: r.brokerId, state, controllerEpoch: r.request.controllerEpoch })),
    );
  }

  clear(): void {
    this.delivered.length = 0;
    this.attempts.length = 0;
  }
}

/** Waits for `check` to hold, polling, up to a deadline; the message says what did not happen. */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A broker's coordinator session holding its ephemeral registration; close() = the broker dies. */
export interface FakeBroker {
  id: number;
  client: CoordinatorClient;
  close(): Promise<void>;
}

export async function registerBroker(address: string, id: number, options: { rack?: string | null; port?: number } = {}): Promise<FakeBroker> {
  const client = await CoordinatorClient.connect({ coordinators: address, sessionTimeoutMs: 4_000 });
  await client.ensurePath('/brokers/ids');
  await client.create(
    brokerPath(id),
    encodeBrokerRegistration({ host: '127.0.0.1', port: options.port ?? 19000 + id, rack: options.rack ?? null, metricsPort: null }),
    { mode: 'ephemeral' },
  );
  return { id, client, close: () => client.close() };
}
