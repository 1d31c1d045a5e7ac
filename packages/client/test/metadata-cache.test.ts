// The metadata cache: what a Metadata response replaces and keeps, leader epochs that never go
// backwards, leader hints from errors, and when the next refresh is due.

import { MetadataCache } from '../src/cluster/metadata-cache.js';
import { metadataResponse } from './helpers/scripted-network.js';

const T0 = 1_000_000;

describe('MetadataCache', () => {
  test('an update replaces brokers and controller and answers leader lookups', () => {
    const c = new MetadataCache(300_000);
    c.update(
      metadataResponse({ brokers: [1, 2, 3], controller: 2, topics: { t: [{ leader: 1, replicas: [1, 2] }, { leader: 3 }, { leader: -1, error: 'LEADER_NOT_AVAILABLE' }] } }),
      T0,
      { all: false, topics: ['t'] },
    );
    expect(c.controllerId).toBe(2);
    expect(c.brokers.map((b) => b.address)).toEqual(['broker1:9092', 'broker2:9092', 'broker3:9092']);
    expect(c.partitionCount('t')).toBe(3);
    expect(c.leaderFor('t', 0)).toEqual({ leader: 1, leaderEpoch: 0 });
    expect(c.leaderFor('t', 2)).toBeUndefined();
    expect(c.availablePartitions('t')).toEqual([0, 1]);
    expect(c.partition('t', 2)?.error?.type).toBe('LEADER_NOT_AVAILABLE');

    // Broker 3 leaves: its partition has no usable leader until metadata says otherwise.
    c.update(metadataResponse({ brokers: [1, 2], controller: 1, topics: { t: [{ leader: 1 }, { leader: 3, epoch: 1 }, { leader: 2, epoch: 1 }] } }), T0 + 1, { all: false, topics: ['t'] });
    expect(c.leaderFor('t', 1)).toBeUndefined();
    expect(c.availablePartitions('t')).toEqual([0, 2]);
    expect(c.controllerId).toBe(1);
  });

  test('a requested topic missing from the response is dropped with UNKNOWN_TOPIC_OR_PARTITION; others are kept', () => {
    const c = new MetadataCache(300_000);
    c.update(metadataResponse({ brokers: [1], topics: { a: [{ leader: 1 }], b: [{ leader: 1 }] } }), T0, { all: false, topics: ['a', 'b'] });
    c.update(metadataResponse({ brokers: [1], topics: { b: [{ leader: 1 }] } }), T0 + 1, { all: false, topics: ['a'] });
    expect(c.topic('a')).toBeUndefined();
    expect(c.topicError('a')?.type).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    expect(c.topic('b')).toBeDefined();
    c.update(metadataResponse({ brokers: [1], topics: { c: [{ leader: 1 }] } }), T0 + 2, { all: true });
    expect(c.topicNames()).toEqual(['c']);
  });

  test('topic errors are kept per topic and cleared when the topic appears', () => {
    const c = new MetadataCache(300_000);
    c.update(metadataResponse({ brokers: [1], topics: { 'bad topic': { error: 'INVALID_TOPIC_EXCEPTION' }, later: { error: 'UNKNOWN_TOPIC_OR_PARTITION' } } }), T0, { all: false, topics: ['bad topic', 'later'] });
    expect(c.topicError('bad topic')?.retriable).toBe(false);
    expect(c.topicError('later')?.retriable).toBe(true);
    c.update(metadataResponse({ brokers: [1], topics: { later: [{ leader: 1 }] } }), T0 + 1, { all: false, topics: ['later'] });
    expect(c.topicError('later')).toBeUndefined();
    expect(c.partitionCount('later')).toBe(1);
  });

  test('partition metadata with an older leader epoch than the cached one is ignored (KIP-320)', () => {
    const c = new MetadataCache(300_000);
    c.update(metadataResponse({ brokers: [1, 2], topics: { t: [{ leader: 2, epoch: 5 }] } }), T0, { all: false, topics: ['t'] });
    c.update(metadataResponse({ brokers: [1, 2], topics: { t: [{ leader: 1, epoch: 4 }] } }), T0 + 1, { all: false, topics: ['t'] });
    expect(c.leaderFor('t', 0)).toEqual({ leader: 2, leaderEpoch: 5 });
    c.update(metadataResponse({ brokers: [1, 2], topics: { t: [{ leader: 1, epoch: 6 }] } }), T0 + 2, { all: false, topics: ['t'] });
    expect(c.leaderFor('t', 0)).toEqual({ leader: 1, leaderEpoch: 6 });
  });

  test('a leader hint is taken only with a newer epoch and a known broker', () => {
    const c = new MetadataCache(300_000);
    c.update(metadataResponse({ brokers: [1, 2], topics: { t: [{ leader: 1, epoch: 3 }] } }), T0, { all: false, topics: ['t'] });
    expect(c.applyLeaderHint('t', 0, 2, 3)).toBe(false);
    expect(c.applyLeaderHint('t', 0, 9, 4)).toBe(false);
    expect(c.applyLeaderHint('t', 0, 2, 4)).toBe(true);
    expect(c.leaderFor('t', 0)).toEqual({ leader: 2, leaderEpoch: 4 });
  });

  test('refresh timing: due at first, then at max age; a requested update waits out the backoff', () => {
    const c = new MetadataCache(300_000);
    expect(c.timeToNextUpdate(T0, 100)).toBe(0);
    c.update(metadataResponse({ brokers: [1] }), T0, { all: false, topics: [] });
    expect(c.timeToNextUpdate(T0, 100)).toBe(300_000);
    expect(c.timeToNextUpdate(T0 + 299_000, 100)).toBe(1_000);
    c.requestUpdate();
    expect(c.timeToNextUpdate(T0 + 40, 100)).toBe(60); // a refresh just happened: back off
    expect(c.timeToNextUpdate(T0 + 100, 100)).toBe(0);
    c.updateFailed(T0 + 100);
    expect(c.failures).toBe(1);
    expect(c.timeToNextUpdate(T0 + 150, 200)).toBe(150);
    c.update(metadataResponse({ brokers: [1] }), T0 + 400, { all: false, topics: [] });
    expect(c.failures).toBe(0);
    expect(c.updateRequested).toBe(false);
  });

  test('garbage in a response (bad ids, missing fields) does not throw', () => {
    const c = new MetadataCache(1000);
    c.update(
      {
        brokers: [{ id: -1, host: 'x', port: 1, rack: '' }, { id: 1, host: 'ok', port: 2, rack: '' }, null as never],
        controllerId: Number.NaN,
        clusterId: undefined as never,
        topics: [{ name: 't', isInternal: false, error: null, partitions: [{ partition: -3 } as never, { partition: 1, leader: 1, leaderEpoch: 0 } as never] }],
      } as never,
      T0,
      { all: true },
    );
    expect(c.brokers.map((b) => b.id)).toEqual([1]);
    expect(c.controllerId).toBe(-1);
    expect(c.partitionCount('t')).toBe(2);
    expect(c.partition('t', 0)?.leader).toBe(-1);
    expect(c.leaderFor('t', 1)).toEqual({ leader: 1, leaderEpoch: 0 });
  });
});
