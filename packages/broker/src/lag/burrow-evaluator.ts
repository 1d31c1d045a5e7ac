// Burrow-style consumer lag evaluation (samsa issue 6): a pure core the group coordinator feeds with
// the offsets a group commits and the log end offsets (LEO) of its partitions, and asks, at a given
// time, how each partition of a group is doing. No thresholds: the status comes from how commits and
// lag move over a sliding time window, as in LinkedIn Burrow's "Consumer Lag Evaluation Rules", with
// two of Burrow's known false alarms removed because the broker sees the LEO continuously.
//
// Terms (per group, topic, partition):
//   committed    the last committed offset; lag = max(0, LEO - committed) with the *current* LEO
//                (not the LEO when the commit arrived: a consumer that stops keeps its lag growing).
//   window       (nowMs - windowMs, nowMs]; "commits in the window" are commits made in it.
//   lag at commit  LEO known when the commit was recorded - offset; unknown when no LEO was known
//                yet or the known one is below the offset (stale): an unknown lag is never taken
//                for "caught up" (rule 4) and is left out of the trend (rule 6), so a group whose
//                first commits arrive before any LEO sample is not called OK for a whole window.
//   lag start    the time since which the LEO has been above the committed offset without a break
//                (from the LEO history kept per topic-partition).
//
// Rules, first match wins (Burrow's order, with the differences marked *):
//   1. lag = 0 now                                            → OK    (caught up, however long ago
//      the last commit was: an idle topic with a caught-up consumer is OK*)
//   2. a commit in the window went below the commit before it → REWIND
//   3. lag > 0 and no commit for longer than the window since lag began:
//      nowMs - max(last commit time, lag start) > windowMs    → STOP  (Burrow compares the silence to
//      the span of its last 10 commits, so a short burst of commits followed by a normal pause fires;
//      and it fires at once when records arrive on a topic whose consumer was caught up and quiet*)
//   4. a commit in the window was made with lag 0             → OK    (it caught up during the window)
//   5. two or more commits in the window, all of one offset   → STALL (committing, not moving)
//   6. two or more commits in the window, and the lag points (lag at each commit in the window, then
//      the lag now) never go down and end higher than they start → WARN (falling behind). Burrow also
//      warns on a lag that stays exactly flat, i.e. on a consumer keeping pace with a steady producer*.
//   7. otherwise                                              → OK
// A group's status: OK when every partition is OK, ERR when any is STOP, STALL or REWIND, else WARN.
// maxLag and totalLag are over its partitions' current lag.
//
// Default window: 5 minutes. Burrow's window is 10 commits, which is 10 minutes at its assumed
// 60 s commit interval, but depends on how often a group commits. Ours is time-based so every
// group is judged over the same span: 5 minutes is Kafka's default max.poll.interval.ms, after which
// a consumer that has not polled is removed from its group anyway, so a partition with lag and no
// commit for that long is not being consumed; and at Kafka's default 5 s auto-commit interval it holds
// 60 commits, enough for STALL and WARN to see a trend rather than one noisy pair.
//
// Bounds (explicit, never growth):
// - Commit samples per group-partition and LEO samples per topic-partition: at most
//   maxSamplesPerPartition in the window, plus one just before it. Samples closer together than
//   a bucket, windowMs / (maxSamplesPerPartition - 1), are merged: a newer commit replaces the
//   newest sample, a newer LEO extends it; past the cap the oldest commit sample goes (the window
//   then holds the latest maxSamplesPerPartition + 1 commits). So a group committing every 100 ms is
//   judged on about one commit per bucket, and lag start is known to within one bucket (erring late, so STOP never fires early). A REWIND is
//   detected when the commit arrives, so merging cannot hide one.
// - Tracked group-partitions and tracked topic-partitions: at most maxPartitions each. A commit or
//   LEO for a new one beyond that is refused and counted (stats().refusedCommits /
//   refusedLogEndOffsets); what is tracked keeps working. forgetGroup / forgetPartition free room.
// Bad input (a non-integer or negative offset or partition, an empty id, a time that is not an
// integer or goes below the latest time seen) throws LagEvaluatorError with a stable code and changes
// nothing. A committed offset above the known LEO means the LEO is stale: the lag is 0. A partition
// whose LEO was never recorded reports logEndOffset -1 and lag 0.

