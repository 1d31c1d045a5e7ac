// The offset and time indexes: unit behaviour, and indexed lookups of a whole log checked against
// a linear scan of its files, before and after the indexes are deleted, damaged or rebuilt.

import fs from 'node:fs';
import path from 'node:path';
import { nodeFileIO } from '../src/file-io.js';
import { CorruptIndexError } from '../src/index-file.js';
import type { Log } from '../src/log.js';
import { OffsetIndex } from '../src/offset-index.js';
import { CLEAN_SHUTDOWN_MARKER } from '../src/recovery.js';
import { TimeIndex } from '../src/time-index.js';
import { cleanupTempDirs, config, makeBatch, openLog, scanSegmentFiles, seededRandom, tempDir, SEED } from './log-test-helpers.js';
import { decodeBatch } from '../src/record-decoder.js';

afterEach(cleanupTempDirs);

const T0 = 1_760_000_000_000;

describe('OffsetIndex', () => {
  test('lookup returns the entry with the largest offset <= target, or the segment start', () => {
    const idx = new OffsetIndex('/unused', 100, 10);
    idx.append(104, 300);
    idx.append(110, 700);
    idx.append(120, 900);
    expect(idx.lookup(99)).toEqual({ offset: 100, position: 0 });
    expect(idx.lookup(103)).toEqual({ offset: 100, position: 0 });
    expect(idx.lookup(104)).toEqual({ offset: 104, position: 300 });
    expect(idx.lookup(119)).toEqual({ offset: 110, position: 700 });
    expect(idx.lookup(10_000)).toEqual({ offset: 120, position: 900 });
    idx.truncateToPosition(700);
    expect(idx.entries).toBe(1);
    expect(() => idx.append(104, 800)).toThrow(/does not follow/);
  });

  test('persists, reloads, and rejects files that fail the sanity check', () => {
    const dir = tempDir();
    const file = path.join(dir, 'x.index');
    const idx = new OffsetIndex(file, 0, 100);
    for (let i = 1; i <= 5; i++) idx.append(i * 10, i * 100);
    idx.persist(nodeFileIO, true);
    idx.truncateToPosition(300); // keeps 2 entries; the file is cut at the next persist
    idx.append(25, 350);
    idx.persist(nodeFileIO, true);
    expect(fs.statSync(file).size).toBe(24);
    const loaded = OffsetIndex.load(nodeFileIO, file, 0, 100, 1000)!;
    expect([0, 1, 2].map((i) => loaded.entry(i))).toEqual([
      { offset: 10, position: 100 }, { offset: 20, position: 200 }, { offset: 25, position: 350 },
    ]);
    expect(() => OffsetIndex.load(nodeFileIO, file, 0, 100, 300)).toThrow(CorruptIndexError); // position past the segment
    fs.appendFileSync(file, Buffer.alloc(3));
    expect(() => OffsetIndex.load(nodeFileIO, file, 0, 100, 1000)).toThrow(CorruptIndexError);
    expect(OffsetIndex.load(nodeFileIO, path.join(dir, 'missing.index'), 0, 100, 1000)).toBeUndefined();
  });
});

describe('TimeIndex', () => {
  test('appends only growing timestamps; lookup finds the largest timestamp <= target', () => {
    const idx = new TimeIndex('/unused', 50, 3);
    idx.maybeAppend(1000, 55);
    idx.maybeAppend(1000, 60); // not larger: ignored
    idx.maybeAppend(900, 61); // smaller: ignored
    idx.maybeAppend(2000, 70);
    idx.maybeAppend(3000, 80);
    expect(idx.isFull).toBe(true);
    expect(() => idx.maybeAppend(4000, 90)).toThrow(/full/);
    idx.maybeAppend(4000, 90, true); // a segment's closing entry always fits
    expect(idx.lookup(999)).toEqual({ timestamp: -1, offset: 50 });
    expect(idx.lookup(1500)).toEqual({ timestamp: 1000, offset: 55 });
    expect(idx.lookup(5000)).toEqual({ timestamp: 4000, offset: 90 });
    idx.truncateToOffset(70);
    expect(idx.lastEntry()).toEqual({ timestamp: 1000, offset: 55 });
  });

  test('round-trips through its file and rejects non-monotonic timestamps', () => {
    const dir = tempDir();
    const file = path.join(dir, 'x.timeindex');
    const idx = new TimeIndex(file, 0, 100);
    idx.maybeAppend(T0, 3);
    idx.maybeAppend(T0 + 5, 9);
    idx.persist(nodeFileIO, true);
    const loaded = TimeIndex.load(nodeFileIO, file, 0, 100)!;
    expect([loaded.entry(0), loaded.entry(1)]).toEqual([{ timestamp: T0, offset: 3 }, { timestamp: T0 + 5, offset: 9 }]);
    const bytes = fs.readFileSync(file);
    bytes.writeBigInt64BE(BigInt(T0 + 10), 0);
    fs.writeFileSync(file, bytes);
    expect(() => TimeIndex.load(nodeFileIO, file, 0, 100)).toThrow(CorruptIndexError);
  });
});

interface Reference {
  batches: ReturnType<typeof scanSegmentFiles>;
  records: { offset: number; timestamp: number }[];
}

