// The log of one partition replica: an ordered set of segments in the partition directory, the
// offsets that frame it (log start, log end, recovery point) and its leader-epoch cache. It
// validates and appends batches (assigning offsets as leader, keeping them as follower), serves
// reads of whole batches, finds offsets by timestamp, truncates, applies retention and flushes.
//
// Lifecycle: Log.open() loads (and after a crash recovers) the directory; the broker's replica
// owns the Log and calls it from one thread; close() flushes and leaves the clean-shutdown
// marker. Any I/O failure takes the log offline for good: the failing call and every later one
// throw LOG_OFFLINE (with the cause), nothing is retried, and reopening runs recovery.
//
// Time comes from the injected clock; nothing here reads the wall clock itself.

import {
  BATCH_HEADER_SIZE, LOG_OVERHEAD, NO_TIMESTAMP, OFFSET_PARTITION_LEADER_EPOCH, checkBatch, setBaseOffset,
  setPartitionLeaderEpoch, stampLogAppendTime,
} from './batch-header.js';
import { CorruptRecordError, LogError } from './errors.js';
import { nodeFileIO, type FileIO } from './file-io.js';
import { type EpochEndOffset, type LeaderEpochFileCache } from './leader-epoch-cache.js';
import { DEFAULT_LOG_CONFIG, hasDeletePolicy, type LogConfig } from './log-config.js';
import { CleaningPass, cleanableStats, type CleanableStats, type CleanerAccess, type CleanOptions } from './log-cleaner.js';
import { decodeBatch } from './record-decoder.js';
import {
  CLEAN_SHUTDOWN_MARKER, floorSegmentIndex, loadLog, segmentSettings, type LoadReport,
} from './recovery.js';
import { LogSegment, MAX_RELATIVE_OFFSET, type AppendBatch } from './segment.js';

export interface LogOptions {
  /** The partition directory, `<topic>-<partition>`; created if missing. */
  dir: string;
  config?: LogConfig;
  /** Milliseconds since the epoch. Default: Date.now. */
  clock?: () => number;
  io?: FileIO;
  /** From the log directory's recovery-point checkpoint: offsets below it were flushed. Default 0 (check all). */
  recoveryPoint?: number;
  /** From the log directory's log-start-offset checkpoint. Default 0. */
  logStartOffset?: number;
  /**
   * Called with the new log start offset before the log acts on it (segments deleted by
   * retention or DeleteRecords, truncations), so the broker can checkpoint it durably first.
   */
  onLogStartOffsetChange?: (logStartOffset: number) => void;
}

export interface AppendOptions {
  /** Leader: true, offsets are assigned from the log end offset. Follower: false, kept as they are. */
  assignOffsets: boolean;
  /** Leader only: stamp this partition leader epoch into every batch. */
  leaderEpoch?: number;
}

export interface AppendResult {
  /** Base offset of the first batch. */
  baseOffset: number;
  /** Last offset of the last batch. */
  lastOffset: number;
  batchCount: number;
  recordCount: number;
  /** The broker time stamped into the batches under LogAppendTime, else -1. */
  logAppendTime: number;
  /** Largest batch max timestamp of the append, and the last offset of the batch carrying it. */
  maxTimestamp: number;
  offsetOfMaxTimestamp: number;
  logStartOffset: number;
  /** Bytes appended. */
  validBytes: number;
}

export interface LogReadResult {
  /** Whole batches back to back, exactly as stored. Empty when there is nothing to return. */
  records: Buffer;
  batchCount: number;
  /** Base offset of the first batch (it may start before the offset asked for); -1 when empty. */
  firstOffset: number;
  /** Last offset of the last batch; -1 when empty. */
  lastOffset: number;
  /** Where the next read continues: lastOffset + 1, or the offset asked for when empty. */
  nextOffset: number;
  logStartOffset: number;
  logEndOffset: number;
}

export interface OffsetAndTimestamp {
  offset: number;
  timestamp: number;
  /** The partition leader epoch of the batch holding the record, -1 if unknown. */
  leaderEpoch: number;
}

export interface RetentionResult {
  segmentsDeleted: number;
  bytesDeleted: number;
  logStartOffset: number;
}

function checkOffset(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new LogError('INVALID_ARGUMENT', `${name} ${v} is not a non-negative integer`);
}

