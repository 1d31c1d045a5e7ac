// Broker configuration with Kafka's names and defaults, except where samsa is deliberately
// safer: on a cluster of 3 or more brokers, default.replication.factor 3 and
// min.insync.replicas 2 (Kafka ships 1 and 1). A user can lower them, knowingly.

import { KafkaError } from '@samsa/client';

export interface BrokerConfig {
  'broker.id': number;
  'log.dirs': string;
  /** host:port of the broker API. */
  listeners: string;
  'broker.rack': string | null;
  /** Coordination ensemble client addresses, host:port,… */
  coordinators: string;
  'metrics.port': number;
  'metrics.host': string;
  'num.partitions': number;
  /** -1: derived from the cluster size at topic creation (3 on >= 3 brokers, else the number of brokers). */
  'default.replication.factor': number;
  /** -1: derived per topic: 2 for replication factor >= 3 (the default on clusters of >= 3 brokers), else 1. */
  'min.insync.replicas': number;
  'unclean.leader.election.enable': boolean;
  'auto.create.topics.enable': boolean;
  'auto.leader.rebalance.enable': boolean;
  'leader.imbalance.check.interval.seconds': number;
  'leader.imbalance.per.broker.percentage': number;
  'replica.lag.time.max.ms': number;
  'replica.fetch.wait.max.ms': number;
  'replica.fetch.max.bytes': number;
  'replica.fetch.min.bytes': number;
  'replica.fetch.backoff.ms': number;
  'controlled.shutdown.enable': boolean;
  'controlled.shutdown.max.retries': number;
  'controlled.shutdown.retry.backoff.ms': number;
  'log.retention.ms': number;
  'log.retention.bytes': number;
  'log.segment.bytes': number;
  'log.roll.ms': number;
  'log.retention.check.interval.ms': number;
  'log.flush.interval.messages': number;
  'log.flush.interval.ms': number;
  'message.max.bytes': number;
  'log.message.timestamp.type': 'CreateTime' | 'LogAppendTime';
  // Log cleaner (compaction of cleanup.policy=compact topics; Kafka's names and defaults).
  'log.cleaner.enable': boolean;
  /** Pause between cleanings when no compacted log is dirty enough. */
  'log.cleaner.backoff.ms': number;
  /** Bound of the cleaner's offset map (key → latest offset); a dirtier log is cleaned in several passes. */
  'log.cleaner.dedupe.buffer.size': number;
  /** Topic default of min.cleanable.dirty.ratio. */
  'log.cleaner.min.cleanable.ratio': number;
  /** Topic default of delete.retention.ms. */
  'log.cleaner.delete.retention.ms': number;
  /** Topic default of min.compaction.lag.ms. */
  'log.cleaner.min.compaction.lag.ms': number;
  'replica.high.watermark.checkpoint.interval.ms': number;
  'coordinator.session.timeout.ms': number;
  'request.timeout.ms': number;
  /** Bound on concurrent requests a broker serves before answering REQUEST_TIMED_OUT / backpressure. */
  'queued.max.requests': number;
  'producer.id.expiration.ms': number;
  // Group coordinator (Kafka's names and defaults; see src/group/README in the broker README).
  'group.min.session.timeout.ms': number;
  'group.max.session.timeout.ms': number;
  /** Kafka default 3000; tests and a local dev cluster may set less so the first rebalance is quick. */
  'group.initial.rebalance.delay.ms': number;
  /** Members per group. Kafka's default is unbounded; samsa bounds it (1000). */
  'group.max.size': number;
  /** Kafka default 50. Groups hash over this number: every broker must have the same value, and it must not change once __consumer_offsets exists (as in Kafka). */
  'offsets.topic.num.partitions': number;
  /** -1 (samsa's default): 3 on a cluster of >= 3 live brokers, else the number of live brokers, when the topic is created. */
  'offsets.topic.replication.factor': number;
  'offsets.topic.segment.bytes': number;
  'offsets.retention.minutes': number;
  'offsets.retention.check.interval.ms': number;
  'offset.metadata.max.bytes': number;
  'offsets.commit.timeout.ms': number;
  /**
   * samsa's (no Kafka equivalent): the sliding window over which the group coordinator evaluates
   * each partition's lag, Burrow-style (see the broker README, "Lag evaluation"). Default 5 min,
   * Kafka's max.poll.interval.ms; at least 1000.
   */
  'group.lag.evaluation.window.ms': number;
}

