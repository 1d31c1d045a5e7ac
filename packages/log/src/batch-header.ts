// The fixed 61-byte header of a Kafka v2 record batch (magic 2), read and patched in place.
// Everything that stores, replicates or serves batches works on this header only; records are
// decoded by the codec (codec.ts) when someone actually needs them.
//
//   offset  size  field
//        0     8  baseOffset
//        8     4  batchLength            (bytes after this field)
//       12     4  partitionLeaderEpoch
//       16     1  magic                  (2)
//       17     4  crc                    (CRC-32C of bytes 21..end, unsigned)
//       21     2  attributes             (bits 0-2 compression, 3 timestamp type,
//                                          4 transactional, 5 control, 6 delete horizon)
//       23     4  lastOffsetDelta
//       27     8  baseTimestamp          (a.k.a. firstTimestamp)
//       35     8  maxTimestamp
//       43     8  producerId
//       51     2  producerEpoch
//       53     4  baseSequence
//       57     4  recordCount
//       61     …  records

import { crc32c } from './crc32c.js';
import { CorruptRecordError } from './errors.js';

export const MAGIC_V2 = 2;
/** baseOffset + batchLength: the bytes in front of what batchLength counts. */
export const LOG_OVERHEAD = 12;
export const BATCH_HEADER_SIZE = 61;
/** The smallest legal batchLength: the header after the length field, with no records. */
export const MIN_BATCH_LENGTH = BATCH_HEADER_SIZE - LOG_OVERHEAD;

export const OFFSET_BASE_OFFSET = 0;
export const OFFSET_BATCH_LENGTH = 8;
export const OFFSET_PARTITION_LEADER_EPOCH = 12;
export const OFFSET_MAGIC = 16;
export const OFFSET_CRC = 17;
export const OFFSET_ATTRIBUTES = 21;
export const OFFSET_LAST_OFFSET_DELTA = 23;
export const OFFSET_BASE_TIMESTAMP = 27;
export const OFFSET_MAX_TIMESTAMP = 35;
export const OFFSET_PRODUCER_ID = 43;
export const OFFSET_PRODUCER_EPOCH = 51;
export const OFFSET_BASE_SEQUENCE = 53;
export const OFFSET_RECORD_COUNT = 57;

export const NO_PRODUCER_ID = -1n;
export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;
export const NO_PARTITION_LEADER_EPOCH = -1;
export const NO_TIMESTAMP = -1;

