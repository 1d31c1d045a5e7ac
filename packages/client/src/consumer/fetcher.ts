// The consumer's fetching logic without I/O (Kafka's Fetcher as a pure core). It plans one fetch
// per leader broker for the fetchable partitions that have no data buffered (at most one fetch in
// flight per broker), sending each partition's position and the leader epoch the client knows so
// a deposed leader refuses it (FENCED_LEADER_EPOCH). It turns answers into CompletedFetches, asks
// for metadata on leadership errors, turns OFFSET_OUT_OF_RANGE into a reset (or an error under
// auto.offset.reset=none), and hands records out up to max.poll.records, advancing positions.

import type { MetadataCache } from '../cluster/metadata-cache.js';
import type { OffsetResetStrategy } from '../config/consumer-config.js';
import { KafkaError, kafkaErrorFromWire } from '../protocol/errors.js';
import type { FetchRequest, FetchResponse, FetchTopic } from '../protocol/wire-types.js';
import { classifyError, type RetryPolicy } from '../retry/retry-policy.js';
import { TopicPartitionMap, tpString, type TopicPartition } from '../topic-partition.js';
import { CompletedFetch } from './completed-fetch.js';
import type { ConsumerRecord } from './consumer-record.js';
import type { SubscriptionState } from './subscription-state.js';

export interface FetcherSettings {
  fetchMinBytes: number;
  fetchMaxWaitMs: number;
  fetchMaxBytes: number;
  maxPartitionFetchBytes: number;
  autoOffsetReset: OffsetResetStrategy;
}

export interface FetchPlan {
  readonly nodeId: number;
  readonly address: string;
  readonly request: FetchRequest;
  /** The position and leader epoch each partition was fetched with. */
  readonly partitions: TopicPartitionMap<{ fetchOffset: number; leaderEpoch: number }>;
}

export type FetchOutcome = { response: FetchResponse } | { error: unknown };

/** Errors kept for poll() to raise at most (one per partition, plus a few fetch-wide ones). */
const MAX_PENDING_ERRORS = 1_000;

export class Fetcher {
  private readonly inFlight = new Map<number, FetchPlan>();
  private readonly nodeRetryAt = new Map<number, { atMs: number; failures: number }>();
  private readonly queue: CompletedFetch[] = [];
  private nextInLine: CompletedFetch | null = null;
  private readonly bufferedByTp = new TopicPartitionMap<CompletedFetch>();
  private readonly pendingErrors: Error[] = [];

  constructor(
    private readonly settings: FetcherSettings,
    private readonly subscriptions: SubscriptionState,
    private readonly metadata: MetadataCache,
    private readonly policy: RetryPolicy,
  ) {}

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** The next error poll() must raise, removed from the list. */
  takeError(): Error | undefined {
    return this.pendingErrors.shift();
  }

  private addError(err: Error): void {
    if (this.pendingErrors.length < MAX_PENDING_ERRORS) this.pendingErrors.push(err);
  }

  hasBuffered(tp: TopicPartition): boolean {
    return this.bufferedByTp.has(tp);
  }

  private drop(cf: CompletedFetch): void {
    if (this.bufferedByTp.get(cf.tp) === cf) this.bufferedByTp.delete(cf.tp);
    const i = this.queue.indexOf(cf);
    if (i >= 0) this.queue.splice(i, 1);
    if (this.nextInLine === cf) this.nextInLine = null;
  }

  /** Fetch requests to send now: one per leader broker without a fetch in flight. */
  prepareFetches(nowMs: number): FetchPlan[] {
    const byNode = new Map<number, FetchPlan>();
    for (const { tp, position } of this.subscriptions.fetchablePartitions()) {
      const buffered = this.bufferedByTp.get(tp);
      if (buffered) {
        // After a seek the buffered records are for another position: discard them.
        if (buffered.nextFetchOffset === position.offset && !buffered.isConsumed) continue;
        this.drop(buffered);
      }
      const leader = this.metadata.leaderFor(tp.topic, tp.partition);
      if (!leader) {
        this.metadata.requestUpdate();
        continue;
      }
      if (this.inFlight.has(leader.leader)) continue;
      const backoff = this.nodeRetryAt.get(leader.leader);
      if (backoff && nowMs < backoff.atMs) continue;
      let plan = byNode.get(leader.leader);
      if (!plan) {
        plan = {
          nodeId: leader.leader,
          address: this.metadata.broker(leader.leader)!.address,
          request: {
            replicaId: -1,
            maxWaitMs: this.settings.fetchMaxWaitMs,
            minBytes: this.settings.fetchMinBytes,
            maxBytes: this.settings.fetchMaxBytes,
            topics: [],
            replicaEpoch: -1,
          },
          partitions: new TopicPartitionMap(),
        };
        byNode.set(leader.leader, plan);
      }
      let topic: FetchTopic | undefined = plan.request.topics.find((t) => t.topic === tp.topic);
      if (!topic) plan.request.topics.push((topic = { topic: tp.topic, partitions: [] }));
      topic.partitions.push({
        partition: tp.partition,
        fetchOffset: position.offset,
        partitionMaxBytes: this.settings.maxPartitionFetchBytes,
        currentLeaderEpoch: leader.leaderEpoch,
        logStartOffset: -1,
        lastFetchedEpoch: -1,
      });
      plan.partitions.set(tp, { fetchOffset: position.offset, leaderEpoch: leader.leaderEpoch });
    }
    for (const [node, plan] of byNode) this.inFlight.set(node, plan);
    return [...byNode.values()];
  }

