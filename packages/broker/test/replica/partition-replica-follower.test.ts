// PartitionReplica as a follower: the fetch protocol (truncate by leader epoch, then fetch),
// stale responses, fencing, out-of-range recovery, and the follower high watermark.

import { KafkaError } from '@samsa/client';
import { epochs, expectApplied, expectRejected, leader, replica, state } from './replica-test-helpers.js';

describe('following a leader', () => {
  test('truncates by leader epoch before it fetches, then fetches from its log end', () => {
    const r = replica({ logEndOffset: 12, highWatermark: 8 });
    const cache = epochs([0, 0], [2, 9]);
    expect(r.nextFollowerStep(cache)).toBeNull(); // offline
    expect(expectApplied(r.becomeFollower(state({ leader: 2, leaderEpoch: 3 }), 0))).toEqual({ kind: 'applied', isNewLeaderEpoch: true, assignEpochStart: null });
    expect(r.nextFollowerStep(cache)).toEqual({ kind: 'offset-for-leader-epoch', leaderId: 2, currentLeaderEpoch: 3, requestedEpoch: 2 });
    expect(r.acceptsFetchResponse(3, 12)).toBe(false); // not fetching yet
    const decision = r.onOffsetForLeaderEpochAnswer(3, 2, { leaderEpoch: 2, endOffset: 10 }, cache);
    expect(decision).toEqual({ offset: 10, complete: true, rule: 'matching-epoch' });
    expect(r.nextFollowerStep(cache)).toEqual({ kind: 'truncate', offset: 10, complete: true });
    expect(r.nextFollowerStep(cache)).toEqual({ kind: 'truncate', offset: 10, complete: true }); // until it is done
    r.onTruncated(10, 0, 1);
    expect(r.state()).toMatchObject({ logEndOffset: 10, highWatermark: 8, followerPhase: 'fetching' });
    expect(r.nextFollowerStep(cache)).toEqual({ kind: 'fetch', leaderId: 2, currentLeaderEpoch: 3, fetchOffset: 10, lastFetchedEpoch: 2, logStartOffset: 0 });
    expect(r.acceptsFetchResponse(3, 10)).toBe(true);
    r.onAppend(14, 2);
    r.onLeaderHighWatermark(20, 2);
    expect(r.state()).toMatchObject({ logEndOffset: 14, highWatermark: 14 });
    expect(r.takeOutputs().highWatermark).toBe(14);
    expect(r.acceptsFetchResponse(3, 10)).toBe(false); // a response to the fetch from 10 is stale now
  });

  test('an incomplete decision (KIP-279) truncates, then asks again with the epoch left', () => {
    const r = replica({ logEndOffset: 12, highWatermark: 3 });
    expectApplied(r.becomeFollower(state({ leader: 2, leaderEpoch: 6 }), 0));
    let cache = epochs([0, 0], [2, 5], [4, 8]);
    expect(r.onOffsetForLeaderEpochAnswer(6, 4, { leaderEpoch: 3, endOffset: 9 }, cache)).toMatchObject({ offset: 8, complete: false });
    r.onTruncated(8, 0, 1);
    cache = epochs([0, 0], [2, 5]);
    expect(r.state().followerPhase).toBe('truncating');
    expect(r.nextFollowerStep(cache)).toMatchObject({ kind: 'offset-for-leader-epoch', requestedEpoch: 2 });
    // A duplicate of the first answer (about epoch 4) arrives late: ignored.
    expect(r.onOffsetForLeaderEpochAnswer(6, 4, { leaderEpoch: 3, endOffset: 9 }, cache)).toBeNull();
    expect(r.onOffsetForLeaderEpochAnswer(6, 2, { leaderEpoch: 1, endOffset: 7 }, cache)).toMatchObject({ offset: 5, complete: false });
    r.onTruncated(5, 0, 2);
    cache = epochs([0, 0]);
    expect(r.onOffsetForLeaderEpochAnswer(6, 0, { leaderEpoch: 0, endOffset: 5 }, cache)).toMatchObject({ offset: 5, complete: true });
    r.onTruncated(5, 0, 3);
    expect(r.nextFollowerStep(cache)).toMatchObject({ kind: 'fetch', fetchOffset: 5 });
    expect(r.state().highWatermark).toBe(3);
  });

  test('a replica without epochs (an empty log) cuts to its high watermark without asking', () => {
    const r = replica({ logStartOffset: 7, logEndOffset: 7, highWatermark: 7 });
    expectApplied(r.becomeFollower(state({ leader: 3, leaderEpoch: 1 }), 0));
    expect(r.nextFollowerStep([])).toEqual({ kind: 'truncate', offset: 7, complete: true });
    r.onTruncated(7, 7, 1);
    expect(r.nextFollowerStep([])).toMatchObject({ kind: 'fetch', fetchOffset: 7, lastFetchedEpoch: -1 });
  });

  test('stale answers are ignored; FENCED_LEADER_EPOCH idles the follower until a new LeaderAndIsr', () => {
    const r = replica({ logEndOffset: 4 });
    const cache = epochs([0, 0]);
    expectApplied(r.becomeFollower(state({ leader: 2, leaderEpoch: 3 }), 0));
    expect(r.onOffsetForLeaderEpochAnswer(2, 0, { leaderEpoch: 0, endOffset: 1 }, cache)).toBeNull(); // asked under epoch 2
    expect(r.onOffsetForLeaderEpochAnswer(3, 0, new KafkaError('UNKNOWN_LEADER_EPOCH'), cache)).toBeNull();
    expect(r.nextFollowerStep(cache)).toMatchObject({ kind: 'offset-for-leader-epoch' }); // retry after a backoff
    expect(r.onOffsetForLeaderEpochAnswer(3, 0, new KafkaError('FENCED_LEADER_EPOCH'), cache)).toBeNull();
    expect(r.nextFollowerStep(cache)).toBeNull();
    expectApplied(r.becomeFollower(state({ leader: 3, leaderEpoch: 4 }), 1));
    expect(r.nextFollowerStep(cache)).toMatchObject({ kind: 'offset-for-leader-epoch', leaderId: 3, currentLeaderEpoch: 4 });
  });

  test('fetch errors: fenced idles; out of range below the leader start restarts there, past its end cuts there, else truncates by epoch', () => {
    const cache = epochs([0, 0]);
    const start = (): ReturnType<typeof replica> => {
      const r = replica({ logEndOffset: 4, highWatermark: 2 });
      expectApplied(r.becomeFollower(state({ leader: 2, leaderEpoch: 1 }), 0));
      r.onOffsetForLeaderEpochAnswer(1, 0, { leaderEpoch: 0, endOffset: 4 }, cache);
      r.onTruncated(4, 0, 0);
      return r;
    };
    const leaderOffsets = (logStartOffset: number, logEndOffset: number) => ({ logStartOffset, logEndOffset });
    const fenced = start();
    fenced.onFetchError(0, 4, new KafkaError('FENCED_LEADER_EPOCH'), leaderOffsets(0, 9)); // a stale response: ignored
    expect(fenced.nextFollowerStep(cache)).toMatchObject({ kind: 'fetch' });
    fenced.onFetchError(1, 4, new KafkaError('FENCED_LEADER_EPOCH'), leaderOffsets(0, 9));
    expect(fenced.nextFollowerStep(cache)).toBeNull();

    const behind = start();
    behind.onFetchError(1, 4, new KafkaError('OFFSET_OUT_OF_RANGE'), leaderOffsets(50, 60));
    expect(behind.nextFollowerStep(cache)).toEqual({ kind: 'truncate-fully', startOffset: 50 });
    expect(() => behind.onTruncated(4, 0, 1)).toThrow(/asked for 50/);
    behind.onTruncated(50, 50, 1);
    expect(behind.state()).toMatchObject({ logStartOffset: 50, logEndOffset: 50, highWatermark: 50, followerPhase: 'fetching' });

    const ahead = start();
    ahead.onFetchError(1, 4, new KafkaError('OFFSET_OUT_OF_RANGE'), leaderOffsets(0, 3));
    expect(ahead.nextFollowerStep(cache)).toEqual({ kind: 'truncate', offset: 3, complete: false });
    ahead.onTruncated(3, 0, 1);
    expect(ahead.nextFollowerStep(cache)).toMatchObject({ kind: 'offset-for-leader-epoch', requestedEpoch: 0 });

    const startOnly = start(); // only the leader's log start: truncate by epoch again
    startOnly.onFetchError(1, 4, new KafkaError('OFFSET_OUT_OF_RANGE'), 0);
    expect(startOnly.nextFollowerStep(cache)).toMatchObject({ kind: 'offset-for-leader-epoch' });

    const inRange = start();
    inRange.onFetchError(1, 4, new KafkaError('OFFSET_OUT_OF_RANGE'), leaderOffsets(0, 9));
    expect(inRange.nextFollowerStep(cache)).toMatchObject({ kind: 'offset-for-leader-epoch' });

    const busy = start();
    busy.onFetchError(1, 4, new KafkaError('NOT_LEADER_OR_FOLLOWER'), leaderOffsets(0, 9));
    expect(busy.nextFollowerStep(cache)).toMatchObject({ kind: 'fetch' });
  });

  test('the follower HW is min(leader HW, own log end) and may go down under a new leader', () => {
    const r = replica({ logEndOffset: 10, highWatermark: 9 });
    expectApplied(r.becomeFollower(state({ leader: 2, leaderEpoch: 1 }), 0));
    r.onLeaderHighWatermark(6, 1); // the new leader's HW lags the old one's
    expect(r.state().highWatermark).toBe(6);
    r.onLeaderHighWatermark(30, 2);
    expect(r.state().highWatermark).toBe(10);
    const l = leader([1, 2], 5);
    l.onLeaderHighWatermark(1, 1); // not a follower: ignored
    expect(l.state().highWatermark).toBe(0);
  });

  test('a leader that becomes a follower fails its acks=all requests, naming the new leader', () => {
    const r = leader([1, 2], 0);
    r.onAppend(5, 1);
    r.awaitReplication(5, 60_000, 1);
    expectApplied(r.becomeFollower(state({ leader: 3, leaderEpoch: 2, partitionEpoch: 1 }), 2));
    const out = r.takeOutputs();
    expect(out.completedProduces).toHaveLength(1);
    expect(out.completedProduces[0]!.error).toMatchObject({ type: 'NOT_LEADER_OR_FOLLOWER', leaderId: 3 });
    expect(r.state()).toMatchObject({ role: 'follower', followers: [], pendingProduces: 0, leaderEpochStartOffset: -1 });
  });

  test('same leader epoch: a newer partition epoch updates the ISR, a different leader is refused; no leader idles', () => {
    const r = replica();
    expectApplied(r.becomeFollower(state({ leader: 2, leaderEpoch: 3, isr: [1, 2, 3] }), 0));
    expect(r.becomeFollower(state({ leader: 2, leaderEpoch: 3, isr: [1, 2, 3] }), 0)).toEqual({ kind: 'unchanged' });
    expect(expectApplied(r.becomeFollower(state({ leader: 2, leaderEpoch: 3, partitionEpoch: 1, isr: [2, 3] }), 0)).isNewLeaderEpoch).toBe(false);
    expect(r.state().isr).toEqual([2, 3]);
    expectRejected(r.becomeFollower(state({ leader: 3, leaderEpoch: 3, partitionEpoch: 2 }), 0), 'FENCED_LEADER_EPOCH');
    expectRejected(r.becomeFollower(state({ leader: 1, leaderEpoch: 4 }), 0), 'INVALID_REQUEST');
    expectRejected(r.becomeFollower(state({ leader: 2, leaderEpoch: 4, isr: [3] }), 0), 'INVALID_REQUEST');
    expectApplied(r.becomeFollower(state({ leader: -1, leaderEpoch: 4, partitionEpoch: 2, isr: [2] }), 0));
    expect(r.nextFollowerStep(epochs([0, 0]))).toBeNull();
  });

  test('stop() takes the replica offline and keeps its epochs', () => {
    const r = leader([1, 2], 3);
    r.awaitReplication(3, 60_000, 1);
    r.stop(2);
    expect(r.takeOutputs().completedProduces[0]!.error).toMatchObject({ type: 'NOT_LEADER_OR_FOLLOWER', leaderId: -1 });
    expect(r.state()).toMatchObject({ role: 'offline', leaderEpoch: 1, leaderId: -1 });
    expectRejected(r.becomeLeader(state(), 3), 'FENCED_LEADER_EPOCH');
    expectApplied(r.becomeLeader(state({ leaderEpoch: 2, partitionEpoch: 1 }), 3));
  });
});
