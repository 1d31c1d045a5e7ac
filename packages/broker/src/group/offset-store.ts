// The committed offsets of the groups of one __consumer_offsets partition (Kafka's offset half of
// GroupMetadataManager), pure: the adapter appends the records this store hands out and reports
// the outcome; on becoming the partition's leader it replays the partition through apply().
//
// Lifecycle and ownership: one OffsetStore per __consumer_offsets partition this broker leads,
// created empty and filled by replaying the partition (apply per record, in log order), then fed
// commits (prepareCommit → append → completeCommit), deletions and expiration; dropped when the
// broker stops leading the partition.
//
// Commit flow: prepareCommit validates each offset (metadata size, limits) and returns the records
// to append plus the per-partition errors of the refused ones; the adapter appends the records with
// acks=all and calls completeCommit(commitId, { error: null, logOffset }) — only then are the
// offsets visible to fetch — or completeCommit(commitId, { error }) on failure, which maps the
// append error to the commit error the client expects. An offset being written is never expired.
//
// Tombstones (a null value) delete an offset, or a group's metadata record, and let compaction
// drop them.

import type { KafkaErrorName } from '@samsa/client';
import { offsetCommitError } from './append-errors.js';
import type { GroupExpiryView } from './group-coordinator.js';
import { GroupError, checkArgument, checkTime } from './group-errors.js';
import { type OffsetConfig, resolveOffsetConfig } from './offset-config.js';
import {
  type EncodedRecord,
  type GroupMetadataValue,
  NO_LEADER_EPOCH,
  type OffsetCommitValue,
  type OffsetsTopicRecord,
  decodeOffsetsRecord,
  encodeOffsetCommitKey,
  encodeOffsetCommitValue,
} from './offsets-records.js';

export interface TopicPartitionRef {
  readonly topic: string;
  readonly partition: number;
}

/** One offset in an OffsetCommit request. */
export interface OffsetCommitEntry extends TopicPartitionRef {
  readonly offset: number;
  /** The leader epoch of the last consumed record; -1 (default) when unknown. */
  readonly leaderEpoch?: number;
  /** Free text the consumer stores with its offset; null means ''. */
  readonly metadata?: string | null;
}

export interface PartitionResult extends TopicPartitionRef {
  readonly error: KafkaErrorName | null;
}

export interface PreparedCommit {
  /** Name of this commit for completeCommit; null when nothing is to be written. */
  readonly commitId: number | null;
  readonly records: readonly EncodedRecord[];
  /** Partitions refused now (with their error); the others wait for completeCommit. */
  readonly refused: readonly PartitionResult[];
}

export interface CommittedOffset extends TopicPartitionRef {
  readonly offset: number;
  readonly leaderEpoch: number;
  readonly metadata: string;
  readonly commitTimestampMs: number;
  readonly expireTimestampMs: number | null;
}

/** OffsetFetch for one partition: offset -1 (and no error) when nothing is committed. */
export interface FetchedOffset extends TopicPartitionRef {
  readonly offset: number;
  readonly leaderEpoch: number;
  readonly metadata: string;
  readonly error: KafkaErrorName | null;
}

export interface ExpiredOffset extends TopicPartitionRef {
  readonly groupId: string;
}

export interface ExpirationResult {
  /** Tombstones to append (best effort). */
  readonly records: readonly EncodedRecord[];
  readonly expired: readonly ExpiredOffset[];
  /** Groups whose last offsets just expired. */
  readonly groupsWithoutOffsets: readonly string[];
}

interface StoredOffset extends CommittedOffset {
  /** The record's offset in __consumer_offsets: a later record wins; -1 when unknown. */
  readonly recordOffset: number;
}

interface PendingCommit {
  readonly groupId: string;
  readonly offsets: readonly CommittedOffset[];
}

/** Kafka's topic name limit; longer names cannot exist. */
const MAX_TOPIC_LENGTH = 249;

