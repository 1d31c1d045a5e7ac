// Compaction of one partition log (cleanup.policy=compact), Kafka's log cleaner algorithm:
//
//   1. The cleanable section ends at the first uncleanable offset: the active segment's base,
//      or earlier where a segment reaches the high watermark or holds records younger than
//      min.compaction.lag.ms. The dirty section runs from the cleaner checkpoint (firstDirty)
//      to there.
//   2. Offset map: key → latest offset, over the dirty section in offset order, bounded by
//      maxMapBytes (Kafka's log.cleaner.dedupe.buffer.size). When it fills, this pass stops at
//      that batch and the next pass continues from there: the log is cleaned in several passes.
//   3. Every cleanable segment from the log start up to where the map ends is rewritten, in
//      groups of consecutive segments whose inputs fit in segment.bytes (one output segment per
//      group, named by the group's first base offset). A record is kept unless a later offset of
//      its key is in the map, it has no key (invalid in a compacted topic), or it is a tombstone
//      whose batch's delete horizon has passed. Offsets never change: see retained-batch.ts.
//      A batch that loses every record is dropped, except the last batch of its group (it keeps
//      the group's offset range, which crash recovery relies on) and an idempotent producer's
//      batch with no later batch of that producer seen in the cleanable section (a header scan of
//      the clean section, then the dirty section as it is mapped): the producer's sequence state
//      is rebuilt from batch headers, and Kafka keeps the last batch of each producer.
//   4. Crash-safe replacement, like Kafka's: write `<base>.log.cleaned` and fsync it; rename it to
//      `<base>.log.swap` (the commit point) and fsync the directory; delete the old segments;
//      rename the swap to `<base>.log`; rebuild and fsync its indexes; swap the segment list in
//      memory. Recovery (recovery.ts) deletes `.cleaned` files and completes `.swap` files.
//
// Work is cut into step()s of about stepBytes each, so a broker can yield between them; between
// steps the log may be appended to, rolled, truncated or shrunk by retention: a group whose
// segments are no longer all in the log (or one became active) is abandoned and its `.cleaned`
// file removed. Readers never see a partial state: the files are in place before the segment
// list changes, and that change happens within one synchronous step.
//
// Control and transactional batches are kept as they are (samsa has no transactions yet).

import { LOG_OVERHEAD, NO_PRODUCER_ID, NO_TIMESTAMP, readBatchHeader, type BatchHeader } from './batch-header.js';
import { LogError } from './errors.js';
import { writeFully, type FileIO } from './file-io.js';
import type { LogConfig } from './log-config.js';
import { decodeBatch, type DecodedRecord } from './record-decoder.js';
import { encodeRetainedBatch, hasDeleteHorizon } from './retained-batch.js';
import { LOG_FILE_SUFFIX, LogSegment, MAX_RELATIVE_OFFSET, segmentFileName } from './segment.js';

export const CLEANED_FILE_SUFFIX = '.cleaned';
export const SWAP_FILE_SUFFIX = '.swap';

/** Kafka's log.cleaner.dedupe.buffer.size default. */
export const DEFAULT_CLEANER_MAP_BYTES = 128 * 1024 * 1024;
/** Bytes read per step() by default. */
export const DEFAULT_CLEANER_STEP_BYTES = 1024 * 1024;
/** What one map entry costs besides its key bytes (string header, Map slot, number). */
const MAP_ENTRY_OVERHEAD = 64;
/** What remembering one producer's last batch costs in the map budget. */
const PRODUCER_ENTRY_BYTES = 48;
/** Batches are read in chunks of this size (at least one whole batch). */
const READ_CHUNK_BYTES = 1024 * 1024;
/** Cleaned output is written in chunks of about this size. */
const WRITE_CHUNK_BYTES = 1024 * 1024;

