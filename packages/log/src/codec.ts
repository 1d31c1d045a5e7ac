// Encoding of Kafka v2 record batches. No file-system dependency: the client imports this too.

import { gzipSync } from 'node:zlib';
import {
  ATTR_CONTROL, ATTR_TIMESTAMP_TYPE_LOG_APPEND, ATTR_TRANSACTIONAL, BATCH_HEADER_SIZE, COMPRESSION_CODES,
  LOG_OVERHEAD, MAGIC_V2, NO_PARTITION_LEADER_EPOCH, NO_PRODUCER_EPOCH, NO_PRODUCER_ID, NO_SEQUENCE,
  OFFSET_ATTRIBUTES, OFFSET_CRC, computeBatchCrc, type CompressionType, type TimestampType,
} from './batch-header.js';
import { LogError } from './errors.js';

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
  producerId?: bigint;
  producerEpoch?: number;
  baseSequence?: number;
  isTransactional?: boolean;
  isControl?: boolean;
}

function zigzag32(n: number): number {
  return ((n << 1) ^ (n >> 31)) >>> 0;
}

function varintSize(n: number): number {
  let u = zigzag32(n);
  let size = 1;
  while (u >= 0x80) {
    u >>>= 7;
    size++;
  }
  return size;
}

function writeVarint(buf: Buffer, pos: number, n: number): number {
  let u = zigzag32(n);
  while (u >= 0x80) {
    buf[pos++] = (u & 0x7f) | 0x80;
    u >>>= 7;
  }
  buf[pos++] = u;
  return pos;
}

/** zigzag varlong for timestamp deltas, exact for |n| < 2^53. */
function varlongSize(n: number): number {
  let u = n >= 0 ? BigInt(n) * 2n : -BigInt(n) * 2n - 1n;
  let size = 1;
  while (u >= 0x80n) {
    u >>= 7n;
    size++;
  }
  return size;
}

function writeVarlong(buf: Buffer, pos: number, n: number): number {
  if (n >= 0 && n < 0x4000000) return writeVarint(buf, pos, n);
  let u = n >= 0 ? BigInt(n) * 2n : -BigInt(n) * 2n - 1n;
  while (u >= 0x80n) {
    buf[pos++] = Number(u & 0x7fn) | 0x80;
    u >>= 7n;
  }
  buf[pos++] = Number(u);
  return pos;
}

function bytesSize(b: Buffer | null | undefined): number {
  return b == null ? varintSize(-1) : varintSize(b.length) + b.length;
}

function writeBytes(buf: Buffer, pos: number, b: Buffer | null | undefined): number {
  if (b == null) return writeVarint(buf, pos, -1);
  pos = writeVarint(buf, pos, b.length);
  b.copy(buf, pos);
  return pos + b.length;
}

function encodeRecords(records: RecordInput[], baseTimestamp: number, defaultTs: number): Buffer {
  const bodies: { size: number; tsDelta: number; keyBytes: Buffer[] }[] = [];
  let total = 0;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    const tsDelta = (r.timestamp ?? defaultTs) - baseTimestamp;
    const headerKeys: Buffer[] = [];
    let size = 1 + varlongSize(tsDelta) + varintSize(i) + bytesSize(r.key) + bytesSize(r.value);
    const headers = r.headers ?? [];
    size += varintSize(headers.length);
    for (const h of headers) {
      const k = Buffer.from(h.key, 'utf8');
      headerKeys.push(k);
      size += bytesSize(k) + bytesSize(h.value);
    }
    bodies.push({ size, tsDelta, keyBytes: headerKeys });
    total += varintSize(size) + size;
  }
  const out = Buffer.allocUnsafe(total);
  let pos = 0;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    const b = bodies[i]!;
    pos = writeVarint(out, pos, b.size);
    out[pos++] = 0; // record attributes: unused in v2
    pos = writeVarlong(out, pos, b.tsDelta);
    pos = writeVarint(out, pos, i);
    pos = writeBytes(out, pos, r.key);
    pos = writeBytes(out, pos, r.value);
    const headers = r.headers ?? [];
    pos = writeVarint(out, pos, headers.length);
    for (let j = 0; j < headers.length; j++) {
      pos = writeBytes(out, pos, b.keyBytes[j]);
      pos = writeBytes(out, pos, headers[j]!.value);
    }
  }
  return out;
}

/** Encodes one v2 batch with a valid CRC. */
export function encodeBatch(input: BatchInput): Buffer {
  const { records } = input;
  if (records.length === 0) throw new LogError('INVALID_ARGUMENT', 'a batch needs at least one record');
  const compression = input.compression ?? 'none';
  if (compression !== 'none' && compression !== 'gzip') {
    throw new LogError('UNSUPPORTED_COMPRESSION', `compression ${compression} is not supported (none, gzip)`);
  }
  let baseTimestamp = Infinity;
  let maxTimestamp = -Infinity;
  for (const r of records) {
    const ts = r.timestamp ?? input.timestamp;
    if (ts === undefined) throw new LogError('INVALID_ARGUMENT', 'record without timestamp and no batch timestamp');
    if (ts < baseTimestamp) baseTimestamp = ts;
    if (ts > maxTimestamp) maxTimestamp = ts;
  }
  // Kafka's baseTimestamp is the first record's timestamp; deltas may be negative.
  baseTimestamp = records[0]!.timestamp ?? input.timestamp!;
  let body = encodeRecords(records, baseTimestamp, input.timestamp ?? baseTimestamp);
  if (compression === 'gzip') body = gzipSync(body);

  let attributes = COMPRESSION_CODES[compression];
  if (input.timestampType === 'log-append') attributes |= ATTR_TIMESTAMP_TYPE_LOG_APPEND;
  if (input.isTransactional) attributes |= ATTR_TRANSACTIONAL;
  if (input.isControl) attributes |= ATTR_CONTROL;

  const size = BATCH_HEADER_SIZE + body.length;
  const buf = Buffer.allocUnsafe(size);
  buf.writeBigInt64BE(BigInt(input.baseOffset ?? 0), 0);
  buf.writeInt32BE(size - LOG_OVERHEAD, 8);
  buf.writeInt32BE(input.partitionLeaderEpoch ?? NO_PARTITION_LEADER_EPOCH, 12);
  buf.writeInt8(MAGIC_V2, 16);
  buf.writeInt16BE(attributes, OFFSET_ATTRIBUTES);
  buf.writeInt32BE(records.length - 1, 23);
  buf.writeBigInt64BE(BigInt(baseTimestamp), 27);
  buf.writeBigInt64BE(BigInt(maxTimestamp), 35);
  buf.writeBigInt64BE(input.producerId ?? NO_PRODUCER_ID, 43);
  buf.writeInt16BE(input.producerEpoch ?? NO_PRODUCER_EPOCH, 51);
  buf.writeInt32BE(input.baseSequence ?? NO_SEQUENCE, 53);
  buf.writeInt32BE(records.length, 57);
  body.copy(buf, BATCH_HEADER_SIZE);
  buf.writeUInt32BE(computeBatchCrc(buf, 0, size), OFFSET_CRC);
  return buf;
}