/** A buffer that keeps at most twice what it holds alive (reads allocate up to maxBytes). */
function compact(buf: Buffer, allocated: number): Buffer {
  return buf.length * 2 < allocated ? Buffer.from(buf) : buf;
}

export class Log {
  readonly dir: string;
  readonly leaderEpochCache: LeaderEpochFileCache;
  /** What the last open found and did (clean shutdown, segments scanned, bytes cut). */
  readonly loadReport: LoadReport;
  private readonly io: FileIO;
  private readonly clock: () => number;
  private readonly onLogStartOffsetChange: ((offset: number) => void) | undefined;
  private cfg: LogConfig;
  private segments: LogSegment[];
  private startOffset: number;
  private flushedUpTo: number;
  private lastFlushTime: number;
  private offlineCause: unknown;
  private closed = false;
  /** Bumped by every truncation: a cleaning that started before one must not act on what it mapped. */
  private truncations = 0;

  private constructor(options: LogOptions, io: FileIO, clock: () => number, cfg: LogConfig) {
    this.dir = options.dir;
    this.io = io;
    this.clock = clock;
    this.cfg = cfg;
    this.onLogStartOffsetChange = options.onLogStartOffsetChange;
    const loaded = loadLog({
      dir: options.dir,
      io,
      config: cfg,
      now: clock(),
      recoveryPoint: options.recoveryPoint ?? 0,
      logStartOffset: options.logStartOffset ?? 0,
    });
    this.segments = loaded.segments;
    this.startOffset = loaded.logStartOffset;
    this.flushedUpTo = loaded.recoveryPoint;
    this.leaderEpochCache = loaded.leaderEpochCache;
    this.loadReport = loaded.report;
    this.lastFlushTime = clock();
  }

  /** Opens (and after an unclean shutdown, recovers) the log in `options.dir`. */
  static open(options: LogOptions): Log {
    if (typeof options.dir !== 'string' || options.dir === '') throw new LogError('INVALID_ARGUMENT', 'a log needs a directory');
    if (options.recoveryPoint !== undefined) checkOffset('recovery point', options.recoveryPoint);
    if (options.logStartOffset !== undefined) checkOffset('log start offset', options.logStartOffset);
    return new Log(options, options.io ?? nodeFileIO, options.clock ?? Date.now, options.config ?? DEFAULT_LOG_CONFIG);
  }

  // --- offsets and state ----------------------------------------------------------------------

  get config(): LogConfig {
    return this.cfg;
  }

  /** A dynamic config change (e.g. retention.ms). Index sizes apply to segments created later. */
  updateConfig(config: LogConfig): void {
    this.ensureUsable();
    this.cfg = config;
  }

  get logStartOffset(): number {
    return this.startOffset;
  }

  /** The offset the next appended record gets. */
  get logEndOffset(): number {
    return this.activeSegment.nextOffset;
  }

  /** Offsets below this are fsynced. */
  get recoveryPoint(): number {
    return this.flushedUpTo;
  }

  /** ListOffsets "earliest". */
  earliestOffset(): number {
    return this.startOffset;
  }

  /** ListOffsets "latest" (consumers use the high watermark instead). */
  latestOffset(): number {
    return this.logEndOffset;
  }