/** What the log gives its cleaner (log.ts builds it; nothing else should). */
export interface CleanerAccess {
  readonly dir: string;
  readonly io: FileIO;
  config(): LogConfig;
  now(): number;
  logStartOffset(): number;
  logEndOffset(): number;
  segments(): readonly LogSegment[];
  /** How many truncations the log has had: a change means offsets the map holds may be gone. */
  truncations(): number;
  /** Replaces `old` (consecutive, in the log) by `replacement` in the segment list. */
  replaceSegments(old: readonly LogSegment[], replacement: LogSegment): void;
  /** Runs an operation with the log's failure handling (I/O errors take it offline). */
  run<T>(op: () => T): T;
}

export interface CleanOptions {
  /** The cleaner checkpoint: offsets below it were cleaned before. Reset to the log start when outside the log. */
  firstDirtyOffset: number;
  /** Clean only segments wholly below this (the high watermark). Default: the log end offset. */
  upTo?: number;
  /** Bound of the offset map, bytes. Default 128 MiB. */
  maxMapBytes?: number;
  /** Bytes of log read per step(). Default 1 MiB. */
  stepBytes?: number;
}

export interface CleanerStats {
  passes: number;
  bytesRead: number;
  bytesWritten: number;
  recordsRead: number;
  recordsRemoved: number;
  tombstonesRemoved: number;
  keylessRemoved: number;
  batchesRemoved: number;
  /** Output segments swapped in. */
  segmentsWritten: number;
  /** Input segments replaced by them. */
  segmentsReplaced: number;
}

export interface CleanableStats {
  firstDirtyOffset: number;
  firstUncleanableOffset: number;
  /** Bytes of segments below firstDirtyOffset (the clean section). */
  cleanBytes: number;
  /** Bytes of cleanable segments at or after firstDirtyOffset. */
  dirtyBytes: number;
  /** dirty / (clean + dirty), 0 when nothing is cleanable. */
  dirtyRatio: number;
}

/** Where the cleanable section of the log ends (see the header comment, step 1). */
export function firstUncleanableOffset(access: CleanerAccess, upTo: number | undefined): number {
  const segments = access.segments();
  const now = access.now();
  const lag = access.config()['min.compaction.lag.ms'];
  const hw = upTo ?? access.logEndOffset();
  for (let i = 0; i < segments.length - 1; i++) {
    const s = segments[i]!;
    const next = segments[i + 1]!;
    if (next.baseOffset > hw) return s.baseOffset;
    // Only with a lag: a segment's largest timestamp may load its indexes, which a broker
    // checking many logs every backoff should not do for nothing.
    if (lag > 0 && now - (s.maxTimestamp !== NO_TIMESTAMP ? s.maxTimestamp : s.rollingBaseTime) < lag) return s.baseOffset;
  }
  return segments[segments.length - 1]!.baseOffset;
}

function clampFirstDirty(access: CleanerAccess, firstDirty: number): number {
  const start = access.logStartOffset();
  return firstDirty < start || firstDirty > access.logEndOffset() ? start : firstDirty;
}

export function cleanableStats(access: CleanerAccess, firstDirtyOffset: number, upTo?: number): CleanableStats {
  const firstDirty = clampFirstDirty(access, firstDirtyOffset);
  const firstUncleanable = firstUncleanableOffset(access, upTo);
  const segments = access.segments();
  let cleanBytes = 0;
  let dirtyBytes = 0;
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    if (s.baseOffset >= firstUncleanable) break;
    const end = i + 1 < segments.length ? segments[i + 1]!.baseOffset : Infinity;
    if (end <= firstDirty) cleanBytes += s.size;
    else dirtyBytes += s.size;
  }
  const total = cleanBytes + dirtyBytes;
  return { firstDirtyOffset: firstDirty, firstUncleanableOffset: firstUncleanable, cleanBytes, dirtyBytes, dirtyRatio: total === 0 ? 0 : dirtyBytes / total };
}

/** One batch as read from a segment: its bytes, header and where it sits. */
interface ReadBatch {
  bytes: Buffer;
  header: BatchHeader;
}

