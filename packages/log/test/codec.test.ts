import { gzipSync } from 'node:zlib';
import {
  BATCH_HEADER_SIZE, LOG_OVERHEAD, OFFSET_ATTRIBUTES, OFFSET_BATCH_LENGTH, OFFSET_RECORD_COUNT, checkBatch,
  setBaseOffset, stampLogAppendTime,
} from '../src/batch-header.js';
import { encodeBatch, type BatchInput } from '../src/codec.js';
import { crc32c } from '../src/crc32c.js';
import { CorruptRecordError, LogError } from '../src/errors.js';
import { decodeBatch } from '../src/record-decoder.js';
import { encodeVarint, encodeVarlong } from '../src/varint.js';
import { decodeOrTypedError, fixCrc } from './codec-test-helpers.js';

const T0 = 1_700_000_000_000;

/** One record's bytes from its fields, with nothing checked: the way to forge bad records. */
function rawRecord(f: {
  timestampDelta?: number;
  offsetDelta?: number;
  key?: Buffer | null | { length: number };
  value?: Buffer | null | { length: number };
  headers?: Buffer;
  lengthAdjust?: number;
  padding?: Buffer;
}): Buffer {
  const field = (b: Buffer | null | { length: number } | undefined): Buffer =>
    b == null ? encodeVarint(-1) : Buffer.isBuffer(b) ? Buffer.concat([encodeVarint(b.length), b]) : encodeVarint(b.length);
  const body = Buffer.concat([
    Buffer.from([0]),
    encodeVarlong(f.timestampDelta ?? 0),
    encodeVarint(f.offsetDelta ?? 0),
    field(f.key),
    field(f.value === undefined ? Buffer.from('v') : f.value),
    f.headers ?? encodeVarint(0),
    f.padding ?? Buffer.alloc(0),
  ]);
  return Buffer.concat([encodeVarint(body.length + (f.lengthAdjust ?? 0)), body]);
}

/** A batch around hand-made records bytes, with a valid CRC. */
function forgeBatch(records: Buffer, opts: { count: number; lastOffsetDelta?: number; attributes?: number; baseTimestamp?: number }): Buffer {
  const buf = Buffer.alloc(BATCH_HEADER_SIZE + records.length);
  buf.writeInt32BE(buf.length - LOG_OVERHEAD, OFFSET_BATCH_LENGTH);
  buf.writeInt32BE(-1, 12);
  buf.writeInt8(2, 16);
  buf.writeInt16BE(opts.attributes ?? 0, OFFSET_ATTRIBUTES);
  buf.writeInt32BE(opts.lastOffsetDelta ?? Math.max(0, opts.count - 1), 23);
  buf.writeBigInt64BE(BigInt(opts.baseTimestamp ?? T0), 27);
  buf.writeBigInt64BE(BigInt(opts.baseTimestamp ?? T0), 35);
  buf.writeBigInt64BE(-1n, 43);
  buf.writeInt16BE(-1, 51);
  buf.writeInt32BE(-1, 53);
  buf.writeInt32BE(opts.count, OFFSET_RECORD_COUNT);
  records.copy(buf, BATCH_HEADER_SIZE);
  return fixCrc(buf);
}

function expectCode(fn: () => unknown, code: string, message?: RegExp): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(LogError);
  expect((thrown as LogError).code).toBe(code);
  if (message) expect((thrown as LogError).message).toMatch(message);
}

