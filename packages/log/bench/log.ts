// Throughput of the partition log, as JSON lines:
//   log.append.raw_write  sequential fs.writeSync of the very bytes the log appends (the ceiling)
//   log.append            Log.append as leader (CRC check, offsets assigned, indexes), same bytes
//   log.append.crc32c     CRC-32C alone over the same bytes (the part of append that is JS compute)
//   log.recovery          reopening a log after a simulated crash: every batch CRC-checked, indexes rebuilt
//   log.read.sequential   the whole log through Log.read() in large chunks, from the page cache
// Workload: 100-byte records in ~16 KiB uncompressed batches. Sizes: SAMSA_BENCH_LOG_BYTES
// (default 1 GiB) for the recovered log; appends are measured on up to 256 MiB per round,
// alternating raw and log rounds so both see the same disk state. Everything lives in a temp
// directory that is removed afterwards. The page cache is warm for recovery and reads (a process
// crash, not a power loss).
//
//   npx tsx --conditions=@samsa/source packages/log/bench/log.ts

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { encodeBatch, type RecordInput } from '../src/codec.js';
import { crc32c } from '../src/crc32c.js';
import { CLEAN_SHUTDOWN_MARKER } from '../src/recovery.js';
import { Log } from '../src/log.js';

const BATCH_BYTES = 16 * 1024;
const VALUE_BYTES = 100;
const POOL = 16;
const APPEND_ROUNDS = 3;
const MAX_APPEND_BYTES_PER_ROUND = 256 * 1024 * 1024;
const READ_CHUNKS = [1024 * 1024, 8 * 1024 * 1024];

