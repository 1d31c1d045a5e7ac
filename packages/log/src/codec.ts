// Encoding of Kafka v2 record batches. No file-system dependency: the client imports this too.
//
// One pass sizes every record (sizes and timestamp deltas go to reusable typed arrays), one
// allocation holds the whole batch, and a second pass writes it. Nothing on the per-record
// path allocates or uses BigInt. Decoding lives in record-decoder.ts.

import {
  ATTR_CONTROL, ATTR_TIMESTAMP_TYPE_LOG_APPEND, ATTR_TRANSACTIONAL, BATCH_HEADER_SIZE, COMPRESSION_CODES,
  LOG_OVERHEAD, MAGIC_V2, NO_PARTITION_LEADER_EPOCH, NO_PRODUCER_EPOCH, NO_PRODUCER_ID, NO_SEQUENCE,
  OFFSET_ATTRIBUTES, OFFSET_BASE_OFFSET, OFFSET_BASE_SEQUENCE, OFFSET_BASE_TIMESTAMP, OFFSET_BATCH_LENGTH, OFFSET_CRC,
  OFFSET_LAST_OFFSET_DELTA, OFFSET_MAGIC, OFFSET_MAX_TIMESTAMP, OFFSET_PARTITION_LEADER_EPOCH, OFFSET_PRODUCER_EPOCH,
  OFFSET_PRODUCER_ID, OFFSET_RECORD_COUNT, computeBatchCrc, type CompressionType, type TimestampType,
} from './batch-header.js';
import { compressRecords, unsupportedCompression } from './compression.js';
import { LogError } from './errors.js';
import { sizeOfVarint, sizeOfVarlong, writeInt64FromNumber, writeVarint, writeVarlong } from './varint.js';

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

/** A record as a producer hands it over. */
export interface RecordInput {
  key?: Buffer | null;
  value: Buffer | null;
  headers?: RecordHeader[];
  /** Epoch ms; defaults to the batch's `timestamp`. */
  timestamp?: number;
}

export interface BatchInput {
  records: RecordInput[];
  baseOffset?: number;
  partitionLeaderEpoch?: number;
  compression?: CompressionType;
  /** Default timestamp for records without one (epoch ms). Required when any record lacks one. */
  timestamp?: number;
  timestampType?: TimestampType;
  /**
   * With timestampType 'log-append': the broker's append time, written as maxTimestamp (which
   * then stands for every record's timestamp). Defaults to the largest record timestamp.
   */
  logAppendTime?: number;
  producerId?: bigint;
  producerEpoch?: number;
  baseSequence?: number;
  isTransactional?: boolean;
  isControl?: boolean;
}

/** The largest batch the 32-bit length field can describe. */
export const MAX_BATCH_SIZE = 0x7fff_ffff + LOG_OVERHEAD;

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const NULL_VARINT_BYTE = 1; // zigzag(-1) in one byte

/** Per-record body sizes and timestamp deltas of the batch being encoded. */
interface RecordLayout {
  sizes: Int32Array;
  deltas: Float64Array;
}

// Reused across calls (encoding is synchronous and never re-enters), so the hot path does not
// allocate; a batch of more than LAYOUT_RECORDS_MAX records gets its own, so one huge batch
// does not pin its scratch memory.
const LAYOUT_RECORDS_MAX = 64 * 1024;
let sharedLayout: RecordLayout = { sizes: new Int32Array(1024), deltas: new Float64Array(1024) };

function layoutFor(count: number): RecordLayout {
  if (count <= sharedLayout.sizes.length) return sharedLayout;
  const layout = { sizes: new Int32Array(count), deltas: new Float64Array(count) };
  if (count <= LAYOUT_RECORDS_MAX) sharedLayout = layout;
  return layout;
}

function invalid(message: string): LogError {
  return new LogError('INVALID_ARGUMENT', message);
}

function checkIntRange(name: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) throw invalid(`${name} ${v} is outside [${min}, ${max}]`);
}

function checkBytes(what: string, b: unknown): void {
  if (b != null && !(b instanceof Uint8Array)) throw invalid(`${what} must be a Buffer or null`);
}

function sizeOfNullableBytes(b: Uint8Array | null | undefined): number {
  return b == null ? 1 : sizeOfVarint(b.length) + b.length;
}

function writeNullableBytes(out: Buffer, pos: number, b: Uint8Array | null | undefined): number {
  if (b == null) {
    out[pos] = NULL_VARINT_BYTE;
    return pos + 1;
  }
  const n = b.length;
  pos = writeVarint(out, pos, n);
  if (n < 16) {
    // A call into native copy costs more than these few bytes.
    for (let i = 0; i < n; i++) out[pos + i] = b[i]!;
  } else {
    out.set(b, pos);
  }
  return pos + n;
}

