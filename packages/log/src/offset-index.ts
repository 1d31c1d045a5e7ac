// The sparse offset index of one segment: an entry every index.interval.bytes of log, mapping
// the last offset of a batch (relative to the segment's base offset, int32) to the file position
// where that batch starts (int32). On disk: 8 bytes per entry, big-endian, like Kafka's .index.
//
// Entries live in memory (typed arrays grown on demand, bounded by segment.index.bytes) and are
// written to the file on flush, roll and close. An index file that lags its segment after a crash
// is harmless: recovery rebuilds the index of every segment it scans, and segments below the
// recovery point were flushed, index included. Owned by its LogSegment.

import { readWholeFile, type FileIO } from './file-io.js';
import { CorruptIndexError, INITIAL_INDEX_CAPACITY, IndexFile, floorIndex, grow } from './index-file.js';

export const OFFSET_INDEX_ENTRY_SIZE = 8;

export interface OffsetPosition {
  offset: number;
  position: number;
}

export class OffsetIndex extends IndexFile {
  private relOffsets = new Int32Array(INITIAL_INDEX_CAPACITY);
  private positions = new Int32Array(INITIAL_INDEX_CAPACITY);

  constructor(path: string, baseOffset: number, maxEntries: number) {
    super(path, baseOffset, maxEntries, OFFSET_INDEX_ENTRY_SIZE);
  }

  /**
   * Loads and sanity-checks an index file: whole entries, relative offsets and positions
   * strictly increasing, positions inside the segment. Throws CorruptIndexError otherwise;
   * returns undefined when the file does not exist.
   */
  static load(io: FileIO, path: string, baseOffset: number, maxEntries: number, segmentBytes: number): OffsetIndex | undefined {
    const bytes = readWholeFile(io, path);
    if (bytes === undefined) return undefined;
    if (bytes.length % OFFSET_INDEX_ENTRY_SIZE !== 0) {
      throw new CorruptIndexError(`${path}: size ${bytes.length} is not a multiple of ${OFFSET_INDEX_ENTRY_SIZE}`);
    }
    const index = new OffsetIndex(path, baseOffset, maxEntries);
    const n = bytes.length / OFFSET_INDEX_ENTRY_SIZE;
    index.ensureCapacity(n);
    let prevRel = -1;
    let prevPos = -1;
    for (let i = 0; i < n; i++) {
      const rel = bytes.readInt32BE(i * OFFSET_INDEX_ENTRY_SIZE);
      const pos = bytes.readInt32BE(i * OFFSET_INDEX_ENTRY_SIZE + 4);
      if (rel <= prevRel || pos <= prevPos || pos >= segmentBytes) {
        throw new CorruptIndexError(
          `${path}: entry ${i} (offset +${rel}, position ${pos}) breaks monotonicity or lies past the segment's ${segmentBytes} bytes`,
        );
      }
      index.relOffsets[i] = rel;
      index.positions[i] = pos;
      prevRel = rel;
      prevPos = pos;
    }
    index.markLoaded(n);
    return index;
  }

  protected encodeEntry(buf: Buffer, at: number, i: number): void {
    buf.writeInt32BE(this.relOffsets[i]!, at);
    buf.writeInt32BE(this.positions[i]!, at + 4);
  }

  entry(i: number): OffsetPosition {
    return { offset: this.baseOffset + this.relOffsets[i]!, position: this.positions[i]! };
  }

  lastEntry(): OffsetPosition | undefined {
    return this.count === 0 ? undefined : this.entry(this.count - 1);
  }

  /** Adds an entry; offsets and positions must grow. A full index is the caller's bug (it rolls first). */
  append(offset: number, position: number): void {
    const rel = offset - this.baseOffset;
    if (this.count >= this.maxEntries) throw new Error(`${this.path}: append to a full index (${this.maxEntries} entries)`);
    if (rel < 0 || rel > 0x7fff_ffff) throw new Error(`${this.path}: offset ${offset} is not int32-relative to ${this.baseOffset}`);
    if (this.count > 0 && (rel <= this.relOffsets[this.count - 1]! || position <= this.positions[this.count - 1]!)) {
      throw new Error(`${this.path}: entry (${offset}, ${position}) does not follow the last entry ${JSON.stringify(this.lastEntry())}`);
    }
    this.ensureCapacity(this.count + 1);
    this.relOffsets[this.count] = rel;
    this.positions[this.count] = position;
    this.count++;
  }

  /**
   * The entry with the largest offset <= target: the scan for `target` may start at its
   * position. Before the first entry, the segment's start.
   */
  lookup(targetOffset: number): OffsetPosition {
    const i = floorIndex(this.relOffsets, this.count, targetOffset - this.baseOffset);
    return i < 0 ? { offset: this.baseOffset, position: 0 } : this.entry(i);
  }

  /** Drops the entries of batches at or after `position` (the log is being cut there). */
  truncateToPosition(position: number): void {
    this.keepEntries(floorIndex(this.positions, this.count, position - 1) + 1);
  }

  private ensureCapacity(n: number): void {
    this.relOffsets = grow(this.relOffsets, this.count, n, (c) => new Int32Array(c));
    this.positions = grow(this.positions, this.count, n, (c) => new Int32Array(c));
  }
}