export type PartitionLagStatus = 'OK' | 'WARN' | 'STALL' | 'STOP' | 'REWIND';
export type GroupLagStatus = 'OK' | 'WARN' | 'ERR';

/** For metrics: a gauge per status, ordered by severity (Burrow's numbering starts OK at 1 too). */
export const PARTITION_LAG_STATUS_SEVERITY: Readonly<Record<PartitionLagStatus, number>> = { OK: 1, WARN: 2, STALL: 3, STOP: 4, REWIND: 5 };
export const GROUP_LAG_STATUS_SEVERITY: Readonly<Record<GroupLagStatus, number>> = { OK: 1, WARN: 2, ERR: 3 };

export interface BurrowEvaluatorConfig {
  /** The sliding window, ms. Default 300_000 (Kafka's max.poll.interval.ms). */
  windowMs: number;
  /** Samples kept per partition inside the window (commits per group-partition, LEOs per topic-partition). Default 60. */
  maxSamplesPerPartition: number;
  /** Group-partitions tracked, and separately topic-partitions tracked. Default 10_000. */
  maxPartitions: number;
}

export const DEFAULT_BURROW_EVALUATOR_CONFIG: Readonly<BurrowEvaluatorConfig> = {
  windowMs: 300_000,
  maxSamplesPerPartition: 60,
  maxPartitions: 10_000,
};

// Codes are stable: add codes, never rename one.
export type LagEvaluatorErrorCode =
  | 'INVALID_CONFIG' // a config value out of range
  | 'INVALID_ARGUMENT' // an empty group id or topic, a partition that is not a non-negative int32
  | 'INVALID_OFFSET' // an offset or log end offset that is not a non-negative safe integer
  | 'INVALID_TIME' // nowMs that is not a non-negative safe integer
  | 'TIME_WENT_BACKWARDS'; // nowMs below the latest nowMs this evaluator has seen

export class LagEvaluatorError extends Error {
  constructor(
    readonly code: LagEvaluatorErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'LagEvaluatorError';
  }
}

export interface PartitionLagEvaluation {
  topic: string;
  partition: number;
  committedOffset: number;
  /** -1 when no LEO was ever recorded for the partition. */
  logEndOffset: number;
  lag: number;
  status: PartitionLagStatus;
  commitTimestampMs: number;
}

export interface GroupLagEvaluation {
  status: GroupLagStatus;
  maxLag: number;
  totalLag: number;
  /** Sorted by topic, then partition. */
  partitions: PartitionLagEvaluation[];
}

export interface BurrowEvaluatorStats {
  trackedGroupPartitions: number;
  trackedLogEndOffsets: number;
  refusedCommits: number;
  refusedLogEndOffsets: number;
}

interface CommitSample {
  offset: number;
  timeMs: number;
  /** null: no LEO known at or above the offset when the commit was recorded. */
  lagAtCommit: number | null;
}

interface CommitTrack {
  topic: string;
  partition: number;
  /** Oldest first; the newest is the last commit. Never empty. */
  samples: CommitSample[];
  /** Time of the latest commit that went below the commit before it; -Infinity if none. */
  lastRewindMs: number;
}

/** Observations of a partition's LEO between fromMs and toMs (merged within one bucket). */
interface LeoSample {
  fromMs: number;
  fromLeo: number;
  toMs: number;
  toLeo: number;
}

const INT32_MAX = 0x7fff_ffff;
const NO_REWIND = Number.NEGATIVE_INFINITY;

