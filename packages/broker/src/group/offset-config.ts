// Settings of committed offsets and of the __consumer_offsets topic, under Kafka's names (Kafka 3.x
// defaults), plus the bounds samsa adds.

import { checkConfigInt } from './group-config.js';

export interface OffsetConfig {
  /** offsets.topic.num.partitions. Kafka default 50. */
  readonly offsetsTopicNumPartitions: number;
  /** offsets.retention.minutes, in ms: offsets of a group Empty this long (or of a standalone consumer since its commit) expire. Kafka default 7 days. */
  readonly offsetsRetentionMs: number;
  /** offsets.retention.check.interval.ms: how often expiration runs. Kafka default 600000. */
  readonly offsetsRetentionCheckIntervalMs: number;
  /** offset.metadata.max.bytes: the metadata string of one committed offset. Kafka default 4096. */
  readonly offsetMetadataMaxBytes: number;
  /** Committed partitions per group; a commit that would go over it gets INVALID_COMMIT_OFFSET_SIZE. */
  readonly offsetsPerGroupMax: number;
  /** Offset commits written but not yet acknowledged by the log, per offsets partition. */
  readonly pendingCommitsMax: number;
}

export const DEFAULT_OFFSET_CONFIG: OffsetConfig = Object.freeze({
  offsetsTopicNumPartitions: 50,
  offsetsRetentionMs: 10_080 * 60_000,
  offsetsRetentionCheckIntervalMs: 600_000,
  offsetMetadataMaxBytes: 4_096,
  offsetsPerGroupMax: 100_000,
  pendingCommitsMax: 10_000,
});

/** Fills defaults and checks ranges; throws GroupError INVALID_CONFIG. */
export function resolveOffsetConfig(config: Partial<OffsetConfig> = {}): OffsetConfig {
  const c = { ...DEFAULT_OFFSET_CONFIG, ...config };
  return Object.freeze({
    offsetsTopicNumPartitions: checkConfigInt('offsets.topic.num.partitions', c.offsetsTopicNumPartitions, 1, 10_000),
    offsetsRetentionMs: checkConfigInt('offsets.retention.minutes (ms)', c.offsetsRetentionMs, 60_000, Number.MAX_SAFE_INTEGER),
    offsetsRetentionCheckIntervalMs: checkConfigInt('offsets.retention.check.interval.ms', c.offsetsRetentionCheckIntervalMs, 1, 2 ** 31 - 1),
    offsetMetadataMaxBytes: checkConfigInt('offset.metadata.max.bytes', c.offsetMetadataMaxBytes, 0, 1_048_576),
    offsetsPerGroupMax: checkConfigInt('offsetsPerGroupMax', c.offsetsPerGroupMax, 1, 10_000_000),
    pendingCommitsMax: checkConfigInt('pendingCommitsMax', c.pendingCommitsMax, 1, 1_000_000),
  });
}
