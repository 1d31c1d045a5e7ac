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

/** Answers Metadata, InitProducerId and Produce at once; counts what it was sent. */
function instantBroker(partitions: number): { connector: BrokerConnector; produced: () => number } {
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
    produce: async (req: ProduceRequest) => ({
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
    }),
    close: () => {},
  } as unknown as BrokerApi;
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
benchConsumerParse();
