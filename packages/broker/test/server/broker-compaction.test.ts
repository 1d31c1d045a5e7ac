// A real broker (one coordination-service member and one BrokerServer in this process, gRPC on
// port 0, logs in a temp dir) compacts a topic created with cleanup.policy=compact: its log
// cleaner runs on its own timer, and a consumer fetching from offset 0 then reads, for every key,
// exactly the last value produced, with fewer records than were produced and offsets still
// increasing across the gaps. A keyless record is refused with INVALID_RECORD, and
// __consumer_offsets is created compacted.

import { jest } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrokerRpc, type WireError } from '@samsa/client';
import { silentLogger } from '@samsa/coordinator';
import { decodeBatch, encodeBatch, LOG_OVERHEAD } from '@samsa/log';
import { startSingleMember } from '../../../coordinator/test/client/single-member.js';
import { BrokerServer } from '../../src/server/broker-server.js';
import { eventually } from '../controller/helpers.js';

jest.setTimeout(60_000);

const opts = { timeoutMs: 10_000 };
const TOPIC = 'latest-prices';
const name = (e: WireError): string | null => (e && e.code ? e.name : null);

let service: Awaited<ReturnType<typeof startSingleMember>>;
let dir: string;
let broker: BrokerServer;
let rpc: BrokerRpc;

beforeAll(async () => {
  service = await startSingleMember();
  dir = mkdtempSync(join(tmpdir(), 'samsa-broker-compaction-'));
  broker = await BrokerServer.start({
    config: {
      'broker.id': 1,
      'log.dirs': dir,
      coordinators: service.address,
      listeners: '127.0.0.1:0',
      'metrics.port': -1,
      'offsets.topic.num.partitions': 1,
      'controlled.shutdown.enable': false,
      'log.cleaner.backoff.ms': 100,
    },
    logger: silentLogger,
  });
  rpc = new BrokerRpc(`127.0.0.1:${broker.listenPort}`);
  await eventually(async () => (await rpc.metadata({ topics: [], allTopics: true }, opts)).brokers.length === 1, 'broker registered', 20_000);
});

afterAll(async () => {
  rpc?.close();
  await broker?.stop(false).catch(() => {});
  await service?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function produce(records: { key: string | null; value: string }[]): Promise<string | null> {
  const batch = encodeBatch({ records: records.map((r) => ({ key: r.key === null ? null : Buffer.from(r.key), value: Buffer.from(r.value) })), timestamp: Date.now() });
  const res = await rpc.produce({ acks: -1, timeoutMs: 10_000, topics: [{ topic: TOPIC, partitions: [{ partition: 0, records: batch }] }] }, opts);
  return name(res.topics[0]!.partitions[0]!.error);
}

/** Every record of the partition from offset 0, as a consumer fetches them. */
async function consumeAll(): Promise<{ offset: number; key: string; value: string }[]> {
  const out: { offset: number; key: string; value: string }[] = [];
  let offset = 0;
  for (;;) {
    const res = await rpc.fetch({
      replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, replicaEpoch: -1,
      topics: [{ topic: TOPIC, partitions: [{ partition: 0, fetchOffset: offset, partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1, logStartOffset: -1, lastFetchedEpoch: -1 }] }],
    }, opts);
    const p = res.topics[0]!.partitions[0]!;
    expect(name(p.error)).toBeNull();
    if (p.records.length === 0) break;
    for (let pos = 0; pos < p.records.length; pos += p.records.readInt32BE(pos + 8) + LOG_OVERHEAD) {
      const b = decodeBatch(p.records, pos);
      for (const r of b.records) if (r.offset >= offset) out.push({ offset: r.offset, key: r.key!.toString(), value: r.value!.toString() });
      offset = Math.max(offset, b.header.baseOffset + b.header.lastOffsetDelta + 1);
    }
    if (offset >= p.highWatermark) break;
  }
  return out;
}

describe('log compaction on a broker', () => {
  test('the cleaner compacts a cleanup.policy=compact topic and a consumer reads the latest value of every key', async () => {
    const created = await rpc.createTopics({
      topics: [{ name: TOPIC, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [
        { name: 'cleanup.policy', value: 'compact' }, { name: 'segment.bytes', value: '4096' },
      ] }],
      timeoutMs: 10_000, validateOnly: false,
    }, opts);
    expect(name(created.topics[0]!.error)).toBeNull();
    await eventually(async () => (await produce([{ key: 'warmup', value: '0' }])) === null, 'partition writable', 20_000);

    const latest = new Map<string, string>([['warmup', '0']]);
    let produced = 1;
    for (let round = 0; round < 40; round++) {
      const records = Array.from({ length: 10 }, (_, i) => ({ key: `sku-${(round * 3 + i) % 25}`, value: `price-${round}-${i}` }));
      expect(await produce(records)).toBeNull();
      for (const r of records) latest.set(r.key, r.value);
      produced += records.length;
    }
    // Everything below the active segment cleaned (a cleaning may also have run while producing).
    const activeBase = (): number => broker.replicas.get(TOPIC, 0)!.log.segmentBaseOffsets().at(-1)!;
    await eventually(() => (broker.cleaner?.cleanedTo(TOPIC, 0) ?? 0) === activeBase() && activeBase() > 0, 'the log cleaner compacted the topic', 30_000);
    const checkpoint = broker.cleaner!.cleanedTo(TOPIC, 0)!;

    const consumed = await consumeAll();
    expect(consumed.length).toBeLessThan(produced);
    for (let i = 1; i < consumed.length; i++) expect(consumed[i]!.offset).toBeGreaterThan(consumed[i - 1]!.offset);
    const seen = new Map<string, string>();
    for (const r of consumed) seen.set(r.key, r.value);
    expect(seen).toEqual(latest);
    // Below the cleaner checkpoint each key is there at most once.
    const cleaned = consumed.filter((r) => r.offset < checkpoint).map((r) => r.key);
    expect(new Set(cleaned).size).toBe(cleaned.length);
    const text = await broker.registry.metrics();
    expect(text).toMatch(/samsa_log_cleaner_runs_total(\{[^}]*\})? [1-9]/);
  });

  test('a record without a key is refused in a compacted topic (INVALID_RECORD)', async () => {
    expect(await produce([{ key: 'fine', value: 'x' }, { key: null, value: 'no key' }])).toBe('INVALID_RECORD');
    expect(await produce([{ key: 'fine', value: 'y' }])).toBeNull();
  });

  test('__consumer_offsets is created with cleanup.policy=compact', async () => {
    await eventually(async () => name((await rpc.findCoordinator({ key: 'g', keyType: 0 }, opts)).error) === null, 'FindCoordinator answers', 20_000);
    const d = await rpc.describeConfigs({ resources: [{ type: 'TOPIC', name: '__consumer_offsets', keys: ['cleanup.policy', 'segment.bytes'] }] }, opts);
    const configs = Object.fromEntries(d.results[0]!.configs.map((c) => [c.name, c.value]));
    expect(configs).toEqual({ 'cleanup.policy': 'compact', 'segment.bytes': '104857600' });
  });
});
