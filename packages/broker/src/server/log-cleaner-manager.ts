// The broker's log cleaner (Kafka's LogCleaner + LogCleanerManager, one cleaner thread): every
// log.cleaner.backoff.ms it picks the dirtiest log with cleanup.policy containing compact whose
// dirty ratio is at least its min.cleanable.dirty.ratio (or whose kept tombstones reached their
// delete horizon), and cleans it below its high watermark, on leaders and followers alike (each
// replica compacts its own copy, as in Kafka). The work runs in steps of a bounded number of
// bytes with a yield to the event loop between them, so requests are never held up for long.
// Each log's cleaner checkpoint (the offset below which it is clean) is kept in the log
// directory's `cleaner-offset-checkpoint`.
//
// A log whose cleaning fails on its data (a codec we cannot re-encode, a corrupt batch) is
// marked uncleanable until restart, as Kafka does; an I/O failure takes the log offline (the
// log's own fail-stop rule) and it is skipped from then on.
//
// Choosing the log (selectLogToClean) is a pure function; this class is the thin adapter with
// the timer, the checkpoint file, metrics and logs.

import { join } from 'node:path';
import { Counter, Gauge, type Registry } from 'prom-client';
import {
  CLEANER_OFFSET_CHECKPOINT_FILE, DEFAULT_CLEANER_MAP_BYTES, DEFAULT_CLEANER_STEP_BYTES, LogError, OffsetCheckpointFile, isCompacted,
  topicPartitionKey, type CleanableStats, type Log,
} from '@samsa/log';
import type { Logger } from '@samsa/coordinator';
import type { LogManager } from './log-manager.js';

export interface CleanerCandidate {
  key: string;
  stats: CleanableStats;
  minCleanableRatio: number;
  /** Earliest delete horizon of a tombstone the last cleaning kept, if any. */
  deleteHorizonMs: number | undefined;
}

/**
 * The log to clean now: the one with the largest dirty ratio among those at or above their
 * min.cleanable.dirty.ratio with dirty bytes, else one whose tombstones are due for removal.
 */
export function selectLogToClean(candidates: readonly CleanerCandidate[], now: number): CleanerCandidate | undefined {
  let best: CleanerCandidate | undefined;
  for (const c of candidates) {
    if (c.stats.dirtyBytes > 0 && c.stats.dirtyRatio >= c.minCleanableRatio && (!best || c.stats.dirtyRatio > best.stats.dirtyRatio)) best = c;
  }
  if (best) return best;
  return candidates.find((c) => c.deleteHorizonMs !== undefined && now >= c.deleteHorizonMs && c.stats.cleanBytes + c.stats.dirtyBytes > 0);
}

export interface LogCleanerManagerOptions {
  logs: LogManager;
  /** The log directory (for the cleaner checkpoint). */
  dir: string;
  /** A partition's high watermark: cleaning stays below it. */
  highWatermark: (topic: string, partition: number) => number | undefined;
  logger: Logger;
  registry?: Registry;
  /** log.cleaner.backoff.ms: pause between cleanings when there is nothing (more) to do. */
  backoffMs: number;
  /** log.cleaner.dedupe.buffer.size: bound of the offset map. */
  dedupeBufferBytes?: number;
  /** Bytes of log read per step before yielding to the event loop. */
  stepBytes?: number;
  /** Wall clock for tombstone horizons (the logs use their own); default Date.now. */
  clock?: () => number;
}

export interface CleaningReport {
  topic: string;
  partition: number;
  firstDirtyOffset: number;
  cleanedTo: number;
  dirtyRatio: number;
  passes: number;
  bytesRead: number;
  bytesWritten: number;
  recordsRemoved: number;
  seconds: number;
}

interface CleanerMetrics {
  runs: Counter;
  errors: Counter;
  bytesRead: Counter;
  bytesWritten: Counter;
  recordsRemoved: Counter;
  seconds: Counter;
  lastRunSeconds: Gauge;
  maxDirtyRatio: Gauge;
  uncleanable: Gauge;
}

/** Cleanings back to back before the next backoff. */
const MAX_CLEANINGS_PER_TICK = 100;

