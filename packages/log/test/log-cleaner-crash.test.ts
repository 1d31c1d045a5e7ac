// A crash at any I/O call of a cleaning leaves a log that reopens through CRC recovery with no
// batch cut and no leftover file, and reads as the clean's pre-state, its post-state, or (when
// it stopped between segment groups) the post-state up to a group boundary and the pre-state
// after it: a group is swapped in whole or not at all. Every (operation, file kind) the cleaning
// performs is failed at each of its occurrences, then the machine "loses power".

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FaultyFileIO, type FaultOp, type FileKind } from '../src/faulty-file-io.js';
import { cleanFully, kvBatch, readLog, visibleState, type StoredRecord } from './log-cleaner-helpers.js';
import { ManualClock, cleanupTempDirs, config, copyDir, openLog, tempDir, unsyncedIO } from './log-test-helpers.js';

afterEach(cleanupTempDirs);

const CFG = config({ 'cleanup.policy': 'compact', 'segment.bytes': 300, 'index.interval.bytes': 64 });
const T0 = 1_760_000_000_000;

/** Directories made while the suite is collected; removed after all its tests. */
const suiteDirs: string[] = [];
function suiteDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  suiteDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const d of suiteDirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A closed log of several segments with superseded keys and tombstones. */
function buildBase(): string {
  const dir = suiteDir('samsa-clean-crash-');
  const clock = new ManualClock(T0);
  const log = openLog(dir, { clock: clock.read, config: CFG, io: unsyncedIO });
  for (let i = 0; i < 24; i++) {
    const records = [{ key: `k${i % 5}`, value: `v${i}` }, { key: `u${i % 3}`, value: i % 7 === 3 ? null : `w${i}` }];
    log.append(kvBatch(records, clock.now), { assignOffsets: true, leaderEpoch: 0 });
  }
  log.close();
  // fsyncs were skipped while building: remove the marker so nothing relies on them, then
  // re-open through the real I/O once so every file is fsynced and the log closed cleanly.
  const reopened = openLog(dir, { clock: clock.read, config: CFG });
  reopened.close();
  return dir;
}

function recordsOf(dir: string, io: FaultyFileIO): { records: StoredRecord[]; report: ReturnType<typeof openLog>['loadReport'] } {
  const log = openLog(dir, { clock: () => T0, config: CFG, io });
  try {
    return { records: readLog(log).records, report: log.loadReport };
  } finally {
    log.close();
  }
}

/** `after` is post up to some boundary and pre from there on. */
function isPrefixOfPostThenPre(after: StoredRecord[], pre: StoredRecord[], post: StoredRecord[]): boolean {
  const candidates = new Set<number>([0, Number.MAX_SAFE_INTEGER, ...pre.map((r) => r.offset), ...post.map((r) => r.offset)]);
  const json = JSON.stringify(after);
  for (const x of candidates) {
    const mixed = [...post.filter((r) => r.offset < x), ...pre.filter((r) => r.offset >= x)];
    if (JSON.stringify(mixed) === json) return true;
  }
  return false;
}

describe('log cleaner crash safety', () => {
  const base = buildBase();
  const preIO = new FaultyFileIO(unsyncedIO);
  const preDir = suiteDir('samsa-clean-pre-');
  copyDir(base, preDir);
  const pre = recordsOf(preDir, preIO).records;

  // The reference run: which I/O calls a full cleaning makes, and the state it produces.
  const refDir = suiteDir('samsa-clean-ref-');
  copyDir(base, refDir);
  const refIO = new FaultyFileIO(unsyncedIO);
  const refLog = openLog(refDir, { clock: () => T0, config: CFG, io: refIO });
  refIO.calls.clear();
  const refPass = cleanFully(refLog, { firstDirtyOffset: 0 }).pass;
  const counts = new Map([...refIO.calls].filter(([k]) => k.includes(':')));
  refLog.close();
  const post = recordsOf(refDir, new FaultyFileIO(unsyncedIO)).records;

  const points: [string, FaultOp, FileKind, number][] = [];
  for (const [key, n] of counts) {
    const [op, kind] = key.split(':') as [FaultOp, FileKind];
    for (let k = 0; k < n; k++) points.push([`${op} ${kind} #${k + 1} of ${n}`, op, kind, k]);
  }

  // Torn writes of the cleaned segment: part of a write reaches the file, then the write fails.
  const tornPoints: [string, number][] = [];
  for (let k = 0; k < (counts.get('write:cleaned') ?? 0); k++) tornPoints.push([`write cleaned #${k + 1}`, k]);

  test.each(tornPoints)('crash after a torn %s', (_name, after) => {
    const dir = tempDir('samsa-clean-torn-');
    copyDir(base, dir);
    const io = new FaultyFileIO(unsyncedIO);
    const log = openLog(dir, { clock: () => T0, config: CFG, io });
    io.arm({ op: 'write', file: 'cleaned', after, effect: { kind: 'torn', bytes: 70 } });
    expect(() => cleanFully(log, { firstDirtyOffset: 0 })).toThrow();
    log.close();
    io.crash({ unsynced: 'random-prefix', seed: after + 11 });
    io.disarmAll();
    const { records, report } = recordsOf(dir, io);
    expect(report.truncatedBytes).toBe(0);
    expect(isPrefixOfPostThenPre(records, pre, post)).toBe(true);
  });

  test('the reference cleaning changes the log and swaps several groups', () => {
    expect(post.length).toBeLessThan(pre.length);
    expect(refPass.stats.segmentsWritten).toBeGreaterThan(1);
    expect(visibleState(post)).toEqual(visibleState(pre));
    for (const kind of ['cleaned', 'swap'] as const) expect(points.some(([, , k]) => k === kind)).toBe(true);
    expect(points.length).toBeGreaterThan(50);
  });

  test.each(points)('crash after a failed %s', (_name, op, kind, after) => {
    const dir = tempDir('samsa-clean-case-');
    copyDir(base, dir);
    const io = new FaultyFileIO(unsyncedIO);
    const log = openLog(dir, { clock: () => T0, config: CFG, io });
    const armed = io.arm({ op, file: kind, after, effect: { kind: 'error', code: 'EIO' } });
    expect(() => cleanFully(log, { firstDirtyOffset: 0 })).toThrow();
    expect(armed.fired).toBe(1);
    expect(log.isOffline).toBe(true);
    log.close();
    io.crash({ unsynced: after % 2 === 0 ? 'drop' : 'random-prefix', seed: after + 1 });
    io.disarmAll();

    const { records, report } = recordsOf(dir, io);
    expect(report.cleanShutdown).toBe(false);
    expect(report.truncatedBytes).toBe(0);
    expect(isPrefixOfPostThenPre(records, pre, post)).toBe(true);
    const left = fs.readdirSync(dir).filter((n) => /\.(cleaned|swap|deleted|tmp)$/.test(n));
    expect(left).toEqual([]);
    // A later cleaning of the recovered log reaches the reference post-state.
    const again = openLog(dir, { clock: () => T0, config: CFG, io });
    cleanFully(again, { firstDirtyOffset: 0 });
    expect(readLog(again).records).toEqual(post);
    again.close();
  });
});
