// The leader-epoch cache of one partition replica: for each leader epoch, the first offset
// written under it. Replication uses it to answer OffsetForLeaderEpoch (where did epoch N end on
// this replica?) so that a follower truncates to the point where its log and the leader's agree.
// Persisted in the partition directory as `leader-epoch-checkpoint` (Kafka's format), rewritten
// atomically on every change; changes are rare (a new epoch, a truncation, retention).
//
// Invariant: epochs and start offsets both strictly increase along the entries. Lifecycle: owned
// by the partition's Log, which keeps it consistent with the segments (append assigns, truncation
// and retention trim); the replica logic reads it and may assign epochs on becoming leader.

import path from 'node:path';
import { CheckpointFile, type CheckpointFormat } from './checkpoint.js';
import { LogError } from './errors.js';
import { nodeFileIO, type FileIO } from './file-io.js';

export const LEADER_EPOCH_CHECKPOINT_FILE = 'leader-epoch-checkpoint';
export const UNDEFINED_EPOCH = -1;
export const UNDEFINED_EPOCH_OFFSET = -1;

export interface EpochEntry {
  readonly epoch: number;
  readonly startOffset: number;
}

/** OffsetForLeaderEpoch's answer: the epoch found and the offset where it ended. */
export type EpochEndOffset = readonly [epoch: number, endOffset: number];

const EPOCH_FORMAT: CheckpointFormat<EpochEntry> = {
  toLine: (e) => `${e.epoch} ${e.startOffset}`,
  fromLine: (line) => {
    const m = /^(\d+) (\d+)$/.exec(line);
    if (m === null) return undefined;
    const epoch = Number(m[1]);
    const startOffset = Number(m[2]);
    if (epoch > 0x7fff_ffff || !Number.isSafeInteger(startOffset)) return undefined;
    return { epoch, startOffset };
  },
};

function checkNonNegativeInt(name: string, v: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new LogError('INVALID_ARGUMENT', `${name} ${v} is not an integer in [0, ${max}]`);
}

export class LeaderEpochFileCache {
  private entries: EpochEntry[];

  private constructor(private readonly checkpoint: CheckpointFile<EpochEntry>, entries: EpochEntry[]) {
    this.entries = entries;
  }

  /** Loads `leader-epoch-checkpoint` from the partition directory (empty when absent). */
  static open(dir: string, io: FileIO = nodeFileIO): LeaderEpochFileCache {
    const checkpoint = new CheckpointFile(path.join(dir, LEADER_EPOCH_CHECKPOINT_FILE), EPOCH_FORMAT, io);
    const entries = checkpoint.read();
    for (let i = 1; i < entries.length; i++) {
      if (entries[i]!.epoch <= entries[i - 1]!.epoch || entries[i]!.startOffset <= entries[i - 1]!.startOffset) {
        throw new LogError('CORRUPT_CHECKPOINT', `${checkpoint.path}: entry ${i} does not increase epoch and start offset`);
      }
    }
    return new LeaderEpochFileCache(checkpoint, entries);
  }

  get path(): string {
    return this.checkpoint.path;
  }

  /** A copy of the entries, oldest first. */
  epochEntries(): EpochEntry[] {
    return this.entries.slice();
  }

  latestEntry(): EpochEntry | undefined {
    return this.entries[this.entries.length - 1];
  }

  latestEpoch(): number | undefined {
    return this.latestEntry()?.epoch;
  }

  earliestEntry(): EpochEntry | undefined {
    return this.entries[0];
  }

  /**
   * Records that `epoch` starts at `startOffset`. A stale epoch (below the latest) is ignored, as
   * is the latest epoch again at a later offset; returns whether the cache changed. Entries that
   * the new one contradicts (a start offset at or past the new one) are dropped, as in Kafka.
   */
  assign(epoch: number, startOffset: number): boolean {
    checkNonNegativeInt('leader epoch', epoch, 0x7fff_ffff);
    checkNonNegativeInt('start offset', startOffset);
    const latest = this.latestEntry();
    if (latest !== undefined) {
      if (epoch < latest.epoch) return false;
      if (epoch === latest.epoch && startOffset >= latest.startOffset) return false;
    }
    const kept = this.entries.filter((e) => e.epoch < epoch && e.startOffset < startOffset);
    this.replace([...kept, { epoch, startOffset }]);
    return true;
  }

  /** The epoch of the record at `offset`, or undefined when it precedes every entry. */
  epochForOffset(offset: number): number | undefined {
    let found: number | undefined;
    for (const e of this.entries) {
      if (e.startOffset > offset) break;
      found = e.epoch;
    }
    return found;
  }

  /**
   * OffsetForLeaderEpoch (Kafka semantics): for the requested epoch, the largest known epoch <=
   * it and the offset where that epoch ended, which is the next epoch's start offset, or the log
   * end offset when the requested epoch is the latest. [UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET]
   * when the requested epoch is undefined or newer than every known one. A requested epoch older
   * than every entry returns it with the first entry's start offset.
   */
  endOffsetFor(requestedEpoch: number, logEndOffset: number): EpochEndOffset {
    if (requestedEpoch === UNDEFINED_EPOCH) return [UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET];
    if (this.latestEpoch() === requestedEpoch) return [requestedEpoch, logEndOffset];
    const higher = this.entries.findIndex((e) => e.epoch > requestedEpoch);
    if (higher < 0) return [UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET];
    const endOffset = this.entries[higher]!.startOffset;
    return higher === 0 ? [requestedEpoch, endOffset] : [this.entries[higher - 1]!.epoch, endOffset];
  }

  /** The log was truncated to `endOffset` (exclusive): drop epochs that start at or after it. */
  truncateFromEnd(endOffset: number): void {
    const kept = this.entries.filter((e) => e.startOffset < endOffset);
    if (kept.length !== this.entries.length) this.replace(kept);
  }

  /**
   * The log now starts at `startOffset`: drop epochs wholly before it, and move the start of the
   * epoch that holds it up to it.
   */
  truncateFromStart(startOffset: number): void {
    const first = this.earliestEntry();
    if (first === undefined || first.startOffset >= startOffset) return;
    let holder = 0;
    while (holder + 1 < this.entries.length && this.entries[holder + 1]!.startOffset <= startOffset) holder++;
    this.replace([{ epoch: this.entries[holder]!.epoch, startOffset }, ...this.entries.slice(holder + 1)]);
  }

  /** Drops every entry (the log was emptied). */
  clear(): void {
    if (this.entries.length > 0) this.replace([]);
  }

  /** Persists first: memory never runs ahead of the checkpoint. */
  private replace(entries: EpochEntry[]): void {
    this.checkpoint.write(entries);
    this.entries = entries;
  }
}
