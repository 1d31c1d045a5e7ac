// One partition's batch of records on its way to the broker. Lifecycle: open (records are
// appended while it has room) → closed (encoded into a v2 batch when drained; retries resend the
// same bytes, so the broker sees the same producer id, epoch and sequence) → done (acknowledged
// or failed, every record's promise settled exactly once). Owned by the RecordAccumulator while
// queued and by the producer core while in flight.

import {
  BATCH_HEADER_SIZE, NO_SEQUENCE, OFFSET_BASE_SEQUENCE, OFFSET_CRC, OFFSET_PRODUCER_EPOCH, OFFSET_PRODUCER_ID,
  computeBatchCrc, decodeBatch, encodeBatch, type RecordInput,
} from '@samsa/log';
import type { TopicPartition } from '../topic-partition.js';
import type { ProducerCompression } from '../config/producer-config.js';
import type { RecordMetadata, SerializedRecord } from './producer-record.js';
import { recordSizeInBatch } from './record-size.js';

export interface RecordDelivery {
  resolve(meta: RecordMetadata): void;
  reject(err: Error): void;
}

const INT_MAX = 0x7fff_ffff;

/** Kafka's DefaultRecordBatch.incrementSequence: sequences wrap from INT_MAX to 0. */
export function incrementSequence(sequence: number, increment: number): number {
  if (sequence > INT_MAX - increment) return increment - (INT_MAX - sequence) - 1;
  return sequence + increment;
}

export class ProducerBatch {
  readonly tp: TopicPartition;
  readonly createdMs: number;
  /** Bytes of buffer.memory this batch holds; given back once, when it is done. */
  allocatedBytes: number;
  private records: RecordInput[] | null = [];
  private readonly deliveries: RecordDelivery[] = [];
  private readonly timestamps: number[] = [];
  private sizeBytes = BATCH_HEADER_SIZE;
  private encoded: Buffer | null = null;
  /** Takes no more records (the halves of a split batch). */
  private sealed = false;
  private _done = false;
  private doneWaiters: Array<() => void> | null = null;

  /** Times the batch went back to the queue after a failed attempt. */
  attempts = 0;
  /** Not sendable before this time (retry backoff). */
  retryAtMs = 0;
  /** When it was last drained into a request (queue time ends here). */
  drainedMs = -1;
  /** Sent at least once: its fate on the broker may be unknown after a failure. */
  everSent = false;

  producerId = -1;
  producerEpoch = -1;
  baseSequence = NO_SEQUENCE;
  /** Its sequence was rewritten by an epoch bump (Kafka's sequenceHasBeenReset). */
  sequenceHasBeenReset = false;

  constructor(tp: TopicPartition, createdMs: number, allocatedBytes: number, private readonly writeLimit: number) {
    this.tp = tp;
    this.createdMs = createdMs;
    this.allocatedBytes = allocatedBytes;
  }

  get recordCount(): number {
    return this.timestamps.length;
  }
  get estimatedSizeBytes(): number {
    return this.encoded ? this.encoded.length : this.sizeBytes;
  }
  get isClosed(): boolean {
    return this.encoded !== null;
  }
  get isDone(): boolean {
    return this._done;
  }
  get hasSequence(): boolean {
    return this.baseSequence !== NO_SEQUENCE;
  }
  get lastSequence(): number {
    return incrementSequence(this.baseSequence, this.recordCount - 1);
  }
  /** Kafka's isFull: no more room below the write limit (batch.size). */
  get isFull(): boolean {
    return this.encoded !== null || this.sealed || (this.recordCount > 0 && this.sizeBytes >= this.writeLimit);
  }

  /**
   * Appends the record if the batch is open and has room (the first record always fits).
   * Returns false when it does not fit.
   */
  tryAppend(record: SerializedRecord, timestamp: number, delivery: RecordDelivery): boolean {
    if (this.encoded !== null || this.sealed || this.records === null) return false;
    const delta = this.recordCount === 0 ? 0 : timestamp - this.timestamps[0]!;
    const size = recordSizeInBatch(this.recordCount, delta, record.key, record.value, record.headers);
    if (this.recordCount > 0 && this.sizeBytes + size > this.writeLimit) return false;
    this.records.push({ key: record.key, value: record.value, headers: record.headers, timestamp });
    this.timestamps.push(timestamp);
    this.deliveries.push(delivery);
    this.sizeBytes += size;
    return true;
  }

  /** Stamps the idempotent producer's identity; done before the batch is first encoded. */
  setProducerState(producerId: number, producerEpoch: number, baseSequence: number): void {
    if (this.encoded !== null) {
      this.rewriteProducerState(producerId, producerEpoch, baseSequence);
      return;
    }
    this.producerId = producerId;
    this.producerEpoch = producerEpoch;
    this.baseSequence = baseSequence;
  }

