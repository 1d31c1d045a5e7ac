// Recovery after unclean shutdowns: torn tails, flipped bits, lost unsynced data, leftovers.

import fs from 'node:fs';
import path from 'node:path';
import { FaultyFileIO } from '../src/faulty-file-io.js';
import { CLEAN_SHUTDOWN_MARKER } from '../src/recovery.js';
import { decodeBatch } from '../src/record-decoder.js';
import {
  cleanupTempDirs, config, copyDir, expectLogError, makeBatch, openLog, readAllRecords, seededRandom, tempDir, unsyncedIO,
  SEED,
} from './log-test-helpers.js';

afterEach(cleanupTempDirs);

const T0 = 1_760_000_000_000;

interface BatchLayout {
  file: string;
  position: number;
  size: number;
  baseOffset: number;
  lastOffset: number;
}

/** Where each batch sits in the segment files of `dir`. */
function layout(dir: string): BatchLayout[] {
  const out: BatchLayout[] = [];
  for (const file of fs.readdirSync(dir).filter((n) => n.endsWith('.log')).sort()) {
    const buf = fs.readFileSync(path.join(dir, file));
    let position = 0;
    while (position < buf.length) {
      const size = buf.readInt32BE(position + 8) + 12;
      const h = decodeBatch(buf, position).header;
      out.push({ file, position, size, baseOffset: h.baseOffset, lastOffset: h.baseOffset + h.lastOffsetDelta });
      position += size;
    }
  }
  return out;
}

/** A cleanly closed log of `n` batches of 1–3 records (so batch sizes differ). */
function buildLog(dir: string, n: number, overrides: Record<string, unknown> = {}): void {
  const log = openLog(dir, { io: unsyncedIO, config: config({ 'index.interval.bytes': 0, ...overrides }) });
  for (let i = 0; i < n; i++) {
    log.append(makeBatch({ records: 1 + (i % 3), valueBytes: 10 + i, timestamp: T0 + i * 10 }), { assignOffsets: true, leaderEpoch: i < n / 2 ? 1 : 2 });
  }
  log.close();
}

function simulateUncleanShutdown(dir: string): void {
  fs.rmSync(path.join(dir, CLEAN_SHUTDOWN_MARKER));
}

describe('torn writes', () => {
  test('a segment cut at every byte of its last three batches recovers exactly the whole batches before the cut', () => {
    const original = tempDir();
    buildLog(original, 12, { 'segment.bytes': 700 });
    const batches = layout(original);
    const activeFile = batches[batches.length - 1]!.file;
    const active = batches.filter((b) => b.file === activeFile);
    expect(active.length).toBeGreaterThanOrEqual(3);
    const tornFrom = active[active.length - 3]!.position;
    const fileSize = fs.statSync(path.join(original, activeFile)).size;
    const allRecords = (() => {
      const log = openLog(original, { io: unsyncedIO });
      const r = readAllRecords(log);
      log.close();
      return r;
    })();

    const work = tempDir();
    for (let cut = tornFrom; cut < fileSize; cut++) {
      fs.rmSync(work, { recursive: true, force: true });
      copyDir(original, work);
      fs.truncateSync(path.join(work, activeFile), cut);
      simulateUncleanShutdown(work);

      const log = openLog(work, { recoveryPoint: 0, io: unsyncedIO });
      const whole = batches.filter((b) => b.file !== activeFile || b.position + b.size <= cut);
      const expectedEnd = whole[whole.length - 1]!.lastOffset + 1;
      const context = `cut at byte ${cut} of ${activeFile}`;
      expect({ context, leo: log.logEndOffset }).toEqual({ context, leo: expectedEnd });
      expect(log.loadReport.cleanShutdown).toBe(false);
      const keptBytes = whole.filter((b) => b.file === activeFile).reduce((n, b) => n + b.size, 0);
      expect({ context, truncated: log.loadReport.truncatedBytes }).toEqual({ context, truncated: cut - keptBytes });
      expect(readAllRecords(log)).toEqual(allRecords.filter((r) => r.offset < expectedEnd));
      // The epoch cache does not claim offsets that are gone.
      for (const e of log.leaderEpochCache.epochEntries()) expect(e.startOffset).toBeLessThan(expectedEnd);
      // Appending continues where the valid prefix ends.
      const r = log.append(makeBatch({ records: 2, timestamp: T0 + 999 }), { assignOffsets: true, leaderEpoch: 3 });
      expect(r.baseOffset).toBe(expectedEnd);
      expect(readAllRecords(log).map((x) => x.offset).slice(-2)).toEqual([expectedEnd, expectedEnd + 1]);
      log.close();
    }
  });

  test('a torn append (fault injected mid-write) takes the log offline; reopening recovers the prefix', () => {
    const dir = tempDir();
    const io = new FaultyFileIO();
    const log = openLog(dir, { io });
    for (let i = 0; i < 5; i++) log.append(makeBatch({ timestamp: T0 }), { assignOffsets: true });
    io.arm({ op: 'write', file: 'segment', effect: { kind: 'torn', bytes: 30 } });
    expectLogError(() => log.append(makeBatch({ timestamp: T0 }), { assignOffsets: true }), 'LOG_OFFLINE');
    expectLogError(() => log.read(0, 100), 'LOG_OFFLINE');
    expectLogError(() => log.append(makeBatch({ timestamp: T0 }), { assignOffsets: true }), 'LOG_OFFLINE');
    log.close(); // closes files, writes no marker
    expect(fs.existsSync(path.join(dir, CLEAN_SHUTDOWN_MARKER))).toBe(false);

    const reopened = openLog(dir);
    expect(reopened.logEndOffset).toBe(15);
    expect(reopened.loadReport.truncatedBytes).toBe(30);
    reopened.close();
  });
});

