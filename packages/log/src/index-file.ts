// What the offset index and the time index share: fixed-size big-endian entries kept in memory,
// appended to their file lazily (flush, roll, close), a binary search, and the error that makes
// a segment rebuild an index it cannot trust.

import { writeFully, type FileIO } from './file-io.js';

/** An index file that fails its sanity check; the segment rebuilds the index from the log. */
export class CorruptIndexError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CorruptIndexError';
  }
}

/** Index of the largest element <= target in the sorted prefix [0, count) of `values`, or -1. */
export function floorIndex(values: ArrayLike<number>, count: number, target: number): number {
  let lo = 0;
  let hi = count - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid]! <= target) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

export const INITIAL_INDEX_CAPACITY = 64;

/**
 * Bookkeeping of which in-memory entries the file holds. Subclasses own the entry arrays and
 * say how one entry is encoded.
 */
export abstract class IndexFile {
  protected count = 0;
  /** Entries [0, persisted) are in the file as they are in memory. */
  private persisted = 0;
  /** Entries the file holds (more than `persisted` after a truncation not yet written). */
  private fileEntries = 0;
  /** The file may differ from what the disk holds durably (never fsynced, or changed since). */
  private unsynced = true;

  constructor(
    readonly path: string,
    readonly baseOffset: number,
    readonly maxEntries: number,
    private readonly entrySize: number,
  ) {}

  protected abstract encodeEntry(buf: Buffer, at: number, i: number): void;

  get entries(): number {
    return this.count;
  }

  get isFull(): boolean {
    return this.count >= this.maxEntries;
  }

  /** Room for `n` more entries before the index is full. */
  hasRoomFor(n: number): boolean {
    return this.count + n <= this.maxEntries;
  }

  /** After a load: the first `n` entries are what the file durably holds. */
  protected markLoaded(n: number): void {
    this.count = n;
    this.persisted = n;
    this.fileEntries = n;
    this.unsynced = false;
  }

  /** Keeps the first `n` entries. */
  protected keepEntries(n: number): void {
    if (n >= this.count) return;
    this.count = n;
    if (this.persisted > n) this.persisted = n;
  }

  /** Drops every entry, before a rebuild. */
  clear(): void {
    this.keepEntries(0);
  }

  /** Writes what the file lacks (and cuts what it has too much of); fsyncs when `sync`. */
  persist(io: FileIO, sync: boolean): void {
    const upToDate = this.persisted === this.count && this.fileEntries === this.count;
    if (upToDate && (!sync || !this.unsynced)) return;
    const fd = io.open(this.path, io.exists(this.path) ? 'r+' : 'w+');
    try {
      if (this.fileEntries > this.persisted) io.truncate(fd, this.persisted * this.entrySize);
      const pending = this.count - this.persisted;
      if (pending > 0) {
        const buf = Buffer.allocUnsafe(pending * this.entrySize);
        for (let i = 0; i < pending; i++) this.encodeEntry(buf, i * this.entrySize, this.persisted + i);
        writeFully(io, fd, buf, 0, buf.length, this.persisted * this.entrySize);
      }
      this.persisted = this.count;
      this.fileEntries = this.count;
      this.unsynced = true;
      if (sync) {
        io.fsync(fd);
        this.unsynced = false;
      }
    } finally {
      io.close(fd);
    }
  }
}

/** A copy of `a` with room for `n` entries, keeping the first `count`. */
export function grow<T extends Int32Array | Float64Array>(a: T, count: number, n: number, make: (cap: number) => T): T {
  if (n <= a.length) return a;
  let cap = Math.max(a.length, 1);
  while (cap < n) cap *= 2;
  const b = make(cap);
  b.set(a.subarray(0, count));
  return b;
}
