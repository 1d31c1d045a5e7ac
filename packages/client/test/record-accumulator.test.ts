// The record accumulator: batches fill up to batch.size with exact sizes, become ready by size,
// linger, memory pressure, flush or close, drain into one request per broker within
// max.request.size (round-robin across partitions), retries wait out their backoff and go back
// in sequence order, and batches past delivery.timeout.ms expire.

import { encodeBatch } from '@samsa/log';
import { BufferPool } from '../src/producer/buffer-pool.js';
import { ProducerBatch } from '../src/producer/producer-batch.js';
import { RecordAccumulator, type LeaderLookup } from '../src/producer/record-accumulator.js';
import { recordSizeInBatch } from '../src/producer/record-size.js';
import { Delivery, record } from './helpers/producer-fixtures.js';

const T0 = 1_000_000;

function leaders(map: Record<string, number>): LeaderLookup {
  return {
    leaderFor: (topic, partition) => {
      const leader = map[`${topic}-${partition}`];
      return leader === undefined ? undefined : { leader };
    },
  };
}

function accumulator(opts: Partial<{ batchSize: number; lingerMs: number; maxRequestSize: number; deliveryTimeoutMs: number; memory: number }> = {}) {
  const pool = new BufferPool(opts.memory ?? 1 << 20);
  const acc = new RecordAccumulator({
    batchSize: opts.batchSize ?? 1000,
    lingerMs: opts.lingerMs ?? 5,
    maxRequestSize: opts.maxRequestSize ?? 1 << 20,
    deliveryTimeoutMs: opts.deliveryTimeoutMs ?? 120_000,
    compression: 'none',
    pool,
  });
  /** Appends like the producer does: open batch first, else a new batch with fresh memory. */
  const append = (partition: number, value: string, nowMs = T0, topic = 't'): { batch: ProducerBatch; newBatch: boolean; delivery: Delivery } => {
    const r = record(value, null, topic);
    const tp = { topic, partition };
    const delivery = new Delivery();
    const open = acc.tryAppendToOpenBatch(tp, r, nowMs, delivery);
    if (open) return { batch: open, newBatch: false, delivery };
    const bytes = acc.allocationFor(r);
    if (!pool.tryAllocate(bytes)) throw new Error('test: out of memory');
    const res = acc.appendWithNewBatch(tp, r, nowMs, delivery, bytes, nowMs);
    if (!res.appended) throw new Error('test: not appended');
    return { batch: res.batch, newBatch: res.newBatch, delivery };
  };
  return { acc, pool, append };
}

