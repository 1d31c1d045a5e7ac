// The OffsetStore keeps a group's committed offsets as Kafka's GroupMetadataManager does: a commit
// is visible only once its append succeeded; replaying the partition rebuilds the same state (later
// records win, tombstones delete); deletions are not undone by a commit still in flight; offsets
// expire by Kafka 2.1+'s rules (Empty group: retention after it became Empty; Stable consumer group:
// only topics it no longer subscribes to; standalone: retention after the commit); bad entries get
// per-partition errors, never exceptions.

import { decodeOffsetsRecord } from '../../src/group/offsets-records.js';
import type { GroupExpiryView } from '../../src/group/group-coordinator.js';
import { GroupError } from '../../src/group/group-errors.js';
import { OffsetStore } from '../../src/group/offset-store.js';

const DAY = 86_400_000;
const RETENTION = 7 * DAY;

function commit(store: OffsetStore, groupId: string, entries: { topic: string; partition: number; offset: number; metadata?: string }[], nowMs: number, logOffset = -1) {
  const prepared = store.prepareCommit(groupId, entries, nowMs);
  const results = prepared.commitId === null ? [] : store.completeCommit(prepared.commitId, { error: null, logOffset });
  return { prepared, results };
}

describe('commit flow', () => {
  test('a commit is invisible until its append succeeds, and then fetchable with its metadata and leader epoch', () => {
    const s = new OffsetStore();
    const p = s.prepareCommit('g', [{ topic: 't', partition: 0, offset: 42, leaderEpoch: 3, metadata: 'hi' }], 1_000);
    expect(p.refused).toEqual([]);
    expect(p.records).toHaveLength(1);
    expect(decodeOffsetsRecord(p.records[0]!.key, p.records[0]!.value)).toEqual({
      key: { type: 'offset', groupId: 'g', topic: 't', partition: 0 },
      value: { offset: 42, leaderEpoch: 3, metadata: 'hi', commitTimestampMs: 1_000, expireTimestampMs: null },
    });
    expect(s.fetch('g', [{ topic: 't', partition: 0 }])).toEqual([{ topic: 't', partition: 0, offset: -1, leaderEpoch: -1, metadata: '', error: null }]);
    expect(s.completeCommit(p.commitId!, { error: null, logOffset: 7 })).toEqual([{ topic: 't', partition: 0, error: null }]);
    expect(s.fetch('g', null)).toEqual([{ topic: 't', partition: 0, offset: 42, leaderEpoch: 3, metadata: 'hi', error: null }]);
    expect(s.pendingCommitCount).toBe(0);
  });

  test('a failed append changes nothing and maps the append error to the commit error Kafka gives', () => {
    const s = new OffsetStore();
    commit(s, 'g', [{ topic: 't', partition: 0, offset: 1 }], 0);
    for (const [appendError, expected] of [
      ['NOT_LEADER_OR_FOLLOWER', 'NOT_COORDINATOR'],
      ['NOT_ENOUGH_REPLICAS', 'COORDINATOR_NOT_AVAILABLE'],
      ['MESSAGE_TOO_LARGE', 'INVALID_COMMIT_OFFSET_SIZE'],
      ['REQUEST_TIMED_OUT', 'REQUEST_TIMED_OUT'],
    ] as const) {
      const p = s.prepareCommit('g', [{ topic: 't', partition: 0, offset: 99 }], 0);
      expect(s.completeCommit(p.commitId!, { error: appendError })).toEqual([{ topic: 't', partition: 0, error: expected }]);
      expect(s.committed('g', 't', 0)?.offset).toBe(1);
    }
    expect(() => s.completeCommit(12345, { error: null })).toThrow(GroupError);
  });

  test('malformed entries and over-long metadata are refused per partition; the rest of the commit proceeds', () => {
    const s = new OffsetStore({ offsetMetadataMaxBytes: 4 });
    const p = s.prepareCommit(
      'g',
      [
        { topic: 't', partition: 0, offset: 1, metadata: 'toolong' },
        { topic: '', partition: 0, offset: 1 },
        { topic: 't', partition: -1, offset: 1 },
        { topic: 't', partition: 1, offset: -5 },
        { topic: 't', partition: 2, offset: 1.5 },
        null as never,
        { topic: 't', partition: 3, offset: 3, metadata: 'ok' },
      ],
      0,
    );
    expect(p.refused.map((r) => r.error)).toEqual([
      'OFFSET_METADATA_TOO_LARGE',
      'INVALID_TOPIC_EXCEPTION',
      'UNKNOWN_TOPIC_OR_PARTITION',
      'INVALID_REQUEST',
      'INVALID_REQUEST',
      'INVALID_REQUEST',
    ]);
    expect(s.completeCommit(p.commitId!, { error: null })).toEqual([{ topic: 't', partition: 3, error: null }]);
    expect(s.prepareCommit('g', 'garbage' as never, 0)).toEqual({ commitId: null, records: [], refused: [] });
  });

  test('bounds: offsets per group (INVALID_COMMIT_OFFSET_SIZE) and commits in flight (REQUEST_TIMED_OUT)', () => {
    const s = new OffsetStore({ offsetsPerGroupMax: 2, pendingCommitsMax: 1 });
    const first = s.prepareCommit('g', [0, 1, 2].map((partition) => ({ topic: 't', partition, offset: 1 })), 0);
    expect(first.refused).toEqual([{ topic: 't', partition: 2, error: 'INVALID_COMMIT_OFFSET_SIZE' }]);
    expect(s.prepareCommit('g', [{ topic: 't', partition: 0, offset: 2 }], 0).refused).toEqual([{ topic: 't', partition: 0, error: 'REQUEST_TIMED_OUT' }]);
    s.completeCommit(first.commitId!, { error: null });
    // Updating an existing offset needs no room; a new one does.
    expect(commit(s, 'g', [{ topic: 't', partition: 1, offset: 5 }], 0).prepared.refused).toEqual([]);
    expect(commit(s, 'g', [{ topic: 'u', partition: 0, offset: 5 }], 0).prepared.refused[0]!.error).toBe('INVALID_COMMIT_OFFSET_SIZE');
  });
});

