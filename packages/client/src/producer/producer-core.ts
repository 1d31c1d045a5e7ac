// The producer's sending logic without I/O (Kafka's Sender, as a pure core). The Producer
// adapter calls poll(now) and gets back produce requests to send (one per broker, holding every
// ready batch for it), whether it should ask for a producer id, and when to poll again; it feeds
// back each request's outcome. Here live: ready/drain over the accumulator, max in-flight
// requests per broker, retries with backoff through the retry policy (re-enqueued batches keep
// their sequence), metadata refresh requests on leadership errors, delivery.timeout.ms expiry,
// splitting of batches the broker finds too large, and the idempotence rules.

import { ClientError } from '../client-error.js';
import type { MetadataCache } from '../cluster/metadata-cache.js';
import type { ProducerSettings } from '../config/producer-config.js';
import { silentLogger, type ClientLogger } from '../logger.js';
import { KafkaError, kafkaErrorFromWire } from '../protocol/errors.js';
import type { PartitionProduceResponse, ProduceRequest, ProduceResponse, TopicRecords } from '../protocol/wire-types.js';
import { classifyError, type RetryPolicy } from '../retry/retry-policy.js';
import { TopicPartitionMap, tpString, type TopicPartition } from '../topic-partition.js';
import type { BufferPool } from './buffer-pool.js';
import { IdempotenceManager } from './idempotence.js';
import type { ProducerBatch } from './producer-batch.js';
import type { ProducerMetrics } from './producer-metrics.js';
import { RecordAccumulator } from './record-accumulator.js';

/** One produce request the adapter must send. */
export interface ProduceSend {
  readonly id: number;
  readonly nodeId: number;
  readonly address: string;
  readonly request: ProduceRequest;
  readonly batches: readonly ProducerBatch[];
  readonly sentMs: number;
  /** acks=0: the batches are complete already and the answer is ignored. */
  readonly expectResponse: boolean;
}

export interface CorePoll {
  sends: ProduceSend[];
  /** Send an InitProducerId and report it with onInitProducerIdOutcome. */
  initProducerId: boolean;
  /** Poll again after this long (Infinity: only an append, an outcome or new metadata can make progress). */
  nextPollDelayMs: number;
}

export type ProduceOutcome = { response: ProduceResponse } | { error: unknown };
export type InitProducerIdOutcome = { producerId: number; producerEpoch: number } | { error: unknown };

export interface ProducerCoreDeps {
  settings: ProducerSettings;
  metadata: MetadataCache;
  policy: RetryPolicy;
  pool: BufferPool;
  metrics: ProducerMetrics;
  logger?: ClientLogger;
}

export class ProducerCore {
  readonly accumulator: RecordAccumulator;
  readonly idempotence: IdempotenceManager | null;
  private readonly settings: ProducerSettings;
  private readonly metadata: MetadataCache;
  private readonly policy: RetryPolicy;
  private readonly pool: BufferPool;
  private readonly metrics: ProducerMetrics;
  private readonly logger: ClientLogger;
  private readonly inFlightSends = new Map<number, ProduceSend>();
  private readonly inFlightByNode = new Map<number, number>();
  /** Batches on the wire (response pending), for delivery-timeout expiry. */
  private readonly inFlightBatches = new Set<ProducerBatch>();
  /** With max.in.flight.requests.per.connection=1 (and no idempotence): partitions with a batch on the wire. */
  private readonly muted = new TopicPartitionMap<true>();
  private readonly guaranteeOrder: boolean;
  private nextSendId = 1;
  private initInFlight = false;
  private initFailures = 0;
  private nextInitAllowedMs = 0;
  private fatal: Error | null = null;

  constructor(deps: ProducerCoreDeps) {
    this.settings = deps.settings;
    this.metadata = deps.metadata;
    this.policy = deps.policy;
    this.pool = deps.pool;
    this.metrics = deps.metrics;
    this.logger = deps.logger ?? silentLogger;
    this.accumulator = new RecordAccumulator({
      batchSize: this.settings.batchSize,
      lingerMs: this.settings.lingerMs,
      maxRequestSize: this.settings.maxRequestSize,
      deliveryTimeoutMs: this.settings.deliveryTimeoutMs,
      compression: this.settings.compression,
      pool: this.pool,
    });
    this.idempotence = this.settings.idempotence ? new IdempotenceManager() : null;
    this.guaranteeOrder = this.settings.maxInFlight === 1;
  }

