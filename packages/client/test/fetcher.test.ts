// The consumer's fetch core: what it asks each leader for, how answers become records and
// positions, and how it reacts to leadership changes, out-of-range offsets, seeks, pauses and
// failures. Offset resets through ListOffsets are covered at the end.

import { MetadataCache } from '../src/cluster/metadata-cache.js';
import { Fetcher, type FetchPlan } from '../src/consumer/fetcher.js';
import { OffsetResetter } from '../src/consumer/offset-resetter.js';
import { SubscriptionState } from '../src/consumer/subscription-state.js';
import type { OffsetResetStrategy } from '../src/config/consumer-config.js';
import { KafkaError } from '../src/protocol/errors.js';
import type { FetchResponse } from '../src/protocol/wire-types.js';
import { RetryPolicy } from '../src/retry/retry-policy.js';
import { batch, offsets, values } from './helpers/batches.js';
import { metadataResponse, wireError } from './helpers/scripted-network.js';

const T0 = 5_000_000;

function setup(reset: OffsetResetStrategy = 'earliest', maxPoll = 500) {
  const metadata = new MetadataCache(300_000);
  metadata.update(metadataResponse({ brokers: [1, 2], topics: { t: [{ leader: 1, epoch: 4 }, { leader: 2, epoch: 7 }, { leader: 1, epoch: 0 }] } }), T0, { all: false, topics: ['t'] });
  const subs = new SubscriptionState(reset);
  const policy = new RetryPolicy({ retries: 1e9, backoffMs: 100, backoffMaxMs: 1000 }, () => 0.5);
  const fetcher = new Fetcher(
    { fetchMinBytes: 1, fetchMaxWaitMs: 500, fetchMaxBytes: 52_428_800, maxPartitionFetchBytes: 1_048_576, autoOffsetReset: reset },
    subs,
    metadata,
    policy,
  );
  const fatal: Error[] = [];
  const resetter = new OffsetResetter(subs, metadata, policy, (e) => fatal.push(e));
  return { metadata, subs, fetcher, resetter, fatal, maxPoll };
}

const tp = (partition: number) => ({ topic: 't', partition });

function response(parts: Record<number, { records?: Buffer; error?: string; hw?: number; leader?: [number, number] }>): FetchResponse {
  return {
    error: null,
    topics: [{
      topic: 't',
      partitions: Object.entries(parts).map(([p, r]) => ({
        partition: Number(p),
        error: r.error ? wireError(r.error, r.leader?.[0] ?? -1, r.leader?.[1] ?? -1) : null,
        highWatermark: r.hw ?? 100,
        logStartOffset: 0,
        logEndOffset: r.hw ?? 100,
        records: r.records ?? Buffer.alloc(0),
        divergingEpoch: null,
      })),
    }],
  };
}

