import { crc32c } from '../src/crc32c.js';

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

  test('rejects a range outside the buffer', () => {
    expect(() => crc32c(Buffer.alloc(4), 0, 5)).toThrow(RangeError);
  });
});
