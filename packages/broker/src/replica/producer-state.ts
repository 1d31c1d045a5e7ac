// Idempotent-producer state of one partition (Kafka's ProducerStateManager, without
// transactions): for each producer id its epoch and the metadata of its last five batches, so
// that the leader recognises a retried batch (answer with the offsets it got the first time),
// refuses a gap in the sequence and fences an older epoch of the same producer.
//
// Lifecycle: owned by the partition; the leader checks each idempotent batch before appending
// (check) and records it after (update). It is rebuilt from the log's batch headers when the
// partition opens and whenever this broker becomes leader (rebuildProducerState; start the
// replay at the offset of the first batch newer than producer.id.expiration.ms, e.g. with
// Log.offsetForTimestamp, as older producers would expire anyway) and after a truncation. Bounded
// by maxProducers (the producer with the oldest last timestamp is evicted) and by expiration.
//
// Rules (Kafka 0.11–2.4 for an unknown producer; the rest as in current Kafka):
//   unknown producer id:    sequence 0 starts it; anything else → UNKNOWN_PRODUCER_ID
//   epoch < known epoch:    INVALID_PRODUCER_EPOCH
//   epoch > known epoch:    must start at sequence 0, else OUT_OF_ORDER_SEQUENCE_NUMBER
//   same epoch:             a batch with the same first and last sequence as one of the last
//                           five → duplicate; else first sequence must be last sequence + 1
//                           (after 2^31 - 1 comes 0), else OUT_OF_ORDER_SEQUENCE_NUMBER
// Timestamps are the batches' max timestamps (as Kafka), so a replay rebuilds the same state.

import type { KafkaError } from '@samsa/client';
import { NO_PRODUCER_ID } from '@samsa/log';
import { ReplicaError, checkArgument, checkOffset, checkTime, isInt32, kafkaError } from './errors.js';

/** Kafka's NumBatchesToRetain: how far back a retried batch is still recognised (max.in.flight.requests.per.connection ≤ 5). */
export const BATCHES_RETAINED_PER_PRODUCER = 5;
export const MAX_SEQUENCE = 0x7fff_ffff;
export const MAX_PRODUCER_EPOCH = 0x7fff;

export interface ProducerStateConfig {
  /** producer.id.expiration.ms: a producer silent for this long is forgotten. Kafka default 86400000 (1 day). */
  readonly producerIdExpirationMs: number;
  /** Producers remembered per partition; a new one evicts the one with the oldest last timestamp. */
  readonly maxProducers: number;
}

export const DEFAULT_PRODUCER_STATE_CONFIG: ProducerStateConfig = Object.freeze({
  producerIdExpirationMs: 86_400_000,
  maxProducers: 10_000,
});

export interface ProducerBatchMetadata {
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly firstOffset: number;
  readonly lastOffset: number;
  readonly timestampMs: number;
}

/** One appended idempotent batch. */
export interface ProducerBatch extends ProducerBatchMetadata {
  readonly producerId: bigint;
  readonly producerEpoch: number;
}

export interface ProducerEntryView {
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly lastSeq: number;
  readonly lastTimestampMs: number;
  /** Oldest first, at most BATCHES_RETAINED_PER_PRODUCER. */
  readonly batches: readonly ProducerBatchMetadata[];
}

export type ProducerCheckResult =
  /** Append the batch, then call update() with its offsets. */
  | { readonly kind: 'append' }
  /** A retry of a batch already in the log: do not append; answer success with these offsets. */
  | { readonly kind: 'duplicate'; readonly firstOffset: number; readonly lastOffset: number }
  /** OUT_OF_ORDER_SEQUENCE_NUMBER, INVALID_PRODUCER_EPOCH, UNKNOWN_PRODUCER_ID or INVALID_RECORD. */
  | { readonly kind: 'rejected'; readonly error: KafkaError };

/** The batch-header fields a replay needs; @samsa/log's BatchHeader has them all. */
export interface ProducerBatchHeader {
  readonly baseOffset: number;
  readonly lastOffsetDelta: number;
  readonly maxTimestamp: number;
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly baseSequence: number;
}

/** The sequence of a batch's last record: sequences wrap from 2^31 - 1 to 0 (Kafka's DefaultRecordBatch.incrementSequence). */
export function lastSequenceOf(baseSequence: number, lastOffsetDelta: number): number {
  if (baseSequence > MAX_SEQUENCE - lastOffsetDelta) return lastOffsetDelta - (MAX_SEQUENCE - baseSequence) - 1;
  return baseSequence + lastOffsetDelta;
}

