// Zigzag varints (int32) and varlongs (int64) as Kafka writes them inside v2 records.
//
// Varlongs carry timestamp deltas, which samsa keeps as JS numbers. Numbers are exact only up
// to 2^53, so varlongs are limited to the safe-integer range; within it they are written and
// read with 32-bit operations or exact double arithmetic, never BigInt (BigInt allocates, and
// this is the per-record hot path). Readers bound every byte they touch by an explicit end and
// throw CorruptRecordError, never RangeError.

import { CorruptRecordError } from './errors.js';

/** The longest varint (int32) and varlong (int64) encodings, in bytes. */
export const MAX_VARINT_BYTES = 5;
export const MAX_VARLONG_BYTES = 10;

const TWO_POW_7 = 0x80;
const TWO_POW_32 = 0x1_0000_0000;

function checkInt32(n: number): void {
  if ((n | 0) !== n) throw new RangeError(`varint ${n} is not a 32-bit integer`);
}

function checkSafe(n: number): void {
  if (!Number.isSafeInteger(n)) throw new RangeError(`varlong ${n} is not a safe integer`);
}

/** Bytes of the zigzag varint of the int32 `n`. */
export function sizeOfVarint(n: number): number {
  const u = ((n << 1) ^ (n >> 31)) >>> 0;
  if (u < 0x80) return 1;
  if (u < 0x4000) return 2;
  if (u < 0x20_0000) return 3;
  if (u < 0x1000_0000) return 4;
  return 5;
}

/** Writes the zigzag varint of the int32 `n` at `pos`; returns the position after it. */
export function writeVarint(buf: Uint8Array, pos: number, n: number): number {
  let u = ((n << 1) ^ (n >> 31)) >>> 0;
  while (u >= 0x80) {
    buf[pos++] = (u & 0x7f) | 0x80;
    u >>>= 7;
  }
  buf[pos++] = u;
  return pos;
}

/**
 * The zigzag encoding of a safe integer `n` splits into its low 7 bits and the rest without
 * forming 2n (which can exceed 2^53): for n >= 0 the low bits are 2(n mod 64) and the rest
 * floor(n / 64); for n < 0, with m = -n - 1, they are 2(m mod 64) + 1 and floor(m / 64).
 */
function zigzagLow7(n: number): number {
  return n >= 0 ? (n % 64) * 2 : ((-n - 1) % 64) * 2 + 1;
}

function zigzagRest(n: number): number {
  return n >= 0 ? Math.floor(n / 64) : Math.floor((-n - 1) / 64);
}

/** Bytes of the zigzag varlong of the safe integer `n`. */
export function sizeOfVarlong(n: number): number {
  if ((n | 0) === n) return sizeOfVarint(n);
  let rest = zigzagRest(n);
  let size = 1;
  while (rest > 0) {
    size++;
    rest = Math.floor(rest / TWO_POW_7);
  }
  return size;
}

/** Writes the zigzag varlong of the safe integer `n` at `pos`; returns the position after it. */
export function writeVarlong(buf: Uint8Array, pos: number, n: number): number {
  if ((n | 0) === n) return writeVarint(buf, pos, n);
  const low = zigzagLow7(n);
  let rest = zigzagRest(n);
  buf[pos++] = rest > 0 ? low | 0x80 : low;
  while (rest > 0) {
    const b = rest % TWO_POW_7;
    rest = Math.floor(rest / TWO_POW_7);
    buf[pos++] = rest > 0 ? b | 0x80 : b;
  }
  return pos;
}

/** Checked variants for callers outside the codec's own, pre-validated paths. */
export function encodeVarint(n: number): Buffer {
  checkInt32(n);
  const buf = Buffer.allocUnsafe(sizeOfVarint(n));
  writeVarint(buf, 0, n);
  return buf;
}

export function encodeVarlong(n: number): Buffer {
  checkSafe(n);
  const buf = Buffer.allocUnsafe(sizeOfVarlong(n));
  writeVarlong(buf, 0, n);
  return buf;
}

/**
 * A cursor over `buf[pos, end)`. The record decoder narrows `end` to the record being read, so
 * a length inside one record can never reach into the next. Owned by one decode call.
 */
export class ByteReader {
  constructor(
    readonly buf: Buffer,
    public pos: number,
    public end: number,
  ) {}

  remaining(): number {
    return this.end - this.pos;
  }

  readInt8(): number {
    if (this.pos >= this.end) throw this.truncated('int8');
    return (this.buf[this.pos++]! << 24) >> 24;
  }

  /** A zigzag varint that must fit in 32 bits (Kafka rejects longer ones as well). */
  readVarint(): number {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    if (pos >= end) throw this.truncated('varint');
    let b = buf[pos++]!;
    if (b < 0x80) {
      this.pos = pos;
      return (b >>> 1) ^ -(b & 1);
    }
    let u = b & 0x7f;
    for (let shift = 7; ; shift += 7) {
      if (pos >= end) throw this.truncated('varint');
      b = buf[pos++]!;
      if (shift === 28) {
        if (b > 0x0f) throw new CorruptRecordError(`varint at byte ${this.pos} does not fit in 32 bits`);
        u |= b << 28;
        break;
      }
      u |= (b & 0x7f) << shift;
      if (b < 0x80) break;
    }
    this.pos = pos;
    u >>>= 0;
    return (u >>> 1) ^ -(u & 1);
  }

  /** A zigzag varlong whose value must be a safe integer (|n| < 2^53). */
  readVarlong(): number {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    if (pos >= end) throw this.truncated('varlong');
    const first = buf[pos++]!;
    if (first < 0x80) {
      this.pos = pos;
      return (first >>> 1) ^ -(first & 1);
    }
    // rest = the value above the first 7 bits, accumulated exactly while it stays below 2^53;
    // past that it can only grow, so the safe-integer check below still catches it.
    let rest = 0;
    let scale = 1;
    for (let i = 1; ; i++) {
      if (pos >= end) throw this.truncated('varlong');
      const b = buf[pos++]!;
      if (i === MAX_VARLONG_BYTES - 1 && b > 0x01) {
        throw new CorruptRecordError(`varlong at byte ${this.pos} does not fit in 64 bits`);
      }
      rest += (b & 0x7f) * scale;
      if (b < 0x80) break;
      scale *= TWO_POW_7;
    }
    const half = (first & 0x7f) >>> 1;
    const n = first & 1 ? -(half + rest * 64 + 1) : half + rest * 64;
    if (!Number.isSafeInteger(n)) {
      throw new CorruptRecordError(`varlong at byte ${this.pos} is outside the safe integer range (|n| < 2^53)`);
    }
    this.pos = pos;
    return n;
  }

  private truncated(what: string): CorruptRecordError {
    return new CorruptRecordError(`truncated ${what} at byte ${this.pos} (data ends at ${this.end})`);
  }
}

/** Writes a JS integer as a big-endian int64 without BigInt (exact for safe integers). */
export function writeInt64FromNumber(buf: Buffer, pos: number, n: number): void {
  const hi = Math.floor(n / TWO_POW_32);
  buf.writeInt32BE(hi, pos);
  buf.writeUInt32BE(n - hi * TWO_POW_32, pos + 4);
}