function fillerBytes(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/** The largest batch of 100-byte records that stays within 16 KiB. */
function makeBatch(seed: number): Buffer {
  const records: RecordInput[] = [];
  let batch: Buffer = Buffer.alloc(0);
  for (;;) {
    records.push({ value: fillerBytes(VALUE_BYTES, seed * 1000 + records.length) });
    const next = encodeBatch({ records, timestamp: 1_760_000_000_000 + records.length });
    if (next.length > BATCH_BYTES) return batch;
    batch = next;
  }
}

function line(fields: Record<string, unknown>): void {
  console.log(JSON.stringify(fields));
}

function mbPerSec(bytes: number, ms: number): number {
  return Math.round(bytes / ms / 100) / 10;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function rawWrite(file: string, pool: Buffer[], totalBytes: number): number {
  const fd = fs.openSync(file, 'w');
  const start = performance.now();
  let written = 0;
  for (let i = 0; written < totalBytes; i++) {
    const b = pool[i % pool.length]!;
    fs.writeSync(fd, b, 0, b.length, null);
    written += b.length;
  }
  const ms = performance.now() - start;
  fs.closeSync(fd);
  fs.rmSync(file);
  return ms;
}

function logAppend(dir: string, pool: Buffer[], totalBytes: number): number {
  const log = Log.open({ dir });
  const start = performance.now();
  let written = 0;
  for (let i = 0; written < totalBytes; i++) {
    const b = pool[i % pool.length]!;
    log.append(b, { assignOffsets: true, leaderEpoch: 1 });
    written += b.length;
  }
  const ms = performance.now() - start;
  log.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return ms;
}

export async function runLogBench(): Promise<void> {
  const logBytes = Number(process.env.SAMSA_BENCH_LOG_BYTES ?? 1024 * 1024 * 1024);
  if (!Number.isSafeInteger(logBytes) || logBytes < BATCH_BYTES) {
    throw new Error(`SAMSA_BENCH_LOG_BYTES=${process.env.SAMSA_BENCH_LOG_BYTES} is not a byte count >= ${BATCH_BYTES}`);
  }
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-log-bench-'));
  try {
    const pool = Array.from({ length: POOL }, (_, i) => makeBatch(i + 1));
    const batchBytes = pool[0]!.length;
    const recordsPerBatch = pool[0]!.readInt32BE(57);

    // Append: raw writes and log appends of the same bytes, rounds alternating.
    const appendBytes = Math.min(logBytes, MAX_APPEND_BYTES_PER_ROUND);
    const rawMs: number[] = [];
    const logMs: number[] = [];
    rawWrite(path.join(root, 'warmup.raw'), pool, Math.min(appendBytes, 32 * 1024 * 1024));
    logAppend(path.join(root, 'warmup-0'), pool, Math.min(appendBytes, 32 * 1024 * 1024));
    for (let round = 0; round < APPEND_ROUNDS; round++) {
      rawMs.push(rawWrite(path.join(root, `raw-${round}`), pool, appendBytes));
      logMs.push(logAppend(path.join(root, `append-${round}`), pool, appendBytes));
    }
    const raw = mbPerSec(appendBytes, median(rawMs));
    const appended = mbPerSec(appendBytes, median(logMs));
    line({ bench: 'log.append.raw_write', mb_per_sec: raw, mb_per_sec_best: mbPerSec(appendBytes, Math.min(...rawMs)), bytes: appendBytes, rounds: APPEND_ROUNDS });
    line({
      bench: 'log.append',
      mb_per_sec: appended,
      mb_per_sec_best: mbPerSec(appendBytes, Math.min(...logMs)),
      records_per_sec: Math.round((appendBytes / batchBytes) * recordsPerBatch / (median(logMs) / 1000)),
      ratio_to_raw_write: Math.round((appended / raw) * 100) / 100,
      target_ratio: 0.8,
      batch_bytes: batchBytes,
      records_per_batch: recordsPerBatch,
      bytes: appendBytes,
    });
    let sink = 0;
    const crcStart = performance.now();
    for (let done = 0, i = 0; done < appendBytes; i++) {
      const b = pool[i % POOL]!;
      sink ^= crc32c(b, 21);
      done += b.length;
    }
    line({ bench: 'log.append.crc32c', mb_per_sec: mbPerSec(appendBytes, performance.now() - crcStart), bytes: appendBytes });

    // Recovery: a log of logBytes, closed, its clean-shutdown marker removed, reopened from recovery point 0.
    const dir = path.join(root, 'bench-0');
    const log = Log.open({ dir });
    for (let i = 0; log.size < logBytes; i++) log.append(pool[i % POOL]!, { assignOffsets: true, leaderEpoch: 1 });
    const logEndOffset = log.logEndOffset;
    const size = log.size;
    log.close();
    fs.rmSync(path.join(dir, CLEAN_SHUTDOWN_MARKER));
    const recoveryStart = performance.now();
    const recovered = Log.open({ dir, recoveryPoint: 0 });
    const recoveryMs = performance.now() - recoveryStart;
    if (recovered.logEndOffset !== logEndOffset) throw new Error(`recovery lost data: ${recovered.logEndOffset} != ${logEndOffset}`);
    line({
      bench: 'log.recovery',
      seconds: Math.round(recoveryMs) / 1000,
      mb_per_sec: mbPerSec(size, recoveryMs),
      bytes: size,
      segments: recovered.loadReport.segmentsRecovered,
      clean_shutdown: recovered.loadReport.cleanShutdown,
    });

    // Sequential read of the whole log through read().
    for (const chunk of READ_CHUNKS) {
      const readStart = performance.now();
      let bytes = 0;
      let offset = recovered.logStartOffset;
      while (offset < recovered.logEndOffset) {
        const r = recovered.read(offset, chunk);
        bytes += r.records.length;
        offset = r.nextOffset;
      }
      const readMs = performance.now() - readStart;
      if (bytes !== size) throw new Error(`read ${bytes} bytes of ${size}`);
      line({ bench: 'log.read.sequential', gb_per_sec: Math.round(bytes / readMs / 1e4) / 100, target_gb_per_sec: 1, max_bytes: chunk, bytes });
    }
    recovered.close();
    if (sink === 0.5) console.log('unreachable');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runLogBench();
}
