// The broker's log directory: one Log per partition replica in `<dir>/<topic>-<partition>/`,
// and the per-directory checkpoints (recovery points, high watermarks, log start offsets).
// Existing logs are opened (and recovered after a crash) at start; checkpoints are rewritten
// periodically and at close. Retention runs on a timer.

import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  LOG_START_OFFSET_CHECKPOINT_FILE, Log, OffsetCheckpointFile, RECOVERY_POINT_CHECKPOINT_FILE,
  REPLICATION_OFFSET_CHECKPOINT_FILE, topicPartitionKey, type LogConfig,
} from '@samsa/log';
import type { Logger } from '@samsa/coordinator';

export function partitionDirName(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

/** `<topic>-<partition>` back into its parts; undefined for anything else. */
export function parsePartitionDirName(name: string): { topic: string; partition: number } | undefined {
  const i = name.lastIndexOf('-');
  if (i <= 0) return undefined;
  const partition = Number(name.slice(i + 1));
  if (!Number.isInteger(partition) || partition < 0 || String(partition) !== name.slice(i + 1)) return undefined;
  return { topic: name.slice(0, i), partition };
}

export interface LogManagerOptions {
  dir: string;
  clock?: () => number;
  logger: Logger;
  /** Config for logs found on disk at start, before their topic's config is known. */
  defaultConfig: LogConfig;
}

/** Owned by the broker for its lifetime: open() at start, close() at shutdown. */
export class LogManager {
  private readonly logs = new Map<string, Log>();
  private readonly recoveryCheckpoint: OffsetCheckpointFile;
  private readonly hwCheckpoint: OffsetCheckpointFile;
  private readonly startCheckpoint: OffsetCheckpointFile;
  private recoveryPoints = new Map<string, number>();
  private logStartOffsets = new Map<string, number>();
  private highWatermarks = new Map<string, number>();
  /**
   * Logs whose topic config has arrived (getOrCreate). A log found on disk runs on the broker
   * default until then, and retention must not judge it by that: a compacted log
   * (__consumer_offsets) keeps live records in old segments that a default retention.ms would delete.
   */
  private readonly configured = new Set<string>();
  private readonly clock: () => number;

  constructor(private readonly options: LogManagerOptions) {
    mkdirSync(options.dir, { recursive: true });
    this.clock = options.clock ?? Date.now;
    this.recoveryCheckpoint = new OffsetCheckpointFile(join(options.dir, RECOVERY_POINT_CHECKPOINT_FILE));
    this.hwCheckpoint = new OffsetCheckpointFile(join(options.dir, REPLICATION_OFFSET_CHECKPOINT_FILE));
    this.startCheckpoint = new OffsetCheckpointFile(join(options.dir, LOG_START_OFFSET_CHECKPOINT_FILE));
  }

  /** Reads the checkpoints and opens every partition log on disk (recovering unclean ones). */
  open(): void {
    this.recoveryPoints = this.recoveryCheckpoint.read();
    this.highWatermarks = this.hwCheckpoint.read();
    this.logStartOffsets = this.startCheckpoint.read();
    for (const name of readdirSync(this.options.dir)) {
      if (name.endsWith('.delete')) {
        rmSync(join(this.options.dir, name), { recursive: true, force: true });
        continue;
      }
      const tp = parsePartitionDirName(name);
      if (!tp || !statSync(join(this.options.dir, name)).isDirectory()) continue;
      const started = this.clock();
      const log = this.openLog(tp.topic, tp.partition, this.options.defaultConfig);
      this.options.logger.info('loaded log', {
        topic: tp.topic, partition: tp.partition, logEndOffset: log.logEndOffset, ms: this.clock() - started,
        clean: log.loadReport.cleanShutdown,
      });
    }
  }

  private openLog(topic: string, partition: number, config: LogConfig): Log {
    const key = topicPartitionKey(topic, partition);
    const log = Log.open({
      dir: join(this.options.dir, partitionDirName(topic, partition)),
      config,
      clock: this.clock,
      recoveryPoint: this.recoveryPoints.get(key) ?? 0,
      logStartOffset: this.logStartOffsets.get(key) ?? 0,
      onLogStartOffsetChange: (offset) => {
        this.logStartOffsets.set(key, offset);
        this.startCheckpoint.write(this.logStartOffsets);
      },
    });
    this.logs.set(key, log);
    return log;
  }

  get(topic: string, partition: number): Log | undefined {
    return this.logs.get(topicPartitionKey(topic, partition));
  }

  getOrCreate(topic: string, partition: number, config: LogConfig): Log {
    this.configured.add(topicPartitionKey(topic, partition));
    const existing = this.get(topic, partition);
    if (existing) {
      existing.updateConfig(config);
      return existing;
    }
    return this.openLog(topic, partition, config);
  }

  /** The high watermark checkpointed for a partition (a follower's starting point after restart). */
  checkpointedHighWatermark(topic: string, partition: number): number | undefined {
    return this.highWatermarks.get(topicPartitionKey(topic, partition));
  }

  /** Partitions with a log on this broker. */
  partitions(): { topic: string; partition: number; log: Log }[] {
    return [...this.logs.entries()].map(([key, log]) => {
      const i = key.lastIndexOf('-');
      return { topic: key.slice(0, i), partition: Number(key.slice(i + 1)), log };
    });
  }

  /** Removes a partition's log (topic deleted or replica moved away): closed, renamed, then deleted. */
  delete(topic: string, partition: number): void {
    const key = topicPartitionKey(topic, partition);
    const log = this.logs.get(key);
    if (log) {
      this.logs.delete(key);
      try {
        log.close();
      } catch {
        // going away anyway
      }
    }
    const dir = join(this.options.dir, partitionDirName(topic, partition));
    if (existsSync(dir)) {
      const doomed = `${dir}.${this.clock()}.delete`;
      renameSync(dir, doomed);
      rmSync(doomed, { recursive: true, force: true });
    }
    this.configured.delete(key);
    this.recoveryPoints.delete(key);
    this.highWatermarks.delete(key);
    this.logStartOffsets.delete(key);
  }

  /** Writes the three checkpoints; `highWatermarks` comes from the replica manager. */
  checkpoint(highWatermarks: ReadonlyMap<string, number>): void {
    for (const [key, log] of this.logs) {
      if (!log.isOffline) {
        this.recoveryPoints.set(key, log.recoveryPoint);
        this.logStartOffsets.set(key, log.logStartOffset);
      }
    }
    for (const [key, hw] of highWatermarks) if (this.logs.has(key)) this.highWatermarks.set(key, hw);
    this.recoveryCheckpoint.write(this.recoveryPoints);
    this.startCheckpoint.write(this.logStartOffsets);
    this.hwCheckpoint.write(this.highWatermarks);
  }

  /** Retention on every log whose topic config is known, never past its high watermark. */
  applyRetention(highWatermark: (topic: string, partition: number) => number | undefined): void {
    for (const { topic, partition, log } of this.partitions()) {
      if (log.isOffline || !this.configured.has(topicPartitionKey(topic, partition))) continue;
      try {
        log.applyRetention(highWatermark(topic, partition));
      } catch (err) {
        this.options.logger.error('retention failed; log offline', { topic, partition, error: err });
      }
    }
  }

  maybeFlushAll(): void {
    for (const { log } of this.partitions()) if (!log.isOffline) log.maybeFlush();
  }

  /** Flushes and closes every log (clean-shutdown markers), then checkpoints. */
  close(highWatermarks: ReadonlyMap<string, number>): void {
    for (const [key, log] of this.logs) {
      try {
        log.close();
        this.recoveryPoints.set(key, log.recoveryPoint);
      } catch (err) {
        this.options.logger.error('closing log failed', { partition: key, error: err });
      }
    }
    for (const [key, hw] of highWatermarks) this.highWatermarks.set(key, hw);
    this.recoveryCheckpoint.write(this.recoveryPoints);
    this.startCheckpoint.write(this.logStartOffsets);
    this.hwCheckpoint.write(this.highWatermarks);
    this.logs.clear();
  }
}
