// Exact sizes of records inside a v2 batch, computed the way @samsa/log's encoder lays them out,
// so the accumulator knows a batch's size before encoding it (Kafka estimates an upper bound;
// exact is as cheap here).

import { BATCH_HEADER_SIZE, sizeOfVarint, sizeOfVarlong, type RecordHeader } from '@samsa/log';

function sizeOfNullableBytes(b: Uint8Array | null): number {
  return b === null ? 1 : sizeOfVarint(b.length) + b.length;
}

function sizeOfHeaders(headers: readonly RecordHeader[]): number {
  let size = sizeOfVarint(headers.length);
  for (const h of headers) {
    const keyBytes = Buffer.byteLength(h.key, 'utf8');
    size += sizeOfVarint(keyBytes) + keyBytes + sizeOfNullableBytes(h.value);
  }
  return size;
}

/** Bytes of one record (length prefix included) at `offsetDelta`, `timestampDelta` in its batch. */
export function recordSizeInBatch(
  offsetDelta: number,
  timestampDelta: number,
  key: Uint8Array | null,
  value: Uint8Array | null,
  headers: readonly RecordHeader[],
): number {
  const body = 1 + sizeOfVarlong(timestampDelta) + sizeOfVarint(offsetDelta) + sizeOfNullableBytes(key)
    + sizeOfNullableBytes(value) + sizeOfHeaders(headers);
  return sizeOfVarint(body) + body;
}

/** Bytes of a batch holding just this record: what send() checks against max.request.size. */
export function singleRecordBatchSize(key: Uint8Array | null, value: Uint8Array | null, headers: readonly RecordHeader[]): number {
  return BATCH_HEADER_SIZE + recordSizeInBatch(0, 0, key, value, headers);
}