describe('encodeBatch', () => {
  test('lays out a one-record batch exactly as the v2 format says', () => {
    const buf = encodeBatch({ baseOffset: 5, timestamp: T0, records: [{ key: Buffer.from('k'), value: Buffer.from('v') }] });
    const expected =
      '0000000000000005' + // baseOffset
      '0000003a' + // batchLength: 49 header bytes after it + 9 record bytes
      'ffffffff' + // partitionLeaderEpoch: none
      '02' + // magic
      buf.subarray(17, 21).toString('hex') + // crc, checked below
      '0000' + // attributes: no compression, create time
      '00000000' + // lastOffsetDelta
      '0000018bcfe56800' + // baseTimestamp 1_700_000_000_000
      '0000018bcfe56800' + // maxTimestamp
      'ffffffffffffffff' + // producerId: none
      'ffff' + // producerEpoch
      'ffffffff' + // baseSequence
      '00000001' + // recordCount
      '10' + // record length 8 (zigzag 16)
      '00' + // record attributes
      '00' + // timestampDelta 0
      '00' + // offsetDelta 0
      '026b' + // key: length 1, "k"
      '0276' + // value: length 1, "v"
      '00'; // no headers
    expect(buf.toString('hex')).toBe(expected);
    expect(buf.readUInt32BE(17)).toBe(crc32c(buf, 21));
  });

  test('baseTimestamp is the first record\'s, maxTimestamp the largest; deltas may be negative', () => {
    const buf = encodeBatch({
      records: [
        { value: Buffer.from('a'), timestamp: T0 },
        { value: Buffer.from('b'), timestamp: T0 - 5_000 },
        { value: Buffer.from('c'), timestamp: T0 + 2 ** 40 },
        { value: Buffer.from('d'), timestamp: -1 },
      ],
    });
    const h = checkBatch(buf);
    expect(h.baseTimestamp).toBe(T0);
    expect(h.maxTimestamp).toBe(T0 + 2 ** 40);
    expect(decodeBatch(buf).records.map((r) => r.timestamp)).toEqual([T0, T0 - 5_000, T0 + 2 ** 40, -1]);
  });

  test('log-append batches carry the append time as maxTimestamp, which every record reports', () => {
    const records = [{ value: Buffer.from('a'), timestamp: T0 }, { value: Buffer.from('b'), timestamp: T0 + 7 }];
    const stamped = encodeBatch({ records, timestampType: 'log-append', logAppendTime: T0 + 1000 });
    expect(decodeBatch(stamped).records.map((r) => r.timestamp)).toEqual([T0 + 1000, T0 + 1000]);
    const defaulted = encodeBatch({ records, timestampType: 'log-append' });
    expect(decodeBatch(defaulted).records.map((r) => r.timestamp)).toEqual([T0 + 7, T0 + 7]);
  });

  test('batches larger and smaller than the reused sizing arrays encode alike, in any order', () => {
    const batchOf = (n: number, tag: number): BatchInput => ({
      timestamp: T0,
      records: Array.from({ length: n }, (_, i) => ({ value: Buffer.from([tag, i & 0xff]), timestamp: T0 + (i % 3) - 1 })),
    });
    for (const n of [3, 70_000, 2_000, 70_001, 5]) {
      const records = decodeBatch(encodeBatch(batchOf(n, n & 0xff))).records;
      expect(records).toHaveLength(n);
      expect(records[n - 1]).toEqual({
        offset: n - 1,
        timestamp: T0 + ((n - 1) % 3) - 1,
        key: null,
        value: Buffer.from([n & 0xff, (n - 1) & 0xff]),
        headers: [],
      });
    }
  });

  test('snappy, lz4 and zstd are recognised and refused by name', () => {
    for (const compression of ['snappy', 'lz4', 'zstd'] as const) {
      expectCode(() => encodeBatch({ timestamp: 0, compression, records: [{ value: null }] }), 'UNSUPPORTED_COMPRESSION', new RegExp(compression));
    }
  });

  test('refuses what the format cannot carry, with INVALID_ARGUMENT', () => {
    const one = [{ value: Buffer.from('x') }];
    const bad: [string, BatchInput][] = [
      ['no records', { timestamp: 0, records: [] }],
      ['no timestamp anywhere', { records: one }],
      ['second record without timestamp', { records: [{ value: null, timestamp: 1 }, { value: null }] }],
      ['fractional timestamp', { timestamp: 1.5, records: one }],
      ['timestamp beyond 2^53', { timestamp: 2 ** 53, records: one }],
      ['delta beyond 2^53', { records: [{ value: null, timestamp: -(2 ** 52) }, { value: null, timestamp: 2 ** 52 }] }],
      ['negative base offset', { timestamp: 0, baseOffset: -1, records: one }],
      ['producer epoch beyond int16', { timestamp: 0, producerEpoch: 40_000, records: one }],
      ['base sequence beyond int32', { timestamp: 0, baseSequence: 2 ** 31, records: one }],
      ['leader epoch beyond int32', { timestamp: 0, partitionLeaderEpoch: 2 ** 31, records: one }],
      ['producer id beyond int64', { timestamp: 0, producerId: 1n << 63n, records: one }],
      ['key that is a string', { timestamp: 0, records: [{ key: 'k' as unknown as Buffer, value: null }] }],
      ['header key that is not a string', { timestamp: 0, records: [{ value: null, headers: [{ key: 1 as unknown as string, value: null }] }] }],
      ['unknown compression', { timestamp: 0, compression: 'brotli' as never, records: one }],
    ];
    for (const [why, input] of bad) {
      expectCode(() => encodeBatch(input), 'INVALID_ARGUMENT');
      expect(why).toBeTruthy();
    }
  });
});

