// The group coordinator of one broker (Kafka's GroupCoordinator + GroupMetadataManager adapters):
// for each __consumer_offsets partition this broker leads, an OffsetStore and one GroupCoordinator
// per group, fed by requests, timers and the partition's log. The protocol rules live in the pure
// cores (GroupCoordinator, OffsetStore); this class does I/O, time, bookkeeping and limits.
//
// Lifecycle of an offsets partition here:
//   leader (LeaderAndIsr) → 'loading': the log is replayed from its start to its end, in chunks,
//     into a new OffsetStore, then a GroupCoordinator is rebuilt from each group's latest record;
//     requests for its groups get COORDINATOR_LOAD_IN_PROGRESS meanwhile →
//   'active': requests served; group records and offset commits are appended through the local
//     leader with acks=all (answered once the high watermark passes them) →
//   follower / stopped / another leader epoch → unloaded: every JoinGroup/SyncGroup waiting is
//     answered NOT_COORDINATOR, the groups and offsets are dropped (the new leader reloads them
//     from the log), a load in progress is abandoned.
// A group whose core throws an invariant violation gets its partition reloaded from the log.
//
// Time: one injected clock (epoch ms, made monotonic here) and one injected scheduler; every
// timer of every group goes through one ticker. Bounds: groups per broker, JoinGroup/SyncGroup
// requests waiting, bytes replayed per load chunk; past a bound a request gets a retriable error.

import { randomUUID } from 'node:crypto';
import { BinaryFormatError, type KafkaErrorName } from '@samsa/client';
import type { Logger } from '@samsa/coordinator';
import { encodeBatch, forEachRecord, LOG_OVERHEAD, OFFSET_BATCH_LENGTH, type Log } from '@samsa/log';
import type { BurrowEvaluator, GroupLagEvaluation } from '../lag/burrow-evaluator.js';
import { type GroupConfig, resolveGroupConfig } from './group-config.js';
import { GroupCoordinator } from './group-coordinator.js';
import { GroupError } from './group-errors.js';
import type {
  GroupDescription, GroupEffect, GroupOverview, GroupState, GroupStep, HeartbeatRequest, JoinGroupRequest, JoinGroupResponse,
  LeaveGroupRequest, LeaveGroupResponse, OffsetCommitIdentity, SyncGroupRequest, SyncGroupResponse,
} from './group-types.js';
import { type OffsetConfig, resolveOffsetConfig } from './offset-config.js';
import { type FetchedOffset, OffsetStore, type OffsetCommitEntry, type PartitionResult, type TopicPartitionRef } from './offset-store.js';
import type { EncodedRecord } from './offsets-records.js';
import { CONSUMER_OFFSETS_TOPIC, partitionForGroup } from './offsets-partition.js';
import { TimerQueue } from './timer-queue.js';

/** What the manager needs of this broker's replica of an __consumer_offsets partition. */
export interface OffsetsLogAccess {
  /** The local log and leader epoch of __consumer_offsets-`partition` while this broker leads it, else null. */
  leader(partition: number): { log: Log; leaderEpoch: number } | null;
  /** Appends one batch as leader with acks=all; resolves with the base offset once the high watermark passes it, or the append's error. */
  append(partition: number, batch: Buffer, timeoutMs: number): Promise<{ error: KafkaErrorName | null; baseOffset: number }>;
}

export interface GroupScheduler {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
  /** Lets a long load yield to requests between chunks. */
  yield(): Promise<void>;
}

export const NODE_SCHEDULER: GroupScheduler = {
  setInterval: (fn, ms) => {
    const t = setInterval(fn, ms);
    t.unref?.();
    return t;
  },
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
  yield: () => new Promise((r) => setImmediate(r)),
};

export interface GroupManagerConfig {
  readonly group: Partial<GroupConfig>;
  readonly offsets: Partial<OffsetConfig>;
  /** offsets.commit.timeout.ms: how long an append to __consumer_offsets may wait for the ISR. Kafka default 5000. */
  readonly offsetsCommitTimeoutMs: number;
  /** How often group timers are checked. */
  readonly tickIntervalMs: number;
  /** How often log end offsets are sampled for lag. */
  readonly lagSampleIntervalMs: number;
  /** Groups this broker coordinates at most; a new one beyond gets COORDINATOR_NOT_AVAILABLE. */
  readonly maxGroups: number;
  /** JoinGroup + SyncGroup requests waiting for the group, over all groups. */
  readonly maxPendingRequests: number;
  /** Bytes of log read per step of a load. */
  readonly loadChunkBytes: number;
  /** Longest group id accepted, in characters. */
  readonly groupIdMaxLength: number;
}

export const DEFAULT_GROUP_MANAGER_CONFIG: GroupManagerConfig = {
  group: {},
  offsets: {},
  offsetsCommitTimeoutMs: 5_000,
  tickIntervalMs: 100,
  lagSampleIntervalMs: 5_000,
  maxGroups: 100_000,
  maxPendingRequests: 10_000,
  loadChunkBytes: 4 << 20,
  groupIdMaxLength: 1_024,
};

