// Shared by the log tests: temp directories, batch builders, a manual clock, a seeded RNG and a
// linear reference scan of a log's files that the indexed lookups are checked against.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeBatch, type BatchInput } from '../src/codec.js';
import { mulberry32 } from '../src/faulty-file-io.js';
import { NodeFileIO } from '../src/file-io.js';
import { createLogConfig, type LogConfig } from '../src/log-config.js';
import { Log, type LogOptions } from '../src/log.js';
import { decodeBatch } from '../src/record-decoder.js';

/** Seed of the randomised log tests; printed by a failing assertion's message. */
export const SEED = Number(process.env.SAMSA_TEST_SEED ?? 4242);

export function seededRandom(seed = SEED): { next: () => number; int: (lo: number, hi: number) => number } {
  const next = mulberry32(seed);
  return { next, int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)) };
}

const made: string[] = [];

/** A fresh temp directory, removed by cleanupTempDirs (call it in afterEach). */
export function tempDir(prefix = 'samsa-log-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export function cleanupTempDirs(): void {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** A manual clock, starting at a fixed epoch-ms instant. */
export class ManualClock {
  constructor(public now = 1_760_000_000_000) {}
  readonly read = (): number => this.now;
  advance(ms: number): void {
    this.now += ms;
  }
}

export interface BatchSpec {
  records?: number;
  valueBytes?: number;
  timestamp: number;
  /** Per-record timestamps step by this much from `timestamp`. Default 0. */
  timestampStep?: number;
  baseOffset?: number;
  partitionLeaderEpoch?: number;
  compression?: BatchInput['compression'];
}

/** One valid v2 batch built by the codec, values filled with a recognisable pattern. */
export function makeBatch(spec: BatchSpec): Buffer {
  const n = spec.records ?? 3;
  const valueBytes = spec.valueBytes ?? 20;
  const records = [];
  for (let i = 0; i < n; i++) {
    records.push({
      key: Buffer.from(`k${i}`),
      value: Buffer.alloc(valueBytes, 97 + (i % 26)),
      timestamp: spec.timestamp + i * (spec.timestampStep ?? 0),
    });
  }
  return encodeBatch({
    records,
    baseOffset: spec.baseOffset ?? 0,
    partitionLeaderEpoch: spec.partitionLeaderEpoch,
    compression: spec.compression,
  });
}

/**
 * Real files without fsync, for tests that damage files by hand and check what recovery makes
 * of them: durability is not what they test, and hundreds of reopen cycles must stay fast.
 */
class UnsyncedFileIO extends NodeFileIO {
  override fsync(): void {}
  override fsyncDir(): void {}
}
export const unsyncedIO = new UnsyncedFileIO();

export function config(overrides: Record<string, unknown> = {}): LogConfig {
  return createLogConfig(overrides);
}

export function openLog(dir: string, options: Partial<LogOptions> = {}): Log {
  return Log.open({ dir, ...options });
}

export interface ScannedRecord {
  offset: number;
  timestamp: number;
  batchBase: number;
}

/** Every record of the log, read batch by batch through read() from the log start offset. */
export function readAllRecords(log: Log, upTo = log.logEndOffset): ScannedRecord[] {
  const out: ScannedRecord[] = [];
  let offset = log.logStartOffset;
  while (offset < upTo) {
    const r = log.read(offset, 1 << 20, upTo);
    if (r.batchCount === 0) break;
    let pos = 0;
    while (pos < r.records.length) {
      const b = decodeBatch(r.records, pos);
      for (const rec of b.records) out.push({ offset: rec.offset, timestamp: rec.timestamp, batchBase: b.header.baseOffset });
      pos += b.header.batchLength + 12;
    }
    offset = r.nextOffset;
  }
  return out;
}

/** Every batch stored in the segment files of `dir`, by a plain linear scan of the bytes. */
export function scanSegmentFiles(dir: string): { baseOffset: number; lastOffset: number; maxTimestamp: number; bytes: Buffer }[] {
  const out = [];
  for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('.log')).sort()) {
    const buf = fs.readFileSync(path.join(dir, name));
    let pos = 0;
    while (pos + 61 <= buf.length) {
      const size = buf.readInt32BE(pos + 8) + 12;
      if (pos + size > buf.length) break;
      const b = decodeBatch(buf, pos);
      out.push({
        baseOffset: b.header.baseOffset,
        lastOffset: b.header.baseOffset + b.header.lastOffsetDelta,
        maxTimestamp: b.header.maxTimestamp,
        bytes: Buffer.from(buf.subarray(pos, pos + size)),
      });
      pos += size;
    }
  }
  return out;
}

export function copyDir(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const name of fs.readdirSync(from)) fs.copyFileSync(path.join(from, name), path.join(to, name));
}

/** Expects `fn` to throw a LogError with `code`. */
export function expectLogError(fn: () => unknown, code: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeDefined();
  expect((thrown as { code?: string }).code).toBe(code);
}
