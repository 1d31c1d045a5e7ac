// Checkpoint files in Kafka's text format: a version line, a count line, then one entry per line
// ("topic partition offset" for offset checkpoints, "epoch startOffset" for leader epochs).
// Every write goes to a temp file that is fsynced and renamed over the old one, then the directory
// is fsynced: a crash leaves the old checkpoint or the new one, never a torn one.

import path from 'node:path';
import { LogError } from './errors.js';
import { nodeFileIO, readWholeFile, writeFileAtomic, type FileIO } from './file-io.js';

export const CHECKPOINT_VERSION = 0;

/** Per log directory: the offset up to which each partition's log was flushed. */
export const RECOVERY_POINT_CHECKPOINT_FILE = 'recovery-point-offset-checkpoint';
/** Per log directory: each partition's high watermark. */
export const REPLICATION_OFFSET_CHECKPOINT_FILE = 'replication-offset-checkpoint';
/** Per log directory: each partition's log start offset (moved by retention and DeleteRecords). */
export const LOG_START_OFFSET_CHECKPOINT_FILE = 'log-start-offset-checkpoint';
/** Per log directory: each compacted partition's cleaner checkpoint (offsets below it are clean). */
export const CLEANER_OFFSET_CHECKPOINT_FILE = 'cleaner-offset-checkpoint';

export interface CheckpointFormat<T> {
  toLine(entry: T): string;
  /** The entry of a line, or undefined when the line is malformed. */
  fromLine(line: string): T | undefined;
}

function corrupt(file: string, why: string): LogError {
  return new LogError('CORRUPT_CHECKPOINT', `checkpoint ${file}: ${why}`);
}

/** A checkpoint file of entries of type T. Stateless apart from its path; reads and writes are whole-file. */
export class CheckpointFile<T> {
  constructor(
    readonly path: string,
    private readonly format: CheckpointFormat<T>,
    private readonly io: FileIO = nodeFileIO,
  ) {}

  /** The entries in the file; none when the file does not exist. CORRUPT_CHECKPOINT when it does not parse. */
  read(): T[] {
    const bytes = readWholeFile(this.io, this.path);
    if (bytes === undefined) return [];
    const lines = bytes.toString('utf8').split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    if (lines.length < 2) throw corrupt(this.path, `${lines.length} lines, expected a version and a count`);
    if (lines[0] !== String(CHECKPOINT_VERSION)) throw corrupt(this.path, `unknown version ${JSON.stringify(lines[0])}`);
    if (!/^\d+$/.test(lines[1]!)) throw corrupt(this.path, `bad entry count ${JSON.stringify(lines[1])}`);
    const count = Number(lines[1]);
    if (lines.length - 2 !== count) throw corrupt(this.path, `says ${count} entries, holds ${lines.length - 2}`);
    const entries: T[] = [];
    for (let i = 2; i < lines.length; i++) {
      const entry = this.format.fromLine(lines[i]!);
      if (entry === undefined) throw corrupt(this.path, `malformed line ${i + 1}: ${JSON.stringify(lines[i])}`);
      entries.push(entry);
    }
    return entries;
  }

  /** Replaces the file atomically and durably with `entries`. */
  write(entries: readonly T[]): void {
    const lines = [String(CHECKPOINT_VERSION), String(entries.length)];
    for (const e of entries) lines.push(this.format.toLine(e));
    writeFileAtomic(this.io, path.dirname(this.path), this.path, Buffer.from(lines.join('\n') + '\n', 'utf8'));
  }
}

function parseOffset(s: string | undefined): number | undefined {
  if (s === undefined || !/^\d+$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

/** `topic-partition`, the name of the partition's directory and the key of offset checkpoints. */
export function topicPartitionKey(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

/** Inverse of topicPartitionKey (topic names may contain '-': the partition is after the last one). */
export function parseTopicPartitionKey(key: string): TopicPartition {
  const dash = key.lastIndexOf('-');
  const partition = parseOffset(key.slice(dash + 1));
  if (dash <= 0 || partition === undefined || partition > 0x7fff_ffff) {
    throw new LogError('INVALID_ARGUMENT', `${JSON.stringify(key)} is not "topic-partition"`);
  }
  return { topic: key.slice(0, dash), partition };
}

interface TopicPartitionOffset {
  topic: string;
  partition: number;
  offset: number;
}

const OFFSET_FORMAT: CheckpointFormat<TopicPartitionOffset> = {
  toLine: (e) => `${e.topic} ${e.partition} ${e.offset}`,
  fromLine: (line) => {
    const parts = line.split(' ');
    if (parts.length !== 3 || parts[0] === '') return undefined;
    const partition = parseOffset(parts[1]);
    const offset = parseOffset(parts[2]);
    if (partition === undefined || partition > 0x7fff_ffff || offset === undefined) return undefined;
    return { topic: parts[0]!, partition, offset };
  },
};

/**
 * A per-log-directory offset checkpoint (recovery points, high watermarks or log start offsets)
 * for many partitions: a map from topicPartitionKey to offset. The broker owns one per file and
 * rewrites it whole, periodically and at shutdown.
 */
export class OffsetCheckpointFile {
  private readonly file: CheckpointFile<TopicPartitionOffset>;

  constructor(readonly path: string, io: FileIO = nodeFileIO) {
    this.file = new CheckpointFile(path, OFFSET_FORMAT, io);
  }

  read(): Map<string, number> {
    const out = new Map<string, number>();
    for (const e of this.file.read()) out.set(topicPartitionKey(e.topic, e.partition), e.offset);
    return out;
  }

  write(offsets: ReadonlyMap<string, number>): void {
    const entries: TopicPartitionOffset[] = [];
    for (const [key, offset] of offsets) {
      const { topic, partition } = parseTopicPartitionKey(key);
      if (/\s/.test(topic)) throw new LogError('INVALID_ARGUMENT', `topic ${JSON.stringify(topic)} contains whitespace`);
      if (!Number.isSafeInteger(offset) || offset < 0) {
        throw new LogError('INVALID_ARGUMENT', `offset ${offset} for ${key} is not a non-negative integer`);
      }
      entries.push({ topic, partition, offset });
    }
    this.file.write(entries);
  }
}