export class BurrowEvaluator {
  private readonly config: BurrowEvaluatorConfig;
  /** Samples closer together than this are merged. */
  private readonly bucketMs: number;
  /** groupId → "topic\u0000partition" → track. */
  private readonly commits = new Map<string, Map<string, CommitTrack>>();
  private trackedGroupPartitions = 0;
  /** "topic\u0000partition" → LEO history, oldest first, never empty. */
  private readonly logEndOffsets = new Map<string, LeoSample[]>();
  private refusedCommits = 0;
  private refusedLogEndOffsets = 0;
  private latestNowMs = 0;

  constructor(config?: Partial<BurrowEvaluatorConfig>) {
    const c: BurrowEvaluatorConfig = { ...DEFAULT_BURROW_EVALUATOR_CONFIG, ...config };
    checkConfig('windowMs', c.windowMs, 1_000);
    checkConfig('maxSamplesPerPartition', c.maxSamplesPerPartition, 2);
    checkConfig('maxPartitions', c.maxPartitions, 1);
    this.config = c;
    // Samples at least this far apart: at most maxSamplesPerPartition of them fit in a window.
    this.bucketMs = Math.ceil(c.windowMs / (c.maxSamplesPerPartition - 1));
  }

  recordCommit(groupId: string, topic: string, partition: number, offset: number, nowMs: number): void {
    checkName('groupId', groupId);
    checkName('topic', topic);
    checkPartition(partition);
    checkOffset('offset', offset);
    this.advanceTime(nowMs);

    const key = partitionKey(topic, partition);
    let group = this.commits.get(groupId);
    let track = group?.get(key);
    const knownLeo = this.logEndOffsets.has(key) ? this.currentLogEndOffset(key) : -1;
    const lagAtCommit = knownLeo >= offset ? knownLeo - offset : null;
    const sample: CommitSample = { offset, timeMs: nowMs, lagAtCommit };
    if (track === undefined) {
      if (this.trackedGroupPartitions >= this.config.maxPartitions) {
        this.refusedCommits++;
        return;
      }
      if (group === undefined) {
        group = new Map();
        this.commits.set(groupId, group);
      }
      track = { topic, partition, samples: [sample], lastRewindMs: NO_REWIND };
      group.set(key, track);
      this.trackedGroupPartitions++;
      return;
    }

    const samples = track.samples;
    const newest = samples[samples.length - 1]!;
    if (offset < newest.offset) track.lastRewindMs = nowMs;
    const previous = samples.length >= 2 ? samples[samples.length - 2]! : undefined;
    // Replace the newest sample while the one before it is less than a bucket old (deciding on the
    // newest itself would let a fast committer replace it forever); pruneCommits caps the rest.
    if (previous !== undefined && nowMs - previous.timeMs < this.bucketMs) samples[samples.length - 1] = sample;
    else samples.push(sample);
    pruneCommits(samples, nowMs, this.config);
  }

  recordLogEndOffset(topic: string, partition: number, logEndOffset: number, nowMs: number): void {
    checkName('topic', topic);
    checkPartition(partition);
    checkOffset('logEndOffset', logEndOffset);
    this.advanceTime(nowMs);

    const key = partitionKey(topic, partition);
    const history = this.logEndOffsets.get(key);
    if (history === undefined) {
      if (this.logEndOffsets.size >= this.config.maxPartitions) {
        this.refusedLogEndOffsets++;
        return;
      }
      this.logEndOffsets.set(key, [{ fromMs: nowMs, fromLeo: logEndOffset, toMs: nowMs, toLeo: logEndOffset }]);
      return;
    }
    const newest = history[history.length - 1]!;
    if (nowMs - newest.fromMs < this.bucketMs) {
      newest.toMs = nowMs;
      newest.toLeo = logEndOffset;
    } else {
      history.push({ fromMs: nowMs, fromLeo: logEndOffset, toMs: nowMs, toLeo: logEndOffset });
    }
    pruneLogEndOffsets(history, nowMs, this.config);
  }

