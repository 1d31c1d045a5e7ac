// Benchmark of a local cluster of 3 coordinators and 3 brokers (real OS processes on loopback),
// 100-byte records, printed as JSON lines:
//   baseline.tcp          raw TCP between this process and a child process, 16 KiB writes: MB/s
//   broker.produce        acks=all and acks=1, replication factor 3, 6 partitions: records/s, MB/s,
//                         p50/p99 from send() to acknowledgement (the Producer of @samsa/client)
//   broker.consume        everything produced above, read from the beginning: records/s, MB/s
//   broker.e2e_latency    10,000 records/s for SECONDS: send() → poll() returns it, p50/p99
//   broker.failover       kill -9 of a partition leader → first acknowledged acks=all write on
//                         that partition (3 rounds, the broker restarted in between)
//   broker.memory         VmRSS of each broker sampled every second under 3×SECONDS of acks=all
//                         load: start, middle, max, end, next to how much log each broker wrote
//                         meanwhile (bounded memory: RSS levels off while the log keeps growing)
//
//   cd packages/cli && npx tsc -b && npx tsx --conditions=@samsa/source bench/broker-cluster.ts
//   (the brokers run from dist/; SAMSA_BENCH_SECONDS=N sets each measured phase, default 10,
//    which keeps the whole run near 2 minutes)
//
// Producer and consumer run in this process, so they share the machine's cores with the six
// nodes: the figures are what one client process gets from a cluster on the same box.

import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Admin, Consumer, Producer, type ProducerConfig, type TopicPartition } from '@samsa/client';
import { LocalCluster, waitFor } from '../src/cluster/local-cluster.js';

const SECONDS = Number(process.env.SAMSA_BENCH_SECONDS ?? 10);
const RECORD_BYTES = 100;
const PARTITIONS = 6;
const E2E_RECORDS_PER_SEC = 10_000;
const FAILOVER_ROUNDS = 3;
/** Sends not yet acknowledged at most: deep enough to fill batches on every partition, shallow enough that latency is not all queueing. */
const MAX_IN_FLIGHT_RECORDS = 10_000;
const MB = 1024 * 1024;

/** The producer settings every throughput phase uses (Kafka's perf-test habits: bigger batches, a short linger). */
const PERF_PRODUCER: Omit<ProducerConfig, 'bootstrap.servers'> = {
  'batch.size': 65_536,
  'linger.ms': 5,
  'buffer.memory': 64 * MB,
  'delivery.timeout.ms': 120_000,
};

function emit(bench: string, fields: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify({ bench, ...fields }) + '\n');
}

function percentile(sorted: ArrayLike<number>, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---- baseline: what the loopback socket does between two node processes ----

/** A child process that accepts one connection, counts bytes and answers the total at the end. */
const TCP_SINK = `
const net = require('node:net');
const server = net.createServer((socket) => {
  let bytes = 0;
  socket.on('data', (d) => { bytes += d.length; });
  socket.on('end', () => { socket.end(String(bytes)); server.close(); });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
`;

async function baselineTcp(): Promise<void> {
  const child = spawn(process.execPath, ['-e', TCP_SINK], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_OPTIONS: '' } });
  try {
    const port = await new Promise<number>((resolve) => child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const message = Buffer.alloc(16 * 1024, 0x61);
    const seconds = Math.max(1, SECONDS / 5);
    const started = performance.now();
    const end = started + seconds * 1000;
    let sent = 0;
    while (performance.now() < end) {
      // Write until the socket pushes back, then wait for it to drain: the socket's own pace.
      while (socket.write(message)) sent += message.length;
      sent += message.length;
      await new Promise((r) => socket.once('drain', r));
    }
    const answer = new Promise<number>((resolve) => {
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString()));
      socket.on('end', () => resolve(Number(text)));
    });
    socket.end();
    const received = await answer;
    const secs = (performance.now() - started) / 1000;
    socket.destroy();
    emit('baseline.tcp', { message_bytes: message.length, seconds: round(secs, 2), mb_per_sec: round(received / secs / MB, 1), bytes_match: received === sent });
  } finally {
    child.kill('SIGKILL');
  }
}

// ---- produce load ----

interface LoadResult {
  acked: number;
  errors: number;
  firstError: unknown;
  seconds: number;
  /** ms from send() to acknowledgement, sorted (empty when not recorded). */
  latencies: Float64Array;
}

/**
 * Sends 100-byte records to `topic` for `seconds`, keeping at most MAX_IN_FLIGHT_RECORDS
 * unacknowledged; `onTick` runs about once a second (memory sampling).
 */
