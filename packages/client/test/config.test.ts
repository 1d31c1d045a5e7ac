// Configs take Kafka's names and defaults; unknown keys and bad values are INVALID_CONFIG naming
// the key; the producer resolves idempotence and delivery.timeout.ms conflicts as Kafka does.

import { ClientError } from '../src/client-error.js';
import { parseBootstrapServers } from '../src/config/common-config.js';
import { resolveAdminConfig } from '../src/config/admin-config.js';
import { resolveConsumerConfig } from '../src/config/consumer-config.js';
import { resolveProducerConfig } from '../src/config/producer-config.js';

function configError(fn: () => unknown): ClientError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ClientError);
    expect((err as ClientError).code).toBe('INVALID_CONFIG');
    return err as ClientError;
  }
  throw new Error('expected INVALID_CONFIG');
}

const bootstrap = { 'bootstrap.servers': 'localhost:9092' };

describe('producer config', () => {
  test("Kafka's defaults", () => {
    const s = resolveProducerConfig(bootstrap);
    expect(s).toMatchObject({
      bootstrapServers: ['localhost:9092'],
      acks: -1,
      batchSize: 16_384,
      lingerMs: 5,
      bufferMemory: 33_554_432,
      maxBlockMs: 60_000,
      retries: 2_147_483_647,
      retryBackoffMs: 100,
      retryBackoffMaxMs: 1_000,
      deliveryTimeoutMs: 120_000,
      requestTimeoutMs: 30_000,
      idempotence: true,
      maxInFlight: 5,
      compression: 'none',
      maxRequestSize: 1_048_576,
      metadataMaxAgeMs: 300_000,
    });
  });

  test('string values as from a properties file or the command line', () => {
    const s = resolveProducerConfig({ ...bootstrap, acks: '1', 'linger.ms': '20', 'enable.idempotence': 'false', 'compression.type': 'GZIP' });
    expect([s.acks, s.lingerMs, s.idempotence, s.compression]).toEqual([1, 20, false, 'gzip']);
    expect(resolveProducerConfig({ ...bootstrap, acks: 'all' }).acks).toBe(-1);
    expect(resolveProducerConfig({ ...bootstrap, acks: 0, 'enable.idempotence': false }).acks).toBe(0);
  });

  test('unknown keys, bad values and missing bootstrap.servers are rejected by name', () => {
    expect(configError(() => resolveProducerConfig({ ...bootstrap, 'linger.msec': 5 })).message).toContain('"linger.msec"');
    expect(configError(() => resolveProducerConfig({ ...bootstrap, 'batch.size': -1 })).message).toContain('batch.size');
    expect(configError(() => resolveProducerConfig({ ...bootstrap, 'linger.ms': 1.5 })).message).toContain('linger.ms');
    expect(configError(() => resolveProducerConfig({ ...bootstrap, acks: 2 })).message).toContain('acks');
    expect(configError(() => resolveProducerConfig({ ...bootstrap, 'compression.type': 'snappy' })).message).toContain('compression.type');
    expect(configError(() => resolveProducerConfig({})).message).toContain('bootstrap.servers is required');
    configError(() => resolveProducerConfig(null));
  });

  test('idempotence left at its default gives way to conflicting settings; set explicitly it is an error', () => {
    expect(resolveProducerConfig({ ...bootstrap, acks: 1 }).idempotence).toBe(false);
    expect(resolveProducerConfig({ ...bootstrap, retries: 0 }).idempotence).toBe(false);
    expect(resolveProducerConfig({ ...bootstrap, 'max.in.flight.requests.per.connection': 6 }).idempotence).toBe(false);
    expect(configError(() => resolveProducerConfig({ ...bootstrap, acks: 1, 'enable.idempotence': true })).message).toContain('acks must be all');
    expect(
      configError(() => resolveProducerConfig({ ...bootstrap, 'enable.idempotence': true, 'max.in.flight.requests.per.connection': 6 })).message,
    ).toContain('at most 5');
  });

  test('delivery.timeout.ms must cover linger.ms + request.timeout.ms when set, and is raised to it otherwise', () => {
    expect(resolveProducerConfig({ ...bootstrap, 'request.timeout.ms': 200_000 }).deliveryTimeoutMs).toBe(200_005);
    configError(() => resolveProducerConfig({ ...bootstrap, 'delivery.timeout.ms': 1000 }));
  });
});

