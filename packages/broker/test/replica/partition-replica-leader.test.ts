// PartitionReplica as a leader: one rule per test. Replicas [1, 2, 3] with broker 1 leading,
// replica.lag.time.max.ms = 10 s, min.insync.replicas = 2, at most 4 acks=all requests waiting.

import { ReplicaError } from '../../src/replica/errors.js';
import { PartitionReplica } from '../../src/replica/partition-replica.js';
import { LAG_MS, epochs, expectApplied, expectRejected, fetch, leader, replica, state } from './replica-test-helpers.js';

describe('becoming leader', () => {
  test('a new leader epoch starts at the log end offset and keeps the follower high watermark', () => {
    const r = replica({ logEndOffset: 12, highWatermark: 7 });
    const result = expectApplied(r.becomeLeader(state({ leaderEpoch: 4, partitionEpoch: 9 }), 100));
    expect(result).toEqual({ kind: 'applied', isNewLeaderEpoch: true, assignEpochStart: { epoch: 4, startOffset: 12 } });
    const s = r.state();
    expect(s).toMatchObject({ role: 'leader', leaderId: 1, leaderEpoch: 4, partitionEpoch: 9, controllerEpoch: 1, isr: [1, 2, 3], highWatermark: 7, leaderEpochStartOffset: 12 });
    // Followers have said nothing under this epoch: in the ISR they count as caught up now.
    expect(s.followers).toEqual([
      { replicaId: 2, logEndOffset: -1, logStartOffset: -1, lastFetchTimeMs: 0, lastCaughtUpTimeMs: 100 },
      { replicaId: 3, logEndOffset: -1, logStartOffset: -1, lastFetchTimeMs: 0, lastCaughtUpTimeMs: 100 },
    ]);
  });

  test('stale or invalid states are refused with typed errors, a duplicate is "unchanged"', () => {
    const r = replica();
    expectApplied(r.becomeLeader(state({ leaderEpoch: 5, partitionEpoch: 3, controllerEpoch: 2 }), 0));
    expect(r.becomeLeader(state({ leaderEpoch: 5, partitionEpoch: 3, controllerEpoch: 2 }), 0)).toEqual({ kind: 'unchanged' });
    expectRejected(r.becomeLeader(state({ leaderEpoch: 4, partitionEpoch: 4, controllerEpoch: 2 }), 0), 'FENCED_LEADER_EPOCH');
    expectRejected(r.becomeLeader(state({ leaderEpoch: 5, partitionEpoch: 2, controllerEpoch: 2 }), 0), 'FENCED_LEADER_EPOCH');
    expectRejected(r.becomeLeader(state({ leaderEpoch: 6, partitionEpoch: 2, controllerEpoch: 2 }), 0), 'FENCED_LEADER_EPOCH');
    expectRejected(r.becomeLeader(state({ leaderEpoch: 6, partitionEpoch: 4, controllerEpoch: 1 }), 0), 'STALE_CONTROLLER_EPOCH');
    expect(r.becomeFollower(state({ leader: 2, leaderEpoch: 5, partitionEpoch: 3, controllerEpoch: 2 }), 0).kind).toBe('rejected');
    const invalid: [object, RegExp][] = [
      [{ isr: [2, 3] }, /not in the isr/],
      [{ isr: [1, 4] }, /not among the replicas/],
      [{ replicas: [2, 3], isr: [2] }, /broker 1 is not among the replicas/],
      [{ replicas: [1, 1, 2] }, /distinct/],
      [{ leader: 2 }, /is not this broker/],
      [{ leaderEpoch: -1 }, /int32/],
      [{ partitionEpoch: 1.5 }, /int32/],
    ];
    for (const [overrides, message] of invalid) {
      const error = expectRejected(r.becomeLeader(state({ leaderEpoch: 7, partitionEpoch: 5, controllerEpoch: 2, ...overrides }), 0), 'INVALID_REQUEST');
      expect(error.message).toMatch(message);
    }
    expect(r.state()).toMatchObject({ leaderEpoch: 5, partitionEpoch: 3, controllerEpoch: 2 });
  });
});