/** Sequential reader of a segment's batches from a position, in chunks. */
class SegmentCursor {
  private chunk: Buffer = Buffer.alloc(0);
  private at = 0;
  private chunkStart = 0;

  constructor(readonly segment: LogSegment, private position = 0) {}

  get filePosition(): number {
    return this.position;
  }

  /** The next batch, or undefined at the end of the segment. */
  next(): ReadBatch | undefined {
    if (this.at >= this.chunk.length) {
      if (this.position >= this.segment.size) return undefined;
      const r = this.segment.read(this.position, READ_CHUNK_BYTES, Number.MAX_SAFE_INTEGER);
      if (r.batchCount === 0) return undefined;
      this.chunk = r.records;
      this.chunkStart = this.position;
      this.at = 0;
    }
    const header = readBatchHeader(this.chunk, this.at);
    const size = header.batchLength + LOG_OVERHEAD;
    const bytes = this.chunk.subarray(this.at, this.at + size);
    this.at += size;
    this.position = this.chunkStart + this.at;
    return { bytes, header };
  }
}

function isPlainDataBatch(h: BatchHeader): boolean {
  // Bits 4 (transactional) and 5 (control).
  return (h.attributes & 0x30) === 0;
}

/** The output file of one group being written. */
class GroupWriter {
  readonly path: string;
  private fd: number;
  private size = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly io: FileIO, dir: string, readonly baseOffset: number) {
    this.path = `${dir}/${segmentFileName(baseOffset, LOG_FILE_SUFFIX)}${CLEANED_FILE_SUFFIX}`;
    this.fd = io.open(this.path, 'w+');
  }

  get bytes(): number {
    return this.size + this.pendingBytes;
  }

  write(batch: Buffer): void {
    this.pending.push(batch);
    this.pendingBytes += batch.length;
    if (this.pendingBytes >= WRITE_CHUNK_BYTES) this.drain();
  }

  private drain(): void {
    if (this.pendingBytes === 0) return;
    const buf = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    writeFully(this.io, this.fd, buf, 0, buf.length, this.size);
    this.size += buf.length;
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** Writes what is pending, fsyncs and closes. */
  finish(): void {
    this.drain();
    this.io.fsync(this.fd);
    this.io.close(this.fd);
    this.fd = -1;
  }

  /** Removes an output that changed nothing (errors are I/O failures like any other). */
  remove(): void {
    this.io.close(this.fd);
    this.fd = -1;
    this.io.unlink(this.path);
  }

  /** Best-effort removal of an abandoned output. */
  discard(): void {
    try {
      if (this.fd >= 0) this.io.close(this.fd);
    } catch {
      // Already failing or closed.
    }
    this.fd = -1;
    try {
      if (this.io.exists(this.path)) this.io.unlink(this.path);
    } catch {
      // Recovery removes *.cleaned files at the next open.
    }
  }
}

interface GroupState {
  segments: LogSegment[];
  index: number;
  cursor: SegmentCursor;
  writer: GroupWriter;
  changed: boolean;
}

type Phase = 'producers' | 'map' | 'clean' | 'done';

/**
 * One cleaning of a log, possibly in several passes. Created by Log.startCleaning(); the caller
 * calls step() until it returns false, then reads cleanedTo (the new cleaner checkpoint), stats
 * and nextDeleteHorizonMs.
 */
