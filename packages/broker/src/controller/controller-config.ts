// The controller's settings: Kafka's names and defaults for what Kafka configures, samsa limits
// (with units in their names) for the queues and retries the controller keeps.

import { KafkaError } from '@samsa/client';

export interface ControllerConfig {
  'broker.id': number;
  'num.partitions': number;
  /** -1: derived at topic creation: 3 with >= 3 live brokers, else the number of live brokers. */
  'default.replication.factor': number;
  'unclean.leader.election.enable': boolean;
  'auto.leader.rebalance.enable': boolean;
  'leader.imbalance.per.broker.percentage': number;
  /** Kafka's leader.imbalance.check.interval.seconds, in milliseconds so tests can shorten it. */
  'leader.imbalance.check.interval.ms': number;
  'delete.topic.enable': boolean;
}

export interface ControllerLimits {
  /** Requests waiting for one broker; past it the queue is dropped and the broker resynced in full. */
  maxQueuedRequestsPerBroker: number;
  /** Partition states per LeaderAndIsr / UpdateMetadata / StopReplica request (bigger batches are split). */
  maxPartitionsPerRequest: number;
  /** First and longest wait before re-sending a request a broker did not answer. */
  requestRetryBackoffMs: number;
  requestRetryBackoffMaxMs: number;
  /** A send that has not settled by then counts as failed (and is retried). */
  brokerRequestTimeoutMs: number;
  /** Admin requests (createTopics, controlledShutdown, …) waiting for the controller. */
  maxQueuedAdminRequests: number;
  /** Partitions written per coordinator multi. */
  maxPartitionsPerWrite: number;
  /** Coordinator reads in flight while loading the cluster state. */
  maxConcurrentReads: number;
  /** Compare-and-set rounds for a partition whose state keeps changing under the controller. */
  maxStateUpdateAttempts: number;
  /** Wait before retrying an event that failed on a coordinator error (and a failed topic deletion). */
  eventRetryBackoffMs: number;
  maxPartitionsPerTopic: number;
  maxTopicsPerRequest: number;
  /** ISR change notifications handled per event (more are handled by the next one). */
  maxIsrNotificationsPerEvent: number;
}

export const DEFAULT_CONTROLLER_CONFIG: Omit<ControllerConfig, 'broker.id'> = Object.freeze({
  'num.partitions': 1,
  'default.replication.factor': -1,
  'unclean.leader.election.enable': false,
  'auto.leader.rebalance.enable': true,
  'leader.imbalance.per.broker.percentage': 10,
  'leader.imbalance.check.interval.ms': 300_000,
  'delete.topic.enable': true,
});

export const DEFAULT_CONTROLLER_LIMITS: ControllerLimits = Object.freeze({
  maxQueuedRequestsPerBroker: 1_000,
  maxPartitionsPerRequest: 2_000,
  requestRetryBackoffMs: 100,
  requestRetryBackoffMaxMs: 5_000,
  brokerRequestTimeoutMs: 30_000,
  maxQueuedAdminRequests: 1_000,
  maxPartitionsPerWrite: 400,
  maxConcurrentReads: 64,
  maxStateUpdateAttempts: 10,
  eventRetryBackoffMs: 1_000,
  maxPartitionsPerTopic: 10_000,
  maxTopicsPerRequest: 1_000,
  maxIsrNotificationsPerEvent: 1_000,
});

function invalid(name: string, why: string): never {
  throw new KafkaError('INVALID_CONFIG', `${name}: ${why}`);
}

export function resolveControllerConfig(input: Partial<ControllerConfig> & Pick<ControllerConfig, 'broker.id'>): ControllerConfig {
  const c = { ...DEFAULT_CONTROLLER_CONFIG, ...input } as ControllerConfig;
  if (!Number.isInteger(c['broker.id']) || c['broker.id'] < 0 || c['broker.id'] > 0x7fffffff) invalid('broker.id', 'must be an int >= 0');
  if (!Number.isInteger(c['num.partitions']) || c['num.partitions'] < 1) invalid('num.partitions', 'must be an integer >= 1');
  const rf = c['default.replication.factor'];
  if (!Number.isInteger(rf) || (rf !== -1 && rf < 1)) invalid('default.replication.factor', 'must be -1 (derived) or >= 1');
  const pct = c['leader.imbalance.per.broker.percentage'];
  if (typeof pct !== 'number' || !Number.isFinite(pct) || pct < 0 || pct > 100) invalid('leader.imbalance.per.broker.percentage', 'must be 0..100');
  const interval = c['leader.imbalance.check.interval.ms'];
  if (!Number.isInteger(interval) || interval < 1) invalid('leader.imbalance.check.interval.ms', 'must be a positive integer');
  for (const k of ['unclean.leader.election.enable', 'auto.leader.rebalance.enable', 'delete.topic.enable'] as const) {
    if (typeof c[k] !== 'boolean') invalid(k, 'must be a boolean');
  }
  return Object.freeze(c);
}

export function resolveControllerLimits(input: Partial<ControllerLimits> = {}): ControllerLimits {
  const l = { ...DEFAULT_CONTROLLER_LIMITS, ...input };
  for (const [name, value] of Object.entries(l)) {
    if (!Number.isSafeInteger(value) || value < 1) invalid(name, 'must be a positive integer');
  }
  if (l.requestRetryBackoffMaxMs < l.requestRetryBackoffMs) invalid('requestRetryBackoffMaxMs', 'must be >= requestRetryBackoffMs');
  return Object.freeze(l);
}

/** default.replication.factor as it applies with `liveBrokers` brokers (samsa's derived default). */
export function effectiveDefaultReplicationFactor(config: ControllerConfig, liveBrokers: number): number {
  const v = config['default.replication.factor'];
  if (v > 0) return v;
  return liveBrokers >= 3 ? 3 : Math.max(1, liveBrokers);
}