describe('high watermark', () => {
  test('advances only to what every ISR member has', () => {
    const r = leader([1, 2, 3], 10);
    expect(fetch(r, 2, 10, 1)).toMatchObject({ ok: true, highWatermark: 0 }); // 3 has said nothing yet
    expect(fetch(r, 3, 5, 2)).toMatchObject({ ok: true, highWatermark: 5 });
    expect(r.takeOutputs().highWatermark).toBe(5);
    expect(fetch(r, 3, 10, 3)).toMatchObject({ ok: true, highWatermark: 10 });
    expect(r.takeOutputs().highWatermark).toBe(10);
    r.onAppend(15, 4);
    expect(r.state().highWatermark).toBe(10);
    expect(r.takeOutputs().highWatermark).toBeNull();
  });

  test('a follower outside the ISR does not hold it back; a single-member ISR follows the log end', () => {
    const r = leader([1, 2], 10);
    fetch(r, 2, 10, 1);
    expect(r.state().highWatermark).toBe(10);
    const alone = new PartitionReplica({ brokerId: 1, logStartOffset: 0, logEndOffset: 3, nowMs: 0 });
    expectApplied(alone.becomeLeader(state({ replicas: [1], isr: [1] }), 0));
    expect(alone.state().highWatermark).toBe(3);
    alone.onAppend(8, 1);
    expect(alone.takeOutputs().highWatermark).toBe(8);
  });

  test('never goes down on a leader: an old, duplicated fetch at a lower offset changes nothing', () => {
    const r = leader([1, 2, 3], 10);
    fetch(r, 2, 10, 1);
    fetch(r, 3, 10, 1);
    expect(r.state().highWatermark).toBe(10);
    fetch(r, 3, 4, 2);
    expect(r.state().highWatermark).toBe(10);
    expect(r.state().followers.find((f) => f.replicaId === 3)!.logEndOffset).toBe(4);
  });

  test('a re-elected leader (new epoch) keeps its HW but waits for every follower to fetch again', () => {
    const r = leader([1, 2, 3], 10);
    fetch(r, 2, 10, 1);
    fetch(r, 3, 10, 1);
    r.onAppend(20, 2);
    expectApplied(r.becomeLeader(state({ leaderEpoch: 2, partitionEpoch: 1 }), 3));
    expect(fetch(r, 2, 20, 4, 2)).toMatchObject({ ok: true, highWatermark: 10 });
    expect(fetch(r, 3, 20, 5, 2)).toMatchObject({ ok: true, highWatermark: 20 });
  });
});

describe('fetches from followers', () => {
  test('are fenced by leader epoch and change nothing when refused', () => {
    const r = leader([1, 2, 3], 10);
    fetch(r, 2, 10, 1);
    const old = fetch(r, 3, 10, 1, 0);
    expect(old).toMatchObject({ ok: false });
    if (!old.ok) expect([old.error.type, old.error.leaderId, old.error.leaderEpoch]).toEqual(['FENCED_LEADER_EPOCH', 1, 1]);
    const newer = fetch(r, 3, 10, 1, 2);
    if (!newer.ok) expect(newer.error.type).toBe('UNKNOWN_LEADER_EPOCH');
    expect(r.state().highWatermark).toBe(0);
    const unknown = fetch(r, 7, 10, 1);
    if (!unknown.ok) expect(unknown.error.type).toBe('NOT_LEADER_OR_FOLLOWER');
    const beyond = fetch(r, 2, 11, 1);
    expect(beyond).toMatchObject({ ok: false, logStartOffset: 0, logEndOffset: 10 });
    if (!beyond.ok) expect(beyond.error.type).toBe('OFFSET_OUT_OF_RANGE');
    expect(newer.ok || unknown.ok).toBe(false);
  });

  test('are refused by a non-leader with NOT_LEADER_OR_FOLLOWER naming the leader it knows', () => {
    const r = replica();
    expectApplied(r.becomeFollower(state({ leader: 3, leaderEpoch: 2 }), 0));
    const result = fetch(r, 2, 0, 1, 2);
    expect(result.ok).toBe(false);
    if (!result.ok) expect([result.error.type, result.error.leaderId, result.error.leaderEpoch]).toEqual(['NOT_LEADER_OR_FOLLOWER', 3, 2]);
  });
});

