// One segment of a partition's log: the `.log` file of whole record batches that starts at
// `baseOffset`, with its sparse offset index (`.index`) and time index (`.timeindex`).
//
// Lifecycle: created by the log on roll (or loaded at open), appended to while it is the active
// segment, read at any time, finally deleted by retention or truncation. It owns one open
// descriptor for its `.log` file; its indexes are loaded on first use (a broker holds many
// segments it never reads) and checked before they are trusted: a missing or inconsistent index
// is rebuilt from the log. Not safe for concurrent use; the log serialises calls.

import {
  BATCH_HEADER_SIZE, LOG_OVERHEAD, NO_TIMESTAMP, OFFSET_ATTRIBUTES, lastOffsetOf, readBatchHeader, type BatchHeader,
} from './batch-header.js';
import { crc32c } from './crc32c.js';
import { CorruptRecordError } from './errors.js';
import { FileWindow } from './file-window.js';
import { readFully, writeFully, type FileIO } from './file-io.js';
import { CorruptIndexError } from './index-file.js';
import { OFFSET_INDEX_ENTRY_SIZE, OffsetIndex } from './offset-index.js';
import { TIME_INDEX_ENTRY_SIZE, TimeIndex } from './time-index.js';

export const LOG_FILE_SUFFIX = '.log';
export const INDEX_FILE_SUFFIX = '.index';
export const TIME_INDEX_FILE_SUFFIX = '.timeindex';
/** A segment file being deleted: renamed first, so a crash mid-delete leaves no half segment. */
export const DELETED_FILE_SUFFIX = '.deleted';
export const SEGMENT_FILE_SUFFIXES = [LOG_FILE_SUFFIX, INDEX_FILE_SUFFIX, TIME_INDEX_FILE_SUFFIX] as const;

/** Largest offset delta an index entry can hold (relative offsets are int32). */
export const MAX_RELATIVE_OFFSET = 0x7fff_ffff;

const SCAN_CHUNK_BYTES = 1024 * 1024;
const LOOKUP_CHUNK_BYTES = 16 * 1024;

/** `00000000000000000042.log`: base offset zero-padded to 20 digits, like Kafka. */
export function segmentFileName(baseOffset: number, suffix: string): string {
  return String(baseOffset).padStart(20, '0') + suffix;
}

/** The base offset and suffix of a segment file name, or undefined for any other file. */
export function parseSegmentFileName(name: string): { baseOffset: number; suffix: string } | undefined {
  const m = /^(\d{20})(\.log|\.index|\.timeindex)$/.exec(name);
  if (m === null) return undefined;
  const baseOffset = Number(m[1]);
  if (!Number.isSafeInteger(baseOffset)) return undefined;
  return { baseOffset, suffix: m[2]! };
}

export interface SegmentSettings {
  /** index.interval.bytes */
  readonly indexIntervalBytes: number;
  /** segment.index.bytes: bounds each index file. */
  readonly maxIndexBytes: number;
}

/** One batch of an append, as the log validated it. `position` is within the appended buffer. */
export interface AppendBatch {
  position: number;
  size: number;
  baseOffset: number;
  lastOffset: number;
  maxTimestamp: number;
}

/** Where a batch sits in the segment file, with the header fields callers need. */
export interface LocatedBatch {
  position: number;
  size: number;
  baseOffset: number;
  lastOffset: number;
  maxTimestamp: number;
  partitionLeaderEpoch: number;
}

export interface SegmentRead {
  /** Whole batches, back to back. Empty when nothing below `upTo` starts at the position. */
  records: Buffer;
  batchCount: number;
  /** Base offset of the first batch returned. */
  firstOffset: number;
  /** Last offset of the last batch returned (firstOffset - 1 when empty). */
  lastOffset: number;
}

export interface SegmentRecovery {
  /** Bytes of whole, valid batches kept. */
  validBytes: number;
  /** Bytes cut from the end of the file. */
  truncatedBytes: number;
  /** Why the scan stopped before the end of the file, if it did. */
  stopReason: string | undefined;
}