describe('replay', () => {
  test('replaying the records a store wrote rebuilds the same offsets; tombstones delete; an earlier record never overwrites a later one', () => {
    const s = new OffsetStore();
    const log: { key: Uint8Array; value: Uint8Array | null }[] = [];
    const write = (groupId: string, entries: { topic: string; partition: number; offset: number }[], now: number) => {
      const p = s.prepareCommit(groupId, entries, now);
      log.push(...p.records);
      s.completeCommit(p.commitId!, { error: null, logOffset: log.length - 1 });
    };
    write('a', [{ topic: 't', partition: 0, offset: 1 }, { topic: 't', partition: 1, offset: 2 }], 10);
    write('b', [{ topic: 't', partition: 0, offset: 7 }], 20);
    write('a', [{ topic: 't', partition: 0, offset: 3 }], 30);
    log.push(...s.deleteOffsets('a', [{ topic: 't', partition: 1 }]));
    const replayed = new OffsetStore();
    log.forEach((r, i) => replayed.applyEncoded(r.key, r.value, i));
    expect(replayed.fetch('a', null)).toEqual(s.fetch('a', null));
    expect(replayed.fetch('b', null)).toEqual(s.fetch('b', null));
    expect(replayed.fetch('a', null).map((o) => o.offset)).toEqual([3]);
    // Applying the first record again at its own (earlier) offset does not win over offset 3.
    replayed.applyEncoded(log[0]!.key, log[0]!.value, 0);
    expect(replayed.committed('a', 't', 0)?.offset).toBe(3);
  });

  test('group records are kept for the loader, the latest one wins, and a group tombstone forgets the group', () => {
    const s = new OffsetStore();
    const value = { protocolType: 'consumer', generationId: 1, protocolName: 'range', leaderId: null, currentStateTimestampMs: 5, members: [] };
    s.apply({ key: { type: 'group', groupId: 'g' }, value }, 0);
    s.apply({ key: { type: 'group', groupId: 'g' }, value: { ...value, generationId: 2 } }, 1);
    expect(s.loadedGroups().get('g')?.generationId).toBe(2);
    s.apply({ key: { type: 'group', groupId: 'g' }, value: null }, 2);
    expect(s.loadedGroups().has('g')).toBe(false);
  });
});

describe('deletion', () => {
  test('DeleteGroups, OffsetDelete and deleted topics remove offsets with tombstones, and a commit in flight does not bring them back', () => {
    const s = new OffsetStore();
    commit(s, 'g', [{ topic: 't', partition: 0, offset: 1 }, { topic: 'u', partition: 0, offset: 1 }], 0);
    commit(s, 'h', [{ topic: 't', partition: 5, offset: 1 }], 0);
    const inFlight = s.prepareCommit('g', [{ topic: 'u', partition: 0, offset: 9 }], 0);
    const tombstones = s.deleteOffsets('g', [{ topic: 'u', partition: 0 }, { topic: 'nope', partition: 0 }]);
    expect(tombstones.map((r) => decodeOffsetsRecord(r.key, r.value))).toEqual([{ key: { type: 'offset', groupId: 'g', topic: 'u', partition: 0 }, value: null }]);
    s.completeCommit(inFlight.commitId!, { error: null });
    expect(s.committed('g', 'u', 0)).toBeUndefined();
    expect(s.deleteTopics(new Set(['t'])).length).toBe(2);
    expect(s.groupsWithOffsets()).toEqual([]);
    commit(s, 'g', [{ topic: 'v', partition: 0, offset: 1 }], 0);
    expect(s.deleteGroup('g').length).toBe(1);
    expect(s.hasOffsets('g')).toBe(false);
  });
});