  /** Bytes of all segments. */
  get size(): number {
    let total = 0;
    for (const s of this.segments) total += s.size;
    return total;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  segmentBaseOffsets(): number[] {
    return this.segments.map((s) => s.baseOffset);
  }

  get isOffline(): boolean {
    return this.offlineCause !== undefined;
  }

  /** The I/O error that took the log offline. */
  get offlineError(): unknown {
    return this.offlineCause;
  }

  private get activeSegment(): LogSegment {
    return this.segments[this.segments.length - 1]!;
  }

  // --- append ---------------------------------------------------------------------------------

  /**
   * Appends one or more whole batches. The log takes ownership of `records`: as leader it
   * rewrites base offsets (and, if asked, leader epoch and log-append time) in place, then
   * writes the bytes as they are. Checks: every batch whole with a valid CRC, none over
   * max.message.bytes, the whole append within segment.bytes, and as follower, offsets
   * increasing from the log end offset.
   */
  append(records: Buffer, options: AppendOptions): AppendResult {
    this.ensureUsable();
    if (!Buffer.isBuffer(records) || records.length === 0) throw new LogError('INVALID_ARGUMENT', 'append needs a non-empty Buffer of batches');
    const leaderEpoch = options.leaderEpoch;
    if (leaderEpoch !== undefined && (!Number.isInteger(leaderEpoch) || leaderEpoch < 0 || leaderEpoch > 0x7fff_ffff)) {
      throw new LogError('INVALID_ARGUMENT', `leader epoch ${leaderEpoch} is not an int32 >= 0`);
    }
    if (leaderEpoch !== undefined && !options.assignOffsets) {
      throw new LogError('INVALID_ARGUMENT', 'a follower append keeps the leader epoch of its batches; do not pass leaderEpoch');
    }
    return this.guard(() => this.doAppend(records, options.assignOffsets, leaderEpoch));
  }

  private doAppend(records: Buffer, assignOffsets: boolean, leaderEpoch: number | undefined): AppendResult {
    const now = this.clock();
    const logEndOffset = this.logEndOffset;
    const maxMessageBytes = this.cfg['max.message.bytes'];
    const logAppendTime = this.cfg['message.timestamp.type'] === 'LogAppendTime' ? now : -1;
    if (records.length > this.cfg['segment.bytes']) {
      throw new LogError('RECORD_TOO_LARGE', `append of ${records.length} bytes exceeds segment.bytes ${this.cfg['segment.bytes']}`);
    }

    const batches: AppendBatch[] = [];
    let nextOffset = logEndOffset;
    let recordCount = 0;
    let maxTimestamp = NO_TIMESTAMP;
    let offsetOfMaxTimestamp = -1;
    let pos = 0;
    while (pos < records.length) {
      if (records.length - pos < BATCH_HEADER_SIZE) {
        throw new CorruptRecordError(`${records.length - pos} trailing bytes after the last whole batch at byte ${pos}`);
      }
      const h = checkBatch(records, pos);
      const size = h.batchLength + LOG_OVERHEAD;
      if (size > maxMessageBytes) {
        throw new LogError('RECORD_TOO_LARGE', `batch of ${size} bytes at byte ${pos} exceeds max.message.bytes ${maxMessageBytes}`);
      }
      let baseOffset = h.baseOffset;
      if (assignOffsets) {
        if (h.recordCount < 1 || h.lastOffsetDelta !== h.recordCount - 1) {
          throw new CorruptRecordError(
            `batch at byte ${pos} has ${h.recordCount} records but last offset delta ${h.lastOffsetDelta}`,
          );
        }
        baseOffset = nextOffset;
      } else if (baseOffset < nextOffset) {
        throw new LogError(
          'INVALID_OFFSET',
          `batch at byte ${pos} starts at offset ${baseOffset}, below the expected ${nextOffset} (log end offset ${logEndOffset})`,
        );
      }
      const lastOffset = baseOffset + h.lastOffsetDelta;
      if (!Number.isSafeInteger(lastOffset)) throw new LogError('INVALID_OFFSET', `last offset ${lastOffset} is out of range`);
      const batchMaxTimestamp = logAppendTime >= 0 ? logAppendTime : h.maxTimestamp;
      if (batchMaxTimestamp > maxTimestamp) {
        maxTimestamp = batchMaxTimestamp;
        offsetOfMaxTimestamp = lastOffset;
      }
      batches.push({ position: pos, size, baseOffset, lastOffset, maxTimestamp: batchMaxTimestamp });
      recordCount += h.recordCount;
      nextOffset = lastOffset + 1;
      pos += size;
    }
    const firstOffset = batches[0]!.baseOffset;
    const lastOffset = nextOffset - 1;

    // Everything is valid: now the batches may be rewritten.
    if (assignOffsets) {
      for (const b of batches) {
        setBaseOffset(records, b.position, b.baseOffset);
        if (leaderEpoch !== undefined) setPartitionLeaderEpoch(records, b.position, leaderEpoch);
        if (logAppendTime >= 0) stampLogAppendTime(records, b.position, logAppendTime);
      }
    }

    this.maybeRoll(records.length, firstOffset, lastOffset, now);
    // Each new epoch in the batches starts at its first batch (leader or follower). Recorded
    // before the write, as Kafka does: the cache may briefly name offsets the log lacks (recovery
    // trims those) but never misses an epoch the log holds.
    for (const b of batches) {
      const epoch = records.readInt32BE(b.position + OFFSET_PARTITION_LEADER_EPOCH);
      if (epoch >= 0 && epoch > (this.leaderEpochCache.latestEpoch() ?? -1)) this.leaderEpochCache.assign(epoch, b.baseOffset);
    }
    this.activeSegment.append(records, batches, now);

    if (
      this.logEndOffset - this.flushedUpTo >= this.cfg['flush.messages'] ||
      now - this.lastFlushTime >= this.cfg['flush.ms']
    ) {
      this.doFlush(now);
    }

    return {
      baseOffset: firstOffset,
      lastOffset,
      batchCount: batches.length,
      recordCount,
      logAppendTime,
      maxTimestamp,
      offsetOfMaxTimestamp,
      logStartOffset: this.startOffset,
      validBytes: records.length,
    };
  }

  /** Rolls before an append that would overflow the active segment, its indexes or its age. */
  private maybeRoll(appendBytes: number, firstOffset: number, lastOffset: number, now: number): void {
    const active = this.activeSegment;
    const newBase = Math.max(this.logEndOffset, firstOffset);
    if (lastOffset - newBase > MAX_RELATIVE_OFFSET) {
      throw new LogError('INVALID_OFFSET', `append spans offsets ${firstOffset}..${lastOffset}, more than one segment can index`);
    }
    const full = active.size > 0 && active.size + appendBytes > this.cfg['segment.bytes'];
    const old = active.size > 0 && now - active.rollingBaseTime > this.cfg['segment.ms'];
    const unindexable = !active.hasIndexRoom() || lastOffset - active.baseOffset > MAX_RELATIVE_OFFSET;
    if (full || old || unindexable) this.rollAt(newBase);
  }

  /** Starts a new active segment at the log end offset (nothing happens if the active one is empty). */
  roll(): void {
    this.ensureUsable();
    this.guard(() => this.rollAt(this.logEndOffset));
  }

  private rollAt(newBase: number): void {
    const active = this.activeSegment;
    const now = this.clock();
    if (active.isEmpty) {
      if (active.baseOffset === newBase) return;
      // An empty active segment at the wrong base (a follower append past a gap): replace it.
      this.segments.pop();
      active.deleteFiles();
    } else {
      active.onBecomeInactive();
      active.flush();
      this.flushedUpTo = Math.max(this.flushedUpTo, active.nextOffset);
    }
    this.segments.push(LogSegment.create(this.io, this.dir, newBase, segmentSettings(this.cfg), now));
    this.io.fsyncDir(this.dir);
  }

  // --- read -----------------------------------------------------------------------------------

  /**
   * Whole batches from the one holding `offset` on: as many as fit in `maxBytes`, but at least
   * one (even a larger one, so consumers progress), and none that reaches `upTo` (exclusive: the
   * high watermark for consumers; the log end offset by default). OFFSET_OUT_OF_RANGE below the
   * log start or above the log end offset.
   */
  read(offset: number, maxBytes: number, upTo?: number): LogReadResult {
    this.ensureUsable();
    checkOffset('offset', offset);
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new LogError('INVALID_ARGUMENT', `maxBytes ${maxBytes} is not a non-negative integer`);
    return this.guard(() => {
      const logEndOffset = this.logEndOffset;
      const limit = upTo ?? logEndOffset;
      checkOffset('upTo', limit);
      if (limit > logEndOffset) throw new LogError('INVALID_ARGUMENT', `upTo ${limit} is past the log end offset ${logEndOffset}`);
      if (offset < this.startOffset || offset > logEndOffset) {
        throw new LogError(
          'OFFSET_OUT_OF_RANGE',
          `offset ${offset} is outside the log [${this.startOffset}, ${logEndOffset}] of ${this.dir}`,
        );
      }
      const empty: LogReadResult = {
        records: Buffer.alloc(0), batchCount: 0, firstOffset: -1, lastOffset: -1, nextOffset: offset,
        logStartOffset: this.startOffset, logEndOffset,
      };
      if (offset >= limit) return empty;
      for (let i = floorSegmentIndex(this.segments, offset); i < this.segments.length; i++) {
        const segment = this.segments[i]!;
        const batch = segment.findBatch(offset);
        if (batch === undefined) continue;
        if (batch.lastOffset >= limit) return empty;
        const r = segment.read(batch.position, maxBytes, limit);
        if (r.batchCount === 0) return empty;
        return {
          records: compact(r.records, Math.min(maxBytes, segment.size - batch.position)),
          batchCount: r.batchCount,
          firstOffset: r.firstOffset,
          lastOffset: r.lastOffset,
          nextOffset: r.lastOffset + 1,
          logStartOffset: this.startOffset,
          logEndOffset,
        };
      }
      return empty;
    });
  }

  /**
   * ListOffsets by timestamp: the first record (in offset order, from the log start offset)
   * whose timestamp is >= `timestamp`, below `upTo` (default: the log end offset); undefined
   * when there is none. Uses each segment's largest timestamp, then its time index, then a scan.
   */
  offsetForTimestamp(timestamp: number, upTo?: number): OffsetAndTimestamp | undefined {
    this.ensureUsable();
    if (!Number.isSafeInteger(timestamp)) throw new LogError('INVALID_ARGUMENT', `timestamp ${timestamp} is not an integer`);
    return this.guard(() => {
      const limit = upTo ?? this.logEndOffset;
      for (let i = floorSegmentIndex(this.segments, this.startOffset); i < this.segments.length; i++) {
        const segment = this.segments[i]!;
        if (segment.maxTimestamp < timestamp) continue;
        let batch = segment.findBatchByTimestamp(timestamp, this.startOffset);
        while (batch !== undefined) {
          if (batch.baseOffset >= limit) return undefined;
          const decoded = decodeBatch(segment.readBatch(batch));
          for (const r of decoded.records) {
            if (r.offset < this.startOffset || r.timestamp < timestamp) continue;
            if (r.offset >= limit) return undefined;
            return { offset: r.offset, timestamp: r.timestamp, leaderEpoch: batch.partitionLeaderEpoch };
          }
          // A batch whose header claims a larger timestamp than any of its records: go on.
          batch = segment.findBatchByTimestamp(timestamp, batch.lastOffset + 1);
        }
      }
      return undefined;
    });
  }

  // --- leader epochs --------------------------------------------------------------------------

  /** A new leader's epoch starts at the log end offset (Kafka's maybeAssignEpochStartOffset). */
  assignEpochStartOffset(epoch: number, startOffset: number): boolean {
    this.ensureUsable();
    return this.guard(() => this.leaderEpochCache.assign(epoch, startOffset));
  }

  /** OffsetForLeaderEpoch: [largest epoch <= requested, where it ended on this replica]. */
  endOffsetForEpoch(epoch: number): EpochEndOffset {
    this.ensureUsable();
    return this.leaderEpochCache.endOffsetFor(epoch, this.logEndOffset);
  }

  // --- truncation and retention ---------------------------------------------------------------

  /**
   * Removes every record at or after `offset` (a follower whose log diverged). Truncation is by
   * whole batch: the batch holding `offset` goes entirely, so the new log end offset can be
   * below `offset`. Returns it. The cut segment is fsynced and the epoch cache trimmed.
   */
  truncateTo(offset: number): number {
    this.ensureUsable();
    checkOffset('offset', offset);
    return this.guard(() => {
      if (offset >= this.logEndOffset) return this.logEndOffset;
      if (offset < this.segments[0]!.baseOffset) {
        this.doTruncateFullyAndStartAt(offset);
        return offset;
      }
      this.truncations++;
      const keep = floorSegmentIndex(this.segments, offset);
      const dropped = this.segments.splice(keep + 1);
      for (const s of dropped) s.deleteFiles();
      this.activeSegment.truncateTo(offset);
      if (dropped.length > 0) this.io.fsyncDir(this.dir);
      const logEndOffset = this.logEndOffset;
      this.leaderEpochCache.truncateFromEnd(logEndOffset);
      this.flushedUpTo = Math.min(this.flushedUpTo, logEndOffset);
      if (this.startOffset > logEndOffset) this.setLogStartOffset(logEndOffset);
      return logEndOffset;
    });
  }

  /** Deletes every segment and starts an empty log at `offset` (a follower far behind the leader's start). */
  truncateFullyAndStartAt(offset: number): void {
    this.ensureUsable();
    checkOffset('offset', offset);
    this.guard(() => this.doTruncateFullyAndStartAt(offset));
  }

  private doTruncateFullyAndStartAt(offset: number): void {
    this.truncations++;
    this.setLogStartOffset(offset);
    for (const s of this.segments.splice(0)) s.deleteFiles();
    this.segments.push(LogSegment.create(this.io, this.dir, offset, segmentSettings(this.cfg), this.clock()));
    this.io.fsyncDir(this.dir);
    this.leaderEpochCache.clear();
    this.flushedUpTo = offset;
  }

  /**
   * DeleteRecords: moves the log start offset up to `offset` (checkpointed through
   * onLogStartOffsetChange first) and deletes the segments wholly below it. Returns the log
   * start offset.
   */
  deleteRecordsBefore(offset: number): number {
    this.ensureUsable();
    checkOffset('offset', offset);
    return this.guard(() => {
      if (offset > this.logEndOffset) {
        throw new LogError('OFFSET_OUT_OF_RANGE', `cannot delete records before ${offset}: the log ends at ${this.logEndOffset}`);
      }
      if (offset > this.startOffset) {
        this.setLogStartOffset(offset);
        this.leaderEpochCache.truncateFromStart(offset);
      }
      this.deleteSegmentsWhile((s, next) => next.baseOffset <= this.startOffset, this.logEndOffset);
      return this.startOffset;
    });
  }

  /**
   * Deletes old segments, oldest first, never the active one and never one holding offsets at or
   * past `highWatermark` (default: the log end offset): those wholly below the log start offset,
   * those whose largest timestamp is older than retention.ms, and while the log exceeds
   * retention.bytes, those whose removal keeps it at or above the limit.
   */
  applyRetention(highWatermark?: number): RetentionResult {
    this.ensureUsable();
    return this.guard(() => {
      const hw = highWatermark ?? this.logEndOffset;
      checkOffset('high watermark', hw);
      const now = this.clock();
      const result: RetentionResult = { segmentsDeleted: 0, bytesDeleted: 0, logStartOffset: this.startOffset };
      const add = (r: { segments: number; bytes: number }): void => {
        result.segmentsDeleted += r.segments;
        result.bytesDeleted += r.bytes;
      };
      add(this.deleteSegmentsWhile((s, next) => next.baseOffset <= this.startOffset, hw));
      // Time and size retention belong to cleanup.policy=delete; a compact-only log keeps its segments.
      const deletes = hasDeletePolicy(this.cfg);
      const retentionMs = this.cfg['retention.ms'];
      if (deletes && retentionMs >= 0) {
        add(this.deleteSegmentsWhile((s) => {
          const largest = s.maxTimestamp >= 0 ? s.maxTimestamp : s.rollingBaseTime;
          return now - largest > retentionMs;
        }, hw));
      }
      const retentionBytes = this.cfg['retention.bytes'];
      if (deletes && retentionBytes >= 0) {
        let excess = this.size - retentionBytes;
        add(this.deleteSegmentsWhile((s) => {
          if (excess - s.size < 0) return false;
          excess -= s.size;
          return true;
        }, hw));
      }
      result.logStartOffset = this.startOffset;
      return result;
    });
  }

  /**
   * Deletes the longest prefix of inactive segments that satisfy `predicate` and lie wholly below
   * `upTo`; moves the log start offset to the first remaining segment (persisted first).
   */
  private deleteSegmentsWhile(
    predicate: (segment: LogSegment, next: LogSegment) => boolean,
    upTo: number,
  ): { segments: number; bytes: number } {
    let n = 0;
    while (n < this.segments.length - 1) {
      const segment = this.segments[n]!;
      const next = this.segments[n + 1]!;
      if (next.baseOffset > upTo || !predicate(segment, next)) break;
      n++;
    }
    if (n === 0) return { segments: 0, bytes: 0 };
    const newStart = Math.max(this.startOffset, this.segments[n]!.baseOffset);
    if (newStart > this.startOffset) {
      this.setLogStartOffset(newStart);
      this.leaderEpochCache.truncateFromStart(newStart);
    }
    let bytes = 0;
    for (const s of this.segments.splice(0, n)) {
      bytes += s.size;
      s.deleteFiles();
    }
    this.io.fsyncDir(this.dir);
    return { segments: n, bytes };
  }

  private setLogStartOffset(offset: number): void {
    this.onLogStartOffsetChange?.(offset);
    this.startOffset = offset;
  }

  // --- compaction (log-cleaner.ts) -----------------------------------------------------------

  /**
   * Starts a cleaning of this log (cleanup.policy=compact): call step() on the result until it
   * returns false; its cleanedTo is the new cleaner checkpoint. Readers and appends may run
   * between steps.
   */
  startCleaning(options: CleanOptions): CleaningPass {
    this.ensureUsable();
    if (options.upTo !== undefined) checkOffset('upTo', options.upTo);
    checkOffset('first dirty offset', options.firstDirtyOffset);
    return this.guard(() => new CleaningPass(this.cleanerAccess(), options));
  }

  /** Clean and dirty bytes from `firstDirtyOffset` (the cleaner checkpoint), for choosing the dirtiest log. */
  cleanableStats(firstDirtyOffset: number, upTo?: number): CleanableStats {
    this.ensureUsable();
    return this.guard(() => cleanableStats(this.cleanerAccess(), firstDirtyOffset, upTo));
  }

  private cleanerAccess(): CleanerAccess {
    return {
      dir: this.dir,
      io: this.io,
      config: () => this.cfg,
      now: () => this.clock(),
      logStartOffset: () => this.startOffset,
      logEndOffset: () => this.logEndOffset,
      segments: () => this.segments,
      truncations: () => this.truncations,
      replaceSegments: (old, replacement) => {
        const first = this.segments.indexOf(old[0]!);
        if (first < 0 || old.some((s, i) => this.segments[first + i] !== s) || first + old.length >= this.segments.length) {
          throw new Error(`cleaner bug: segments to replace are not consecutive inactive segments of ${this.dir}`);
        }
        this.segments.splice(first, old.length, replacement);
      },
      run: (op) => {
        this.ensureUsable();
        return this.guard(op);
      },
    };
  }

  // --- flush and close ------------------------------------------------------------------------

  /** fsyncs every segment with unflushed data; the recovery point becomes the log end offset. */
  flush(): void {
    this.ensureUsable();
    this.guard(() => this.doFlush(this.clock()));
  }

  /** Flushes if flush.ms has passed since the last flush; the broker calls this periodically. */
  maybeFlush(): void {
    this.ensureUsable();
    this.guard(() => {
      const now = this.clock();
      if (now - this.lastFlushTime >= this.cfg['flush.ms'] && this.logEndOffset > this.flushedUpTo) this.doFlush(now);
    });
  }

  private doFlush(now: number): void {
    for (let i = floorSegmentIndex(this.segments, this.flushedUpTo); i < this.segments.length; i++) this.segments[i]!.flush();
    this.flushedUpTo = this.logEndOffset;
    this.lastFlushTime = now;
  }

  /**
   * Clean close: flush everything, write the clean-shutdown marker (so the next open skips the
   * scan), close the files. An offline log is closed without flushing and without the marker.
   */
  close(): void {
    if (this.closed) return;
    if (this.offlineCause !== undefined) {
      this.closeFiles();
      return;
    }
    try {
      this.guard(() => {
        this.activeSegment.onBecomeInactive();
        this.doFlush(this.clock());
        const fd = this.io.open(`${this.dir}/${CLEAN_SHUTDOWN_MARKER}`, 'w+');
        try {
          this.io.fsync(fd);
        } finally {
          this.io.close(fd);
        }
        this.io.fsyncDir(this.dir);
      });
    } finally {
      this.closeFiles();
    }
  }

  private closeFiles(): void {
    this.closed = true;
    for (const s of this.segments) {
      try {
        s.close();
      } catch (e) {
        if (this.offlineCause === undefined) this.offlineCause = e;
      }
    }
  }

  // --- failure handling -----------------------------------------------------------------------

  private ensureUsable(): void {
    if (this.closed) throw new LogError('LOG_CLOSED', `log ${this.dir} is closed`);
    if (this.offlineCause !== undefined) {
      throw new LogError('LOG_OFFLINE', `log ${this.dir} is offline: ${(this.offlineCause as Error).message}`, {
        cause: this.offlineCause,
      });
    }
  }

  /**
   * Runs an operation; an error that is not a LogError (an I/O failure, or a broken invariant)
   * takes the log offline for good and is surfaced as LOG_OFFLINE with the cause attached.
   */
  private guard<T>(op: () => T): T {
    try {
      return op();
    } catch (e) {
      if (e instanceof LogError) throw e;
      this.offlineCause = e;
      throw new LogError('LOG_OFFLINE', `log ${this.dir} went offline: ${(e as Error).message}`, { cause: e });
    }
  }
}