/** Stateful index-point logic shared by append and rebuild, so both produce the same entries. */
interface IndexCursor {
  bytesSinceLastEntry: number;
}

export class LogSegment {
  readonly logPath: string;
  readonly indexPath: string;
  readonly timeIndexPath: string;
  private offsetIndexCache: OffsetIndex | undefined;
  private timeIndexCache: TimeIndex | undefined;
  private readonly cursor: IndexCursor = { bytesSinceLastEntry: 0 };
  /** Next offset after the last batch and the segment's largest timestamp, once computed. */
  private tail: { nextOffset: number; maxTimestamp: number; offsetOfMaxTimestamp: number } | undefined;
  /** The `.log` file has writes that were not fsynced. */
  private logUnsynced = false;
  private closed = false;
  /** Clock time of the first append this process made, the start of the segment.ms countdown. */
  private firstAppendTime: number | undefined;

  private constructor(
    private readonly io: FileIO,
    readonly dir: string,
    readonly baseOffset: number,
    private fd: number,
    private bytes: number,
    private readonly settings: SegmentSettings,
    /** Clock time when the segment was created or loaded. */
    readonly createdAt: number,
  ) {
    this.logPath = `${dir}/${segmentFileName(baseOffset, LOG_FILE_SUFFIX)}`;
    this.indexPath = `${dir}/${segmentFileName(baseOffset, INDEX_FILE_SUFFIX)}`;
    this.timeIndexPath = `${dir}/${segmentFileName(baseOffset, TIME_INDEX_FILE_SUFFIX)}`;
  }

  /** Creates an empty segment (stale index files of the same name are removed). */
  static create(io: FileIO, dir: string, baseOffset: number, settings: SegmentSettings, now: number): LogSegment {
    const logPath = `${dir}/${segmentFileName(baseOffset, LOG_FILE_SUFFIX)}`;
    const fd = io.open(logPath, 'w+');
    const segment = new LogSegment(io, dir, baseOffset, fd, 0, settings, now);
    for (const p of [segment.indexPath, segment.timeIndexPath]) if (io.exists(p)) io.unlink(p);
    segment.offsetIndexCache = segment.newOffsetIndex();
    segment.timeIndexCache = segment.newTimeIndex();
    segment.tail = { nextOffset: baseOffset, maxTimestamp: NO_TIMESTAMP, offsetOfMaxTimestamp: -1 };
    segment.logUnsynced = true;
    return segment;
  }

  /** Opens an existing segment; its indexes load on first use. */
  static open(io: FileIO, dir: string, baseOffset: number, settings: SegmentSettings, now: number): LogSegment {
    const logPath = `${dir}/${segmentFileName(baseOffset, LOG_FILE_SUFFIX)}`;
    const fd = io.open(logPath, 'r+');
    let size: number;
    try {
      size = io.size(fd);
    } catch (e) {
      io.close(fd);
      throw e;
    }
    return new LogSegment(io, dir, baseOffset, fd, size, settings, now);
  }

  get size(): number {
    return this.bytes;
  }

  get isEmpty(): boolean {
    return this.bytes === 0;
  }

  /** The offset after this segment's last batch (its base offset when empty). */
  get nextOffset(): number {
    return this.loadTail().nextOffset;
  }

  /** Largest batch timestamp in the segment, NO_TIMESTAMP (-1) when none. */
  get maxTimestamp(): number {
    return this.loadTail().maxTimestamp;
  }

  /** Last offset of the batch holding maxTimestamp, -1 when none. */
  get offsetOfMaxTimestamp(): number {
    return this.loadTail().offsetOfMaxTimestamp;
  }

  /** When segment.ms starts counting: the first append of this process, else creation or load. */
  get rollingBaseTime(): number {
    return this.firstAppendTime ?? this.createdAt;
  }

  /** Neither index is full (a full index rolls the segment, like Kafka's segment.index.bytes). */
  hasIndexRoom(): boolean {
    return !this.offsetIndex().isFull && !this.timeIndex().isFull;
  }