  /** When a broker in backoff may be fetched from again (Infinity: none waits). */
  nextRetryMs(): number {
    let at = Number.POSITIVE_INFINITY;
    for (const { atMs } of this.nodeRetryAt.values()) at = Math.min(at, atMs);
    return at;
  }

  private nodeFailed(nodeId: number, nowMs: number): void {
    const failures = (this.nodeRetryAt.get(nodeId)?.failures ?? 0) + 1;
    this.nodeRetryAt.set(nodeId, { atMs: nowMs + this.policy.backoffMs(failures), failures });
  }

  onFetchOutcome(plan: FetchPlan, outcome: FetchOutcome, nowMs: number): void {
    if (this.inFlight.get(plan.nodeId) === plan) this.inFlight.delete(plan.nodeId);
    const requestError = 'error' in outcome ? outcome.error : kafkaErrorFromWire(outcome.response.error);
    if (requestError) {
      const cls = classifyError(requestError);
      if (cls.refreshMetadata) this.metadata.requestUpdate();
      this.nodeFailed(plan.nodeId, nowMs);
      if (!cls.retriable) this.addError(requestError as Error);
      return;
    }
    this.nodeRetryAt.delete(plan.nodeId);
    if (!('response' in outcome)) return;
    for (const t of outcome.response.topics ?? []) {
      for (const p of t.partitions ?? []) {
        const tp = { topic: t.topic, partition: p.partition };
        const sent = plan.partitions.get(tp);
        if (!sent) continue;
        this.handlePartition(tp, sent.fetchOffset, p);
      }
    }
  }

  private handlePartition(tp: TopicPartition, fetchOffset: number, p: FetchResponse['topics'][number]['partitions'][number]): void {
    if (!this.subscriptions.isAssigned(tp)) return;
    const position = this.subscriptions.position(tp);
    if (!position || position.offset !== fetchOffset) return; // seeked meanwhile: stale
    const err = kafkaErrorFromWire(p.error);
    if (!err) {
      this.subscriptions.updateFetchState(tp, p.highWatermark, p.logStartOffset);
      const records = Buffer.isBuffer(p.records) ? p.records : Buffer.alloc(0);
      if (records.length === 0) return;
      const cf = new CompletedFetch(tp, fetchOffset, records, p.highWatermark, p.logStartOffset);
      this.queue.push(cf);
      this.bufferedByTp.set(tp, cf);
      return;
    }
    switch (err.type) {
      case 'OFFSET_OUT_OF_RANGE':
        if (this.settings.autoOffsetReset === 'none') {
          this.addError(new KafkaError('OFFSET_OUT_OF_RANGE', `Fetch position ${fetchOffset} is out of range for partition ${tpString(tp)}`));
        } else {
          this.subscriptions.requestReset(tp, this.settings.autoOffsetReset);
        }
        return;
      default:
        if (err.refreshMetadata) {
          this.metadata.requestUpdate();
          if (err.leaderId >= 0) this.metadata.applyLeaderHint(tp.topic, tp.partition, err.leaderId, err.leaderEpoch);
        }
        if (!err.retriable) {
          this.addError(new KafkaError(err.type, `Fetch of ${tpString(tp)} at offset ${fetchOffset} failed: ${err.message}`, { cause: err }));
        }
    }
  }

  /**
   * Up to `max` records from the buffered fetches, advancing each partition's position. A
   * corrupt batch raises its error once nothing was collected before it (else on the next call).
   */
  collect(max: number): ConsumerRecord[] {
    const out: ConsumerRecord[] = [];
    const pausedAside: CompletedFetch[] = [];
    try {
      while (out.length < max) {
        const cf = this.nextInLine ?? this.queue.shift();
        if (!cf) break;
        this.nextInLine = cf;
        const tp = cf.tp;
        const position = this.subscriptions.isAssigned(tp) ? this.subscriptions.position(tp) : null;
        if (!position || position.offset !== cf.nextFetchOffset || cf.isConsumed) {
          this.drop(cf);
          continue;
        }
        if (this.subscriptions.isPaused(tp)) {
          pausedAside.push(cf);
          this.nextInLine = null;
          continue;
        }
        let records: ConsumerRecord[];
        try {
          records = cf.fetchRecords(max - out.length);
        } catch (err) {
          if (out.length > 0) break;
          throw err;
        }
        this.subscriptions.advance(tp, position.offset, { offset: cf.nextFetchOffset, offsetEpoch: cf.lastEpoch >= 0 ? cf.lastEpoch : position.offsetEpoch });
        for (const r of records) out.push(r);
        if (cf.isConsumed) this.drop(cf);
      }
    } finally {
      if (pausedAside.length > 0) this.queue.unshift(...pausedAside);
    }
    return out;
  }

  /** Drops buffered data of partitions no longer assigned. */
  onAssignmentChange(): void {
    for (const [tp, cf] of this.bufferedByTp) if (!this.subscriptions.isAssigned(tp)) this.drop(cf);
  }
}
