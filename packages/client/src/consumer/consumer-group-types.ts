// What a group member's application sees (Kafka's ConsumerRebalanceListener, OffsetAndMetadata,
// ConsumerGroupMetadata, OffsetCommitCallback), as plain objects.

import type { TopicPartition } from '../topic-partition.js';
import type { ConsumerRecord } from './consumer-record.js';

/**
 * Told of assignment changes, from inside poll() (so a listener may commit, seek or pause):
 * revoked before partitions move away (positions are still valid, commit them here), assigned
 * after new ones arrive, lost when the member was dropped from the group and another may own
 * them already (committing is no longer possible). With an eager assignor every partition is
 * revoked at each rebalance; with cooperative-sticky only those that move.
 */
export interface ConsumerRebalanceListener {
  onPartitionsAssigned?(tps: TopicPartition[]): void | Promise<void>;
  onPartitionsRevoked?(tps: TopicPartition[]): void | Promise<void>;
  onPartitionsLost?(tps: TopicPartition[]): void | Promise<void>;
}

/** An offset to commit: the next record the group should read from the partition. */
export interface OffsetToCommit {
  topic: string;
  partition: number;
  offset: number;
  metadata?: string;
}

/** A committed offset as the coordinator holds it. */
export interface OffsetAndMetadata {
  offset: number;
  metadata: string;
}

export type CommitCallback = (err: Error | null, offsets: OffsetToCommit[]) => void;

export interface CommitSyncOptions {
  /** Default default.api.timeout.ms. */
  timeoutMs?: number;
}

/** Kafka's ConsumerGroupMetadata: what a commit is fenced by. */
export interface ConsumerGroupMetadata {
  groupId: string;
  /** -1 outside a generation. */
  generationId: number;
  /** '' before the first join. */
  memberId: string;
  groupInstanceId: string | null;
}

export interface RunOptions {
  /** Called for each record in order; its offset is committed (auto commit) only after it resolves. */
  eachMessage?: (record: ConsumerRecord) => Promise<void>;
  /** Called with each poll's records; used when eachMessage is absent. */
  eachBatch?: (records: ConsumerRecord[]) => Promise<void>;
  /** Stops the loop (the consumer stays open). */
  signal?: AbortSignal;
  /** Timeout of each poll(); default 1000 ms. */
  pollTimeoutMs?: number;
}

/** Kafka's consumer metric names (consumer-fetch-manager-metrics, consumer-coordinator-metrics). */
export type ConsumerMetricName =
  | 'records-consumed-rate'
  | 'records-consumed-total'
  | 'bytes-consumed-rate'
  | 'bytes-consumed-total'
  | 'fetch-latency-avg'
  | 'fetch-latency-max'
  | 'fetch-rate'
  | 'records-lag-max'
  | 'commit-latency-avg'
  | 'commit-latency-max'
  | 'commit-rate'
  | 'commit-total'
  | 'sync-time-avg'
  | 'sync-time-max'
  | 'sync-rate'
  | 'sync-total'
  | 'join-time-avg'
  | 'join-rate'
  | 'rebalance-total'
  | 'heartbeat-rate'
  | 'last-heartbeat-seconds-ago'
  | 'assigned-partitions';

export type ConsumerMetricValues = Record<ConsumerMetricName, number>;
