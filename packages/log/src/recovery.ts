// Opening a partition's log directory, in numbered phases like Kafka's LogLoader:
//
//   1. remove leftovers of interrupted operations: *.tmp, *.deleted, and *.cleaned (a clean that
//      did not reach its commit point is rolled back: the old segments are all still there);
//   2. complete interrupted swaps: a `<base>.log.swap` is a cleaned segment past its commit
//      point; delete every old segment whose base offset lies in [base, swap's next offset)
//      (some may already be gone), then rename the swap to `<base>.log`; then remove index files
//      whose segment is gone;
//   3. note whether the last close was clean (the clean-shutdown marker);
//   4. load the segments, in base-offset order;
//   5. after an unclean shutdown only: from the segment holding the recovery point on, check every
//      batch (whole, magic 2, CRC, offsets increasing) and rebuild the indexes; at the first torn
//      or corrupt batch cut that segment and delete every later one; then fsync what changed
//      (after a clean one, the same for the active segment if its tail is not a whole batch);
//   6. settle the offsets: an empty directory gets a first segment; log start offset =
//      max(checkpointed, first segment's base); a log that ends before its checkpointed start
//      is emptied and restarted there (epoch cache cleared too);
//   7. bring the leader-epoch cache in line with the log (trim both ends);
//   8. remove the clean-shutdown marker, so a crash from now on is seen as unclean.
//
// Segments below the recovery point are trusted as flushed; their indexes are still checked when
// first used and rebuilt if they fail (segment.ts).

import { CorruptRecordError, LogError } from './errors.js';
import type { FileIO } from './file-io.js';
import { LeaderEpochFileCache } from './leader-epoch-cache.js';
import type { LogConfig } from './log-config.js';
import { BATCH_HEADER_SIZE, LOG_OVERHEAD, readBatchHeader } from './batch-header.js';
import { readFully } from './file-io.js';
import {
  DELETED_FILE_SUFFIX, LOG_FILE_SUFFIX, LogSegment, parseSegmentFileName,
  segmentFileName, type SegmentSettings,
} from './segment.js';

/** Written on clean close, removed on open: its absence at open means the log may be torn. */
export const CLEAN_SHUTDOWN_MARKER = '.samsa_cleanshutdown';

/** Files of operations that did not reach their commit point: removed at open. */
const LEFTOVER_SUFFIXES = ['.tmp', DELETED_FILE_SUFFIX, '.cleaned'];
const LOG_SWAP_SUFFIX = `${LOG_FILE_SUFFIX}.swap`;

/** What opening the log found and did; logged by the broker, asserted by tests. */
export interface LoadReport {
  cleanShutdown: boolean;
  /** The marker was there, but the active segment did not end in a whole batch: it was recovered. */
  cleanShutdownDistrusted: boolean;
  /** Files removed in phases 1 and 2 (leftovers, orphan indexes, old segments a swap replaced). */
  leftoversRemoved: string[];
  /** Cleaned segments whose swap phase 2 completed. */
  swapsCompleted: string[];
  segmentsLoaded: number;
  /** Segments CRC-scanned in phase 5 (0 after a clean shutdown). */
  segmentsRecovered: number;
  /** Bytes of batches those scans read. */
  bytesRecovered: number;
  /** Bytes cut off the first segment with a torn or corrupt batch. */
  truncatedBytes: number;
  /** Later segments deleted behind that cut. */
  segmentsDeleted: number;
  /** Why recovery cut the log, when it did. */
  truncationReason: string | undefined;
}

export interface LoadParams {
  dir: string;
  io: FileIO;
  config: LogConfig;
  now: number;
  /** Offsets below this were flushed before the last shutdown (recovery-point checkpoint). */
  recoveryPoint: number;
  /** Log start offset from the log-start-offset checkpoint. */
  logStartOffset: number;
}

export interface LoadedLog {
  segments: LogSegment[];
  logStartOffset: number;
  recoveryPoint: number;
  leaderEpochCache: LeaderEpochFileCache;
  report: LoadReport;
}