export interface GroupManagerDeps {
  readonly log: OffsetsLogAccess;
  readonly logger: Logger;
  /** Epoch ms (Date.now); made monotonic here. */
  readonly clock?: () => number;
  readonly scheduler?: GroupScheduler;
  /** Whether a topic-partition exists (commits to unknown ones get UNKNOWN_TOPIC_OR_PARTITION). */
  readonly partitionExists: (topic: string, partition: number) => boolean;
  /** Partitions of __consumer_offsets to hash groups over; null: offsets.topic.num.partitions (the broker's choice, as Kafka). */
  readonly offsetsTopicPartitions: () => number | null;
  /** Log end offsets (the high watermark consumers can reach) of partitions; unknown ones are left out. */
  readonly logEndOffsets?: (partitions: readonly TopicPartitionRef[]) => Promise<Map<string, number>>;
  /** The same for a partition this broker leads, read at once; undefined when it does not lead it. */
  readonly localLogEndOffset?: (topic: string, partition: number) => number | undefined;
  readonly lag?: BurrowEvaluator;
  readonly events?: GroupManagerEvents;
}

/** Hooks for metrics. */
export interface GroupManagerEvents {
  rebalance?(groupId: string): void;
  memberRemoved?(reason: string): void;
  offsetsCommitted?(count: number): void;
  offsetsExpired?(count: number): void;
  partitionLoaded?(partition: number, offsets: number, groups: number, seconds: number): void;
  groupRequest?(api: string, error: KafkaErrorName | null): void;
}

export type CoordinatorStatus = { readonly error: KafkaErrorName } | { readonly error: null; readonly partition: number };

interface Pending {
  readonly kind: 'join' | 'sync';
  readonly groupId: string;
  resolve(response: JoinGroupResponse | SyncGroupResponse): void;
}

interface OffsetsPartition {
  readonly partition: number;
  readonly leaderEpoch: number;
  status: 'loading' | 'active';
  /** Changes on every load: completions of an older load are ignored. */
  readonly token: number;
  readonly store: OffsetStore;
  readonly groups: Map<string, GroupCoordinator>;
  readonly pending: Map<number, Pending>;
}

export interface CommitOffsetsRequest extends OffsetCommitIdentity {
  readonly entries: readonly OffsetCommitEntry[];
}

export interface GroupLagReport extends GroupLagEvaluation {
  readonly groupId: string;
  readonly error: KafkaErrorName | null;
}

const tpKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

function joinFailure(memberId: string, error: KafkaErrorName): JoinGroupResponse {
  return { error, generationId: -1, protocolType: null, protocolName: null, leaderId: '', memberId, skipAssignment: false, members: [] };
}

function syncFailure(error: KafkaErrorName): SyncGroupResponse {
  return { error, protocolType: null, protocolName: null, assignment: new Uint8Array(0) };
}

export class GroupManager {
  readonly config: GroupManagerConfig;
  readonly groupConfig: GroupConfig;
  readonly offsetConfig: OffsetConfig;
  private readonly partitions = new Map<number, OffsetsPartition>();
  /** Each served group's next timer deadline: a tick pops the due ones, O(log n) each. */
  private readonly deadlines = new TimerQueue<string>();
  private readonly clock: () => number;
  private readonly scheduler: GroupScheduler;
  private readonly logger: Logger;
  private lastNow = 0;
  private nextRequestId = 1;
  private nextToken = 1;
  private pendingCount = 0;
  private groupCount = 0;
  private timers: unknown[] = [];
  private stopped = false;
  private sampling = false;

  constructor(
    private readonly deps: GroupManagerDeps,
    config: Partial<GroupManagerConfig> = {},
  ) {
    this.config = { ...DEFAULT_GROUP_MANAGER_CONFIG, ...config };
    this.groupConfig = resolveGroupConfig(this.config.group);
    this.offsetConfig = resolveOffsetConfig(this.config.offsets);
    this.clock = deps.clock ?? Date.now;
    this.scheduler = deps.scheduler ?? NODE_SCHEDULER;
    this.logger = deps.logger.child({ component: 'group-coordinator' });
  }

  start(): void {
    this.timers.push(this.scheduler.setInterval(() => this.tick(), this.config.tickIntervalMs));
    this.timers.push(this.scheduler.setInterval(() => this.expireOffsets(), this.offsetConfig.offsetsRetentionCheckIntervalMs));
    if (this.deps.lag && this.deps.logEndOffsets) this.timers.push(this.scheduler.setInterval(() => void this.sampleLogEndOffsets(), this.config.lagSampleIntervalMs));
  }

