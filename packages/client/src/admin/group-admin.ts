// The Admin's consumer-group calls (Kafka's AdminClient listConsumerGroups, describeConsumerGroups,
// deleteConsumerGroups, listConsumerGroupOffsets, alterConsumerGroupOffsets,
// deleteConsumerGroupOffsets, and kafka-consumer-groups.sh's lag and --reset-offsets). Every group
// call goes to the group's coordinator, found with FindCoordinator before each attempt, and is
// retried there on the coordinator errors (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS,
// COORDINATOR_NOT_AVAILABLE) within the call's deadline.

import { ClientError, invalidArgument } from '../client-error.js';
import type { Clock } from '../clock.js';
import type { ConnectionPool } from '../cluster/connection-pool.js';
import type { MetadataManager } from '../cluster/metadata-manager.js';
import { INT_MAX } from '../config/config-def.js';
import type { BrokerApi } from '../protocol/broker-rpc.js';
import { KafkaError, kafkaErrorFromWire } from '../protocol/errors.js';
import type { OffsetCommitTopic, OffsetFetchTopic } from '../protocol/group-wire-types.js';
import { RetryPolicy, retryUntil } from '../retry/retry-policy.js';
import { TopicPartitionMap, tpString, validatePartition, validateTopicName, type TopicPartition } from '../topic-partition.js';
import { CONSUMER_PROTOCOL_TYPE, decodeAssignment } from '../consumer/assignors/consumer-protocol.js';
import { findCoordinator, type CoordinatorNode } from '../consumer/group/find-coordinator.js';
import { validateGroupId } from '../consumer/group/group-id.js';
import type {
  AdminCallOptions, DeletedGroup, GroupDescription, GroupLagStatus, GroupListing, GroupOffset, GroupOffsetChange, GroupPartitionLag,
  ListGroupsOptions, ListOffsetsSpec, ListedOffset, ResetOffsetsSpec,
} from './admin-types.js';

/** Groups one call may name at most. */
export const MAX_GROUPS_PER_CALL = 1_000;
/** States in which a group's offsets may be reset (no member is consuming), as kafka-consumer-groups.sh. */
const INACTIVE_STATES = new Set(['Empty', 'Dead']);

export interface GroupAdminDeps {
  pool: ConnectionPool;
  metadata: MetadataManager;
  policy: RetryPolicy;
  clock: Clock;
  requestTimeoutMs: number;
  /** The Admin's listOffsets (leaders, retries, per-partition errors). */
  listOffsets(specs: ListOffsetsSpec[], options: AdminCallOptions): Promise<ListedOffset[]>;
  /** The Admin's deadline from call options. */
  deadline(options: AdminCallOptions | undefined): number;
}

function checkGroupIds(ids: unknown, what: string): asserts ids is string[] {
  if (!Array.isArray(ids)) throw invalidArgument(`${what} takes an array of group ids`);
  if (ids.length > MAX_GROUPS_PER_CALL) throw invalidArgument(`${what}: at most ${MAX_GROUPS_PER_CALL} groups per call`);
  for (const id of ids) validateGroupId(id);
  if (new Set(ids).size !== ids.length) throw invalidArgument(`${what}: a group id appears twice`);
}

function groupNamed(err: KafkaError, groupId: string): KafkaError {
  return new KafkaError(err.type, `Group '${groupId}': ${err.message}`, { cause: err });
}

function byTopic(tps: readonly TopicPartition[]): OffsetFetchTopic[] {
  const m = new Map<string, number[]>();
  for (const tp of tps) m.set(tp.topic, [...(m.get(tp.topic) ?? []), tp.partition]);
  return [...m].map(([topic, partitions]) => ({ topic, partitions }));
}

function sortTps<T extends TopicPartition>(list: T[]): T[] {
  return list.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
}

export class GroupAdmin {
  constructor(private readonly d: GroupAdminDeps) {}

  private retrying<T>(what: string, deadlineMs: number, fn: () => Promise<T>): Promise<T> {
    const { metadata } = this.d;
    return retryUntil(
      {
        clock: this.d.clock,
        policy: this.d.policy,
        deadlineMs,
        what,
        signal: metadata.signal,
        refreshMetadata: async () => {
          metadata.requestUpdate();
          await metadata.refresh();
        },
      },
      fn,
    );
  }