function sizeOfHeaders(headers: RecordHeader[], recordIndex: number): number {
  let size = sizeOfVarint(headers.length);
  for (let j = 0; j < headers.length; j++) {
    const h = headers[j]!;
    if (typeof h.key !== 'string') throw invalid(`record ${recordIndex} header ${j}: key must be a string`);
    checkBytes(`record ${recordIndex} header ${j} value`, h.value);
    const keyBytes = Buffer.byteLength(h.key, 'utf8');
    size += sizeOfVarint(keyBytes) + keyBytes + sizeOfNullableBytes(h.value);
  }
  return size;
}

function writeHeaders(out: Buffer, pos: number, headers: RecordHeader[]): number {
  pos = writeVarint(out, pos, headers.length);
  for (let j = 0; j < headers.length; j++) {
    const h = headers[j]!;
    const keyBytes = Buffer.byteLength(h.key, 'utf8');
    pos = writeVarint(out, pos, keyBytes);
    pos += out.write(h.key, pos, keyBytes, 'utf8');
    pos = writeNullableBytes(out, pos, h.value);
  }
  return pos;
}

/**
 * Sizes every record into `layout` (validating it on the way) and returns the encoded size of
 * all records.
 */
function sizeRecords(
  records: RecordInput[],
  layout: RecordLayout,
  baseTimestamp: number,
  defaultTimestamp: number | undefined,
): number {
  const count = records.length;
  const { sizes, deltas } = layout;
  let total = 0;
  for (let i = 0; i < count; i++) {
    const r = records[i]!;
    const timestamp = r.timestamp ?? defaultTimestamp;
    if (timestamp === undefined) throw invalid(`record ${i} has no timestamp and the batch gives no default`);
    const delta = timestamp - baseTimestamp;
    if (!Number.isSafeInteger(timestamp) || !Number.isSafeInteger(delta)) {
      throw invalid(`record ${i} timestamp ${timestamp} is not a safe integer within 2^53 of ${baseTimestamp}`);
    }
    checkBytes(`record ${i} key`, r.key);
    checkBytes(`record ${i} value`, r.value);
    let size = 1 + sizeOfVarlong(delta) + sizeOfVarint(i) + sizeOfNullableBytes(r.key) + sizeOfNullableBytes(r.value);
    const headers = r.headers;
    size += headers === undefined || headers.length === 0 ? 1 : sizeOfHeaders(headers, i);
    if (size > MAX_BATCH_SIZE) throw new LogError('RECORD_TOO_LARGE', `record ${i} is ${size} bytes`);
    sizes[i] = size;
    deltas[i] = delta;
    total += sizeOfVarint(size) + size;
  }
  if (total > MAX_BATCH_SIZE - BATCH_HEADER_SIZE) {
    throw new LogError('RECORD_TOO_LARGE', `records take ${total} bytes, more than a batch can hold`);
  }
  return total;
}

/** Writes the records sized by sizeRecords into `out` from `pos`; returns the end position. */
function writeRecords(out: Buffer, pos: number, records: RecordInput[], layout: RecordLayout): number {
  const { sizes, deltas } = layout;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    const size = sizes[i]!;
    const start = (pos = writeVarint(out, pos, size));
    out[pos++] = 0; // record attributes: unused in v2
    pos = writeVarlong(out, pos, deltas[i]!);
    pos = writeVarint(out, pos, i);
    pos = writeNullableBytes(out, pos, r.key);
    pos = writeNullableBytes(out, pos, r.value);
    const headers = r.headers;
    if (headers === undefined || headers.length === 0) out[pos++] = 0;
    else pos = writeHeaders(out, pos, headers);
    if (pos - start !== size) throw new Error(`codec bug: record ${i} sized ${size} bytes, wrote ${pos - start}`);
  }
  return pos;
}

function attributesOf(input: BatchInput, compression: CompressionType): number {
  let attributes = COMPRESSION_CODES[compression];
  if (input.timestampType === 'log-append') attributes |= ATTR_TIMESTAMP_TYPE_LOG_APPEND;
  if (input.isTransactional) attributes |= ATTR_TRANSACTIONAL;
  if (input.isControl) attributes |= ATTR_CONTROL;
  return attributes;
}