export class CleaningPass {
  readonly stats: CleanerStats = {
    passes: 0, bytesRead: 0, bytesWritten: 0, recordsRead: 0, recordsRemoved: 0, tombstonesRemoved: 0,
    keylessRemoved: 0, batchesRemoved: 0, segmentsWritten: 0, segmentsReplaced: 0,
  };
  private readonly maxMapBytes: number;
  private readonly stepBytes: number;
  private readonly upTo: number | undefined;
  private phase: Phase = 'map';
  private firstDirty: number;
  private firstUncleanable: number;
  /** Where this pass's map ends (exclusive): the clean phase rewrites segments below it. */
  private mapEnd: number;
  private readonly map = new Map<string, number>();
  private mapBytes = 0;
  /**
   * Last offset of each idempotent producer's last batch seen so far: the clean section (a
   * header scan at the start) and the mapped dirty section. Kept across passes.
   */
  private readonly producerLast = new Map<bigint, number>();
  private producerCursor: SegmentCursor | undefined;
  private producerScanPos = 0;
  private mapCursor: SegmentCursor | undefined;
  private cleanQueue: LogSegment[] = [];
  private group: GroupState | undefined;
  private horizon: number | undefined;
  private now: number;
  private readonly truncationsAtStart: number;

  constructor(private readonly access: CleanerAccess, options: CleanOptions) {
    for (const [name, v] of [['maxMapBytes', options.maxMapBytes], ['stepBytes', options.stepBytes]] as const) {
      if (v !== undefined && (!Number.isSafeInteger(v) || v < 1)) throw new LogError('INVALID_ARGUMENT', `${name} ${v} is not a positive integer`);
    }
    this.maxMapBytes = options.maxMapBytes ?? DEFAULT_CLEANER_MAP_BYTES;
    this.stepBytes = options.stepBytes ?? DEFAULT_CLEANER_STEP_BYTES;
    this.upTo = options.upTo;
    this.now = access.now();
    this.truncationsAtStart = access.truncations();
    this.firstDirty = clampFirstDirty(access, options.firstDirtyOffset);
    this.firstUncleanable = firstUncleanableOffset(access, this.upTo);
    this.mapEnd = this.firstDirty;
    this.startPass();
  }

  get done(): boolean {
    return this.phase === 'done';
  }

  /** The cleaner checkpoint after this cleaning: everything below it is clean. */
  get cleanedTo(): number {
    return this.firstDirty;
  }

  /** The earliest delete horizon of a tombstone kept, if any: when a clean could remove it. */
  get nextDeleteHorizonMs(): number | undefined {
    return this.horizon;
  }

  /** Does about stepBytes of work; false once the cleaning is complete. */
  step(): boolean {
    if (this.phase === 'done') return false;
    try {
      this.access.run(() => {
        // A truncation (a follower diverged from its leader) may have removed records the map
        // holds as the latest of their key: acting on it could drop the real latest. Stop; the
        // next cleaning starts afresh.
        if (this.access.truncations() !== this.truncationsAtStart) {
          this.abort();
          return;
        }
        let budget = this.stepBytes;
        while (budget > 0 && this.phase !== 'done') {
          if (this.phase === 'producers') budget -= this.scanProducers(budget);
          else if (this.phase === 'map') budget -= this.mapSome(budget);
          else budget -= this.cleanSome(budget);
        }
      });
    } catch (e) {
      this.abort();
      throw e;
    }
    return !this.done;
  }

  /** Stops; an unfinished output file is removed. */
  abort(): void {
    this.group?.writer.discard();
    this.group = undefined;
    this.phase = 'done';
  }

  // --- passes ---------------------------------------------------------------------------------

  private startPass(): void {
    this.map.clear();
    this.mapBytes = this.producerLast.size * PRODUCER_ENTRY_BYTES;
    this.mapEnd = this.firstDirty;
    this.mapCursor = undefined;
    this.cleanQueue = [];
    // Nothing dirty left, and no tombstone horizon due: done (a due horizon is worth a pass with an empty map).
    const horizonDue = this.stats.passes === 0;
    if (this.firstDirty >= this.firstUncleanable && !horizonDue) {
      this.phase = 'done';
      return;
    }
    this.stats.passes++;
    this.phase = 'map';
    const segments = this.access.segments();
    if (this.stats.passes === 1 && segments[0]!.baseOffset < this.firstDirty) {
      // The clean section's producers too: an emptied batch is dropped only when a later batch
      // of its producer is known to exist.
      this.phase = 'producers';
      this.producerScanPos = segments[0]!.baseOffset;
    }
  }