function reference(dir: string): Reference {
  const batches = scanSegmentFiles(dir);
  const records = [];
  for (const b of batches) for (const r of decodeBatch(b.bytes).records) records.push({ offset: r.offset, timestamp: r.timestamp });
  return { batches, records };
}

/** Builds a multi-segment log with jittered, non-monotonic timestamps and a few gzip batches. */
function buildLog(dir: string, seed: number): void {
  const rnd = seededRandom(seed);
  const log = openLog(dir, { config: config({ 'segment.bytes': 6000, 'index.interval.bytes': 300 }) });
  for (let i = 0; i < 400; i++) {
    log.append(
      makeBatch({
        records: rnd.int(1, 6),
        valueBytes: rnd.int(1, 80),
        timestamp: T0 + i * 10 + rnd.int(-60, 60),
        timestampStep: rnd.int(-5, 5),
        compression: rnd.next() < 0.1 ? 'gzip' : 'none',
      }),
      { assignOffsets: true },
    );
  }
  log.close();
}

/** Random offsets and timestamps, looked up through the log and through the linear reference. */
function checkLookups(log: Log, ref: Reference, seed: number): void {
  const rnd = seededRandom(seed);
  const leo = log.logEndOffset;
  for (let i = 0; i < 300; i++) {
    const offset = rnd.int(log.logStartOffset, leo - 1);
    const expected = ref.batches.find((b) => b.lastOffset >= offset)!;
    const got = log.read(offset, 1);
    expect({ seed, offset, firstOffset: got.firstOffset }).toEqual({ seed, offset, firstOffset: expected.baseOffset });
  }
  const minTs = Math.min(...ref.records.map((r) => r.timestamp));
  const maxTs = Math.max(...ref.records.map((r) => r.timestamp));
  for (let i = 0; i < 200; i++) {
    const ts = rnd.int(minTs - 20, maxTs + 20);
    const expected = ref.records.find((r) => r.offset >= log.logStartOffset && r.timestamp >= ts);
    const got = log.offsetForTimestamp(ts);
    expect({ seed, ts, got: got && { offset: got.offset, timestamp: got.timestamp } }).toEqual({ seed, ts, got: expected });
    // Below a high watermark, only records under it count.
    const upTo = rnd.int(log.logStartOffset, leo);
    const below = log.offsetForTimestamp(ts, upTo);
    expect({ seed, ts, upTo, below: below?.offset }).toEqual({ seed, ts, upTo, below: expected && expected.offset < upTo ? expected.offset : undefined });
  }
}

describe('indexed lookups against a linear scan', () => {
  function setup(): { dir: string; ref: Reference } {
    const dir = tempDir();
    buildLog(dir, SEED);
    const ref = reference(dir);
    expect(fs.readdirSync(dir).filter((n) => n.endsWith('.log')).length).toBeGreaterThan(3);
    return { dir, ref };
  }

  test('offsets and timestamps, including after DeleteRecords moved the log start', () => {
    const { dir, ref } = setup();
    const log = openLog(dir);
    checkLookups(log, ref, SEED);
    log.deleteRecordsBefore(Math.floor(log.logEndOffset / 3) + 1);
    checkLookups(log, ref, SEED + 1);
    log.close();
  });

  const damages: [string, (dir: string) => void][] = [
    ['deleted', (dir) => {
      for (const n of fs.readdirSync(dir)) if (/\.(time)?index$/.test(n)) fs.rmSync(path.join(dir, n));
    }],
    ['overwritten with garbage of an odd size', (dir) => {
      for (const n of fs.readdirSync(dir)) if (/\.(time)?index$/.test(n)) fs.writeFileSync(path.join(dir, n), Buffer.alloc(37, 0x5a));
    }],
    ['shifted: monotonic entries pointing into the middle of batches', (dir) => {
      for (const n of fs.readdirSync(dir).filter((x) => x.endsWith('.index'))) {
        const b = fs.readFileSync(path.join(dir, n));
        for (let i = 0; i < b.length; i += 8) b.writeInt32BE(b.readInt32BE(i + 4) + 1, i + 4);
        fs.writeFileSync(path.join(dir, n), b);
      }
    }],
    ['time index timestamps out of order', (dir) => {
      for (const n of fs.readdirSync(dir).filter((x) => x.endsWith('.timeindex'))) {
        const b = fs.readFileSync(path.join(dir, n));
        if (b.length >= 24) b.writeBigInt64BE(BigInt(T0 * 2), 0);
        fs.writeFileSync(path.join(dir, n), b);
      }
    }],
    ['left as they are, but the shutdown was unclean', (dir) => fs.rmSync(path.join(dir, CLEAN_SHUTDOWN_MARKER))],
  ];

  test.each(damages)('indexes %s are rebuilt and give the same answers', (_name, damage) => {
    const { dir, ref } = setup();
    damage(dir);
    const log = openLog(dir);
    checkLookups(log, ref, SEED + 2);
    log.close();
    // The rebuilt files pass the sanity check on the next open.
    const again = openLog(dir);
    checkLookups(again, ref, SEED + 3);
    again.close();
  });
});
