// The client library (@samsa/client) against a real cluster: 1 coordinator and 3 brokers as
// processes, topics replicated 3 times. Producer → Consumer round trips, the Admin calls, and a
// consumer that keeps reading across a kill -9 of its partition's leader.
import { jest } from '@jest/globals';
import {
  Admin, BrokerRpc, ClientError, Consumer, KafkaError, Producer, kafkaErrorFromWire, type ConsumerRecord, type RecordMetadata, type TopicPartition,
} from '@samsa/client';
import { batchPositions, compressionOf, readBatchHeader } from '@samsa/log';
import { LocalCluster, waitFor } from '../src/cluster/local-cluster.js';

jest.setTimeout(60_000);

describe('client library against 1 coordinator + 3 brokers', () => {
  let cluster: LocalCluster;
  let servers: string;
  let admin: Admin;
  const closers: (() => Promise<unknown> | void)[] = [];

  beforeAll(async () => {
    cluster = await LocalCluster.start({ coordinators: 1, brokers: 3, brokerArgs: ['--auto.leader.rebalance.enable', 'false'] });
    servers = cluster.brokerAddresses.join(',');
    admin = new Admin({ 'bootstrap.servers': servers });
  }, 60_000);

  afterAll(async () => {
    for (const close of closers) await Promise.resolve(close()).catch(() => {});
    admin?.close();
    await cluster?.destroy();
  }, 30_000);

  const producer = (config: Record<string, string | number | boolean> = {}): Producer => {
    const p = new Producer({ 'bootstrap.servers': servers, 'delivery.timeout.ms': 45_000, 'request.timeout.ms': 5_000, ...config });
    closers.push(() => p.close({ timeoutMs: 2_000 }));
    return p;
  };
  const consumer = (): Consumer => {
    const c = new Consumer({ 'bootstrap.servers': servers, 'auto.offset.reset': 'earliest', 'fetch.max.wait.ms': 100 });
    closers.push(() => c.close());
    return c;
  };

  /** Polls until `count` records arrived (or the deadline passes, then fails saying how many). */
  async function pollRecords(c: Consumer, count: number, timeoutMs = 20_000): Promise<ConsumerRecord[]> {
    const out: ConsumerRecord[] = [];
    const deadline = Date.now() + timeoutMs;
    while (out.length < count && Date.now() < deadline) out.push(...(await c.poll(200)));
    if (out.length < count) throw new Error(`only ${out.length} of ${count} records within ${timeoutMs} ms`);
    return out;
  }

  async function createTopic(name: string, numPartitions: number, configs: Record<string, string> = {}): Promise<void> {
    await admin.createTopics([{ name, numPartitions, replicationFactor: 3, configs }]);
    const ready = await waitFor(async () => {
      const [t] = await admin.describeTopics([name]).catch(() => []);
      return t !== undefined && t.partitions.length === numPartitions && t.partitions.every((p) => p.leader >= 0 && p.isr.length === 3);
    }, 30_000, 100);
    if (!ready) throw new Error(`topic ${name} not fully in sync within 30 s`);
  }

  /** Compression codec of every batch the leader stores for a partition (a raw fetch, no client decoding). */
  async function storedCompression(topic: string, partition: number): Promise<string[]> {
    const [t] = await admin.describeTopics([topic]);
    const rpc = new BrokerRpc(cluster.brokerAddress(t!.partitions.find((p) => p.partition === partition)!.leader));
    try {
      const res = await rpc.fetch(
        {
          replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, replicaEpoch: -1,
          topics: [{ topic, partitions: [{ partition, fetchOffset: 0, partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1, logStartOffset: -1, lastFetchedEpoch: -1 }] }],
        },
        { timeoutMs: 5_000 },
      );
      const fp = res.topics[0]!.partitions[0]!;
      expect(kafkaErrorFromWire(fp.error)).toBeNull();
      return [...batchPositions(fp.records)].map(({ pos }) => compressionOf(readBatchHeader(fp.records, pos).attributes));
    } finally {
      rpc.close();
    }
  }

  test('Producer → Consumer round trip, acks=all and gzip: keys, values, tombstones, headers and timestamps come back as sent; a key stays on one partition in send order', async () => {
    await createTopic('roundtrip', 3);
    const p = producer({ acks: 'all', 'compression.type': 'gzip', 'linger.ms': 20 });
    const sent = Array.from({ length: 60 }, (_, i) => ({
      topic: 'roundtrip',
      key: `key-${i % 7}`,
      value: i % 10 === 9 ? null : `value-${i}-${'x'.repeat(i)}`,
      headers: i % 2 === 0
        ? [{ key: 'trace', value: `t${i}` }, { key: 'bytes', value: Buffer.from([0, 255, i]) }, { key: 'trace', value: null }]
        : { source: 'integration', n: String(i) },
      timestamp: i % 3 === 0 ? 1_700_000_000_000 + i : undefined,
    }));
    const acked: RecordMetadata[] = await Promise.all(sent.map((r) => p.send(r)));

    const c = consumer();
    const tps: TopicPartition[] = [0, 1, 2].map((partition) => ({ topic: 'roundtrip', partition }));
    c.assign(tps);
    c.seekToBeginning(tps);
    const received = await pollRecords(c, sent.length);
    expect(received).toHaveLength(sent.length);

    const at = new Map(received.map((r) => [`${r.partition}@${r.offset}`, r]));
    sent.forEach((s, i) => {
      const r = at.get(`${acked[i]!.partition}@${acked[i]!.offset}`);
      expect(r).toBeDefined();
      expect(r!.key?.toString()).toBe(s.key);
      expect(r!.value === null ? null : r!.value.toString()).toBe(s.value);
      const headers = Array.isArray(s.headers) ? s.headers : Object.entries(s.headers).map(([key, value]) => ({ key, value }));
      expect(r!.headers.map((h) => ({ key: h.key, value: h.value === null ? null : Buffer.from(h.value) }))).toEqual(
        headers.map((h) => ({ key: h.key, value: h.value === null ? null : Buffer.from(h.value) })),
      );
      expect(r!.timestamp).toBe(s.timestamp ?? acked[i]!.timestamp);
      expect(r!.timestampType).toBe('CreateTime');
      expect(r!.leaderEpoch).toBe(0);
    });

    // One partition per key, offsets dense from 0, and within a partition the send order.
    const partitionOfKey = new Map<string, number>();
    sent.forEach((s, i) => {
      expect(partitionOfKey.get(s.key) ?? acked[i]!.partition).toBe(acked[i]!.partition);
      partitionOfKey.set(s.key, acked[i]!.partition);
    });
    for (const tp of tps) {
      const offsets = acked.filter((m) => m.partition === tp.partition).map((m) => m.offset);
      expect(offsets).toEqual(offsets.map((_, i) => i));
    }
    for (const partition of new Set(acked.map((m) => m.partition))) {
      expect((await storedCompression('roundtrip', partition)).every((c) => c === 'gzip')).toBe(true);
    }
  });

  test('Admin describeTopics and describeCluster: leader, epoch, replicas and ISR of each partition; the brokers and the controller', async () => {
    await createTopic('described', 2);
    const [t] = await admin.describeTopics(['described']);
    expect(t).toMatchObject({ name: 'described', internal: false });
    expect(t!.partitions.map((p) => p.partition)).toEqual([0, 1]);
    for (const p of t!.partitions) {
      expect([...p.replicas].sort()).toEqual([1, 2, 3]);
      expect([...p.isr].sort()).toEqual([1, 2, 3]);
      expect(p.replicas).toContain(p.leader);
      expect(p).toMatchObject({ leaderEpoch: 0, offlineReplicas: [], underReplicated: false });
    }
    const description = await admin.describeCluster();
    expect(description.brokers.map((b) => `${b.host}:${b.port}`).sort()).toEqual([...cluster.brokerAddresses].sort());
    expect([1, 2, 3]).toContain(description.controllerId);
    expect(await admin.listTopics()).toEqual(expect.arrayContaining(['described', 'roundtrip']));
    await expect(admin.describeTopics(['not-there'])).rejects.toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });
    await expect(admin.createTopics([{ name: 'described', numPartitions: 1 }])).rejects.toMatchObject({ type: 'TOPIC_ALREADY_EXISTS' });
  });

  test('Admin describeConfigs and alterConfigs: defaults, creation-time overrides, SET and DELETE, validateOnly changes nothing, bad values are INVALID_CONFIG, broker configs by id', async () => {
    await createTopic('configured', 1, { 'retention.ms': '86400000' });
    const configOf = async (name: string) => {
      const [res] = await admin.describeConfigs([{ type: 'topic', name: 'configured', keys: [name] }]);
      expect(res!.configs).toHaveLength(1);
      return res!.configs[0]!;
    };
    expect(await configOf('retention.ms')).toMatchObject({ name: 'retention.ms', value: '86400000', isDefault: false });
    expect(await configOf('min.insync.replicas')).toMatchObject({ value: '2', isDefault: true });

    await admin.alterConfigs([{ type: 'topic', name: 'configured', ops: [{ name: 'min.insync.replicas', op: 'SET', value: '3' }] }], { validateOnly: true });
    expect(await configOf('min.insync.replicas')).toMatchObject({ value: '2', isDefault: true });

    await admin.alterConfigs([
      { type: 'topic', name: 'configured', ops: [{ name: 'min.insync.replicas', op: 'SET', value: '3' }, { name: 'retention.ms', op: 'DELETE' }] },
    ]);
    expect(await configOf('min.insync.replicas')).toMatchObject({ value: '3', isDefault: false });
    expect(await configOf('retention.ms')).toMatchObject({ value: '604800000', isDefault: true });

    await expect(admin.alterConfigs([{ type: 'topic', name: 'configured', ops: [{ name: 'retention.ms', op: 'SET', value: 'forever' }] }])).rejects.toMatchObject({ type: 'INVALID_CONFIG' });
    await expect(admin.alterConfigs([{ type: 'topic', name: 'configured', ops: [{ name: 'no.such.key', op: 'SET', value: '1' }] }])).rejects.toMatchObject({ type: 'INVALID_CONFIG' });
    await expect(admin.describeConfigs([{ type: 'topic', name: 'not-there' }])).rejects.toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });

    const [broker] = await admin.describeConfigs([{ type: 'broker', name: '2' }]);
    expect(broker!.configs.length).toBeGreaterThan(0);
    expect(broker!.configs.find((c) => c.name === 'num.partitions')).toMatchObject({ value: '1' });
  });

  test('Admin listOffsets: earliest, latest, and by timestamp (the first record at or after it; -1 past the last); unknown topics and deletes fail at once with UNKNOWN_TOPIC_OR_PARTITION', async () => {
    await createTopic('timed', 1);
    const base = 1_700_000_000_000;
    const p = producer({ acks: 'all', 'linger.ms': 0 });
    for (let i = 0; i < 5; i++) await p.send({ topic: 'timed', partition: 0, value: `at-${i}`, timestamp: base + i * 1_000 });

    const specs = [
      { spec: 'earliest' as const, offset: 0 },
      { spec: 'latest' as const, offset: 5 },
      { spec: { timestamp: base - 1 }, offset: 0, timestamp: base },
      { spec: { timestamp: base + 1_000 }, offset: 1, timestamp: base + 1_000 },
      { spec: { timestamp: base + 2_500 }, offset: 3, timestamp: base + 3_000 },
      { spec: { timestamp: base + 4_000 }, offset: 4, timestamp: base + 4_000 },
      { spec: { timestamp: base + 4_001 }, offset: -1 },
    ];
    for (const s of specs) {
      // One spec per partition and call, as Kafka's ListOffsets takes it.
      const [listed] = await admin.listOffsets([{ topic: 'timed', partition: 0, spec: s.spec }]);
      expect({ spec: s.spec, offset: listed!.offset }).toEqual({ spec: s.spec, offset: s.offset });
      if (s.timestamp !== undefined) expect(listed!.timestamp).toBe(s.timestamp);
    }
    await expect(admin.listOffsets([{ topic: 'not-there', partition: 0, spec: 'latest' }])).rejects.toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });
    // Before the fix this retried UNKNOWN_TOPIC_OR_PARTITION until the timeout (API_TIMEOUT).
    const error = await admin.deleteTopics(['not-there'], { timeoutMs: 20_000 }).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(KafkaError);
    expect(error).not.toBeInstanceOf(ClientError);
    expect(error).toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });
  });

  test('a consumer follows a leader change: kill -9 of the leader mid-stream, every acknowledged record is read once, in order, the later ones at a higher leader epoch', async () => {
    await createTopic('follow', 1);
    const tp = { topic: 'follow', partition: 0 };
    const p = producer({ acks: 'all', 'linger.ms': 0, 'retry.backoff.max.ms': 200 });
    const c = consumer();
    c.assign([tp]);
    c.seekToBeginning([tp]);

    const send = (from: number, to: number) => Promise.all(Array.from({ length: to - from }, (_, i) => p.send({ topic: 'follow', partition: 0, value: `m${from + i}` })));
    await send(0, 50);
    const first = await pollRecords(c, 50);
    const [before] = await admin.describeTopics(['follow']);
    const leader = before!.partitions[0]!.leader;

    await cluster.kill(`broker-${leader}`);
    await send(50, 100);
    const second = await pollRecords(c, 50, 30_000);

    const all = [...first, ...second];
    expect(all.map((r) => r.value?.toString())).toEqual(Array.from({ length: 100 }, (_, i) => `m${i}`));
    expect(all.map((r) => r.offset)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(first.every((r) => r.leaderEpoch === 0)).toBe(true);
    expect(second.every((r) => (r.leaderEpoch ?? 0) > 0)).toBe(true);
    const [after] = await admin.describeTopics(['follow']);
    expect(after!.partitions[0]!.leader).not.toBe(leader);
    expect(await c.position(tp)).toBe(100);
    await cluster.restart(`broker-${leader}`);
  });
});