  /** Header scan of the clean section for each producer's last batch; returns bytes read. */
  private scanProducers(budget: number): number {
    let read = 0;
    const toMap = (): number => {
      this.producerCursor = undefined;
      this.phase = 'map';
      return Math.max(read, 1);
    };
    while (read < budget) {
      const segments = this.access.segments();
      if (this.producerCursor === undefined) {
        const s = segments.find((seg, i) => i < segments.length - 1 && seg.baseOffset < this.firstDirty && segments[i + 1]!.baseOffset > this.producerScanPos);
        if (s === undefined) return toMap();
        this.producerCursor = new SegmentCursor(s, s.findBatch(this.producerScanPos)?.position ?? s.size);
      }
      if (!segments.includes(this.producerCursor.segment)) {
        this.phase = 'done';
        return Math.max(read, 1);
      }
      const b = this.producerCursor.next();
      if (b === undefined) {
        this.producerScanPos = Math.max(this.producerScanPos, this.nextSegmentBase(this.producerCursor.segment));
        this.producerCursor = undefined;
        if (this.producerScanPos >= this.firstDirty) return toMap();
        continue;
      }
      read += b.bytes.length;
      this.stats.bytesRead += b.bytes.length;
      const last = b.header.baseOffset + b.header.lastOffsetDelta;
      if (last >= this.firstDirty) return toMap();
      if (b.header.producerId !== NO_PRODUCER_ID) {
        if (!this.producerLast.has(b.header.producerId)) this.mapBytes += PRODUCER_ENTRY_BYTES;
        this.producerLast.set(b.header.producerId, last);
      }
      this.producerScanPos = last + 1;
    }
    return read;
  }

  /** Adds dirty batches to the offset map; returns bytes read. */
  private mapSome(budget: number): number {
    let read = 0;
    const segments = this.access.segments();
    while (read < budget) {
      if (this.mapCursor === undefined) {
        const s = segments.find((seg, i) => seg.baseOffset < this.firstUncleanable && (segments[i + 1]?.baseOffset ?? Infinity) > this.mapEnd);
        if (s === undefined) return this.endMap(read);
        this.mapCursor = new SegmentCursor(s, s.findBatch(this.mapEnd)?.position ?? s.size);
      }
      if (!segments.includes(this.mapCursor.segment)) {
        // Retention or truncation removed it: start over at the next step's pass.
        this.phase = 'done';
        return read;
      }
      const b = this.mapCursor.next();
      if (b === undefined) {
        this.mapEnd = Math.max(this.mapEnd, this.nextSegmentBase(this.mapCursor.segment));
        this.mapCursor = undefined;
        if (this.mapEnd >= this.firstUncleanable) return this.endMap(read);
        continue;
      }
      read += b.bytes.length;
      this.stats.bytesRead += b.bytes.length;
      const last = b.header.baseOffset + b.header.lastOffsetDelta;
      if (b.header.producerId !== NO_PRODUCER_ID) {
        if (!this.producerLast.has(b.header.producerId)) this.mapBytes += PRODUCER_ENTRY_BYTES;
        this.producerLast.set(b.header.producerId, last);
      }
      if (isPlainDataBatch(b.header) && b.header.recordCount > 0) {
        for (const r of decodeBatch(b.bytes).records) {
          if (r.offset < this.firstDirty || r.key === null) continue;
          const k = r.key.toString('latin1');
          if (!this.map.has(k)) this.mapBytes += r.key.length + MAP_ENTRY_OVERHEAD;
          this.map.set(k, r.offset);
        }
      }
      this.mapEnd = last + 1;
      if (this.mapBytes >= this.maxMapBytes) return this.endMap(read);
    }
    return read;
  }

