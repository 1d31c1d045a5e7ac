// Zigzag varints and varlongs against a BigInt reference written straight from the protobuf /
// Kafka definition, and against kafkajs's encoder.

import { createRequire } from 'node:module';
import fc from 'fast-check';
import { CorruptRecordError } from '../src/errors.js';
import {
  ByteReader, MAX_VARLONG_BYTES, encodeVarint, encodeVarlong, sizeOfVarint, sizeOfVarlong, writeInt64FromNumber,
} from '../src/varint.js';
import { SEED } from './codec-test-helpers.js';

const require = createRequire(import.meta.url);
const KafkajsEncoder = require('kafkajs/src/protocol/encoder') as new () => {
  writeVarInt(n: number): unknown;
  writeVarLong(n: unknown): unknown;
  buffer: Buffer;
};
const Long = require('kafkajs/src/utils/long') as { fromValue(v: number | string | bigint): unknown };

/** Reference: zigzag over 64 bits, then 7 bits at a time, low group first. */
function referenceVarlong(n: bigint): Buffer {
  let u = BigInt.asUintN(64, (n << 1n) ^ (n >> 63n));
  const out: number[] = [];
  while (u >= 0x80n) {
    out.push(Number(u & 0x7fn) | 0x80);
    u >>= 7n;
  }
  out.push(Number(u));
  return Buffer.from(out);
}

function readVarint(bytes: Buffer): number {
  return new ByteReader(bytes, 0, bytes.length).readVarint();
}