describe('ISR shrink', () => {
  test('a follower not caught up for replica.lag.time.max.ms is proposed for removal; HW counts it until the write succeeds', () => {
    const r = leader([1, 2, 3], 10);
    fetch(r, 2, 10, 1);
    fetch(r, 3, 4, 1);
    r.tick(LAG_MS); // 3 counts as caught up at 0 (ISR member when the epoch began): exactly the lag, not more
    expect(r.takeOutputs().isrChange).toBeNull();
    fetch(r, 2, 10, LAG_MS + 1); // 2 keeps up
    r.tick(LAG_MS + 1);
    const change = r.takeOutputs().isrChange;
    expect(change).toMatchObject({ kind: 'shrink', changed: [3], isr: [1, 2], expectedPartitionEpoch: 0, leader: 1, leaderEpoch: 1, controllerEpoch: 1 });
    expect(r.state().highWatermark).toBe(4); // 3 still counts while the write is in flight
    r.tick(LAG_MS + 2);
    expect(r.takeOutputs().isrChange).toBeNull(); // one change at a time
    expect(r.onIsrChangeCommitted(change!.id, 1, LAG_MS + 3)).toBe(true);
    expect(r.state()).toMatchObject({ isr: [1, 2], partitionEpoch: 1, highWatermark: 10 });
  });

  test('lastCaughtUpTime: a follower that keeps reaching where the leader was at its previous fetch stays in', () => {
    const r = leader([1, 2], 0);
    let leo = 0;
    let previousLeaderEnd = 0;
    for (let t = 1_000; t <= 5 * LAG_MS; t += 1_000) {
      leo += 5;
      r.onAppend(leo, t); // the leader is always ahead when the follower fetches
      fetch(r, 2, previousLeaderEnd, t);
      previousLeaderEnd = leo;
      r.tick(t);
      expect(r.takeOutputs().isrChange).toBeNull();
    }
    // Now it falls behind: it fetches from below where the leader was last time.
    const stuckAt = previousLeaderEnd - 1;
    let t = 5 * LAG_MS;
    let change = null;
    while (change === null && t < 8 * LAG_MS) {
      t += 1_000;
      leo += 5;
      r.onAppend(leo, t);
      fetch(r, 2, stuckAt, t);
      r.tick(t);
      change = r.takeOutputs().isrChange;
    }
    expect(change).toMatchObject({ kind: 'shrink', changed: [2] });
    // Its last good fetch (at 50 s) proved it held what the leader had at the fetch before (49 s):
    // caught up at 49 s, so it goes at the first check more than the lag time later.
    expect(t).toBe(49_000 + LAG_MS + 1_000);
  });

  test('a rejected write (the znode moved) blocks further changes until a newer partition epoch arrives', () => {
    const r = leader([1, 2, 3], 10);
    fetch(r, 2, 10, 1);
    r.tick(LAG_MS + 1);
    const change = r.takeOutputs().isrChange!;
    expect(r.onIsrChangeRejected(change.id + 1, LAG_MS + 1)).toBe(false); // not the one in flight
    expect(r.onIsrChangeRejected(change.id, LAG_MS + 2)).toBe(true);
    expect(r.state()).toMatchObject({ isr: [1, 2, 3], pendingIsrChange: null });
    r.tick(LAG_MS + 3);
    expect(r.takeOutputs().isrChange).toBeNull();
    // The adapter re-reads the znode: the controller had removed 3 already (same leader epoch).
    expectApplied(r.becomeLeader(state({ isr: [1, 2], partitionEpoch: 1 }), LAG_MS + 4));
    expect(r.state()).toMatchObject({ isr: [1, 2], partitionEpoch: 1, highWatermark: 10 });
  });
});

