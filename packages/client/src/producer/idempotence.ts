// The idempotent producer's bookkeeping (the part of Kafka's TransactionManager that serves
// enable.idempotence without transactions). It holds the producer id and epoch from
// InitProducerId and, per partition, the next sequence to hand out, the last acknowledged one and
// the batches sent but not yet settled. A batch gets its sequence when first drained and keeps it
// through every retry, so the broker drops a duplicate of a batch it already wrote.
//
// Kafka's rules for sequence trouble (KIP-360), followed here:
//  - A retried batch waits until it is the lowest unsettled sequence of its partition; then it
//    goes (at most 5 requests in flight keep order, the broker caching the last 5 batches).
//  - OUT_OF_ORDER_SEQUENCE_NUMBER for a batch that is not the next expected one is retried: an
//    earlier batch failed and will be resent first. For the next expected batch it means a real
//    gap: the epoch is bumped and the partition's unsettled batches are renumbered from 0.
//  - UNKNOWN_PRODUCER_ID (the broker lost our state, e.g. retention removed it) bumps the epoch.
//  - A batch that failed after it may have been written (delivery timeout while sent) leaves its
//    partition "unresolved": new batches wait until the in-flight ones settle; if they do not
//    prove the sequence was written, the epoch is bumped.
//  - A batch the broker refused for good (not written) is a gap for later batches: bump.
// Epoch bumps happen here only while no produce request is on the wire, so no response can
// arrive for a renumbered batch. When the epoch would overflow, a new producer id is fetched.

import { KafkaError } from '../protocol/errors.js';
import { TopicPartitionMap, type TopicPartition } from '../topic-partition.js';
import { incrementSequence, type ProducerBatch } from './producer-batch.js';

export const NO_PRODUCER_ID = -1;
const MAX_EPOCH = 0x7fff;

/** Per-partition sequence state. */
class PartitionSequences {
  nextSequence = 0;
  lastAckedSequence = -1;
  lastAckedOffset = -1;
  /** Sequenced batches not yet settled, by sequence. */
  readonly inflight: ProducerBatch[] = [];

  constructor(
    public producerId: number,
    public producerEpoch: number,
  ) {}
}

export type EpochBumpOutcome = 'none' | 'waiting' | 'bumped' | 'needs-producer-id';

export class IdempotenceManager {
  private producerId = NO_PRODUCER_ID;
  private producerEpoch = -1;
  private readonly partitions = new TopicPartitionMap<PartitionSequences>();
  /** Partition → the highest sequence whose fate is unknown. */
  private readonly unresolved = new TopicPartitionMap<number>();
  private readonly toRewrite = new TopicPartitionMap<true>();
  private epochBumpRequired = false;

  get hasProducerId(): boolean {
    return this.producerId !== NO_PRODUCER_ID;
  }
  get identity(): { producerId: number; producerEpoch: number } {
    return { producerId: this.producerId, producerEpoch: this.producerEpoch };
  }
  get epochBumpPending(): boolean {
    return this.epochBumpRequired;
  }

  /** InitProducerId answered. Sequences restart at 0 per partition once its old batches settle. */
  setProducerIdAndEpoch(producerId: number, producerEpoch: number): void {
    if (!Number.isSafeInteger(producerId) || producerId < 0 || !Number.isInteger(producerEpoch) || producerEpoch < 0 || producerEpoch > MAX_EPOCH) {
      throw new KafkaError('UNKNOWN_SERVER_ERROR', `InitProducerId returned an invalid producer id ${producerId} / epoch ${producerEpoch}`);
    }
    this.producerId = producerId;
    this.producerEpoch = producerEpoch;
    if (this.epochBumpRequired) this.rewritePartitions();
  }

  private state(tp: TopicPartition): PartitionSequences {
    let s = this.partitions.get(tp);
    if (!s) {
      s = new PartitionSequences(this.producerId, this.producerEpoch);
      this.partitions.set(tp, s);
    }
    return s;
  }

