// Hostile input: whatever bytes arrive, decodeBatch either returns a consistent batch or throws
// one of the log's typed errors (never RangeError/TypeError, never hangs or reads past the
// batch). Mutations are re-CRC'd so they reach the record parser instead of stopping at the
// checksum; separately, every single-bit flip under the CRC must be caught by it.

import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import {
  BATCH_HEADER_SIZE, LOG_OVERHEAD, OFFSET_ATTRIBUTES, OFFSET_BATCH_LENGTH, OFFSET_CRC, OFFSET_RECORD_COUNT, isCrcValid,
} from '../src/batch-header.js';
import { encodeBatch, type BatchInput } from '../src/codec.js';
import { DEFAULT_MAX_UNCOMPRESSED_BYTES } from '../src/compression.js';
import { CorruptRecordError, LogError } from '../src/errors.js';
import { decodeBatch, type DecodedBatch } from '../src/record-decoder.js';
import { SEED, batchInputArb, decodeOrTypedError, fixCrc } from './codec-test-helpers.js';

const uncompressedInputArb = batchInputArb.map((i): BatchInput => ({ ...i, compression: 'none' }));

/** Rebuilds an uncompressed batch as gzip: same header, records section gzipped, CRC fixed. */
function regzip(plain: Buffer): Buffer {
  const body = gzipSync(plain.subarray(BATCH_HEADER_SIZE));
  const out = Buffer.concat([plain.subarray(0, BATCH_HEADER_SIZE), body]);
  out.writeInt32BE(out.length - LOG_OVERHEAD, OFFSET_BATCH_LENGTH);
  out.writeInt16BE((out.readInt16BE(OFFSET_ATTRIBUTES) & ~0x07) | 1, OFFSET_ATTRIBUTES);
  return fixCrc(out);
}

/** A successful decode of hostile bytes must still be internally consistent. */
function expectConsistent(result: DecodedBatch | LogError): void {
  if (result instanceof LogError) return;
  const { header, records } = result;
  expect(records.length).toBe(header.recordCount);
  for (const r of records) {
    expect(r.offset).toBeGreaterThanOrEqual(header.baseOffset);
    expect(r.offset).toBeLessThanOrEqual(header.baseOffset + header.lastOffsetDelta);
    expect(Number.isSafeInteger(r.timestamp)).toBe(true);
  }
}

const mutationArb = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 });