describe('ISR expansion', () => {
  test('a follower joins once it has everything up to the HW; HW counts it from the proposal on', () => {
    const r = leader([1, 2], 10);
    fetch(r, 2, 10, 1);
    expect(r.state().highWatermark).toBe(10);
    fetch(r, 3, 6, 2);
    expect(r.takeOutputs().isrChange).toBeNull();
    fetch(r, 3, 10, 3);
    const change = r.takeOutputs().isrChange;
    expect(change).toMatchObject({ kind: 'expand', changed: [3], isr: [1, 2, 3], expectedPartitionEpoch: 0 });
    expect(r.state()).toMatchObject({ isr: [1, 2], maximalIsr: [1, 2, 3] });
    r.onAppend(20, 4);
    fetch(r, 2, 20, 5);
    expect(r.state().highWatermark).toBe(10); // 3 may be in the ISR by now: it counts
    // min.insync.replicas is checked against the ISR as written, not the maximal one.
    expect(r.checkProduce(-1)).toBeNull();
    expect(r.onIsrChangeCommitted(change!.id, 1, 6)).toBe(true);
    expect(r.state()).toMatchObject({ isr: [1, 2, 3], maximalIsr: [1, 2, 3], partitionEpoch: 1 });
    fetch(r, 3, 20, 7);
    expect(r.state().highWatermark).toBe(20);
  });

  test('a rejected expansion stops counting the candidate', () => {
    const r = leader([1, 2], 10);
    fetch(r, 2, 10, 1);
    fetch(r, 3, 10, 2);
    const change = r.takeOutputs().isrChange!;
    r.onAppend(15, 3);
    fetch(r, 2, 15, 3);
    expect(r.state().highWatermark).toBe(10);
    r.onIsrChangeRejected(change.id, 4);
    expect(r.state()).toMatchObject({ isr: [1, 2], maximalIsr: [1, 2], highWatermark: 15 });
  });

  test('a follower must have reached the start of this leader epoch (KAFKA-7128), not only the HW', () => {
    // A new leader with log end 10 but HW 4 (its follower HW lagged).
    const r = replica({ logEndOffset: 10, highWatermark: 4 });
    expectApplied(r.becomeLeader(state({ isr: [1, 2] }), 0));
    fetch(r, 3, 6, 1); // past the HW, but it may still hold another leader's records at 6..9
    expect(r.takeOutputs().isrChange).toBeNull();
    fetch(r, 3, 10, 2);
    expect(r.takeOutputs().isrChange).toMatchObject({ kind: 'expand', isr: [1, 2, 3] });
  });

  test('a newer partition epoch under the same leader epoch replaces an expansion in flight; its late commit is ignored', () => {
    const r = leader([1, 2], 10);
    fetch(r, 2, 10, 1);
    fetch(r, 3, 10, 2);
    const change = r.takeOutputs().isrChange!;
    expectApplied(r.becomeLeader(state({ isr: [1, 2, 3], partitionEpoch: 1 }), 3));
    expect(r.state()).toMatchObject({ isr: [1, 2, 3], pendingIsrChange: null });
    expect(r.onIsrChangeCommitted(change.id, 1, 4)).toBe(false);
    // The same state again does not drop what is in flight.
    r.onAppend(11, LAG_MS + 5);
    r.tick(LAG_MS + 5);
    const shrink = r.takeOutputs().isrChange!;
    expect(r.becomeLeader(state({ isr: [1, 2, 3], partitionEpoch: 1 }), LAG_MS + 6)).toEqual({ kind: 'unchanged' });
    expect(r.state().pendingIsrChange).toEqual(shrink);
    expect(() => r.onIsrChangeCommitted(shrink.id, 1, LAG_MS + 7)).toThrow(ReplicaError); // the version must move on
  });
});

