// Cross-check against an independent implementation: kafkajs 2.2.4's internal v2 RecordBatch
// encoder and decoder (what the kafkajs producer sends and its consumer reads). Batches made by
// either side must decode identically on the other, and for the same input both encoders must
// produce the same bytes.

import { createRequire } from 'node:module';
import fc from 'fast-check';
import { LOG_OVERHEAD } from '../src/batch-header.js';
import { encodeBatch, type BatchInput, type RecordHeader } from '../src/codec.js';
import { decodeBatch } from '../src/record-decoder.js';
import { SEED, bytesArb, nullableBytesArb } from './codec-test-helpers.js';

const require = createRequire(import.meta.url);

interface KafkajsEncoder {
  buffer: Buffer;
}
interface KafkajsLong {
  toString(): string;
}
interface KafkajsDecodedRecord {
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | null | (Buffer | null)[]>;
}
interface KafkajsDecodedBatch {
  firstOffset: string;
  firstTimestamp: string;
  maxTimestamp: string;
  partitionLeaderEpoch: number;
  lastOffsetDelta: number;
  producerId: string;
  producerEpoch: number;
  firstSequence: number;
  inTransaction: boolean;
  isControlBatch: boolean;
  timestampType: number;
  records: KafkajsDecodedRecord[];
}

const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as {
  RecordBatch: (args: {
    compression: number;
    firstOffset: KafkajsLong;
    firstTimestamp: number;
    maxTimestamp: number;
    partitionLeaderEpoch: number;
    lastOffsetDelta: number;
    transactional: boolean;
    producerId: KafkajsLong;
    producerEpoch: number;
    firstSequence: number;
    records: KafkajsEncoder[];
  }) => Promise<KafkajsEncoder>;
};
const KafkajsRecord = require('kafkajs/src/protocol/recordBatch/record/v0') as (args: {
  offsetDelta: number;
  timestampDelta: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | Buffer[]>;
}) => KafkajsEncoder;
const decodeKafkajsBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (
  decoder: unknown,
) => Promise<KafkajsDecodedBatch>;
const KafkajsDecoder = require('kafkajs/src/protocol/decoder') as new (buf: Buffer) => unknown;
const Long = require('kafkajs/src/utils/long') as { fromValue(v: number | string | bigint): KafkajsLong };
const { Types: KafkajsCompression } = require('kafkajs/src/protocol/message/compression') as {
  Types: { None: number; GZIP: number };
};

/**
 * A batch as both encoders can express it. kafkajs takes headers as an object (a repeated key
 * is an array) and cannot encode a null header value; its keys must not look like integers,
 * or JavaScript reorders them.
 */
interface CommonBatch {
  compression: 'none' | 'gzip';
  baseOffset: number;
  partitionLeaderEpoch: number;
  isTransactional: boolean;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  records: { key: Buffer | null; value: Buffer | null; timestamp: number; headers: Record<string, Buffer[]> }[];
}

function flattenHeaders(headers: Record<string, Buffer[]>): RecordHeader[] {
  return Object.entries(headers).flatMap(([key, values]) => values.map((value) => ({ key, value })));
}

