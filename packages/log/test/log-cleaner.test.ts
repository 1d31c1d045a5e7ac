// The log cleaner (cleanup.policy=compact) keeps the latest record of each key below the active
// segment and nothing else, never changes an offset, serves reads across the gaps it leaves,
// keeps tombstones until their delete horizon, bounds its offset map by cleaning in passes, and
// leaves a state that a consumer reads as the same key → value map as before.

import fs from 'node:fs';
import path from 'node:path';
import { decodeBatch } from '../src/record-decoder.js';
import { ATTR_DELETE_HORIZON } from '../src/batch-header.js';
import type { Log } from '../src/log.js';
import { cleanFully, kvBatch, readLog, visibleState, type KV, type StoredRecord } from './log-cleaner-helpers.js';
import { ManualClock, cleanupTempDirs, config, openLog, seededRandom, SEED, tempDir, unsyncedIO } from './log-test-helpers.js';

afterEach(cleanupTempDirs);

const COMPACT = { 'cleanup.policy': 'compact', 'segment.bytes': 250 };

function append(log: Log, records: KV[], clock: ManualClock, extra = {}): void {
  log.append(kvBatch(records, clock.now, extra), { assignOffsets: true, leaderEpoch: 0 });
}

function activeSegmentBytes(log: Log): Buffer {
  const base = log.segmentBaseOffsets().at(-1)!;
  return fs.readFileSync(path.join(log.dir, `${String(base).padStart(20, '0')}.log`));
}

/** Records below `end`, each key at most once. */
function expectUniqueKeysBelow(records: readonly StoredRecord[], end: number): void {
  const below = records.filter((r) => r.offset < end).map((r) => r.key);
  expect(new Set(below).size).toBe(below.length);
}

