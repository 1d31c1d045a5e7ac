// Per-partition queues of batches (Kafka's RecordAccumulator). Records are appended to the last
// open batch of their partition; a new batch takes batch.size bytes of buffer.memory (waiting for
// it when the buffer is full). The producer core asks which brokers have a sendable batch —
// full, lingered linger.ms, flushing, closing, or memory exhausted — and drains, per broker, at
// most one batch per partition into a request of at most max.request.size, round-robin over the
// partitions so none starves. Time is passed in; the accumulator has no timers.

import type { ProducerCompression } from '../config/producer-config.js';
import { TopicPartitionMap, tpKey, type TopicPartition } from '../topic-partition.js';
import type { BufferPool } from './buffer-pool.js';
import { ProducerBatch, type RecordDelivery } from './producer-batch.js';
import type { SerializedRecord } from './producer-record.js';
import { singleRecordBatchSize } from './record-size.js';

export interface AccumulatorOptions {
  batchSize: number;
  lingerMs: number;
  /** max.request.size: a batch is never opened larger than this either. */
  maxRequestSize: number;
  deliveryTimeoutMs: number;
  compression: ProducerCompression;
  pool: BufferPool;
}

/** Where a partition's batches go: its leader, or undefined while none is known. */
export interface LeaderLookup {
  leaderFor(topic: string, partition: number): { leader: number } | undefined;
}

export type AppendResult =
  | { appended: true; batch: ProducerBatch; newBatch: boolean }
  /** No room in the open batch, and the caller asked to hear that first (sticky partitioning). */
  | { appended: false };

export interface ReadyCheck {
  readyNodes: Set<number>;
  /** How long until some batch that is not ready now becomes ready (Infinity: none waits). */
  nextReadyCheckDelayMs: number;
  unknownLeaderTopics: Set<string>;
}

/** The accumulator and the producer core share one instance; the core decides when to drain. */
export class RecordAccumulator {
  private readonly queues = new TopicPartitionMap<ProducerBatch[]>();
  /** Per node: the partition (tpKey) the next drain starts at, so every partition gets its turn. */
  private readonly drainCursor = new Map<number, string>();
  /** Every batch created and not yet done, queued or in flight (what flush and close wait for). */
  private readonly incomplete = new Set<ProducerBatch>();
  private flushesInProgress = 0;
  private closing = false;
  private readonly writeLimit: number;

  constructor(private readonly options: AccumulatorOptions) {
    this.writeLimit = Math.max(1, Math.min(options.batchSize, options.maxRequestSize));
  }

  /** Memory a new batch for this record takes: batch.size, or the record's own batch if larger. */
  allocationFor(record: SerializedRecord): number {
    return Math.max(this.options.batchSize, singleRecordBatchSize(record.key, record.value, record.headers));
  }

  private deque(tp: TopicPartition): ProducerBatch[] {
    let q = this.queues.get(tp);
    if (!q) {
      q = [];
      this.queues.set(tp, q);
    }
    return q;
  }

  /** Appends to the partition's open batch if it has room; never allocates. */
  tryAppendToOpenBatch(tp: TopicPartition, record: SerializedRecord, timestamp: number, delivery: RecordDelivery): ProducerBatch | null {
    const q = this.queues.get(tp);
    const last = q?.[q.length - 1];
    if (last && last.tryAppend(record, timestamp, delivery)) return last;
    return null;
  }

  /**
   * Opens a new batch with `allocatedBytes` already taken from the pool and appends the record.
   * When an open batch has meanwhile got room (another append opened one), the record goes
   * there and the allocation is given back.
   */
  appendWithNewBatch(
    tp: TopicPartition,
    record: SerializedRecord,
    timestamp: number,
    delivery: RecordDelivery,
    allocatedBytes: number,
    nowMs: number,
  ): AppendResult {
    const existing = this.tryAppendToOpenBatch(tp, record, timestamp, delivery);
    if (existing) {
      this.options.pool.release(allocatedBytes);
      return { appended: true, batch: existing, newBatch: false };
    }
    const batch = new ProducerBatch({ topic: tp.topic, partition: tp.partition }, nowMs, allocatedBytes, this.writeLimit);
    if (!batch.tryAppend(record, timestamp, delivery)) throw new Error('accumulator: a new batch refused its first record');
    this.deque(tp).push(batch);
    this.incomplete.add(batch);
    return { appended: true, batch, newBatch: true };
  }

  /**
   * Which leaders have a batch to send now (Kafka's ready()). A batch is sendable when its
   * partition has more than one batch or it is full, it has lingered linger.ms (or waited out
   * its retry backoff), the buffer is exhausted, or a flush or close is in progress.
   */
  ready(nowMs: number, leaders: LeaderLookup, isMuted: (tp: TopicPartition) => boolean = () => false): ReadyCheck {
    const readyNodes = new Set<number>();
    const unknownLeaderTopics = new Set<string>();
    let next = Number.POSITIVE_INFINITY;
    const exhausted = this.options.pool.queued > 0;
    for (const [tp, q] of this.queues) {
      const first = q[0];
      if (!first) continue;
      const leader = leaders.leaderFor(tp.topic, tp.partition);
      if (!leader) {
        unknownLeaderTopics.add(tp.topic);
        continue;
      }
      if (readyNodes.has(leader.leader) || isMuted(tp)) continue;
      const backingOff = first.attempts > 0 && nowMs < first.retryAtMs;
      const readyAt = first.attempts > 0 ? first.retryAtMs : first.createdMs + this.options.lingerMs;
      const full = q.length > 1 || first.isFull;
      const expired = nowMs >= readyAt;
      const sendable = full || expired || exhausted || this.closing || this.flushesInProgress > 0;
      if (sendable && !backingOff) readyNodes.add(leader.leader);
      else next = Math.min(next, Math.max(0, readyAt - nowMs));
    }
    return { readyNodes, nextReadyCheckDelayMs: next, unknownLeaderTopics };
  }

