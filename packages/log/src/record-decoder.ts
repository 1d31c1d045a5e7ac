// Decoding of Kafka v2 record batches into records. Input is untrusted (a client's produce
// request, a peer's replication stream, a damaged file): every length and varint is checked
// against the bytes actually present, and anything malformed raises CorruptRecordError with
// where and why. Keys and values of an uncompressed batch are views into the caller's buffer
// (no copy); a caller that reuses the buffer must copy what it keeps.

import {
  ATTR_CONTROL, ATTR_TRANSACTIONAL, BATCH_HEADER_SIZE, LOG_OVERHEAD, checkBatch, compressionOf, timestampTypeOf,
  type BatchHeader, type CompressionType, type TimestampType,
} from './batch-header.js';
import type { RecordHeader } from './codec.js';
import { DEFAULT_MAX_UNCOMPRESSED_BYTES, checkMaxUncompressedBytes, decompressRecords } from './compression.js';
import { CorruptRecordError, LogError } from './errors.js';
import { ByteReader } from './varint.js';

export interface DecodedRecord {
  /** baseOffset + offsetDelta. */
  offset: number;
  /** baseTimestamp + timestampDelta, or the batch's maxTimestamp under log-append time. */
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

/** What a batch says about itself, apart from its records. */
export interface BatchInfo {
  header: BatchHeader;
  compression: CompressionType;
  timestampType: TimestampType;
  isTransactional: boolean;
  isControl: boolean;
}

export interface DecodedBatch extends BatchInfo {
  records: DecodedRecord[];
}

export interface DecodeOptions {
  /** Cap on the inflated records of a compressed batch; default 64 MiB. */
  maxUncompressedBytes?: number;
}

/**
 * The smallest encoded record: length, attributes, timestamp delta, offset delta, key length,
 * value length and header count, one byte each. Bounds the record count a batch can claim.
 */
export const MIN_RECORD_BYTES = 7;
/** The smallest encoded header: key length and value length. */
const MIN_HEADER_BYTES = 2;

const NULL_LENGTH = -1;

/** The state shared by every record of one batch while it is being read. */
interface RecordContext {
  readonly reader: ByteReader;
  readonly count: number;
  readonly baseOffset: number;
  readonly baseTimestamp: number;
  readonly lastOffsetDelta: number;
  /** The timestamp of every record under log-append time, else null. */
  readonly logAppendTime: number | null;
}

function corrupt(message: string): CorruptRecordError {
  return new CorruptRecordError(message);
}

/**
 * Validates the batch at `pos` (complete, magic 2, CRC) and positions a reader on its records,
 * inflated if compressed.
 */
function openBatch(buf: Buffer, pos: number, options: DecodeOptions): { info: BatchInfo; ctx: RecordContext } {
  if (!Buffer.isBuffer(buf)) throw new LogError('INVALID_ARGUMENT', 'decodeBatch needs a Buffer');
  if (!Number.isSafeInteger(pos)) throw new LogError('INVALID_ARGUMENT', `batch position ${pos} is not an integer`);
  const header = checkBatch(buf, pos);
  const compression = compressionOf(header.attributes);
  const timestampType = timestampTypeOf(header.attributes);
  const info: BatchInfo = {
    header,
    compression,
    timestampType,
    isTransactional: (header.attributes & ATTR_TRANSACTIONAL) !== 0,
    isControl: (header.attributes & ATTR_CONTROL) !== 0,
  };
  if (!Number.isSafeInteger(header.baseOffset + header.lastOffsetDelta)) {
    throw corrupt(`last offset ${header.baseOffset} + ${header.lastOffsetDelta} is outside the safe integer range`);
  }
  const bodyStart = pos + BATCH_HEADER_SIZE;
  const bodyEnd = pos + header.batchLength + LOG_OVERHEAD;
  let reader: ByteReader;
  if (compression === 'none') {
    reader = new ByteReader(buf, bodyStart, bodyEnd);
  } else if (header.recordCount === 0) {
    // Kafka never inflates an empty batch (compaction can leave one); neither do we.
    reader = new ByteReader(buf, bodyEnd, bodyEnd);
  } else {
    const maxBytes = options.maxUncompressedBytes ?? DEFAULT_MAX_UNCOMPRESSED_BYTES;
    checkMaxUncompressedBytes(maxBytes);
    const inflated = decompressRecords(compression, buf.subarray(bodyStart, bodyEnd), maxBytes);
    reader = new ByteReader(inflated, 0, inflated.length);
  }
  const count = header.recordCount;
  if (count > reader.remaining() / MIN_RECORD_BYTES) {
    throw corrupt(
      `batch at byte ${pos} claims ${count} records but has only ${reader.remaining()} bytes of records`,
    );
  }
  const ctx: RecordContext = {
    reader,
    count,
    baseOffset: header.baseOffset,
    baseTimestamp: header.baseTimestamp,
    lastOffsetDelta: header.lastOffsetDelta,
    logAppendTime: timestampType === 'log-append' ? header.maxTimestamp : null,
  };
  return { info, ctx };
}

/** Reads a varint-length-prefixed byte string; length -1 is null. */
function readNullableBytes(r: ByteReader, what: string): Buffer | null {
  const length = r.readVarint();
  if (length === NULL_LENGTH) return null;
  if (length < 0 || length > r.end - r.pos) {
    throw corrupt(`${what} length ${length} at byte ${r.pos} exceeds the ${r.end - r.pos} bytes left in the record`);
  }
  const start = r.pos;
  r.pos = start + length;
  return r.buf.subarray(start, r.pos);
}

function readHeaders(r: ByteReader): RecordHeader[] {
  const count = r.readVarint();
  if (count < 0 || count > (r.end - r.pos) / MIN_HEADER_BYTES) {
    throw corrupt(`header count ${count} at byte ${r.pos} does not fit in the record`);
  }
  const headers: RecordHeader[] = [];
  for (let i = 0; i < count; i++) {
    const keyLength = r.readVarint();
    if (keyLength < 0 || keyLength > r.end - r.pos) {
      throw corrupt(`header key length ${keyLength} at byte ${r.pos} is invalid (keys are non-null strings)`);
    }
    const key = r.buf.toString('utf8', r.pos, r.pos + keyLength);
    r.pos += keyLength;
    headers.push({ key, value: readNullableBytes(r, 'header value') });
  }
  return headers;
}

function readRecord(ctx: RecordContext, index: number): DecodedRecord {
  const r = ctx.reader;
  const length = r.readVarint();
  const outerEnd = r.end;
  if (length < 0 || length > outerEnd - r.pos) {
    throw corrupt(`record ${index} length ${length} at byte ${r.pos} exceeds the ${outerEnd - r.pos} bytes left`);
  }
  const recordEnd = r.pos + length;
  r.end = recordEnd;
  r.readInt8(); // record attributes: unused in v2
  const timestampDelta = r.readVarlong();
  const offsetDelta = r.readVarint();
  if (offsetDelta < 0 || offsetDelta > ctx.lastOffsetDelta) {
    throw corrupt(`record ${index} offset delta ${offsetDelta} is outside [0, ${ctx.lastOffsetDelta}]`);
  }
  const key = readNullableBytes(r, 'key');
  const value = readNullableBytes(r, 'value');
  const headers = readHeaders(r);
  if (r.pos !== recordEnd) {
    throw corrupt(`record ${index} declares ${length} bytes but its fields end ${recordEnd - r.pos} bytes early`);
  }
  r.end = outerEnd;
  let timestamp: number;
  if (ctx.logAppendTime !== null) {
    timestamp = ctx.logAppendTime;
  } else {
    timestamp = ctx.baseTimestamp + timestampDelta;
    if (!Number.isSafeInteger(timestamp)) {
      throw corrupt(`record ${index} timestamp ${ctx.baseTimestamp} + ${timestampDelta} is outside the safe integer range`);
    }
  }
  return { offset: ctx.baseOffset + offsetDelta, timestamp, key, value, headers };
}

function checkAllRead(ctx: RecordContext): void {
  const left = ctx.reader.remaining();
  if (left !== 0) {
    throw corrupt(`${left} bytes follow the last of the batch's ${ctx.count} records`);
  }
}

/**
 * Decodes the batch at `pos` of `buf` with all its records. Throws CorruptRecordError for any
 * malformed or damaged batch, LogError UNSUPPORTED_COMPRESSION for snappy/lz4/zstd, and LogError
 * RECORD_TOO_LARGE when compressed records inflate past `maxUncompressedBytes`.
 */
export function decodeBatch(buf: Buffer, pos = 0, options: DecodeOptions = {}): DecodedBatch {
  const { info, ctx } = openBatch(buf, pos, options);
  const records: DecodedRecord[] = [];
  for (let i = 0; i < ctx.count; i++) records.push(readRecord(ctx, i));
  checkAllRead(ctx);
  return { ...info, records };
}

/**
 * Like decodeBatch, but hands each record to `visit` as soon as it is read instead of building
 * an array. The CRC is checked before the first record, so a batch that fails part-way (which
 * takes an encoder bug, not a damaged byte) has already shown its earlier records to `visit`.
 */
export function forEachRecord(
  buf: Buffer,
  pos: number,
  visit: (record: DecodedRecord) => void,
  options: DecodeOptions = {},
): BatchInfo {
  const { info, ctx } = openBatch(buf, pos, options);
  for (let i = 0; i < ctx.count; i++) visit(readRecord(ctx, i));
  checkAllRead(ctx);
  return info;
}
