// The sparse time index of one segment: at each offset-index point, the largest timestamp seen
// so far in the segment and the (relative) last offset of the batch that carried it, appended
// only when that timestamp grows. On disk: 12 bytes per entry (int64 timestamp, int32 relative
// offset), big-endian, like Kafka's .timeindex. The last entry always holds the segment's largest
// timestamp once the segment is inactive (roll, clean close and rebuild append it), which is what
// time-based retention reads. Persistence as in offset-index.ts. Owned by its LogSegment.

import { readWholeFile, type FileIO } from './file-io.js';
import { CorruptIndexError, INITIAL_INDEX_CAPACITY, IndexFile, floorIndex, grow } from './index-file.js';

export const TIME_INDEX_ENTRY_SIZE = 12;

export interface TimestampOffset {
  timestamp: number;
  offset: number;
}

export class TimeIndex extends IndexFile {
  private timestamps = new Float64Array(INITIAL_INDEX_CAPACITY);
  private relOffsets = new Int32Array(INITIAL_INDEX_CAPACITY);

  constructor(path: string, baseOffset: number, maxEntries: number) {
    super(path, baseOffset, maxEntries, TIME_INDEX_ENTRY_SIZE);
  }

  /**
   * Loads and sanity-checks a time index file: whole entries, timestamps strictly increasing,
   * relative offsets non-negative and non-decreasing. Throws CorruptIndexError otherwise; returns
   * undefined when the file does not exist.
   */
  static load(io: FileIO, path: string, baseOffset: number, maxEntries: number): TimeIndex | undefined {
    const bytes = readWholeFile(io, path);
    if (bytes === undefined) return undefined;
    if (bytes.length % TIME_INDEX_ENTRY_SIZE !== 0) {
      throw new CorruptIndexError(`${path}: size ${bytes.length} is not a multiple of ${TIME_INDEX_ENTRY_SIZE}`);
    }
    const index = new TimeIndex(path, baseOffset, maxEntries);
    const n = bytes.length / TIME_INDEX_ENTRY_SIZE;
    index.ensureCapacity(n);
    let prevTs = -Infinity;
    let prevRel = 0;
    for (let i = 0; i < n; i++) {
      const ts = Number(bytes.readBigInt64BE(i * TIME_INDEX_ENTRY_SIZE));
      const rel = bytes.readInt32BE(i * TIME_INDEX_ENTRY_SIZE + 8);
      if (!Number.isSafeInteger(ts) || ts <= prevTs || rel < prevRel) {
        throw new CorruptIndexError(`${path}: entry ${i} (timestamp ${ts}, offset +${rel}) breaks monotonicity`);
      }
      index.timestamps[i] = ts;
      index.relOffsets[i] = rel;
      prevTs = ts;
      prevRel = rel;
    }
    index.markLoaded(n);
    return index;
  }

  protected encodeEntry(buf: Buffer, at: number, i: number): void {
    buf.writeBigInt64BE(BigInt(this.timestamps[i]!), at);
    buf.writeInt32BE(this.relOffsets[i]!, at + 8);
  }

  entry(i: number): TimestampOffset {
    return { timestamp: this.timestamps[i]!, offset: this.baseOffset + this.relOffsets[i]! };
  }

  lastEntry(): TimestampOffset | undefined {
    return this.count === 0 ? undefined : this.entry(this.count - 1);
  }

  /**
   * Adds (timestamp, offset) if the timestamp is larger than the last entry's. `force` ignores a
   * full index: the closing entry of a segment that becomes inactive must always fit.
   */
  maybeAppend(timestamp: number, offset: number, force = false): void {
    if (this.count > 0 && timestamp <= this.timestamps[this.count - 1]!) return;
    const rel = offset - this.baseOffset;
    if (this.count >= this.maxEntries && !force) throw new Error(`${this.path}: append to a full index (${this.maxEntries} entries)`);
    if (rel < 0 || rel > 0x7fff_ffff) throw new Error(`${this.path}: offset ${offset} is not int32-relative to ${this.baseOffset}`);
    if (this.count > 0 && rel < this.relOffsets[this.count - 1]!) {
      throw new Error(`${this.path}: offset ${offset} goes back from the last entry ${JSON.stringify(this.lastEntry())}`);
    }
    this.ensureCapacity(this.count + 1);
    this.timestamps[this.count] = timestamp;
    this.relOffsets[this.count] = rel;
    this.count++;
  }

  /**
   * The entry with the largest timestamp <= target. Every record before its offset has a smaller
   * timestamp, so a search for the first record with timestamp >= target may start at that
   * offset's batch. Before the first entry: { timestamp: -1, offset: baseOffset }.
   */
  lookup(targetTimestamp: number): TimestampOffset {
    const i = floorIndex(this.timestamps, this.count, targetTimestamp);
    return i < 0 ? { timestamp: -1, offset: this.baseOffset } : this.entry(i);
  }

  /** Drops the entries whose offset is >= `offset` (the log is being cut there). */
  truncateToOffset(offset: number): void {
    this.keepEntries(floorIndex(this.relOffsets, this.count, offset - this.baseOffset - 1) + 1);
  }

  private ensureCapacity(n: number): void {
    this.timestamps = grow(this.timestamps, this.count, n, (c) => new Float64Array(c));
    this.relOffsets = grow(this.relOffsets, this.count, n, (c) => new Int32Array(c));
  }
}