  /**
   * Drains, for each ready node, the first batch of each partition it leads, round-robin from
   * where the last drain stopped, while the request stays within maxRequestSize (a single batch
   * larger than that still goes alone). `canDrain` lets idempotence hold a partition back;
   * `prepare` stamps a batch before it is encoded. Returns the closed batches per node.
   */
  drain(
    nowMs: number,
    leaders: LeaderLookup,
    nodes: Iterable<number>,
    maxRequestSize: number,
    hooks: { canDrain?: (batch: ProducerBatch) => boolean; prepare?: (batch: ProducerBatch) => void; isMuted?: (tp: TopicPartition) => boolean } = {},
  ): Map<number, ProducerBatch[]> {
    const byNode = new Map<number, Array<{ key: string; tp: TopicPartition; q: ProducerBatch[] }>>();
    for (const [tp, q] of this.queues) {
      if (q.length === 0) continue;
      const leader = leaders.leaderFor(tp.topic, tp.partition);
      if (!leader) continue;
      let list = byNode.get(leader.leader);
      if (!list) byNode.set(leader.leader, (list = []));
      list.push({ key: tpKey(tp.topic, tp.partition), tp, q });
    }
    const result = new Map<number, ProducerBatch[]>();
    for (const node of nodes) {
      const parts = byNode.get(node);
      if (!parts || parts.length === 0) continue;
      // A stable order, and a cursor into it, so a partition's turn survives queues coming and going.
      parts.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      const cursor = this.drainCursor.get(node);
      const found = cursor === undefined ? -1 : parts.findIndex((p) => p.key >= cursor);
      const start = found < 0 ? 0 : found;
      const ready: ProducerBatch[] = [];
      let size = 0;
      let i = 0;
      for (; i < parts.length; i++) {
        const { tp, q } = parts[(start + i) % parts.length]!;
        const first = q[0];
        if (!first || hooks.isMuted?.(tp)) continue;
        if (first.attempts > 0 && nowMs < first.retryAtMs) continue;
        if (ready.length > 0 && size + first.estimatedSizeBytes > maxRequestSize) break;
        if (hooks.canDrain && !hooks.canDrain(first)) continue;
        hooks.prepare?.(first);
        first.close(this.options.compression);
        first.drainedMs = nowMs;
        q.shift();
        size += first.estimatedSizeBytes;
        ready.push(first);
      }
      this.drainCursor.set(node, parts[(start + i) % parts.length]!.key);
      if (ready.length > 0) result.set(node, ready);
    }
    this.dropEmptyQueues();
    return result;
  }

  /** The batch is done (acknowledged or failed); it no longer counts as incomplete. */
  batchDone(batch: ProducerBatch): void {
    this.incomplete.delete(batch);
  }

  /** The batches not yet done, at this moment. */
  incompleteBatches(): ProducerBatch[] {
    return [...this.incomplete];
  }

  /**
   * Puts a batch back for a retry: in front of the partition's queue, or, when it carries a
   * sequence, at its place among the sequenced batches (Kafka's insertInSequenceOrder), so
   * retries leave in sequence order.
   */
  reenqueue(batch: ProducerBatch): void {
    if (!batch.isDone) this.incomplete.add(batch);
    const q = this.deque(batch.tp);
    if (!batch.hasSequence) {
      q.unshift(batch);
      return;
    }
    let at = 0;
    while (at < q.length && q[at]!.hasSequence && q[at]!.baseSequence < batch.baseSequence) at++;
    q.splice(at, 0, batch);
  }

  /** Removes and returns queued batches that reached delivery.timeout.ms. */
  expiredBatches(nowMs: number): ProducerBatch[] {
    const expired: ProducerBatch[] = [];
    for (const [, q] of this.queues) {
      for (let i = 0; i < q.length; ) {
        const b = q[i]!;
        if (nowMs >= b.createdMs + this.options.deliveryTimeoutMs) {
          q.splice(i, 1);
          expired.push(b);
        } else {
          i++;
        }
      }
    }
    this.dropEmptyQueues();
    return expired;
  }

  /** The earliest delivery deadline of a queued batch (Infinity when none). */
  nextExpiryMs(): number {
    let min = Number.POSITIVE_INFINITY;
    for (const [, q] of this.queues) for (const b of q) min = Math.min(min, b.createdMs + this.options.deliveryTimeoutMs);
    return min;
  }

  /** Removes and returns every queued batch (a forced close). */
  drainAll(): ProducerBatch[] {
    const all: ProducerBatch[] = [];
    for (const [, q] of this.queues) all.push(...q.splice(0));
    this.queues.clear();
    return all;
  }

  hasQueuedBatches(): boolean {
    for (const [, q] of this.queues) if (q.length > 0) return true;
    return false;
  }

  queuedBatches(tp: TopicPartition): readonly ProducerBatch[] {
    return this.queues.get(tp) ?? [];
  }

  beginFlush(): void {
    this.flushesInProgress++;
  }
  endFlush(): void {
    this.flushesInProgress = Math.max(0, this.flushesInProgress - 1);
  }
  /** From now on every batch is sendable at once (close). */
  beginClose(): void {
    this.closing = true;
  }

  private dropEmptyQueues(): void {
    for (const [tp, q] of this.queues) if (q.length === 0) this.queues.delete(tp);
  }
}