describe('Fetcher', () => {
  test('one request per leader, with positions, size limits and the leader epoch it knows', () => {
    const { subs, fetcher } = setup();
    subs.assign([tp(0), tp(1), tp(2)]);
    subs.seek(tp(0), 10);
    subs.seek(tp(1), 20);
    subs.seek(tp(2), 30);
    const plans = fetcher.prepareFetches(T0);
    expect(plans.map((p) => [p.nodeId, p.address])).toEqual([[1, 'broker1:9092'], [2, 'broker2:9092']]);
    expect(plans[0]!.request).toEqual({
      replicaId: -1, maxWaitMs: 500, minBytes: 1, maxBytes: 52_428_800, replicaEpoch: -1,
      topics: [{ topic: 't', partitions: [
        { partition: 0, fetchOffset: 10, partitionMaxBytes: 1_048_576, currentLeaderEpoch: 4, logStartOffset: -1, lastFetchedEpoch: -1 },
        { partition: 2, fetchOffset: 30, partitionMaxBytes: 1_048_576, currentLeaderEpoch: 0, logStartOffset: -1, lastFetchedEpoch: -1 },
      ] }],
    });
    expect(fetcher.prepareFetches(T0)).toEqual([]); // one fetch in flight per broker
  });

  test('paused partitions and partitions without a position are not fetched', () => {
    const { subs, fetcher } = setup();
    subs.assign([tp(0), tp(1), tp(2)]);
    subs.seek(tp(0), 0);
    subs.seek(tp(2), 0);
    subs.pause(tp(2));
    const plans = fetcher.prepareFetches(T0);
    expect(plans.flatMap((p) => p.partitions.keys())).toEqual([tp(0)]);
  });

  test('answers become records up to max.poll.records, positions advance, and the next fetch starts after them', () => {
    const { subs, fetcher } = setup();
    subs.assign([tp(0), tp(2)]);
    subs.seek(tp(0), 0);
    subs.seek(tp(2), 5);
    const [plan] = fetcher.prepareFetches(T0);
    fetcher.onFetchOutcome(plan!, { response: response({ 0: { records: batch(0, ['a', 'b', 'c'], { partitionLeaderEpoch: 4 }), hw: 3 }, 2: { records: batch(5, ['x', 'y']), hw: 9 } }) }, T0);
    expect(fetcher.prepareFetches(T0)).toEqual([]); // both partitions have data buffered
    const first = fetcher.collect(4);
    expect(first.map((r) => `${r.partition}:${r.offset}`)).toEqual(['0:0', '0:1', '0:2', '2:5']);
    expect(subs.position(tp(0))).toEqual({ offset: 3, offsetEpoch: 4 }); // the epoch of the batch read last
    expect(subs.position(tp(2))!.offset).toBe(6);
    expect(subs.lag(tp(2))).toBe(3);
    // Partition 0 is drained: it is fetched again from 3 while 2 still has a record buffered.
    const next = fetcher.prepareFetches(T0);
    expect(next.flatMap((p) => p.request.topics.flatMap((t) => t.partitions.map((x) => [x.partition, x.fetchOffset])))).toEqual([[0, 3]]);
    expect(offsets(fetcher.collect(10))).toEqual([6]);
  });

  test('NOT_LEADER_OR_FOLLOWER asks for metadata and follows the leader hint', () => {
    const { subs, fetcher, metadata } = setup();
    subs.assign([tp(0)]);
    subs.seek(tp(0), 0);
    const [plan] = fetcher.prepareFetches(T0);
    fetcher.onFetchOutcome(plan!, { response: response({ 0: { error: 'NOT_LEADER_OR_FOLLOWER', leader: [2, 5] } }) }, T0);
    expect(metadata.updateRequested).toBe(true);
    const [again] = fetcher.prepareFetches(T0);
    expect(again!.nodeId).toBe(2);
    expect(again!.request.topics[0]!.partitions[0]!.currentLeaderEpoch).toBe(5);
    expect(fetcher.takeError()).toBeUndefined();
  });

  test('FENCED_LEADER_EPOCH (our leader epoch is old) asks for metadata and retries', () => {
    const { subs, fetcher, metadata } = setup();
    subs.assign([tp(1)]);
    subs.seek(tp(1), 0);
    const [plan] = fetcher.prepareFetches(T0);
    fetcher.onFetchOutcome(plan!, { response: response({ 1: { error: 'FENCED_LEADER_EPOCH' } }) }, T0);
    expect(metadata.updateRequested).toBe(true);
    metadata.update(metadataResponse({ brokers: [1, 2], topics: { t: [{ leader: 1, epoch: 4 }, { leader: 1, epoch: 8 }] } }), T0 + 1, { all: false, topics: ['t'] });
    const [again] = fetcher.prepareFetches(T0 + 1);
    expect([again!.nodeId, again!.request.topics[0]!.partitions[0]!.currentLeaderEpoch]).toEqual([1, 8]);
  });

  test('OFFSET_OUT_OF_RANGE resets by auto.offset.reset; with none it is an error for poll()', () => {
    const a = setup('earliest');
    a.subs.assign([tp(0)]);
    a.subs.seek(tp(0), 500);
    const [plan] = a.fetcher.prepareFetches(T0);
    a.fetcher.onFetchOutcome(plan!, { response: response({ 0: { error: 'OFFSET_OUT_OF_RANGE' } }) }, T0);
    expect(a.subs.position(tp(0))).toBeNull();
    expect(a.subs.pendingReset(tp(0))).toBe('earliest');

    const b = setup('none');
    b.subs.assign([tp(0)]);
    b.subs.seek(tp(0), 500);
    const [planB] = b.fetcher.prepareFetches(T0);
    b.fetcher.onFetchOutcome(planB!, { response: response({ 0: { error: 'OFFSET_OUT_OF_RANGE' } }) }, T0);
    const err = b.fetcher.takeError() as KafkaError;
    expect(err.type).toBe('OFFSET_OUT_OF_RANGE');
    expect(err.message).toContain('500');
    expect(b.subs.position(tp(0))!.offset).toBe(500);
  });

  test('an answer for a position the application has seeked away from is dropped', () => {
    const { subs, fetcher } = setup();
    subs.assign([tp(0)]);
    subs.seek(tp(0), 0);
    const [plan] = fetcher.prepareFetches(T0);
    subs.seek(tp(0), 50);
    fetcher.onFetchOutcome(plan!, { response: response({ 0: { records: batch(0, ['old']) } }) }, T0);
    expect(fetcher.collect(10)).toEqual([]);
    expect(subs.position(tp(0))!.offset).toBe(50);
  });

  test('a seek discards buffered records and the next fetch starts at the new position', () => {
    const { subs, fetcher } = setup();
    subs.assign([tp(0)]);
    subs.seek(tp(0), 0);
    const [plan] = fetcher.prepareFetches(T0);
    fetcher.onFetchOutcome(plan!, { response: response({ 0: { records: batch(0, ['a', 'b']) } }) }, T0);
    subs.seek(tp(0), 40);
    const [again] = fetcher.prepareFetches(T0);
    expect(again!.request.topics[0]!.partitions[0]!.fetchOffset).toBe(40);
    expect(fetcher.hasBuffered(tp(0))).toBe(false);
    expect(fetcher.collect(10)).toEqual([]);
  });

  test('records of a paused partition stay buffered until it is resumed', () => {
    const { subs, fetcher } = setup();
    subs.assign([tp(0)]);
    subs.seek(tp(0), 0);
    const [plan] = fetcher.prepareFetches(T0);
    fetcher.onFetchOutcome(plan!, { response: response({ 0: { records: batch(0, ['a']) } }) }, T0);
    subs.pause(tp(0));
    expect(fetcher.collect(10)).toEqual([]);
    subs.resume(tp(0));
    expect(values(fetcher.collect(10))).toEqual(['a']);
  });

  test('a failed fetch backs the broker off and asks for metadata when the connection dropped', () => {
    const { subs, fetcher, metadata } = setup();
    subs.assign([tp(0)]);
    subs.seek(tp(0), 0);
    const [plan] = fetcher.prepareFetches(T0);
    fetcher.onFetchOutcome(plan!, { error: new KafkaError('NETWORK_EXCEPTION') }, T0);
    expect(metadata.updateRequested).toBe(true);
    expect(fetcher.prepareFetches(T0 + 99)).toEqual([]);
    expect(fetcher.nextRetryMs()).toBe(T0 + 100);
    expect(fetcher.prepareFetches(T0 + 100)).toHaveLength(1);
  });

  test('a non-retriable partition error reaches poll()', () => {
    const { subs, fetcher } = setup();
    subs.assign([tp(0)]);
    subs.seek(tp(0), 0);
    const [plan] = fetcher.prepareFetches(T0);
    fetcher.onFetchOutcome(plan!, { response: response({ 0: { error: 'INVALID_REQUEST' } }) }, T0);
    expect((fetcher.takeError() as KafkaError).type).toBe('INVALID_REQUEST');
  });

  test('a corrupt batch in one partition does not lose records collected from another', () => {
    const { subs, fetcher } = setup();
    subs.assign([tp(0), tp(2)]);
    subs.seek(tp(0), 0);
    subs.seek(tp(2), 0);
    const bad = batch(0, ['x']);
    bad[bad.length - 1] ^= 1;
    const [plan] = fetcher.prepareFetches(T0);
    fetcher.onFetchOutcome(plan!, { response: response({ 0: { records: batch(0, ['good']) }, 2: { records: bad } }) }, T0);
    expect(values(fetcher.collect(10))).toEqual(['good']);
    expect(() => fetcher.collect(10)).toThrow(KafkaError);
    subs.seek(tp(2), 1);
    expect(fetcher.collect(10)).toEqual([]);
  });

  test('buffered data of unassigned partitions is dropped', () => {
    const { subs, fetcher } = setup();
    subs.assign([tp(0)]);
    subs.seek(tp(0), 0);
    const [plan] = fetcher.prepareFetches(T0);
    fetcher.onFetchOutcome(plan!, { response: response({ 0: { records: batch(0, ['a']) } }) }, T0);
    subs.assign([tp(2)]);
    fetcher.onAssignmentChange();
    expect(fetcher.hasBuffered(tp(0))).toBe(false);
  });
});

