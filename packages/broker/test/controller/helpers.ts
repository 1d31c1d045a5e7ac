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
import { Registry } from 'prom-client';
import { CoordinatorClient, seededRandom } from '@samsa/coordinator';
import type { BrokerChannel, BrokerEndpoint } from '../../src/controller/broker-channel.js';
import type { ControllerClock, TimerHandle } from '../../src/controller/controller-clock.js';
import type { ControllerConfig, ControllerLimits } from '../../src/controller/controller-config.js';
import { Controller } from '../../src/controller/controller.js';
import { brokerPath, encodeBrokerRegistration } from '../../src/controller/znodes.js';
import { startSingleMember } from '../../../coordinator/test/client/single-member.js';

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

/**
 * A cluster for driver tests: a real one-member coordination service, brokers as coordinator
 * sessions holding their registrations, Controllers on some of them (each on its broker's
 * session, as in a real broker), one recording channel, an admin session for direct reads.
 */
export class ControllerHarness {
  readonly channel = new RecordingChannel();
  readonly brokers = new Map<number, FakeBroker>();
  readonly controllers = new Map<number, Controller>();
  readonly registries = new Map<number, Registry>();
  admin!: CoordinatorClient;
  private service!: Awaited<ReturnType<typeof startSingleMember>>;

  static async start(): Promise<ControllerHarness> {
    const h = new ControllerHarness();
    h.service = await startSingleMember();
    h.admin = await CoordinatorClient.connect({ coordinators: h.service.address, sessionTimeoutMs: 10_000 });
    return h;
  }

  get address(): string {
    return this.service.address;
  }

  async addBroker(id: number, options: { rack?: string | null } = {}): Promise<FakeBroker> {
    const b = await registerBroker(this.address, id, options);
    this.brokers.set(id, b);
    return b;
  }

  /** A broker running a Controller on its session. */
  async addControllerBroker(
    id: number,
    config: Partial<ControllerConfig> = {},
    limits: Partial<ControllerLimits> = {},
  ): Promise<Controller> {
    const b = await this.addBroker(id);
    const registry = new Registry();
    const controller = new Controller({
      client: b.client,
      channel: this.channel,
      config: { 'broker.id': id, 'auto.leader.rebalance.enable': false, ...config },
      limits: { requestRetryBackoffMs: 20, requestRetryBackoffMaxMs: 100, eventRetryBackoffMs: 100, ...limits },
      registry,
      random: seededRandom(id),
    });
    this.controllers.set(id, controller);
    this.registries.set(id, registry);
    await controller.start();
    return controller;
  }

  /** The broker dies: its session ends and its registration (and /controller, if held) goes. */
  async killBroker(id: number): Promise<void> {
    const b = this.brokers.get(id);
    if (!b) throw new Error(`no broker ${id}`);
    this.brokers.delete(id);
    this.controllers.delete(id);
    await b.close();
  }

  async activeController(): Promise<Controller> {
    let found: Controller | undefined;
    await eventually(() => {
      found = [...this.controllers.values()].find((c) => c.isActive);
      return found !== undefined;
    }, 'an active controller');
    return found!;
  }

  async state(topic: string, partition: number): Promise<{ leader: number; leader_epoch: number; isr: number[]; controller_epoch: number; version: number } | null> {
    try {
      const { data, stat } = await this.admin.get(`/brokers/topics/${topic}/partitions/${partition}/state`);
      return { ...(JSON.parse(data.toString()) as { leader: number; leader_epoch: number; isr: number[]; controller_epoch: number }), version: stat.version };
    } catch {
      return null;
    }
  }

  /** What a partition leader does after changing its ISR: compare-and-set the state, then notify the controller. */
  async leaderChangesIsr(topic: string, partition: number, isr: number[]): Promise<void> {
    const current = await this.state(topic, partition);
    if (!current) throw new Error('no state');
    const { version, ...rest } = current;
    await this.admin.set(`/brokers/topics/${topic}/partitions/${partition}/state`, JSON.stringify({ ...rest, version: 1, isr }), version);
    await this.admin.ensurePath('/isr_change_notification');
    await this.admin.create('/isr_change_notification/isr_change_', JSON.stringify({ version: 1, partitions: [{ topic, partition }] }), {
      mode: 'persistent_sequential',
    });
  }

  async close(): Promise<void> {
    for (const c of this.controllers.values()) await c.stop();
    for (const b of this.brokers.values()) await b.close();
    await this.admin.close();
    await this.service.close();
  }
}
