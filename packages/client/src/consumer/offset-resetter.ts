// Offset resets without I/O (Kafka's OffsetFetcher.resetPositionsIfNeeded): partitions waiting
// for an earliest/latest reset get a ListOffsets to their leader, grouped per broker; answers
// complete the reset unless the partition was seeked meanwhile; failures back off per partition
// and refresh metadata when the leader moved.

import { ClientError } from '../client-error.js';
import type { MetadataCache } from '../cluster/metadata-cache.js';
import { kafkaErrorFromWire } from '../protocol/errors.js';
import { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, type ListOffsetsRequest, type ListOffsetsResponse } from '../protocol/wire-types.js';
import { classifyError, type RetryPolicy } from '../retry/retry-policy.js';
import { TopicPartitionMap, tpString, type TopicPartition } from '../topic-partition.js';
import type { ResetStrategy, SubscriptionState } from './subscription-state.js';

export interface ListOffsetsPlan {
  readonly nodeId: number;
  readonly address: string;
  readonly request: ListOffsetsRequest;
  readonly partitions: TopicPartitionMap<ResetStrategy>;
}

export type ListOffsetsOutcome = { response: ListOffsetsResponse } | { error: unknown };

export class OffsetResetter {
  private readonly inFlight = new TopicPartitionMap<true>();

  constructor(
    private readonly subscriptions: SubscriptionState,
    private readonly metadata: MetadataCache,
    private readonly policy: RetryPolicy,
    /** Receives errors that are not worth retrying; poll() raises them. */
    private readonly onFatal: (err: Error) => void,
  ) {}

  prepare(nowMs: number): ListOffsetsPlan[] {
    const byNode = new Map<number, ListOffsetsPlan>();
    for (const { tp, strategy } of this.subscriptions.partitionsToReset(nowMs)) {
      if (this.inFlight.has(tp)) continue;
      const leader = this.metadata.leaderFor(tp.topic, tp.partition);
      if (!leader) {
        this.metadata.requestUpdate();
        continue;
      }
      let plan = byNode.get(leader.leader);
      if (!plan) {
        plan = { nodeId: leader.leader, address: this.metadata.broker(leader.leader)!.address, request: { topics: [] }, partitions: new TopicPartitionMap() };
        byNode.set(leader.leader, plan);
      }
      let topic = plan.request.topics.find((t) => t.topic === tp.topic);
      if (!topic) plan.request.topics.push((topic = { topic: tp.topic, partitions: [] }));
      topic.partitions.push({
        partition: tp.partition,
        timestamp: strategy === 'earliest' ? EARLIEST_TIMESTAMP : LATEST_TIMESTAMP,
        currentLeaderEpoch: leader.leaderEpoch,
      });
      plan.partitions.set(tp, strategy);
      this.inFlight.set(tp, true);
    }
    return [...byNode.values()];
  }

  onOutcome(plan: ListOffsetsPlan, outcome: ListOffsetsOutcome, nowMs: number): void {
    for (const [tp] of plan.partitions) this.inFlight.delete(tp);
    if ('error' in outcome) {
      for (const [tp] of plan.partitions) this.failed(tp, outcome.error, nowMs);
      return;
    }
    const seen = new TopicPartitionMap<true>();
    for (const t of outcome.response.topics ?? []) {
      for (const p of t.partitions ?? []) {
        const tp = { topic: t.topic, partition: p.partition };
        const strategy = plan.partitions.get(tp);
        if (!strategy) continue;
        seen.set(tp, true);
        const err = kafkaErrorFromWire(p.error);
        if (err) {
          if (err.leaderId >= 0) this.metadata.applyLeaderHint(tp.topic, tp.partition, err.leaderId, err.leaderEpoch);
          this.failed(tp, err, nowMs);
        } else if (!Number.isSafeInteger(p.offset) || p.offset < 0) {
          this.failed(tp, new ClientError('INVALID_RESPONSE', `ListOffsets returned offset ${p.offset} for ${tpString(tp)}`), nowMs, true);
        } else {
          this.subscriptions.completeReset(tp, strategy, p.offset, Number.isInteger(p.leaderEpoch) ? p.leaderEpoch : -1);
        }
      }
    }
    for (const [tp] of plan.partitions) {
      if (!seen.has(tp)) this.failed(tp, new ClientError('INVALID_RESPONSE', `ListOffsets response left out ${tpString(tp)}`), nowMs, true);
    }
  }

  private failed(tp: TopicPartition, err: unknown, nowMs: number, forceRetry = false): void {
    if (!this.subscriptions.isAssigned(tp) || this.subscriptions.pendingReset(tp) === null) return;
    const cls = classifyError(err);
    if (cls.refreshMetadata) this.metadata.requestUpdate();
    if (!cls.retriable && !forceRetry) {
      this.onFatal(err as Error);
    }
    const failures = this.subscriptions.resetFailures(tp) + 1;
    this.subscriptions.resetFailed(tp, nowMs + this.policy.backoffMs(failures));
  }
}