describe('OffsetResetter', () => {
  test('ListOffsets per leader with earliest (-2) / latest (-1); answers set the position', () => {
    const { subs, resetter } = setup();
    subs.assign([tp(0), tp(1), tp(2)]);
    subs.requestReset(tp(0), 'earliest');
    subs.requestReset(tp(1), 'latest');
    subs.requestReset(tp(2), 'latest');
    const plans = resetter.prepare(T0);
    expect(plans.map((p) => [p.nodeId, p.request.topics[0]!.partitions.map((x) => [x.partition, x.timestamp, x.currentLeaderEpoch])])).toEqual([
      [1, [[0, -2, 4], [2, -1, 0]]],
      [2, [[1, -1, 7]]],
    ]);
    expect(resetter.prepare(T0)).toEqual([]); // in flight
    resetter.onOutcome(plans[0]!, { response: { topics: [{ topic: 't', partitions: [
      { partition: 0, error: null, timestamp: -1, offset: 3, leaderEpoch: 4 },
      { partition: 2, error: null, timestamp: -1, offset: 90, leaderEpoch: 0 },
    ] }] } }, T0);
    expect(subs.position(tp(0))).toEqual({ offset: 3, offsetEpoch: 4 });
    expect(subs.position(tp(2))!.offset).toBe(90);
    expect(subs.position(tp(1))).toBeNull();
  });

  test('a failed reset backs off and asks for metadata; a seek meanwhile wins', () => {
    const { subs, resetter, metadata } = setup();
    subs.assign([tp(0), tp(2)]);
    subs.requestReset(tp(0), 'earliest');
    subs.requestReset(tp(2), 'earliest');
    const [plan] = resetter.prepare(T0);
    subs.seek(tp(2), 77);
    resetter.onOutcome(plan!, { response: { topics: [{ topic: 't', partitions: [
      { partition: 0, error: wireError('NOT_LEADER_OR_FOLLOWER'), timestamp: -1, offset: -1, leaderEpoch: -1 },
      { partition: 2, error: null, timestamp: -1, offset: 0, leaderEpoch: 0 },
    ] }] } }, T0);
    expect(metadata.updateRequested).toBe(true);
    expect(subs.position(tp(2))!.offset).toBe(77);
    expect(resetter.prepare(T0 + 50)).toEqual([]);
    expect(subs.nextResetRetryMs()).toBe(T0 + 100);
    expect(resetter.prepare(T0 + 100)).toHaveLength(1);
  });

  test('a transport failure or a missing partition is retried; a fatal error is reported', () => {
    const { subs, resetter, fatal } = setup();
    subs.assign([tp(0)]);
    subs.requestReset(tp(0), 'latest');
    const [p1] = resetter.prepare(T0);
    resetter.onOutcome(p1!, { error: new KafkaError('REQUEST_TIMED_OUT') }, T0);
    const [p2] = resetter.prepare(T0 + 100);
    resetter.onOutcome(p2!, { response: { topics: [] } }, T0 + 100);
    expect(fatal).toEqual([]);
    const [p3] = resetter.prepare(T0 + 1000);
    resetter.onOutcome(p3!, { response: { topics: [{ topic: 't', partitions: [{ partition: 0, error: wireError('INVALID_REQUEST'), timestamp: -1, offset: -1, leaderEpoch: -1 }] }] } }, T0 + 1000);
    expect(fatal.map((e) => (e as KafkaError).type)).toEqual(['INVALID_REQUEST']);
  });
});