async function produceFor(producer: Producer, topic: string, seconds: number, options: { recordLatency: boolean; onTick?: () => void }): Promise<LoadResult> {
  const value = Buffer.alloc(RECORD_BYTES, 0x62);
  const latencies: number[] = [];
  let acked = 0;
  let errors = 0;
  let firstError: unknown = null;
  let inFlight = 0;
  let resume: (() => void) | null = null;
  let drained: (() => void) | null = null;
  const settled = (): void => {
    inFlight--;
    if (resume && inFlight <= MAX_IN_FLIGHT_RECORDS / 2) {
      const r = resume;
      resume = null;
      r();
    }
    if (drained && inFlight === 0) drained();
  };
  const started = performance.now();
  const end = started + seconds * 1000;
  let nextTick = started + 1000;
  options.onTick?.();
  while (performance.now() < end) {
    for (let i = 0; i < 256; i++) {
      const sentAt = performance.now();
      inFlight++;
      producer.send({ topic, value }).then(
        () => {
          acked++;
          if (options.recordLatency) latencies.push(performance.now() - sentAt);
          settled();
        },
        (err: unknown) => {
          errors++;
          firstError ??= err;
          settled();
        },
      );
    }
    if (inFlight >= MAX_IN_FLIGHT_RECORDS) await new Promise<void>((r) => (resume = r));
    else await new Promise((r) => setImmediate(r));
    if (options.onTick && performance.now() >= nextTick) {
      options.onTick();
      nextTick += 1000;
    }
  }
  if (inFlight > 0) await new Promise<void>((r) => (drained = r));
  const secs = (performance.now() - started) / 1000;
  options.onTick?.();
  return { acked, errors, firstError, seconds: secs, latencies: Float64Array.from(latencies).sort() };
}

async function produceThroughput(cluster: LocalCluster, topic: string, acks: 'all' | '1'): Promise<number> {
  const producer = new Producer({ 'bootstrap.servers': cluster.brokerAddresses.join(','), ...PERF_PRODUCER, acks });
  try {
    await producer.send({ topic, value: 'warm-up' }); // metadata and producer id before the clock starts
    const r = await produceFor(producer, topic, SECONDS, { recordLatency: true });
    emit('broker.produce', {
      acks,
      replication_factor: 3,
      partitions: PARTITIONS,
      record_bytes: RECORD_BYTES,
      batch_size: PERF_PRODUCER['batch.size'],
      linger_ms: PERF_PRODUCER['linger.ms'],
      max_in_flight_records: MAX_IN_FLIGHT_RECORDS,
      records: r.acked,
      errors: r.errors,
      ...(r.firstError ? { first_error: String(r.firstError) } : {}),
      seconds: round(r.seconds),
      records_per_sec: Math.round(r.acked / r.seconds),
      mb_per_sec: round((r.acked * RECORD_BYTES) / r.seconds / MB),
      p50_ms: round(percentile(r.latencies, 50), 1),
      p99_ms: round(percentile(r.latencies, 99), 1),
    });
    return r.acked + 1;
  } finally {
    await producer.close({ timeoutMs: 10_000 });
  }
}

// ---- consume ----

async function consumeThroughput(cluster: LocalCluster, topic: string, expected: number): Promise<void> {
  const consumer = new Consumer({
    'bootstrap.servers': cluster.brokerAddresses.join(','),
    'auto.offset.reset': 'earliest',
    'max.poll.records': 10_000,
    'max.partition.fetch.bytes': 4 * MB,
  });
  try {
    const tps: TopicPartition[] = Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition }));
    consumer.assign(tps);
    consumer.seekToBeginning(tps);
    let records = 0;
    let bytes = 0;
    const started = performance.now();
    let lastProgress = started;
    while (records < expected && performance.now() - lastProgress < 30_000) {
      const batch = await consumer.poll(1_000);
      for (const r of batch) bytes += (r.value?.length ?? 0) + (r.key?.length ?? 0);
      records += batch.length;
      if (batch.length > 0) lastProgress = performance.now();
    }
    const secs = (performance.now() - started) / 1000;
    emit('broker.consume', {
      partitions: PARTITIONS,
      records,
      expected,
      seconds: round(secs),
      records_per_sec: Math.round(records / secs),
      mb_per_sec: round(bytes / secs / MB),
    });
  } finally {
    await consumer.close();
  }
}

// ---- end-to-end latency at a fixed rate ----

