import { createRequire } from 'node:module';
import fc from 'fast-check';
import { crc32c } from '../src/crc32c.js';

const require = createRequire(import.meta.url);
const kafkajsCrc32c = require('kafkajs/src/protocol/recordBatch/crc32C') as (buf: Buffer) => number;

const SEED = Number(process.env.SAMSA_TEST_SEED ?? 20_261_125);

/** Bit-at-a-time CRC-32C straight from the definition (reflected, polynomial 0x82F63B78). */
function referenceCrc32c(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of buf) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

describe('crc32c', () => {
  test('matches the published check value and RFC 3720 vectors', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(Buffer.alloc(32, 0))).toBe(0x8a9136aa);
    expect(crc32c(Buffer.alloc(32, 0xff))).toBe(0x62a8ab43);
  });

  test('is incremental: checksumming in pieces equals checksumming at once', () => {
    const buf = Buffer.alloc(1021);
    for (let i = 0; i < buf.length; i++) buf[i] = (i * 31 + 7) & 0xff;
    const whole = crc32c(buf);
    for (const cut of [0, 1, 7, 8, 9, 500, 1020, 1021]) {
      expect(crc32c(buf, cut, buf.length, crc32c(buf, 0, cut))).toBe(whole);
    }
  });

  test('random data and sub-ranges match a bitwise reference and kafkajs (unsigned)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(), fc.nat(), (bytes, a, b) => {
        const buf = Buffer.from(bytes);
        const start = a % (buf.length + 1);
        const end = start + (b % (buf.length - start + 1));
        expect(crc32c(buf)).toBe(referenceCrc32c(buf));
        expect(crc32c(buf)).toBe(kafkajsCrc32c(buf) >>> 0);
        expect(crc32c(buf, start, end)).toBe(referenceCrc32c(buf.subarray(start, end)));
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  test('rejects a range outside the buffer', () => {
    expect(() => crc32c(Buffer.alloc(4), 0, 5)).toThrow(RangeError);
    expect(() => crc32c(Buffer.alloc(4), 3, 2)).toThrow(RangeError);
    expect(() => crc32c(Buffer.alloc(4), -1, 2)).toThrow(RangeError);
  });
});

describe('crc32c implementations', () => {
  test('the native (hardware) path and the JS table agree on every length and split', async () => {
    const { crc32cJs, CRC32C_IMPLEMENTATION } = await import('../src/crc32c.js');
    expect(['native', 'js']).toContain(CRC32C_IMPLEMENTATION);
    const buf = Buffer.alloc(4099);
    for (let i = 0; i < buf.length; i++) buf[i] = (i * 167 + 13) & 0xff;
    for (const len of [0, 1, 7, 127, 128, 129, 1000, 4099]) {
      expect(crc32c(buf, 0, len)).toBe(crc32cJs(buf, 0, len));
      const mid = len >> 1;
      expect(crc32c(buf, mid, len, crc32c(buf, 0, mid))).toBe(crc32cJs(buf, 0, len));
    }
    const view = new Uint8Array(buf.buffer, buf.byteOffset + 3, 2000);
    expect(crc32c(view)).toBe(crc32cJs(view));
  });
});