function tpKey(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

function compareRefs(a: TopicPartitionRef, b: TopicPartitionRef): number {
  return (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0) || a.partition - b.partition;
}

export class OffsetStore {
  readonly config: OffsetConfig;
  private readonly offsets = new Map<string, Map<string, StoredOffset>>();
  private readonly groupRecords = new Map<string, GroupMetadataValue>();
  private readonly pendingCommits = new Map<number, PendingCommit>();
  /** group → partition key → commit ids writing it (an entry removed by a deletion is not applied). */
  private readonly pendingByPartition = new Map<string, Map<string, Set<number>>>();
  private nextCommitId = 1;

  constructor(config: Partial<OffsetConfig> = {}) {
    this.config = resolveOffsetConfig(config);
  }

  // --- replay ----------------------------------------------------------------------------------

  /** Applies a record read from the partition (replay, in log order). */
  apply(record: OffsetsTopicRecord, recordOffset: number): void {
    checkArgument(Number.isSafeInteger(recordOffset) && recordOffset >= -1, () => `recordOffset ${recordOffset} is invalid`);
    const key = record.key;
    if (key.type === 'group') {
      if (record.value === null) this.groupRecords.delete(key.groupId);
      else this.groupRecords.set(key.groupId, record.value as GroupMetadataValue);
      return;
    }
    if (record.value === null) {
      this.removeOffset(key.groupId, key.topic, key.partition);
      return;
    }
    const v = record.value as OffsetCommitValue;
    this.putOffset(key.groupId, { topic: key.topic, partition: key.partition, ...v, recordOffset });
  }

  /** Decodes and applies one record's bytes; throws BinaryFormatError on a record it cannot read. */
  applyEncoded(key: Uint8Array, value: Uint8Array | null, recordOffset: number): OffsetsTopicRecord {
    const record = decodeOffsetsRecord(key, value);
    this.apply(record, recordOffset);
    return record;
  }

  /** The latest group metadata record of each group seen by apply() (what the loader rebuilds groups from). */
  loadedGroups(): ReadonlyMap<string, GroupMetadataValue> {
    return this.groupRecords;
  }

  // --- queries ---------------------------------------------------------------------------------

  /** Groups that have committed offsets. */
  groupsWithOffsets(): string[] {
    return [...this.offsets.keys()];
  }

  hasOffsets(groupId: string): boolean {
    return (this.offsets.get(groupId)?.size ?? 0) > 0;
  }

  offsetCount(groupId: string): number {
    return this.offsets.get(groupId)?.size ?? 0;
  }

  get pendingCommitCount(): number {
    return this.pendingCommits.size;
  }

  committed(groupId: string, topic: string, partition: number): CommittedOffset | undefined {
    const s = this.offsets.get(groupId)?.get(tpKey(topic, partition));
    if (s === undefined) return undefined;
    const { recordOffset: _recordOffset, ...committed } = s;
    return committed;
  }

  /** OffsetFetch: the requested partitions (null: every committed one, sorted). */
  fetch(groupId: string, partitions: readonly TopicPartitionRef[] | null): FetchedOffset[] {
    const group = this.offsets.get(groupId);
    if (partitions === null) {
      return [...(group?.values() ?? [])]
        .sort(compareRefs)
        .map((s) => ({ topic: s.topic, partition: s.partition, offset: s.offset, leaderEpoch: s.leaderEpoch, metadata: s.metadata, error: null }));
    }
    return partitions.map((tp) => {
      const s = group?.get(tpKey(tp.topic, tp.partition));
      return s === undefined
        ? { topic: tp.topic, partition: tp.partition, offset: -1, leaderEpoch: NO_LEADER_EPOCH, metadata: '', error: null }
        : { topic: tp.topic, partition: tp.partition, offset: s.offset, leaderEpoch: s.leaderEpoch, metadata: s.metadata, error: null };
    });
  }

  // --- commits ---------------------------------------------------------------------------------

  /**
   * Validates an OffsetCommit the group allowed (GroupCoordinator.validateOffsetCommit) and
   * returns the records to append. Refused partitions: OFFSET_METADATA_TOO_LARGE (metadata longer
   * than offset.metadata.max.bytes, in characters as Kafka counts), INVALID_COMMIT_OFFSET_SIZE
   * (the group would hold more than offsetsPerGroupMax offsets), INVALID_REQUEST (a malformed
   * entry), REQUEST_TIMED_OUT (too many commits in flight; retriable).
   */
  prepareCommit(groupId: string, entries: readonly OffsetCommitEntry[], nowMs: number): PreparedCommit {
    checkTime('nowMs', nowMs);
    checkArgument(typeof groupId === 'string', () => 'groupId must be a string');
    const refused: PartitionResult[] = [];
    const accepted = new Map<string, CommittedOffset>();
    if (!Array.isArray(entries)) return { commitId: null, records: [], refused: [] };
    const busy = this.pendingCommits.size >= this.config.pendingCommitsMax;
    const group = this.offsets.get(groupId);
    let room = this.config.offsetsPerGroupMax - (group?.size ?? 0);
    for (const e of entries as unknown[]) {
      const entry = e as Partial<OffsetCommitEntry> | null;
      const topic = typeof entry?.topic === 'string' ? entry.topic : '';
      const partition = typeof entry?.partition === 'number' ? entry.partition : -1;
      const error = busy ? 'REQUEST_TIMED_OUT' : this.entryProblem(entry);
      if (error !== null) {
        refused.push({ topic, partition, error });
        continue;
      }
      const key = tpKey(topic, partition);
      const isNew = !(group?.has(key) ?? false) && !accepted.has(key);
      if (isNew && room <= 0) {
        refused.push({ topic, partition, error: 'INVALID_COMMIT_OFFSET_SIZE' });
        continue;
      }
      if (isNew) room--;
      // A partition named twice: the last one counts (Kafka builds a map).
      accepted.set(key, {
        topic,
        partition,
        offset: entry!.offset!,
        leaderEpoch: entry!.leaderEpoch ?? NO_LEADER_EPOCH,
        metadata: entry!.metadata ?? '',
        commitTimestampMs: nowMs,
        expireTimestampMs: null,
      });
    }
    if (accepted.size === 0) return { commitId: null, records: [], refused };
    const commitId = this.nextCommitId++;
    const offsets = [...accepted.values()];
    this.pendingCommits.set(commitId, { groupId, offsets });
    let byPartition = this.pendingByPartition.get(groupId);
    if (!byPartition) this.pendingByPartition.set(groupId, (byPartition = new Map()));
    for (const o of offsets) {
      const key = tpKey(o.topic, o.partition);
      let ids = byPartition.get(key);
      if (!ids) byPartition.set(key, (ids = new Set()));
      ids.add(commitId);
    }
    const records = offsets.map((o) => ({ key: encodeOffsetCommitKey(groupId, o.topic, o.partition), value: encodeOffsetCommitValue(o) }));
    return { commitId, records, refused };
  }

  /**
   * The outcome of appending a prepared commit: on success (with the log offset of the batch) the
   * offsets become visible, unless a deletion removed them meanwhile or a later record already
   * won; on failure nothing changes and every partition gets the mapped error.
   */
  completeCommit(commitId: number, outcome: { readonly error: KafkaErrorName | null; readonly logOffset?: number }): PartitionResult[] {
    const pending = this.pendingCommits.get(commitId);
    if (pending === undefined) throw new GroupError('INVALID_ARGUMENT', `no pending offset commit ${commitId}`);
    this.pendingCommits.delete(commitId);
    const byPartition = this.pendingByPartition.get(pending.groupId);
    const error = outcome.error === null ? null : offsetCommitError(outcome.error);
    const recordOffset = outcome.logOffset ?? -1;
    for (const o of pending.offsets) {
      const key = tpKey(o.topic, o.partition);
      const ids = byPartition?.get(key);
      const stillWanted = ids?.delete(commitId) ?? false;
      if (ids !== undefined && ids.size === 0) byPartition!.delete(key);
      if (error === null && stillWanted) this.putOffset(pending.groupId, { ...o, recordOffset });
    }
    if (byPartition !== undefined && byPartition.size === 0) this.pendingByPartition.delete(pending.groupId);
    return pending.offsets.map((o) => ({ topic: o.topic, partition: o.partition, error }));
  }

  // --- deletion and expiration -----------------------------------------------------------------

  /** All of a group's offsets (DeleteGroups): removes them and returns their tombstones. */
  deleteGroup(groupId: string): EncodedRecord[] {
    const group = this.offsets.get(groupId);
    const refs = group === undefined ? [] : [...group.values()];
    this.groupRecords.delete(groupId);
    // Commits still in flight must not bring the offsets back.
    this.pendingByPartition.delete(groupId);
    return this.removeAndTombstone(groupId, refs);
  }

  /** Some of a group's offsets (OffsetDelete, after GroupCoordinator.offsetDeletionCheck). */
  deleteOffsets(groupId: string, partitions: readonly TopicPartitionRef[]): EncodedRecord[] {
    const byPartition = this.pendingByPartition.get(groupId);
    for (const tp of partitions) byPartition?.delete(tpKey(tp.topic, tp.partition));
    return this.removeAndTombstone(groupId, partitions);
  }

  /** Offsets of deleted topics, in every group (Kafka's handleDeletedPartitions). */
  deleteTopics(topics: ReadonlySet<string>): EncodedRecord[] {
    const records: EncodedRecord[] = [];
    for (const [groupId, group] of [...this.offsets]) {
      const gone = [...group.values()].filter((s) => topics.has(s.topic));
      const byPartition = this.pendingByPartition.get(groupId);
      for (const s of gone) byPartition?.delete(tpKey(s.topic, s.partition));
      records.push(...this.removeAndTombstone(groupId, gone));
    }
    return records;
  }

  /**
   * offsets.retention.minutes (Kafka 2.1+ rules, GroupMetadata.removeExpiredOffsets):
   * - a group with a protocol type that is Empty: every offset expires once the group has been
   *   Empty for the retention period (or, without a state timestamp, since its commit);
   * - a Stable consumer group that knows its subscriptions: offsets of topics it no longer
   *   subscribes to expire a retention period after their commit;
   * - a group without protocol type (a simple consumer, or no group object): each offset a
   *   retention period after its commit;
   * - otherwise (rebalancing): nothing.
   * An offset with an explicit expire timestamp (v1 records) expires then. Offsets being written
   * never expire. `viewOf` describes each group (undefined: no group object, i.e. standalone).
   */
  expire(nowMs: number, viewOf: (groupId: string) => GroupExpiryView | undefined): ExpirationResult {
    checkTime('nowMs', nowMs);
    const records: EncodedRecord[] = [];
    const expired: ExpiredOffset[] = [];
    const groupsWithoutOffsets: string[] = [];
    const retention = this.config.offsetsRetentionMs;
    for (const [groupId, group] of [...this.offsets]) {
      const view = viewOf(groupId);
      const state = view?.state ?? 'Empty';
      const protocolType = view?.protocolType ?? null;
      let base: ((s: StoredOffset) => number) | null = null;
      let keepTopics: ReadonlySet<string> = new Set();
      if (state === 'Dead') {
        base = null;
      } else if (protocolType !== null && state === 'Empty') {
        const emptySince = view?.currentStateTimestampMs ?? null;
        base = (s) => emptySince ?? s.commitTimestampMs;
      } else if (protocolType === 'consumer' && state === 'Stable' && view?.subscribedTopics) {
        base = (s) => s.commitTimestampMs;
        keepTopics = view.subscribedTopics;
      } else if (protocolType === null) {
        base = (s) => s.commitTimestampMs;
      }
      if (base === null) continue;
      const pending = this.pendingByPartition.get(groupId);
      const gone = [...group.values()].filter((s) => {
        if (keepTopics.has(s.topic) || (pending?.has(tpKey(s.topic, s.partition)) ?? false)) return false;
        return s.expireTimestampMs !== null ? nowMs >= s.expireTimestampMs : nowMs - base!(s) >= retention;
      });
      if (gone.length === 0) continue;
      for (const s of gone) expired.push({ groupId, topic: s.topic, partition: s.partition });
      records.push(...this.removeAndTombstone(groupId, gone));
      if (!this.hasOffsets(groupId)) groupsWithoutOffsets.push(groupId);
    }
    return { records, expired, groupsWithoutOffsets };
  }

  // --- internals -------------------------------------------------------------------------------

  private entryProblem(entry: Partial<OffsetCommitEntry> | null): KafkaErrorName | null {
    if (typeof entry !== 'object' || entry === null) return 'INVALID_REQUEST';
    if (typeof entry.topic !== 'string' || entry.topic.length === 0 || entry.topic.length > MAX_TOPIC_LENGTH) return 'INVALID_TOPIC_EXCEPTION';
    if (typeof entry.partition !== 'number' || !Number.isInteger(entry.partition) || entry.partition < 0 || entry.partition > 2 ** 31 - 1) {
      return 'UNKNOWN_TOPIC_OR_PARTITION';
    }
    if (typeof entry.offset !== 'number' || !Number.isSafeInteger(entry.offset) || entry.offset < 0) return 'INVALID_REQUEST';
    if (entry.leaderEpoch !== undefined && (!Number.isInteger(entry.leaderEpoch) || entry.leaderEpoch < -1 || entry.leaderEpoch > 2 ** 31 - 1)) {
      return 'INVALID_REQUEST';
    }
    if (entry.metadata !== undefined && entry.metadata !== null) {
      if (typeof entry.metadata !== 'string') return 'INVALID_REQUEST';
      if (entry.metadata.length > this.config.offsetMetadataMaxBytes) return 'OFFSET_METADATA_TOO_LARGE';
    }
    return null;
  }

  private putOffset(groupId: string, s: StoredOffset): void {
    let group = this.offsets.get(groupId);
    if (!group) this.offsets.set(groupId, (group = new Map()));
    const key = tpKey(s.topic, s.partition);
    const existing = group.get(key);
    // A record written earlier in the log never overwrites a later one.
    if (existing !== undefined && existing.recordOffset >= 0 && s.recordOffset >= 0 && s.recordOffset < existing.recordOffset) return;
    group.set(key, s);
  }

  private removeOffset(groupId: string, topic: string, partition: number): boolean {
    const group = this.offsets.get(groupId);
    if (!group) return false;
    const removed = group.delete(tpKey(topic, partition));
    if (group.size === 0) this.offsets.delete(groupId);
    return removed;
  }

  private removeAndTombstone(groupId: string, partitions: readonly TopicPartitionRef[]): EncodedRecord[] {
    const records: EncodedRecord[] = [];
    for (const tp of partitions) {
      if (this.removeOffset(groupId, tp.topic, tp.partition)) records.push({ key: encodeOffsetCommitKey(groupId, tp.topic, tp.partition), value: null });
    }
    return records;
  }
}