  /**
   * Appends whole, validated batches (offsets assigned, all above nextOffset) at the end of the
   * file and indexes them. The bytes go to the file exactly as given.
   */
  append(records: Buffer, batches: readonly AppendBatch[], now: number): void {
    this.ensureOpen();
    const tail = this.loadTail();
    const offsetIndex = this.offsetIndex();
    const timeIndex = this.timeIndex();
    const start = this.bytes;
    writeFully(this.io, this.fd, records, 0, records.length, start);
    this.bytes = start + records.length;
    this.logUnsynced = true;
    if (this.firstAppendTime === undefined) this.firstAppendTime = now;
    for (const b of batches) {
      this.indexBatch(offsetIndex, timeIndex, tail, start + b.position, b.size, b.lastOffset, b.maxTimestamp);
    }
    if (batches.length > 0) tail.nextOffset = batches[batches.length - 1]!.lastOffset + 1;
  }

  private indexBatch(
    offsetIndex: OffsetIndex, timeIndex: TimeIndex, tail: NonNullable<LogSegment['tail']>,
    position: number, size: number, lastOffset: number, maxTimestamp: number,
  ): void {
    if (maxTimestamp > tail.maxTimestamp) {
      tail.maxTimestamp = maxTimestamp;
      tail.offsetOfMaxTimestamp = lastOffset;
    }
    // A multi-batch append may fill an index part-way; the entries it skips only make the index
    // sparser, and the next append rolls.
    if (this.cursor.bytesSinceLastEntry > this.settings.indexIntervalBytes && !offsetIndex.isFull && !timeIndex.isFull) {
      offsetIndex.append(lastOffset, position);
      timeIndex.maybeAppend(tail.maxTimestamp, tail.offsetOfMaxTimestamp);
      this.cursor.bytesSinceLastEntry = 0;
    }
    this.cursor.bytesSinceLastEntry += size;
  }

  /**
   * The first batch whose last offset is >= `offset`, or undefined when every batch of the
   * segment ends before it. Starts from the offset index, then scans headers.
   */
  findBatch(offset: number): LocatedBatch | undefined {
    this.ensureOpen();
    const start = this.offsetIndex().lookup(offset).position;
    try {
      return this.scanForOffset(offset, start);
    } catch (e) {
      // An index entry that points into the middle of a batch passed the sanity check but is
      // wrong: rebuild and look again. A bad header found from position 0 is damage in the log.
      if (!(e instanceof CorruptRecordError) || start === 0) throw e;
      this.rebuildIndexes();
      return this.scanForOffset(offset, this.offsetIndex().lookup(offset).position);
    }
  }

  private scanForOffset(offset: number, from: number): LocatedBatch | undefined {
    const win = new FileWindow(this.io, this.fd, this.bytes, LOOKUP_CHUNK_BYTES);
    let pos = from;
    while (pos < this.bytes) {
      const h = this.headerAt(win, pos);
      const size = h.batchLength + LOG_OVERHEAD;
      if (lastOffsetOf(h) >= offset) return locate(pos, size, h);
      pos += size;
    }
    return undefined;
  }

  /** Reads the header at `pos` through `win`; CorruptRecordError when it is not a whole batch. */
  private headerAt(win: FileWindow, pos: number): BatchHeader {
    const at = win.view(pos, BATCH_HEADER_SIZE);
    if (at < 0) throw new CorruptRecordError(`${this.logPath}: truncated batch header at byte ${pos} of ${this.bytes}`);
    const h = readBatchHeader(win.buffer, at);
    if (pos + h.batchLength + LOG_OVERHEAD > this.bytes) {
      throw new CorruptRecordError(`${this.logPath}: batch at byte ${pos} runs past the end of the segment`);
    }
    return h;
  }

