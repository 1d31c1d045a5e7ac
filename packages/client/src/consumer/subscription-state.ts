// What the consumer holds per assigned partition (Kafka's SubscriptionState, for assignment by
// the application or, later, by a group coordinator layer): the fetch position (next offset and
// the leader epoch of the record before it), a pending offset reset, paused or not, and the
// latest high watermark and log start offset from fetches. Pure and synchronous.

import type { OffsetResetStrategy } from '../config/consumer-config.js';
import { ClientError } from '../client-error.js';
import { TopicPartitionMap, tpString, type TopicPartition } from '../topic-partition.js';

export interface FetchPosition {
  offset: number;
  /** Leader epoch of the last consumed record (-1 unknown); kept for truncation checks. */
  offsetEpoch: number;
}

export type ResetStrategy = 'earliest' | 'latest';

interface PartitionState {
  position: FetchPosition | null;
  /** A reset asked for (seekToBeginning/End, out of range) and not yet done. */
  reset: ResetStrategy | null;
  /** Don't retry the reset's ListOffsets before this. */
  resetRetryAtMs: number;
  resetFailures: number;
  paused: boolean;
  highWatermark: number;
  logStartOffset: number;
}

/** Partitions one consumer may be assigned at most. */
export const MAX_ASSIGNED_PARTITIONS = 100_000;

export class SubscriptionState {
  private readonly states = new TopicPartitionMap<PartitionState>();

  constructor(readonly defaultReset: OffsetResetStrategy) {}

  /**
   * Replaces the assignment. Partitions kept keep their position and pause state; new ones start
   * without a position. Returns what was added and removed.
   */
  assign(tps: readonly TopicPartition[]): { added: TopicPartition[]; removed: TopicPartition[] } {
    if (tps.length > MAX_ASSIGNED_PARTITIONS) {
      throw new ClientError('INVALID_ARGUMENT', `cannot assign ${tps.length} partitions (at most ${MAX_ASSIGNED_PARTITIONS})`);
    }
    const next = new TopicPartitionMap<true>();
    for (const tp of tps) next.set(tp, true);
    const removed = this.states.keys().filter((tp) => !next.has(tp));
    const added = next.keys().filter((tp) => !this.states.has(tp));
    for (const tp of removed) this.states.delete(tp);
    for (const tp of added) {
      this.states.set(tp, { position: null, reset: null, resetRetryAtMs: 0, resetFailures: 0, paused: false, highWatermark: -1, logStartOffset: -1 });
    }
    return { added, removed };
  }

  assignment(): TopicPartition[] {
    return this.states.keys();
  }

  isAssigned(tp: TopicPartition): boolean {
    return this.states.has(tp);
  }

  private state(tp: TopicPartition): PartitionState {
    const s = this.states.get(tp);
    if (!s) throw new ClientError('NOT_ASSIGNED', `No current assignment for partition ${tpString(tp)}`);
    return s;
  }

  position(tp: TopicPartition): FetchPosition | null {
    return this.state(tp).position;
  }

  /** Sets the next offset to fetch (seek, a committed offset, a finished reset, or consumption). */
  seek(tp: TopicPartition, offset: number, offsetEpoch = -1): void {
    const s = this.state(tp);
    s.position = { offset, offsetEpoch };
    s.reset = null;
    s.resetFailures = 0;
    s.resetRetryAtMs = 0;
  }

  /** Advances the position after records were handed out; only if it still is `expectedOffset`. */
  advance(tp: TopicPartition, expectedOffset: number, next: FetchPosition): boolean {
    const s = this.states.get(tp);
    if (!s || !s.position || s.position.offset !== expectedOffset) return false;
    s.position = next;
    return true;
  }

  /** Asks for a reset; the position is unknown until it is done. */
  requestReset(tp: TopicPartition, strategy: ResetStrategy): void {
    const s = this.state(tp);
    s.position = null;
    s.reset = strategy;
    s.resetRetryAtMs = 0;
    s.resetFailures = 0;
  }

  pendingReset(tp: TopicPartition): ResetStrategy | null {
    return this.states.get(tp)?.reset ?? null;
  }

  /** Partitions with neither a position nor a reset in progress (ask for committed offsets, or reset by default). */
  partitionsWithoutPosition(): TopicPartition[] {
    const out: TopicPartition[] = [];
    for (const [tp, s] of this.states) if (s.position === null && s.reset === null) out.push(tp);
    return out;
  }

  /** Partitions whose reset may be tried at `nowMs`. */
  partitionsToReset(nowMs: number): Array<{ tp: TopicPartition; strategy: ResetStrategy }> {
    const out: Array<{ tp: TopicPartition; strategy: ResetStrategy }> = [];
    for (const [tp, s] of this.states) if (s.reset !== null && nowMs >= s.resetRetryAtMs) out.push({ tp, strategy: s.reset });
    return out;
  }

  /** The earliest time a pending reset may be retried (Infinity: none waits). */
  nextResetRetryMs(): number {
    let at = Number.POSITIVE_INFINITY;
    for (const [, s] of this.states) if (s.reset !== null) at = Math.min(at, s.resetRetryAtMs);
    return at;
  }

  /** A reset's ListOffsets failed; retry after `backoffMs`. Returns the failure count. */
  resetFailed(tp: TopicPartition, retryAtMs: number): number {
    const s = this.states.get(tp);
    if (!s) return 0;
    s.resetRetryAtMs = retryAtMs;
    return ++s.resetFailures;
  }

  resetFailures(tp: TopicPartition): number {
    return this.states.get(tp)?.resetFailures ?? 0;
  }

  /** Completes a reset with its offset, unless the partition was seeked or reassigned meanwhile. */
  completeReset(tp: TopicPartition, strategy: ResetStrategy, offset: number, offsetEpoch = -1): boolean {
    const s = this.states.get(tp);
    if (!s || s.reset !== strategy) return false;
    this.seek(tp, offset, offsetEpoch);
    return true;
  }

  pause(tp: TopicPartition): void {
    this.state(tp).paused = true;
  }
  resume(tp: TopicPartition): void {
    this.state(tp).paused = false;
  }
  isPaused(tp: TopicPartition): boolean {
    return this.states.get(tp)?.paused ?? false;
  }
  paused(): TopicPartition[] {
    return this.states.keys().filter((tp) => this.states.get(tp)!.paused);
  }

  /** Assigned, not paused, with a position. */
  fetchablePartitions(): Array<{ tp: TopicPartition; position: FetchPosition }> {
    const out: Array<{ tp: TopicPartition; position: FetchPosition }> = [];
    for (const [tp, s] of this.states) if (!s.paused && s.position) out.push({ tp, position: s.position });
    return out;
  }

  updateFetchState(tp: TopicPartition, highWatermark: number, logStartOffset: number): void {
    const s = this.states.get(tp);
    if (!s) return;
    if (Number.isSafeInteger(highWatermark) && highWatermark >= 0) s.highWatermark = highWatermark;
    if (Number.isSafeInteger(logStartOffset) && logStartOffset >= 0) s.logStartOffset = logStartOffset;
  }

  /** High watermark minus position, once both are known (Kafka's currentLag). */
  lag(tp: TopicPartition): number | undefined {
    const s = this.state(tp);
    if (!s.position || s.highWatermark < 0) return undefined;
    return Math.max(0, s.highWatermark - s.position.offset);
  }

  highWatermark(tp: TopicPartition): number | undefined {
    const hw = this.state(tp).highWatermark;
    return hw < 0 ? undefined : hw;
  }
}