  private coordinator(groupId: string): Promise<CoordinatorNode> {
    return findCoordinator({ pool: this.d.pool, metadata: this.d.metadata, requestTimeoutMs: this.d.requestTimeoutMs, signal: this.d.metadata.signal }, groupId);
  }

  /** Runs `fn` on the group's coordinator; a coordinator error (thrown or returned) makes the retry loop look it up again. */
  private onCoordinator<T>(what: string, groupId: string, deadlineMs: number, fn: (api: BrokerApi, opts: { timeoutMs: number; signal: AbortSignal }, node: CoordinatorNode) => Promise<T>): Promise<T> {
    return this.retrying(`${what} of group '${groupId}'`, deadlineMs, async () => {
      const node = await this.coordinator(groupId);
      return this.d.pool.call(node.address, (api) => fn(api, { timeoutMs: this.d.requestTimeoutMs, signal: this.d.metadata.signal }, node));
    });
  }

  async listGroups(options: ListGroupsOptions = {}): Promise<GroupListing[]> {
    const states = options.states ?? [];
    if (!Array.isArray(states) || !states.every((s) => typeof s === 'string')) throw invalidArgument('listGroups: states must be an array of state names');
    const deadlineMs = this.d.deadline(options);
    const { metadata } = this.d;
    await this.retrying('listGroups', deadlineMs, () => metadata.request({ all: false, topics: [] }));
    const brokers = metadata.cache.brokers;
    const out: GroupListing[] = [];
    // Each broker lists the groups it coordinates; all of them together are the cluster's groups.
    await Promise.all(
      brokers.map(async (b) => {
        const res = await this.retrying(`listGroups on broker ${b.id}`, deadlineMs, async () => {
          const r = await this.d.pool.call(b.address, (api) => api.listGroups({ statesFilter: states }, { timeoutMs: this.d.requestTimeoutMs, signal: metadata.signal }));
          const err = kafkaErrorFromWire(r.error);
          if (err) throw err;
          return r;
        });
        for (const g of res.groups ?? []) out.push({ groupId: g.groupId, protocolType: g.protocolType, state: g.groupState, coordinatorId: b.id });
      }),
    );
    return out.sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : a.coordinatorId - b.coordinatorId));
  }

  async describeGroups(groupIds: string[], options: AdminCallOptions = {}): Promise<GroupDescription[]> {
    checkGroupIds(groupIds, 'describeGroups');
    const deadlineMs = this.d.deadline(options);
    return Promise.all(groupIds.map((groupId) => this.describeGroup(groupId, deadlineMs)));
  }

  private describeGroup(groupId: string, deadlineMs: number): Promise<GroupDescription> {
    return this.onCoordinator('describeGroups', groupId, deadlineMs, async (api, opts, node) => {
      const res = await api.describeGroups({ groups: [groupId] }, opts);
      const g = (res.groups ?? []).find((x) => x.groupId === groupId);
      if (!g) throw new ClientError('INVALID_RESPONSE', `describeGroups: the response left out group '${groupId}'`);
      const err = kafkaErrorFromWire(g.error);
      if (err) throw err.retriable ? err : groupNamed(err, groupId);
      return {
        groupId,
        state: g.groupState,
        protocolType: g.protocolType,
        assignor: g.protocolData,
        coordinator: { id: node.id, host: node.host, port: node.port },
        members: (g.members ?? []).map((m) => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId === '' ? null : m.groupInstanceId,
          clientId: m.clientId,
          host: m.clientHost,
          assignment: this.decodeMemberAssignment(g.protocolType, m.memberAssignment),
        })),
      };
    });
  }

  private decodeMemberAssignment(protocolType: string, bytes: Uint8Array | undefined): TopicPartition[] {
    if (protocolType !== CONSUMER_PROTOCOL_TYPE || !bytes || bytes.length === 0) return [];
    try {
      return sortTps(decodeAssignment(bytes).partitions.map((tp) => ({ topic: tp.topic, partition: tp.partition })));
    } catch {
      // A member's assignment we cannot read (another client's format) says nothing we can show.
      return [];
    }
  }

  async deleteGroups(groupIds: string[], options: AdminCallOptions = {}): Promise<DeletedGroup[]> {
    checkGroupIds(groupIds, 'deleteGroups');
    const deadlineMs = this.d.deadline(options);
    return Promise.all(
      groupIds.map((groupId) =>
        this.onCoordinator('deleteGroups', groupId, deadlineMs, async (api, opts) => {
          const res = await api.deleteGroups({ groups: [groupId] }, opts);
          const r = (res.results ?? []).find((x) => x.groupId === groupId);
          if (!r) throw new ClientError('INVALID_RESPONSE', `deleteGroups: the response left out group '${groupId}'`);
          const err = kafkaErrorFromWire(r.error);
          if (err?.retriable) throw err;
          return { groupId, error: err ? err.type : null };
        }),
      ),
    );
  }

  /** The group's committed offsets (every topic), sorted by topic and partition. */
  async listGroupOffsets(groupId: string, options: AdminCallOptions = {}): Promise<GroupOffset[]> {
    validateGroupId(groupId);
    return this.fetchOffsets(groupId, null, this.d.deadline(options));
  }

  private fetchOffsets(groupId: string, tps: TopicPartition[] | null, deadlineMs: number): Promise<GroupOffset[]> {
    return this.onCoordinator('listGroupOffsets', groupId, deadlineMs, async (api, opts) => {
      const res = await api.offsetFetch({ groupId, topics: tps ? byTopic(tps) : [], allTopics: tps === null }, opts);
      const err = kafkaErrorFromWire(res.error);
      if (err) throw err.retriable ? err : groupNamed(err, groupId);
      const out: GroupOffset[] = [];
      for (const t of res.topics ?? []) {
        for (const p of t.partitions ?? []) {
          const perr = kafkaErrorFromWire(p.error);
          if (perr) throw perr.retriable ? perr : groupNamed(perr, `${groupId}' partition '${tpString({ topic: t.topic, partition: p.partition })}`);
          if (p.committedOffset < 0) continue;
          out.push({ topic: t.topic, partition: p.partition, offset: p.committedOffset, leaderEpoch: p.committedLeaderEpoch, metadata: p.metadata ?? '' });
        }
      }
      return sortTps(out);
    });
  }

  /**
   * Lag per partition: the log end offset (ListOffsets latest) minus the committed offset, for
   * every partition with a committed offset or assigned to a member. A partition with nothing
   * committed lags by everything still in its log.
   */
  async groupLag(groupId: string, options: AdminCallOptions = {}): Promise<GroupPartitionLag[]> {
    validateGroupId(groupId);
    const deadlineMs = this.d.deadline(options);
    const [committed, description] = await Promise.all([this.fetchOffsets(groupId, null, deadlineMs), this.describeGroup(groupId, deadlineMs)]);
    const tps = new TopicPartitionMap<number>();
    for (const c of committed) tps.set(c, c.offset);
    for (const m of description.members) for (const tp of m.assignment) if (!tps.has(tp)) tps.set(tp, -1);
    const list = sortTps(tps.keys().map((tp) => ({ topic: tp.topic, partition: tp.partition })));
    if (list.length === 0) return [];
    const remaining = { timeoutMs: Math.max(0, deadlineMs - this.d.clock.now()) };
    const uncommitted = list.filter((tp) => tps.get(tp)! < 0);
    const [ends, starts] = await Promise.all([
      this.d.listOffsets(list.map((tp) => ({ ...tp, spec: 'latest' as const })), remaining),
      uncommitted.length > 0 ? this.d.listOffsets(uncommitted.map((tp) => ({ ...tp, spec: 'earliest' as const })), remaining) : Promise.resolve([]),
    ]);
    const startOf = new TopicPartitionMap<number>();
    for (const s of starts) startOf.set(s, s.offset);
    return list.map((tp, i) => {
      const committedOffset = tps.get(tp)!;
      const logEndOffset = ends[i]!.offset;
      const from = committedOffset >= 0 ? committedOffset : (startOf.get(tp) ?? 0);
      return { topic: tp.topic, partition: tp.partition, committedOffset, logEndOffset, lag: Math.max(0, logEndOffset - from) };
    });
  }

  /** The coordinators' Burrow-style evaluation of each group's lag (GroupLag RPC). */
  async describeGroupLag(groupIds: string[], options: AdminCallOptions = {}): Promise<GroupLagStatus[]> {
    checkGroupIds(groupIds, 'describeGroupLag');
    const deadlineMs = this.d.deadline(options);
    return Promise.all(
      groupIds.map((groupId) =>
        this.onCoordinator('describeGroupLag', groupId, deadlineMs, async (api, opts) => {
          const res = await api.groupLag({ groups: [groupId] }, opts);
          const g = (res.groups ?? []).find((x) => x.groupId === groupId);
          if (!g) throw new ClientError('INVALID_RESPONSE', `describeGroupLag: the response left out group '${groupId}'`);
          const err = kafkaErrorFromWire(g.error);
          if (err) throw err.retriable ? err : groupNamed(err, groupId);
          return {
            groupId,
            status: g.status,
            maxLag: g.maxLag,
            totalLag: g.totalLag,
            partitions: sortTps(
              (g.partitions ?? []).map((p) => ({
                topic: p.topic,
                partition: p.partition,
                committedOffset: p.committedOffset,
                logEndOffset: p.logEndOffset,
                lag: p.lag,
                status: p.status,
                commitTimestampMs: p.commitTimestamp,
              })),
            ),
          };
        }),
      ),
    );
  }

  /** Commits offsets for the group as an admin (generation -1, no member): the group must have no active members. */
  async alterGroupOffsets(groupId: string, offsets: GroupOffsetChange[], options: AdminCallOptions = {}): Promise<void> {
    validateGroupId(groupId);
    if (!Array.isArray(offsets) || offsets.length === 0) throw invalidArgument('alterGroupOffsets takes a non-empty array of {topic, partition, offset}');
    if (offsets.length > 100_000) throw invalidArgument('alterGroupOffsets: at most 100000 partitions per call');
    const seen = new TopicPartitionMap<true>();
    for (const o of offsets) {
      validateTopicName(o?.topic);
      validatePartition(o.partition);
      if (typeof o.offset !== 'number' || !Number.isSafeInteger(o.offset) || o.offset < 0) throw invalidArgument(`${tpString(o)}: offset must be a non-negative integer, got ${String(o.offset)}`);
      if (seen.has(o)) throw invalidArgument(`alterGroupOffsets: ${tpString(o)} appears twice`);
      seen.set(o, true);
    }
    const topics = new Map<string, OffsetCommitTopic>();
    for (const o of offsets) {
      let t = topics.get(o.topic);
      if (!t) topics.set(o.topic, (t = { topic: o.topic, partitions: [] }));
      t.partitions.push({ partition: o.partition, committedOffset: o.offset, committedLeaderEpoch: -1, committedMetadata: '' });
    }
    await this.onCoordinator('alterGroupOffsets', groupId, this.d.deadline(options), async (api, opts) => {
      const res = await api.offsetCommit({ groupId, generationId: -1, memberId: '', groupInstanceId: '', topics: [...topics.values()] }, opts);
      for (const t of res.topics ?? []) {
        for (const p of t.partitions ?? []) {
          const err = kafkaErrorFromWire(p.error);
          if (err) throw err.retriable ? err : groupNamed(err, groupId);
        }
      }
    });
  }

  /** Deletes committed offsets of partitions the group no longer subscribes to. */
  async deleteGroupOffsets(groupId: string, tps: TopicPartition[], options: AdminCallOptions = {}): Promise<void> {
    validateGroupId(groupId);
    if (!Array.isArray(tps) || tps.length === 0) throw invalidArgument('deleteGroupOffsets takes a non-empty array of {topic, partition}');
    for (const tp of tps) {
      validateTopicName(tp?.topic);
      validatePartition(tp.partition);
    }
    await this.onCoordinator('deleteGroupOffsets', groupId, this.d.deadline(options), async (api, opts) => {
      const res = await api.offsetDelete({ groupId, topics: byTopic(tps) }, opts);
      const err = kafkaErrorFromWire(res.error);
      if (err) throw err.retriable ? err : groupNamed(err, groupId);
      for (const t of res.topics ?? []) {
        for (const p of t.partitions ?? []) {
          const perr = kafkaErrorFromWire(p.error);
          if (perr) throw perr.retriable ? perr : groupNamed(perr, `${groupId}' partition '${tpString({ topic: t.topic, partition: p.partition })}`);
        }
      }
    });
  }

  /**
   * kafka-consumer-groups.sh --reset-offsets: new offsets for every partition of the topics (default:
   * the topics the group has committed offsets for), clamped to [log start, log end], committed
   * unless dryRun. Refused with NON_EMPTY_GROUP unless the group is Empty or Dead.
   */
  async resetGroupOffsets(groupId: string, spec: ResetOffsetsSpec, options: AdminCallOptions = {}): Promise<GroupOffsetChange[]> {
    validateGroupId(groupId);
    if (typeof spec !== 'object' || spec === null) throw invalidArgument('resetGroupOffsets takes a {strategy, value?, topics?, dryRun?} spec');
    const { strategy, value } = spec;
    const needsValue = strategy === 'to-offset' || strategy === 'to-timestamp' || strategy === 'shift-by';
    if (!['earliest', 'latest', 'to-offset', 'to-timestamp', 'shift-by'].includes(strategy)) {
      throw invalidArgument(`reset strategy must be earliest, latest, to-offset, to-timestamp or shift-by, got ${String(strategy)}`);
    }
    if (needsValue && (typeof value !== 'number' || !Number.isSafeInteger(value) || (strategy !== 'shift-by' && value < 0))) {
      throw invalidArgument(`reset strategy ${strategy} needs an integer value${strategy === 'shift-by' ? '' : ' >= 0'}, got ${String(value)}`);
    }
    if (spec.topics !== undefined) {
      if (!Array.isArray(spec.topics)) throw invalidArgument('reset topics must be an array of topic names');
      for (const t of spec.topics) validateTopicName(t);
    }
    const deadlineMs = this.d.deadline(options);
    const description = await this.describeGroup(groupId, deadlineMs);
    if (!INACTIVE_STATES.has(description.state)) {
      throw new KafkaError(
        'NON_EMPTY_GROUP',
        `Group '${groupId}': offsets can only be reset while the group is inactive (Empty or Dead), but its state is ${description.state}`,
      );
    }
    const committed = await this.fetchOffsets(groupId, null, deadlineMs);
    const topics = spec.topics ?? [...new Set(committed.map((c) => c.topic))];
    if (topics.length === 0) return [];
    const { metadata } = this.d;
    await this.retrying('resetGroupOffsets metadata', deadlineMs, () => metadata.request({ all: false, topics }));
    const tps: TopicPartition[] = [];
    for (const topic of topics) {
      const err = metadata.cache.topicError(topic);
      if (err) throw new KafkaError(err.type, `Topic '${topic}': ${err.message}`);
      const info = metadata.cache.topic(topic);
      for (let p = 0; p < (info?.partitions.length ?? 0); p++) tps.push({ topic, partition: p });
    }
    metadata.cache.retainTopics(new Set());
    if (tps.length > INT_MAX) throw invalidArgument('too many partitions');
    const remaining = (): AdminCallOptions => ({ timeoutMs: Math.max(0, deadlineMs - this.d.clock.now()) });
    const [starts, ends] = await Promise.all([
      this.d.listOffsets(tps.map((tp) => ({ ...tp, spec: 'earliest' as const })), remaining()),
      this.d.listOffsets(tps.map((tp) => ({ ...tp, spec: 'latest' as const })), remaining()),
    ]);
    const byTime = strategy === 'to-timestamp' ? await this.d.listOffsets(tps.map((tp) => ({ ...tp, spec: { timestamp: value! } })), remaining()) : [];
    const current = new TopicPartitionMap<number>();
    for (const c of committed) current.set(c, c.offset);
    const changes = tps.map((tp, i): GroupOffsetChange => {
      const start = starts[i]!.offset;
      const end = ends[i]!.offset;
      let target: number;
      switch (strategy) {
        case 'earliest': target = start; break;
        case 'latest': target = end; break;
        case 'to-offset': target = value!; break;
        // No record at or after the timestamp: the log end, as Kafka's tool does.
        case 'to-timestamp': target = byTime[i]!.offset < 0 ? end : byTime[i]!.offset; break;
        // Nothing committed: shift from the log start (kafka-consumer-groups.sh resets such partitions first).
        case 'shift-by': target = (current.get(tp) ?? start) + value!; break;
      }
      return { topic: tp.topic, partition: tp.partition, offset: Math.min(end, Math.max(start, target)) };
    });
    if (!spec.dryRun) await this.alterGroupOffsets(groupId, changes, remaining());
    return changes;
  }
}
