// Everything the controller reads from and writes to the coordinator (Kafka's KafkaZkClient for
// the controller). Every write is fenced: it travels in a multi whose first operation checks the
// version of /controller_epoch that this controller saw when it took over, so a controller that
// was replaced (and has not noticed yet) cannot change anything: its multi fails on that check
// and it gets ControllerMovedError. Partition state writes are also compare-and-set on the state
// znode's version, so a leader's concurrent ISR change is never overwritten blindly.

import { CoordinatorError, type CoordinatorClient, type Logger, type MultiOpInput, type MultiOpOutput } from '@samsa/coordinator';
import { KafkaError } from '@samsa/client';
import { ControllerMovedError, CorruptZnodeError } from './controller-errors.js';
import type { PartitionStateRecord } from './controller-context.js';
import type { LeaderAndIsr } from './leader-election-strategies.js';
import type { PartitionAssignment } from './replica-assignment.js';
import {
  ISR_CHANGE_PREFIX,
  ZK,
  brokerPath,
  decodeBrokerRegistration,
  decodeControllerEpoch,
  decodeIsrChangeNotification,
  decodePartitionState,
  decodeTopicAssignment,
  decodeTopicConfig,
  deleteTopicPath,
  encodePartitionState,
  encodeTopicAssignment,
  encodeTopicConfig,
  partitionPath,
  partitionStatePath,
  topicConfigPath,
  topicPartitionsPath,
  topicPath,
  type BrokerRegistration,
  type TopicPartitionRef,
} from './znodes.js';

/** The controller's claim: the /controller_epoch version it took over at. */
export interface Fence {
  epochZkVersion: number;
}

export type StateWriteResult = { status: 'ok'; version: number } | { status: 'conflict' } | { status: 'missing' };
export type StateCreateResult = { status: 'ok'; version: number } | { status: 'exists' };

export interface StateUpdate {
  topic: string;
  partition: number;
  state: LeaderAndIsr;
  expectedVersion: number;
}

export interface StateCreation {
  topic: string;
  partition: number;
  state: LeaderAndIsr;
}

export interface StoreLimits {
  maxPartitionsPerWrite: number;
  maxConcurrentReads: number;
}

/** Ops per multi, the fence included; the coordinator's default limit is 1000. */
const MAX_OPS_PER_MULTI = 900;

const isCode = (err: unknown, ...codes: string[]): err is CoordinatorError => err instanceof CoordinatorError && codes.includes(err.code);

/** A compare-and-set that lost ('conflict') or whose znode is gone ('missing'); anything else is rethrown. */
function writeFailure(err: unknown): 'conflict' | 'missing' {
  if (isCode(err, 'BAD_VERSION')) return 'conflict';
  if (isCode(err, 'NO_NODE')) return 'missing';
  throw err;
}

