// Appending as leader and follower, reading whole batches, rolling segments.

import fs from 'node:fs';
import path from 'node:path';
import { readBatchHeader } from '../src/batch-header.js';
import { decodeBatch } from '../src/record-decoder.js';
import {
  ManualClock, cleanupTempDirs, config, expectLogError, makeBatch, openLog, readAllRecords, scanSegmentFiles, tempDir,
} from './log-test-helpers.js';

afterEach(cleanupTempDirs);

const T0 = 1_760_000_000_000;

describe('leader append', () => {
  test('assigns offsets from the log end offset and returns what it appended', () => {
    const log = openLog(tempDir());
    const a = log.append(makeBatch({ records: 3, timestamp: T0, baseOffset: 999 }), { assignOffsets: true });
    expect(a).toMatchObject({ baseOffset: 0, lastOffset: 2, batchCount: 1, recordCount: 3, logAppendTime: -1, maxTimestamp: T0 });
    const b = log.append(makeBatch({ records: 5, timestamp: T0 + 5 }), { assignOffsets: true });
    expect(b).toMatchObject({ baseOffset: 3, lastOffset: 7 });
    expect(log.logEndOffset).toBe(8);
    expect(readAllRecords(log).map((r) => r.offset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    log.close();
  });

  test('stamps the leader epoch and, under LogAppendTime, the broker time; the CRC stays valid', () => {
    const clock = new ManualClock();
    const log = openLog(tempDir(), { clock: clock.read, config: config({ 'message.timestamp.type': 'LogAppendTime' }) });
    const r = log.append(makeBatch({ records: 2, timestamp: 5 }), { assignOffsets: true, leaderEpoch: 7 });
    expect(r.logAppendTime).toBe(clock.now);
    const read = log.read(0, 1 << 20);
    const decoded = decodeBatch(read.records, 0); // checks the CRC
    expect(decoded.header.partitionLeaderEpoch).toBe(7);
    expect(decoded.timestampType).toBe('log-append');
    expect(decoded.records.map((x) => x.timestamp)).toEqual([clock.now, clock.now]);
    expect(log.leaderEpochCache.epochEntries()).toEqual([{ epoch: 7, startOffset: 0 }]);
    log.close();
  });

  test('a buffer of several batches is appended at once, bytes exactly as given', () => {
    const dir = tempDir();
    const log = openLog(dir);
    const buf = Buffer.concat([makeBatch({ records: 2, timestamp: T0 }), makeBatch({ records: 4, timestamp: T0 + 1 })]);
    const r = log.append(buf, { assignOffsets: true });
    expect(r).toMatchObject({ baseOffset: 0, lastOffset: 5, batchCount: 2, recordCount: 6 });
    log.close();
    // The file holds the caller's buffer, as rewritten in place (base offsets 0 and 2).
    expect(fs.readFileSync(path.join(dir, '00000000000000000000.log')).equals(buf)).toBe(true);
    expect(readBatchHeader(buf, 0).baseOffset).toBe(0);
    expect(readBatchHeader(buf, buf.readInt32BE(8) + 12).baseOffset).toBe(2);
  });

  test('rejects a bad CRC, trailing bytes, an oversized batch or append, and writes nothing', () => {
    const log = openLog(tempDir(), { config: config({ 'max.message.bytes': 500, 'segment.bytes': 2000 }) });
    log.append(makeBatch({ timestamp: T0 }), { assignOffsets: true });
    const flipped = makeBatch({ timestamp: T0 });
    flipped[flipped.length - 1]! ^= 0x01;
    expectLogError(() => log.append(flipped, { assignOffsets: true }), 'CORRUPT_RECORD');
    expectLogError(() => log.append(Buffer.concat([makeBatch({ timestamp: T0 }), Buffer.alloc(10)]), { assignOffsets: true }), 'CORRUPT_RECORD');
    expectLogError(() => log.append(makeBatch({ timestamp: T0, records: 1, valueBytes: 600 }), { assignOffsets: true }), 'RECORD_TOO_LARGE');
    const many = Buffer.concat(Array.from({ length: 12 }, () => makeBatch({ timestamp: T0, valueBytes: 100, records: 1 })));
    expect(many.length).toBeGreaterThan(2000);
    expectLogError(() => log.append(many, { assignOffsets: true }), 'RECORD_TOO_LARGE');
    expectLogError(() => log.append(Buffer.alloc(0), { assignOffsets: true }), 'INVALID_ARGUMENT');
    expect(log.logEndOffset).toBe(3);
    expect(log.isOffline).toBe(false);
    log.close();
  });
});

describe('follower append', () => {
  test('keeps the leader offsets, allows gaps, refuses anything below the log end offset', () => {
    const log = openLog(tempDir());
    log.append(makeBatch({ records: 3, timestamp: T0, baseOffset: 0, partitionLeaderEpoch: 1 }), { assignOffsets: false });
    expectLogError(() => log.append(makeBatch({ timestamp: T0, baseOffset: 2 }), { assignOffsets: false }), 'INVALID_OFFSET');
    // Offsets must increase inside one buffer too.
    const overlapping = Buffer.concat([makeBatch({ timestamp: T0, baseOffset: 3 }), makeBatch({ timestamp: T0, baseOffset: 4 })]);
    expectLogError(() => log.append(overlapping, { assignOffsets: false }), 'INVALID_OFFSET');
    expect(log.logEndOffset).toBe(3);
    // A leader's compacted log has gaps; the follower copies them.
    const r = log.append(
      Buffer.concat([makeBatch({ timestamp: T0, baseOffset: 3, partitionLeaderEpoch: 1 }), makeBatch({ timestamp: T0, baseOffset: 10, partitionLeaderEpoch: 2 })]),
      { assignOffsets: false },
    );
    expect(r).toMatchObject({ baseOffset: 3, lastOffset: 12 });
    expect(log.logEndOffset).toBe(13);
    expect(log.leaderEpochCache.epochEntries()).toEqual([{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 10 }]);
    // Reading an offset inside the gap starts at the next batch.
    expect(log.read(7, 1 << 20).firstOffset).toBe(10);
    expectLogError(() => log.append(makeBatch({ timestamp: T0, baseOffset: 13 }), { assignOffsets: false, leaderEpoch: 3 }), 'INVALID_ARGUMENT');
    log.close();
  });
});

describe('read', () => {
  function logWithBatches(n: number, recordsPerBatch = 4) {
    const log = openLog(tempDir(), { config: config({ 'index.interval.bytes': 0 }) });
    for (let i = 0; i < n; i++) log.append(makeBatch({ records: recordsPerBatch, timestamp: T0 + i }), { assignOffsets: true });
    return log;
  }

  test('starts at the batch holding the offset and returns whole batches within maxBytes', () => {
    const log = logWithBatches(10);
    const batchSize = log.read(0, 1).records.length;
    const r = log.read(6, batchSize * 2 + Math.floor(batchSize / 2));
    expect(r).toMatchObject({ batchCount: 2, firstOffset: 4, lastOffset: 11, nextOffset: 12 });
    expect(r.records.length).toBe(batchSize * 2);
    log.close();
  });

  test('returns one whole batch even when it is larger than maxBytes', () => {
    const log = logWithBatches(3);
    const r = log.read(5, 10);
    expect(r).toMatchObject({ batchCount: 1, firstOffset: 4, lastOffset: 7 });
    expect(decodeBatch(r.records, 0).records).toHaveLength(4);
    log.close();
  });

  test('never returns a batch that reaches upTo (exclusive)', () => {
    const log = logWithBatches(5); // batches [0..3] [4..7] [8..11] [12..15] [16..19]
    expect(log.read(0, 1 << 20, 12)).toMatchObject({ batchCount: 3, lastOffset: 11 });
    expect(log.read(0, 1 << 20, 11)).toMatchObject({ batchCount: 2, lastOffset: 7 });
    // The first batch itself crosses upTo: nothing, even with minimum-one-batch.
    expect(log.read(8, 10, 10)).toMatchObject({ batchCount: 0, nextOffset: 8 });
    expect(log.read(8, 1 << 20, 8).batchCount).toBe(0);
    for (let upTo = 0; upTo <= 20; upTo++) {
      for (const r of [log.read(0, 1 << 20, upTo), log.read(0, 1, upTo)]) {
        if (r.batchCount > 0) expect(r.lastOffset).toBeLessThan(upTo);
      }
      expect(readAllRecords(log, upTo).every((x) => x.offset < upTo)).toBe(true);
    }
    log.close();
  });

  test('offsets outside [log start, log end] are OFFSET_OUT_OF_RANGE; the log end reads empty', () => {
    const log = logWithBatches(2);
    expectLogError(() => log.read(9, 100), 'OFFSET_OUT_OF_RANGE');
    expect(log.read(8, 100)).toMatchObject({ batchCount: 0, nextOffset: 8, logEndOffset: 8 });
    expectLogError(() => log.read(0, 100, 9), 'INVALID_ARGUMENT');
    expectLogError(() => log.read(-1, 100), 'INVALID_ARGUMENT');
    log.deleteRecordsBefore(5);
    expectLogError(() => log.read(4, 100), 'OFFSET_OUT_OF_RANGE');
    expect(log.read(5, 100).firstOffset).toBe(4);
    log.close();
  });
});

describe('roll', () => {
  test('by size: segments named by their base offset, none above segment.bytes', () => {
    const dir = tempDir();
    const log = openLog(dir, { config: config({ 'segment.bytes': 1000 }) });
    const batch = makeBatch({ records: 2, timestamp: T0, valueBytes: 100 });
    for (let i = 0; i < 20; i++) log.append(Buffer.from(batch), { assignOffsets: true });
    expect(log.segmentCount).toBeGreaterThan(4);
    const names = fs.readdirSync(dir).filter((n) => n.endsWith('.log')).sort();
    expect(names[0]).toBe('00000000000000000000.log');
    const perSegment = Math.floor(1000 / batch.length);
    expect(log.segmentBaseOffsets()).toEqual(names.map((_, i) => i * perSegment * 2));
    for (const n of names) expect(fs.statSync(path.join(dir, n)).size).toBeLessThanOrEqual(1000);
    expect(readAllRecords(log).map((r) => r.offset)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    log.close();
  });

  test('by time: a segment older than segment.ms rolls at the next append, an empty one never', () => {
    const clock = new ManualClock();
    const log = openLog(tempDir(), { clock: clock.read, config: config({ 'segment.ms': 1000 }) });
    clock.advance(5000); // the empty active segment ages, but empty segments do not roll
    log.append(makeBatch({ timestamp: T0 }), { assignOffsets: true });
    clock.advance(1000);
    log.append(makeBatch({ timestamp: T0 }), { assignOffsets: true });
    expect(log.segmentCount).toBe(1);
    clock.advance(1);
    log.append(makeBatch({ timestamp: T0 }), { assignOffsets: true });
    expect(log.segmentBaseOffsets()).toEqual([0, 6]);
    log.close();
  });

  test('when an index is full (segment.index.bytes)', () => {
    // 24 bytes: 3 offset-index entries or 2 time-index entries; an entry for every batch but the first.
    const log = openLog(tempDir(), { config: config({ 'segment.index.bytes': 24, 'index.interval.bytes': 0 }) });
    for (let i = 0; i < 9; i++) log.append(makeBatch({ records: 1, timestamp: T0 + i }), { assignOffsets: true });
    expect(log.segmentBaseOffsets()).toEqual([0, 3, 6]);
    expect(readAllRecords(log)).toHaveLength(9);
    log.close();
  });

  test('when a relative offset would overflow int32', () => {
    const log = openLog(tempDir());
    log.append(makeBatch({ timestamp: T0, baseOffset: 0 }), { assignOffsets: false });
    const far = 2 ** 31 + 100;
    log.append(makeBatch({ timestamp: T0, baseOffset: far }), { assignOffsets: false });
    expect(log.segmentBaseOffsets()).toEqual([0, far]);
    expect(log.read(3, 1 << 20).firstOffset).toBe(far);
    log.close();
  });
});

describe('file layout', () => {
  test('segments, indexes and the epoch checkpoint use Kafka-style names', () => {
    const dir = tempDir();
    const log = openLog(dir, { config: config({ 'index.interval.bytes': 0 }) });
    log.append(makeBatch({ timestamp: T0, partitionLeaderEpoch: 0 }), { assignOffsets: true, leaderEpoch: 0 });
    log.append(makeBatch({ timestamp: T0 }), { assignOffsets: true, leaderEpoch: 0 });
    log.close();
    expect(fs.readdirSync(dir).sort()).toEqual([
      '.samsa_cleanshutdown',
      '00000000000000000000.index',
      '00000000000000000000.log',
      '00000000000000000000.timeindex',
      'leader-epoch-checkpoint',
    ]);
    const index = fs.readFileSync(path.join(dir, '00000000000000000000.index'));
    expect(index.length).toBe(8);
    expect([index.readInt32BE(0), index.readInt32BE(4)]).toEqual([5, scanSegmentFiles(dir)[0]!.bytes.length]);
    expect(fs.readFileSync(path.join(dir, 'leader-epoch-checkpoint'), 'utf8')).toBe('0\n1\n0 0\n');
  });
});