describe('decodeBatch', () => {
  test('keys and values of an uncompressed batch are views into the input, not copies', () => {
    const buf = encodeBatch({ timestamp: T0, records: [{ key: Buffer.from('key'), value: Buffer.from('value') }] });
    const [r] = decodeBatch(buf).records;
    expect(r!.value!.buffer).toBe(buf.buffer);
    buf[buf.length - 2] = 0x45; // last byte of the value ('e' → 'E'), after the CRC was checked
    expect(r!.value!.toString()).toBe('valuE');
  });

  test('offsets follow a rewritten base offset; the CRC does not cover it', () => {
    const buf = encodeBatch({ timestamp: T0, records: [{ value: null }, { value: null }, { value: null }] });
    setBaseOffset(buf, 0, 1_000_000);
    expect(decodeBatch(buf).records.map((r) => r.offset)).toEqual([1_000_000, 1_000_001, 1_000_002]);
  });

  test('stampLogAppendTime turns every record timestamp into the append time', () => {
    const buf = encodeBatch({ records: [{ value: null, timestamp: T0 }, { value: null, timestamp: T0 - 9 }], compression: 'gzip' });
    stampLogAppendTime(buf, 0, T0 + 555);
    const batch = decodeBatch(buf);
    expect(batch.timestampType).toBe('log-append');
    expect(batch.compression).toBe('gzip');
    expect(batch.records.map((r) => r.timestamp)).toEqual([T0 + 555, T0 + 555]);
  });

  test('an empty batch (compaction keeps one for producer state) decodes to no records, compressed or not', () => {
    const plain = decodeBatch(forgeBatch(Buffer.alloc(0), { count: 0, lastOffsetDelta: 4 }));
    expect(plain.records).toEqual([]);
    expect(plain.header.lastOffsetDelta).toBe(4);
    expect(decodeBatch(forgeBatch(Buffer.alloc(0), { count: 0, attributes: 1 })).records).toEqual([]);
  });

  test('snappy, lz4 and zstd batches are refused by name; compression codes 5-7 are corrupt', () => {
    const body = rawRecord({});
    for (const [code, name] of [[2, 'snappy'], [3, 'lz4'], [4, 'zstd']] as const) {
      expectCode(() => decodeBatch(forgeBatch(body, { count: 1, attributes: code })), 'UNSUPPORTED_COMPRESSION', new RegExp(name));
    }
    for (const code of [5, 6, 7]) {
      expect(() => decodeBatch(forgeBatch(body, { count: 1, attributes: code }))).toThrow(/unknown compression code/);
    }
  });

  test('the record count must match the records present', () => {
    const value = Buffer.alloc(20);
    const two = Buffer.concat([rawRecord({ offsetDelta: 0, value }), rawRecord({ offsetDelta: 1, value })]);
    expect(decodeBatch(forgeBatch(two, { count: 2 })).records).toHaveLength(2);
    expect(() => decodeBatch(forgeBatch(two, { count: 1 }))).toThrow(/bytes follow the last of the batch's 1 records/);
    expect(() => decodeBatch(forgeBatch(two, { count: 3 }))).toThrow(/truncated varint/);
    expect(() => decodeBatch(forgeBatch(two, { count: 9 }))).toThrow(/claims 9 records but has only 54 bytes/);
    expect(() => decodeBatch(forgeBatch(gzipSync(two), { count: 3, attributes: 1 }))).toThrow(/truncated varint/);
  });

  test('gaps in offset deltas (a compacted batch) are kept; deltas past lastOffsetDelta are corrupt', () => {
    const gappy = Buffer.concat([rawRecord({ offsetDelta: 1 }), rawRecord({ offsetDelta: 4 })]);
    expect(decodeBatch(forgeBatch(gappy, { count: 2, lastOffsetDelta: 5 })).records.map((r) => r.offset)).toEqual([1, 4]);
    expect(() => decodeBatch(forgeBatch(gappy, { count: 2, lastOffsetDelta: 3 }))).toThrow(/offset delta 4 is outside \[0, 3\]/);
    expect(() => decodeBatch(forgeBatch(rawRecord({ offsetDelta: -1 }), { count: 1 }))).toThrow(/offset delta -1/);
  });

  test('malformed record fields are corrupt, each with its reason', () => {
    const cases: [Buffer, RegExp][] = [
      [rawRecord({ lengthAdjust: 1 }), /record 0 length/],
      [rawRecord({ lengthAdjust: -1 }), /truncated varint/],
      [rawRecord({ padding: Buffer.from([0]) }), /declares 8 bytes but its fields end 1 bytes early/],
      [Buffer.concat([encodeVarint(-5), Buffer.alloc(8)]), /record 0 length -5/],
      [rawRecord({ key: { length: -2 } }), /key length -2/],
      [rawRecord({ key: { length: 100 } }), /key length 100/],
      [rawRecord({ value: { length: -3 } }), /value length -3/],
      [rawRecord({ headers: encodeVarint(-1) }), /header count -1/],
      [rawRecord({ headers: encodeVarint(50) }), /header count 50/],
      [rawRecord({ headers: Buffer.concat([encodeVarint(1), encodeVarint(-1), encodeVarint(-1)]) }), /header key length -1/],
      [rawRecord({ headers: Buffer.concat([encodeVarint(1), encodeVarint(0), encodeVarint(9)]) }), /header value length 9/],
    ];
    for (const [records, reason] of cases) {
      expect(() => decodeBatch(forgeBatch(records, { count: 1 }))).toThrow(reason);
    }
  });

  test('a null header value and an empty header key decode as such', () => {
    const headers = Buffer.concat([encodeVarint(2), encodeVarint(0), encodeVarint(-1), encodeVarint(1), Buffer.from('h'), encodeVarint(0)]);
    const [r] = decodeBatch(forgeBatch(rawRecord({ headers, key: null }), { count: 1 })).records;
    expect(r!.key).toBeNull();
    expect(r!.headers).toEqual([{ key: '', value: null }, { key: 'h', value: Buffer.alloc(0) }]);
  });

  test('a timestamp that leaves the safe integer range is corrupt', () => {
    const records = rawRecord({ timestampDelta: 2 ** 52 });
    expect(() => decodeBatch(forgeBatch(records, { count: 1, baseTimestamp: 2 ** 52 }))).toThrow(/timestamp .* safe integer/);
  });

  test('decodes at a position inside a larger buffer and only reads its own batch', () => {
    const a = encodeBatch({ timestamp: T0, records: [{ value: Buffer.from('a') }] });
    const b = encodeBatch({ timestamp: T0, baseOffset: 1, records: [{ value: Buffer.from('b') }] });
    const all = Buffer.concat([a, b, Buffer.from('trailing garbage')]);
    expect(decodeBatch(all, a.length).records[0]!.value!.toString()).toBe('b');
    expect(() => decodeBatch(all, a.length + b.length)).toThrow(CorruptRecordError);
    expect(() => decodeBatch(all, -1)).toThrow(CorruptRecordError);
    expectCode(() => decodeBatch(all, Number.NaN), 'INVALID_ARGUMENT');
    expectCode(() => decodeBatch(new Uint8Array(all) as Buffer), 'INVALID_ARGUMENT');
  });

  test('maxUncompressedBytes must be a positive integer', () => {
    const buf = encodeBatch({ timestamp: 0, compression: 'gzip', records: [{ value: null }] });
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      expectCode(() => decodeBatch(buf, 0, { maxUncompressedBytes: bad }), 'INVALID_ARGUMENT');
    }
    expect(decodeOrTypedError(() => decodeBatch(buf, 0, { maxUncompressedBytes: 1 }))).toMatchObject({ code: 'RECORD_TOO_LARGE' });
  });
});
