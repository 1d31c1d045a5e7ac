// Benchmark of consumer groups on a local cluster of 1 coordinator and 3 brokers (real OS
// processes on loopback), printed as JSON lines:
//   group.baseline.assign     one consumer reading a 6-partition topic by assign(): records/s (the
//                             baseline, same run, same records)
//   group.consume             one group member reading the same topic with subscribe() and auto
//                             commit every second: records/s
//   group.rebalance           30 partitions, 9 members consuming while a producer writes; a 10th
//                             joins: ms from its subscribe() until every member holds its final 3
//                             partitions, per protocol (eager range, cooperative-sticky), with the
//                             partitions revoked from members that kept them (cooperative: 0) and
//                             the longest pause in deliveries of partitions that did not move,
//                             next to the longest pause of the same partitions in 3 s before the
//                             10th member came (the producer's own rhythm on a busy machine)
//
//   cd packages/cli && npx tsc -b && npx tsx --conditions=@samsa/source bench/consumer-group.ts
//
// Members learn of a rebalance from their next heartbeat, so heartbeat.interval.ms bounds the
// rebalance time; it is 500 ms here (Kafka's default, 3000, would add up to 3 s). Clients run in
// this process and share the machine with the nodes.

import { Admin, Consumer, Producer, type TopicPartition } from '@samsa/client';
import { LocalCluster, waitFor } from '../src/cluster/local-cluster.js';

const RECORDS = Number(process.env.SAMSA_BENCH_RECORDS ?? 200_000);
const RECORD_BYTES = 100;
const HEARTBEAT_MS = 500;
const BROKER_ARGS = ['--group.initial.rebalance.delay.ms', '0', '--group.min.session.timeout.ms', '2000', '--offsets.topic.num.partitions', '6'];

function emit(bench: string, fields: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify({ bench, ...fields }) + '\n');
}
const round = (n: number, digits = 1): number => Math.round(n * 10 ** digits) / 10 ** digits;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const key = (tp: TopicPartition): string => `${tp.topic}-${tp.partition}`;

async function createTopic(admin: Admin, name: string, partitions: number): Promise<void> {
  await admin.createTopics([{ name, numPartitions: partitions, replicationFactor: 3 }]);
  const ok = await waitFor(async () => {
    const [t] = await admin.describeTopics([name]).catch(() => []);
    return t !== undefined && t.partitions.every((p) => p.leader >= 0 && p.isr.length === 3);
  }, 30_000, 100);
  if (!ok) throw new Error(`topic ${name} not ready`);
}

async function fill(servers: string, topic: string, count: number): Promise<void> {
  const p = new Producer({ 'bootstrap.servers': servers, 'batch.size': 65_536, 'linger.ms': 5, acks: 1 });
  const value = Buffer.alloc(RECORD_BYTES, 0x61);
  let inFlight: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    inFlight.push(p.send({ topic, value }));
    if (inFlight.length >= 10_000) {
      await Promise.all(inFlight);
      inFlight = [];
    }
  }
  await Promise.all(inFlight);
  await p.close();
}

/** Reads `count` records: the rate from the first record on, and how long the first one took (the join, for a group member). */
async function readAll(c: Consumer, count: number): Promise<{ rate: number; firstMs: number }> {
  const started = performance.now();
  let first = 0;
  let n = 0;
  const deadline = Date.now() + 120_000;
  while (n < count && Date.now() < deadline) {
    const got = (await c.poll(500)).length;
    if (got > 0 && n === 0) first = performance.now();
    n += got;
  }
  if (n < count) throw new Error(`read ${n} of ${count}`);
  return { rate: count / ((performance.now() - first) / 1000), firstMs: first - started };
}

async function throughput(servers: string, admin: Admin): Promise<void> {
  const topic = 'bench-consume';
  await createTopic(admin, topic, 6);
  await fill(servers, topic, RECORDS);
  const common = { 'bootstrap.servers': servers, 'auto.offset.reset': 'earliest', 'max.poll.records': 2_000 } as const;
  const plain = new Consumer(common);
  plain.assign(Array.from({ length: 6 }, (_, partition) => ({ topic, partition })));
  const { rate: base, firstMs: baseFirst } = await readAll(plain, RECORDS);
  await plain.close();
  emit('group.baseline.assign', { records: RECORDS, records_per_s: Math.round(base), mb_per_s: round((base * RECORD_BYTES) / 1e6), first_record_ms: Math.round(baseFirst) });
  const member = new Consumer({ ...common, 'group.id': 'bench-throughput', 'auto.commit.interval.ms': 1_000, 'heartbeat.interval.ms': HEARTBEAT_MS });
  member.subscribe([topic]);
  const { rate, firstMs } = await readAll(member, RECORDS);
  const m = member.metrics();
  await member.close();
  emit('group.consume', {
    records: RECORDS,
    records_per_s: Math.round(rate),
    mb_per_s: round((rate * RECORD_BYTES) / 1e6),
    vs_baseline: round(rate / base, 2),
    first_record_ms: Math.round(firstMs),
    commits: m['commit-total'],
    commit_latency_avg_ms: round(m['commit-latency-avg']),
    fetch_latency_avg_ms: round(m['fetch-latency-avg']),
  });
}

interface Member {
  name: string;
  consumer: Consumer;
  revoked: string[];
  lastDelivery: Map<string, number>;
  /** Longest time between two deliveries of a partition, in the window before the 10th member and during the rebalance. */
  maxGap: { before: Map<string, number>; during: Map<string, number> };
  stop(): Promise<void>;
}