/** Runs `fn` over `items` with at most `limit` in flight; results in input order. */
export async function mapWithConcurrency<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export class ControllerStore {
  constructor(
    private readonly client: CoordinatorClient,
    private readonly logger: Logger,
    private readonly limits: StoreLimits,
  ) {}

  // ---- reads -------------------------------------------------------------------------------

  async readControllerEpoch(): Promise<{ epoch: number; version: number }> {
    const { data, stat } = await this.client.get(ZK.controllerEpoch);
    return { epoch: decodeControllerEpoch(data), version: stat.version };
  }

  /** Creates the persistent parents the controller watches and writes under. */
  async ensureLayout(): Promise<void> {
    for (const path of [ZK.brokerIds, ZK.brokerTopics, ZK.configTopics, ZK.deleteTopics, ZK.isrChangeNotification]) {
      await this.client.ensurePath(path);
    }
  }

  private async childrenOrEmpty(path: string): Promise<string[]> {
    try {
      return (await this.client.children(path)).children;
    } catch (err) {
      if (isCode(err, 'NO_NODE')) return [];
      throw err;
    }
  }

  private async getOrNull(path: string): Promise<{ data: Buffer; stat: { version: number; czxid: number } } | null> {
    try {
      return await this.client.get(path);
    } catch (err) {
      if (isCode(err, 'NO_NODE')) return null;
      throw err;
    }
  }

  /** Registered brokers; a registration that does not parse is logged and left out. */
  async readBrokers(): Promise<Map<number, BrokerRegistration>> {
    const ids = (await this.childrenOrEmpty(ZK.brokerIds)).filter((name) => {
      const ok = /^(0|[1-9]\d{0,9})$/.test(name) && Number(name) <= 0x7fffffff;
      if (!ok) this.logger.warn('ignoring a znode under /brokers/ids that is not a broker id', { name });
      return ok;
    });
    const found = await mapWithConcurrency(ids, this.limits.maxConcurrentReads, async (name) => {
      const id = Number(name);
      const node = await this.getOrNull(brokerPath(id));
      if (!node) return null;
      try {
        return decodeBrokerRegistration(id, node.stat.czxid, node.data);
      } catch (err) {
        if (!(err instanceof CorruptZnodeError)) throw err;
        this.logger.error('ignoring a broker whose registration does not parse', { brokerId: id, error: err.message });
        return null;
      }
    });
    return new Map(found.filter((b): b is BrokerRegistration => b !== null).map((b) => [b.id, b]));
  }

  readTopicNames(): Promise<string[]> {
    return this.childrenOrEmpty(ZK.brokerTopics);
  }

  /** The topic's assignment and znode version; null when it does not exist or does not parse (logged). */
  async readTopic(topic: string): Promise<{ assignment: PartitionAssignment; version: number } | null> {
    const node = await this.getOrNull(topicPath(topic));
    if (!node) return null;
    try {
      return { assignment: decodeTopicAssignment(topic, node.data), version: node.stat.version };
    } catch (err) {
      if (!(err instanceof CorruptZnodeError)) throw err;
      this.logger.error('ignoring a topic whose assignment does not parse', { topic, error: err.message });
      return null;
    }
  }

  /**
   * One partition's state; null when the znode does not exist. A state that does not parse is
   * logged and read as "no leader, empty ISR" at its version, so only an explicitly allowed
   * unclean election can bring the partition back, and a controller write can replace it.
   */
  async readPartitionState(topic: string, partition: number): Promise<PartitionStateRecord | null> {
    const node = await this.getOrNull(partitionStatePath(topic, partition));
    if (!node) return null;
    try {
      return { ...decodePartitionState(topic, partition, node.data), version: node.stat.version };
    } catch (err) {
      if (!(err instanceof CorruptZnodeError)) throw err;
      this.logger.error('partition state does not parse; treating the partition as offline', { topic, partition, error: err.message });
      return { leader: -1, leaderEpoch: 0, isr: [], controllerEpoch: 0, version: node.stat.version };
    }
  }

  /** States of the given partitions of a topic (those without a state znode are absent). */
  async readPartitionStates(topic: string, partitions: readonly number[]): Promise<Map<number, PartitionStateRecord>> {
    const found = await this.readPartitionStatesOf([{ topic, partitions }]);
    return new Map(found.map((f) => [f.partition, f.state]));
  }

  /** States of many topics' partitions, all reads in one bounded pool (loading a whole cluster). */
  async readPartitionStatesOf(
    wanted: ReadonlyArray<{ topic: string; partitions: readonly number[] }>,
  ): Promise<Array<{ topic: string; partition: number; state: PartitionStateRecord }>> {
    const limit = this.limits.maxConcurrentReads;
    const existing = await mapWithConcurrency(wanted, limit, async (w) => ({
      w,
      have: new Set((await this.childrenOrEmpty(topicPartitionsPath(w.topic))).map(Number)),
    }));
    const pairs = existing.flatMap(({ w, have }) => w.partitions.filter((p) => have.has(p)).map((partition) => ({ topic: w.topic, partition })));
    const states = await mapWithConcurrency(pairs, limit, (p) => this.readPartitionState(p.topic, p.partition));
    const result: Array<{ topic: string; partition: number; state: PartitionStateRecord }> = [];
    pairs.forEach((p, i) => {
      const state = states[i];
      if (state) result.push({ ...p, state });
    });
    return result;
  }

  async readTopicConfig(topic: string): Promise<Record<string, string>> {
    const node = await this.getOrNull(topicConfigPath(topic));
    if (!node) return {};
    try {
      return decodeTopicConfig(topic, node.data);
    } catch (err) {
      if (!(err instanceof CorruptZnodeError)) throw err;
      this.logger.error('topic config does not parse; using broker defaults', { topic, error: err.message });
      return {};
    }
  }

  readDeleteTopicRequests(): Promise<string[]> {
    return this.childrenOrEmpty(ZK.deleteTopics);
  }

  /** Every ISR change notification's name, oldest first. */
  async readIsrChangeNotificationNames(): Promise<string[]> {
    return (await this.childrenOrEmpty(ZK.isrChangeNotification)).filter((n) => n.startsWith(ISR_CHANGE_PREFIX)).sort();
  }

  /** Up to `max` ISR change notifications (oldest first) and the partitions they name. */
  async readIsrChangeNotifications(max: number): Promise<{ names: string[]; partitions: TopicPartitionRef[] }> {
    const names = (await this.readIsrChangeNotificationNames()).slice(0, max);
    const lists = await mapWithConcurrency(names, this.limits.maxConcurrentReads, async (name) => {
      const path = `${ZK.isrChangeNotification}/${name}`;
      const node = await this.getOrNull(path);
      if (!node) return [];
      try {
        return decodeIsrChangeNotification(path, node.data);
      } catch (err) {
        if (!(err instanceof CorruptZnodeError)) throw err;
        this.logger.warn('ignoring an ISR change notification that does not parse', { path, error: err.message });
        return [];
      }
    });
    return { names, partitions: lists.flat() };
  }

  // ---- fenced writes -----------------------------------------------------------------------

  /** Runs `ops` after the fence check; ControllerMovedError when the fence fails. */
  private async fencedMulti(fence: Fence, ops: MultiOpInput[]): Promise<MultiOpOutput[]> {
    try {
      const results = await this.client.multi([{ type: 'check', path: ZK.controllerEpoch, version: fence.epochZkVersion }, ...ops]);
      return results.slice(1);
    } catch (err) {
      if (err instanceof CoordinatorError && err.details.failedOpIndex === 0) throw new ControllerMovedError();
      throw err;
    }
  }

  /** Index (into `ops`) of the op a failed fenced multi names, or -1. */
  private static failedIndex(err: unknown): number {
    if (!(err instanceof CoordinatorError)) return -1;
    const i = err.details.failedOpIndex;
    return typeof i === 'number' ? i - 1 : -1;
  }

  /**
   * Writes partition states, each compare-and-set on its version. Batches first; a batch that
   * fails on one partition is redone partition by partition so the others still land.
   */
  async updatePartitionStates(fence: Fence, updates: readonly StateUpdate[]): Promise<StateWriteResult[]> {
    const results: StateWriteResult[] = [];
    for (const batch of chunk(updates, Math.min(this.limits.maxPartitionsPerWrite, MAX_OPS_PER_MULTI))) {
      const ops: MultiOpInput[] = batch.map((u) => ({
        type: 'setData',
        path: partitionStatePath(u.topic, u.partition),
        data: encodePartitionState(u.state),
        version: u.expectedVersion,
      }));
      try {
        const out = await this.fencedMulti(fence, ops);
        for (const r of out) results.push({ status: 'ok', version: r.stat!.version });
        continue;
      } catch (err) {
        const status = writeFailure(err);
        if (batch.length === 1) {
          results.push({ status });
          continue;
        }
      }
      // One partition failed the batch: write them one by one so the others land.
      for (const op of ops) {
        try {
          const [r] = await this.fencedMulti(fence, [op]);
          results.push({ status: 'ok', version: r!.stat!.version });
        } catch (err) {
          results.push({ status: writeFailure(err) });
        }
      }
    }
    return results;
  }

  /**
   * Creates state znodes (and their parents) for new partitions. A partition whose state already
   * exists (a previous controller created it) comes back as 'exists': read it instead.
   */
  async createPartitionStates(fence: Fence, creations: readonly StateCreation[]): Promise<StateCreateResult[]> {
    const byTopic = new Map<string, Set<number>>();
    for (const c of creations) {
      if (!byTopic.has(c.topic)) byTopic.set(c.topic, new Set((await this.childrenOrEmpty(topicPartitionsPath(c.topic))).map(Number)));
    }
    const partitionsDirExists = new Map<string, boolean>();
    for (const topic of byTopic.keys()) partitionsDirExists.set(topic, (await this.client.exists(topicPartitionsPath(topic))) !== null);

    const results: StateCreateResult[] = [];
    for (const batch of chunk(creations, Math.min(this.limits.maxPartitionsPerWrite, Math.floor(MAX_OPS_PER_MULTI / 3)))) {
      const ops: MultiOpInput[] = [];
      const stateOpIndex: number[] = [];
      const createdDirs = new Set<string>();
      for (const c of batch) {
        if (!partitionsDirExists.get(c.topic) && !createdDirs.has(c.topic)) {
          ops.push({ type: 'create', path: topicPartitionsPath(c.topic) });
          createdDirs.add(c.topic);
        }
        if (!byTopic.get(c.topic)!.has(c.partition)) ops.push({ type: 'create', path: partitionPath(c.topic, c.partition) });
        stateOpIndex.push(ops.length);
        ops.push({ type: 'create', path: partitionStatePath(c.topic, c.partition), data: encodePartitionState(c.state) });
      }
      try {
        const out = await this.fencedMulti(fence, ops);
        for (const i of stateOpIndex) results.push({ status: 'ok', version: out[i]!.stat?.version ?? 0 });
        for (const t of createdDirs) partitionsDirExists.set(t, true);
        for (const c of batch) byTopic.get(c.topic)!.add(c.partition);
        continue;
      } catch (err) {
        if (!isCode(err, 'NODE_EXISTS', 'NO_NODE')) throw err;
      }
      // Someone created some of these meanwhile: one partition at a time, tolerating what exists.
      for (const c of batch) results.push(await this.createOnePartitionState(fence, c));
    }
    return results;
  }

  private async createOnePartitionState(fence: Fence, c: StateCreation): Promise<StateCreateResult> {
    for (const dir of [topicPartitionsPath(c.topic), partitionPath(c.topic, c.partition)]) {
      try {
        await this.fencedMulti(fence, [{ type: 'create', path: dir }]);
      } catch (err) {
        if (!isCode(err, 'NODE_EXISTS')) throw err;
      }
    }
    try {
      const [r] = await this.fencedMulti(fence, [{ type: 'create', path: partitionStatePath(c.topic, c.partition), data: encodePartitionState(c.state) }]);
      return { status: 'ok', version: r!.stat?.version ?? 0 };
    } catch (err) {
      if (isCode(err, 'NODE_EXISTS')) return { status: 'exists' };
      throw err;
    }
  }

  /** Writes a new topic's assignment and config in one multi; TOPIC_ALREADY_EXISTS if it exists. */
  async createTopic(fence: Fence, topic: string, assignment: PartitionAssignment, config: Readonly<Record<string, string>>): Promise<void> {
    const configExists = (await this.client.exists(topicConfigPath(topic))) !== null;
    const ops: MultiOpInput[] = [
      configExists
        ? { type: 'setData', path: topicConfigPath(topic), data: encodeTopicConfig(config) }
        : { type: 'create', path: topicConfigPath(topic), data: encodeTopicConfig(config) },
      { type: 'create', path: topicPath(topic), data: encodeTopicAssignment(assignment) },
    ];
    try {
      await this.fencedMulti(fence, ops);
    } catch (err) {
      if (isCode(err, 'NODE_EXISTS') && ControllerStore.failedIndex(err) === 1) {
        throw new KafkaError('TOPIC_ALREADY_EXISTS', `Topic '${topic}' already exists.`);
      }
      throw err;
    }
  }

  /** Replaces a topic's assignment (partitions added), compare-and-set on its version. */
  async setTopicAssignment(fence: Fence, topic: string, assignment: PartitionAssignment, expectedVersion: number): Promise<number> {
    const [r] = await this.fencedMulti(fence, [
      { type: 'setData', path: topicPath(topic), data: encodeTopicAssignment(assignment), version: expectedVersion },
    ]);
    return r!.stat!.version;
  }

  /** Queues a topic for deletion (/admin/delete_topics/<topic>); already queued is fine. */
  async requestTopicDeletion(fence: Fence, topic: string): Promise<void> {
    try {
      await this.fencedMulti(fence, [{ type: 'create', path: deleteTopicPath(topic) }]);
    } catch (err) {
      if (!isCode(err, 'NODE_EXISTS')) throw err;
    }
  }

  async removeTopicDeletionRequest(fence: Fence, topic: string): Promise<void> {
    try {
      await this.fencedMulti(fence, [{ type: 'delete', path: deleteTopicPath(topic) }]);
    } catch (err) {
      if (!isCode(err, 'NO_NODE')) throw err;
    }
  }

  /**
   * Deletes a topic's znodes: /brokers/topics/<topic> with everything under it, its config and
   * its deletion request. Bottom-up in fenced batches; re-reads and goes on if some are already gone.
   */
  async deleteTopicZnodes(fence: Fence, topic: string): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const leaves: string[] = [];
      const middles: string[] = [];
      const partitions = await this.childrenOrEmpty(topicPartitionsPath(topic));
      for (const p of partitions) {
        const dir = `${topicPartitionsPath(topic)}/${p}`;
        for (const child of await this.childrenOrEmpty(dir)) leaves.push(`${dir}/${child}`);
        middles.push(dir);
      }
      const tail: string[] = [];
      if (partitions.length > 0 || (await this.client.exists(topicPartitionsPath(topic)))) tail.push(topicPartitionsPath(topic));
      if (await this.client.exists(topicPath(topic))) tail.push(topicPath(topic));
      if (await this.client.exists(topicConfigPath(topic))) tail.push(topicConfigPath(topic));
      if (await this.client.exists(deleteTopicPath(topic))) tail.push(deleteTopicPath(topic));
      const ordered = [...leaves, ...middles, ...tail];
      if (ordered.length === 0) return;
      try {
        for (const batch of chunk(ordered, MAX_OPS_PER_MULTI)) {
          await this.fencedMulti(fence, batch.map((path): MultiOpInput => ({ type: 'delete', path })));
        }
        return;
      } catch (err) {
        // NO_NODE: deleted meanwhile; NOT_EMPTY: something appeared under it. Look again.
        if (!isCode(err, 'NO_NODE', 'NOT_EMPTY')) throw err;
      }
    }
    throw new KafkaError('UNKNOWN_SERVER_ERROR', `the znodes of topic ${topic} keep changing; deletion will be retried`);
  }

  async deleteIsrChangeNotifications(fence: Fence, names: readonly string[]): Promise<void> {
    for (const batch of chunk(names, MAX_OPS_PER_MULTI)) {
      const ops = batch.map((n): MultiOpInput => ({ type: 'delete', path: `${ZK.isrChangeNotification}/${n}` }));
      try {
        await this.fencedMulti(fence, ops);
      } catch (err) {
        if (!isCode(err, 'NO_NODE')) throw err;
        for (const op of ops) {
          try {
            await this.fencedMulti(fence, [op]);
          } catch (e) {
            if (!isCode(e, 'NO_NODE')) throw e;
          }
        }
      }
    }
  }

  /** Deletes /controller if this session holds it, so a fresh election can run. */
  async releaseControllerZnode(): Promise<void> {
    try {
      const stat = await this.client.exists(ZK.controller);
      if (stat && stat.ephemeralOwner === this.client.sessionId) await this.client.delete(ZK.controller, stat.version);
    } catch (err) {
      if (!isCode(err, 'NO_NODE', 'BAD_VERSION')) throw err;
    }
  }
}
