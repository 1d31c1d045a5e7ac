// Re-encoding of a record batch that the log cleaner filtered: the records it keeps, in a batch
// that keeps the original's base offset, last offset delta, producer id/epoch, base sequence,
// partition leader epoch and attributes (as Kafka's cleaner does with overrideLastOffset), so
// offsets never change and an idempotent producer's sequence numbers still line up. Each record
// keeps its offset delta and timestamp; the CRC is recomputed.
//
// A batch whose tombstones start their delete.retention.ms countdown gets Kafka's delete horizon
// (KIP-534): attribute bit 6 set and the horizon written as the base timestamp, the records'
// timestamp deltas taken against it, so every record still decodes to its own timestamp.

import {
  ATTR_DELETE_HORIZON, BATCH_HEADER_SIZE, LOG_OVERHEAD, OFFSET_ATTRIBUTES, OFFSET_BASE_TIMESTAMP, OFFSET_BATCH_LENGTH,
  OFFSET_CRC, OFFSET_MAX_TIMESTAMP, OFFSET_RECORD_COUNT, computeBatchCrc, type CompressionType,
} from './batch-header.js';
import { compressRecords } from './compression.js';
import type { DecodedRecord } from './record-decoder.js';
import { sizeOfVarint, sizeOfVarlong, writeInt64FromNumber, writeVarint, writeVarlong } from './varint.js';

/** True when the batch carries a delete horizon (its base timestamp is the horizon). */
export function hasDeleteHorizon(attributes: number): boolean {
  return (attributes & ATTR_DELETE_HORIZON) !== 0;
}

function nullableSize(b: Buffer | null): number {
  return b === null ? 1 : sizeOfVarint(b.length) + b.length;
}

function writeNullable(out: Buffer, pos: number, b: Buffer | null): number {
  if (b === null) return writeVarint(out, pos, -1);
  pos = writeVarint(out, pos, b.length);
  b.copy(out, pos);
  return pos + b.length;
}

function encodeRecords(records: readonly DecodedRecord[], baseOffset: number, baseTimestamp: number): Buffer {
  const bodies: number[] = [];
  let total = 0;
  for (const r of records) {
    let size = 1 + sizeOfVarlong(r.timestamp - baseTimestamp) + sizeOfVarint(r.offset - baseOffset);
    size += nullableSize(r.key) + nullableSize(r.value) + sizeOfVarint(r.headers.length);
    for (const h of r.headers) {
      const k = Buffer.byteLength(h.key, 'utf8');
      size += sizeOfVarint(k) + k + nullableSize(h.value);
    }
    bodies.push(size);
    total += sizeOfVarint(size) + size;
  }
  const out = Buffer.allocUnsafe(total);
  let pos = 0;
  records.forEach((r, i) => {
    pos = writeVarint(out, pos, bodies[i]!);
    out[pos++] = 0;
    pos = writeVarlong(out, pos, r.timestamp - baseTimestamp);
    pos = writeVarint(out, pos, r.offset - baseOffset);
    pos = writeNullable(out, pos, r.key);
    pos = writeNullable(out, pos, r.value);
    pos = writeVarint(out, pos, r.headers.length);
    for (const h of r.headers) {
      const k = Buffer.from(h.key, 'utf8');
      pos = writeVarint(out, pos, k.length);
      k.copy(out, pos);
      pos += k.length;
      pos = writeNullable(out, pos, h.value);
    }
  });
  return out;
}

export interface RetainedBatchInput {
  /** The original batch (header fields are copied from it). */
  original: Buffer;
  compression: CompressionType;
  /** Log-append time: the header's max timestamp stands for every record and is kept. */
  logAppendTime: boolean;
  records: readonly DecodedRecord[];
  /** Set the delete horizon to this (ms) unless the original has one already. */
  deleteHorizonMs?: number;
}

/**
 * The batch with only `records` (a subset of the original's, in order). With no records it is
 * Kafka's empty batch: the header alone, which keeps the batch's offsets and producer fields.
 */
export function encodeRetainedBatch(input: RetainedBatchInput): Buffer {
  const { original, records } = input;
  const baseOffset = Number(original.readBigInt64BE(0));
  let attributes = original.readInt16BE(OFFSET_ATTRIBUTES);
  let baseTimestamp = Number(original.readBigInt64BE(OFFSET_BASE_TIMESTAMP));
  let maxTimestamp = Number(original.readBigInt64BE(OFFSET_MAX_TIMESTAMP));
  if (input.deleteHorizonMs !== undefined && !hasDeleteHorizon(attributes)) {
    attributes |= ATTR_DELETE_HORIZON;
    baseTimestamp = input.deleteHorizonMs;
  }
  if (!input.logAppendTime && records.length > 0) {
    maxTimestamp = records[0]!.timestamp;
    for (const r of records) if (r.timestamp > maxTimestamp) maxTimestamp = r.timestamp;
  }
  let body = records.length === 0 ? Buffer.alloc(0) : encodeRecords(records, baseOffset, baseTimestamp);
  if (records.length > 0 && input.compression !== 'none') body = compressRecords(input.compression, body);
  const out = Buffer.allocUnsafe(BATCH_HEADER_SIZE + body.length);
  original.copy(out, 0, 0, BATCH_HEADER_SIZE);
  body.copy(out, BATCH_HEADER_SIZE);
  out.writeInt32BE(out.length - LOG_OVERHEAD, OFFSET_BATCH_LENGTH);
  out.writeInt16BE(attributes, OFFSET_ATTRIBUTES);
  writeInt64FromNumber(out, OFFSET_BASE_TIMESTAMP, baseTimestamp);
  writeInt64FromNumber(out, OFFSET_MAX_TIMESTAMP, maxTimestamp);
  out.writeInt32BE(records.length, OFFSET_RECORD_COUNT);
  out.writeUInt32BE(computeBatchCrc(out, 0, out.length), OFFSET_CRC);
  return out;
}
