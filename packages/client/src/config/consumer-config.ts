// The consumer's configuration (Kafka's ConsumerConfig names and defaults): consuming by assignment
// and, with group.id, as a member of a consumer group (Kafka's classic group protocol).

import { COMMON_CONFIG } from './common-config.js';
import { INT_MAX, booleanConfig, enumConfig, intConfig, parseConfig, stringConfig, type ConfigInput, type ConfigKey } from './config-def.js';
import { invalidConfig } from '../client-error.js';

export type OffsetResetStrategy = 'earliest' | 'latest' | 'none';

/** partition.assignment.strategy values: the assignors' protocol names. */
export type AssignmentStrategyName = 'range' | 'roundrobin' | 'sticky' | 'cooperative-sticky';
export const ASSIGNMENT_STRATEGIES: readonly AssignmentStrategyName[] = ['range', 'roundrobin', 'sticky', 'cooperative-sticky'];

/** Kafka 3.x's default: range first, with cooperative-sticky listed so a group can be moved to it by rolling restarts. */
export const DEFAULT_ASSIGNMENT_STRATEGIES: readonly AssignmentStrategyName[] = ['range', 'cooperative-sticky'];

/** A list of assignors, as an array or a comma-separated string; Kafka's class names are accepted too. */
const assignmentStrategyConfig: ConfigKey<AssignmentStrategyName[]> = {
  doc: 'assignors this member supports, most preferred first (range, roundrobin, sticky, cooperative-sticky)',
  default: [...DEFAULT_ASSIGNMENT_STRATEGIES],
  parse(raw, name) {
    const parts = typeof raw === 'string' ? raw.split(',') : Array.isArray(raw) ? raw : null;
    if (!parts) throw invalidConfig(`${name} must be a list of assignors, got ${String(raw)}`);
    const byClass: Record<string, AssignmentStrategyName> = {
      'org.apache.kafka.clients.consumer.rangeassignor': 'range',
      'org.apache.kafka.clients.consumer.roundrobinassignor': 'roundrobin',
      'org.apache.kafka.clients.consumer.stickyassignor': 'sticky',
      'org.apache.kafka.clients.consumer.cooperativestickyassignor': 'cooperative-sticky',
    };
    const out: AssignmentStrategyName[] = [];
    for (const p of parts) {
      const v = typeof p === 'string' ? p.trim().toLowerCase() : p;
      if (v === '') continue;
      const named = typeof v === 'string' ? (byClass[v] ?? v) : v;
      if (typeof named !== 'string' || !(ASSIGNMENT_STRATEGIES as readonly string[]).includes(named)) {
        throw invalidConfig(`${name}: unknown assignor ${JSON.stringify(p)} (one of ${ASSIGNMENT_STRATEGIES.join(', ')})`);
      }
      if (!out.includes(named as AssignmentStrategyName)) out.push(named as AssignmentStrategyName);
    }
    if (out.length === 0) throw invalidConfig(`${name} must name at least one assignor`);
    return out;
  },
};

export const CONSUMER_CONFIG = {
  ...COMMON_CONFIG,
  'auto.offset.reset': enumConfig<OffsetResetStrategy>('latest', ['earliest', 'latest', 'none'], 'where to start without a valid position'),
  'fetch.min.bytes': intConfig(1, 0, INT_MAX, 'bytes a fetch waits for (up to fetch.max.wait.ms)'),
  'fetch.max.wait.ms': intConfig(500, 0, INT_MAX, 'how long the broker may hold a fetch for fetch.min.bytes'),
  'fetch.max.bytes': intConfig(52_428_800, 0, INT_MAX, 'bytes one fetch response may carry'),
  'max.partition.fetch.bytes': intConfig(1_048_576, 0, INT_MAX, 'bytes one partition may contribute to a fetch'),
  'max.poll.records': intConfig(500, 1, INT_MAX, 'records one poll() returns at most'),
  'default.api.timeout.ms': intConfig(60_000, 0, INT_MAX, 'timeout of position() and other blocking calls'),
  'isolation.level': enumConfig<'read_uncommitted' | 'read_committed'>('read_uncommitted', ['read_uncommitted', 'read_committed'], 'which records fetch returns'),
  // ---- consumer groups ----
  'group.id': stringConfig('', 255, 'the consumer group; empty: no group (assign() only, no commits)'),
  'group.instance.id': stringConfig('', 255, 'static membership: a restart within session.timeout.ms keeps the assignment without a rebalance'),
  'partition.assignment.strategy': assignmentStrategyConfig,
  'enable.auto.commit': booleanConfig(true, 'commit positions every auto.commit.interval.ms, before a rebalance and on close'),
  'auto.commit.interval.ms': intConfig(5_000, 0, INT_MAX, 'how often positions are committed when enable.auto.commit'),
  'session.timeout.ms': intConfig(45_000, 1, INT_MAX, 'the coordinator removes a member it has not heard from for this long'),
  'heartbeat.interval.ms': intConfig(3_000, 1, INT_MAX, 'how often the member heartbeats to the coordinator'),
  'max.poll.interval.ms': intConfig(300_000, 1, INT_MAX, 'the member leaves the group when poll() is not called for this long; also the rebalance timeout'),
} as const;