describe('expiration (offsets.retention.minutes)', () => {
  const view = (v: Partial<GroupExpiryView>): GroupExpiryView => ({ state: 'Empty', protocolType: 'consumer', currentStateTimestampMs: null, subscribedTopics: null, ...v });

  test('an Empty group’s offsets expire a retention period after it became Empty, however old the commits', () => {
    const s = new OffsetStore({ offsetsRetentionMs: RETENTION });
    commit(s, 'g', [{ topic: 't', partition: 0, offset: 1 }], 0);
    const emptySince = 10 * DAY;
    expect(s.expire(emptySince + RETENTION - 1, () => view({ currentStateTimestampMs: emptySince })).expired).toEqual([]);
    const r = s.expire(emptySince + RETENTION, () => view({ currentStateTimestampMs: emptySince }));
    expect(r.expired).toEqual([{ groupId: 'g', topic: 't', partition: 0 }]);
    expect(r.groupsWithoutOffsets).toEqual(['g']);
    expect(r.records.map((x) => x.value)).toEqual([null]);
  });

  test('a Stable consumer group keeps offsets of subscribed topics forever and loses the others a retention period after their commit', () => {
    const s = new OffsetStore({ offsetsRetentionMs: RETENTION });
    commit(s, 'g', [{ topic: 't', partition: 0, offset: 1 }, { topic: 'old', partition: 0, offset: 1 }], 0);
    const stable = () => view({ state: 'Stable', subscribedTopics: new Set(['t']) });
    expect(s.expire(RETENTION - 1, stable).expired).toEqual([]);
    expect(s.expire(RETENTION, stable).expired).toEqual([{ groupId: 'g', topic: 'old', partition: 0 }]);
    expect(s.expire(100 * RETENTION, stable).expired).toEqual([]);
    expect(s.committed('g', 't', 0)?.offset).toBe(1);
  });

  test('a rebalancing or Dead group expires nothing; a standalone consumer (no group) a retention period after each commit', () => {
    const s = new OffsetStore({ offsetsRetentionMs: RETENTION });
    commit(s, 'g', [{ topic: 't', partition: 0, offset: 1 }], 0);
    commit(s, 'solo', [{ topic: 't', partition: 0, offset: 1 }], 0);
    commit(s, 'solo', [{ topic: 't', partition: 1, offset: 1 }], DAY);
    for (const state of ['PreparingRebalance', 'CompletingRebalance', 'Dead'] as const) {
      expect(s.expire(100 * RETENTION, (g) => (g === 'g' ? view({ state }) : view({ state: 'Stable' }))).expired).toEqual([]);
    }
    expect(s.expire(RETENTION, (g) => (g === 'g' ? view({ state: 'Stable' }) : undefined)).expired).toEqual([{ groupId: 'solo', topic: 't', partition: 0 }]);
    expect(s.expire(RETENTION + DAY, () => undefined).expired.map((e) => `${e.groupId}/${e.partition}`)).toEqual(['g/0', 'solo/1']);
  });

  test('a v1 record’s explicit expire timestamp wins; an offset being written never expires', () => {
    const s = new OffsetStore({ offsetsRetentionMs: RETENTION });
    s.apply({ key: { type: 'offset', groupId: 'g', topic: 't', partition: 0 }, value: { offset: 1, leaderEpoch: -1, metadata: '', commitTimestampMs: 0, expireTimestampMs: 1_000 } }, 0);
    expect(s.expire(999, () => undefined).expired).toEqual([]);
    expect(s.expire(1_000, () => undefined).expired).toHaveLength(1);
    commit(s, 'g', [{ topic: 't', partition: 1, offset: 1 }], 0);
    const p = s.prepareCommit('g', [{ topic: 't', partition: 1, offset: 2 }], 0);
    expect(s.expire(10 * RETENTION, () => undefined).expired).toEqual([]);
    s.completeCommit(p.commitId!, { error: null });
    expect(s.committed('g', 't', 1)?.offset).toBe(2);
  });
});
