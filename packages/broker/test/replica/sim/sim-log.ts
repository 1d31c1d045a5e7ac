// An in-memory partition log for the replication simulation: just what the replica core's
// adapter needs from @samsa/log, with the same semantics. Batches of records with offsets and a
// partition leader epoch; an epoch cache with LeaderEpochFileCache's rules (assign drops the
// entries a newer epoch contradicts; truncation trims from the end); truncation by whole batch
// (so the log end may fall below the offset asked for); a flush point. A machine crash loses
// everything after the last flush; the epoch cache is a checkpoint written at every change, so
// it survives and recovery trims it to the log, as @samsa/log's recovery does.
//
// Lifecycle: one per simulated broker, for the whole run; it outlives crashes (it is the disk).

import type { EpochEntry } from '@samsa/log';

export interface SimBatch {
  readonly baseOffset: number;
  readonly epoch: number;
  readonly values: readonly string[];
}

/** A broken expectation of the log's own contract (e.g. a follower batch that does not start at the log end). */
export class SimLogError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SimLogError';
  }
}

export class SimLog {
  private batches: SimBatch[] = [];
  /** Flattened, by offset (the sim never deletes from the start). */
  private values: string[] = [];
  private epochs: number[] = [];
  private cache: EpochEntry[] = [];
  private flushedUpTo = 0;

  get logStartOffset(): number {
    return 0;
  }

  get logEndOffset(): number {
    return this.values.length;
  }

  get flushedOffset(): number {
    return this.flushedUpTo;
  }

  epochEntries(): readonly EpochEntry[] {
    return this.cache;
  }

  valueAt(offset: number): string | undefined {
    return this.values[offset];
  }

  epochAt(offset: number): number | undefined {
    return this.epochs[offset];
  }

  /** A leader's append: the records get the next offsets and the leader's epoch. */
  appendAsLeader(epoch: number, values: readonly string[]): { baseOffset: number; lastOffset: number } {
    const baseOffset = this.logEndOffset;
    this.appendBatch({ baseOffset, epoch, values: [...values] });
    return { baseOffset, lastOffset: baseOffset + values.length - 1 };
  }

  /** A follower's append of fetched batches, kept exactly as they are. */
  appendAsFollower(batches: readonly SimBatch[]): void {
    for (const b of batches) {
      if (b.baseOffset !== this.logEndOffset) {
        throw new SimLogError(`follower append of a batch at ${b.baseOffset}, but the log ends at ${this.logEndOffset}`);
      }
      this.appendBatch(b);
    }
  }

  private appendBatch(b: SimBatch): void {
    const latest = this.cache[this.cache.length - 1];
    if (latest === undefined || b.epoch > latest.epoch) this.assignEpochStart(b.epoch, b.baseOffset);
    this.batches.push(b);
    for (const v of b.values) {
      this.values.push(v);
      this.epochs.push(b.epoch);
    }
  }

  /** LeaderEpochFileCache.assign. */
  assignEpochStart(epoch: number, startOffset: number): boolean {
    const latest = this.cache[this.cache.length - 1];
    if (latest !== undefined) {
      if (epoch < latest.epoch) return false;
      if (epoch === latest.epoch && startOffset >= latest.startOffset) return false;
    }
    this.cache = [...this.cache.filter((e) => e.epoch < epoch && e.startOffset < startOffset), { epoch, startOffset }];
    return true;
  }

  /** Batches starting with the one that holds `fromOffset`, at most `maxBatches`. */
  read(fromOffset: number, maxBatches: number): SimBatch[] {
    let i = this.batches.length;
    while (i > 0 && this.batches[i - 1]!.baseOffset > fromOffset) i--;
    if (i > 0 && fromOffset < this.batches[i - 1]!.baseOffset + this.batches[i - 1]!.values.length) i--;
    return this.batches.slice(i, i + maxBatches);
  }

  /**
   * Log.truncateTo plus the epoch-cache trim the core's contract asks for: the batch holding
   * `offset` goes whole; the cache loses entries starting at or after the new end, even when
   * nothing was cut. Returns the new log end offset.
   */
  truncateTo(offset: number): number {
    if (offset < this.logEndOffset) {
      const endOf = (b: SimBatch): number => b.baseOffset + b.values.length;
      while (this.batches.length > 0 && endOf(this.batches[this.batches.length - 1]!) > offset) this.batches.pop();
      const end = this.batches.length === 0 ? 0 : endOf(this.batches[this.batches.length - 1]!);
      this.values.length = end;
      this.epochs.length = end;
      this.flushedUpTo = Math.min(this.flushedUpTo, end);
    }
    this.cache = this.cache.filter((e) => e.startOffset < this.logEndOffset);
    return this.logEndOffset;
  }

  flush(): void {
    this.flushedUpTo = this.logEndOffset;
  }

  /** A crash: `lossy` (power loss) drops what was not flushed. Recovery trims the epoch cache to the log. */
  crash(lossy: boolean): void {
    if (lossy) this.truncateTo(this.flushedUpTo);
    this.cache = this.cache.filter((e) => e.startOffset < this.logEndOffset);
  }
}