  evaluate(groupId: string, nowMs: number): GroupLagEvaluation {
    checkName('groupId', groupId);
    this.advanceTime(nowMs);
    const tracks = [...(this.commits.get(groupId)?.values() ?? [])];
    tracks.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));

    const partitions = tracks.map((t) => this.evaluatePartition(t, nowMs));
    let maxLag = 0;
    let totalLag = 0;
    let status: GroupLagStatus = 'OK';
    for (const p of partitions) {
      maxLag = Math.max(maxLag, p.lag);
      totalLag += p.lag;
      if (p.status === 'STOP' || p.status === 'STALL' || p.status === 'REWIND') status = 'ERR';
      else if (p.status === 'WARN' && status === 'OK') status = 'WARN';
    }
    return { status, maxLag, totalLag, partitions };
  }

  /** Group ids with at least one tracked partition, sorted. */
  groups(): string[] {
    return [...this.commits.keys()].sort();
  }

  forgetGroup(groupId: string): void {
    const group = this.commits.get(groupId);
    if (group === undefined) return;
    this.trackedGroupPartitions -= group.size;
    this.commits.delete(groupId);
  }

  /**
   * Forgets one partition of a group (its committed offset was deleted, or the topic was). The
   * partition's LEO history is shared by every group and is kept; it is dropped by
   * forgetLogEndOffset when the topic is gone.
   */
  forgetPartition(groupId: string, topic: string, partition: number): void {
    const group = this.commits.get(groupId);
    if (group === undefined || !group.delete(partitionKey(topic, partition))) return;
    this.trackedGroupPartitions--;
    if (group.size === 0) this.commits.delete(groupId);
  }

  /** Forgets a partition's LEO history (the topic was deleted, or this broker no longer leads it). */
  forgetLogEndOffset(topic: string, partition: number): void {
    this.logEndOffsets.delete(partitionKey(topic, partition));
  }

  stats(): BurrowEvaluatorStats {
    return {
      trackedGroupPartitions: this.trackedGroupPartitions,
      trackedLogEndOffsets: this.logEndOffsets.size,
      refusedCommits: this.refusedCommits,
      refusedLogEndOffsets: this.refusedLogEndOffsets,
    };
  }

  private evaluatePartition(track: CommitTrack, nowMs: number): PartitionLagEvaluation {
    const key = partitionKey(track.topic, track.partition);
    const history = this.logEndOffsets.get(key);
    const last = track.samples[track.samples.length - 1]!;
    const logEndOffset = history === undefined ? -1 : history[history.length - 1]!.toLeo;
    const lag = Math.max(0, logEndOffset - last.offset);
    const status = this.partitionStatus(track, history, lag, nowMs);
    return {
      topic: track.topic,
      partition: track.partition,
      committedOffset: last.offset,
      logEndOffset,
      lag,
      status,
      commitTimestampMs: last.timeMs,
    };
  }

  private partitionStatus(track: CommitTrack, history: LeoSample[] | undefined, lag: number, nowMs: number): PartitionLagStatus {
    // Rule 1: caught up now.
    if (lag === 0 || history === undefined) return 'OK';
    const windowStartMs = nowMs - this.config.windowMs;
    // Rule 2: went backwards within the window.
    if (track.lastRewindMs > windowStartMs) return 'REWIND';
    // Rule 3: silent for longer than the window while behind.
    const last = track.samples[track.samples.length - 1]!;
    const behindSinceMs = Math.max(last.timeMs, lagStartMs(history, last.offset, nowMs));
    if (nowMs - behindSinceMs > this.config.windowMs) return 'STOP';

    const inWindow = track.samples.filter((s) => s.timeMs > windowStartMs);
    // Rule 4: caught up at some commit in the window.
    if (inWindow.some((s) => s.lagAtCommit === 0)) return 'OK';
    if (inWindow.length < 2) return 'OK';
    // Rule 5: committing, not moving.
    if (inWindow.every((s) => s.offset === inWindow[0]!.offset)) return 'STALL';
    // Rule 6: lag never goes down over the window, and grew.
    const known = inWindow.flatMap((s) => (s.lagAtCommit === null ? [] : [s.lagAtCommit]));
    if (known.length < 2) return 'OK';
    const lags = [...known, lag];
    let neverDown = true;
    for (let i = 1; i < lags.length && neverDown; i++) if (lags[i]! < lags[i - 1]!) neverDown = false;
    if (neverDown && lags[lags.length - 1]! > lags[0]!) return 'WARN';
    return 'OK';
  }

  private currentLogEndOffset(key: string): number {
    const history = this.logEndOffsets.get(key);
    return history === undefined ? -1 : history[history.length - 1]!.toLeo;
  }

  private advanceTime(nowMs: number): void {
    if (typeof nowMs !== 'number' || !Number.isSafeInteger(nowMs) || nowMs < 0) {
      throw new LagEvaluatorError('INVALID_TIME', `nowMs ${String(nowMs)} is not a non-negative integer time in ms`);
    }
    if (nowMs < this.latestNowMs) {
      throw new LagEvaluatorError('TIME_WENT_BACKWARDS', `nowMs ${nowMs} is below the latest time seen, ${this.latestNowMs}`);
    }
    this.latestNowMs = nowMs;
  }
}