  /** The error that stopped the producer for good, if any. */
  get fatalError(): Error | null {
    return this.fatal;
  }

  get requestsInFlight(): number {
    return this.inFlightSends.size;
  }

  hasPendingWork(): boolean {
    return this.accumulator.hasQueuedBatches() || this.inFlightSends.size > 0;
  }

  private isMuted = (tp: TopicPartition): boolean => this.muted.has(tp);

  poll(nowMs: number): CorePoll {
    const idle: CorePoll = { sends: [], initProducerId: false, nextPollDelayMs: Number.POSITIVE_INFINITY };
    if (this.fatal) return idle;
    const idem = this.idempotence;
    idem?.maybeResolveSequences();
    this.expire(nowMs);
    let nextPollDelayMs = this.nextExpiryDelay(nowMs);

    if (idem) {
      idem.bumpEpochIfNeeded(this.inFlightSends.size === 0);
      if (!idem.hasProducerId) {
        if (!this.hasPendingWork()) return idle;
        const initProducerId = !this.initInFlight && nowMs >= this.nextInitAllowedMs;
        if (initProducerId) this.initInFlight = true;
        else if (!this.initInFlight) nextPollDelayMs = Math.min(nextPollDelayMs, this.nextInitAllowedMs - nowMs);
        return { sends: [], initProducerId, nextPollDelayMs };
      }
    }

    // Kafka's sender loops until nothing more is sendable: a drain makes one request per node,
    // so drain again while a ready node has a free request slot (batches queued behind a busy
    // connection leave together, up to max.in.flight requests, not one request per poll).
    const sends: ProduceSend[] = [];
    for (;;) {
      const ready = this.accumulator.ready(nowMs, this.metadata, this.isMuted);
      if (ready.unknownLeaderTopics.size > 0) this.metadata.requestUpdate();
      nextPollDelayMs = Math.min(nextPollDelayMs, ready.nextReadyCheckDelayMs);
      const nodes = [...ready.readyNodes].filter(
        (n) => (this.inFlightByNode.get(n) ?? 0) < this.settings.maxInFlight && this.metadata.broker(n) !== undefined,
      );
      if (nodes.length === 0) break;
      const drained = this.accumulator.drain(nowMs, this.metadata, nodes, this.settings.maxRequestSize, {
        canDrain: idem ? (b) => idem.canDrain(b) : undefined,
        prepare: idem ? (b) => idem.assignSequence(b) : undefined,
        isMuted: this.isMuted,
      });
      if (drained.size === 0) break;
      for (const [nodeId, batches] of drained) sends.push(this.makeSend(nodeId, batches, nowMs));
    }
    return { sends, initProducerId: false, nextPollDelayMs: Math.max(0, nextPollDelayMs) };
  }

  private makeSend(nodeId: number, batches: ProducerBatch[], nowMs: number): ProduceSend {
    const topics = new Map<string, TopicRecords>();
    let bytes = 0;
    let records = 0;
    for (const b of batches) {
      const buf = b.close(this.settings.compression);
      let t = topics.get(b.tp.topic);
      if (!t) topics.set(b.tp.topic, (t = { topic: b.tp.topic, partitions: [] }));
      t.partitions.push({ partition: b.tp.partition, records: buf });
      bytes += buf.length;
      records += b.recordCount;
      b.everSent = true;
      this.metrics.batchDrained(b.recordCount, buf.length, nowMs - b.createdMs, nowMs);
      if (this.guaranteeOrder) this.muted.set(b.tp, true);
    }
    this.metrics.requestSent(records, bytes, nowMs);
    const expectResponse = this.settings.acks !== 0;
    const send: ProduceSend = {
      id: this.nextSendId++,
      nodeId,
      address: this.metadata.broker(nodeId)!.address,
      request: { acks: this.settings.acks, timeoutMs: this.settings.requestTimeoutMs, topics: [...topics.values()] },
      batches,
      sentMs: nowMs,
      expectResponse,
    };
    this.inFlightSends.set(send.id, send);
    this.inFlightByNode.set(nodeId, (this.inFlightByNode.get(nodeId) ?? 0) + 1);
    if (expectResponse) {
      for (const b of batches) this.inFlightBatches.add(b);
    } else {
      // acks=0: nobody will tell us the offset; the record counts as sent (Kafka completes it with -1).
      for (const b of batches) this.finishSuccess(b, -1, -1);
    }
    return send;
  }