  /**
   * Reads whole batches starting at `position` (a batch boundary): as many as fit in `maxBytes`,
   * none whose last offset is >= `upTo`, and at least the first one even when it is larger than
   * maxBytes (so a consumer always makes progress) unless it reaches `upTo`.
   */
  read(position: number, maxBytes: number, upTo: number): SegmentRead {
    this.ensureOpen();
    const available = this.bytes - position;
    const length = Math.min(maxBytes, available);
    let buf = Buffer.allocUnsafe(Math.max(length, 0));
    const n = readFully(this.io, this.fd, buf, 0, buf.length, position);
    let end = 0;
    let count = 0;
    let firstOffset = -1;
    let lastOffset = -1;
    while (end + BATCH_HEADER_SIZE <= n) {
      const h = readBatchHeader(buf, end);
      const size = h.batchLength + LOG_OVERHEAD;
      if (end + size > n || lastOffsetOf(h) >= upTo) break;
      if (count === 0) firstOffset = h.baseOffset;
      lastOffset = lastOffsetOf(h);
      count++;
      end += size;
    }
    if (count === 0 && available > 0) {
      // Nothing whole fitted in maxBytes: the first batch alone is larger. Return it whole,
      // unless it reaches upTo.
      let header = buf;
      if (n < BATCH_HEADER_SIZE) {
        header = Buffer.allocUnsafe(BATCH_HEADER_SIZE);
        if (readFully(this.io, this.fd, header, 0, BATCH_HEADER_SIZE, position) !== BATCH_HEADER_SIZE) {
          throw new CorruptRecordError(`${this.logPath}: truncated batch header at byte ${position}`);
        }
      }
      const h = readBatchHeader(header, 0);
      const size = h.batchLength + LOG_OVERHEAD;
      if (size > available) throw new CorruptRecordError(`${this.logPath}: batch at byte ${position} runs past the end of the segment`);
      if (lastOffsetOf(h) < upTo) {
        buf = Buffer.allocUnsafe(size);
        if (readFully(this.io, this.fd, buf, 0, size, position) !== size) {
          throw new CorruptRecordError(`${this.logPath}: short read of the batch at byte ${position}`);
        }
        return { records: buf, batchCount: 1, firstOffset: h.baseOffset, lastOffset: lastOffsetOf(h) };
      }
    }
    if (count === 0) return { records: buf.subarray(0, 0), batchCount: 0, firstOffset: -1, lastOffset: -2 };
    return { records: buf.subarray(0, end), batchCount: count, firstOffset, lastOffset };
  }

  /**
   * The first batch at or after `startingOffset` whose max timestamp is >= `timestamp`, found
   * through the time index, then the offset index, then a header scan.
   */
  findBatchByTimestamp(timestamp: number, startingOffset: number): LocatedBatch | undefined {
    this.ensureOpen();
    const fromOffset = Math.max(this.timeIndex().lookup(timestamp).offset, startingOffset);
    let located = this.findBatch(fromOffset);
    const win = new FileWindow(this.io, this.fd, this.bytes, LOOKUP_CHUNK_BYTES);
    while (located !== undefined && located.maxTimestamp < timestamp) {
      const pos = located.position + located.size;
      if (pos >= this.bytes) return undefined;
      const h = this.headerAt(win, pos);
      located = locate(pos, h.batchLength + LOG_OVERHEAD, h);
    }
    return located;
  }

  /** Reads one whole batch located earlier. */
  readBatch(batch: LocatedBatch): Buffer {
    this.ensureOpen();
    const buf = Buffer.allocUnsafe(batch.size);
    if (readFully(this.io, this.fd, buf, 0, batch.size, batch.position) !== batch.size) {
      throw new CorruptRecordError(`${this.logPath}: short read of the batch at byte ${batch.position}`);
    }
    return buf;
  }

  /**
   * Removes every batch whose last offset is >= `offset` (the batch holding `offset` goes
   * whole) and fsyncs the file. Returns the bytes removed.
   */
  truncateTo(offset: number): number {
    this.ensureOpen();
    const batch = this.findBatch(offset);
    if (batch === undefined) return 0;
    return this.truncateToPosition(batch.position, batch.baseOffset);
  }

