// The consumer's configuration (Kafka's ConsumerConfig names and defaults) for consuming by
// assignment. A group layer extends CONSUMER_CONFIG with its own keys (group.id, …) and passes
// the consumer the keys it knows.

import { COMMON_CONFIG } from './common-config.js';
import { INT_MAX, enumConfig, intConfig, parseConfig, type ConfigInput } from './config-def.js';
import { invalidConfig } from '../client-error.js';

export type OffsetResetStrategy = 'earliest' | 'latest' | 'none';

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
}

export function resolveConsumerConfig(input: unknown): ConsumerSettings {
  const { values: c } = parseConfig(CONSUMER_CONFIG, input, 'consumer');
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
  };
}