describe('acks=all', () => {
  test('checkProduce: leadership, acks values, min.insync.replicas up front', () => {
    const follower = replica();
    expectApplied(follower.becomeFollower(state({ leader: 2, leaderEpoch: 3 }), 0));
    expect(follower.checkProduce(1)).toMatchObject({ type: 'NOT_LEADER_OR_FOLLOWER', leaderId: 2, leaderEpoch: 3 });
    const r = leader([1], 0);
    expect(r.checkProduce(-1)).toMatchObject({ type: 'NOT_ENOUGH_REPLICAS' });
    expect(r.checkProduce(1)).toBeNull();
    expect(r.checkProduce(0)).toBeNull();
    expect(r.checkProduce(2)).toMatchObject({ type: 'INVALID_REQUIRED_ACKS' });
    r.updateConfig({ minInsyncReplicas: 1 });
    expect(r.checkProduce(-1)).toBeNull();
  });

  test('a request finishes when the HW passes its last offset', () => {
    const r = leader([1, 2], 0);
    r.onAppend(5, 1);
    const w = r.awaitReplication(5, 1_000, 1);
    expect(w.kind).toBe('pending');
    fetch(r, 2, 4, 2);
    expect(r.takeOutputs().completedProduces).toEqual([]);
    fetch(r, 2, 5, 3);
    const out = r.takeOutputs();
    expect(out.completedProduces).toEqual([{ id: (w as { id: number }).id, requiredOffset: 5, error: null }]);
    expect(r.awaitReplication(3, 1_000, 4)).toEqual({ kind: 'done', error: null }); // already replicated
    expect(() => r.awaitReplication(6, 1_000, 4)).toThrow(/past the log end/);
  });

  test('NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR shrank below min.insync.replicas while it waited', () => {
    const r = leader([1, 2], 0);
    r.onAppend(5, 1);
    expect(r.awaitReplication(5, 60_000, 1).kind).toBe('pending');
    r.tick(LAG_MS + 1); // 2 never fetched
    const change = r.takeOutputs().isrChange!;
    r.onIsrChangeCommitted(change.id, 1, LAG_MS + 2);
    const [done] = r.takeOutputs().completedProduces;
    expect(done!.error).toMatchObject({ type: 'NOT_ENOUGH_REPLICAS_AFTER_APPEND' });
    expect(r.checkProduce(-1)).toMatchObject({ type: 'NOT_ENOUGH_REPLICAS' });
  });

  test('times out at its deadline, fails with NOT_LEADER_OR_FOLLOWER when leadership is lost, and is bounded', () => {
    const r = leader([1, 2], 0);
    r.onAppend(10, 1);
    const a = r.awaitReplication(2, 500, 1);
    const b = r.awaitReplication(4, 5_000, 1);
    expect(r.awaitReplication(5, 1, 1)).toMatchObject({ kind: 'done', error: { type: 'REQUEST_TIMED_OUT' } }); // deadline already here
    r.tick(500);
    expect(r.takeOutputs().completedProduces).toMatchObject([{ id: (a as { id: number }).id, error: { type: 'REQUEST_TIMED_OUT' } }]);
    r.awaitReplication(6, 5_000, 501);
    r.awaitReplication(8, 5_000, 501);
    r.awaitReplication(9, 5_000, 501);
    expect(r.checkProduce(-1)).toMatchObject({ type: 'REQUEST_TIMED_OUT' }); // 4 already wait
    expect(r.awaitReplication(10, 5_000, 501)).toMatchObject({ kind: 'done', error: { type: 'REQUEST_TIMED_OUT' } });
    expect(r.checkProduce(1)).toBeNull(); // acks=1 does not wait
    expectApplied(r.becomeFollower(state({ leader: 2, leaderEpoch: 2, partitionEpoch: 1 }), 600));
    const failed = r.takeOutputs().completedProduces;
    expect(failed.map((c) => c.id)).toContain((b as { id: number }).id);
    expect(failed).toHaveLength(4);
    for (const f of failed) expect(f.error).toMatchObject({ type: 'NOT_LEADER_OR_FOLLOWER', leaderId: 2 });
  });

  test('requests survive re-election of the same leader under a new epoch', () => {
    const r = leader([1, 2], 0);
    r.onAppend(3, 1);
    const w = r.awaitReplication(3, 60_000, 1);
    expectApplied(r.becomeLeader(state({ isr: [1, 2], leaderEpoch: 2, partitionEpoch: 1 }), 2));
    expect(r.takeOutputs().completedProduces).toEqual([]);
    fetch(r, 2, 3, 3, 2);
    expect(r.takeOutputs().completedProduces).toMatchObject([{ id: (w as { id: number }).id, error: null }]);
    r.stop(4);
    expect(r.awaitReplication(3, 60_000, 4)).toMatchObject({ kind: 'done', error: { type: 'NOT_LEADER_OR_FOLLOWER' } });
  });
});