async function endToEndLatency(cluster: LocalCluster, topic: string): Promise<void> {
  const servers = cluster.brokerAddresses.join(',');
  const producer = new Producer({ 'bootstrap.servers': servers, acks: 'all', 'linger.ms': 1 });
  const consumer = new Consumer({ 'bootstrap.servers': servers, 'auto.offset.reset': 'latest', 'fetch.max.wait.ms': 500 });
  const tps: TopicPartition[] = Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition }));
  try {
    consumer.assign(tps);
    consumer.seekToEnd(tps);
    for (const tp of tps) await consumer.position(tp); // positions fixed before the first record
    await producer.send({ topic, value: 'warm-up' });
    await consumer.poll(2_000);

    // The send time travels in the value (performance.now(), same process): sub-millisecond,
    // where the record timestamp has whole milliseconds.
    const latencies: number[] = [];
    let stopConsuming = false;
    const consuming = (async () => {
      while (!stopConsuming) {
        const batch = await consumer.poll(200);
        const now = performance.now();
        for (const r of batch) if (r.value && r.value.length === RECORD_BYTES) latencies.push(now - r.value.readDoubleLE(0));
      }
    })();
    let sent = 0;
    let errors = 0;
    const started = performance.now();
    const end = started + SECONDS * 1000;
    for (let now = started; now < end; now = performance.now()) {
      const due = Math.floor(((now - started) / 1000) * E2E_RECORDS_PER_SEC);
      for (; sent < due; sent++) {
        const value = Buffer.alloc(RECORD_BYTES, 0x63);
        value.writeDoubleLE(performance.now(), 0);
        producer.send({ topic, value }).catch(() => errors++);
      }
      await sleep(2);
    }
    await producer.flush();
    await waitFor(() => latencies.length >= sent, 10_000, 20);
    stopConsuming = true;
    consumer.wakeup();
    await consuming.catch(() => {});
    const sorted = Float64Array.from(latencies).sort();
    emit('broker.e2e_latency', {
      target_records_per_sec: E2E_RECORDS_PER_SEC,
      achieved_records_per_sec: Math.round(sent / SECONDS),
      acks: 'all',
      linger_ms: 1,
      sent,
      received: latencies.length,
      errors,
      p50_ms: round(percentile(sorted, 50)),
      p99_ms: round(percentile(sorted, 99)),
      max_ms: round(sorted[sorted.length - 1] ?? NaN),
    });
  } finally {
    await producer.close({ timeoutMs: 5_000 });
    await consumer.close();
  }
}

// ---- failover ----

interface PartitionView {
  leader: number;
  leaderEpoch: number;
  isr: number[];
}

async function partitionViews(admin: Admin, topic: string): Promise<PartitionView[]> {
  const [t] = await admin.describeTopics([topic], { timeoutMs: 5_000 });
  return t!.partitions.sort((a, b) => a.partition - b.partition).map((p) => ({ leader: p.leader, leaderEpoch: p.leaderEpoch, isr: p.isr }));
}

async function failover(cluster: LocalCluster, topic: string): Promise<void> {
  const servers = cluster.brokerAddresses.join(',');
  const admin = new Admin({ 'bootstrap.servers': servers });
  // Short backoffs so the figure is the cluster's failover rather than the client's backoff curve.
  const retryBackoffMaxMs = 200;
  const rounds: Record<string, unknown>[] = [];
  try {
    for (let round_ = 0; round_ < FAILOVER_ROUNDS; round_++) {
      const allInSync = await waitFor(async () => (await partitionViews(admin, topic).catch(() => [])).every((p) => p.isr.length === 3), 60_000, 100);
      if (!allInSync) throw new Error(`failover round ${round_ + 1}: ${topic} not fully in sync within 60 s`);
      const controller = (await admin.describeCluster()).controllerId;
      const views = await partitionViews(admin, topic);
      // A leader that is not also the controller: the partition's failover alone, not a controller election too.
      const partition = views.findIndex((p) => p.leader !== controller);
      const victim = views[partition]!.leader;
      const epochBefore = views[partition]!.leaderEpoch;
      const producer = new Producer({
        'bootstrap.servers': servers, acks: 'all', 'linger.ms': 0,
        'retry.backoff.ms': 20, 'retry.backoff.max.ms': retryBackoffMaxMs, 'request.timeout.ms': 5_000, 'delivery.timeout.ms': 60_000,
      });
      const survivors = cluster.brokerAddresses.filter((a) => a !== cluster.brokerAddress(victim));
      const watcher = new Admin({ 'bootstrap.servers': survivors.join(','), 'metadata.max.age.ms': 0 });
      try {
        await producer.send({ topic, partition, value: 'before' });
        const killedAt = performance.now();
        await cluster.kill(`broker-${victim}`);
        let electedAt = 0;
        const electing = waitFor(async () => {
          const p = (await partitionViews(watcher, topic).catch(() => null))?.[partition];
          if (p && p.leader >= 0 && p.leader !== victim && p.leaderEpoch > epochBefore) electedAt = performance.now();
          return electedAt > 0;
        }, 30_000, 20);
        await producer.send({ topic, partition, value: `after-${round_}` });
        const ackedAt = performance.now();
        await electing;
        rounds.push({
          killed_broker: victim,
          partition,
          leader_elected_seconds: electedAt > 0 ? round((electedAt - killedAt) / 1000, 3) : null,
          first_ack_seconds: round((ackedAt - killedAt) / 1000, 3),
        });
      } finally {
        watcher.close();
        await producer.close({ timeoutMs: 5_000 });
      }
      await cluster.restart(`broker-${victim}`);
    }
  } finally {
    admin.close();
  }
  const acks = rounds.map((r) => r.first_ack_seconds as number);
  emit('broker.failover', {
    rounds: FAILOVER_ROUNDS,
    each: rounds,
    first_ack_seconds_max: Math.max(...acks),
    producer_retry_backoff_max_ms: retryBackoffMaxMs,
    killed_was_controller: false,
  });
}

