// Shared by the codec tests: arbitraries for batches, the "only typed errors" check, and a way
// to forge batches (edit bytes, then fix the CRC) that reach the record parser.

import fc from 'fast-check';
import { OFFSET_CRC, computeBatchCrc, type BatchHeader } from '../src/batch-header.js';
import type { BatchInput, RecordHeader, RecordInput } from '../src/codec.js';
import { LogError } from '../src/errors.js';
import type { DecodedRecord } from '../src/record-decoder.js';

/** Seed of every property in the codec tests; fast-check prints it (and the path) on failure. */
export const SEED = Number(process.env.SAMSA_TEST_SEED ?? 20_261_125);

/** Recomputes the CRC of the batch at `pos` after a test edited it. */
export function fixCrc(buf: Buffer, pos = 0): Buffer {
  const size = buf.readInt32BE(pos + 8) + 12;
  buf.writeUInt32BE(computeBatchCrc(buf, pos, size), pos + OFFSET_CRC);
  return buf;
}

/** The codes decodeBatch may fail with on hostile input. */
export const DECODE_ERROR_CODES: ReadonlySet<string> = new Set([
  'CORRUPT_RECORD',
  'UNSUPPORTED_COMPRESSION',
  'RECORD_TOO_LARGE',
]);

/** Runs `decode`; lets typed decode errors pass and rethrows anything else (RangeError, TypeError…). */
export function decodeOrTypedError<T>(decode: () => T): T | LogError {
  try {
    return decode();
  } catch (err) {
    if (err instanceof LogError && DECODE_ERROR_CODES.has(err.code)) return err;
    throw err;
  }
}

const MAX_TS = 2 ** 52 - 1;

export const bytesArb = (maxLength: number): fc.Arbitrary<Buffer> =>
  fc.uint8Array({ minLength: 0, maxLength }).map((a) => Buffer.from(a));

export const nullableBytesArb = (maxLength: number): fc.Arbitrary<Buffer | null> =>
  fc.option(bytesArb(maxLength), { nil: null, freq: 4 });

export const headerArb: fc.Arbitrary<RecordHeader> = fc.record({
  key: fc.string({ unit: 'binary', maxLength: 12 }),
  value: nullableBytesArb(24),
});

/** Timestamps around epoch-ms values, including -1 (no timestamp) and far-off ones. */
export const timestampArb: fc.Arbitrary<number> = fc.oneof(
  fc.constant(-1),
  fc.integer({ min: 1_500_000_000_000, max: 1_900_000_000_000 }),
  fc.integer({ min: -MAX_TS, max: MAX_TS }),
);

/** A record's timestamp relative to `first`: equal, close (either side) or anywhere. */
const recordTimestampArb = (first: number): fc.Arbitrary<number> =>
  fc.oneof(
    fc.constant(first),
    fc.integer({ min: -100_000, max: 100_000 }).map((d) => first + d),
    fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff }).map((d) => first + d),
    fc.integer({ min: -MAX_TS, max: MAX_TS }),
  );

const recordArb = (first: number): fc.Arbitrary<RecordInput> =>
  fc.record({
    key: nullableBytesArb(40),
    value: nullableBytesArb(300),
    headers: fc.array(headerArb, { maxLength: 4 }),
    timestamp: recordTimestampArb(first),
  });

export const batchInputArb: fc.Arbitrary<BatchInput> = timestampArb.chain((first) =>
  fc.record({
    records: fc
      .tuple(recordArb(first), fc.array(recordArb(first), { maxLength: 12 }))
      .map(([r0, rest]) => [{ ...r0, timestamp: first }, ...rest]),
    baseOffset: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2 ** 40 }), fc.constant(2 ** 53 - 100)),
    partitionLeaderEpoch: fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff }),
    compression: fc.constantFrom('none' as const, 'gzip' as const),
    timestampType: fc.constantFrom('create' as const, 'log-append' as const),
    logAppendTime: timestampArb,
    producerId: fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }),
    producerEpoch: fc.integer({ min: -0x8000, max: 0x7fff }),
    baseSequence: fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff }),
    isTransactional: fc.boolean(),
    isControl: fc.boolean(),
  }),
);

/** The records decodeBatch must return for `input` (after encodeBatch). */
export function expectedRecords(input: BatchInput): DecodedRecord[] {
  const base = input.baseOffset ?? 0;
  const timestamps = input.records.map((r) => r.timestamp ?? input.timestamp!);
  const maxTimestamp = expectedMaxTimestamp(input);
  return input.records.map((r, i) => ({
    offset: base + i,
    timestamp: input.timestampType === 'log-append' ? maxTimestamp : timestamps[i]!,
    key: r.key ?? null,
    value: r.value ?? null,
    headers: r.headers ?? [],
  }));
}

export function expectedMaxTimestamp(input: BatchInput): number {
  if (input.timestampType === 'log-append' && input.logAppendTime !== undefined) return input.logAppendTime;
  return Math.max(...input.records.map((r) => r.timestamp ?? input.timestamp!));
}

/** The header fields decodeBatch must return for `input`, apart from length and CRC. */
export function expectedHeader(input: BatchInput): Omit<BatchHeader, 'batchLength' | 'crc'> {
  const compressionCode = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 }[input.compression ?? 'none'];
  const attributes =
    compressionCode |
    (input.timestampType === 'log-append' ? 0x08 : 0) |
    (input.isTransactional ? 0x10 : 0) |
    (input.isControl ? 0x20 : 0);
  return {
    baseOffset: input.baseOffset ?? 0,
    partitionLeaderEpoch: input.partitionLeaderEpoch ?? -1,
    magic: 2,
    attributes,
    lastOffsetDelta: input.records.length - 1,
    baseTimestamp: input.records[0]!.timestamp ?? input.timestamp!,
    maxTimestamp: expectedMaxTimestamp(input),
    producerId: input.producerId ?? -1n,
    producerEpoch: input.producerEpoch ?? -1,
    baseSequence: input.baseSequence ?? -1,
    recordCount: input.records.length,
  };
}