  private truncateToPosition(position: number, nextOffset: number): number {
    const removed = this.bytes - position;
    this.io.truncate(this.fd, position);
    this.bytes = position;
    this.offsetIndex().truncateToPosition(position);
    this.timeIndex().truncateToOffset(nextOffset);
    this.cursor.bytesSinceLastEntry = 0;
    this.tail = undefined;
    this.loadTail();
    this.io.fsync(this.fd);
    this.logUnsynced = false;
    this.offsetIndex().persist(this.io, true);
    this.timeIndex().persist(this.io, true);
    return removed;
  }

  /**
   * Unclean-shutdown recovery of this segment: checks every batch (whole, magic 2, CRC, offsets
   * increasing from `minNextOffset`, within int32 of the base offset), rebuilds both indexes
   * from the valid prefix and cuts the file at the first torn or corrupt batch.
   */
  recover(minNextOffset: number): SegmentRecovery {
    this.ensureOpen();
    const { validBytes, stopReason } = this.rebuild(true, minNextOffset);
    const truncatedBytes = this.bytes - validBytes;
    if (truncatedBytes > 0) {
      this.io.truncate(this.fd, validBytes);
      this.bytes = validBytes;
      this.logUnsynced = true;
    }
    return { validBytes, truncatedBytes, stopReason };
  }

  /** Rebuilds both indexes from the log (headers only; the data was trusted). */
  rebuildIndexes(): void {
    const { validBytes, stopReason } = this.rebuild(false, this.baseOffset);
    if (validBytes !== this.bytes) {
      throw new CorruptRecordError(`${this.logPath}: cannot index past byte ${validBytes}: ${stopReason}`);
    }
  }

  private rebuild(checkCrc: boolean, minNextOffset: number): { validBytes: number; stopReason: string | undefined } {
    for (const p of [this.indexPath, this.timeIndexPath]) if (this.io.exists(p)) this.io.unlink(p);
    const offsetIndex = this.newOffsetIndex();
    const timeIndex = this.newTimeIndex();
    const tail = { nextOffset: Math.max(this.baseOffset, minNextOffset), maxTimestamp: NO_TIMESTAMP, offsetOfMaxTimestamp: -1 };
    this.cursor.bytesSinceLastEntry = 0;
    const win = new FileWindow(this.io, this.fd, this.bytes, SCAN_CHUNK_BYTES);
    let pos = 0;
    let stopReason: string | undefined;
    while (pos < this.bytes) {
      const checked = this.inspectBatchAt(win, pos, tail.nextOffset, checkCrc);
      if (typeof checked === 'string') {
        stopReason = checked;
        break;
      }
      const size = checked.batchLength + LOG_OVERHEAD;
      this.indexBatch(offsetIndex, timeIndex, tail, pos, size, lastOffsetOf(checked), checked.maxTimestamp);
      tail.nextOffset = lastOffsetOf(checked) + 1;
      pos += size;
    }
    if (tail.maxTimestamp !== NO_TIMESTAMP) timeIndex.maybeAppend(tail.maxTimestamp, tail.offsetOfMaxTimestamp, true);
    this.offsetIndexCache = offsetIndex;
    this.timeIndexCache = timeIndex;
    this.tail = tail;
    return { validBytes: pos, stopReason };
  }

  /** The header of the valid batch at `pos`, or why the bytes there are not a valid next batch. */
  private inspectBatchAt(win: FileWindow, pos: number, nextOffset: number, checkCrc: boolean): BatchHeader | string {
    const at = win.view(pos, BATCH_HEADER_SIZE);
    if (at < 0) return `torn batch header at byte ${pos}`;
    let h: BatchHeader;
    try {
      h = readBatchHeader(win.buffer, at);
    } catch (e) {
      return `bad batch header at byte ${pos}: ${(e as Error).message}`;
    }
    const size = h.batchLength + LOG_OVERHEAD;
    if (pos + size > this.bytes) return `torn batch at byte ${pos}: ${this.bytes - pos} of ${size} bytes present`;
    if (h.baseOffset < nextOffset) return `batch at byte ${pos} starts at offset ${h.baseOffset}, below ${nextOffset}`;
    if (lastOffsetOf(h) - this.baseOffset > MAX_RELATIVE_OFFSET) {
      return `batch at byte ${pos} ends at offset ${lastOffsetOf(h)}, beyond int32 of base ${this.baseOffset}`;
    }
    if (checkCrc) {
      const crc = this.crcOfRange(win, pos + OFFSET_ATTRIBUTES, pos + size);
      if (crc !== h.crc) return `CRC mismatch in batch at byte ${pos} (offset ${h.baseOffset}): stored ${h.crc}, computed ${crc}`;
    }
    return h;
  }