/** kafkajs's decoded header object: a single value, or an array when the key repeats. */
function kafkajsHeaderObject(headers: RecordHeader[]): Record<string, Buffer | null | (Buffer | null)[]> {
  const obj: Record<string, Buffer | null | (Buffer | null)[]> = {};
  for (const { key, value } of headers) {
    const prev = obj[key];
    obj[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return obj;
}

function toOurInput(b: CommonBatch): BatchInput {
  return {
    compression: b.compression,
    baseOffset: b.baseOffset,
    partitionLeaderEpoch: b.partitionLeaderEpoch,
    isTransactional: b.isTransactional,
    producerId: b.producerId,
    producerEpoch: b.producerEpoch,
    baseSequence: b.baseSequence,
    records: b.records.map((r) => ({
      key: r.key,
      value: r.value,
      timestamp: r.timestamp,
      headers: flattenHeaders(r.headers),
    })),
  };
}

async function encodeWithKafkajs(b: CommonBatch): Promise<Buffer> {
  const first = b.records[0]!.timestamp;
  const encoder = await RecordBatch({
    compression: b.compression === 'gzip' ? KafkajsCompression.GZIP : KafkajsCompression.None,
    firstOffset: Long.fromValue(b.baseOffset),
    firstTimestamp: first,
    maxTimestamp: Math.max(...b.records.map((r) => r.timestamp)),
    partitionLeaderEpoch: b.partitionLeaderEpoch,
    lastOffsetDelta: b.records.length - 1,
    transactional: b.isTransactional,
    producerId: Long.fromValue(b.producerId),
    producerEpoch: b.producerEpoch,
    firstSequence: b.baseSequence,
    records: b.records.map((r, i) =>
      KafkajsRecord({ offsetDelta: i, timestampDelta: r.timestamp - first, key: r.key, value: r.value, headers: r.headers }),
    ),
  });
  return encoder.buffer;
}

const headerKeyArb = fc.string({ unit: 'binary', minLength: 0, maxLength: 8 }).map((s) => `h-${s}`);

const commonBatchArb: fc.Arbitrary<CommonBatch> = fc
  .integer({ min: 1_600_000_000_000, max: 1_900_000_000_000 })
  .chain((first) =>
    fc.record({
      compression: fc.constantFrom('none' as const, 'gzip' as const),
      baseOffset: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2 ** 48 })),
      partitionLeaderEpoch: fc.integer({ min: -1, max: 0x7fff_ffff }),
      isTransactional: fc.boolean(),
      producerId: fc.oneof(fc.constant(-1n), fc.bigInt({ min: 0n, max: (1n << 63n) - 1n })),
      producerEpoch: fc.integer({ min: -1, max: 0x7fff }),
      baseSequence: fc.integer({ min: -1, max: 0x7fff_ffff }),
      records: fc.array(
        fc.record({
          key: nullableBytesArb(24),
          value: nullableBytesArb(200),
          timestamp: fc.oneof(
            fc.integer({ min: -5_000, max: 5_000 }).map((d) => first + d),
            fc.integer({ min: -(2 ** 40), max: 2 ** 40 }).map((d) => first + d),
          ),
          headers: fc.dictionary(headerKeyArb, fc.array(bytesArb(16), { minLength: 1, maxLength: 2 }), { maxKeys: 3 }),
        }),
        { minLength: 1, maxLength: 10 },
      ),
    }),
  );