function readVarlong(bytes: Buffer): number {
  return new ByteReader(bytes, 0, bytes.length).readVarlong();
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

const INT32_EDGES = [0, 1, -1, 63, -64, 64, -65, 8191, -8192, 8192, INT32_MAX, INT32_MIN, INT32_MAX - 1, INT32_MIN + 1];
const SAFE_EDGES = [
  ...INT32_EDGES,
  2 ** 31, -(2 ** 31) - 1, 2 ** 32, -(2 ** 32), 2 ** 32 + 1, 2 ** 35 - 1, -(2 ** 35),
  1_700_000_000_000, -1_700_000_000_000, 2 ** 52, -(2 ** 52), 2 ** 52 + 1, -(2 ** 52) - 1,
  Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER - 1, Number.MIN_SAFE_INTEGER + 1,
];

describe('varint / varlong', () => {
  test('known encodings', () => {
    expect(encodeVarint(0).toString('hex')).toBe('00');
    expect(encodeVarint(-1).toString('hex')).toBe('01');
    expect(encodeVarint(1).toString('hex')).toBe('02');
    expect(encodeVarint(63).toString('hex')).toBe('7e');
    expect(encodeVarint(-64).toString('hex')).toBe('7f');
    expect(encodeVarint(64).toString('hex')).toBe('8001');
    expect(encodeVarint(INT32_MAX).toString('hex')).toBe('feffffff0f');
    expect(encodeVarint(INT32_MIN).toString('hex')).toBe('ffffffff0f');
    expect(encodeVarlong(2 ** 31).toString('hex')).toBe('8080808010');
    expect(encodeVarlong(Number.MAX_SAFE_INTEGER).toString('hex')).toBe('feffffffffffff1f');
    expect(encodeVarlong(Number.MIN_SAFE_INTEGER).toString('hex')).toBe('fdffffffffffff1f');
  });

  test.each(INT32_EDGES)('varint %d: reference bytes, size, kafkajs bytes, read back', (n) => {
    const bytes = encodeVarint(n);
    expect(bytes).toEqual(referenceVarlong(BigInt(n)));
    expect(sizeOfVarint(n)).toBe(bytes.length);
    const kafkajs = new KafkajsEncoder();
    kafkajs.writeVarInt(n);
    expect(bytes).toEqual(kafkajs.buffer);
    expect(readVarint(bytes)).toBe(n);
    expect(readVarlong(bytes)).toBe(n);
  });

  test.each(SAFE_EDGES)('varlong %d: reference bytes, size, kafkajs bytes, read back', (n) => {
    const bytes = encodeVarlong(n);
    expect(bytes).toEqual(referenceVarlong(BigInt(n)));
    expect(sizeOfVarlong(n)).toBe(bytes.length);
    const kafkajs = new KafkajsEncoder();
    kafkajs.writeVarLong(Long.fromValue(BigInt(n).toString()));
    expect(bytes).toEqual(kafkajs.buffer);
    expect(readVarlong(bytes)).toBe(n);
  });

  test('random safe integers match the reference and read back', () => {
    fc.assert(
      fc.property(fc.oneof(fc.maxSafeInteger(), fc.integer(), fc.integer({ min: -1000, max: 1000 })), (n) => {
        const bytes = encodeVarlong(n);
        expect(bytes).toEqual(referenceVarlong(BigInt(n)));
        expect(sizeOfVarlong(n)).toBe(bytes.length);
        expect(readVarlong(bytes)).toBe(n);
        if ((n | 0) === n) expect(readVarint(encodeVarint(n))).toBe(n);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  test('readers stop at the reader end, not the buffer end, and advance exactly', () => {
    const buf = Buffer.concat([encodeVarlong(2 ** 40), encodeVarint(300), Buffer.from([0x80])]);
    const r = new ByteReader(buf, 0, buf.length - 1);
    expect(r.readVarlong()).toBe(2 ** 40);
    expect(r.readVarint()).toBe(300);
    expect(r.remaining()).toBe(0);
    expect(() => r.readVarint()).toThrow(CorruptRecordError);
    // A varint cut by the end of its record is truncated even though the buffer goes on.
    const cut = new ByteReader(encodeVarint(INT32_MAX), 0, 3);
    expect(() => cut.readVarint()).toThrow(/truncated varint/);
  });

  test('overlong and out-of-range encodings are corrupt, never a wrong number', () => {
    expect(() => readVarint(Buffer.from('ffffffff1f', 'hex'))).toThrow(/does not fit in 32 bits/);
    expect(() => readVarint(Buffer.from('ffffffff8f01', 'hex'))).toThrow(CorruptRecordError);
    expect(() => readVarint(Buffer.from('80808080', 'hex'))).toThrow(/truncated/);
    expect(() => readVarint(Buffer.alloc(0))).toThrow(/truncated/);
    // 2^53 and -2^53 - 1: valid int64 varlongs that a JS number cannot hold exactly.
    expect(() => readVarlong(referenceVarlong(2n ** 53n))).toThrow(/safe integer/);
    expect(() => readVarlong(referenceVarlong(-(2n ** 53n) - 1n))).toThrow(/safe integer/);
    expect(() => readVarlong(referenceVarlong(-(2n ** 63n)))).toThrow(/safe integer/);
    expect(() => readVarlong(Buffer.from('ffffffffffffffffff02', 'hex'))).toThrow(/64 bits/);
    expect(() => readVarlong(Buffer.alloc(MAX_VARLONG_BYTES + 1, 0x80))).toThrow(/64 bits/);
    expect(() => readVarlong(Buffer.from('8080', 'hex'))).toThrow(/truncated/);
  });

  test('non-canonical (padded) encodings read as their value, as Kafka reads them', () => {
    expect(readVarint(Buffer.from('8000', 'hex'))).toBe(0);
    expect(readVarlong(Buffer.from('82808000', 'hex'))).toBe(1);
  });

  test('checked encoders refuse what they cannot represent', () => {
    expect(() => encodeVarint(2 ** 31)).toThrow(RangeError);
    expect(() => encodeVarint(1.5)).toThrow(RangeError);
    expect(() => encodeVarlong(2 ** 53)).toThrow(RangeError);
  });

  test('int64 fields are written without BigInt, exactly', () => {
    for (const n of SAFE_EDGES) {
      const buf = Buffer.alloc(8);
      writeInt64FromNumber(buf, 0, n);
      expect(buf.readBigInt64BE(0)).toBe(BigInt(n));
    }
  });
});