export const DEFAULT_BROKER_CONFIG: Omit<BrokerConfig, 'broker.id' | 'log.dirs' | 'coordinators'> = {
  listeners: '127.0.0.1:9092',
  'broker.rack': null,
  'metrics.port': 9404,
  'metrics.host': '127.0.0.1',
  'num.partitions': 1,
  'default.replication.factor': -1,
  'min.insync.replicas': -1,
  'unclean.leader.election.enable': false,
  'auto.create.topics.enable': false,
  'auto.leader.rebalance.enable': true,
  'leader.imbalance.check.interval.seconds': 300,
  'leader.imbalance.per.broker.percentage': 10,
  'replica.lag.time.max.ms': 30_000,
  'replica.fetch.wait.max.ms': 500,
  'replica.fetch.max.bytes': 1_048_576,
  'replica.fetch.min.bytes': 1,
  'replica.fetch.backoff.ms': 1_000,
  'controlled.shutdown.enable': true,
  'controlled.shutdown.max.retries': 3,
  'controlled.shutdown.retry.backoff.ms': 5_000,
  'log.retention.ms': 604_800_000,
  'log.retention.bytes': -1,
  'log.segment.bytes': 1_073_741_824,
  'log.roll.ms': 604_800_000,
  'log.retention.check.interval.ms': 300_000,
  'log.flush.interval.messages': Number.MAX_SAFE_INTEGER,
  'log.flush.interval.ms': Number.MAX_SAFE_INTEGER,
  'message.max.bytes': 1_048_588,
  'log.message.timestamp.type': 'CreateTime',
  'log.cleaner.enable': true,
  'log.cleaner.backoff.ms': 15_000,
  'log.cleaner.dedupe.buffer.size': 134_217_728,
  'log.cleaner.min.cleanable.ratio': 0.5,
  'log.cleaner.delete.retention.ms': 86_400_000,
  'log.cleaner.min.compaction.lag.ms': 0,
  'replica.high.watermark.checkpoint.interval.ms': 5_000,
  // Kafka's zookeeper.session.timeout.ms is 18000; a crashed broker's partitions wait that long
  // for a new leader. samsa detects a dead broker in 2 s (heartbeats every ~0.7 s) so failover
  // stays under 3 s; raise it where processes can pause for seconds.
  'coordinator.session.timeout.ms': 2_000,
  'request.timeout.ms': 30_000,
  'queued.max.requests': 500,
  'producer.id.expiration.ms': 86_400_000,
  'group.min.session.timeout.ms': 6_000,
  'group.max.session.timeout.ms': 1_800_000,
  'group.initial.rebalance.delay.ms': 3_000,
  'group.max.size': 1_000,
  'offsets.topic.num.partitions': 50,
  'offsets.topic.replication.factor': -1,
  'offsets.topic.segment.bytes': 104_857_600,
  'offsets.retention.minutes': 10_080,
  'offsets.retention.check.interval.ms': 600_000,
  'offset.metadata.max.bytes': 4_096,
  'offsets.commit.timeout.ms': 5_000,
  'group.lag.evaluation.window.ms': 300_000,
};

/** Defaults that depend on how many brokers the cluster has (samsa's safe defaults). */
export function effectiveReplicationFactor(config: BrokerConfig, liveBrokers: number): number {
  const v = config['default.replication.factor'];
  if (v > 0) return v;
  return liveBrokers >= 3 ? 3 : Math.max(1, liveBrokers);
}