/** Encodes one v2 batch with a valid CRC. Offset deltas run 0..n-1; baseTimestamp is the first record's. */
export function encodeBatch(input: BatchInput): Buffer {
  const { records } = input;
  if (!Array.isArray(records) || records.length === 0) throw invalid('a batch needs at least one record');
  const compression = input.compression ?? 'none';
  if (COMPRESSION_CODES[compression] === undefined) throw invalid(`unknown compression ${String(compression)}`);
  if (compression !== 'none' && compression !== 'gzip') throw unsupportedCompression(compression);
  const baseOffset = input.baseOffset ?? 0;
  checkIntRange('baseOffset', baseOffset, 0, Number.MAX_SAFE_INTEGER - (records.length - 1));
  const partitionLeaderEpoch = input.partitionLeaderEpoch ?? NO_PARTITION_LEADER_EPOCH;
  checkIntRange('partitionLeaderEpoch', partitionLeaderEpoch, -0x8000_0000, 0x7fff_ffff);
  const producerEpoch = input.producerEpoch ?? NO_PRODUCER_EPOCH;
  checkIntRange('producerEpoch', producerEpoch, -0x8000, 0x7fff);
  const baseSequence = input.baseSequence ?? NO_SEQUENCE;
  checkIntRange('baseSequence', baseSequence, -0x8000_0000, 0x7fff_ffff);
  const producerId = input.producerId ?? NO_PRODUCER_ID;
  if (typeof producerId !== 'bigint' || producerId < INT64_MIN || producerId > INT64_MAX) {
    throw invalid(`producerId ${String(producerId)} is not a 64-bit integer`);
  }

  // Kafka's baseTimestamp is the first record's timestamp; later deltas may be negative.
  const baseTimestamp = records[0]!.timestamp ?? input.timestamp;
  if (baseTimestamp === undefined) throw invalid('record 0 has no timestamp and the batch gives no default');
  const layout = layoutFor(records.length);
  const recordsSize = sizeRecords(records, layout, baseTimestamp, input.timestamp);
  let maxTimestamp = baseTimestamp;
  for (let i = 1; i < records.length; i++) {
    const t = baseTimestamp + layout.deltas[i]!;
    if (t > maxTimestamp) maxTimestamp = t;
  }
  if (input.timestampType === 'log-append' && input.logAppendTime !== undefined) {
    checkIntRange('logAppendTime', input.logAppendTime, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    maxTimestamp = input.logAppendTime;
  }

  let buf: Buffer;
  if (compression === 'none') {
    buf = Buffer.allocUnsafe(BATCH_HEADER_SIZE + recordsSize);
    const end = writeRecords(buf, BATCH_HEADER_SIZE, records, layout);
    if (end !== buf.length) throw new Error(`codec bug: batch sized ${buf.length} bytes, wrote ${end}`);
  } else {
    const plain = Buffer.allocUnsafe(recordsSize);
    const end = writeRecords(plain, 0, records, layout);
    if (end !== plain.length) throw new Error(`codec bug: records sized ${plain.length} bytes, wrote ${end}`);
    const compressed = compressRecords(compression, plain);
    if (compressed.length > MAX_BATCH_SIZE - BATCH_HEADER_SIZE) {
      throw new LogError('RECORD_TOO_LARGE', `compressed records take ${compressed.length} bytes`);
    }
    buf = Buffer.allocUnsafe(BATCH_HEADER_SIZE + compressed.length);
    compressed.copy(buf, BATCH_HEADER_SIZE);
  }

  writeInt64FromNumber(buf, OFFSET_BASE_OFFSET, baseOffset);
  buf.writeInt32BE(buf.length - LOG_OVERHEAD, OFFSET_BATCH_LENGTH);
  buf.writeInt32BE(partitionLeaderEpoch, OFFSET_PARTITION_LEADER_EPOCH);
  buf.writeInt8(MAGIC_V2, OFFSET_MAGIC);
  buf.writeInt16BE(attributesOf(input, compression), OFFSET_ATTRIBUTES);
  buf.writeInt32BE(records.length - 1, OFFSET_LAST_OFFSET_DELTA);
  writeInt64FromNumber(buf, OFFSET_BASE_TIMESTAMP, baseTimestamp);
  writeInt64FromNumber(buf, OFFSET_MAX_TIMESTAMP, maxTimestamp);
  buf.writeBigInt64BE(producerId, OFFSET_PRODUCER_ID);
  buf.writeInt16BE(producerEpoch, OFFSET_PRODUCER_EPOCH);
  buf.writeInt32BE(baseSequence, OFFSET_BASE_SEQUENCE);
  buf.writeInt32BE(records.length, OFFSET_RECORD_COUNT);
  buf.writeUInt32BE(computeBatchCrc(buf, 0, buf.length), OFFSET_CRC);
  return buf;
}
