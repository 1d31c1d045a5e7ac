// Consumer metrics under Kafka's names, computed from what the consumer did (records handed out,
// fetch and commit latencies on the manual clock, assigned partitions, lag), and the export of a
// consumer's and a producer's metrics to one prom-client registry with a client_id label.

import { Registry } from 'prom-client';
import { Consumer } from '../src/consumer/consumer.js';
import { Producer } from '../src/producer/producer.js';
import { registerClientMetrics } from '../src/metrics/prometheus.js';
import type { ListOffsetsRequest } from '../src/protocol/wire-types.js';
import { batch } from './helpers/batches.js';
import { ManualClock, advanceAndSettle } from './helpers/manual-clock.js';
import { ScriptedNetwork, metadataResponse } from './helpers/scripted-network.js';
import { seededRandom } from './helpers/seeded-random.js';

describe('consumer metrics', () => {
  test('records-consumed, bytes-consumed, fetch-latency, commit-latency, assigned-partitions and records-lag-max; exported to Prometheus', async () => {
    const clock = new ManualClock();
    const net = new ScriptedNetwork();
    net.autoRespond((c) => {
      if (c.method === 'metadata') return metadataResponse({ brokers: [1], topics: { t: [{ leader: 1 }] } });
      if (c.method === 'findCoordinator') return { error: null, nodeId: 1, host: 'broker1', port: 9092 };
      if (c.method === 'listOffsets') {
        const req = c.request as ListOffsetsRequest;
        return { topics: req.topics.map((t) => ({ topic: t.topic, partitions: t.partitions.map((p) => ({ partition: p.partition, error: null, timestamp: -1, offset: 0, leaderEpoch: 0 })) })) };
      }
      return undefined;
    });
    const consumer = new Consumer(
      { 'bootstrap.servers': 'seed:9092', 'group.id': 'g', 'enable.auto.commit': false, 'auto.offset.reset': 'earliest' },
      { clock, connector: net.connector, random: seededRandom(), committedOffsets: { fetchCommitted: async (tps) => tps.map(() => null) } },
    );
    consumer.assign([{ topic: 't', partition: 0 }]);
    const polled = consumer.poll(1_000);
    const fetch = await net.next('fetch');
    clock.advance(40);
    // 4 records with 2-byte keys and 1-byte values; the high watermark says 10 more are waiting.
    fetch.respond({ error: null, topics: [{ topic: 't', partitions: [{ partition: 0, error: null, highWatermark: 14, logStartOffset: 0, logEndOffset: 14, records: batch(0, ['a', 'b', 'c', 'd']), divergingEpoch: null }] }] });
    expect(await polled).toHaveLength(4);
    const committing = consumer.commitSync();
    const commit = await net.next('offsetCommit');
    clock.advance(12);
    commit.respond({ topics: [{ topic: 't', partitions: [{ partition: 0, error: null }] }] });
    await committing;
    const m = consumer.metrics();
    expect(m['records-consumed-total']).toBe(4);
    expect(m['bytes-consumed-total']).toBe(4 * 3);
    expect(m['fetch-latency-avg']).toBe(40);
    expect(m['commit-latency-avg']).toBe(12);
    expect(m['commit-total']).toBe(1);
    expect(m['assigned-partitions']).toBe(1);
    expect(m['records-lag-max']).toBe(10);
    // 4 records over the window: 12 ms since the sample began, plus one full window (Kafka counts numSamples-1 of them at least).
    expect(m['records-consumed-rate']).toBeCloseTo(4 / 30.012, 9);

    const registry = new Registry();
    const unregister = registerClientMetrics(registry, 'consumer', consumer, 'c-1');
    const text = await registry.metrics();
    expect(text).toContain('kafka_consumer_records_consumed_total{client_id="c-1"} 4');
    expect(text).toContain('kafka_consumer_commit_latency_avg{client_id="c-1"} 12');
    expect(text).toContain('kafka_consumer_assigned_partitions{client_id="c-1"} 1');
    // sync-time-avg has no sample yet (NaN): no series rather than NaN.
    expect(text).not.toContain('kafka_consumer_sync_time_avg{');
    expect(() => registerClientMetrics(registry, 'consumer', consumer, 'c-1')).toThrow(/already registered/);
    // A producer in the same registry: its own family, with its client_id.
    const producer = new Producer({ 'bootstrap.servers': 'seed:9092' }, { clock, connector: net.connector, random: seededRandom() });
    const unregisterProducer = registerClientMetrics(registry, 'producer', producer, 'p-1');
    const both = await registry.metrics();
    expect(both).toContain('kafka_producer_record_send_total{client_id="p-1"} 0');
    expect(both).toContain('kafka_producer_buffer_available_bytes{client_id="p-1"} 33554432');
    unregisterProducer();
    await producer.close({ timeoutMs: 0 });
    unregister();
    expect(await registry.metrics()).not.toContain('client_id="c-1"');
    await advanceAndSettle(clock, 1);
    await consumer.close({ timeoutMs: 0 });
  });
});