/**
 * min.insync.replicas when neither the broker nor the topic sets it: 2 for a topic replicated 3
 * or more times, else 1. Derived from the topic's replication factor (fixed at creation), not
 * from how many brokers are alive, so losing brokers never lowers the bar for acks=all.
 */
export function effectiveMinInsyncReplicas(config: BrokerConfig, replicationFactor: number): number {
  const v = config['min.insync.replicas'];
  if (v > 0) return v;
  return replicationFactor >= 3 ? 2 : 1;
}

function invalid(name: string, why: string): never {
  throw new KafkaError('INVALID_CONFIG', `${name}: ${why}`);
}

/** Fills defaults and validates; throws INVALID_CONFIG naming the setting. */
export function resolveBrokerConfig(input: Partial<BrokerConfig> & Pick<BrokerConfig, 'broker.id' | 'log.dirs' | 'coordinators'>): BrokerConfig {
  const c = { ...DEFAULT_BROKER_CONFIG, ...input } as BrokerConfig;
  if (!Number.isInteger(c['broker.id']) || c['broker.id'] < 0 || c['broker.id'] > 0x7fffffff) invalid('broker.id', 'must be an int >= 0');
  if (!c['log.dirs']) invalid('log.dirs', 'is required');
  if (!c.coordinators) invalid('coordinators', 'is required');
  if (!/^[^\s:]+:\d+$/.test(c.listeners)) invalid('listeners', `must be host:port, got ${JSON.stringify(c.listeners)}`);
  const positive: (keyof BrokerConfig)[] = [
    'num.partitions', 'replica.lag.time.max.ms', 'replica.fetch.wait.max.ms', 'replica.fetch.max.bytes', 'log.segment.bytes',
    'message.max.bytes', 'request.timeout.ms', 'queued.max.requests', 'coordinator.session.timeout.ms',
    'leader.imbalance.check.interval.seconds', 'log.retention.check.interval.ms',
    'group.min.session.timeout.ms', 'group.max.session.timeout.ms', 'group.max.size', 'offsets.topic.num.partitions',
    'offsets.topic.segment.bytes', 'offsets.retention.minutes', 'offsets.retention.check.interval.ms', 'offsets.commit.timeout.ms',
    'log.cleaner.backoff.ms', 'log.cleaner.dedupe.buffer.size',
  ];
  const lagWindow = c['group.lag.evaluation.window.ms'];
  if (!Number.isInteger(lagWindow) || lagWindow < 1_000) invalid('group.lag.evaluation.window.ms', `must be an integer >= 1000, got ${String(lagWindow)}`);
  for (const k of positive) {
    const v = c[k] as number;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) invalid(k, `must be a positive number, got ${String(v)}`);
  }
  const ratio = c['log.cleaner.min.cleanable.ratio'];
  if (typeof ratio !== 'number' || !(ratio >= 0 && ratio <= 1)) invalid('log.cleaner.min.cleanable.ratio', `must be between 0 and 1, got ${String(ratio)}`);
  for (const k of ['group.initial.rebalance.delay.ms', 'offset.metadata.max.bytes', 'log.cleaner.delete.retention.ms', 'log.cleaner.min.compaction.lag.ms'] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 0) invalid(k, `must be an integer >= 0, got ${String(c[k])}`);
  }
  for (const k of ['default.replication.factor', 'min.insync.replicas', 'offsets.topic.replication.factor'] as const) {
    const v = c[k];
    if (!Number.isInteger(v) || (v !== -1 && v < 1)) invalid(k, `must be -1 (derived) or >= 1, got ${String(v)}`);
  }
  if (c['log.message.timestamp.type'] !== 'CreateTime' && c['log.message.timestamp.type'] !== 'LogAppendTime') {
    invalid('log.message.timestamp.type', 'must be CreateTime or LogAppendTime');
  }
  return c;
}