  private nextSegmentBase(segment: LogSegment): number {
    const segments = this.access.segments();
    const i = segments.indexOf(segment);
    return i >= 0 && i + 1 < segments.length ? segments[i + 1]!.baseOffset : segment.nextOffset;
  }

  private endMap(read: number): number {
    this.mapCursor = undefined;
    this.mapEnd = Math.min(this.mapEnd, this.firstUncleanable);
    const segments = this.access.segments();
    this.cleanQueue = segments.filter((s, i) => s.baseOffset < this.firstUncleanable && i < segments.length - 1 && (s.baseOffset < this.mapEnd || this.mapEnd <= this.firstDirty));
    this.phase = 'clean';
    return Math.max(read, 1);
  }

  // --- cleaning -------------------------------------------------------------------------------

  /** Takes the next group of segments off the queue: consecutive, inputs within segment.bytes and one index. */
  private nextGroup(): LogSegment[] {
    const cfg = this.access.config();
    const maxBytes = cfg['segment.bytes'];
    const maxIndexEntries = Math.floor(cfg['segment.index.bytes'] / 12);
    const group: LogSegment[] = [this.cleanQueue.shift()!];
    let bytes = group[0]!.size;
    while (this.cleanQueue.length > 0) {
      const s = this.cleanQueue[0]!;
      const estimatedEntries = (bytes + s.size) / Math.max(cfg['index.interval.bytes'], 1);
      const lastOffset = this.nextSegmentBase(s) - 1;
      if (bytes + s.size > maxBytes || estimatedEntries >= maxIndexEntries || lastOffset - group[0]!.baseOffset > MAX_RELATIVE_OFFSET) break;
      group.push(this.cleanQueue.shift()!);
      bytes += s.size;
    }
    return group;
  }

  private groupStillLive(group: readonly LogSegment[]): boolean {
    const segments = this.access.segments();
    const first = segments.indexOf(group[0]!);
    if (first < 0 || first + group.length >= segments.length) return false;
    return group.every((s, i) => segments[first + i] === s);
  }

  private cleanSome(budget: number): number {
    if (this.group === undefined) {
      if (this.cleanQueue.length === 0) return this.endPass();
      const segments = this.nextGroup();
      if (!this.groupStillLive(segments)) {
        this.phase = 'done';
        return 1;
      }
      this.group = {
        segments, index: 0, cursor: new SegmentCursor(segments[0]!), writer: new GroupWriter(this.access.io, this.access.dir, segments[0]!.baseOffset), changed: segments.length > 1,
      };
    }
    const g = this.group;
    if (!this.groupStillLive(g.segments)) {
      this.abort();
      return 1;
    }
    let read = 0;
    while (read < budget) {
      const b = g.cursor.next();
      if (b === undefined) {
        if (g.index + 1 < g.segments.length) {
          g.index++;
          g.cursor = new SegmentCursor(g.segments[g.index]!);
          continue;
        }
        this.finishGroup();
        return Math.max(read, 1);
      }
      read += b.bytes.length;
      this.stats.bytesRead += b.bytes.length;
      this.filterBatch(b, g);
    }
    return read;
  }