export type ConsumerConfig = ConfigInput<typeof CONSUMER_CONFIG>;

export interface ConsumerSettings {
  bootstrapServers: string[];
  clientId: string;
  autoOffsetReset: OffsetResetStrategy;
  fetchMinBytes: number;
  fetchMaxWaitMs: number;
  fetchMaxBytes: number;
  maxPartitionFetchBytes: number;
  maxPollRecords: number;
  defaultApiTimeoutMs: number;
  requestTimeoutMs: number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  metadataMaxAgeMs: number;
  metricsSampleWindowMs: number;
  metricsNumSamples: number;
  /** null: no group. */
  groupId: string | null;
  /** null: a dynamic member. */
  groupInstanceId: string | null;
  assignmentStrategies: AssignmentStrategyName[];
  enableAutoCommit: boolean;
  autoCommitIntervalMs: number;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  maxPollIntervalMs: number;
}

export function resolveConsumerConfig(input: unknown): ConsumerSettings {
  const { values: c, explicit } = parseConfig(CONSUMER_CONFIG, input, 'consumer');
  const groupId = c['group.id'] === '' ? null : c['group.id'];
  if (groupId === null && c['enable.auto.commit'] && explicit.has('enable.auto.commit')) {
    throw invalidConfig('enable.auto.commit=true needs a group.id (commits belong to a group)');
  }
  if (groupId === null && c['group.instance.id'] !== '') throw invalidConfig('group.instance.id needs a group.id');
  if (c['heartbeat.interval.ms'] >= c['session.timeout.ms']) {
    throw invalidConfig(`heartbeat.interval.ms (${c['heartbeat.interval.ms']}) must be lower than session.timeout.ms (${c['session.timeout.ms']})`);
  }
  if (c['isolation.level'] === 'read_committed') {
    throw invalidConfig('isolation.level=read_committed is not supported yet (samsa has no transactions)');
  }
  if (c['request.timeout.ms'] <= c['fetch.max.wait.ms']) {
    throw invalidConfig(`request.timeout.ms (${c['request.timeout.ms']}) must exceed fetch.max.wait.ms (${c['fetch.max.wait.ms']})`);
  }
  return {
    bootstrapServers: c['bootstrap.servers'],
    clientId: c['client.id'],
    autoOffsetReset: c['auto.offset.reset'],
    fetchMinBytes: c['fetch.min.bytes'],
    fetchMaxWaitMs: c['fetch.max.wait.ms'],
    fetchMaxBytes: c['fetch.max.bytes'],
    maxPartitionFetchBytes: c['max.partition.fetch.bytes'],
    maxPollRecords: c['max.poll.records'],
    defaultApiTimeoutMs: c['default.api.timeout.ms'],
    requestTimeoutMs: c['request.timeout.ms'],
    retryBackoffMs: c['retry.backoff.ms'],
    retryBackoffMaxMs: c['retry.backoff.max.ms'],
    metadataMaxAgeMs: c['metadata.max.age.ms'],
    metricsSampleWindowMs: c['metrics.sample.window.ms'],
    metricsNumSamples: c['metrics.num.samples'],
    groupId,
    groupInstanceId: c['group.instance.id'] === '' ? null : c['group.instance.id'],
    assignmentStrategies: c['partition.assignment.strategy'],
    // Kafka turns auto commit off without a group id (unless it was asked for, refused above).
    enableAutoCommit: groupId !== null && c['enable.auto.commit'],
    autoCommitIntervalMs: c['auto.commit.interval.ms'],
    sessionTimeoutMs: c['session.timeout.ms'],
    heartbeatIntervalMs: c['heartbeat.interval.ms'],
    maxPollIntervalMs: c['max.poll.interval.ms'],
  };
}