/** Whether `next` directly follows `last`. */
export function isNextSequence(last: number, next: number): boolean {
  return next === last + 1 || (next === 0 && last === MAX_SEQUENCE);
}

/** The producer fields of a batch header, or null for a batch without a producer id (or a malformed one). */
export function producerBatchOf(h: ProducerBatchHeader): ProducerBatch | null {
  if (h.producerId === NO_PRODUCER_ID || h.producerId < 0n) return null;
  if (!isInt32(h.baseSequence) || !isInt32(h.lastOffsetDelta)) return null;
  if (!(h.producerEpoch >= 0 && h.producerEpoch <= MAX_PRODUCER_EPOCH)) return null;
  return {
    producerId: h.producerId,
    producerEpoch: h.producerEpoch,
    firstSeq: h.baseSequence,
    lastSeq: lastSequenceOf(h.baseSequence, h.lastOffsetDelta),
    firstOffset: h.baseOffset,
    lastOffset: h.baseOffset + h.lastOffsetDelta,
    timestampMs: h.maxTimestamp,
  };
}

function checkConfigInt(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new ReplicaError('INVALID_CONFIG', `${name} must be an integer in [${min}, ${max}], got ${String(v)}`);
  }
  return v;
}

export function resolveProducerStateConfig(config: Partial<ProducerStateConfig> = {}): ProducerStateConfig {
  const c = { ...DEFAULT_PRODUCER_STATE_CONFIG, ...config };
  return Object.freeze({
    producerIdExpirationMs: checkConfigInt('producer.id.expiration.ms', c.producerIdExpirationMs, 1, Number.MAX_SAFE_INTEGER),
    maxProducers: checkConfigInt('maxProducers', c.maxProducers, 1, 10_000_000),
  });
}

interface ProducerEntry {
  producerEpoch: number;
  /** Oldest first; never empty. */
  batches: ProducerBatchMetadata[];
  lastTimestampMs: number;
}

export class ProducerStateManager {
  readonly config: ProducerStateConfig;
  private readonly producers = new Map<bigint, ProducerEntry>();

  constructor(config: Partial<ProducerStateConfig> = {}) {
    this.config = resolveProducerStateConfig(config);
  }

  get size(): number {
    return this.producers.size;
  }

  get(producerId: bigint): ProducerEntryView | undefined {
    const e = this.producers.get(producerId);
    if (e === undefined) return undefined;
    return {
      producerId,
      producerEpoch: e.producerEpoch,
      lastSeq: e.batches[e.batches.length - 1]!.lastSeq,
      lastTimestampMs: e.lastTimestampMs,
      batches: e.batches.slice(),
    };
  }

  /** The leader's check of a client batch before it is appended (rules in the header). */
  check(producerId: bigint, producerEpoch: number, firstSeq: number, lastSeq: number): ProducerCheckResult {
    if (producerId === NO_PRODUCER_ID) return { kind: 'append' };
    if (typeof producerId !== 'bigint' || producerId < 0n) return invalid(`producer id ${String(producerId)} is negative`);
    if (!Number.isInteger(producerEpoch) || producerEpoch < 0 || producerEpoch > MAX_PRODUCER_EPOCH) {
      return invalid(`producer ${producerId}: epoch ${String(producerEpoch)} is not an int16 >= 0`);
    }
    if (!isInt32(firstSeq) || !isInt32(lastSeq)) {
      return invalid(`producer ${producerId}: sequences ${String(firstSeq)}..${String(lastSeq)} are not int32 >= 0`);
    }
    const e = this.producers.get(producerId);
    if (e === undefined) {
      if (firstSeq === 0) return { kind: 'append' };
      return rejected(
        'UNKNOWN_PRODUCER_ID',
        `producer ${producerId} is unknown here (expired, evicted or never seen) and its batch starts at sequence ${firstSeq}, not 0`,
      );
    }
    if (producerEpoch < e.producerEpoch) {
      return rejected('INVALID_PRODUCER_EPOCH', `producer ${producerId}: epoch ${producerEpoch} is older than ${e.producerEpoch}`);
    }
    if (producerEpoch > e.producerEpoch) {
      if (firstSeq === 0) return { kind: 'append' };
      return rejected(
        'OUT_OF_ORDER_SEQUENCE_NUMBER',
        `producer ${producerId}: the new epoch ${producerEpoch} must start at sequence 0, ` +
          `not ${firstSeq} (current epoch ${e.producerEpoch})`,
      );
    }
    for (const b of e.batches) {
      if (b.firstSeq === firstSeq && b.lastSeq === lastSeq) {
        return { kind: 'duplicate', firstOffset: b.firstOffset, lastOffset: b.lastOffset };
      }
    }
    const last = e.batches[e.batches.length - 1]!.lastSeq;
    if (!isNextSequence(last, firstSeq)) {
      const message = `producer ${producerId}: sequence ${firstSeq} does not follow ${last} (epoch ${producerEpoch})`;
      return rejected('OUT_OF_ORDER_SEQUENCE_NUMBER', message);
    }
    return { kind: 'append' };
  }