  /** CRC-32C of file bytes [from, to), streamed through the window (no batch-sized buffer). */
  private crcOfRange(win: FileWindow, from: number, to: number): number {
    let crc = 0;
    let pos = from;
    while (pos < to) {
      const n = Math.min(SCAN_CHUNK_BYTES, to - pos);
      const at = win.view(pos, n);
      crc = crc32c(win.buffer, at, at + n, crc);
      pos += n;
    }
    return crc;
  }

  /**
   * The segment stops taking appends: its time index gets a closing entry with the largest
   * timestamp, which time-based retention reads after a restart.
   */
  onBecomeInactive(): void {
    const tail = this.loadTail();
    if (tail.maxTimestamp !== NO_TIMESTAMP) this.timeIndex().maybeAppend(tail.maxTimestamp, tail.offsetOfMaxTimestamp, true);
  }

  /** fsyncs the log file and writes and fsyncs both indexes. */
  flush(): void {
    this.ensureOpen();
    if (this.logUnsynced) {
      this.io.fsync(this.fd);
      this.logUnsynced = false;
    }
    if (this.offsetIndexCache !== undefined) this.offsetIndexCache.persist(this.io, true);
    if (this.timeIndexCache !== undefined) this.timeIndexCache.persist(this.io, true);
  }

  /** Closes the descriptor. The caller flushes first for a clean close. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.io.close(this.fd);
  }

  /**
   * Deletes the segment's files: each is renamed to `.deleted` first (the `.log` first of all),
   * then unlinked; a crash in between leaves only `.deleted` files, which the next open removes.
   * The caller fsyncs the directory.
   */
  deleteFiles(): void {
    this.close();
    const renamed: string[] = [];
    for (const p of [this.logPath, this.indexPath, this.timeIndexPath]) {
      if (!this.io.exists(p)) continue;
      this.io.rename(p, p + DELETED_FILE_SUFFIX);
      renamed.push(p + DELETED_FILE_SUFFIX);
    }
    for (const p of renamed) this.io.unlink(p);
  }

  private ensureOpen(): void {
    if (this.closed) throw new Error(`segment ${this.logPath} is closed`);
  }

  private newOffsetIndex(): OffsetIndex {
    return new OffsetIndex(this.indexPath, this.baseOffset, Math.floor(this.settings.maxIndexBytes / OFFSET_INDEX_ENTRY_SIZE));
  }

  private newTimeIndex(): TimeIndex {
    return new TimeIndex(this.timeIndexPath, this.baseOffset, Math.floor(this.settings.maxIndexBytes / TIME_INDEX_ENTRY_SIZE));
  }

  private offsetIndex(): OffsetIndex {
    if (this.offsetIndexCache === undefined) this.loadIndexes();
    return this.offsetIndexCache!;
  }

  private timeIndex(): TimeIndex {
    if (this.timeIndexCache === undefined) this.loadIndexes();
    return this.timeIndexCache!;
  }

