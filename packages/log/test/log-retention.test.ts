// Retention by time and size, DeleteRecords, truncation (to an offset, fully) and what survives a
// reopen afterwards.

import fs from 'node:fs';
import path from 'node:path';
import { LOG_START_OFFSET_CHECKPOINT_FILE, OffsetCheckpointFile, topicPartitionKey } from '../src/checkpoint.js';
import { CLEAN_SHUTDOWN_MARKER } from '../src/recovery.js';
import {
  ManualClock, cleanupTempDirs, config, expectLogError, makeBatch, openLog, readAllRecords, tempDir,
} from './log-test-helpers.js';

afterEach(cleanupTempDirs);

const DAY = 24 * 60 * 60 * 1000;

/** Appends `n` batches of 4 records, one per "hour" of record time from `start`, epochs 1 then 2. */
function fill(log: ReturnType<typeof openLog>, n: number, start: number): void {
  for (let i = 0; i < n; i++) {
    log.append(makeBatch({ records: 4, valueBytes: 50, timestamp: start + i * 3_600_000 }), { assignOffsets: true, leaderEpoch: i < n / 2 ? 1 : 2 });
  }
}

function logFiles(dir: string): string[] {
  return fs.readdirSync(dir).filter((n) => n.endsWith('.log')).sort();
}

describe('retention', () => {
  test('by time: segments whose largest timestamp is older than retention.ms go, oldest first, never the active one', () => {
    const clock = new ManualClock();
    const dir = tempDir();
    const moves: number[] = [];
    const log = openLog(dir, {
      clock: clock.read,
      config: config({ 'segment.bytes': 1200, 'retention.ms': DAY }),
      onLogStartOffsetChange: (o) => {
        // Called before any file goes: the oldest segment file, below the new start, is still there.
        expect(Number(logFiles(dir)[0]!.slice(0, 20))).toBeLessThan(o);
        moves.push(o);
      },
    });
    fill(log, 24, clock.now - 23 * 3_600_000); // record times from 23 hours ago to now
    const bases = log.segmentBaseOffsets();
    expect(bases.length).toBeGreaterThan(4);
    expect(log.applyRetention()).toMatchObject({ segmentsDeleted: 0 });

    // 6 hours later, the first 5 batches are older than a day. The segments made only of them
    // go (the longest such prefix); the first one still holding a younger record stays.
    clock.advance(6 * 3_600_000);
    const records = readAllRecords(log);
    const timestamps = new Map(records.map((r) => [r.offset, r.timestamp]));
    const maxTimestampOf = (i: number) =>
      Math.max(...records.filter((r) => r.offset >= bases[i]! && (i + 1 >= bases.length || r.offset < bases[i + 1]!)).map((r) => r.timestamp));
    let expectedDeleted = 0;
    while (expectedDeleted < bases.length - 1 && clock.now - maxTimestampOf(expectedDeleted) > DAY) expectedDeleted++;
    expect(expectedDeleted).toBeGreaterThan(0);
    const r = log.applyRetention();
    expect(r.segmentsDeleted).toBe(expectedDeleted);
    expect(log.segmentBaseOffsets()).toEqual(bases.slice(expectedDeleted));
    expect(log.logStartOffset).toBe(bases[expectedDeleted]);
    expect(moves).toEqual([log.logStartOffset]);
    expect(clock.now - timestamps.get(log.logStartOffset)!).toBeGreaterThan(DAY - 4 * 3_600_000);
    expect(log.leaderEpochCache.earliestEntry()!.startOffset).toBeGreaterThanOrEqual(log.logStartOffset);

    // Much later, everything is expired, but the active segment stays.
    clock.advance(30 * DAY);
    log.applyRetention();
    expect(log.segmentBaseOffsets()).toEqual([bases[bases.length - 1]]);
    expect(logFiles(dir)).toHaveLength(1);
    expect(log.read(log.logStartOffset, 1 << 20).batchCount).toBeGreaterThan(0);
    log.close();
  });

  test('by time, after a clean restart: each segment\'s largest timestamp comes back from its indexes, as after a full rebuild', () => {
    const clock = new ManualClock();
    const dir = tempDir();
    const log = openLog(dir, { clock: clock.read, config: config({ 'segment.bytes': 1200, 'retention.ms': DAY }) });
    fill(log, 24, clock.now - 23 * 3_600_000);
    const before = new ManualClock(clock.now + 6 * 3_600_000);
    const expected = (() => {
      const probe = openLogCopy(dir, before);
      expect(probe.applyRetention().segmentsDeleted).toBeGreaterThan(0);
      const bases = probe.segmentBaseOffsets();
      probe.close();
      return bases;
    })();
    log.close();
    const reopened = openLog(dir, { clock: before.read, config: config({ 'segment.bytes': 1200, 'retention.ms': DAY }) });
    reopened.applyRetention();
    expect(reopened.segmentBaseOffsets()).toEqual(expected);
    reopened.close();

    function openLogCopy(src: string, c: ManualClock) {
      const copy = tempDir();
      for (const n of fs.readdirSync(src)) fs.copyFileSync(path.join(src, n), path.join(copy, n));
      // The copy is taken while `log` is open: recover it like after a crash.
      fs.rmSync(path.join(copy, CLEAN_SHUTDOWN_MARKER), { force: true });
      return openLog(copy, { clock: c.read, config: config({ 'segment.bytes': 1200, 'retention.ms': DAY }) });
    }
  });

  test('by size: the oldest segments go while the log stays at or above retention.bytes', () => {
    const log = openLog(tempDir(), { config: config({ 'segment.bytes': 1000, 'retention.ms': -1 }) });
    fill(log, 30, Date.UTC(2026, 0, 1));
    const sizes = () => log.segmentBaseOffsets().length;
    const total = log.size;
    const segments = sizes();
    log.updateConfig(config({ 'segment.bytes': 1000, 'retention.ms': -1, 'retention.bytes': Math.floor(total / 2) }));
    const r = log.applyRetention();
    expect(r.segmentsDeleted).toBeGreaterThan(0);
    expect(log.size).toBeGreaterThanOrEqual(Math.floor(total / 2));
    expect(log.size).toBeLessThan(Math.floor(total / 2) + 1000);
    expect(sizes()).toBe(segments - r.segmentsDeleted);
    expect(r.bytesDeleted).toBe(total - log.size);
    log.close();
  });

  test('never deletes a segment holding offsets at or past the high watermark', () => {
    const log = openLog(tempDir(), { config: config({ 'segment.bytes': 1000, 'retention.bytes': 0 }) });
    fill(log, 20, Date.UTC(2026, 0, 1));
    const bases = log.segmentBaseOffsets();
    log.applyRetention(bases[2]!);
    expect(log.segmentBaseOffsets()[0]).toBe(bases[2]);
    log.applyRetention(bases[2]! + 1);
    expect(log.segmentBaseOffsets()[0]).toBe(bases[2]);
    log.applyRetention();
    expect(log.segmentBaseOffsets()).toEqual([bases[bases.length - 1]]);
    log.close();
  });
});