describe('SubscriptionState', () => {
  test('reassignment keeps kept partitions and their positions, drops the others', () => {
    const subs = new SubscriptionState('latest');
    subs.assign([tp(0), tp(1)]);
    subs.seek(tp(0), 5);
    subs.pause(tp(0));
    const change = subs.assign([tp(0), tp(2)]);
    expect(change).toEqual({ added: [tp(2)], removed: [tp(1)] });
    expect(subs.position(tp(0))!.offset).toBe(5);
    expect(subs.isPaused(tp(0))).toBe(true);
    expect(subs.partitionsWithoutPosition()).toEqual([tp(2)]);
    expect(() => subs.position(tp(1))).toThrow(/No current assignment/);
  });

  test('a completed reset is ignored once the partition was seeked or reset differently', () => {
    const subs = new SubscriptionState('latest');
    subs.assign([tp(0)]);
    subs.requestReset(tp(0), 'earliest');
    subs.requestReset(tp(0), 'latest');
    expect(subs.completeReset(tp(0), 'earliest', 0)).toBe(false);
    expect(subs.completeReset(tp(0), 'latest', 9)).toBe(true);
    expect(subs.position(tp(0))!.offset).toBe(9);
  });

  test('advance() moves the position only from the expected offset', () => {
    const subs = new SubscriptionState('latest');
    subs.assign([tp(0)]);
    subs.seek(tp(0), 3);
    expect(subs.advance(tp(0), 2, { offset: 9, offsetEpoch: 0 })).toBe(false);
    expect(subs.advance(tp(0), 3, { offset: 9, offsetEpoch: 0 })).toBe(true);
    expect(subs.position(tp(0))!.offset).toBe(9);
  });

  test('plans reference only assigned partitions', () => {
    const { subs, fetcher } = setup();
    subs.assign([tp(0)]);
    subs.seek(tp(0), 0);
    const plans: FetchPlan[] = fetcher.prepareFetches(T0);
    expect(plans).toHaveLength(1);
  });
});