  /** Writes what `b` keeps to the group's output. */
  private filterBatch(b: ReadBatch, g: GroupState): void {
    const h = b.header;
    const isLastOfGroup = g.index === g.segments.length - 1 && g.cursor.filePosition >= g.segments[g.index]!.size;
    if (!isPlainDataBatch(h) || h.recordCount === 0) {
      // Control, transactional and already-empty batches stay as they are, except an empty one
      // no longer needed (see the header comment).
      if (h.recordCount === 0 && isPlainDataBatch(h) && !isLastOfGroup && !this.keepEmptyForProducer(h)) {
        g.changed = true;
        this.stats.batchesRemoved++;
        return;
      }
      this.emit(g, b.bytes);
      return;
    }
    const decoded = decodeBatch(b.bytes);
    const kept: DecodedRecord[] = [];
    const horizonSet = hasDeleteHorizon(h.attributes);
    let hasTombstone = false;
    for (const r of decoded.records) {
      this.stats.recordsRead++;
      if (r.key === null) {
        this.stats.keylessRemoved++;
        this.stats.recordsRemoved++;
        continue;
      }
      const latest = this.map.get(r.key.toString('latin1'));
      if (latest !== undefined && latest > r.offset) {
        this.stats.recordsRemoved++;
        continue;
      }
      if (r.value === null) {
        if (horizonSet && this.now >= h.baseTimestamp) {
          this.stats.tombstonesRemoved++;
          this.stats.recordsRemoved++;
          continue;
        }
        hasTombstone = true;
      }
      kept.push(r);
    }
    const stampHorizon = hasTombstone && !horizonSet;
    if (hasTombstone) {
      const horizon = horizonSet ? h.baseTimestamp : this.now + this.access.config()['delete.retention.ms'];
      if (this.horizon === undefined || horizon < this.horizon) this.horizon = horizon;
    }
    if (kept.length === decoded.records.length && !stampHorizon) {
      this.emit(g, b.bytes);
      return;
    }
    g.changed = true;
    if (kept.length === 0 && !isLastOfGroup && !this.keepEmptyForProducer(h)) {
      this.stats.batchesRemoved++;
      return;
    }
    this.emit(g, encodeRetainedBatch({
      original: b.bytes,
      compression: decoded.compression,
      logAppendTime: decoded.timestampType === 'log-append',
      records: kept,
      deleteHorizonMs: stampHorizon ? this.now + this.access.config()['delete.retention.ms'] : undefined,
    }));
  }

  /** An emptied idempotent batch stays unless a later batch of its producer is known (Kafka keeps each producer's last batch). */
  private keepEmptyForProducer(h: BatchHeader): boolean {
    if (h.producerId === NO_PRODUCER_ID) return false;
    const later = this.producerLast.get(h.producerId);
    return later === undefined || later <= h.baseOffset + h.lastOffsetDelta;
  }

  private emit(g: GroupState, batch: Buffer): void {
    g.writer.write(batch);
  }

  /** The crash-safe swap of one group (see the header comment, step 4), all in this step. */
  private finishGroup(): void {
    const g = this.group!;
    this.group = undefined;
    const { io, dir } = this.access;
    if (!g.changed) {
      g.writer.remove();
      return;
    }
    g.writer.finish();
    const base = g.writer.baseOffset;
    const swapPath = `${dir}/${segmentFileName(base, LOG_FILE_SUFFIX)}${SWAP_FILE_SUFFIX}`;
    io.rename(g.writer.path, swapPath);
    io.fsyncDir(dir);
    for (const s of g.segments) s.deleteFiles();
    io.fsyncDir(dir);
    const finalPath = `${dir}/${segmentFileName(base, LOG_FILE_SUFFIX)}`;
    io.rename(swapPath, finalPath);
    io.fsyncDir(dir);
    const cfg = this.access.config();
    const replacement = LogSegment.open(io, dir, base, { indexIntervalBytes: cfg['index.interval.bytes'], maxIndexBytes: cfg['segment.index.bytes'] }, this.now);
    replacement.rebuildIndexes();
    replacement.flush();
    this.access.replaceSegments(g.segments, replacement);
    this.stats.bytesWritten += replacement.size;
    this.stats.segmentsWritten++;
    this.stats.segmentsReplaced += g.segments.length;
  }

  private endPass(): number {
    // The bound stays the one computed at the start: a log appended to while it is cleaned
    // would otherwise keep its cleaning going for ever.
    this.firstDirty = Math.max(this.firstDirty, this.mapEnd);
    if (this.firstDirty >= this.firstUncleanable) {
      this.phase = 'done';
      return 1;
    }
    this.startPass();
    return 1;
  }
}
