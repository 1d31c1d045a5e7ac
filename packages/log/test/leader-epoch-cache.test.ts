// The leader-epoch cache: assignment rules, OffsetForLeaderEpoch answers, trimming, persistence.

import fs from 'node:fs';
import path from 'node:path';
import { LEADER_EPOCH_CHECKPOINT_FILE, LeaderEpochFileCache, UNDEFINED_EPOCH } from '../src/leader-epoch-cache.js';
import { cleanupTempDirs, expectLogError, tempDir } from './log-test-helpers.js';

afterEach(cleanupTempDirs);

function cacheWith(entries: [number, number][]): { cache: LeaderEpochFileCache; dir: string } {
  const dir = tempDir();
  const cache = LeaderEpochFileCache.open(dir);
  for (const [e, o] of entries) cache.assign(e, o);
  return { cache, dir };
}

describe('LeaderEpochFileCache', () => {
  test('assign keeps epochs and start offsets increasing and ignores stale epochs', () => {
    const { cache } = cacheWith([]);
    expect(cache.latestEpoch()).toBeUndefined();
    expect(cache.assign(1, 0)).toBe(true);
    expect(cache.assign(1, 5)).toBe(false); // the same epoch again, later: already known
    expect(cache.assign(3, 10)).toBe(true);
    expect(cache.assign(2, 12)).toBe(false); // stale
    expect(cache.epochEntries()).toEqual([{ epoch: 1, startOffset: 0 }, { epoch: 3, startOffset: 10 }]);
    // A newer epoch at an earlier offset contradicts the entries at or past that offset.
    expect(cache.assign(4, 10)).toBe(true);
    expect(cache.epochEntries()).toEqual([{ epoch: 1, startOffset: 0 }, { epoch: 4, startOffset: 10 }]);
    expect(cache.latestEntry()).toEqual({ epoch: 4, startOffset: 10 });
    expectLogError(() => cache.assign(-1, 0), 'INVALID_ARGUMENT');
    expectLogError(() => cache.assign(5, -1), 'INVALID_ARGUMENT');
  });

  test('endOffsetFor answers OffsetForLeaderEpoch like Kafka', () => {
    const { cache } = cacheWith([[1, 0], [3, 100], [6, 250]]);
    const leo = 300;
    expect(cache.endOffsetFor(6, leo)).toEqual([6, 300]); // the latest epoch ends at the log end
    expect(cache.endOffsetFor(3, leo)).toEqual([3, 250]); // ends where the next one starts
    expect(cache.endOffsetFor(4, leo)).toEqual([3, 250]); // unknown: the largest epoch below it
    expect(cache.endOffsetFor(5, leo)).toEqual([3, 250]);
    expect(cache.endOffsetFor(1, leo)).toEqual([1, 100]);
    expect(cache.endOffsetFor(0, leo)).toEqual([0, 0]); // older than all: the first start offset
    expect(cache.endOffsetFor(7, leo)).toEqual([UNDEFINED_EPOCH, -1]); // newer than all
    expect(cache.endOffsetFor(UNDEFINED_EPOCH, leo)).toEqual([UNDEFINED_EPOCH, -1]);
    expect(cache.epochForOffset(99)).toBe(1);
    expect(cache.epochForOffset(100)).toBe(3);
  });

  test('truncateFromEnd drops epochs starting at or past the new end', () => {
    const { cache } = cacheWith([[1, 0], [3, 100], [6, 250]]);
    cache.truncateFromEnd(251);
    expect(cache.latestEpoch()).toBe(6);
    cache.truncateFromEnd(250);
    expect(cache.epochEntries()).toEqual([{ epoch: 1, startOffset: 0 }, { epoch: 3, startOffset: 100 }]);
    cache.truncateFromEnd(0);
    expect(cache.epochEntries()).toEqual([]);
  });

  test('truncateFromStart drops epochs wholly before the new start and moves the one holding it', () => {
    const { cache } = cacheWith([[1, 0], [3, 100], [6, 250]]);
    cache.truncateFromStart(50);
    expect(cache.epochEntries()).toEqual([{ epoch: 1, startOffset: 50 }, { epoch: 3, startOffset: 100 }, { epoch: 6, startOffset: 250 }]);
    cache.truncateFromStart(260);
    expect(cache.epochEntries()).toEqual([{ epoch: 6, startOffset: 260 }]);
    cache.truncateFromStart(10); // before the first entry: nothing changes
    expect(cache.epochEntries()).toEqual([{ epoch: 6, startOffset: 260 }]);
  });

  test('every change is persisted in leader-epoch-checkpoint and reloads', () => {
    const { cache, dir } = cacheWith([[1, 0], [3, 100]]);
    expect(fs.readFileSync(path.join(dir, LEADER_EPOCH_CHECKPOINT_FILE), 'utf8')).toBe('0\n2\n1 0\n3 100\n');
    cache.truncateFromStart(20);
    expect(LeaderEpochFileCache.open(dir).epochEntries()).toEqual([{ epoch: 1, startOffset: 20 }, { epoch: 3, startOffset: 100 }]);
    cache.clear();
    expect(LeaderEpochFileCache.open(dir).epochEntries()).toEqual([]);
  });

  test('a checkpoint whose entries do not increase is CORRUPT_CHECKPOINT', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, LEADER_EPOCH_CHECKPOINT_FILE), '0\n2\n3 100\n2 200\n');
    expectLogError(() => LeaderEpochFileCache.open(dir), 'CORRUPT_CHECKPOINT');
    fs.writeFileSync(path.join(dir, LEADER_EPOCH_CHECKPOINT_FILE), '0\n1\n3 x\n');
    expectLogError(() => LeaderEpochFileCache.open(dir), 'CORRUPT_CHECKPOINT');
  });
});