describe('deleteRecordsBefore', () => {
  test('moves the log start offset (checkpointed first) and deletes the segments wholly below it', () => {
    const dir = tempDir();
    const checkpoint = new OffsetCheckpointFile(path.join(tempDir(), LOG_START_OFFSET_CHECKPOINT_FILE));
    const key = topicPartitionKey('orders', 3);
    const persist = (o: number) => checkpoint.write(new Map([[key, o]]));
    const log = openLog(dir, { config: config({ 'segment.bytes': 1000 }), onLogStartOffsetChange: persist });
    fill(log, 20, Date.UTC(2026, 0, 1));
    const bases = log.segmentBaseOffsets();
    const target = bases[2]! + 2; // inside the third segment
    expect(log.deleteRecordsBefore(target)).toBe(target);
    expect(log.segmentBaseOffsets()).toEqual(bases.slice(2));
    expect(checkpoint.read().get(key)).toBe(target);
    expectLogError(() => log.read(target - 1, 100), 'OFFSET_OUT_OF_RANGE');
    expect(log.read(target, 100).firstOffset).toBeLessThanOrEqual(target);
    expect(log.deleteRecordsBefore(target - 1)).toBe(target); // never backwards
    expectLogError(() => log.deleteRecordsBefore(log.logEndOffset + 1), 'OFFSET_OUT_OF_RANGE');
    log.close();

    // After a restart the broker passes the checkpointed value back.
    const reopened = openLog(dir, { config: config({ 'segment.bytes': 1000 }), logStartOffset: checkpoint.read().get(key)! });
    expect(reopened.logStartOffset).toBe(target);
    expectLogError(() => reopened.read(target - 1, 100), 'OFFSET_OUT_OF_RANGE');
    const first = reopened.read(target, 1);
    expect(first.firstOffset).toBeLessThanOrEqual(target);
    expect(first.lastOffset).toBeGreaterThanOrEqual(target);
    // Up to the log end: only the active segment remains, and it is empty of readable records.
    const leo = reopened.logEndOffset;
    reopened.deleteRecordsBefore(leo);
    expect(reopened.segmentCount).toBe(1);
    expect(reopened.read(leo, 100).batchCount).toBe(0);
    reopened.close();
  });
});

