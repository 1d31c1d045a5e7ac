// The client's own CPU cost per record, without a network or a broker, as JSON lines:
//  - murmur2 of 16-byte keys (the keyed partitioner),
//  - the producer path: send() → partitioner → accumulator → v2 batch encoding (CRC) → one
//    produce request per broker → acknowledgement, against a BrokerConnector that answers at once,
//  - the consumer path: CompletedFetch handing out records from a 1 MiB fetch response.
// Median of ROUNDS rounds (and the best). 100-byte values, 16-byte keys, batch.size 16 KiB.
//
//   cd packages/client && npx -y pnpm@10.34.9 bench
//   npx tsx --conditions=@samsa/source packages/client/bench/run.ts

import { encodeBatch, type RecordInput } from '@samsa/log';
import { CompletedFetch } from '../src/consumer/completed-fetch.js';
import type { BrokerApi, BrokerConnector } from '../src/protocol/broker-rpc.js';
import type { MetadataResponse, ProduceRequest } from '../src/protocol/wire-types.js';
import { murmur2 } from '../src/producer/murmur2.js';
import { Producer } from '../src/producer/producer.js';

const ROUNDS = 5;
const VALUE_BYTES = 100;

function filler(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

function report(bench: string, rates: number[], bytesPerRecord: number, extra: Record<string, unknown> = {}): void {
  const sorted = [...rates].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  const best = sorted[sorted.length - 1]!;
  console.log(JSON.stringify({
    bench,
    records_per_s: Math.round(median),
    mb_per_s: Number(((median * bytesPerRecord) / 1e6).toFixed(1)),
    best_records_per_s: Math.round(best),
    ...extra,
  }));
}

function benchMurmur2(): void {
  const keys = Array.from({ length: 1024 }, (_, i) => filler(16, i + 1));
  const rates: number[] = [];
  let sink = 0;
  for (let round = 0; round < ROUNDS + 1; round++) {
    const n = 2_000_000;
    const start = performance.now();
    for (let i = 0; i < n; i++) sink ^= murmur2(keys[i & 1023]!);
    const s = (performance.now() - start) / 1000;
    if (round > 0) rates.push(n / s);
  }
  report('client.murmur2.16B', rates, 16, { sink: sink & 1 });
}

/** Answers Metadata, InitProducerId and Produce (after `delayMs`, or at once); counts what it was sent. */
function instantBroker(partitions: number, delayMs = 0): { connector: BrokerConnector; produced: () => number } {
  let records = 0;
  const metadata: MetadataResponse = {
    brokers: [{ id: 1, host: 'bench', port: 1, rack: '' }],
    controllerId: 1,
    clusterId: 'bench',
    topics: [{
      name: 'bench', isInternal: false, error: null,
      partitions: Array.from({ length: partitions }, (_, p) => ({ partition: p, leader: 1, leaderEpoch: 0, replicas: [1], isr: [1], offlineReplicas: [], error: null })),
    }],
  };
  const offsets = new Map<number, number>();
  const api = {
    metadata: async () => metadata,
    initProducerId: async () => ({ error: null, producerId: 1, producerEpoch: 0 }),
    produce: async (req: ProduceRequest) => {
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
      return answerProduce(req);
    },
    close: () => {},
  } as unknown as BrokerApi;
  const answerProduce = (req: ProduceRequest) => ({
      topics: req.topics.map((t) => ({
        topic: t.topic,
        partitions: t.partitions.map((p) => {
          const count = p.records.readInt32BE(57);
          records += count;
          const base = offsets.get(p.partition) ?? 0;
          offsets.set(p.partition, base + count);
          return { partition: p.partition, error: null, baseOffset: base, logAppendTime: -1, logStartOffset: 0 };
        }),
      })),
  });
  return { connector: () => api, produced: () => records };
}

async function benchProducer(keyed: boolean): Promise<void> {
  const broker = instantBroker(12);
  const producer = new Producer({ 'bootstrap.servers': 'bench:1', 'linger.ms': 5 }, { connector: broker.connector });
  const value = filler(VALUE_BYTES, 7);
  const keys = Array.from({ length: 1024 }, (_, i) => filler(16, i + 11));
  await producer.send({ topic: 'bench', value, partition: 0 });
  const rates: number[] = [];
  const WINDOW = 20_000; // sends in flight per step, as an application would pipeline them
  for (let round = 0; round < ROUNDS + 1; round++) {
    const n = 200_000;
    const start = performance.now();
    for (let sent = 0; sent < n; sent += WINDOW) {
      const ps: Array<Promise<unknown>> = [];
      for (let i = 0; i < WINDOW; i++) ps.push(producer.send({ topic: 'bench', key: keyed ? keys[i & 1023]! : null, value }));
      await producer.flush();
      await Promise.all(ps);
    }
    const s = (performance.now() - start) / 1000;
    if (round > 0) rates.push(n / s);
  }
  const m = producer.metrics();
  await producer.close();
  report(`client.producer.send.${keyed ? 'keyed' : 'sticky'}`, rates, VALUE_BYTES, {
    batch_size_avg: Math.round(m['batch-size-avg']),
    records_per_request_avg: Math.round(m['records-per-request-avg']),
    acknowledged: broker.produced(),
  });
}

/**
 * The producer as `samsa perf produce` drives it: a steady stream of sends with a bounded number
 * in flight, each acknowledgement timed, against a broker that answers after BROKER_DELAY_MS (an
 * acks=all round trip). Records live as long as on a real cluster, so the garbage collector's
 * share is as there; CPU is the process's user+system time per record.
 */
async function benchProducerPipelined(batchSize: number): Promise<void> {
  const BROKER_DELAY_MS = 20;
  const MAX_IN_FLIGHT = 20_000;
  const broker = instantBroker(6, BROKER_DELAY_MS);
  const producer = new Producer({ 'bootstrap.servers': 'bench:1', 'batch.size': batchSize }, { connector: broker.connector });
  const value = filler(VALUE_BYTES, 7);
  await producer.send({ topic: 'bench', value, partition: 0 });
  const rates: number[] = [];
  const cpuUs: number[] = [];
  for (let round = 0; round < ROUNDS + 1; round++) {
    const n = 300_000;
    let inFlight = 0;
    let resume: (() => void) | null = null;
    let latencySum = 0;
    const settled = (): void => {
      inFlight--;
      if (resume && inFlight < MAX_IN_FLIGHT / 2) {
        const r = resume;
        resume = null;
        r();
      }
    };
    const cpu = process.cpuUsage();
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      const sentAt = performance.now();
      inFlight++;
      producer.send({ topic: 'bench', value }).then(() => {
        latencySum += performance.now() - sentAt;
        settled();
      }, settled);
      if (inFlight >= MAX_IN_FLIGHT) await new Promise<void>((r) => (resume = r));
    }
    await producer.flush();
    const s = (performance.now() - start) / 1000;
    const used = process.cpuUsage(cpu);
    if (round > 0) {
      rates.push(n / s);
      cpuUs.push((used.user + used.system) / n);
    }
    if (latencySum < 0) throw new Error('unreachable');
  }
  await producer.close();
  const sortedCpu = [...cpuUs].sort((a, b) => a - b);
  report(`client.producer.pipelined.batch${batchSize >> 10}k`, rates, VALUE_BYTES, {
    cpu_us_per_record: Number(sortedCpu[Math.floor(sortedCpu.length / 2)]!.toFixed(2)),
    broker_delay_ms: BROKER_DELAY_MS,
  });
}