describe('corruption', () => {
  test('a flipped bit anywhere in a middle batch (inside the CRC, magic, length) truncates the log there', () => {
    const original = tempDir();
    buildLog(original, 10, { 'segment.bytes': 600 });
    const batches = layout(original);
    const files = [...new Set(batches.map((b) => b.file))];
    expect(files.length).toBeGreaterThanOrEqual(2);
    const victim = batches.filter((b) => b.file === files[0])[2]!;
    const work = tempDir();
    // Bytes 0-7 (base offset) and 12-15 (leader epoch) are outside the v2 CRC by design.
    const covered = [...Array(victim.size).keys()].filter((i) => i >= 8 && (i < 12 || i >= 16));
    for (const byte of covered) {
      fs.rmSync(work, { recursive: true, force: true });
      copyDir(original, work);
      const file = path.join(work, victim.file);
      const buf = fs.readFileSync(file);
      buf[victim.position + byte]! ^= 1 << (byte % 8);
      fs.writeFileSync(file, buf);
      simulateUncleanShutdown(work);

      const log = openLog(work, { io: unsyncedIO });
      const context = `bit flipped in byte ${byte} of the batch at offset ${victim.baseOffset}`;
      expect({ context, leo: log.logEndOffset }).toEqual({ context, leo: victim.baseOffset });
      expect(log.segmentCount).toBe(1);
      expect(log.loadReport.segmentsDeleted).toBe(files.length - 1);
      expect(log.loadReport.truncationReason).toBeDefined();
      expect(fs.readdirSync(work).filter((n) => n.endsWith('.log'))).toEqual([files[0]]);
      log.close();
    }
  });

  test('a clean shutdown skips the scan (damage stays unseen), an unclean one finds it', () => {
    const dir = tempDir();
    buildLog(dir, 6);
    const victim = layout(dir)[3]!;
    const file = path.join(dir, victim.file);
    const buf = fs.readFileSync(file);
    buf[victim.position + victim.size - 1]! ^= 0xff;
    fs.writeFileSync(file, buf);

    const clean = openLog(dir);
    expect(clean.loadReport).toMatchObject({ cleanShutdown: true, segmentsRecovered: 0, bytesRecovered: 0 });
    expect(fs.existsSync(path.join(dir, CLEAN_SHUTDOWN_MARKER))).toBe(false); // removed on open
    expect(clean.logEndOffset).toBe(12);
    // No CRC scan ran: the damaged batch is served as it is (consumers' CRC checks catch it).
    const damaged = clean.read(victim.baseOffset, 1 << 20);
    expect(() => decodeBatch(damaged.records, 0)).toThrow(/CRC/);
    clean.close();

    simulateUncleanShutdown(dir);
    const unclean = openLog(dir);
    expect(unclean.loadReport).toMatchObject({ cleanShutdown: false, segmentsRecovered: 1 });
    expect(unclean.logEndOffset).toBe(victim.baseOffset);
    unclean.close();
  });

  test('recovery starts at the segment holding the recovery point; earlier segments are trusted', () => {
    const dir = tempDir();
    buildLog(dir, 12, { 'segment.bytes': 500 });
    const batches = layout(dir);
    const files = [...new Set(batches.map((b) => b.file))];
    expect(files.length).toBeGreaterThanOrEqual(3);
    const lastBase = Number(files[files.length - 1]!.slice(0, 20));
    simulateUncleanShutdown(dir);
    const log = openLog(dir, { recoveryPoint: lastBase });
    expect(log.loadReport.segmentsRecovered).toBe(1);
    log.close();
    simulateUncleanShutdown(dir);
    const full = openLog(dir, { recoveryPoint: 0 });
    expect(full.loadReport.segmentsRecovered).toBe(files.length);
    full.close();
  });
});