describe('decodeBatch on hostile input', () => {
  test('random bytes throw only typed errors', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        expectConsistent(decodeOrTypedError(() => decodeBatch(Buffer.from(bytes))));
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  test('random records behind a well-formed header with a valid CRC throw only typed errors', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 0, max: 0x7f }),
        fc.boolean(),
        (records, count, attributes, gzip) => {
          const buf = Buffer.alloc(BATCH_HEADER_SIZE + records.length);
          buf.writeInt32BE(buf.length - LOG_OVERHEAD, OFFSET_BATCH_LENGTH);
          buf.writeInt8(2, 16);
          buf.writeInt16BE(attributes, OFFSET_ATTRIBUTES);
          buf.writeInt32BE(count, OFFSET_RECORD_COUNT);
          buf.writeInt32BE(Math.max(0, count - 1), 23);
          Buffer.from(records).copy(buf, BATCH_HEADER_SIZE);
          fixCrc(buf);
          const batch = gzip ? regzip(buf) : buf;
          expectConsistent(decodeOrTypedError(() => decodeBatch(batch)));
        },
      ),
      { seed: SEED, numRuns: 2000 },
    );
  });

  test('byte mutations of valid batches (CRC fixed up, none and gzip) throw only typed errors', () => {
    fc.assert(
      fc.property(uncompressedInputArb, mutationArb, fc.boolean(), (input, mutations, gzip) => {
        const buf = encodeBatch(input);
        for (const [at, byte] of mutations) buf[OFFSET_ATTRIBUTES + (at % (buf.length - OFFSET_ATTRIBUTES))] = byte;
        // Keep the length field honest so mutations reach the records rather than the framing.
        buf.writeInt32BE(buf.length - LOG_OVERHEAD, OFFSET_BATCH_LENGTH);
        fixCrc(buf);
        const batch = gzip ? regzip(buf) : buf;
        expectConsistent(decodeOrTypedError(() => decodeBatch(batch)));
      }),
      { seed: SEED, numRuns: 1500 },
    );
  });

  test('a truncated batch is corrupt, whether or not its length and CRC were fixed to match', () => {
    fc.assert(
      fc.property(uncompressedInputArb, fc.nat(), fc.boolean(), (input, cutSeed, gzip) => {
        const whole = encodeBatch(input);
        const cut = cutSeed % whole.length;
        const truncated = Buffer.from(whole.subarray(0, cut));
        expect(() => decodeBatch(gzip && cut >= BATCH_HEADER_SIZE ? regzip(truncated) : truncated)).toThrow(
          CorruptRecordError,
        );
        if (cut >= BATCH_HEADER_SIZE) {
          truncated.writeInt32BE(truncated.length - LOG_OVERHEAD, OFFSET_BATCH_LENGTH);
          fixCrc(truncated);
          expect(() => decodeBatch(gzip ? regzip(truncated) : truncated)).toThrow(CorruptRecordError);
        }
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  test('bytes appended after the last record are corrupt even with length and CRC fixed', () => {
    fc.assert(
      fc.property(uncompressedInputArb, fc.uint8Array({ minLength: 1, maxLength: 20 }), fc.boolean(), (input, extra, gzip) => {
        const buf = Buffer.concat([encodeBatch(input), extra]);
        buf.writeInt32BE(buf.length - LOG_OVERHEAD, OFFSET_BATCH_LENGTH);
        fixCrc(buf);
        expect(() => decodeBatch(gzip ? regzip(buf) : buf)).toThrow(CorruptRecordError);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  test('every single-bit flip in the CRC field or the bytes it covers is detected', () => {
    const input: BatchInput = {
      baseOffset: 10,
      timestamp: 1_700_000_000_000,
      producerId: 77n,
      producerEpoch: 2,
      baseSequence: 5,
      records: [
        { key: Buffer.from('a'), value: Buffer.from('hello'), headers: [{ key: 'h', value: Buffer.from('v') }] },
        { key: null, value: Buffer.alloc(40, 9), timestamp: 1_699_999_000_000 },
        { value: null },
      ],
    };
    for (const compression of ['none', 'gzip'] as const) {
      const valid = encodeBatch({ ...input, compression });
      let flips = 0;
      for (let byte = OFFSET_CRC; byte < valid.length; byte++) {
        for (let bit = 0; bit < 8; bit++) {
          const flipped = Buffer.from(valid);
          flipped[byte]! ^= 1 << bit;
          // The CRC alone catches it; decodeBatch may report an earlier header check instead.
          expect(isCrcValid(flipped)).toBe(false);
          expect(() => decodeBatch(flipped)).toThrow(CorruptRecordError);
          flips++;
        }
      }
      expect(flips).toBe((valid.length - OFFSET_CRC) * 8);
    }
  });

  test('a record count far beyond the bytes present is refused before any work', () => {
    const buf = encodeBatch({ timestamp: 0, records: [{ value: Buffer.from('x') }] });
    buf.writeInt32BE(0x7fff_ffff, OFFSET_RECORD_COUNT);
    buf.writeInt32BE(0x7fff_fffe, 23);
    fixCrc(buf);
    expect(() => decodeBatch(buf)).toThrow(/claims 2147483647 records/);
    expect(() => decodeBatch(regzip(buf))).toThrow(/claims 2147483647 records/);
  });

  test('a gzip bomb stops at the inflation cap (default 64 MiB, or the caller\'s)', () => {
    const small = encodeBatch({ timestamp: 0, compression: 'gzip', records: [{ value: Buffer.alloc(2 * 1024 * 1024) }] });
    const expectTooLarge = (decode: () => unknown): void => {
      expect(decode).toThrow(LogError);
      expect(decodeOrTypedError(decode)).toMatchObject({ code: 'RECORD_TOO_LARGE' });
    };
    expect(decodeBatch(small, 0, { maxUncompressedBytes: 3 * 1024 * 1024 }).records[0]!.value!.length).toBe(2 * 1024 * 1024);
    expectTooLarge(() => decodeBatch(small, 0, { maxUncompressedBytes: 1024 * 1024 }));

    expect(DEFAULT_MAX_UNCOMPRESSED_BYTES).toBe(64 * 1024 * 1024);
    const plain = encodeBatch({ timestamp: 0, records: [{ value: Buffer.alloc(DEFAULT_MAX_UNCOMPRESSED_BYTES) }] });
    const bomb = regzip(plain);
    expect(bomb.length).toBeLessThan(DEFAULT_MAX_UNCOMPRESSED_BYTES / 500);
    expectTooLarge(() => decodeBatch(bomb));
  });
});