describe('codec against kafkajs 2.2.4', () => {
  test('same input, same bytes: our encoder and kafkajs agree byte for byte (none and gzip)', async () => {
    await fc.assert(
      fc.asyncProperty(commonBatchArb, async (b) => {
        const theirs = await encodeWithKafkajs(b);
        const ours = encodeBatch(toOurInput(b));
        expect(ours.toString('hex')).toBe(theirs.toString('hex'));
      }),
      { seed: SEED, numRuns: 150 },
    );
  });

  test('batches made by kafkajs decode with ours to what kafkajs was given (CRC included)', async () => {
    await fc.assert(
      fc.asyncProperty(commonBatchArb, async (b) => {
        const batch = decodeBatch(await encodeWithKafkajs(b));
        expect(batch.compression).toBe(b.compression);
        expect(batch.isTransactional).toBe(b.isTransactional);
        expect(batch.isControl).toBe(false);
        expect(batch.timestampType).toBe('create');
        expect(batch.header).toMatchObject({
          baseOffset: b.baseOffset,
          partitionLeaderEpoch: b.partitionLeaderEpoch,
          producerId: b.producerId,
          producerEpoch: b.producerEpoch,
          baseSequence: b.baseSequence,
          recordCount: b.records.length,
          lastOffsetDelta: b.records.length - 1,
        });
        expect(batch.records).toEqual(
          b.records.map((r, i) => ({
            offset: b.baseOffset + i,
            timestamp: r.timestamp,
            key: r.key,
            value: r.value,
            headers: flattenHeaders(r.headers),
          })),
        );
      }),
      { seed: SEED, numRuns: 150 },
    );
  });

  test('batches made by ours decode with kafkajs to what we were given, incl. null header values and flags', async () => {
    const ourBatchArb = fc.record({
      common: commonBatchArb,
      nullHeaderValue: fc.boolean(),
      timestampType: fc.constantFrom('create' as const, 'log-append' as const),
      isControl: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(ourBatchArb, async ({ common, nullHeaderValue, timestampType, isControl }) => {
        const input = toOurInput(common);
        if (nullHeaderValue) input.records[0]!.headers = [...input.records[0]!.headers!, { key: 'h-null', value: null }];
        input.timestampType = timestampType;
        input.isControl = isControl;
        input.logAppendTime = 1_700_000_000_123;
        const buf = encodeBatch(input);
        const theirs = await decodeKafkajsBatch(new KafkajsDecoder(buf));
        const ours = decodeBatch(buf);
        expect(theirs.firstOffset).toBe(String(common.baseOffset));
        expect(theirs.partitionLeaderEpoch).toBe(common.partitionLeaderEpoch);
        expect(theirs.producerId).toBe(String(common.producerId));
        expect(theirs.producerEpoch).toBe(common.producerEpoch);
        expect(theirs.firstSequence).toBe(common.baseSequence);
        expect(theirs.inTransaction).toBe(common.isTransactional);
        expect(theirs.isControlBatch).toBe(isControl);
        expect(theirs.lastOffsetDelta).toBe(common.records.length - 1);
        expect(theirs.firstTimestamp).toBe(String(ours.header.baseTimestamp));
        expect(theirs.maxTimestamp).toBe(String(ours.header.maxTimestamp));
        expect(theirs.timestampType).toBe(timestampType === 'log-append' ? 1 : 0);
        expect(
          theirs.records.map((r) => ({ offset: r.offset, timestamp: r.timestamp, key: r.key, value: r.value, headers: r.headers })),
        ).toEqual(
          ours.records.map((r) => ({
            offset: String(r.offset),
            timestamp: String(r.timestamp),
            key: r.key,
            value: r.value,
            headers: kafkajsHeaderObject(r.headers),
          })),
        );
        // And what both decoded is what was encoded.
        expect(ours.records.map((r) => [r.key, r.value, r.headers])).toEqual(
          input.records.map((r) => [r.key, r.value, r.headers]),
        );
      }),
      { seed: SEED, numRuns: 150 },
    );
  });

  test('a fixed three-record batch with headers, a null key and an earlier timestamp matches kafkajs exactly', async () => {
    const common: CommonBatch = {
      compression: 'none',
      baseOffset: 41,
      partitionLeaderEpoch: 3,
      isTransactional: true,
      producerId: 1234567890123n,
      producerEpoch: 7,
      baseSequence: 99,
      records: [
        { key: Buffer.from('k1'), value: Buffer.from('first'), timestamp: 1_700_000_000_000, headers: { 'h-trace': [Buffer.from('abc')] } },
        { key: null, value: Buffer.from('second'), timestamp: 1_699_999_999_000, headers: {} },
        { key: Buffer.alloc(0), value: null, timestamp: 1_700_000_050_000, headers: { 'h-a': [Buffer.from('1'), Buffer.from('2')] } },
      ],
    };
    const theirs = await encodeWithKafkajs(common);
    const ours = encodeBatch(toOurInput(common));
    expect(ours.equals(theirs)).toBe(true);
    expect(ours.readInt32BE(8)).toBe(ours.length - LOG_OVERHEAD);
    const decoded = decodeBatch(theirs);
    expect(decoded.records.map((r) => r.timestamp)).toEqual([1_700_000_000_000, 1_699_999_999_000, 1_700_000_050_000]);
    expect(decoded.header.maxTimestamp).toBe(1_700_000_050_000);
  });
});