describe('log cleaner', () => {
  test('keeps only the latest record per key below the active segment, offsets and values unchanged, active segment untouched', () => {
    const clock = new ManualClock();
    const log = openLog(tempDir(), { clock: clock.read, config: config(COMPACT) });
    for (let round = 0; round < 6; round++) {
      append(log, [{ key: 'a', value: `a${round}` }, { key: 'b', value: `b${round}` }, { key: `c${round}`, value: 'once' }], clock);
    }
    expect(log.segmentCount).toBeGreaterThan(2);
    const before = readLog(log).records;
    const end = log.logEndOffset;
    const activeBefore = activeSegmentBytes(log);
    const activeBase = log.segmentBaseOffsets().at(-1)!;

    const { pass } = cleanFully(log, { firstDirtyOffset: 0 });
    const after = readLog(log).records;

    expect(log.logEndOffset).toBe(end);
    expect(activeSegmentBytes(log)).toEqual(activeBefore);
    expect(log.segmentBaseOffsets().at(-1)).toBe(activeBase);
    expect(pass.cleanedTo).toBe(activeBase);
    // Every surviving record is the original record at its original offset.
    const byOffset = new Map(before.map((r) => [r.offset, r]));
    for (const r of after) expect(r).toEqual(byOffset.get(r.offset));
    // Below the active segment: each key once, and it is the latest of that key in the whole clean section.
    expectUniqueKeysBelow(after, activeBase);
    for (const r of after.filter((x) => x.offset < activeBase)) {
      const latest = Math.max(...before.filter((x) => x.key === r.key && x.offset < activeBase).map((x) => x.offset));
      expect(r.offset).toBe(latest);
    }
    // The active segment's records are all still there.
    expect(after.filter((r) => r.offset >= activeBase)).toEqual(before.filter((r) => r.offset >= activeBase));
    expect(visibleState(after)).toEqual(visibleState(before));
    expect(pass.stats.recordsRemoved).toBe(before.length - after.length);
    expect(pass.stats.bytesWritten).toBeGreaterThan(0);
    log.close();
  });

  test('reading an offset whose record was removed returns the next batch; fetches walk across the gaps', () => {
    const clock = new ManualClock();
    const log = openLog(tempDir(), { clock: clock.read, config: config(COMPACT) });
    for (let i = 0; i < 12; i++) append(log, [{ key: 'same', value: `v${i}` }], clock);
    append(log, [{ key: 'other', value: 'x' }], clock);
    log.roll();
    append(log, [{ key: 'tail', value: 't' }], clock);
    cleanFully(log, { firstDirtyOffset: 0 });
    const { records } = readLog(log);
    expect(records.map((r) => [r.offset, r.key, r.value])).toEqual([[11, 'same', 'v11'], [12, 'other', 'x'], [13, 'tail', 't']]);
    const r = log.read(3, 1 << 20);
    expect(r.firstOffset).toBeGreaterThan(3);
    expect(decodeBatch(r.records).records[0]?.offset ?? r.lastOffset).toBeGreaterThanOrEqual(3);
    // The log start offset is still readable and yields the first surviving record.
    const first = decodeBatch(log.read(0, 1 << 20).records);
    expect(first.records.length === 0 ? first.header.baseOffset + first.header.lastOffsetDelta : first.records[0]!.offset).toBeGreaterThanOrEqual(0);
    log.close();
  });

  test('a tombstone stays until delete.retention.ms after the clean that first saw it, then goes', () => {
    const clock = new ManualClock();
    const log = openLog(tempDir(), { clock: clock.read, config: config({ ...COMPACT, 'delete.retention.ms': 1000 }) });
    append(log, [{ key: 'gone', value: 'old' }, { key: 'kept', value: 'k' }], clock);
    append(log, [{ key: 'gone', value: null }], clock);
    log.roll();
    append(log, [{ key: 'later', value: 'l' }], clock);

    const first = cleanFully(log, { firstDirtyOffset: 0 }).pass;
    expect(readLog(log).records.map((r) => [r.key, r.value])).toEqual([['kept', 'k'], ['gone', null], ['later', 'l']]);
    expect(first.nextDeleteHorizonMs).toBe(clock.now + 1000);
    const stamped = readLog(log).batches.find((b) => b.baseOffset === 2)!;
    expect(stamped.recordCount).toBe(1);
    const raw = log.read(2, 1 << 20).records;
    expect(raw.readInt16BE(21) & ATTR_DELETE_HORIZON).toBe(ATTR_DELETE_HORIZON);
    // The stamped batch still decodes to the record's own timestamp.
    expect(readLog(log).records.find((r) => r.key === 'gone')!.timestamp).toBe(clock.now);

    clock.advance(999);
    cleanFully(log, { firstDirtyOffset: first.cleanedTo });
    expect(readLog(log).records.some((r) => r.key === 'gone')).toBe(true);

    clock.advance(1);
    const last = cleanFully(log, { firstDirtyOffset: first.cleanedTo }).pass;
    expect(readLog(log).records.map((r) => [r.key, r.value])).toEqual([['kept', 'k'], ['later', 'l']]);
    expect(last.stats.tombstonesRemoved).toBe(1);
    expect(last.nextDeleteHorizonMs).toBeUndefined();
    // The offsets it held still read as a gap, and the log end is where it was.
    expect(log.logEndOffset).toBe(4);
    log.close();
  });

  test('a truncation during a cleaning stops it: a key whose latest record was truncated away keeps its earlier value', () => {
    const clock = new ManualClock();
    const log = openLog(tempDir(), { clock: clock.read, config: config(COMPACT) });
    append(log, [{ key: 'k', value: 'early' }], clock);
    for (let i = 0; i < 6; i++) append(log, [{ key: `filler-${i}`, value: 'f' }], clock);
    append(log, [{ key: 'k', value: 'late' }], clock);
    const lateOffset = log.logEndOffset - 1;
    for (let i = 0; i < 12; i++) append(log, [{ key: `more-${i}`, value: 'm' }], clock);
    const pass = log.startCleaning({ firstDirtyOffset: 0, stepBytes: 60 });
    // Step until the offset map is complete (k → the late offset) and the first group, holding
    // k's early record, is being rewritten; then the follower diverges below the late record.
    while (pass.stats.recordsRead === 0) expect(pass.step()).toBe(true);
    log.truncateTo(lateOffset);
    while (pass.step()) { /* runs out */ }
    expect(pass.cleanedTo).toBe(0);
    expect(visibleState(readLog(log).records).get('k')).toBe('early');
    cleanFully(log, { firstDirtyOffset: pass.cleanedTo });
    expect(visibleState(readLog(log).records).get('k')).toBe('early');
    log.close();
  });

  test('records without a key are removed (invalid in a compacted topic)', () => {
    const clock = new ManualClock();
    const log = openLog(tempDir(), { clock: clock.read, config: config(COMPACT) });
    append(log, [{ key: null, value: 'orphan' }, { key: 'a', value: '1' }], clock);
    log.roll();
    append(log, [{ key: 'b', value: '2' }], clock);
    const { pass } = cleanFully(log, { firstDirtyOffset: 0 });
    expect(readLog(log).records.map((r) => r.key)).toEqual(['a', 'b']);
    expect(pass.stats.keylessRemoved).toBe(1);
    log.close();
  });

  test('a small offset map cleans in several passes to the same result as one big pass', () => {
    const build = (): Log => {
      const clock = new ManualClock();
      const log = openLog(tempDir(), { clock: clock.read, config: config(COMPACT), io: unsyncedIO });
      for (let i = 0; i < 60; i++) append(log, [{ key: `key-${i % 17}`, value: `v${i}` }, { key: `key-${(i * 7) % 17}`, value: `w${i}` }], clock);
      return log;
    };
    const big = build();
    const small = build();
    const one = cleanFully(big, { firstDirtyOffset: 0 }).pass;
    const many = cleanFully(small, { firstDirtyOffset: 0, maxMapBytes: 5 * 70 }).pass;
    expect(one.stats.passes).toBe(1);
    expect(many.stats.passes).toBeGreaterThan(2);
    expect(many.cleanedTo).toBe(one.cleanedTo);
    expect(readLog(small).records).toEqual(readLog(big).records);
    big.close();
    small.close();
  });

  test('steps are bounded: a small stepBytes takes many steps and the result is the same', () => {
    const clock = new ManualClock();
    const log = openLog(tempDir(), { clock: clock.read, config: config(COMPACT) });
    for (let i = 0; i < 40; i++) append(log, [{ key: `k${i % 5}`, value: `v${i}` }], clock);
    const before = visibleState(readLog(log).records);
    const { steps } = cleanFully(log, { firstDirtyOffset: 0, stepBytes: 100 });
    expect(steps).toBeGreaterThan(10);
    expect(visibleState(readLog(log).records)).toEqual(before);
    expectUniqueKeysBelow(readLog(log).records, log.segmentBaseOffsets().at(-1)!);
    log.close();
  });

  test('readers between steps always see the whole log: every key with its last value, offsets increasing, no hole', () => {
    const clock = new ManualClock();
    const log = openLog(tempDir(), { clock: clock.read, config: config(COMPACT), io: unsyncedIO });
    for (let i = 0; i < 80; i++) append(log, [{ key: `k${i % 7}`, value: `v${i}` }, { key: `j${i % 3}`, value: `w${i}` }], clock);
    const expected = visibleState(readLog(log).records);
    const pass = log.startCleaning({ firstDirtyOffset: 0, stepBytes: 150 });
    let steps = 0;
    while (pass.step()) {
      steps++;
      const { records, batches } = readLog(log);
      expect(visibleState(records)).toEqual(expected);
      for (let i = 1; i < batches.length; i++) expect(batches[i]!.baseOffset).toBeGreaterThan(batches[i - 1]!.lastOffset);
      expect(batches.at(-1)!.lastOffset + 1).toBe(log.logEndOffset);
    }
    expect(steps).toBeGreaterThan(20);
    expect(pass.stats.segmentsWritten).toBeGreaterThan(3);
    log.close();
  });

  test('the cleanable section stops at the high watermark and at min.compaction.lag.ms', () => {
    const clock = new ManualClock();
    const log = openLog(tempDir(), { clock: clock.read, config: config({ ...COMPACT, 'min.compaction.lag.ms': 10_000 }) });
    for (let i = 0; i < 10; i++) append(log, [{ key: 'k', value: `old${i}` }], clock);
    clock.advance(20_000);
    for (let i = 0; i < 10; i++) append(log, [{ key: 'k', value: `new${i}` }], clock);
    const young = log.cleanableStats(0);
    // Old records are cleanable, the young ones (within the lag) are not.
    expect(young.firstUncleanableOffset).toBeGreaterThan(0);
    expect(young.firstUncleanableOffset).toBeLessThanOrEqual(10);
    cleanFully(log, { firstDirtyOffset: 0 });
    const values = readLog(log).records.map((r) => r.value);
    expect(values.filter((v) => v!.startsWith('new'))).toHaveLength(10);
    expect(values.filter((v) => v!.startsWith('old')).length).toBeLessThan(10);

    const hwLog = openLog(tempDir(), { clock: clock.read, config: config(COMPACT) });
    for (let i = 0; i < 20; i++) append(hwLog, [{ key: 'k', value: `v${i}` }], clock);
    const stats = hwLog.cleanableStats(0, 5);
    expect(stats.firstUncleanableOffset).toBeLessThanOrEqual(5);
    cleanFully(hwLog, { firstDirtyOffset: 0, upTo: 5 });
    expect(readLog(hwLog).records.filter((r) => r.offset >= 5)).toHaveLength(15);
    log.close();
    hwLog.close();
  });

  test('gzip batches are cleaned and re-compressed', () => {
    const clock = new ManualClock();
    const log = openLog(tempDir(), { clock: clock.read, config: config(COMPACT) });
    for (let i = 0; i < 8; i++) append(log, [{ key: 'a', value: `a${i}` }, { key: `u${i}`, value: 'u' }], clock, { compression: 'gzip' });
    log.roll();
    append(log, [{ key: 'z', value: 'z' }], clock);
    const before = visibleState(readLog(log).records);
    cleanFully(log, { firstDirtyOffset: 0 });
    const after = readLog(log).records;
    expect(visibleState(after)).toEqual(before);
    expect(after.filter((r) => r.key === 'a').map((r) => r.value)).toEqual(['a7']);
    const raw = log.read(0, 1 << 20).records;
    expect(decodeBatch(raw).compression).toBe('gzip');
    log.close();
  });

  test('an emptied batch of an idempotent producer keeps its header when no later batch of that producer was seen', () => {
    const clock = new ManualClock();
    const log = openLog(tempDir(), { clock: clock.read, config: config(COMPACT) });
    append(log, [{ key: 'a', value: '1' }], clock, { producerId: 7n, producerEpoch: 0, baseSequence: 0 });
    append(log, [{ key: 'b', value: '1' }], clock, { producerId: 7n, producerEpoch: 0, baseSequence: 1 });
    append(log, [{ key: 'a', value: '2' }, { key: 'b', value: '2' }], clock, { producerId: 9n, producerEpoch: 0, baseSequence: 0 });
    append(log, [{ key: 'c', value: '1' }], clock);
    log.roll();
    append(log, [{ key: 'tail', value: '1' }], clock);
    cleanFully(log, { firstDirtyOffset: 0 });
    const { batches, records } = readLog(log);
    // Producer 7's first batch is superseded by its own later batch (dropped); its last one stays as an empty header.
    expect(batches.filter((b) => b.producerId === 7n)).toEqual([{ baseOffset: 1, lastOffset: 1, recordCount: 0, producerId: 7n, baseSequence: 1 }]);
    expect(records.map((r) => r.key)).toEqual(['a', 'b', 'c', 'tail']);
    log.close();
  });

  test('emptied batches of a producer whose later batches are in the clean section are dropped; its last one stays', () => {
    const clock = new ManualClock();
    const log = openLog(tempDir(), { clock: clock.read, config: config(COMPACT) });
    // Producer 5 writes 20 keys in 20 batches, which a first cleaning finds all live.
    for (let i = 0; i < 20; i++) append(log, [{ key: `k${i}`, value: 'old' }], clock, { producerId: 5n, producerEpoch: 0, baseSequence: i });
    log.roll();
    const first = cleanFully(log, { firstDirtyOffset: 0 }).pass;
    expect(readLog(log).batches.filter((b) => b.producerId === 5n)).toHaveLength(20);
    // A restarted producer (new id) overwrites every key; producer 5 is now only in the clean section.
    for (let i = 0; i < 20; i++) append(log, [{ key: `k${i}`, value: 'new' }], clock, { producerId: 6n, producerEpoch: 0, baseSequence: i });
    log.roll();
    append(log, [{ key: 'tail', value: 't' }], clock);
    cleanFully(log, { firstDirtyOffset: first.cleanedTo });
    const { batches, records } = readLog(log);
    const five = batches.filter((b) => b.producerId === 5n);
    expect(records.filter((r) => r.value === 'old')).toEqual([]);
    // Its last batch survives as a header; of the others only those that end a segment group
    // (a group's last batch keeps its offset range) remain: one per output segment, not one per batch.
    expect(five.every((b) => b.recordCount === 0)).toBe(true);
    expect(five.at(-1)).toEqual({ baseOffset: 19, lastOffset: 19, recordCount: 0, producerId: 5n, baseSequence: 19 });
    const segmentsBelow = log.segmentBaseOffsets().filter((b) => b <= 19).length;
    expect(five.length).toBeLessThanOrEqual(segmentsBelow);
    expect(five.length).toBeLessThan(20);
    log.close();
  });

  test('retention by time and size applies only when cleanup.policy has delete', () => {
    const clock = new ManualClock();
    for (const [policy, expectDeleted] of [['compact', false], ['compact,delete', true], ['delete', true]] as const) {
      const log = openLog(tempDir(), { clock: clock.read, config: config({ ...COMPACT, 'cleanup.policy': policy, 'retention.ms': 1000 }) });
      for (let i = 0; i < 10; i++) append(log, [{ key: `k${i}`, value: 'v' }], clock);
      clock.advance(5000);
      append(log, [{ key: 'x', value: 'v' }], clock);
      const r = log.applyRetention();
      expect(r.segmentsDeleted > 0).toBe(expectDeleted);
      log.close();
    }
  });

  test('reopening a cleaned log gives the same records; indexes were rebuilt for the new segments', () => {
    const clock = new ManualClock();
    const dir = tempDir();
    const log = openLog(dir, { clock: clock.read, config: config(COMPACT) });
    for (let i = 0; i < 30; i++) append(log, [{ key: `k${i % 4}`, value: `v${i}` }], clock);
    cleanFully(log, { firstDirtyOffset: 0 });
    const records = readLog(log).records;
    const bases = log.segmentBaseOffsets();
    log.close();
    for (const base of bases.slice(0, -1)) expect(fs.existsSync(path.join(dir, `${String(base).padStart(20, '0')}.index`))).toBe(true);
    expect(fs.readdirSync(dir).filter((n) => n.endsWith('.cleaned') || n.endsWith('.swap') || n.endsWith('.deleted'))).toEqual([]);
    const reopened = openLog(dir, { clock: clock.read, config: config(COMPACT) });
    expect(readLog(reopened).records).toEqual(records);
    expect(reopened.segmentBaseOffsets()).toEqual(bases);
    reopened.close();
  });

  test(`property (seed ${SEED}): with appends between steps, every key reads as its last written value and the cleaned section holds each key once`, () => {
    const rnd = seededRandom(SEED);
    for (let run = 0; run < 12; run++) {
      const clock = new ManualClock();
      // Durability is not the subject here (see log-cleaner-crash.test.ts): no fsyncs, so it stays fast.
      const log = openLog(tempDir(), { clock: clock.read, io: unsyncedIO, config: config({ 'cleanup.policy': 'compact', 'segment.bytes': rnd.int(200, 900) }) });
      const model = new Map<string, string | null>();
      let firstDirty = 0;
      const appendRandom = (): void => {
        const records: KV[] = [];
        for (let i = rnd.int(1, 4); i > 0; i--) {
          const key = `key-${rnd.int(0, 24)}`;
          const value = rnd.next() < 0.15 ? null : `v${rnd.int(0, 1e6)}`;
          records.push({ key, value });
          model.set(key, value);
        }
        append(log, records, clock);
        clock.advance(rnd.int(0, 10));
      };
      for (let op = 0; op < 150; op++) {
        const dice = rnd.next();
        if (dice < 0.8) appendRandom();
        else if (dice < 0.85) log.roll();
        else {
          const pass = log.startCleaning({ firstDirtyOffset: firstDirty, maxMapBytes: rnd.int(100, 3000), stepBytes: rnd.int(50, 2000) });
          while (pass.step()) if (rnd.next() < 0.3) appendRandom();
          firstDirty = pass.cleanedTo;
          expectUniqueKeysBelow(readLog(log).records, firstDirty);
        }
      }
      expect(visibleState(readLog(log).records)).toEqual(model);
      log.close();
    }
  });
});