describe('RecordAccumulator', () => {
  test("a batch's size is exact: it equals the encoded batch's length", () => {
    const { acc, append } = accumulator({ batchSize: 1 << 20 });
    const values = ['a', '', 'x'.repeat(300), 'y'.repeat(20_000)];
    let batch: ProducerBatch | undefined;
    values.forEach((v, i) => (batch = append(0, v, T0 + i * 1000).batch));
    const expected = encodeBatch({
      records: values.map((v, i) => ({ key: null, value: Buffer.from(v), timestamp: T0 + i * 1000 })),
      producerId: -1n,
    }).length;
    expect(batch!.estimatedSizeBytes).toBe(expected);
    const drained = acc.drain(T0, leaders({ 't-0': 1 }), [1], 1 << 20);
    expect(drained.get(1)![0]!.close('none').length).toBe(expected);
    // attributes, timestamp delta, offset delta, null key, value length + 1 byte, header count = 7; + its length varint
    expect(recordSizeInBatch(0, 0, null, Buffer.from('a'), [])).toBe(1 + 7);
  });

  test('records fill a batch up to batch.size; the next record opens a new batch', () => {
    const { acc, append } = accumulator({ batchSize: 200 });
    const first = append(0, 'v'.repeat(50));
    expect(first.newBatch).toBe(true);
    expect(append(0, 'v'.repeat(50)).batch).toBe(first.batch);
    // 61-byte header + 2 × 57-byte records = 175; a third record would pass 200.
    expect(first.batch.estimatedSizeBytes).toBe(175);
    const third = append(0, 'v'.repeat(50));
    expect(third.newBatch).toBe(true);
    expect(acc.queuedBatches({ topic: 't', partition: 0 })).toHaveLength(2);
  });

  test('a record larger than batch.size gets a batch of its own sized for it', () => {
    const { acc, append } = accumulator({ batchSize: 100 });
    const big = record('z'.repeat(500));
    expect(acc.allocationFor(big)).toBe(61 + recordSizeInBatch(0, 0, null, big.value, []));
    const a = append(0, 'z'.repeat(500));
    expect(a.batch.allocatedBytes).toBe(acc.allocationFor(big));
    expect(a.batch.isFull).toBe(true);
    expect(append(0, 'small').newBatch).toBe(true);
  });

  test('batch.size=0 sends every record in its own batch', () => {
    const { append } = accumulator({ batchSize: 0 });
    const a = append(0, 'one');
    expect(a.batch.isFull).toBe(true);
    expect(append(0, 'two').newBatch).toBe(true);
  });

  test('ready: a partial batch waits linger.ms; a full batch, a second batch, memory pressure, flush and close make it ready', async () => {
    const { acc, pool, append } = accumulator({ batchSize: 200, lingerMs: 5, memory: 500 });
    const lookup = leaders({ 't-0': 1, 't-1': 2 });
    append(0, 'x', T0);
    let r = acc.ready(T0 + 2, lookup);
    expect(r.readyNodes.size).toBe(0);
    expect(r.nextReadyCheckDelayMs).toBe(3);
    expect(acc.ready(T0 + 5, lookup).readyNodes).toEqual(new Set([1]));

    append(1, 'v'.repeat(150), T0);
    r = acc.ready(T0 + 1, lookup);
    expect(r.readyNodes).toEqual(new Set([2])); // full by size

    acc.beginFlush();
    expect(acc.ready(T0 + 1, lookup).readyNodes).toEqual(new Set([1, 2]));
    acc.endFlush();
    expect(acc.ready(T0 + 1, lookup).readyNodes).toEqual(new Set([2]));

    // Memory exhausted: someone waits for buffer space, so everything goes now.
    const wait = pool.allocate(300, T0 + 1000);
    expect(acc.ready(T0 + 1, lookup).readyNodes).toEqual(new Set([1, 2]));
    pool.close(new Error('done'));
    await expect(wait).rejects.toThrow('done');

    acc.beginClose();
    expect(acc.ready(T0, lookup).readyNodes).toEqual(new Set([1, 2]));
  });

  test('partitions without a known leader are reported so metadata gets refreshed', () => {
    const { acc, append } = accumulator();
    append(0, 'x', T0, 'known');
    append(0, 'x', T0, 'orphan');
    const r = acc.ready(T0 + 10, leaders({ 'known-0': 1 }));
    expect(r.readyNodes).toEqual(new Set([1]));
    expect(r.unknownLeaderTopics).toEqual(new Set(['orphan']));
    expect(acc.drain(T0 + 10, leaders({ 'known-0': 1 }), [1], 1 << 20).get(1)).toHaveLength(1);
    expect(acc.hasQueuedBatches()).toBe(true);
  });

  test('drain: one request per broker with one batch per partition of the partitions it leads', () => {
    const { acc, append } = accumulator({ batchSize: 100 });
    const lookup = leaders({ 't-0': 1, 't-1': 1, 't-2': 2 });
    for (const p of [0, 1, 2]) {
      append(p, 'a'.repeat(60));
      append(p, 'b'.repeat(60)); // second batch in each partition
    }
    const drained = acc.drain(T0, lookup, [1, 2], 1 << 20);
    expect(drained.get(1)!.map((b) => b.tp.partition).sort()).toEqual([0, 1]);
    expect(drained.get(2)!.map((b) => b.tp.partition)).toEqual([2]);
    for (const b of [...drained.get(1)!, ...drained.get(2)!]) {
      expect(b.isClosed).toBe(true);
      expect(b.drainedMs).toBe(T0);
    }
    // The second batches remain, one per partition.
    for (const p of [0, 1, 2]) expect(acc.queuedBatches({ topic: 't', partition: p })).toHaveLength(1);
  });

  test('drain keeps a request within max.request.size, but a single larger batch still goes alone', () => {
    const { acc, append } = accumulator({ batchSize: 1000, maxRequestSize: 1000 });
    const lookup = leaders({ 't-0': 1, 't-1': 1, 't-2': 1 });
    for (const p of [0, 1, 2]) append(p, 'x'.repeat(400)); // ~470 bytes each
    const first = acc.drain(T0, lookup, [1], 1000).get(1)!;
    expect(first).toHaveLength(2);
    expect(first.reduce((n, b) => n + b.estimatedSizeBytes, 0)).toBeLessThanOrEqual(1000);
    const second = acc.drain(T0, lookup, [1], 1000).get(1)!;
    expect(second).toHaveLength(1);

    append(0, 'y'.repeat(400));
    const huge = acc.drain(T0, lookup, [1], 100).get(1)!;
    expect(huge).toHaveLength(1); // larger than the limit, yet nothing else in the request
  });

  test('drain starts where the last one stopped, so no partition starves', () => {
    const { acc, append } = accumulator({ batchSize: 1000 });
    const lookup = leaders({ 't-0': 1, 't-1': 1, 't-2': 1 });
    const firstPicks: number[] = [];
    for (let round = 0; round < 3; round++) {
      for (const p of [0, 1, 2]) append(p, 'x'.repeat(400), T0 + round);
      // Room for just one batch per request.
      firstPicks.push(acc.drain(T0, lookup, [1], 500).get(1)![0]!.tp.partition);
      acc.drain(T0, lookup, [1], 1 << 20);
    }
    expect(new Set(firstPicks).size).toBe(3);
  });

  test('canDrain holds a partition back and prepare runs before the batch is encoded', () => {
    const { acc, append } = accumulator();
    const lookup = leaders({ 't-0': 1, 't-1': 1 });
    append(0, 'a');
    append(1, 'b');
    const prepared: number[] = [];
    const out = acc.drain(T0 + 10, lookup, [1], 1 << 20, {
      canDrain: (b) => b.tp.partition === 1,
      prepare: (b) => {
        expect(b.isClosed).toBe(false);
        prepared.push(b.tp.partition);
      },
    });
    expect(out.get(1)!.map((b) => b.tp.partition)).toEqual([1]);
    expect(prepared).toEqual([1]);
    expect(acc.queuedBatches({ topic: 't', partition: 0 })).toHaveLength(1);
  });

  test('a retried batch waits out its backoff and is put back in sequence order', () => {
    const { acc, append } = accumulator({ batchSize: 100 });
    const lookup = leaders({ 't-0': 1 });
    const a = append(0, 'a'.repeat(60)).batch;
    const b = append(0, 'b'.repeat(60)).batch;
    const c = append(0, 'c'.repeat(60)).batch;
    a.setProducerState(7, 0, 0);
    b.setProducerState(7, 0, 1);
    acc.drain(T0, lookup, [1], 1 << 20); // a leaves
    acc.drain(T0, lookup, [1], 1 << 20); // b leaves
    // b fails first and goes back; then a: a must come before b.
    b.attempts = 1;
    b.retryAtMs = T0 + 100;
    acc.reenqueue(b);
    a.attempts = 1;
    a.retryAtMs = T0 + 100;
    acc.reenqueue(a);
    expect(acc.queuedBatches({ topic: 't', partition: 0 })).toEqual([a, b, c]);
    const r = acc.ready(T0 + 50, lookup);
    expect(r.readyNodes.size).toBe(0);
    expect(r.nextReadyCheckDelayMs).toBe(50);
    expect(acc.drain(T0 + 50, lookup, [1], 1 << 20).size).toBe(0);
    expect(acc.drain(T0 + 100, lookup, [1], 1 << 20).get(1)).toEqual([a]);
  });

  test('batches reaching delivery.timeout.ms are removed for expiry', () => {
    const { acc, append } = accumulator({ batchSize: 100, deliveryTimeoutMs: 1000 });
    const old = append(0, 'a'.repeat(60), T0).batch;
    const young = append(0, 'b'.repeat(60), T0 + 500).batch;
    expect(acc.nextExpiryMs()).toBe(T0 + 1000);
    expect(acc.expiredBatches(T0 + 999)).toEqual([]);
    expect(acc.expiredBatches(T0 + 1000)).toEqual([old]);
    expect(acc.queuedBatches({ topic: 't', partition: 0 })).toEqual([young]);
  });
});

