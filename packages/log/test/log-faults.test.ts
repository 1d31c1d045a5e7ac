// I/O failures are fatal for a log: it goes offline (LOG_OFFLINE, cause attached), does no more
// I/O, retries nothing, and the next open recovers. Plus the flush policy's fsyncs.

import fs from 'node:fs';
import path from 'node:path';
import { LogError } from '../src/errors.js';
import { FaultyFileIO, type FaultSpec } from '../src/faulty-file-io.js';
import type { Log } from '../src/log.js';
import { CLEAN_SHUTDOWN_MARKER } from '../src/recovery.js';
import { ManualClock, cleanupTempDirs, config, expectLogError, makeBatch, openLog, readAllRecords, tempDir } from './log-test-helpers.js';

afterEach(cleanupTempDirs);

const T0 = 1_760_000_000_000;
const batch = () => makeBatch({ records: 2, valueBytes: 40, timestamp: T0 });

function totalCalls(io: FaultyFileIO): number {
  let n = 0;
  for (const [k, v] of io.calls) if (!k.includes(':')) n += v;
  return n;
}

/** The failing call threw LOG_OFFLINE with the injected errno as cause; nothing works afterwards, without I/O. */
function expectOffline(log: Log, io: FaultyFileIO, failing: () => unknown, code: string): void {
  let thrown: unknown;
  try {
    failing();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(LogError);
  expect((thrown as LogError).code).toBe('LOG_OFFLINE');
  expect(((thrown as LogError).cause as NodeJS.ErrnoException).code).toBe(code);
  expect(log.isOffline).toBe(true);
  expect((log.offlineError as NodeJS.ErrnoException).code).toBe(code);
  const before = totalCalls(io);
  expectLogError(() => log.append(batch(), { assignOffsets: true }), 'LOG_OFFLINE');
  expectLogError(() => log.read(0, 100), 'LOG_OFFLINE');
  expectLogError(() => log.flush(), 'LOG_OFFLINE');
  expectLogError(() => log.truncateTo(0), 'LOG_OFFLINE');
  expectLogError(() => log.applyRetention(), 'LOG_OFFLINE');
  expect(totalCalls(io)).toBe(before); // refused without touching the disk
}

const cases: [string, FaultSpec, Record<string, unknown>, (log: Log) => unknown][] = [
  ['fsync of the segment on roll (EIO)', { op: 'fsync', file: 'segment', effect: { kind: 'error', code: 'EIO' } }, { 'segment.bytes': 400 },
    (log) => { for (let i = 0; i < 10; i++) log.append(batch(), { assignOffsets: true }); }],
  ['fsync of the index on roll (EIO)', { op: 'fsync', file: 'offset-index', effect: { kind: 'error', code: 'EIO' } }, { 'segment.bytes': 400 },
    (log) => { for (let i = 0; i < 10; i++) log.append(batch(), { assignOffsets: true }); }],
  ['fsync on flush.messages (EIO)', { op: 'fsync', file: 'segment', effect: { kind: 'error', code: 'EIO' } }, { 'flush.messages': 5 },
    (log) => { for (let i = 0; i < 10; i++) log.append(batch(), { assignOffsets: true }); }],
  ['write of an append (ENOSPC)', { op: 'write', file: 'segment', effect: { kind: 'error', code: 'ENOSPC' } }, {},
    (log) => log.append(batch(), { assignOffsets: true })],
  ['write of the epoch checkpoint (ENOSPC)', { op: 'write', file: 'checkpoint', effect: { kind: 'error', code: 'ENOSPC' } }, {},
    (log) => log.append(batch(), { assignOffsets: true, leaderEpoch: 5 })],
  ['truncate of a segment (EIO)', { op: 'truncate', file: 'segment', effect: { kind: 'error', code: 'EIO' } }, {},
    (log) => log.truncateTo(1)],
  ['fsync of the directory on roll (EIO)', { op: 'fsyncDir', effect: { kind: 'error', code: 'EIO' } }, {},
    (log) => log.roll()],
];

describe('an I/O failure takes the log offline', () => {
  test.each(cases)('%s', (_name, fault, overrides, action) => {
    const dir = tempDir();
    const io = new FaultyFileIO();
    const log = openLog(dir, { io, config: config(overrides) });
    log.append(batch(), { assignOffsets: true });
    const armed = io.arm({ ...fault, times: 100 });
    expectOffline(log, io, () => action(log), fault.effect.kind === 'error' ? fault.effect.code : 'EIO');
    expect(armed.fired).toBe(1); // surfaced at once, never retried
    log.close(); // releases descriptors; no flush, no marker
    expect(fs.existsSync(path.join(dir, CLEAN_SHUTDOWN_MARKER))).toBe(false);
    io.disarmAll();

    const reopened = openLog(dir, { io });
    expect(reopened.loadReport.cleanShutdown).toBe(false);
    expect(reopened.logEndOffset).toBeGreaterThanOrEqual(2);
    expect(readAllRecords(reopened).map((r) => r.offset)).toEqual([...Array(reopened.logEndOffset).keys()]);
    reopened.close();
  });

  test('a failed fsync at close: close throws LOG_OFFLINE and leaves no clean-shutdown marker', () => {
    const dir = tempDir();
    const io = new FaultyFileIO();
    const log = openLog(dir, { io });
    log.append(batch(), { assignOffsets: true });
    io.arm({ op: 'fsync', file: 'segment', effect: { kind: 'error', code: 'EIO' } });
    expectLogError(() => log.close(), 'LOG_OFFLINE');
    expect(fs.existsSync(path.join(dir, CLEAN_SHUTDOWN_MARKER))).toBe(false);
    expectLogError(() => log.read(0, 10), 'LOG_CLOSED');
    log.close(); // idempotent
  });

  test('validation errors are the caller\'s problem, not the disk\'s: the log stays online', () => {
    const log = openLog(tempDir());
    const bad = batch();
    bad[bad.length - 1]! ^= 1;
    expectLogError(() => log.append(bad, { assignOffsets: true }), 'CORRUPT_RECORD');
    expectLogError(() => log.read(99, 10), 'OFFSET_OUT_OF_RANGE');
    expect(log.isOffline).toBe(false);
    log.append(batch(), { assignOffsets: true });
    log.close();
  });
});

describe('flush policy', () => {
  test('by default appends never fsync; a roll, flush() and close() do', () => {
    const io = new FaultyFileIO();
    const log = openLog(tempDir(), { io, config: config({ 'segment.bytes': 1000 }) });
    const segmentFsyncs = () => io.callCount('fsync', 'segment');
    for (let i = 0; i < 4; i++) log.append(batch(), { assignOffsets: true });
    expect(log.segmentCount).toBe(1);
    expect(segmentFsyncs()).toBe(0);
    expect(log.recoveryPoint).toBe(0);
    while (log.segmentCount === 1) log.append(batch(), { assignOffsets: true });
    expect(segmentFsyncs()).toBe(1); // the rolled segment
    expect(log.recoveryPoint).toBe(log.segmentBaseOffsets()[1]);
    log.flush();
    expect(segmentFsyncs()).toBe(2);
    expect(log.recoveryPoint).toBe(log.logEndOffset);
    log.flush(); // nothing new: no fsync
    expect(segmentFsyncs()).toBe(2);
    log.append(batch(), { assignOffsets: true });
    log.close();
    expect(segmentFsyncs()).toBe(3);
  });

  test('flush.messages fsyncs once that many records are unflushed', () => {
    const io = new FaultyFileIO();
    const log = openLog(tempDir(), { io, config: config({ 'flush.messages': 5 }) });
    log.append(batch(), { assignOffsets: true }); // 2 unflushed
    log.append(batch(), { assignOffsets: true }); // 4
    expect(io.callCount('fsync', 'segment')).toBe(0);
    log.append(batch(), { assignOffsets: true }); // 6 >= 5
    expect(io.callCount('fsync', 'segment')).toBe(1);
    expect(log.recoveryPoint).toBe(6);
    log.close();
  });

  test('flush.ms fsyncs at the first append or maybeFlush() after that long', () => {
    const io = new FaultyFileIO();
    const clock = new ManualClock();
    const log = openLog(tempDir(), { io, clock: clock.read, config: config({ 'flush.ms': 1000 }) });
    log.append(batch(), { assignOffsets: true });
    clock.advance(999);
    log.append(batch(), { assignOffsets: true });
    log.maybeFlush();
    expect(io.callCount('fsync', 'segment')).toBe(0);
    clock.advance(1);
    log.maybeFlush();
    expect(io.callCount('fsync', 'segment')).toBe(1);
    expect(log.recoveryPoint).toBe(4);
    clock.advance(5000);
    log.maybeFlush(); // nothing unflushed
    expect(io.callCount('fsync', 'segment')).toBe(1);
    log.append(batch(), { assignOffsets: true });
    expect(io.callCount('fsync', 'segment')).toBe(2);
    log.close();
  });
});