export function segmentSettings(config: LogConfig): SegmentSettings {
  return { indexIntervalBytes: config['index.interval.bytes'], maxIndexBytes: config['segment.index.bytes'] };
}

/** Index of the segment holding `offset`: the last one whose base offset is <= it (0 if none). */
export function floorSegmentIndex(segments: readonly LogSegment[], offset: number): number {
  let lo = 0;
  let hi = segments.length - 1;
  let found = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (segments[mid]!.baseOffset <= offset) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

export function loadLog(params: LoadParams): LoadedLog {
  const { dir, io, config, now } = params;
  const settings = segmentSettings(config);
  io.mkdirs(dir);
  const report: LoadReport = {
    cleanShutdown: false,
    cleanShutdownDistrusted: false,
    leftoversRemoved: [],
    swapsCompleted: [],
    segmentsLoaded: 0,
    segmentsRecovered: 0,
    bytesRecovered: 0,
    truncatedBytes: 0,
    segmentsDeleted: 0,
    truncationReason: undefined,
  };

  // Phase 1: leftovers of interrupted checkpoints, deletions and cleanings.
  const remove = (name: string): void => {
    io.unlink(`${dir}/${name}`);
    report.leftoversRemoved.push(name);
  };
  for (const name of io.list(dir).sort()) {
    const swapIndex = name.endsWith('.swap') && !name.endsWith(LOG_SWAP_SUFFIX);
    if (swapIndex || LEFTOVER_SUFFIXES.some((s) => name.endsWith(s))) remove(name);
  }

  // Phase 2: complete the swaps of cleanings past their commit point, then drop orphan indexes.
  const swaps = io.list(dir).filter((n) => n.endsWith(LOG_SWAP_SUFFIX)).sort();
  for (const swap of swaps) {
    const parsed = parseSegmentFileName(swap.slice(0, -'.swap'.length));
    if (parsed === undefined) continue;
    const base = parsed.baseOffset;
    const end = nextOffsetOfFile(io, `${dir}/${swap}`, base);
    for (const name of io.list(dir).sort()) {
      const p = parseSegmentFileName(name);
      if (p === undefined || p.baseOffset < base || p.baseOffset >= Math.max(end, base + 1)) continue;
      io.rename(`${dir}/${name}`, `${dir}/${name}${DELETED_FILE_SUFFIX}`);
      io.unlink(`${dir}/${name}${DELETED_FILE_SUFFIX}`);
      report.leftoversRemoved.push(name);
    }
    io.rename(`${dir}/${swap}`, `${dir}/${segmentFileName(base, LOG_FILE_SUFFIX)}`);
    report.swapsCompleted.push(swap);
  }
  if (swaps.length > 0) io.fsyncDir(dir);
  const names = io.list(dir).sort();
  const logBases = new Set<number>();
  for (const name of names) {
    const parsed = parseSegmentFileName(name);
    if (parsed?.suffix === LOG_FILE_SUFFIX) logBases.add(parsed.baseOffset);
  }
  for (const name of names) {
    const parsed = parseSegmentFileName(name);
    if (parsed !== undefined && parsed.suffix !== LOG_FILE_SUFFIX && !logBases.has(parsed.baseOffset)) remove(name);
  }

  // Phase 3: was the last close clean?
  const markerPath = `${dir}/${CLEAN_SHUTDOWN_MARKER}`;
  report.cleanShutdown = io.exists(markerPath);

  // Phase 4: open the segments.
  const segments: LogSegment[] = [];
  try {
    for (const base of [...logBases].sort((a, b) => a - b)) segments.push(LogSegment.open(io, dir, base, settings, now));
    report.segmentsLoaded = segments.length;

    // Phase 5: unclean shutdown: check everything from the recovery point on. A "clean" log whose
    // active segment does not end in a whole batch (damaged since, or a lying marker) is
    // recovered from that segment on instead of failing to open.
    let recoverFrom = report.cleanShutdown ? undefined : params.recoveryPoint;
    if (report.cleanShutdown && segments.length > 0) {
      const active = segments[segments.length - 1]!;
      try {
        void active.nextOffset;
      } catch (e) {
        if (!(e instanceof CorruptRecordError)) throw e;
        report.cleanShutdownDistrusted = true;
        recoverFrom = active.baseOffset;
      }
    }
    if (recoverFrom !== undefined && segments.length > 0) {
      const first = floorSegmentIndex(segments, recoverFrom);
      let minNextOffset = first > 0 ? segments[first - 1]!.nextOffset : 0;
      for (let i = first; i < segments.length; i++) {
        const segment = segments[i]!;
        const result = segment.recover(minNextOffset);
        report.segmentsRecovered++;
        report.bytesRecovered += result.validBytes;
        segment.flush();
        if (result.stopReason !== undefined) {
          report.truncatedBytes = result.truncatedBytes;
          report.truncationReason = `${segment.logPath}: ${result.stopReason}`;
          const dropped = segments.splice(i + 1);
          for (const s of dropped) s.deleteFiles();
          report.segmentsDeleted = dropped.length;
          break;
        }
        minNextOffset = segment.nextOffset;
      }
      io.fsyncDir(dir);
    }

    // Phase 6: offsets.
    if (segments.length === 0) {
      segments.push(LogSegment.create(io, dir, params.logStartOffset, settings, now));
      io.fsyncDir(dir);
    }
    let logEndOffset = segments[segments.length - 1]!.nextOffset;
    let logStartOffset = Math.max(params.logStartOffset, segments[0]!.baseOffset);
    const restarted = logStartOffset > logEndOffset;
    if (restarted) {
      // The checkpointed start is past what survived: nothing below it may be served again.
      for (const s of segments.splice(0)) s.deleteFiles();
      segments.push(LogSegment.create(io, dir, logStartOffset, settings, now));
      io.fsyncDir(dir);
      logEndOffset = logStartOffset;
    }
    // Everything up to the end is durable now: flushed before a clean close, fsynced by phase 4.
    const recoveryPoint = logEndOffset;

    // Phase 7: the epoch cache may not name offsets the log no longer has.
    const leaderEpochCache = LeaderEpochFileCache.open(dir, io);
    if (restarted) leaderEpochCache.clear();
    leaderEpochCache.truncateFromEnd(logEndOffset);
    leaderEpochCache.truncateFromStart(logStartOffset);

    // Phase 8: from here on, a crash must be recovered from.
    if (report.cleanShutdown) {
      io.unlink(markerPath);
      io.fsyncDir(dir);
    }
    return { segments, logStartOffset, recoveryPoint, leaderEpochCache, report };
  } catch (e) {
    for (const s of segments) {
      try {
        s.close();
      } catch {
        // Already failing; the first error is the one to report.
      }
    }
    if (e instanceof LogError) throw e;
    throw new LogError('LOG_OFFLINE', `cannot open log ${dir}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * The offset after the last batch of a swap file (a cleaned segment, fsynced before it was
 * renamed to .swap, so whole). Headers only; stops at anything that is not a whole batch.
 */
function nextOffsetOfFile(io: FileIO, path: string, base: number): number {
  const fd = io.open(path, 'r');
  try {
    const size = io.size(fd);
    const header = Buffer.allocUnsafe(BATCH_HEADER_SIZE);
    let next = base;
    let pos = 0;
    while (pos + BATCH_HEADER_SIZE <= size) {
      if (readFully(io, fd, header, 0, BATCH_HEADER_SIZE, pos) !== BATCH_HEADER_SIZE) break;
      let h;
      try {
        h = readBatchHeader(header, 0);
      } catch {
        break;
      }
      if (pos + h.batchLength + LOG_OVERHEAD > size) break;
      next = h.baseOffset + h.lastOffsetDelta + 1;
      pos += h.batchLength + LOG_OVERHEAD;
    }
    return next;
  } finally {
    io.close(fd);
  }
}