/**
 * The earliest time since which the LEO has stayed above `offset`, as far as the history tells; erring
 * late where a merged sample hides the exact moment. When the whole history is above it, the oldest
 * sample's time (pruning keeps one sample from before the window, so that is enough to call STOP).
 */
function lagStartMs(history: LeoSample[], offset: number, nowMs: number): number {
  let start = nowMs;
  for (let i = history.length - 1; i >= 0; i--) {
    const s = history[i]!;
    if (s.toLeo <= offset) break;
    if (s.fromLeo > offset) {
      start = s.fromMs;
      continue;
    }
    start = s.toMs; // crossed inside the sample: the latest moment it can have happened
    break;
  }
  return start;
}

/** Drops commits older than the window except the newest of them (the anchor), and caps the count. */
function pruneCommits(samples: CommitSample[], nowMs: number, config: BurrowEvaluatorConfig): void {
  const windowStartMs = nowMs - config.windowMs;
  while (samples.length > 1 && samples[1]!.timeMs <= windowStartMs) samples.shift();
  // Merging keeps samples a bucket apart, so this only bites on a clock that jumped; it is the bound.
  while (samples.length > config.maxSamplesPerPartition + 1) samples.shift();
}

function pruneLogEndOffsets(history: LeoSample[], nowMs: number, config: BurrowEvaluatorConfig): void {
  const windowStartMs = nowMs - config.windowMs;
  while (history.length > 1 && history[1]!.fromMs < windowStartMs) history.shift();
  while (history.length > config.maxSamplesPerPartition + 1) history.shift();
}

function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

function checkConfig(name: keyof BurrowEvaluatorConfig, v: unknown, min: number): void {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw new LagEvaluatorError('INVALID_CONFIG', `${name} ${String(v)} is not an integer >= ${min}`);
  }
}

function checkName(name: string, v: unknown): void {
  if (typeof v !== 'string' || v.length === 0) throw new LagEvaluatorError('INVALID_ARGUMENT', `${name} ${JSON.stringify(v)} is not a non-empty string`);
}

function checkPartition(v: unknown): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > INT32_MAX) {
    throw new LagEvaluatorError('INVALID_ARGUMENT', `partition ${String(v)} is not a non-negative int32`);
  }
}

function checkOffset(name: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new LagEvaluatorError('INVALID_OFFSET', `${name} ${String(v)} is not a non-negative safe integer`);
  }
}