  /** Shutdown: every partition unloaded (waiting requests answered NOT_COORDINATOR), timers stopped. */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers) this.scheduler.clearInterval(t);
    this.timers = [];
    for (const p of [...this.partitions.keys()]) this.unloadPartition(p, 'shutdown');
  }

  /** Monotonic epoch ms: the cores refuse time going backwards, the wall clock may. */
  now(): number {
    this.lastNow = Math.max(this.lastNow, Math.floor(this.clock()));
    return this.lastNow;
  }

  // --- leadership ------------------------------------------------------------------------------

  /** The replica manager applied a leader/follower change (or stopped the replica) of __consumer_offsets-`partition`. */
  onLeadershipChange(partition: number, isLeader: boolean, leaderEpoch: number): void {
    if (this.stopped) return;
    const current = this.partitions.get(partition);
    if (!isLeader) {
      if (current) this.unloadPartition(partition, 'no longer the leader');
      return;
    }
    if (current && current.leaderEpoch === leaderEpoch) return;
    if (current) this.unloadPartition(partition, `new leader epoch ${leaderEpoch}`);
    void this.loadPartition(partition, leaderEpoch);
  }

  /** Groups and offsets of partitions being loaded or served. */
  partitionStates(): { partition: number; status: 'loading' | 'active'; groups: number }[] {
    return [...this.partitions.values()].map((p) => ({ partition: p.partition, status: p.status, groups: p.groups.size }));
  }

  private async loadPartition(partition: number, leaderEpoch: number): Promise<void> {
    const token = this.nextToken++;
    const ps: OffsetsPartition = {
      partition, leaderEpoch, token, status: 'loading', store: new OffsetStore(this.config.offsets), groups: new Map(), pending: new Map(),
    };
    this.partitions.set(partition, ps);
    const started = performance.now();
    const current = (): boolean => this.partitions.get(partition) === ps && !this.stopped;
    let records = 0;
    let skipped = 0;
    try {
      // Not inside the LeaderAndIsr that made this broker leader: that request is answered first.
      await this.scheduler.yield();
      if (!current()) return;
      const access = this.deps.log.leader(partition);
      if (!access) throw new Error('the replica is no longer the leader');
      const log = access.log;
      const end = log.logEndOffset;
      let offset = log.logStartOffset;
      while (offset < end) {
        const r = log.read(offset, this.config.loadChunkBytes, end);
        if (r.batchCount === 0) break;
        let pos = 0;
        while (pos + LOG_OVERHEAD <= r.records.length) {
          const size = r.records.readInt32BE(pos + OFFSET_BATCH_LENGTH) + LOG_OVERHEAD;
          if (pos + size > r.records.length) break;
          forEachRecord(r.records, pos, (rec) => {
            if (rec.key === null) {
              skipped++;
              return;
            }
            try {
              ps.store.applyEncoded(rec.key, rec.value, rec.offset);
              records++;
            } catch (e) {
              if (!(e instanceof BinaryFormatError || e instanceof GroupError)) throw e;
              skipped++;
            }
          });
          pos += size;
        }
        offset = r.nextOffset;
        await this.scheduler.yield();
        if (!current()) return;
      }
    } catch (e) {
      if (!current()) return;
      this.logger.error('loading offsets partition failed', { partition, leaderEpoch, error: e });
      this.partitions.delete(partition);
      return;
    }
    if (!current()) return;
    const now = this.now();
    for (const [groupId, value] of ps.store.loadedGroups()) {
      try {
        const { coordinator, step } = GroupCoordinator.load(value, { groupId, nowMs: now, config: this.config.group, newMemberIdSuffix: randomUUID });
        ps.groups.set(groupId, coordinator);
        this.groupCount++;
        this.absorb(ps, coordinator, step);
      } catch (e) {
        if (!(e instanceof GroupError)) throw e;
        this.logger.warn('group record not loadable; the group starts empty', { groupId, partition, error: e.message });
      }
    }
    // Groups with offsets but no group record (simple consumers) get an Empty group, as Kafka's loader does.
    for (const groupId of ps.store.groupsWithOffsets()) {
      if (!ps.groups.has(groupId)) this.createGroup(ps, groupId, now);
      for (const o of ps.store.fetch(groupId, null)) this.recordLagCommit(groupId, o.topic, o.partition, o.offset, now);
    }
    ps.status = 'active';
    const offsets = ps.store.groupsWithOffsets().reduce((n, g) => n + ps.store.offsetCount(g), 0);
    const seconds = (performance.now() - started) / 1000;
    this.deps.events?.partitionLoaded?.(partition, offsets, ps.groups.size, seconds);
    this.logger.info('offsets partition loaded', { partition, leaderEpoch, records, skipped, groups: ps.groups.size, offsets, seconds });
  }

  private unloadPartition(partition: number, reason: string): void {
    const ps = this.partitions.get(partition);
    if (!ps) return;
    this.partitions.delete(partition);
    const now = this.now();
    for (const [groupId, g] of ps.groups) {
      this.deadlines.cancel(groupId);
      try {
        this.deliver(ps, g.unload(now).responses);
      } catch (e) {
        this.logger.error('unloading group failed', { groupId, error: e });
      }
      this.deps.lag?.forgetGroup(groupId);
    }
    this.groupCount -= ps.groups.size;
    // Whatever a broken core could not answer is answered here: nothing stays pending.
    for (const [id, p] of ps.pending) {
      ps.pending.delete(id);
      this.pendingCount--;
      p.resolve(p.kind === 'join' ? joinFailure('', 'NOT_COORDINATOR') : syncFailure('NOT_COORDINATOR'));
    }
    this.logger.info('offsets partition unloaded', { partition, reason, groups: ps.groups.size });
  }

  // --- routing ---------------------------------------------------------------------------------

  offsetsTopicPartitionCount(): number {
    return this.deps.offsetsTopicPartitions() ?? this.offsetConfig.offsetsTopicNumPartitions;
  }

  partitionFor(groupId: string): number {
    return partitionForGroup(groupId, this.offsetsTopicPartitionCount());
  }

  validGroupId(groupId: unknown): groupId is string {
    return typeof groupId === 'string' && groupId.length > 0 && groupId.length <= this.config.groupIdMaxLength;
  }

  /** Whether this broker coordinates `groupId` now: NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS, or its partition. */
  coordinatorStatus(groupId: string): CoordinatorStatus {
    if (!this.validGroupId(groupId)) return { error: 'INVALID_GROUP_ID' };
    if (this.stopped) return { error: 'NOT_COORDINATOR' };
    const partition = this.partitionFor(groupId);
    const ps = this.partitions.get(partition);
    if (!ps) return { error: 'NOT_COORDINATOR' };
    if (ps.status === 'loading') return { error: 'COORDINATOR_LOAD_IN_PROGRESS' };
    return { error: null, partition };
  }

  private active(groupId: string): { ps: OffsetsPartition; error: null } | { ps: null; error: KafkaErrorName } {
    const s = this.coordinatorStatus(groupId);
    if (s.error !== null) return { ps: null, error: s.error };
    return { ps: this.partitions.get(s.partition)!, error: null };
  }

  private createGroup(ps: OffsetsPartition, groupId: string, now: number): GroupCoordinator {
    const g = GroupCoordinator.create({ groupId, nowMs: now, config: this.config.group, newMemberIdSuffix: randomUUID });
    ps.groups.set(groupId, g);
    this.groupCount++;
    return g;
  }

  private removeGroup(ps: OffsetsPartition, groupId: string): void {
    if (ps.groups.delete(groupId)) this.groupCount--;
    this.deadlines.cancel(groupId);
    this.deps.lag?.forgetGroup(groupId);
  }

  /**
   * A group object made by a JoinGroup that left nothing behind (refused, or its member id never
   * claimed) is forgotten at once: no record was ever written for it, so there is nothing to
   * tombstone, and hostile joins cannot pile up empty groups until the next cleanup.
   */
  private forgetIfUnused(ps: OffsetsPartition, groupId: string): void {
    const g = ps.groups.get(groupId);
    if (!g || this.partitions.get(ps.partition) !== ps) return;
    if (g.state === 'Empty' && g.generationId === 0 && g.memberCount === 0 && g.pendingMemberCount === 0 && g.pendingRequestCount === 0 && !ps.store.hasOffsets(groupId) && ps.store.pendingCommitCount === 0) {
      this.removeGroup(ps, groupId);
    }
  }

  // --- JoinGroup / SyncGroup (delayed) ----------------------------------------------------------

  join(groupId: string, req: Omit<JoinGroupRequest, 'requestId'>): Promise<JoinGroupResponse> {
    const memberId = typeof req?.memberId === 'string' ? req.memberId : '';
    const { ps, error } = this.active(groupId);
    if (error !== null) return Promise.resolve(this.counted('JoinGroup', joinFailure(memberId, error)));
    let g = ps.groups.get(groupId);
    if (!g) {
      if (memberId !== '') return Promise.resolve(this.counted('JoinGroup', joinFailure(memberId, 'UNKNOWN_MEMBER_ID')));
      if (this.groupCount >= this.config.maxGroups) return Promise.resolve(this.counted('JoinGroup', joinFailure(memberId, 'COORDINATOR_NOT_AVAILABLE')));
      g = this.createGroup(ps, groupId, this.now());
    }
    if (this.pendingCount >= this.config.maxPendingRequests) return Promise.resolve(this.counted('JoinGroup', joinFailure(memberId, 'COORDINATOR_NOT_AVAILABLE')));
    const group = g;
    return this.delayed<JoinGroupResponse>(ps, groupId, 'join', (requestId) => group.join({ ...req, requestId }, this.now()), (r) => {
      this.forgetIfUnused(ps, groupId);
      return this.counted('JoinGroup', r);
    });
  }

  sync(groupId: string, req: Omit<SyncGroupRequest, 'requestId'>): Promise<SyncGroupResponse> {
    const { ps, error } = this.active(groupId);
    if (error !== null) return Promise.resolve(this.counted('SyncGroup', syncFailure(error)));
    const g = ps.groups.get(groupId);
    if (!g) return Promise.resolve(this.counted('SyncGroup', syncFailure('UNKNOWN_MEMBER_ID')));
    if (this.pendingCount >= this.config.maxPendingRequests) return Promise.resolve(this.counted('SyncGroup', syncFailure('COORDINATOR_NOT_AVAILABLE')));
    return this.delayed<SyncGroupResponse>(ps, groupId, 'sync', (requestId) => g.sync({ ...req, requestId }, this.now()), (r) => this.counted('SyncGroup', r));
  }

  private delayed<R extends JoinGroupResponse | SyncGroupResponse>(
    ps: OffsetsPartition,
    groupId: string,
    kind: 'join' | 'sync',
    call: (requestId: number) => GroupStep,
    done: (r: R) => R,
  ): Promise<R> {
    const requestId = this.nextRequestId++;
    return new Promise<R>((resolve) => {
      ps.pending.set(requestId, { kind, groupId, resolve: (r) => resolve(done(r as R)) });
      this.pendingCount++;
      const ok = this.step(ps, groupId, () => call(requestId));
      // A core that refused the call answered nothing (an unloaded partition answered everything).
      const left = ps.pending.get(requestId);
      if (!ok && left) {
        ps.pending.delete(requestId);
        this.pendingCount--;
        left.resolve(kind === 'join' ? joinFailure('', 'UNKNOWN_SERVER_ERROR') : syncFailure('UNKNOWN_SERVER_ERROR'));
      }
    });
  }

  // --- immediate group requests ----------------------------------------------------------------

  heartbeat(groupId: string, req: HeartbeatRequest): KafkaErrorName | null {
    const { ps, error } = this.active(groupId);
    if (error !== null) return this.countedError('Heartbeat', error);
    const g = ps.groups.get(groupId);
    if (!g) return this.countedError('Heartbeat', 'UNKNOWN_MEMBER_ID');
    let result: KafkaErrorName | null = 'UNKNOWN_SERVER_ERROR';
    this.step(ps, groupId, () => {
      const r = g.heartbeat(req, this.now());
      result = r.response.error;
      return r;
    });
    return this.countedError('Heartbeat', result);
  }

  leave(groupId: string, req: LeaveGroupRequest): LeaveGroupResponse {
    const { ps, error } = this.active(groupId);
    const members = Array.isArray(req?.members) ? req.members : [];
    if (error !== null) return { error: this.countedError('LeaveGroup', error), members: [] };
    const g = ps.groups.get(groupId);
    if (!g) {
      this.countedError('LeaveGroup', null);
      return { error: null, members: members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, error: 'UNKNOWN_MEMBER_ID' as const })) };
    }
    let result: LeaveGroupResponse = { error: 'UNKNOWN_SERVER_ERROR', members: [] };
    this.step(ps, groupId, () => {
      const r = g.leave(req, this.now());
      result = r.response;
      return r;
    });
    this.countedError('LeaveGroup', result.error);
    return result;
  }

  /** OffsetCommit: the group decides who may commit; the store validates; the records are appended with acks=all. */
  async commitOffsets(groupId: string, req: CommitOffsetsRequest): Promise<PartitionResult[]> {
    const entries = Array.isArray(req?.entries) ? req.entries : [];
    const all = (error: KafkaErrorName): PartitionResult[] => entries.map((e) => ({ topic: e.topic, partition: e.partition, error }));
    const { ps, error } = this.active(groupId);
    if (error !== null) return this.countedResults('OffsetCommit', all(error));
    const now = this.now();
    let g = ps.groups.get(groupId);
    if (!g) {
      // A commit outside group management creates an Empty group; one with a generation is a zombie's.
      if (req.generationId >= 0) return this.countedResults('OffsetCommit', all('ILLEGAL_GENERATION'));
      if (this.groupCount >= this.config.maxGroups) return this.countedResults('OffsetCommit', all('COORDINATOR_NOT_AVAILABLE'));
      g = this.createGroup(ps, groupId, now);
    }
    const group = g;
    let check: KafkaErrorName | null = 'UNKNOWN_SERVER_ERROR';
    this.step(ps, groupId, () => {
      const r = group.validateOffsetCommit({ memberId: req.memberId, groupInstanceId: req.groupInstanceId, generationId: req.generationId }, this.now());
      check = r.response.error;
      return r;
    });
    if (check !== null) return this.countedResults('OffsetCommit', all(check));
    const unknown: PartitionResult[] = [];
    const known = entries.filter((e) => {
      const exists = typeof e?.topic === 'string' && Number.isInteger(e?.partition) && this.deps.partitionExists(e.topic, e.partition);
      if (!exists && typeof e?.topic === 'string' && e.topic.length > 0 && Number.isInteger(e?.partition) && e.partition >= 0) {
        unknown.push({ topic: e.topic, partition: e.partition, error: 'UNKNOWN_TOPIC_OR_PARTITION' });
        return false;
      }
      return true;
    });
    const prepared = ps.store.prepareCommit(groupId, known, now);
    let written: PartitionResult[] = [];
    if (prepared.commitId !== null) {
      const { error: appendError, baseOffset } = await this.append(ps.partition, prepared.records, now);
      if (this.partitions.get(ps.partition) !== ps) {
        // Unloaded meanwhile: the new coordinator has (or has not) the records; the client must ask it.
        const refused = new Set(prepared.refused.map((r) => tpKey(r.topic, r.partition)));
        written = known.filter((e) => !refused.has(tpKey(e.topic, e.partition))).map((e) => ({ topic: e.topic, partition: e.partition, error: 'NOT_COORDINATOR' as const }));
      } else {
        written = ps.store.completeCommit(prepared.commitId, { error: appendError, logOffset: baseOffset });
        if (appendError === null) {
          const t = this.now();
          for (const r of written) {
            const c = ps.store.committed(groupId, r.topic, r.partition);
            if (c) this.recordLagCommit(groupId, r.topic, r.partition, c.offset, t);
          }
          this.deps.events?.offsetsCommitted?.(written.length);
        }
      }
    }
    return this.countedResults('OffsetCommit', [...unknown, ...prepared.refused, ...written]);
  }

  /** OffsetFetch: `partitions` null for every committed offset of the group. */
  fetchOffsets(groupId: string, partitions: readonly TopicPartitionRef[] | null): { error: KafkaErrorName | null; offsets: FetchedOffset[] } {
    const { ps, error } = this.active(groupId);
    if (error !== null) return { error: this.countedError('OffsetFetch', error), offsets: [] };
    this.countedError('OffsetFetch', null);
    return { error: null, offsets: ps.store.fetch(groupId, partitions) };
  }

  /** OffsetDelete (Kafka's rules from the group); the tombstones are appended best effort. */
  deleteOffsets(groupId: string, partitions: readonly TopicPartitionRef[]): { error: KafkaErrorName | null; results: PartitionResult[] } {
    const { ps, error } = this.active(groupId);
    if (error !== null) return { error: this.countedError('OffsetDelete', error), results: [] };
    const g = ps.groups.get(groupId);
    if (!g) return { error: this.countedError('OffsetDelete', 'GROUP_ID_NOT_FOUND'), results: [] };
    const check = g.offsetDeletionCheck(partitions);
    if (check.groupError !== null) return { error: this.countedError('OffsetDelete', check.groupError), results: [] };
    const tombstones = ps.store.deleteOffsets(groupId, check.eligible);
    for (const tp of check.eligible) this.deps.lag?.forgetPartition(groupId, tp.topic, tp.partition);
    this.appendBestEffort(ps, tombstones, 'offset deletion');
    this.maybeDropEmptyGroup(ps, groupId);
    this.countedError('OffsetDelete', null);
    return {
      error: null,
      results: [...check.eligible.map((tp) => ({ topic: tp.topic, partition: tp.partition, error: null })), ...check.partitionErrors],
    };
  }

  /** DeleteGroups: only Empty groups; their offsets go too. */
  deleteGroup(groupId: string): KafkaErrorName | null {
    const { ps, error } = this.active(groupId);
    if (error !== null) return this.countedError('DeleteGroups', error);
    const g = ps.groups.get(groupId);
    if (!g) return this.countedError('DeleteGroups', 'GROUP_ID_NOT_FOUND');
    let result: KafkaErrorName | null = 'UNKNOWN_SERVER_ERROR';
    this.step(ps, groupId, () => {
      const r = g.delete(this.now());
      result = r.response.error;
      return r;
    });
    if (result === null) {
      this.appendBestEffort(ps, ps.store.deleteGroup(groupId), 'group deletion');
      this.removeGroup(ps, groupId);
      this.logger.info('group deleted', { groupId });
    }
    return this.countedError('DeleteGroups', result);
  }

  describeGroup(groupId: string): { error: KafkaErrorName | null; description: GroupDescription } {
    const dead: GroupDescription = { groupId, state: 'Dead', protocolType: '', protocolName: '', members: [] };
    const { ps, error } = this.active(groupId);
    if (error !== null) return { error, description: dead };
    const g = ps.groups.get(groupId);
    return { error: null, description: g ? g.describe() : dead };
  }

  /** ListGroups: every group this broker coordinates (COORDINATOR_LOAD_IN_PROGRESS while a partition loads, with what is loaded). */
  listGroups(states: ReadonlySet<GroupState> | null): { error: KafkaErrorName | null; groups: GroupOverview[] } {
    let error: KafkaErrorName | null = null;
    const groups: GroupOverview[] = [];
    for (const ps of this.partitions.values()) {
      if (ps.status === 'loading') {
        error = 'COORDINATOR_LOAD_IN_PROGRESS';
        continue;
      }
      for (const g of ps.groups.values()) {
        const o = g.overview();
        if (states === null || states.has(o.state)) groups.push(o);
      }
    }
    groups.sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
    return { error, groups };
  }

  /** Groups this broker serves now (for lag metrics). */
  coordinatedGroups(): string[] {
    const out: string[] = [];
    for (const ps of this.partitions.values()) if (ps.status === 'active') out.push(...ps.groups.keys());
    return out;
  }

  groupsByState(): Map<GroupState, number> {
    const counts = new Map<GroupState, number>();
    for (const ps of this.partitions.values()) for (const g of ps.groups.values()) counts.set(g.state, (counts.get(g.state) ?? 0) + 1);
    return counts;
  }

  get pendingRequests(): number {
    return this.pendingCount;
  }

  // --- lag -------------------------------------------------------------------------------------

  /** GroupLag: samples the log end offsets of the groups' partitions first, so lag is from the current log end. */
  async groupLag(groupIds: readonly string[] | null): Promise<GroupLagReport[]> {
    const lag = this.deps.lag;
    const ids = groupIds === null || groupIds.length === 0 ? this.coordinatedGroups() : [...groupIds];
    const empty = (groupId: string, error: KafkaErrorName | null): GroupLagReport => ({ groupId, error, status: 'OK', maxLag: 0, totalLag: 0, partitions: [] });
    const served = ids.filter((id) => this.coordinatorStatus(id).error === null);
    await this.sampleLogEndOffsets(served);
    return ids.map((groupId) => {
      const status = this.coordinatorStatus(groupId);
      if (status.error !== null) return empty(groupId, status.error);
      const ps = this.partitions.get(status.partition)!;
      if (!ps.groups.has(groupId) && !ps.store.hasOffsets(groupId)) return empty(groupId, 'GROUP_ID_NOT_FOUND');
      if (!lag) return empty(groupId, null);
      return { groupId, error: null, ...this.evaluateLag(groupId) };
    });
  }

  /** The evaluator's view of a group now (also used at scrape time by the lag metrics). */
  evaluateLag(groupId: string): GroupLagEvaluation {
    const lag = this.deps.lag;
    const none: GroupLagEvaluation = { status: 'OK', maxLag: 0, totalLag: 0, partitions: [] };
    if (!lag) return none;
    try {
      return lag.evaluate(groupId, this.now());
    } catch (e) {
      this.logger.warn('lag evaluation failed', { groupId, error: e });
      return none;
    }
  }

  /**
   * Samples log end offsets of the partitions the given groups (default: all coordinated, the
   * periodic sample, of which one runs at a time) committed for. A GroupLag request samples its
   * own groups even while the periodic one runs, so it answers from the log end as of now.
   */
  async sampleLogEndOffsets(groupIds?: readonly string[]): Promise<void> {
    const lag = this.deps.lag;
    const fetch = this.deps.logEndOffsets;
    const periodic = groupIds === undefined;
    if (!lag || !fetch || (periodic && this.sampling)) return;
    const wanted = new Map<string, TopicPartitionRef>();
    const groups = new Set(groupIds ?? this.coordinatedGroups());
    for (const ps of this.partitions.values()) {
      if (ps.status !== 'active') continue;
      for (const groupId of ps.store.groupsWithOffsets()) {
        if (!groups.has(groupId)) continue;
        for (const o of ps.store.fetch(groupId, null)) wanted.set(tpKey(o.topic, o.partition), { topic: o.topic, partition: o.partition });
      }
    }
    if (wanted.size === 0) return;
    if (periodic) this.sampling = true;
    try {
      const leos = await fetch([...wanted.values()]);
      const now = this.now();
      for (const [key, leo] of leos) {
        const tp = wanted.get(key);
        if (tp && Number.isSafeInteger(leo) && leo >= 0) this.safeLag(() => lag.recordLogEndOffset(tp.topic, tp.partition, leo, now));
      }
    } catch (e) {
      this.logger.warn('sampling log end offsets failed', { error: e });
    } finally {
      if (periodic) this.sampling = false;
    }
  }

  private recordLagCommit(groupId: string, topic: string, partition: number, offset: number, now: number): void {
    const lag = this.deps.lag;
    if (!lag) return;
    // The lag at the commit is judged against the freshest log end offset there is: this broker's
    // own when it leads the partition (free to read), else the last periodic sample.
    const leo = this.deps.localLogEndOffset?.(topic, partition);
    if (leo !== undefined && Number.isSafeInteger(leo) && leo >= 0) this.safeLag(() => lag.recordLogEndOffset(topic, partition, leo, now));
    this.safeLag(() => lag.recordCommit(groupId, topic, partition, offset, now));
  }

  private safeLag(f: () => void): void {
    try {
      f();
    } catch (e) {
      // The evaluator refuses bad input and beyond its bounds; lag is advisory, the commit stands.
      this.logger.debug('lag evaluator refused a sample', { error: e instanceof Error ? e.message : String(e) });
    }
  }

  // --- deleted topics, expiration --------------------------------------------------------------

  /** Topics deleted from the cluster: their committed offsets go (Kafka's handleDeletedPartitions). */
  onTopicsDeleted(topics: readonly string[]): void {
    if (topics.length === 0) return;
    const set = new Set(topics);
    for (const ps of this.partitions.values()) {
      if (ps.status !== 'active') continue;
      const groupsBefore = ps.store.groupsWithOffsets();
      for (const groupId of groupsBefore) {
        for (const o of ps.store.fetch(groupId, null)) if (set.has(o.topic)) this.deps.lag?.forgetPartition(groupId, o.topic, o.partition);
      }
      const tombstones = ps.store.deleteTopics(set);
      this.appendBestEffort(ps, tombstones, 'deleted topics');
      for (const groupId of groupsBefore) this.maybeDropEmptyGroup(ps, groupId);
      if (tombstones.length > 0) this.logger.info('offsets of deleted topics removed', { partition: ps.partition, topics, offsets: tombstones.length });
    }
  }

  /** offsets.retention.minutes: expire offsets, then drop Empty groups left without offsets (Kafka's cleanupGroupMetadata). */
  expireOffsets(): void {
    const now = this.now();
    for (const ps of this.partitions.values()) {
      if (ps.status !== 'active') continue;
      const result = ps.store.expire(now, (groupId) => ps.groups.get(groupId)?.expiryView());
      for (const e of result.expired) this.deps.lag?.forgetPartition(e.groupId, e.topic, e.partition);
      this.appendBestEffort(ps, result.records, 'offset expiration');
      if (result.expired.length > 0) {
        this.deps.events?.offsetsExpired?.(result.expired.length);
        this.logger.info('offsets expired', { partition: ps.partition, offsets: result.expired.length, groupsWithoutOffsets: result.groupsWithoutOffsets });
      }
      for (const groupId of [...ps.groups.keys()]) this.maybeDropEmptyGroup(ps, groupId);
    }
  }

  private maybeDropEmptyGroup(ps: OffsetsPartition, groupId: string): void {
    const g = ps.groups.get(groupId);
    if (!g || g.state !== 'Empty' || ps.store.hasOffsets(groupId) || ps.store.pendingCommitCount > 0) return;
    this.step(ps, groupId, () => g.delete(this.now()));
    this.removeGroup(ps, groupId);
    this.logger.info('empty group without offsets removed', { groupId });
  }

  // --- timers ----------------------------------------------------------------------------------

  /** Fires due group timers (session timeouts, join and sync deadlines). */
  tick(): void {
    const now = this.now();
    for (let due = this.deadlines.popDue(now); due !== null; due = this.deadlines.popDue(now)) {
      const groupId = due.key;
      const ps = this.partitions.get(this.partitionFor(groupId));
      const g = ps?.groups.get(groupId);
      if (!ps || !g || ps.status !== 'active') continue;
      this.step(ps, groupId, () => g.tick(now));
      if (ps.groups.get(groupId) === g) this.forgetIfUnused(ps, groupId);
    }
  }

  // --- driving the cores -----------------------------------------------------------------------

  /** One call into a group's core, its step applied; a core error unloads the group's partition for a reload. */
  private step(ps: OffsetsPartition, groupId: string, call: () => GroupStep): boolean {
    const g = ps.groups.get(groupId);
    let step: GroupStep;
    try {
      step = call();
    } catch (e) {
      if (e instanceof GroupError && e.code === 'INVALID_ARGUMENT') {
        this.logger.error('group coordinator refused a call (adapter bug)', { groupId, error: e.message });
        return false;
      }
      this.logger.error('group state broken; reloading its offsets partition', { groupId, partition: ps.partition, error: e });
      const epoch = ps.leaderEpoch;
      this.unloadPartition(ps.partition, `group ${groupId} failed: ${e instanceof Error ? e.message : String(e)}`);
      if (!this.stopped && this.deps.log.leader(ps.partition)) void this.loadPartition(ps.partition, epoch);
      return false;
    }
    if (g) this.absorb(ps, g, step);
    if (g?.state === 'Dead') this.removeGroup(ps, groupId);
    return true;
  }

  private absorb(ps: OffsetsPartition, g: GroupCoordinator, step: GroupStep): void {
    this.deliver(ps, step.responses);
    for (const e of step.effects) this.effect(ps, g, e);
    if (ps.groups.get(g.groupId) === g) {
      const next = g.nextDeadlineMs();
      if (next === null) this.deadlines.cancel(g.groupId);
      else if (this.deadlines.deadlineOf(g.groupId) !== next) this.deadlines.schedule(g.groupId, next);
    }
  }

  private deliver(ps: OffsetsPartition, responses: GroupStep['responses']): void {
    for (const r of responses) {
      const p = ps.pending.get(r.requestId);
      if (!p) continue;
      ps.pending.delete(r.requestId);
      this.pendingCount--;
      p.resolve(r.response);
    }
  }

  private effect(ps: OffsetsPartition, g: GroupCoordinator, e: GroupEffect): void {
    switch (e.type) {
      case 'store-group':
        void this.append(ps.partition, [e.record], this.now()).then(({ error }) => {
          if (this.partitions.get(ps.partition) !== ps || ps.groups.get(e.groupId) !== g) return;
          this.step(ps, e.groupId, () => g.onGroupStored(e.storeId, error, this.now()));
        });
        return;
      case 'delete-group':
        this.appendBestEffort(ps, [e.record], 'group tombstone');
        return;
      case 'state-changed':
        if (e.to === 'PreparingRebalance') this.deps.events?.rebalance?.(e.groupId);
        this.logger.info('group state changed', { groupId: e.groupId, from: e.from, to: e.to, generationId: e.generationId, reason: e.reason });
        return;
      case 'member-removed':
        this.deps.events?.memberRemoved?.(e.reason);
        this.logger.info('group member removed', { groupId: e.groupId, memberId: e.memberId, groupInstanceId: e.groupInstanceId, reason: e.reason });
        return;
    }
  }

  // --- appends ---------------------------------------------------------------------------------

  /** Appends records as one batch through the local leader, acks=all, bounded by offsets.commit.timeout.ms. */
  private async append(partition: number, records: readonly EncodedRecord[], now: number): Promise<{ error: KafkaErrorName | null; baseOffset: number }> {
    if (records.length === 0) return { error: null, baseOffset: -1 };
    let batch: Buffer;
    try {
      batch = encodeBatch({
        records: records.map((r) => ({ key: Buffer.from(r.key), value: r.value === null ? null : Buffer.from(r.value) })),
        timestamp: now,
      });
    } catch (e) {
      this.logger.error('encoding an offsets batch failed', { partition, error: e });
      return { error: 'UNKNOWN_SERVER_ERROR', baseOffset: -1 };
    }
    try {
      return await this.deps.log.append(partition, batch, this.config.offsetsCommitTimeoutMs);
    } catch (e) {
      this.logger.warn('append to __consumer_offsets failed', { partition, error: e });
      return { error: 'UNKNOWN_SERVER_ERROR', baseOffset: -1 };
    }
  }

  private appendBestEffort(ps: OffsetsPartition, records: readonly EncodedRecord[], what: string): void {
    if (records.length === 0) return;
    void this.append(ps.partition, records, this.now()).then(({ error }) => {
      if (error !== null) this.logger.warn('tombstones not written', { partition: ps.partition, what, error, records: records.length });
    });
  }

  // --- request accounting (for metrics) ----------------------------------------------------------

  private counted<R extends { error: KafkaErrorName | null }>(api: string, r: R): R {
    this.deps.events?.groupRequest?.(api, r.error);
    return r;
  }

  private countedError(api: string, error: KafkaErrorName | null): KafkaErrorName | null {
    this.deps.events?.groupRequest?.(api, error);
    return error;
  }

  private countedResults(api: string, results: PartitionResult[]): PartitionResult[] {
    const firstError = results.find((r) => r.error !== null)?.error ?? null;
    this.deps.events?.groupRequest?.(api, firstError);
    return results;
  }
}

export { CONSUMER_OFFSETS_TOPIC };