function benchConsumerParse(): void {
  const records: RecordInput[] = Array.from({ length: 150 }, (_, i) => ({ key: filler(16, i + 3), value: filler(VALUE_BYTES, i + 5), timestamp: 1_760_000_000_000 + i }));
  const batches: Buffer[] = [];
  let offset = 0;
  let size = 0;
  while (size < 1 << 20) {
    const b = encodeBatch({ records, baseOffset: offset, producerId: -1n });
    batches.push(b);
    offset += records.length;
    size += b.length;
  }
  const response = Buffer.concat(batches);
  const tp = { topic: 'bench', partition: 0 };
  const rates: number[] = [];
  for (let round = 0; round < ROUNDS + 1; round++) {
    const start = performance.now();
    let n = 0;
    for (let rep = 0; rep < 10; rep++) {
      const cf = new CompletedFetch(tp, 0, response, offset, 0);
      while (!cf.isConsumed) n += cf.fetchRecords(500).length;
    }
    const s = (performance.now() - start) / 1000;
    if (round > 0) rates.push(n / s);
  }
  report('client.consumer.parse', rates, VALUE_BYTES, { fetch_bytes: response.length });
}

benchMurmur2();
await benchProducer(false);
await benchProducer(true);
await benchProducerPipelined(16_384);
await benchProducerPipelined(262_144);
benchConsumerParse();