describe('ProducerBatch', () => {
  test('completing settles every record once with consecutive offsets; later outcomes are ignored', () => {
    const b = new ProducerBatch({ topic: 't', partition: 3 }, T0, 100, 1000);
    const ds = [new Delivery(), new Delivery(), new Delivery()];
    ds.forEach((d, i) => expect(b.tryAppend(record(`v${i}`), T0 + i, d)).toBe(true));
    expect(b.complete(41, -1)).toBe(true);
    expect(ds.map((d) => d.result)).toEqual([
      { topic: 't', partition: 3, offset: 41, timestamp: T0 },
      { topic: 't', partition: 3, offset: 42, timestamp: T0 + 1 },
      { topic: 't', partition: 3, offset: 43, timestamp: T0 + 2 },
    ]);
    expect(b.fail(new Error('late'))).toBe(false);
    expect(ds.every((d) => d.settledCount === 1)).toBe(true);
  });

  test('log-append time from the broker replaces the create time', () => {
    const b = new ProducerBatch({ topic: 't', partition: 0 }, T0, 100, 1000);
    const d = new Delivery();
    b.tryAppend(record('v'), T0, d);
    b.complete(0, T0 + 777);
    expect(d.result!.timestamp).toBe(T0 + 777);
  });

  test('splitting halves a batch in order, keeps the sequence range and takes no more records', () => {
    const b = new ProducerBatch({ topic: 't', partition: 0 }, T0, 500, 10_000);
    const ds = Array.from({ length: 5 }, () => new Delivery());
    ds.forEach((d, i) => b.tryAppend(record(`r${i}`), T0 + i, d));
    b.setProducerState(9, 2, 100);
    b.close('gzip');
    const [first, second] = b.split();
    expect([first.recordCount, second.recordCount]).toEqual([3, 2]);
    expect([first.baseSequence, second.baseSequence]).toEqual([100, 103]);
    expect([first.allocatedBytes, second.allocatedBytes, b.allocatedBytes]).toEqual([500, 0, 0]);
    expect(first.tryAppend(record('late'), T0, new Delivery())).toBe(false);
    expect(b.isDone).toBe(true);
    first.complete(10, -1);
    second.complete(13, -1);
    expect(ds.map((d) => d.result!.offset)).toEqual([10, 11, 12, 13, 14]);
    expect(ds.map((d) => d.result!.timestamp)).toEqual([0, 1, 2, 3, 4].map((i) => T0 + i));
  });
});
