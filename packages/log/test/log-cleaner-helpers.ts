// Shared by the log cleaner tests: keyed batches, a full read of a log's keyed records, and a
// cleaning run to completion.

import { encodeBatch, type BatchInput } from '../src/codec.js';
import type { CleanOptions, CleaningPass } from '../src/log-cleaner.js';
import type { Log } from '../src/log.js';
import { decodeBatch } from '../src/record-decoder.js';

export interface KV {
  key: string | null;
  value: string | null;
}

/** One batch of keyed records (a null value is a tombstone, a null key is invalid in a compacted log). */
export function kvBatch(records: KV[], timestamp: number, extra: Partial<BatchInput> = {}): Buffer {
  return encodeBatch({
    records: records.map((r) => ({
      key: r.key === null ? null : Buffer.from(r.key),
      value: r.value === null ? null : Buffer.from(r.value),
      timestamp,
    })),
    ...extra,
  });
}

export interface StoredRecord {
  offset: number;
  key: string | null;
  value: string | null;
  timestamp: number;
}

export interface StoredBatch {
  baseOffset: number;
  lastOffset: number;
  recordCount: number;
  producerId: bigint;
  baseSequence: number;
}

/** Every record and batch of the log from its start, through read(). */
export function readLog(log: Log): { records: StoredRecord[]; batches: StoredBatch[] } {
  const records: StoredRecord[] = [];
  const batches: StoredBatch[] = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const r = log.read(offset, 1 << 20);
    if (r.batchCount === 0) break;
    let pos = 0;
    while (pos < r.records.length) {
      const b = decodeBatch(r.records, pos);
      const h = b.header;
      batches.push({ baseOffset: h.baseOffset, lastOffset: h.baseOffset + h.lastOffsetDelta, recordCount: h.recordCount, producerId: h.producerId, baseSequence: h.baseSequence });
      for (const rec of b.records) {
        records.push({ offset: rec.offset, key: rec.key?.toString() ?? null, value: rec.value?.toString() ?? null, timestamp: rec.timestamp });
      }
      pos += h.batchLength + 12;
    }
    offset = r.nextOffset;
  }
  return { records, batches };
}

/** Runs a cleaning to completion, one step at a time; returns the pass and how many steps it took. */
export function cleanFully(log: Log, options: CleanOptions): { pass: CleaningPass; steps: number } {
  const pass = log.startCleaning(options);
  let steps = 0;
  while (pass.step()) {
    steps++;
    if (steps > 1_000_000) throw new Error('cleaning does not terminate');
  }
  return { pass, steps: steps + 1 };
}

/** key → value visible to a consumer reading the whole log in order (the last record per key wins). */
export function visibleState(records: readonly StoredRecord[]): Map<string, string | null> {
  const state = new Map<string, string | null>();
  for (const r of records) if (r.key !== null) state.set(r.key, r.value);
  return state;
}
