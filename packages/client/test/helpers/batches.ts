// Record batches for consumer tests, made with @samsa/log's encoder (and forged where the
// encoder cannot go: empty batches, as compaction leaves them).

import {
  BATCH_HEADER_SIZE, LOG_OVERHEAD, OFFSET_CRC, computeBatchCrc, encodeBatch, type BatchInput,
} from '@samsa/log';

export function batch(baseOffset: number, values: string[], extra: Partial<BatchInput> = {}): Buffer {
  return encodeBatch({
    baseOffset,
    timestamp: 1_000 + baseOffset,
    records: values.map((v, i) => ({ key: Buffer.from(`k${baseOffset + i}`), value: Buffer.from(v), timestamp: 1_000 + baseOffset + i })),
    ...extra,
  });
}

/** A v2 batch with no records covering [baseOffset, baseOffset + lastOffsetDelta]. */
export function emptyBatch(baseOffset: number, lastOffsetDelta: number): Buffer {
  const buf = Buffer.alloc(BATCH_HEADER_SIZE);
  buf.writeBigInt64BE(BigInt(baseOffset), 0);
  buf.writeInt32BE(BATCH_HEADER_SIZE - LOG_OVERHEAD, 8);
  buf.writeInt32BE(0, 12); // partition leader epoch
  buf.writeInt8(2, 16); // magic
  buf.writeInt16BE(0, 21); // attributes
  buf.writeInt32BE(lastOffsetDelta, 23);
  buf.writeBigInt64BE(1000n, 27);
  buf.writeBigInt64BE(1000n, 35);
  buf.writeBigInt64BE(-1n, 43);
  buf.writeInt16BE(-1, 51);
  buf.writeInt32BE(-1, 53);
  buf.writeInt32BE(0, 57);
  buf.writeUInt32BE(computeBatchCrc(buf, 0, buf.length), OFFSET_CRC);
  return buf;
}

export const values = (records: Array<{ value: Buffer | null }>): string[] => records.map((r) => r.value!.toString());
export const offsets = (records: Array<{ offset: number }>): number[] => records.map((r) => r.offset);