  private isStale(s: PartitionSequences): boolean {
    return s.producerId !== this.producerId || s.producerEpoch !== this.producerEpoch;
  }

  /** Kafka's shouldStopDrainBatchesForPartition, inverted: may `first` (its partition's head) go now? */
  canDrain(first: ProducerBatch): boolean {
    if (!this.hasProducerId || this.epochBumpRequired) return false;
    const s = this.state(first.tp);
    if (!first.hasSequence) {
      // A new epoch's sequence 0 must not overtake the old epoch's unsettled batches.
      if (s.inflight.length > 0 && this.isStale(s)) return false;
      // While earlier sequences are of unknown fate, nothing new goes.
      if (this.unresolved.has(first.tp)) return false;
    }
    const lowest = s.inflight[0];
    // A retry goes only when it is the lowest unsettled sequence; later ones wait behind it.
    if (first.hasSequence && lowest !== undefined && lowest.baseSequence !== first.baseSequence) return false;
    return true;
  }

  /** Stamps producer id, epoch and the next sequence on a batch drained for the first time. */
  assignSequence(batch: ProducerBatch): void {
    if (batch.hasSequence) return;
    const s = this.state(batch.tp);
    if (this.isStale(s) && s.inflight.length === 0) {
      s.producerId = this.producerId;
      s.producerEpoch = this.producerEpoch;
      s.nextSequence = 0;
      s.lastAckedSequence = -1;
    }
    batch.setProducerState(s.producerId, s.producerEpoch, s.nextSequence);
    s.nextSequence = incrementSequence(s.nextSequence, batch.recordCount);
    this.insertInflight(s, batch);
  }

  private insertInflight(s: PartitionSequences, batch: ProducerBatch): void {
    let at = s.inflight.length;
    while (at > 0 && s.inflight[at - 1]!.baseSequence > batch.baseSequence) at--;
    s.inflight.splice(at, 0, batch);
  }

  private removeInflight(batch: ProducerBatch): void {
    const s = this.partitions.get(batch.tp);
    if (!s) return;
    const i = s.inflight.indexOf(batch);
    if (i >= 0) s.inflight.splice(i, 1);
  }

  /** A split batch's halves take its place (same sequence range). */
  replaceInflight(original: ProducerBatch, halves: ProducerBatch[]): void {
    this.removeInflight(original);
    if (!original.hasSequence) return;
    const s = this.state(original.tp);
    for (const h of halves) this.insertInflight(s, h);
  }

  /** Acknowledged (also for a batch that already failed locally: its sequence is now known). */
  onSuccess(batch: ProducerBatch, baseOffset: number): void {
    this.removeInflight(batch);
    if (!batch.hasSequence) return;
    const s = this.partitions.get(batch.tp);
    if (!s || s.producerId !== batch.producerId || s.producerEpoch !== batch.producerEpoch) return;
    if (batch.lastSequence > s.lastAckedSequence) s.lastAckedSequence = batch.lastSequence;
    if (baseOffset >= 0) s.lastAckedOffset = Math.max(s.lastAckedOffset, baseOffset + batch.recordCount - 1);
  }

  private isNextSequence(tp: TopicPartition, sequence: number): boolean {
    const s = this.partitions.get(tp);
    return s !== undefined && sequence - s.lastAckedSequence === 1;
  }

  private requestEpochBump(tp: TopicPartition): void {
    this.toRewrite.set(tp, true);
    this.epochBumpRequired = true;
  }