  /**
   * Loads both index files and checks them against the log: each passes its sanity check, the
   * last offset-index entry points at a batch ending at that entry's offset, and the time index
   * refers to no offset past the segment's end. Anything else (including a missing file for a
   * non-empty segment) is rebuilt from the log.
   */
  private loadIndexes(): void {
    const maxOffsetEntries = Math.floor(this.settings.maxIndexBytes / OFFSET_INDEX_ENTRY_SIZE);
    const maxTimeEntries = Math.floor(this.settings.maxIndexBytes / TIME_INDEX_ENTRY_SIZE);
    try {
      const offsetIndex = OffsetIndex.load(this.io, this.indexPath, this.baseOffset, maxOffsetEntries, this.bytes);
      const timeIndex = TimeIndex.load(this.io, this.timeIndexPath, this.baseOffset, maxTimeEntries);
      if (offsetIndex === undefined || timeIndex === undefined) {
        if (this.bytes > 0) throw new CorruptIndexError(`${this.logPath}: index file missing`);
        this.offsetIndexCache = offsetIndex ?? this.newOffsetIndex();
        this.timeIndexCache = timeIndex ?? this.newTimeIndex();
        this.tail = { nextOffset: this.baseOffset, maxTimestamp: NO_TIMESTAMP, offsetOfMaxTimestamp: -1 };
        return;
      }
      const last = offsetIndex.lastEntry();
      const win = new FileWindow(this.io, this.fd, this.bytes, LOOKUP_CHUNK_BYTES);
      if (last !== undefined) {
        let h: BatchHeader;
        try {
          h = this.headerAt(win, last.position);
        } catch (e) {
          // Only damage means a bad index; an I/O error is the disk's and takes the log offline.
          if (!(e instanceof CorruptRecordError)) throw e;
          throw new CorruptIndexError(`${this.indexPath}: last entry points at no batch: ${(e as Error).message}`);
        }
        if (lastOffsetOf(h) !== last.offset) {
          throw new CorruptIndexError(`${this.indexPath}: last entry says offset ${last.offset}, batch there ends at ${lastOffsetOf(h)}`);
        }
      }
      this.offsetIndexCache = offsetIndex;
      this.timeIndexCache = timeIndex;
      const tail = this.scanTail(win, offsetIndex, timeIndex);
      const lastTime = timeIndex.lastEntry();
      if (lastTime !== undefined && lastTime.offset >= tail.nextOffset) {
        throw new CorruptIndexError(`${this.timeIndexPath}: entry at offset ${lastTime.offset} is past the segment's end ${tail.nextOffset}`);
      }
      this.tail = tail;
    } catch (e) {
      if (!(e instanceof CorruptIndexError) && !(e instanceof CorruptRecordError)) throw e;
      this.offsetIndexCache = undefined;
      this.timeIndexCache = undefined;
      this.rebuildIndexes();
    }
  }

  /**
   * Next offset and largest timestamp, from the last index entries plus a scan of the batches
   * after the last offset-index entry (at most about index.interval.bytes and one batch).
   */
  private scanTail(win: FileWindow, offsetIndex: OffsetIndex, timeIndex: TimeIndex): NonNullable<LogSegment['tail']> {
    const lastTime = timeIndex.lastEntry();
    const tail = {
      nextOffset: this.baseOffset,
      maxTimestamp: lastTime?.timestamp ?? NO_TIMESTAMP,
      offsetOfMaxTimestamp: lastTime?.offset ?? -1,
    };
    let pos = offsetIndex.lastEntry()?.position ?? 0;
    while (pos < this.bytes) {
      const h = this.headerAt(win, pos);
      if (h.maxTimestamp > tail.maxTimestamp) {
        tail.maxTimestamp = h.maxTimestamp;
        tail.offsetOfMaxTimestamp = lastOffsetOf(h);
      }
      tail.nextOffset = lastOffsetOf(h) + 1;
      pos += h.batchLength + LOG_OVERHEAD;
    }
    return tail;
  }

  private loadTail(): NonNullable<LogSegment['tail']> {
    if (this.tail === undefined) {
      if (this.offsetIndexCache === undefined || this.timeIndexCache === undefined) {
        this.loadIndexes();
      } else {
        const win = new FileWindow(this.io, this.fd, this.bytes, LOOKUP_CHUNK_BYTES);
        this.tail = this.scanTail(win, this.offsetIndexCache, this.timeIndexCache);
      }
    }
    return this.tail!;
  }
}

function locate(position: number, size: number, h: BatchHeader): LocatedBatch {
  return {
    position,
    size,
    baseOffset: h.baseOffset,
    lastOffset: lastOffsetOf(h),
    maxTimestamp: h.maxTimestamp,
    partitionLeaderEpoch: h.partitionLeaderEpoch,
  };
}