describe('simulated crash', () => {
  test('unsynced appends are lost, flushed ones survive; the log continues from the recovered end', () => {
    const dir = tempDir();
    const io = new FaultyFileIO();
    const log = openLog(dir, { io });
    for (let i = 0; i < 4; i++) log.append(makeBatch({ timestamp: T0 + i }), { assignOffsets: true });
    log.flush();
    expect(log.recoveryPoint).toBe(12);
    for (let i = 0; i < 4; i++) log.append(makeBatch({ timestamp: T0 + i }), { assignOffsets: true });
    io.crash();
    expectLogError(() => log.append(makeBatch({ timestamp: T0 }), { assignOffsets: true }), 'LOG_OFFLINE');

    const reopened = openLog(dir, { io, recoveryPoint: 0 });
    expect(reopened.logEndOffset).toBe(12);
    expect(reopened.append(makeBatch({ timestamp: T0 }), { assignOffsets: true }).baseOffset).toBe(12);
    reopened.close();
  });

  test('a crash that keeps a random part of the unsynced data leaves a valid prefix of whole batches', () => {
    const seeds = Array.from({ length: 20 }, (_, i) => SEED + i);
    for (const seed of seeds) {
      const dir = tempDir();
      const io = new FaultyFileIO();
      const rnd = seededRandom(seed);
      const log = openLog(dir, { io, config: config({ 'segment.bytes': 800, 'index.interval.bytes': 0 }) });
      const expected: number[] = [];
      const batches = rnd.int(5, 25);
      let flushedEnd = 0;
      for (let i = 0; i < batches; i++) {
        const r = log.append(makeBatch({ records: rnd.int(1, 4), valueBytes: rnd.int(1, 60), timestamp: T0 + i }), { assignOffsets: true });
        for (let o = r.baseOffset; o <= r.lastOffset; o++) expected.push(o);
        if (rnd.next() < 0.2) {
          log.flush();
          flushedEnd = log.logEndOffset;
        }
      }
      io.crash({ unsynced: 'random-prefix', seed });
      const reopened = openLog(dir, { io });
      const leo = reopened.logEndOffset;
      const context = `seed ${seed}`;
      expect({ context, atLeastFlushed: leo >= flushedEnd }).toEqual({ context, atLeastFlushed: true });
      expect(readAllRecords(reopened).map((r) => r.offset)).toEqual(expected.filter((o) => o < leo));
      reopened.append(makeBatch({ timestamp: T0 }), { assignOffsets: true });
      reopened.close();
    }
  });
});

describe('open', () => {
  test('removes leftovers of interrupted operations and orphaned index files', () => {
    const dir = tempDir();
    buildLog(dir, 3);
    const leftovers = ['00000000000000000007.log.deleted', 'leader-epoch-checkpoint.tmp', '00000000000000000099.index', 'x.cleaned'];
    for (const n of leftovers) fs.writeFileSync(path.join(dir, n), 'junk');
    const log = openLog(dir);
    expect(log.loadReport.leftoversRemoved.sort()).toEqual([...leftovers].sort());
    for (const n of leftovers) expect(fs.existsSync(path.join(dir, n))).toBe(false);
    expect(log.logEndOffset).toBe(6);
    log.close();
  });

  test('a clean-shutdown marker is not trusted over an active segment that ends in a partial batch', () => {
    const dir = tempDir();
    buildLog(dir, 4);
    fs.appendFileSync(path.join(dir, '00000000000000000000.log'), makeBatch({ timestamp: T0 }).subarray(0, 40));
    const log = openLog(dir);
    expect(log.loadReport).toMatchObject({ cleanShutdown: true, cleanShutdownDistrusted: true, truncatedBytes: 40 });
    expect(log.logEndOffset).toBe(layout(dir).at(-1)!.lastOffset + 1);
    log.close();
  });

  test('a checkpointed log start offset past what survived restarts the log there', () => {
    const dir = tempDir();
    buildLog(dir, 3);
    const log = openLog(dir, { logStartOffset: 50 });
    expect([log.logStartOffset, log.logEndOffset, log.segmentBaseOffsets()]).toEqual([50, 50, [50]]);
    expect(log.leaderEpochCache.epochEntries()).toEqual([]);
    log.close();
  });

  test('an empty directory gets a first segment at the log start offset', () => {
    const dir = path.join(tempDir(), 'topic-3');
    const log = openLog(dir, { logStartOffset: 7 });
    expect([log.logStartOffset, log.logEndOffset]).toEqual([7, 7]);
    expect(log.append(makeBatch({ timestamp: T0 }), { assignOffsets: true }).baseOffset).toBe(7);
    log.close();
    expect(fs.existsSync(path.join(dir, '00000000000000000007.log'))).toBe(true);
  });
});
