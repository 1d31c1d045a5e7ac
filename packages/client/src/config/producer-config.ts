// The producer's configuration: Kafka's ProducerConfig names and defaults (Kafka 4.0 defaults:
// linger.ms=5, enable.idempotence=true, acks=all), validated and resolved into ProducerSettings.

import { invalidConfig, type ClientError } from '../client-error.js';
import { COMMON_CONFIG } from './common-config.js';
import {
  INT_MAX, booleanConfig, enumConfig, intConfig, parseConfig, type ConfigInput, type ConfigKey,
} from './config-def.js';

export type Acks = 0 | 1 | -1;
export type ProducerCompression = 'none' | 'gzip';

/** Kafka's limit for ordering under idempotence: the broker caches the last 5 batches per producer. */
export const MAX_IN_FLIGHT_FOR_IDEMPOTENCE = 5;

const acksConfig: ConfigKey<Acks> = {
  doc: 'acknowledgements the leader waits for: 0, 1 or all (-1)',
  default: -1,
  parse(raw, name) {
    const v = typeof raw === 'string' ? raw.trim().toLowerCase() : raw;
    if (v === 'all' || v === -1 || v === '-1') return -1;
    if (v === 0 || v === '0') return 0;
    if (v === 1 || v === '1') return 1;
    throw invalidConfig(`${name} must be all, -1, 0 or 1, got ${String(raw)}`);
  },
};

export const PRODUCER_CONFIG = {
  ...COMMON_CONFIG,
  acks: acksConfig,
  'batch.size': intConfig(16_384, 0, INT_MAX, 'bytes of records per partition batch'),
  'linger.ms': intConfig(5, 0, INT_MAX, 'how long a batch waits for more records'),
  'buffer.memory': intConfig(33_554_432, 1, Number.MAX_SAFE_INTEGER, 'bytes of records buffered before send() blocks'),
  'max.block.ms': intConfig(60_000, 0, Number.MAX_SAFE_INTEGER, 'how long send() may wait for metadata and buffer space'),
  retries: intConfig(INT_MAX, 0, INT_MAX, 'how often a failed batch is retried (within delivery.timeout.ms)'),
  'delivery.timeout.ms': intConfig(120_000, 0, INT_MAX, 'upper bound from send() to the acknowledgement or failure'),
  'enable.idempotence': booleanConfig(true, 'producer ids and sequence numbers so retries never duplicate'),
  'max.in.flight.requests.per.connection': intConfig(5, 1, INT_MAX, 'unacknowledged produce requests per broker'),
  'compression.type': enumConfig<ProducerCompression>('none', ['none', 'gzip'], 'compression of record batches'),
  'max.request.size': intConfig(1_048_576, 1, INT_MAX, 'the largest produce request (and record) in bytes'),
  'metadata.max.idle.ms': intConfig(300_000, 5_000, INT_MAX, 'forget a topic not produced to for this long'),
  'partitioner.ignore.keys': booleanConfig(false, 'place keyed records like keyless ones (sticky)'),
} as const;

export type ProducerConfig = ConfigInput<typeof PRODUCER_CONFIG>;

/** The resolved configuration, as the producer's parts use it. */
export interface ProducerSettings {
  bootstrapServers: string[];
  clientId: string;
  acks: Acks;
  batchSize: number;
  lingerMs: number;
  bufferMemory: number;
  maxBlockMs: number;
  retries: number;
  deliveryTimeoutMs: number;
  requestTimeoutMs: number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  idempotence: boolean;
  maxInFlight: number;
  compression: ProducerCompression;
  maxRequestSize: number;
  metadataMaxAgeMs: number;
  metadataMaxIdleMs: number;
  partitionerIgnoreKeys: boolean;
  metricsSampleWindowMs: number;
  metricsNumSamples: number;
}

function conflict(message: string): ClientError {
  return invalidConfig(message);
}

/**
 * Parses a producer config. As in Kafka: idempotence left at its default is turned off by
 * settings it cannot work with (acks other than all, retries=0, more than 5 in flight), but
 * an explicit enable.idempotence=true with such settings is an error; delivery.timeout.ms must
 * cover linger.ms + request.timeout.ms when set explicitly, and is raised to it otherwise.
 */
export function resolveProducerConfig(input: unknown): ProducerSettings {
  const { values: c, explicit } = parseConfig(PRODUCER_CONFIG, input, 'producer');
  let idempotence = c['enable.idempotence'];
  if (idempotence) {
    const userSet = explicit.has('enable.idempotence');
    const problems: string[] = [];
    if (c.retries === 0) problems.push('retries must be non-zero');
    if (c.acks !== -1) problems.push('acks must be all');
    if (c['max.in.flight.requests.per.connection'] > MAX_IN_FLIGHT_FOR_IDEMPOTENCE) {
      problems.push(`max.in.flight.requests.per.connection must be at most ${MAX_IN_FLIGHT_FOR_IDEMPOTENCE}`);
    }
    if (problems.length > 0) {
      if (userSet) throw conflict(`the idempotent producer needs: ${problems.join('; ')}`);
      idempotence = false;
    }
  }
  const lingerAndRequest = c['linger.ms'] + c['request.timeout.ms'];
  let deliveryTimeoutMs = c['delivery.timeout.ms'];
  if (deliveryTimeoutMs < lingerAndRequest) {
    if (explicit.has('delivery.timeout.ms')) {
      throw conflict(`delivery.timeout.ms (${deliveryTimeoutMs}) must be at least linger.ms + request.timeout.ms (${lingerAndRequest})`);
    }
    deliveryTimeoutMs = lingerAndRequest;
  }
  return {
    bootstrapServers: c['bootstrap.servers'],
    clientId: c['client.id'],
    acks: c.acks,
    batchSize: c['batch.size'],
    lingerMs: c['linger.ms'],
    bufferMemory: c['buffer.memory'],
    maxBlockMs: c['max.block.ms'],
    retries: c.retries,
    deliveryTimeoutMs,
    requestTimeoutMs: c['request.timeout.ms'],
    retryBackoffMs: c['retry.backoff.ms'],
    retryBackoffMaxMs: c['retry.backoff.max.ms'],
    idempotence,
    maxInFlight: c['max.in.flight.requests.per.connection'],
    compression: c['compression.type'],
    maxRequestSize: c['max.request.size'],
    metadataMaxAgeMs: c['metadata.max.age.ms'],
    metadataMaxIdleMs: c['metadata.max.idle.ms'],
    partitionerIgnoreKeys: c['partitioner.ignore.keys'],
    metricsSampleWindowMs: c['metrics.sample.window.ms'],
    metricsNumSamples: c['metrics.num.samples'],
  };
}