// ---- memory under sustained load ----

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function directoryBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    try {
      total += entry.isDirectory() ? directoryBytes(path) : statSync(path).size;
    } catch {
      // a segment deleted or renamed while we walk: it is not there any more
    }
  }
  return total;
}

async function memoryUnderLoad(cluster: LocalCluster, topic: string): Promise<void> {
  const brokers = cluster.file.layout.nodes.filter((n) => n.role === 'broker');
  const pids = brokers.map((n) => cluster.file.pids[n.name]!);
  const samples: number[][] = brokers.map(() => []);
  const logStart = brokers.map((n) => directoryBytes(n.dataDir));
  const producer = new Producer({ 'bootstrap.servers': cluster.brokerAddresses.join(','), ...PERF_PRODUCER, acks: 'all' });
  let result: LoadResult;
  try {
    await producer.send({ topic, value: 'warm-up' });
    result = await produceFor(producer, topic, 3 * SECONDS, {
      recordLatency: false,
      onTick: () => pids.forEach((pid, i) => samples[i]!.push(rssMb(pid))),
    });
  } finally {
    await producer.close({ timeoutMs: 10_000 });
  }
  emit('broker.memory', {
    seconds: round(result.seconds, 1),
    acks: 'all',
    records: result.acked,
    mb_produced: round((result.acked * RECORD_BYTES) / MB, 1),
    samples_per_broker: samples[0]!.length,
    brokers: brokers.map((n, i) => {
      const s = samples[i]!;
      return {
        broker: n.id,
        rss_start_mb: round(s[0]!, 1),
        // Halfway, next to the end: flat between the two while the log keeps growing is the point.
        rss_mid_mb: round(s[Math.floor(s.length / 2)]!, 1),
        rss_max_mb: round(Math.max(...s), 1),
        rss_end_mb: round(s[s.length - 1]!, 1),
        log_written_mb: round((directoryBytes(n.dataDir) - logStart[i]!) / MB, 1),
      };
    }),
  });
}

// ---- main ----

async function main(): Promise<void> {
  await baselineTcp();
  const cluster = await LocalCluster.start({ coordinators: 3, brokers: 3, brokerArgs: ['--auto.leader.rebalance.enable', 'false'] });
  const admin = new Admin({ 'bootstrap.servers': cluster.brokerAddresses.join(',') });
  try {
    const topics = ['throughput', 'latency', 'failover', 'memory'];
    await admin.createTopics(topics.map((name) => ({ name, numPartitions: name === 'failover' ? 3 : PARTITIONS, replicationFactor: 3 })));
    for (const name of topics) {
      const ready = await waitFor(async () => {
        const [t] = await admin.describeTopics([name]).catch(() => []);
        return t !== undefined && t.partitions.every((p) => p.leader >= 0 && p.isr.length === 3);
      }, 30_000, 100);
      if (!ready) throw new Error(`topic ${name} not ready within 30 s`);
    }
    let produced = await produceThroughput(cluster, 'throughput', 'all');
    produced += await produceThroughput(cluster, 'throughput', '1');
    await consumeThroughput(cluster, 'throughput', produced);
    await endToEndLatency(cluster, 'latency');
    await failover(cluster, 'failover');
    await memoryUnderLoad(cluster, 'memory');
  } finally {
    admin.close();
    await cluster.destroy();
  }
}

await main();