describe('consumer and admin config', () => {
  test("Kafka's consumer defaults and checks", () => {
    expect(resolveConsumerConfig(bootstrap)).toMatchObject({
      autoOffsetReset: 'latest',
      fetchMinBytes: 1,
      fetchMaxWaitMs: 500,
      fetchMaxBytes: 52_428_800,
      maxPartitionFetchBytes: 1_048_576,
      maxPollRecords: 500,
      requestTimeoutMs: 30_000,
      defaultApiTimeoutMs: 60_000,
    });
    expect(configError(() => resolveConsumerConfig({ ...bootstrap, 'auto.offset.reset': 'smallest' })).message).toContain('auto.offset.reset');
    expect(configError(() => resolveConsumerConfig({ ...bootstrap, 'isolation.level': 'read_committed' })).message).toContain('not supported');
    configError(() => resolveConsumerConfig({ ...bootstrap, 'max.poll.records': 0 }));
    expect(resolveConsumerConfig({ ...bootstrap, 'group.id': 'g' })).toMatchObject({
      groupId: 'g',
      groupInstanceId: null,
      assignmentStrategies: ['range', 'cooperative-sticky'],
      enableAutoCommit: true,
      autoCommitIntervalMs: 5_000,
      sessionTimeoutMs: 45_000,
      heartbeatIntervalMs: 3_000,
      maxPollIntervalMs: 300_000,
    });
    // Without a group, auto commit is off (and asking for it is an error), as in Kafka.
    expect(resolveConsumerConfig(bootstrap)).toMatchObject({ groupId: null, enableAutoCommit: false });
    configError(() => resolveConsumerConfig({ ...bootstrap, 'enable.auto.commit': true }));
    expect(resolveConsumerConfig({ ...bootstrap, 'group.id': 'g', 'partition.assignment.strategy': 'org.apache.kafka.clients.consumer.CooperativeStickyAssignor' }).assignmentStrategies).toEqual(['cooperative-sticky']);
    expect(configError(() => resolveConsumerConfig({ ...bootstrap, 'group.id': 'g', 'partition.assignment.strategy': ['range', 'nope'] })).message).toContain('nope');
    expect(configError(() => resolveConsumerConfig({ ...bootstrap, 'group.id': 'g', 'heartbeat.interval.ms': 45_000 })).message).toContain('heartbeat.interval.ms');
    configError(() => resolveConsumerConfig({ ...bootstrap, 'group.instance.id': 'i' }));
    configError(() => resolveConsumerConfig({ ...bootstrap, 'fetch.max.wait.ms': 40_000 }));
  });

  test('admin defaults', () => {
    expect(resolveAdminConfig(bootstrap)).toMatchObject({ defaultApiTimeoutMs: 60_000, requestTimeoutMs: 30_000, retries: 2_147_483_647 });
  });
});

describe('bootstrap.servers', () => {
  test('accepts a comma list or an array, trims, dedupes, and takes bracketed IPv6', () => {
    expect(parseBootstrapServers(' a:1 , b.example.com:9092,a:1,[::1]:9093 ')).toEqual(['a:1', 'b.example.com:9092', '[::1]:9093']);
    expect(parseBootstrapServers(['h:1', 'h:2'])).toEqual(['h:1', 'h:2']);
  });

  test('rejects entries that are not host:port', () => {
    for (const bad of ['', 'host', 'host:', 'host:0', 'host:70000', ':9092', 'a b:1', '::1:9092', 42]) {
      configError(() => parseBootstrapServers(bad));
    }
  });
});