function splitKey(key: string): { topic: string; partition: number } {
  const i = key.lastIndexOf('-');
  return { topic: key.slice(0, i), partition: Number(key.slice(i + 1)) };
}

export class LogCleanerManager {
  private readonly checkpointFile: OffsetCheckpointFile;
  private checkpoints: Map<string, number>;
  private readonly horizons = new Map<string, number>();
  private readonly uncleanable = new Set<string>();
  /** The Log each checkpoint belongs to: a partition deleted and created again starts clean-less. */
  private readonly logOf = new Map<string, Log>();
  private readonly clock: () => number;
  private readonly metrics: CleanerMetrics | undefined;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  private stopped = false;
  private maxDirtyRatio = 0;

  constructor(private readonly o: LogCleanerManagerOptions) {
    this.clock = o.clock ?? Date.now;
    this.checkpointFile = new OffsetCheckpointFile(join(o.dir, CLEANER_OFFSET_CHECKPOINT_FILE));
    this.checkpoints = this.checkpointFile.read();
    if (o.registry) {
      const registers = [o.registry];
      this.metrics = {
        runs: new Counter({ name: 'samsa_log_cleaner_runs_total', help: 'Cleanings of compacted logs completed', registers }),
        errors: new Counter({ name: 'samsa_log_cleaner_errors_total', help: 'Cleanings that failed (the log is then uncleanable or offline)', registers }),
        bytesRead: new Counter({ name: 'samsa_log_cleaner_read_bytes_total', help: 'Bytes of log the cleaner read', registers }),
        bytesWritten: new Counter({ name: 'samsa_log_cleaner_written_bytes_total', help: 'Bytes of cleaned segments the cleaner wrote', registers }),
        recordsRemoved: new Counter({ name: 'samsa_log_cleaner_records_removed_total', help: 'Records removed by compaction (superseded, expired tombstones, keyless)', registers }),
        seconds: new Counter({ name: 'samsa_log_cleaner_seconds_total', help: 'Time spent cleaning (including the yields between steps)', registers }),
        lastRunSeconds: new Gauge({ name: 'samsa_log_cleaner_last_run_duration_seconds', help: 'Duration of the last cleaning', registers }),
        maxDirtyRatio: new Gauge({
          name: 'samsa_log_cleaner_max_dirty_ratio', help: 'Largest dirty ratio among compacted logs at the last check', registers,
          collect: () => this.metrics?.maxDirtyRatio.set(this.maxDirtyRatio),
        }),
        uncleanable: new Gauge({
          name: 'samsa_log_cleaner_uncleanable_partitions', help: 'Compacted logs the cleaner gave up on until restart', registers,
          collect: () => this.metrics?.uncleanable.set(this.uncleanable.size),
        }),
      };
    }
  }

  /** Starts the periodic cleaning. */
  start(): void {
    if (this.timer || this.stopped) return;
    const tick = (): void => {
      this.timer = null;
      if (this.stopped) return;
      this.running = this.cleanUntilNothingToDo().finally(() => {
        this.running = null;
        if (!this.stopped) this.timer = setTimeout(tick, this.o.backoffMs);
      });
    };
    this.timer = setTimeout(tick, this.o.backoffMs);
  }

  /** Stops after the current step; the checkpoint is written. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running?.catch(() => {});
    this.writeCheckpoint();
  }

  /** The cleaner checkpoint of a partition (tests, operators). */
  cleanedTo(topic: string, partition: number): number | undefined {
    return this.checkpoints.get(topicPartitionKey(topic, partition));
  }

  private async cleanUntilNothingToDo(): Promise<void> {
    // Keep going while some log is dirty enough (bounded, in case a cleaning cannot make
    // progress, e.g. retention keeps removing its segments); the backoff applies once none is.
    for (let i = 0; i < MAX_CLEANINGS_PER_TICK && !this.stopped; i++) {
      if ((await this.cleanOnce()) === null) break;
    }
  }

