// Kafka's classic (non-flexible) binary primitives: big-endian int16/int32/int64, strings with an
// int16 length, bytes with an int32 length (-1 = null), arrays with an int32 count. The consumer
// protocol (subscriptions and assignments inside JoinGroup/SyncGroup) and the __consumer_offsets
// records are written this way, as Kafka writes them.
//
// The reader never trusts a length: every read is bounds-checked, counts and lengths are checked
// against the bytes that remain and against the caller's limits, and any violation throws a
// BinaryFormatError with a stable code. Numbers: int64 values are returned as JS numbers and must be
// safe integers (offsets and timestamps always are).

export type BinaryFormatErrorCode =
  | 'MALFORMED' // truncated input, a negative or impossible length, invalid UTF-8, trailing bytes
  | 'UNSUPPORTED_VERSION' // a schema version this code does not know
  | 'LIMIT_EXCEEDED'; // a count or a size above the configured limit

export class BinaryFormatError extends Error {
  constructor(
    readonly code: BinaryFormatErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'BinaryFormatError';
  }
}

/** Kafka's string length field is an int16. */
export const MAX_KAFKA_STRING_BYTES = 0x7fff;

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

export function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** A growable big-endian writer. */
export class KafkaBinaryWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(initialCapacity = 64) {
    this.buf = new Uint8Array(Math.max(8, initialCapacity));
    this.view = new DataView(this.buf.buffer);
  }

  private ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    let capacity = this.buf.length * 2;
    while (capacity < this.pos + extra) capacity *= 2;
    const next = new Uint8Array(capacity);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  int16(v: number): this {
    this.ensure(2);
    this.view.setInt16(this.pos, v);
    this.pos += 2;
    return this;
  }

  int32(v: number): this {
    this.ensure(4);
    this.view.setInt32(this.pos, v);
    this.pos += 4;
    return this;
  }

  int64(v: number): this {
    if (!Number.isSafeInteger(v)) throw new BinaryFormatError('MALFORMED', `int64 value ${String(v)} is not a safe integer`);
    this.ensure(8);
    this.view.setBigInt64(this.pos, BigInt(v));
    this.pos += 8;
    return this;
  }

  string(s: string): this {
    const bytes = utf8Encoder.encode(s);
    if (bytes.length > MAX_KAFKA_STRING_BYTES) {
      throw new BinaryFormatError('LIMIT_EXCEEDED', `a string of ${bytes.length} UTF-8 bytes does not fit Kafka's int16 length`);
    }
    this.int16(bytes.length);
    this.raw(bytes);
    return this;
  }

  nullableString(s: string | null): this {
    if (s === null) return this.int16(-1);
    return this.string(s);
  }

  bytes(b: Uint8Array): this {
    this.int32(b.length);
    this.raw(b);
    return this;
  }

  nullableBytes(b: Uint8Array | null): this {
    if (b === null) return this.int32(-1);
    return this.bytes(b);
  }

  raw(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  get length(): number {
    return this.pos;
  }

  /** A copy of the bytes written so far. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

/** A bounds-checked big-endian reader over one buffer. */
export class KafkaBinaryReader {
  private readonly view: DataView;
  private pos = 0;

  constructor(
    private readonly buf: Uint8Array,
    /** Names the thing being decoded in error messages. */
    private readonly what = 'input',
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  get position(): number {
    return this.pos;
  }

  private need(n: number, field: string): void {
    if (this.remaining < n) {
      throw new BinaryFormatError('MALFORMED', `${this.what}: truncated at byte ${this.pos} reading ${field} (need ${n}, have ${this.remaining})`);
    }
  }

  int16(field = 'int16'): number {
    this.need(2, field);
    const v = this.view.getInt16(this.pos);
    this.pos += 2;
    return v;
  }

  int32(field = 'int32'): number {
    this.need(4, field);
    const v = this.view.getInt32(this.pos);
    this.pos += 4;
    return v;
  }

  int64(field = 'int64'): number {
    this.need(8, field);
    const v = this.view.getBigInt64(this.pos);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new BinaryFormatError('MALFORMED', `${this.what}: ${field} ${v} is outside the safe integer range`);
    }
    return Number(v);
  }

  nullableString(field = 'string'): string | null {
    const len = this.int16(`${field} length`);
    if (len === -1) return null;
    if (len < 0) throw new BinaryFormatError('MALFORMED', `${this.what}: ${field} has negative length ${len}`);
    this.need(len, field);
    const bytes = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    try {
      return utf8Decoder.decode(bytes);
    } catch {
      throw new BinaryFormatError('MALFORMED', `${this.what}: ${field} is not valid UTF-8`);
    }
  }

  string(field = 'string'): string {
    const s = this.nullableString(field);
    if (s === null) throw new BinaryFormatError('MALFORMED', `${this.what}: ${field} is null where a string is required`);
    return s;
  }

  /** Nullable bytes, at most `maxBytes` long. The result is a copy (never aliases the input). */
  nullableBytes(field: string, maxBytes: number): Uint8Array | null {
    const len = this.int32(`${field} length`);
    if (len === -1) return null;
    if (len < 0) throw new BinaryFormatError('MALFORMED', `${this.what}: ${field} has negative length ${len}`);
    if (len > maxBytes) throw new BinaryFormatError('LIMIT_EXCEEDED', `${this.what}: ${field} is ${len} bytes, more than ${maxBytes}`);
    this.need(len, field);
    const out = this.buf.slice(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  bytes(field: string, maxBytes: number): Uint8Array {
    const b = this.nullableBytes(field, maxBytes);
    if (b === null) throw new BinaryFormatError('MALFORMED', `${this.what}: ${field} is null where bytes are required`);
    return b;
  }

  /**
   * An array count, checked against `maxCount` and against the bytes left (each element takes at
   * least `minElementBytes`), so a forged count cannot make the caller allocate or loop for long.
   * A null array (-1) is returned as -1 only when `nullable`.
   */
  arrayCount(field: string, maxCount: number, minElementBytes: number, nullable = false): number {
    const n = this.int32(`${field} count`);
    if (n === -1 && nullable) return -1;
    if (n < 0) throw new BinaryFormatError('MALFORMED', `${this.what}: ${field} has negative count ${n}`);
    if (n > maxCount) throw new BinaryFormatError('LIMIT_EXCEEDED', `${this.what}: ${field} has ${n} entries, more than ${maxCount}`);
    if (n * minElementBytes > this.remaining) {
      throw new BinaryFormatError('MALFORMED', `${this.what}: ${field} claims ${n} entries but only ${this.remaining} bytes remain`);
    }
    return n;
  }

  expectEnd(): void {
    if (this.remaining !== 0) {
      throw new BinaryFormatError('MALFORMED', `${this.what}: ${this.remaining} unexpected trailing bytes`);
    }
  }
}