  /**
   * Kafka's TransactionManager.canRetry for the idempotent producer: whether a batch the broker
   * answered with `error` may be retried, requesting an epoch bump where the sequence state on
   * the broker is lost or has a gap. `logStartOffset` is the broker's, -1 if unknown.
   */
  canRetry(batch: ProducerBatch, error: KafkaError, logStartOffset: number): boolean {
    const tp = batch.tp;
    if (error.type === 'UNKNOWN_PRODUCER_ID') {
      if (logStartOffset === -1) return true;
      if (batch.sequenceHasBeenReset) return true;
      this.requestEpochBump(tp);
      return true;
    }
    if (error.type === 'OUT_OF_ORDER_SEQUENCE_NUMBER') {
      const unresolved = this.unresolved.get(tp);
      if (unresolved === undefined && (batch.sequenceHasBeenReset || !this.isNextSequence(tp, batch.baseSequence))) return true;
      if (unresolved === undefined || unresolved + 1 === batch.baseSequence) this.requestEpochBump(tp);
      return true;
    }
    return error.retriable;
  }

  /**
   * A batch failed for good. `mayHaveBeenWritten`: it was sent and its fate is unknown (it
   * expired while in flight, or ran out of retries), so its partition is unresolved; otherwise
   * the broker refused it and later sequences have a gap.
   */
  onFailure(batch: ProducerBatch, mayHaveBeenWritten: boolean): void {
    this.removeInflight(batch);
    if (!batch.hasSequence) return;
    const tp = batch.tp;
    if (mayHaveBeenWritten) {
      const prev = this.unresolved.get(tp);
      if (prev === undefined || batch.lastSequence > prev) this.unresolved.set(tp, batch.lastSequence);
    } else {
      this.requestEpochBump(tp);
    }
  }

  /**
   * Kafka's maybeResolveSequences: an unresolved partition with nothing left in flight is
   * resolved if everything handed out was acknowledged; otherwise its epoch is bumped.
   */
  maybeResolveSequences(): void {
    for (const [tp] of this.unresolved) {
      const s = this.partitions.get(tp);
      if (s && s.inflight.length > 0) continue;
      this.unresolved.delete(tp);
      if (s && !this.isNextSequence(tp, s.nextSequence)) this.requestEpochBump(tp);
    }
  }

  /**
   * Applies a requested epoch bump once nothing is on the wire (`wireIdle`): epoch + 1 and the
   * partitions that asked for it renumbered from 0. At the epoch limit a new producer id is needed
   * first ('needs-producer-id'; setProducerIdAndEpoch finishes the bump).
   */
  bumpEpochIfNeeded(wireIdle: boolean): EpochBumpOutcome {
    if (!this.epochBumpRequired) return 'none';
    if (!wireIdle) return 'waiting';
    if (!this.hasProducerId) return 'needs-producer-id';
    if (this.producerEpoch >= MAX_EPOCH) {
      this.producerId = NO_PRODUCER_ID;
      this.producerEpoch = -1;
      return 'needs-producer-id';
    }
    this.producerEpoch++;
    this.rewritePartitions();
    return 'bumped';
  }

  /** Kafka's startSequencesAtBeginning for every partition that asked for the bump. */
  private rewritePartitions(): void {
    for (const [tp] of this.toRewrite) {
      const s = this.state(tp);
      let sequence = 0;
      for (const b of s.inflight) {
        b.rewriteProducerState(this.producerId, this.producerEpoch, sequence);
        sequence = incrementSequence(sequence, b.recordCount);
      }
      s.producerId = this.producerId;
      s.producerEpoch = this.producerEpoch;
      s.nextSequence = sequence;
      s.lastAckedSequence = -1;
      this.unresolved.delete(tp);
    }
    this.toRewrite.clear();
    this.epochBumpRequired = false;
  }

  /** For tests and metrics: a partition's sequence state. */
  sequenceState(tp: TopicPartition): { producerId: number; producerEpoch: number; nextSequence: number; lastAckedSequence: number; inflight: number; unresolved: boolean } | undefined {
    const s = this.partitions.get(tp);
    if (!s) return undefined;
    return {
      producerId: s.producerId,
      producerEpoch: s.producerEpoch,
      nextSequence: s.nextSequence,
      lastAckedSequence: s.lastAckedSequence,
      inflight: s.inflight.length,
      unresolved: this.unresolved.has(tp),
    };
  }
}