  /** Cleans the dirtiest eligible log, if any; null when there was nothing to do. */
  async cleanOnce(): Promise<CleaningReport | null> {
    const candidates: (CleanerCandidate & { log: Log })[] = [];
    let maxRatio = 0;
    for (const { topic, partition, log } of this.o.logs.partitions()) {
      const key = topicPartitionKey(topic, partition);
      const known = this.logOf.get(key);
      if (known !== undefined && known !== log) {
        this.checkpoints.delete(key);
        this.horizons.delete(key);
        this.uncleanable.delete(key);
      }
      this.logOf.set(key, log);
      if (log.isOffline || this.uncleanable.has(key) || !isCompacted(log.config)) continue;
      try {
        const stats = log.cleanableStats(this.checkpoints.get(key) ?? log.logStartOffset, this.o.highWatermark(topic, partition));
        maxRatio = Math.max(maxRatio, stats.dirtyRatio);
        candidates.push({ key, stats, log, minCleanableRatio: log.config['min.cleanable.dirty.ratio'], deleteHorizonMs: this.horizons.get(key) });
      } catch (err) {
        this.o.logger.warn('cannot size a compacted log for cleaning', { topic, partition, error: err });
      }
    }
    this.maxDirtyRatio = maxRatio;
    const chosen = selectLogToClean(candidates, this.clock()) as (CleanerCandidate & { log: Log }) | undefined;
    if (!chosen) return null;
    return this.clean(chosen.key, chosen.log, chosen.stats);
  }

  private async clean(key: string, log: Log, stats: CleanableStats): Promise<CleaningReport | null> {
    const { topic, partition } = splitKey(key);
    const started = performance.now();
    const upTo = this.o.highWatermark(topic, partition);
    try {
      const pass = log.startCleaning({
        firstDirtyOffset: stats.firstDirtyOffset,
        upTo,
        maxMapBytes: this.o.dedupeBufferBytes ?? DEFAULT_CLEANER_MAP_BYTES,
        stepBytes: this.o.stepBytes ?? DEFAULT_CLEANER_STEP_BYTES,
      });
      while (pass.step()) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (this.stopped) {
          pass.abort();
          return null;
        }
      }
      const seconds = (performance.now() - started) / 1000;
      const s = pass.stats;
      this.checkpoints.set(key, pass.cleanedTo);
      if (pass.nextDeleteHorizonMs === undefined) this.horizons.delete(key);
      else this.horizons.set(key, pass.nextDeleteHorizonMs);
      this.writeCheckpoint();
      const m = this.metrics;
      if (m) {
        m.runs.inc();
        m.bytesRead.inc(s.bytesRead);
        m.bytesWritten.inc(s.bytesWritten);
        m.recordsRemoved.inc(s.recordsRemoved);
        m.seconds.inc(seconds);
        m.lastRunSeconds.set(seconds);
      }
      const report: CleaningReport = {
        topic, partition, firstDirtyOffset: stats.firstDirtyOffset, cleanedTo: pass.cleanedTo, dirtyRatio: stats.dirtyRatio,
        passes: s.passes, bytesRead: s.bytesRead, bytesWritten: s.bytesWritten, recordsRemoved: s.recordsRemoved, seconds,
      };
      this.o.logger.info('log cleaned', { ...report, segmentsReplaced: s.segmentsReplaced, segmentsWritten: s.segmentsWritten, tombstonesRemoved: s.tombstonesRemoved });
      return report;
    } catch (err) {
      this.metrics?.errors.inc();
      if (err instanceof LogError && err.code === 'LOG_CLOSED') return null; // the partition went away meanwhile
      if (!log.isOffline) this.uncleanable.add(key);
      this.o.logger.error(log.isOffline ? 'log cleaning failed; log offline' : 'log cleaning failed; partition marked uncleanable until restart', { topic, partition, error: err });
      return null;
    }
  }

  private writeCheckpoint(): void {
    const live = new Set(this.o.logs.partitions().map((p) => topicPartitionKey(p.topic, p.partition)));
    for (const key of [...this.checkpoints.keys()]) if (!live.has(key)) this.checkpoints.delete(key);
    try {
      this.checkpointFile.write(this.checkpoints);
    } catch (err) {
      this.o.logger.error('writing the cleaner checkpoint failed', { error: err });
    }
  }
}