describe('truncation', () => {
  test('truncateTo across segment boundaries drops later segments and the batch holding the offset', () => {
    const dir = tempDir();
    const log = openLog(dir, { config: config({ 'segment.bytes': 1000 }) });
    fill(log, 20, Date.UTC(2026, 0, 1)); // batches of 4 records
    const bases = log.segmentBaseOffsets();
    expect(bases.length).toBeGreaterThan(4);
    const target = bases[1]! + 6; // inside the second batch of the second segment
    const newEnd = log.truncateTo(target);
    expect(newEnd).toBe(bases[1]! + 4);
    expect(log.logEndOffset).toBe(newEnd);
    expect(log.segmentBaseOffsets()).toEqual(bases.slice(0, 2));
    expect(logFiles(dir)).toHaveLength(2);
    expect(readAllRecords(log).map((r) => r.offset)).toEqual([...Array(newEnd).keys()]);
    expect(log.recoveryPoint).toBeLessThanOrEqual(newEnd);
    expect(log.truncateTo(newEnd + 10)).toBe(newEnd); // at or past the end: nothing to do
    // Exactly at a segment's base offset: that segment stays, empty, as the active one.
    expect(log.truncateTo(bases[1]!)).toBe(bases[1]);
    expect(log.segmentBaseOffsets()).toEqual(bases.slice(0, 2));
    expect(log.append(makeBatch({ timestamp: 1 }), { assignOffsets: true }).baseOffset).toBe(bases[1]);
    log.close();

    for (const unclean of [false, true]) {
      if (unclean) fs.rmSync(path.join(dir, CLEAN_SHUTDOWN_MARKER));
      const reopened = openLog(dir, { config: config({ 'segment.bytes': 1000 }) });
      expect(reopened.logEndOffset).toBe(bases[1]! + 3);
      expect(readAllRecords(reopened)).toHaveLength(bases[1]! + 3);
      reopened.close();
    }
  });

  test('truncateTo trims the epoch cache to the new end', () => {
    const log = openLog(tempDir());
    log.append(makeBatch({ records: 5, timestamp: 1 }), { assignOffsets: true, leaderEpoch: 1 });
    log.append(makeBatch({ records: 5, timestamp: 1 }), { assignOffsets: true, leaderEpoch: 2 });
    log.append(makeBatch({ records: 5, timestamp: 1 }), { assignOffsets: true, leaderEpoch: 4 });
    expect(log.endOffsetForEpoch(2)).toEqual([2, 10]);
    log.truncateTo(10);
    expect(log.leaderEpochCache.epochEntries()).toEqual([{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 5 }]);
    expect(log.endOffsetForEpoch(2)).toEqual([2, 10]);
    expect(log.endOffsetForEpoch(4)).toEqual([-1, -1]);
    // A new leader records its epoch at the log end before appending anything.
    expect(log.assignEpochStartOffset(5, log.logEndOffset)).toBe(true);
    expect(log.assignEpochStartOffset(3, log.logEndOffset)).toBe(false);
    expect(log.endOffsetForEpoch(2)).toEqual([2, 10]);
    expect(log.endOffsetForEpoch(5)).toEqual([5, 10]);
    log.close();
  });

  test('truncateFullyAndStartAt deletes everything and starts an empty log at the offset', () => {
    const dir = tempDir();
    const moves: number[] = [];
    const log = openLog(dir, { config: config({ 'segment.bytes': 1000 }), onLogStartOffsetChange: (o) => moves.push(o) });
    fill(log, 12, Date.UTC(2026, 0, 1));
    log.truncateFullyAndStartAt(500);
    expect([log.logStartOffset, log.logEndOffset, log.recoveryPoint, log.segmentBaseOffsets()]).toEqual([500, 500, 500, [500]]);
    expect(logFiles(dir)).toEqual(['00000000000000000500.log']);
    expect(log.leaderEpochCache.epochEntries()).toEqual([]);
    expect(moves).toEqual([500]);
    expectLogError(() => log.read(499, 10), 'OFFSET_OUT_OF_RANGE');
    log.append(makeBatch({ timestamp: 1 }), { assignOffsets: true, leaderEpoch: 9 });
    log.close();
    const reopened = openLog(dir, { logStartOffset: 500 });
    expect([reopened.logStartOffset, reopened.logEndOffset]).toEqual([500, 503]);
    expect(reopened.leaderEpochCache.epochEntries()).toEqual([{ epoch: 9, startOffset: 500 }]);
    reopened.close();
  });

  test('truncateTo below the first segment restarts the log there', () => {
    const log = openLog(tempDir(), { config: config({ 'segment.bytes': 1000 }) });
    fill(log, 12, Date.UTC(2026, 0, 1));
    const bases = log.segmentBaseOffsets();
    log.deleteRecordsBefore(bases[2]!);
    expect(log.segmentBaseOffsets()[0]).toBe(bases[2]);
    expect(log.truncateTo(bases[1]!)).toBe(bases[1]);
    expect([log.logStartOffset, log.logEndOffset, log.segmentCount]).toEqual([bases[1], bases[1], 1]);
    log.close();
  });
});