  /** The outcome of a ProduceSend returned by poll(). */
  onProduceOutcome(send: ProduceSend, outcome: ProduceOutcome, nowMs: number): void {
    if (!this.inFlightSends.delete(send.id)) return;
    const n = (this.inFlightByNode.get(send.nodeId) ?? 1) - 1;
    if (n <= 0) this.inFlightByNode.delete(send.nodeId);
    else this.inFlightByNode.set(send.nodeId, n);
    if (this.guaranteeOrder) for (const b of send.batches) this.muted.delete(b.tp);
    this.metrics.requestCompleted(nowMs - send.sentMs, nowMs);
    if (!send.expectResponse) return;

    if ('error' in outcome) {
      const err = outcome.error;
      this.logger.debug('produce request failed', { broker: send.address, error: err });
      if (classifyError(err).refreshMetadata) this.metadata.requestUpdate();
      for (const b of send.batches) this.completeWithError(b, err, -1, false, nowMs);
      return;
    }
    const byTp = new TopicPartitionMap<PartitionProduceResponse>();
    for (const t of outcome.response.topics ?? []) {
      for (const p of t.partitions ?? []) byTp.set({ topic: t.topic, partition: p.partition }, p);
    }
    for (const b of send.batches) {
      const pr = byTp.get(b.tp);
      if (!pr) {
        const err = new ClientError('INVALID_RESPONSE', `broker ${send.address} answered a produce request without ${tpString(b.tp)}`);
        this.completeWithError(b, err, -1, false, nowMs);
        continue;
      }
      const err = kafkaErrorFromWire(pr.error);
      if (!err) {
        this.finishSuccess(b, pr.baseOffset, pr.logAppendTime);
      } else if (err.type === 'DUPLICATE_SEQUENCE_NUMBER' && this.idempotence) {
        // The broker already has this batch: an earlier attempt was written.
        this.finishSuccess(b, pr.baseOffset, pr.logAppendTime);
      } else {
        if (err.refreshMetadata) {
          this.metadata.requestUpdate();
          if (err.leaderId >= 0) this.metadata.applyLeaderHint(b.tp.topic, b.tp.partition, err.leaderId, err.leaderEpoch);
        }
        this.completeWithError(b, err, pr.logStartOffset, true, nowMs);
      }
    }
  }

  private finishSuccess(b: ProducerBatch, baseOffset: number, logAppendTime: number): void {
    this.inFlightBatches.delete(b);
    this.idempotence?.onSuccess(b, baseOffset);
    if (b.complete(baseOffset, logAppendTime)) this.releaseMemory(b);
    this.accumulator.batchDone(b);
  }

  /**
   * A batch's attempt failed with `err` (`fromBroker`: the broker answered for this partition,
   * so the attempt was not written). Split, retry or fail it.
   */
  private completeWithError(b: ProducerBatch, err: unknown, logStartOffset: number, fromBroker: boolean, nowMs: number): void {
    this.inFlightBatches.delete(b);
    if (b.isDone) return;
    if (err instanceof KafkaError && err.type === 'MESSAGE_TOO_LARGE' && b.recordCount > 1) {
      const halves = b.split();
      this.accumulator.batchDone(b);
      this.idempotence?.replaceInflight(b, halves);
      this.accumulator.reenqueue(halves[1]);
      this.accumulator.reenqueue(halves[0]);
      this.logger.debug('split a batch the broker found too large', { partition: tpString(b.tp), records: b.recordCount });
      return;
    }
    const retriable = this.idempotence && err instanceof KafkaError && fromBroker
      ? this.idempotence.canRetry(b, err, logStartOffset)
      : classifyError(err).retriable;
    const decision = this.policy.onFailure(err, {
      attempts: b.attempts + 1,
      nowMs,
      deadlineMs: b.createdMs + this.settings.deliveryTimeoutMs,
      retriable,
    });
    if (decision.retry) {
      b.attempts++;
      b.retryAtMs = nowMs + decision.delayMs;
      this.metrics.recordsRetried(b.recordCount, nowMs);
      this.accumulator.reenqueue(b);
      return;
    }
    if (decision.reason === 'deadline') {
      this.failBatch(b, this.deliveryTimeout(b, nowMs, err), true, nowMs);
    } else {
      // Refused by the broker: not written. Out of retries or a transport failure: unknown.
      this.failBatch(b, err instanceof Error ? err : new Error(String(err)), !(fromBroker && decision.reason === 'not-retriable'), nowMs);
    }
  }