describe('OffsetForLeaderEpoch on the leader', () => {
  test('answers from the epoch cache and the log end, fenced like fetches', () => {
    const r = leader([1, 2, 3], 30);
    const cache = epochs([0, 0], [1, 30]);
    expect(r.answerOffsetForLeaderEpoch(1, 0, cache)).toEqual({ ok: true, leaderEpoch: 0, endOffset: 30 });
    r.onAppend(35, 1);
    expect(r.answerOffsetForLeaderEpoch(1, 1, cache)).toEqual({ ok: true, leaderEpoch: 1, endOffset: 35 });
    expect(r.answerOffsetForLeaderEpoch(0, 0, cache)).toMatchObject({ ok: false, error: { type: 'FENCED_LEADER_EPOCH' } });
    expect(r.answerOffsetForLeaderEpoch(-1, 0, cache)).toMatchObject({ ok: true });
    // The cache must already hold this leader's epoch: otherwise epoch 0 would end at the log end.
    expect(() => r.answerOffsetForLeaderEpoch(1, 0, epochs([0, 0]))).toThrow(/assign the epoch start first/);
    const f = replica();
    expect(f.answerOffsetForLeaderEpoch(1, 0, cache)).toMatchObject({ ok: false, error: { type: 'NOT_LEADER_OR_FOLLOWER' } });
  });
});

describe('adapter misuse and time', () => {
  test('offsets that go backwards, a truncated leader and bad times are ReplicaErrors', () => {
    const r = leader([1, 2], 10);
    expect(() => r.onAppend(9, 1)).toThrow(ReplicaError);
    expect(() => r.onTruncated(5, 0, 1)).toThrow(/must not be truncated/);
    expect(() => r.tick(Number.NaN)).toThrow(/integer time/);
    expect(() => new PartitionReplica({ brokerId: -1, logStartOffset: 0, logEndOffset: 0, nowMs: 0 })).toThrow(ReplicaError);
    expect(() => new PartitionReplica({ brokerId: 1, logStartOffset: 5, logEndOffset: 2, nowMs: 0 })).toThrow(/log start/);
    expect(() => new PartitionReplica({ brokerId: 1, logStartOffset: 0, logEndOffset: 0, nowMs: 0, config: { minInsyncReplicas: 0 } })).toThrow(
      /min.insync.replicas/,
    );
  });

  test('a clock that steps back is held at the last time seen', () => {
    const r = leader([1, 2, 3], 10);
    fetch(r, 2, 10, LAG_MS * 3);
    fetch(r, 3, 10, 5); // back in time: taken as LAG_MS * 3
    expect(r.state().followers.map((f) => [f.lastFetchTimeMs, f.lastCaughtUpTimeMs])).toEqual([
      [LAG_MS * 3, LAG_MS * 3],
      [LAG_MS * 3, LAG_MS * 3],
    ]);
  });
});
