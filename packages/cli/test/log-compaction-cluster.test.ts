// Log compaction on a cluster of processes (1 coordinator + 2 brokers): a cleanup.policy=compact
// topic replicated twice is cleaned by both brokers, each its own copy (samsa_log_cleaner_runs_total
// rises on the leader and on the follower); after the leader is killed with SIGKILL, a consumer
// reading the whole partition from the former follower gets, for every key, exactly the last value
// that was acknowledged, and fewer records than were produced.
import { jest } from '@jest/globals';
import { Admin, BrokerRpc, type WireError } from '@samsa/client';
import { LOG_OVERHEAD, decodeBatch, encodeBatch } from '@samsa/log';
import { LocalCluster, waitFor } from '../src/cluster/local-cluster.js';

jest.setTimeout(120_000);

const TOPIC = 'compacted-prices';
const opts = { timeoutMs: 5_000 };
const name = (e: WireError): string | null => (e && e.code ? e.name : null);

describe('log compaction on a 2-broker cluster', () => {
  let cluster: LocalCluster;
  const rpcs = new Map<number, BrokerRpc>();
  const rpc = (id: number): BrokerRpc => {
    let r = rpcs.get(id);
    if (!r) rpcs.set(id, (r = new BrokerRpc(cluster.brokerAddress(id))));
    return r;
  };

  beforeAll(async () => {
    cluster = await LocalCluster.start({
      coordinators: 1,
      brokers: 2,
      brokerArgs: ['--log.cleaner.backoff.ms', '200', '--auto.leader.rebalance.enable', 'false'],
    });
  }, 90_000);

  afterAll(async () => {
    for (const r of rpcs.values()) r.close();
    await cluster?.destroy();
  }, 30_000);

  async function cleanerRuns(id: number): Promise<number> {
    const n = cluster.node(`broker-${id}`);
    const text = await fetch(`http://${n.host}:${n.ports.metrics}/metrics`).then((r) => r.text()).catch(() => '');
    const m = /^samsa_log_cleaner_runs_total(?:\{[^}]*\})? (\d+)/m.exec(text);
    return m ? Number(m[1]) : 0;
  }

  async function partitionState(via: number): Promise<{ leader: number; isr: number[] } | null> {
    const md = await rpc(via).metadata({ topics: [TOPIC], allTopics: false }, opts).catch(() => null);
    const p = md?.topics[0]?.partitions[0];
    return p && name(p.error) === null ? { leader: p.leader, isr: p.isr } : null;
  }

  async function consumeAll(id: number): Promise<{ offset: number; key: string; value: string }[]> {
    const out: { offset: number; key: string; value: string }[] = [];
    let offset = 0;
    for (;;) {
      const res = await rpc(id).fetch({
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

  test('leader and follower compact their own copies; after the leader dies the follower serves the latest value of every key', async () => {
    // Through the Admin, which finds the controller (a broker that is not it answers NOT_CONTROLLER).
    const admin = new Admin({ 'bootstrap.servers': cluster.brokerAddresses.join(',') });
    try {
      await admin.createTopics([{ name: TOPIC, numPartitions: 1, replicationFactor: 2, configs: { 'cleanup.policy': 'compact', 'segment.bytes': '4096' } }]);
    } finally {
      admin.close();
    }
    let state: { leader: number; isr: number[] } | null = null;
    expect(await waitFor(async () => {
      state = await partitionState(1);
      return state !== null && state.leader > 0 && state.isr.length === 2;
    }, 30_000, 100)).toBe(true);
    const leader = state!.leader;
    const follower = leader === 1 ? 2 : 1;

    const latest = new Map<string, string>();
    let produced = 0;
    for (let round = 0; round < 60; round++) {
      const records = Array.from({ length: 10 }, (_, i) => ({ key: `sku-${(round * 7 + i) % 30}`, value: `price-${round}-${i}` }));
      const batch = encodeBatch({ records: records.map((r) => ({ key: Buffer.from(r.key), value: Buffer.from(r.value) })), timestamp: Date.now() });
      const res = await rpc(leader).produce({ acks: -1, timeoutMs: 10_000, topics: [{ topic: TOPIC, partitions: [{ partition: 0, records: batch }] }] }, opts);
      expect(name(res.topics[0]!.partitions[0]!.error)).toBeNull();
      for (const r of records) latest.set(r.key, r.value);
      produced += records.length;
    }

    // Each broker's own cleaner compacts its own replica.
    expect(await waitFor(async () => (await cleanerRuns(leader)) >= 1 && (await cleanerRuns(follower)) >= 1, 30_000, 200)).toBe(true);
    // The follower's copy is caught up (and cleaned) before its leader goes.
    expect(await waitFor(async () => (await partitionState(follower))?.isr.length === 2, 10_000, 100)).toBe(true);

    await cluster.kill(`broker-${leader}`);
    expect(await waitFor(async () => (await partitionState(follower))?.leader === follower, 30_000, 100)).toBe(true);

    const consumed = await consumeAll(follower);
    expect(consumed.length).toBeLessThan(produced);
    for (let i = 1; i < consumed.length; i++) expect(consumed[i]!.offset).toBeGreaterThan(consumed[i - 1]!.offset);
    const seen = new Map<string, string>();
    for (const r of consumed) seen.set(r.key, r.value);
    expect(seen).toEqual(latest);
  });
});