async function rebalance(servers: string, admin: Admin, strategy: 'range' | 'cooperative-sticky'): Promise<void> {
  const topic = `bench-rebalance-${strategy}`;
  const group = `bench-rebalance-${strategy}`;
  await createTopic(admin, topic, 30);
  const producer = new Producer({ 'bootstrap.servers': servers, 'linger.ms': 5, acks: 1 });
  let producing = true;
  const value = Buffer.alloc(RECORD_BYTES, 0x62);
  // About 3,000 records/s over the 30 partitions, so every partition delivers every ~10 ms.
  const writer = (async () => {
    while (producing) {
      await Promise.all(Array.from({ length: 30 }, (_, partition) => producer.send({ topic, partition, value })));
      await sleep(10);
    }
  })();
  let measuring = false;
  let window: 'off' | 'before' | 'during' = 'off';
  const start = (name: string): Member => {
    const consumer = new Consumer({
      'bootstrap.servers': servers,
      'group.id': group,
      'client.id': name,
      'auto.offset.reset': 'latest',
      'fetch.max.wait.ms': 100,
      'partition.assignment.strategy': strategy,
      'session.timeout.ms': 10_000,
      'heartbeat.interval.ms': HEARTBEAT_MS,
    });
    const m: Member = { name, consumer, revoked: [], lastDelivery: new Map(), maxGap: { before: new Map(), during: new Map() }, stop: async () => {} };
    consumer.subscribe([topic], {
      onPartitionsRevoked: (tps) => {
        if (measuring) m.revoked.push(...tps.map(key));
      },
    });
    const ac = new AbortController();
    const done = consumer.run({
      signal: ac.signal,
      pollTimeoutMs: 100,
      eachBatch: async (records) => {
        const now = performance.now();
        for (const r of records) {
          const k = `${r.topic}-${r.partition}`;
          const last = m.lastDelivery.get(k);
          if (window !== 'off' && last !== undefined) {
            const gaps = m.maxGap[window];
            gaps.set(k, Math.max(gaps.get(k) ?? 0, now - last));
          }
          m.lastDelivery.set(k, now);
        }
      },
    });
    m.stop = async () => {
      ac.abort();
      await done;
      await consumer.close({ timeoutMs: 5_000 });
    };
    return m;
  };
  const members: Member[] = [];
  for (let i = 0; i < 9; i++) members.push(start(`m${i}`));
  const settled = (n: number, each: number[]): boolean => {
    const sizes = members.slice(0, n).map((m) => m.consumer.assignment().length);
    return sizes.reduce((a, b) => a + b, 0) === 30 && sizes.every((s) => each.includes(s));
  };
  if (!(await waitFor(() => settled(9, [3, 4]), 60_000, 20))) throw new Error('9 members did not settle');
  await sleep(1_000);
  // The same run's baseline for pauses: deliveries while nothing rebalances, for as long as a rebalance takes.
  window = 'before';
  await sleep(3_000);
  const before = new Map<string, string>();
  for (const m of members) for (const tp of m.consumer.assignment()) before.set(key(tp), m.name);
  measuring = true;
  window = 'during';
  const t0 = performance.now();
  members.push(start('m9'));
  if (!(await waitFor(() => settled(10, [3]), 60_000, 5))) throw new Error('10 members did not settle');
  const ms = performance.now() - t0;
  await sleep(300);
  measuring = false;
  window = 'off';
  const after = new Map<string, string>();
  for (const m of members) for (const tp of m.consumer.assignment()) after.set(key(tp), m.name);
  const kept = [...before].filter(([tp, owner]) => after.get(tp) === owner).map(([tp]) => tp);
  const keptRevoked = members.flatMap((m) => m.revoked.filter((tp) => kept.includes(tp) && after.get(tp) === m.name));
  const keptGaps = (w: 'before' | 'during', who: Member[] = members): number =>
    Math.round(Math.max(0, ...who.flatMap((m) => kept.filter((tp) => after.get(tp) === m.name).map((tp) => m.maxGap[w].get(tp) ?? 0))));
  const losers = members.filter((m) => [...before].some(([tp, owner]) => owner === m.name && after.get(tp) !== m.name));
  const others = members.filter((m) => !losers.includes(m));
  emit('group.rebalance', {
    protocol: strategy === 'range' ? 'eager (range)' : 'cooperative (cooperative-sticky)',
    members_before: 9,
    partitions: 30,
    rebalance_ms: Math.round(ms),
    partitions_moved: 30 - kept.length,
    kept_partitions_revoked: keptRevoked.length,
    kept_partitions_max_pause_ms: keptGaps('during'),
    kept_partitions_max_pause_before_ms: keptGaps('before'),
    kept_max_pause_ms_members_losing_partitions: keptGaps('during', losers),
    kept_max_pause_ms_other_members: keptGaps('during', others),
    heartbeat_interval_ms: HEARTBEAT_MS,
    syncs_of_new_member: members[9]!.consumer.metrics()['sync-total'],
  });
  producing = false;
  await writer;
  await producer.close();
  await Promise.all(members.map((m) => m.stop()));
}

async function main(): Promise<void> {
  const cluster = await LocalCluster.start({ coordinators: 1, brokers: 3, brokerArgs: BROKER_ARGS });
  const servers = cluster.brokerAddresses.join(',');
  const admin = new Admin({ 'bootstrap.servers': servers });
  try {
    await throughput(servers, admin);
    await rebalance(servers, admin, 'range');
    await rebalance(servers, admin, 'cooperative-sticky');
  } finally {
    admin.close();
    await cluster.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