  /**
   * Records an appended batch: after the leader's append of a checked batch, and for every
   * batch a replay reads. No rules are applied here: the log is the truth.
   */
  update(batch: ProducerBatch): void {
    checkArgument(
      typeof batch.producerId === 'bigint' && batch.producerId >= 0n,
      () => `producer id ${String(batch.producerId)} is not >= 0`,
    );
    checkArgument(
      Number.isInteger(batch.producerEpoch) && batch.producerEpoch >= 0 && batch.producerEpoch <= MAX_PRODUCER_EPOCH,
      () => `producer epoch ${String(batch.producerEpoch)} is not an int16 >= 0`,
    );
    checkArgument(
      isInt32(batch.firstSeq) && isInt32(batch.lastSeq),
      () => `sequences ${String(batch.firstSeq)}..${String(batch.lastSeq)} are not int32 >= 0`,
    );
    checkOffset('first offset', batch.firstOffset);
    checkOffset('last offset', batch.lastOffset);
    checkArgument(batch.lastOffset >= batch.firstOffset, () => `last offset ${batch.lastOffset} is before the first ${batch.firstOffset}`);
    checkTime('timestamp', batch.timestampMs);
    let e = this.producers.get(batch.producerId);
    if (e === undefined) {
      if (this.producers.size >= this.config.maxProducers) this.evictOldest();
      e = { producerEpoch: batch.producerEpoch, batches: [], lastTimestampMs: batch.timestampMs };
      this.producers.set(batch.producerId, e);
    }
    if (batch.producerEpoch !== e.producerEpoch) {
      e.producerEpoch = batch.producerEpoch;
      e.batches = [];
    }
    const { firstSeq, lastSeq, firstOffset, lastOffset, timestampMs } = batch;
    e.batches.push({ firstSeq, lastSeq, firstOffset, lastOffset, timestampMs });
    if (e.batches.length > BATCHES_RETAINED_PER_PRODUCER) e.batches.shift();
    e.lastTimestampMs = batch.timestampMs;
  }

  /** Reads one batch header of a replay (batches without a producer id are skipped). */
  replay(header: ProducerBatchHeader): void {
    const batch = producerBatchOf(header);
    if (batch !== null) this.update(batch);
  }

  /** Forgets producers silent for producer.id.expiration.ms; returns how many. */
  removeExpired(nowMs: number): number {
    checkTime('nowMs', nowMs);
    let removed = 0;
    for (const [id, e] of this.producers) {
      if (nowMs - e.lastTimestampMs >= this.config.producerIdExpirationMs) {
        this.producers.delete(id);
        removed++;
      }
    }
    return removed;
  }

  clear(): void {
    this.producers.clear();
  }

  private evictOldest(): void {
    let oldestId: bigint | undefined;
    let oldest = Number.POSITIVE_INFINITY;
    for (const [id, e] of this.producers) {
      if (e.lastTimestampMs < oldest) {
        oldest = e.lastTimestampMs;
        oldestId = id;
      }
    }
    if (oldestId !== undefined) this.producers.delete(oldestId);
  }
}

/** Producer state rebuilt from the batch headers of a log, oldest first; producers expired by `nowMs` are dropped. */
export function rebuildProducerState(
  headers: Iterable<ProducerBatchHeader>,
  nowMs: number,
  config: Partial<ProducerStateConfig> = {},
): ProducerStateManager {
  const state = new ProducerStateManager(config);
  for (const h of headers) state.replay(h);
  state.removeExpired(nowMs);
  return state;
}

type ProducerErrorName = 'UNKNOWN_PRODUCER_ID' | 'INVALID_PRODUCER_EPOCH' | 'OUT_OF_ORDER_SEQUENCE_NUMBER';

function rejected(type: ProducerErrorName, message: string): ProducerCheckResult {
  return { kind: 'rejected', error: kafkaError(type, message) };
}

function invalid(message: string): ProducerCheckResult {
  return { kind: 'rejected', error: kafkaError('INVALID_RECORD', message) };
}
