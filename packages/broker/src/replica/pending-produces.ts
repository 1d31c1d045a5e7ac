// acks=all produce requests of one partition that wait for the high watermark (Kafka's produce
// purgatory, for one partition). A request is done when the high watermark reaches its required
// offset (its last offset + 1), when its deadline passes, or when this replica stops leading.
// Lifecycle: owned by a PartitionReplica, which bounds it by maxPendingProduces.

import type { KafkaError } from '@samsa/client';

export interface PendingProduce {
  readonly id: number;
  /** Done once the high watermark is >= this: the last offset of the request's records + 1. */
  readonly requiredOffset: number;
  readonly deadlineMs: number;
}

/** A finished acks=all request: `error` null means replicated to the ISR, answer with success. */
export interface ProduceCompletion {
  readonly id: number;
  readonly requiredOffset: number;
  readonly error: KafkaError | null;
}

export class PendingProduces {
  /** Sorted by requiredOffset (appends come in offset order, so inserts are at the end). */
  private waiting: PendingProduce[] = [];
  private earliestDeadlineMs = Number.POSITIVE_INFINITY;

  get size(): number {
    return this.waiting.length;
  }

  add(p: PendingProduce): void {
    let i = this.waiting.length;
    while (i > 0 && this.waiting[i - 1]!.requiredOffset > p.requiredOffset) i--;
    this.waiting.splice(i, 0, p);
    this.earliestDeadlineMs = Math.min(this.earliestDeadlineMs, p.deadlineMs);
  }

  /** Removes and returns every request with requiredOffset <= highWatermark. */
  takeReplicated(highWatermark: number): PendingProduce[] {
    let n = 0;
    while (n < this.waiting.length && this.waiting[n]!.requiredOffset <= highWatermark) n++;
    return n === 0 ? [] : this.waiting.splice(0, n);
  }

  /** Removes and returns every request whose deadline is <= nowMs. */
  takeExpired(nowMs: number): PendingProduce[] {
    if (nowMs < this.earliestDeadlineMs) return [];
    const expired = this.waiting.filter((p) => p.deadlineMs <= nowMs);
    this.waiting = this.waiting.filter((p) => p.deadlineMs > nowMs);
    this.earliestDeadlineMs = this.waiting.reduce((m, p) => Math.min(m, p.deadlineMs), Number.POSITIVE_INFINITY);
    return expired;
  }

  takeAll(): PendingProduce[] {
    const all = this.waiting;
    this.waiting = [];
    this.earliestDeadlineMs = Number.POSITIVE_INFINITY;
    return all;
  }
}