  private deliveryTimeout(b: ProducerBatch, nowMs: number, cause?: unknown): ClientError {
    return new ClientError(
      'DELIVERY_TIMEOUT',
      `Expiring ${b.recordCount} record(s) for ${tpString(b.tp)}: ${nowMs - b.createdMs} ms has passed since batch creation (delivery.timeout.ms)`,
      { cause, details: { topic: b.tp.topic, partition: b.tp.partition } },
    );
  }

  private failBatch(b: ProducerBatch, err: Error, mayHaveBeenWritten: boolean, nowMs: number): void {
    this.inFlightBatches.delete(b);
    this.idempotence?.onFailure(b, mayHaveBeenWritten && b.everSent);
    if (b.fail(err)) {
      this.releaseMemory(b);
      this.metrics.recordsFailed(b.recordCount, nowMs);
    }
    this.accumulator.batchDone(b);
  }

  private releaseMemory(b: ProducerBatch): void {
    if (b.allocatedBytes > 0) {
      this.pool.release(b.allocatedBytes);
      b.allocatedBytes = 0;
    }
  }

  /** Fails batches (queued or on the wire) that reached delivery.timeout.ms. */
  private expire(nowMs: number): void {
    for (const b of this.accumulator.expiredBatches(nowMs)) this.failBatch(b, this.deliveryTimeout(b, nowMs), true, nowMs);
    for (const b of [...this.inFlightBatches]) {
      if (nowMs >= b.createdMs + this.settings.deliveryTimeoutMs) this.failBatch(b, this.deliveryTimeout(b, nowMs), true, nowMs);
    }
  }

  private nextExpiryDelay(nowMs: number): number {
    let at = this.accumulator.nextExpiryMs();
    for (const b of this.inFlightBatches) at = Math.min(at, b.createdMs + this.settings.deliveryTimeoutMs);
    return Math.max(0, at - nowMs);
  }

  onInitProducerIdOutcome(outcome: InitProducerIdOutcome, nowMs: number): void {
    this.initInFlight = false;
    if (!this.idempotence) return;
    if ('error' in outcome) {
      const err = outcome.error;
      if (classifyError(err).retriable) {
        this.initFailures++;
        this.nextInitAllowedMs = nowMs + this.policy.backoffMs(this.initFailures);
        if (classifyError(err).refreshMetadata) this.metadata.requestUpdate();
        this.logger.debug('InitProducerId failed; will retry', { error: err });
        return;
      }
      this.failAll(new ClientError('PRODUCER_FATAL', `InitProducerId failed: ${(err as Error)?.message ?? String(err)}`, { cause: err }), nowMs);
      return;
    }
    this.initFailures = 0;
    try {
      this.idempotence.setProducerIdAndEpoch(outcome.producerId, outcome.producerEpoch);
    } catch (err) {
      this.failAll(new ClientError('PRODUCER_FATAL', (err as Error).message, { cause: err }), nowMs);
    }
  }

  /** Fails every queued and in-flight batch with `err` and stops the producer for good. */
  failAll(err: Error, nowMs: number): void {
    this.fatal ??= err;
    for (const b of this.accumulator.drainAll()) this.failBatch(b, err, true, nowMs);
    for (const b of [...this.inFlightBatches]) this.failBatch(b, err, true, nowMs);
    for (const s of this.inFlightSends.values()) for (const b of s.batches) this.failBatch(b, err, true, nowMs);
  }
}