export type CompressionType = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
export const COMPRESSION_CODES: Record<CompressionType, number> = {
  none: 0,
  gzip: 1,
  snappy: 2,
  lz4: 3,
  zstd: 4,
};
const COMPRESSION_BY_CODE: CompressionType[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

export const ATTR_COMPRESSION_MASK = 0x07;
export const ATTR_TIMESTAMP_TYPE_LOG_APPEND = 0x08;
export const ATTR_TRANSACTIONAL = 0x10;
export const ATTR_CONTROL = 0x20;
export const ATTR_DELETE_HORIZON = 0x40;

export type TimestampType = 'create' | 'log-append';

/** The header fields of one batch. Timestamps are epoch milliseconds as JS numbers (exact to 2^53). */
export interface BatchHeader {
  baseOffset: number;
  /** Bytes after the length field; the whole batch is batchLength + LOG_OVERHEAD bytes. */
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

export function compressionOf(attributes: number): CompressionType {
  const code = attributes & ATTR_COMPRESSION_MASK;
  const type = COMPRESSION_BY_CODE[code];
  if (type === undefined) throw new CorruptRecordError(`unknown compression code ${code} in batch attributes`);
  return type;
}

export function timestampTypeOf(attributes: number): TimestampType {
  return attributes & ATTR_TIMESTAMP_TYPE_LOG_APPEND ? 'log-append' : 'create';
}

function readInt64AsNumber(buf: Buffer, pos: number): number {
  const v = buf.readBigInt64BE(pos);
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new CorruptRecordError(`64-bit field ${v} at byte ${pos} is outside the safe integer range`);
  }
  return Number(v);
}

/**
 * Reads the header of the batch at `pos`. Checks only that the header fits, the magic is 2 and
 * the length is plausible; the caller decides whether the whole batch must be present and
 * whether to check the CRC (see `checkBatch`).
 */
export function readBatchHeader(buf: Buffer, pos = 0): BatchHeader {
  if (pos < 0 || pos + BATCH_HEADER_SIZE > buf.length) {
    throw new CorruptRecordError(`truncated batch header: ${buf.length - pos} bytes at ${pos}, need ${BATCH_HEADER_SIZE}`);
  }
  const magic = buf.readInt8(pos + OFFSET_MAGIC);
  if (magic !== MAGIC_V2) throw new CorruptRecordError(`unsupported magic ${magic} at byte ${pos} (only v2 is stored)`);
  const batchLength = buf.readInt32BE(pos + OFFSET_BATCH_LENGTH);
  if (batchLength < MIN_BATCH_LENGTH) {
    throw new CorruptRecordError(`batch length ${batchLength} at byte ${pos} is below the minimum ${MIN_BATCH_LENGTH}`);
  }
  const recordCount = buf.readInt32BE(pos + OFFSET_RECORD_COUNT);
  const lastOffsetDelta = buf.readInt32BE(pos + OFFSET_LAST_OFFSET_DELTA);
  if (recordCount < 0 || lastOffsetDelta < 0) {
    throw new CorruptRecordError(`negative record count ${recordCount} or last offset delta ${lastOffsetDelta} at byte ${pos}`);
  }
  return {
    baseOffset: readInt64AsNumber(buf, pos + OFFSET_BASE_OFFSET),
    batchLength,
    partitionLeaderEpoch: buf.readInt32BE(pos + OFFSET_PARTITION_LEADER_EPOCH),
    magic,
    crc: buf.readUInt32BE(pos + OFFSET_CRC),
    attributes: buf.readInt16BE(pos + OFFSET_ATTRIBUTES),
    lastOffsetDelta,
    baseTimestamp: readInt64AsNumber(buf, pos + OFFSET_BASE_TIMESTAMP),
    maxTimestamp: readInt64AsNumber(buf, pos + OFFSET_MAX_TIMESTAMP),
    producerId: buf.readBigInt64BE(pos + OFFSET_PRODUCER_ID),
    producerEpoch: buf.readInt16BE(pos + OFFSET_PRODUCER_EPOCH),
    baseSequence: buf.readInt32BE(pos + OFFSET_BASE_SEQUENCE),
    recordCount,
  };
}

/** Total bytes of the batch whose header starts at `pos` (length field + LOG_OVERHEAD). */
export function batchSizeAt(buf: Buffer, pos = 0): number {
  return buf.readInt32BE(pos + OFFSET_BATCH_LENGTH) + LOG_OVERHEAD;
}

export function lastOffsetOf(h: BatchHeader): number {
  return h.baseOffset + h.lastOffsetDelta;
}

/** The CRC-32C the batch at `pos` should carry: over attributes..end of batch. */
export function computeBatchCrc(buf: Buffer, pos: number, size: number): number {
  return crc32c(buf, pos + OFFSET_ATTRIBUTES, pos + size);
}

export function isCrcValid(buf: Buffer, pos = 0): boolean {
  const size = batchSizeAt(buf, pos);
  if (pos + size > buf.length) return false;
  return computeBatchCrc(buf, pos, size) === buf.readUInt32BE(pos + OFFSET_CRC);
}

/**
 * Validates the batch at `pos`: complete in `buf`, magic 2, sane length, CRC matches.
 * Returns its header; throws CorruptRecordError otherwise.
 */
export function checkBatch(buf: Buffer, pos = 0): BatchHeader {
  const h = readBatchHeader(buf, pos);
  const size = h.batchLength + LOG_OVERHEAD;
  if (pos + size > buf.length) {
    throw new CorruptRecordError(`truncated batch at byte ${pos}: ${buf.length - pos} of ${size} bytes present`);
  }
  const crc = computeBatchCrc(buf, pos, size);
  if (crc !== h.crc) {
    throw new CorruptRecordError(
      `CRC mismatch in batch at byte ${pos} (base offset ${h.baseOffset}): stored ${h.crc}, computed ${crc}`,
    );
  }
  return h;
}

/** Rewrites the base offset in place. It sits outside the CRC, so the CRC stays valid. */
export function setBaseOffset(buf: Buffer, pos: number, baseOffset: number): void {
  buf.writeBigInt64BE(BigInt(baseOffset), pos + OFFSET_BASE_OFFSET);
}

/** Rewrites the partition leader epoch in place; outside the CRC as well. */
export function setPartitionLeaderEpoch(buf: Buffer, pos: number, epoch: number): void {
  buf.writeInt32BE(epoch, pos + OFFSET_PARTITION_LEADER_EPOCH);
}

/**
 * Stamps log-append time: sets the timestamp-type bit and maxTimestamp, then recomputes the CRC
 * (both are inside it). Kafka does the same for topics with message.timestamp.type=LogAppendTime.
 */
export function stampLogAppendTime(buf: Buffer, pos: number, timestampMs: number): void {
  const size = batchSizeAt(buf, pos);
  const attrs = buf.readInt16BE(pos + OFFSET_ATTRIBUTES) | ATTR_TIMESTAMP_TYPE_LOG_APPEND;
  buf.writeInt16BE(attrs, pos + OFFSET_ATTRIBUTES);
  buf.writeBigInt64BE(BigInt(timestampMs), pos + OFFSET_MAX_TIMESTAMP);
  buf.writeUInt32BE(computeBatchCrc(buf, pos, size), pos + OFFSET_CRC);
}

/**
 * Iterates the complete batches of `buf` from `pos`. Stops (without throwing) at the first
 * place where no complete batch header or body is present; callers that must tell "torn tail"
 * from "corrupt" use checkBatch on what remains.
 */
export function* batchPositions(buf: Buffer, pos = 0): Generator<{ pos: number; size: number }> {
  while (pos + LOG_OVERHEAD <= buf.length) {
    const length = buf.readInt32BE(pos + OFFSET_BATCH_LENGTH);
    if (length < MIN_BATCH_LENGTH) return;
    const size = length + LOG_OVERHEAD;
    if (pos + size > buf.length) return;
    yield { pos, size };
    pos += size;
  }
}