  /**
   * After an epoch bump: new epoch and sequence for a batch that may already be encoded. The
   * fields sit inside the CRC, so it is recomputed.
   */
  rewriteProducerState(producerId: number, producerEpoch: number, baseSequence: number): void {
    this.producerId = producerId;
    this.producerEpoch = producerEpoch;
    this.baseSequence = baseSequence;
    this.sequenceHasBeenReset = true;
    const buf = this.encoded;
    if (buf === null) return;
    buf.writeBigInt64BE(BigInt(producerId), OFFSET_PRODUCER_ID);
    buf.writeInt16BE(producerEpoch, OFFSET_PRODUCER_EPOCH);
    buf.writeInt32BE(baseSequence, OFFSET_BASE_SEQUENCE);
    buf.writeUInt32BE(computeBatchCrc(buf, 0, buf.length), OFFSET_CRC);
  }

  /** Encodes the batch (once); later calls return the same bytes. */
  close(compression: ProducerCompression): Buffer {
    if (this.encoded) return this.encoded;
    if (this.records === null || this.records.length === 0) throw new Error('producer batch: closing an empty batch');
    this.encoded = encodeBatch({
      records: this.records,
      compression,
      producerId: BigInt(this.producerId),
      producerEpoch: this.producerEpoch,
      baseSequence: this.baseSequence,
    });
    // The bytes now hold the records; keeping both would count the memory twice.
    this.records = null;
    return this.encoded;
  }

  /**
   * Splits the batch in two halves by record count (the broker refused it as too large). The
   * halves keep the order, deliveries and, when set, the sequence range; the first half carries
   * the memory allocation, and neither takes more records. Needs at least two records.
   */
  split(): [ProducerBatch, ProducerBatch] {
    const records: RecordInput[] = this.records ?? decodeBatch(this.encoded!).records.map((r) => ({
      key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp,
    }));
    if (records.length < 2) throw new Error('producer batch: cannot split a batch of one record');
    const half = Math.ceil(records.length / 2);
    const first = new ProducerBatch(this.tp, this.createdMs, this.allocatedBytes, Number.MAX_SAFE_INTEGER);
    const second = new ProducerBatch(this.tp, this.createdMs, 0, Number.MAX_SAFE_INTEGER);
    for (let i = 0; i < records.length; i++) {
      const target = i < half ? first : second;
      const r = records[i]!;
      const ok = target.forceAppend(r, this.timestamps[i]!, this.deliveries[i]!);
      if (!ok) throw new Error('producer batch: split lost a record');
    }
    for (const b of [first, second]) {
      b.sealed = true;
      b.attempts = this.attempts;
      b.everSent = false;
      b.retryAtMs = this.retryAtMs;
    }
    if (this.hasSequence) {
      first.setProducerState(this.producerId, this.producerEpoch, this.baseSequence);
      second.setProducerState(this.producerId, this.producerEpoch, incrementSequence(this.baseSequence, first.recordCount));
    }
    this.allocatedBytes = 0;
    this.markDone();
    return [first, second];
  }

  private forceAppend(r: RecordInput, timestamp: number, delivery: RecordDelivery): boolean {
    if (this.records === null) return false;
    const delta = this.recordCount === 0 ? 0 : timestamp - this.timestamps[0]!;
    this.sizeBytes += recordSizeInBatch(this.recordCount, delta, r.key ?? null, r.value, r.headers ?? []);
    this.records.push(r);
    this.timestamps.push(timestamp);
    this.deliveries.push(delivery);
    return true;
  }

  /** Resolves once the batch is done (acknowledged, failed or split); flush() and close() wait on it. */
  whenDone(): Promise<void> {
    if (this._done) return Promise.resolve();
    return new Promise((resolve) => (this.doneWaiters ??= []).push(resolve));
  }

  private markDone(): void {
    this._done = true;
    const waiters = this.doneWaiters;
    this.doneWaiters = null;
    if (waiters) for (const w of waiters) w();
  }

  /**
   * Acknowledged at `baseOffset` (-1: unknown, as with acks=0). Settles every record once;
   * returns false if the batch was already done.
   */
  complete(baseOffset: number, logAppendTime: number): boolean {
    if (this._done) return false;
    this.markDone();
    const { topic, partition } = this.tp;
    for (let i = 0; i < this.deliveries.length; i++) {
      this.deliveries[i]!.resolve({
        topic,
        partition,
        offset: baseOffset < 0 ? -1 : baseOffset + i,
        timestamp: logAppendTime >= 0 ? logAppendTime : this.timestamps[i]!,
      });
    }
    return true;
  }

  /** Failed for good with `err`; returns false if the batch was already done. */
  fail(err: Error): boolean {
    if (this._done) return false;
    this.markDone();
    for (const d of this.deliveries) d.reject(err);
    return true;
  }
}
