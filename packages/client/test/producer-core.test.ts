// The producer's sending core without I/O: requests per broker, sequence numbers per partition
// that survive retries byte for byte, Kafka's handling of sequence errors (retry, epoch bump,
// unresolved sequences), delivery timeouts, splitting, acks=0, in-flight limits and metrics.
// The test plays the network by answering each ProduceSend.

import { checkBatch, readBatchHeader } from '@samsa/log';
import { ClientError } from '../src/client-error.js';
import { MetadataCache } from '../src/cluster/metadata-cache.js';
import { resolveProducerConfig, type ProducerConfig } from '../src/config/producer-config.js';
import { KafkaError } from '../src/protocol/errors.js';
import type { ProduceResponse } from '../src/protocol/wire-types.js';
import { RetryPolicy } from '../src/retry/retry-policy.js';
import { BufferPool } from '../src/producer/buffer-pool.js';
import { ProducerCore, type ProduceSend } from '../src/producer/producer-core.js';
import { ProducerMetrics } from '../src/producer/producer-metrics.js';
import { Delivery, record } from './helpers/producer-fixtures.js';
import { metadataResponse, wireError } from './helpers/scripted-network.js';

const T0 = 1_000_000;

class Harness {
  readonly metadata = new MetadataCache(300_000);
  readonly pool: BufferPool;
  readonly core: ProducerCore;
  now = T0;

  constructor(config: ProducerConfig = {}, partitions: Array<{ leader: number; epoch?: number }> = [{ leader: 1 }, { leader: 1 }, { leader: 2 }]) {
    const settings = resolveProducerConfig({ 'bootstrap.servers': 'b:1', 'linger.ms': 0, ...config });
    this.metadata.update(metadataResponse({ brokers: [1, 2], topics: { t: partitions } }), T0, { all: false, topics: ['t'] });
    this.pool = new BufferPool(settings.bufferMemory);
    this.core = new ProducerCore({
      settings,
      metadata: this.metadata,
      policy: new RetryPolicy({ retries: settings.retries, backoffMs: settings.retryBackoffMs, backoffMaxMs: settings.retryBackoffMaxMs }, () => 0.5),
      pool: this.pool,
      metrics: new ProducerMetrics({ windowMs: 30_000, numSamples: 2 }),
    });
  }

  append(partition: number, value = 'v', count = 1): Delivery[] {
    const acc = this.core.accumulator;
    const out: Delivery[] = [];
    for (let i = 0; i < count; i++) {
      const r = record(value);
      const tp = { topic: 't', partition };
      const d = new Delivery();
      if (!acc.tryAppendToOpenBatch(tp, r, this.now, d)) {
        const bytes = acc.allocationFor(r);
        if (!this.pool.tryAllocate(bytes)) throw new Error('test: out of memory');
        acc.appendWithNewBatch(tp, r, this.now, d, bytes, this.now);
      }
      out.push(d);
    }
    return out;
  }

  poll(): ReturnType<ProducerCore['poll']> {
    return this.core.poll(this.now);
  }

  /** Gives the core a producer id (answering its InitProducerId). */
  initProducerId(producerId = 4000, producerEpoch = 0): void {
    const p = this.poll();
    expect(p.initProducerId).toBe(true);
    this.core.onInitProducerIdOutcome({ producerId, producerEpoch }, this.now);
  }

  sends(): ProduceSend[] {
    return this.poll().sends;
  }

  answer(send: ProduceSend, perPartition: Record<number, { error?: string; baseOffset?: number; logStartOffset?: number }>): void {
    const response: ProduceResponse = {
      topics: [{
        topic: 't',
        partitions: Object.entries(perPartition).map(([p, r]) => ({
          partition: Number(p),
          error: r.error ? wireError(r.error) : null,
          baseOffset: r.baseOffset ?? -1,
          logAppendTime: -1,
          logStartOffset: r.logStartOffset ?? 0,
        })),
      }],
    };
    this.core.onProduceOutcome(send, { response }, this.now);
  }
}

/** The partitions' batch headers of a request. */
function headers(send: ProduceSend) {
  return send.request.topics.flatMap((t) => t.partitions.map((p) => ({ partition: p.partition, records: p.records, header: checkBatch(p.records) })));
}

describe('ProducerCore: idempotence', () => {
  test('nothing is sent before InitProducerId answers; then batches carry the producer id, epoch and sequence 0', () => {
    const h = new Harness();
    h.append(0, 'a', 3);
    const first = h.poll();
    expect(first).toMatchObject({ sends: [], initProducerId: true });
    expect(h.poll().initProducerId).toBe(false); // one InitProducerId at a time
    h.core.onInitProducerIdOutcome({ producerId: 4000, producerEpoch: 0 }, h.now);
    const [send] = h.sends();
    expect(send!.nodeId).toBe(1);
    expect(send!.request.acks).toBe(-1);
    expect(send!.request.timeoutMs).toBe(30_000);
    const [{ header }] = headers(send!);
    expect(header).toMatchObject({ producerId: 4000n, producerEpoch: 0, baseSequence: 0, recordCount: 3 });
  });

  test('sequences advance per partition by the record count', () => {
    const h = new Harness();
    h.append(0, 'a', 3);
    h.initProducerId();
    const s1 = h.sends()[0]!;
    h.answer(s1, { 0: { baseOffset: 0 } });
    h.append(0, 'b', 2);
    h.append(1, 'c', 4);
    const s2 = h.sends()[0]!;
    const byPartition = Object.fromEntries(headers(s2).map((x) => [x.partition, x.header.baseSequence]));
    expect(byPartition).toEqual({ 0: 3, 1: 0 });
    expect(h.core.idempotence!.sequenceState({ topic: 't', partition: 0 })).toMatchObject({ nextSequence: 5, lastAckedSequence: 2 });
  });

  test('a retried batch goes again with the same bytes (same sequence), after the backoff and a metadata refresh request', () => {
    const h = new Harness();
    const ds = h.append(0, 'a', 2);
    h.initProducerId();
    const s1 = h.sends()[0]!;
    const bytes = Buffer.from(s1.request.topics[0]!.partitions[0]!.records);
    h.answer(s1, { 0: { error: 'NOT_LEADER_OR_FOLLOWER' } });
    expect(h.metadata.updateRequested).toBe(true);
    const p = h.poll();
    expect(p.sends).toEqual([]);
    expect(p.nextPollDelayMs).toBe(100); // retry.backoff.ms
    h.now += 100;
    const s2 = h.sends()[0]!;
    expect(s2.request.topics[0]!.partitions[0]!.records.equals(bytes)).toBe(true);
    h.answer(s2, { 0: { baseOffset: 70 } });
    expect(ds.map((d) => d.result?.offset)).toEqual([70, 71]);
  });

  test('a retry waits until it is the lowest unsettled sequence of its partition', () => {
    const h = new Harness();
    h.append(0, 'a');
    h.initProducerId();
    const sA = h.sends()[0]!; // seq 0
    h.append(0, 'b');
    const sB = h.sends()[0]!; // seq 1, second request in flight
    expect(headers(sB)[0]!.header.baseSequence).toBe(1);
    h.answer(sB, { 0: { error: 'NOT_ENOUGH_REPLICAS' } }); // B fails while A is still out
    h.now += 1000;
    expect(h.sends()).toEqual([]); // B may not overtake A
    h.answer(sA, { 0: { baseOffset: 0 } });
    const again = h.sends()[0]!;
    expect(headers(again)[0]!.header.baseSequence).toBe(1);
  });

  test('DUPLICATE_SEQUENCE_NUMBER means the broker already has the batch: success', () => {
    const h = new Harness();
    const [d] = h.append(0);
    h.initProducerId();
    h.answer(h.sends()[0]!, { 0: { error: 'DUPLICATE_SEQUENCE_NUMBER', baseOffset: 12 } });
    expect(d!.result).toMatchObject({ offset: 12 });
  });

  test('OUT_OF_ORDER_SEQUENCE_NUMBER for a batch that is not next is retried as is, no epoch bump', () => {
    const h = new Harness();
    h.append(0, 'a');
    h.initProducerId();
    const sA = h.sends()[0]!;
    h.append(0, 'b');
    const sB = h.sends()[0]!;
    h.answer(sA, { 0: { error: 'NOT_ENOUGH_REPLICAS' } });
    h.answer(sB, { 0: { error: 'OUT_OF_ORDER_SEQUENCE_NUMBER' } });
    expect(h.core.idempotence!.epochBumpPending).toBe(false);
    h.now += 1000;
    const retryA = h.sends()[0]!;
    expect(headers(retryA)[0]!.header).toMatchObject({ baseSequence: 0, producerEpoch: 0 });
    h.answer(retryA, { 0: { baseOffset: 0 } });
    const retryB = h.sends()[0]!;
    expect(headers(retryB)[0]!.header).toMatchObject({ baseSequence: 1, producerEpoch: 0 });
  });

  test('OUT_OF_ORDER_SEQUENCE_NUMBER for the next expected batch is a real gap: epoch bump, sequences from 0', () => {
    const h = new Harness();
    const [dA] = h.append(0, 'a');
    h.initProducerId(4000, 7);
    h.answer(h.sends()[0]!, { 0: { baseOffset: 0 } }); // seq 0 acked
    const [dB] = h.append(0, 'b');
    const sB = h.sends()[0]!; // seq 1 = next expected
    h.answer(sB, { 0: { error: 'OUT_OF_ORDER_SEQUENCE_NUMBER' } });
    expect(dA!.result?.offset).toBe(0);
    h.now += 1000;
    const retry = h.sends()[0]!;
    const [{ header, records }] = headers(retry);
    expect(header).toMatchObject({ producerId: 4000n, producerEpoch: 8, baseSequence: 0 });
    expect(() => checkBatch(records)).not.toThrow(); // CRC recomputed after the rewrite
    h.answer(retry, { 0: { baseOffset: 1 } });
    expect(dB!.result?.offset).toBe(1);
    // Other partitions move to the new epoch once they have nothing in flight.
    h.append(1, 'c');
    expect(headers(h.sends()[0]!)[0]!.header).toMatchObject({ producerEpoch: 8, baseSequence: 0 });
  });

  test('UNKNOWN_PRODUCER_ID after retention removed our state bumps the epoch and retries', () => {
    const h = new Harness();
    h.append(0, 'a');
    h.initProducerId();
    h.answer(h.sends()[0]!, { 0: { baseOffset: 5 } });
    const [d] = h.append(0, 'b');
    h.answer(h.sends()[0]!, { 0: { error: 'UNKNOWN_PRODUCER_ID', logStartOffset: 100 } });
    h.now += 1000;
    const retry = h.sends()[0]!;
    expect(headers(retry)[0]!.header).toMatchObject({ producerEpoch: 1, baseSequence: 0 });
    h.answer(retry, { 0: { baseOffset: 101 } });
    expect(d!.result?.offset).toBe(101);
  });

  test('an epoch bump waits until no request is on the wire', () => {
    const h = new Harness();
    h.append(0, 'a');
    h.append(1, 'x');
    h.initProducerId();
    const send = h.sends()[0]!; // both partitions, node 1
    h.append(2, 'y'); // node 2
    const other = h.sends()[0]!;
    h.answer(send, { 0: { error: 'OUT_OF_ORDER_SEQUENCE_NUMBER' }, 1: { baseOffset: 0 } });
    expect(h.core.idempotence!.epochBumpPending).toBe(true);
    h.now += 1000;
    expect(h.sends()).toEqual([]); // node 2's request is still out
    expect(h.core.idempotence!.identity.producerEpoch).toBe(0);
    h.answer(other, { 2: { baseOffset: 0 } });
    const retry = h.sends()[0]!;
    expect(h.core.idempotence!.identity.producerEpoch).toBe(1);
    const [{ partition, header }] = headers(retry);
    expect(partition).toBe(0);
    expect(header).toMatchObject({ producerEpoch: 1, baseSequence: 0 });
  });

  test('a batch expiring while on the wire leaves its partition unresolved until the outcome is known', () => {
    const h = new Harness({ 'delivery.timeout.ms': 30_000, 'request.timeout.ms': 20_000 });
    const [dA] = h.append(0, 'a');
    h.initProducerId();
    const sA = h.sends()[0]!;
    h.now += 30_000;
    const [dB] = h.append(0, 'b');
    expect(h.sends()).toEqual([]); // A expired (unresolved): B must wait
    expect(dA!.error).toBeInstanceOf(ClientError);
    expect((dA!.error as ClientError).code).toBe('DELIVERY_TIMEOUT');
    expect(h.core.idempotence!.sequenceState({ topic: 't', partition: 0 })!.unresolved).toBe(true);
    // The late answer shows A was written: resolved, B continues the sequence in the same epoch.
    h.answer(sA, { 0: { baseOffset: 0 } });
    const sB = h.sends()[0]!;
    expect(headers(sB)[0]!.header).toMatchObject({ producerEpoch: 0, baseSequence: 1 });
    h.answer(sB, { 0: { baseOffset: 1 } });
    expect(dB!.result?.offset).toBe(1);
    expect(dA!.result).toBeUndefined(); // A's caller already got the timeout
  });

  test('an unresolved sequence that was never acknowledged bumps the epoch', () => {
    const h = new Harness({ 'delivery.timeout.ms': 30_000, 'request.timeout.ms': 20_000 });
    h.append(0, 'a');
    h.initProducerId();
    const sA = h.sends()[0]!;
    h.now += 30_000;
    h.append(0, 'b');
    h.sends();
    h.core.onProduceOutcome(sA, { error: new KafkaError('REQUEST_TIMED_OUT') }, h.now);
    const sB = h.sends()[0]!;
    expect(headers(sB)[0]!.header).toMatchObject({ producerEpoch: 1, baseSequence: 0 });
  });

  test('a batch the broker refuses for good fails with its KafkaError and later sequences restart in a new epoch', () => {
    const h = new Harness();
    const [dA] = h.append(0, 'a');
    h.initProducerId();
    h.answer(h.sends()[0]!, { 0: { error: 'INVALID_RECORD' } });
    expect(dA!.error).toBeInstanceOf(KafkaError);
    expect((dA!.error as KafkaError).type).toBe('INVALID_RECORD');
    h.append(0, 'b');
    expect(headers(h.sends()[0]!)[0]!.header).toMatchObject({ producerEpoch: 1, baseSequence: 0 });
  });

  test('InitProducerId: a retriable error backs off and retries; a fatal one fails everything', () => {
    const h = new Harness();
    const [d] = h.append(0);
    expect(h.poll().initProducerId).toBe(true);
    h.core.onInitProducerIdOutcome({ error: new KafkaError('COORDINATOR_NOT_AVAILABLE') }, h.now);
    const p = h.poll();
    expect(p.initProducerId).toBe(false);
    expect(p.nextPollDelayMs).toBe(100);
    h.now += 100;
    expect(h.poll().initProducerId).toBe(true);
    h.core.onInitProducerIdOutcome({ error: new KafkaError('INVALID_PRODUCER_EPOCH') }, h.now);
    expect(d!.error).toBeInstanceOf(ClientError);
    expect((d!.error as ClientError).code).toBe('PRODUCER_FATAL');
    expect(h.core.fatalError).toBe(d!.error);
    expect(h.pool.available).toBe(h.pool.totalBytes);
  });
});

describe('ProducerCore: delivery', () => {
  test('one request per broker carrying every ready partition it leads', () => {
    const h = new Harness({ 'enable.idempotence': false });
    h.append(0);
    h.append(1);
    h.append(2);
    const sends = h.sends();
    expect(sends.map((s) => [s.nodeId, s.address, s.request.topics[0]!.partitions.map((p) => p.partition).sort()])).toEqual([
      [1, 'broker1:9092', [0, 1]],
      [2, 'broker2:9092', [2]],
    ]);
    expect(headers(sends[0]!)[0]!.header).toMatchObject({ producerId: -1n, baseSequence: -1 });
  });

  test('at most max.in.flight.requests.per.connection requests per broker', () => {
    const h = new Harness({ 'enable.idempotence': false, 'max.in.flight.requests.per.connection': 2 });
    const out: ProduceSend[] = [];
    for (let i = 0; i < 3; i++) {
      h.append(0);
      out.push(...h.sends());
    }
    expect(out).toHaveLength(2);
    h.answer(out[0]!, { 0: { baseOffset: 0 } });
    expect(h.sends()).toHaveLength(1);
  });

  test('one poll fills every free request slot of a broker while batches are ready (not one request per poll)', () => {
    for (const idempotence of [false, true]) {
      const h = new Harness({ 'enable.idempotence': idempotence, 'max.in.flight.requests.per.connection': 3, 'batch.size': 1 });
      h.append(0, 'v', 4); // four one-record batches: one per request, as a drain takes one batch per partition
      h.append(2, 'v', 1);
      if (idempotence) h.initProducerId();
      const sends = h.sends();
      expect(sends.map((s) => s.nodeId).sort()).toEqual([1, 1, 1, 2]);
      expect(h.sends()).toHaveLength(0);
      const first = sends.find((s) => s.nodeId === 1)!;
      h.answer(first, { 0: { baseOffset: 0 } });
      expect(h.sends().map((s) => s.nodeId)).toEqual([1]);
    }
  });

  test('with max.in.flight=1 a partition is muted while its batch is out (order without idempotence)', () => {
    const h = new Harness({ 'enable.idempotence': false, 'max.in.flight.requests.per.connection': 1, acks: 1 });
    h.append(0);
    const s1 = h.sends()[0]!;
    h.append(0);
    h.append(2);
    const next = h.sends();
    expect(next.map((s) => s.nodeId)).toEqual([2]);
    h.answer(s1, { 0: { baseOffset: 0 } });
    expect(h.sends().map((s) => s.nodeId)).toEqual([1]);
  });

  test('acks=0 completes records with offset -1 as soon as they are sent', () => {
    const h = new Harness({ acks: 0 });
    const [d] = h.append(0);
    const s = h.sends()[0]!;
    expect(s.expectResponse).toBe(false);
    expect(s.request.acks).toBe(0);
    expect(d!.result).toMatchObject({ offset: -1 });
    h.core.onProduceOutcome(s, { error: new KafkaError('NETWORK_EXCEPTION') }, h.now);
    expect(d!.settledCount).toBe(1);
    expect(h.pool.available).toBe(h.pool.totalBytes);
  });

  test('a transport failure requests metadata and retries; retries run out at `retries`', () => {
    const h = new Harness({ 'enable.idempotence': false, retries: 2 });
    const [d] = h.append(0);
    for (let attempt = 0; attempt < 3; attempt++) {
      const s = h.sends()[0]!;
      h.core.onProduceOutcome(s, { error: new KafkaError('NETWORK_EXCEPTION') }, h.now);
      expect(h.metadata.updateRequested).toBe(true);
      h.now += 1000;
    }
    expect((d!.error as KafkaError).type).toBe('NETWORK_EXCEPTION');
    expect(h.sends()).toEqual([]);
  });

  test('a queued batch whose leader never appears fails with DELIVERY_TIMEOUT at delivery.timeout.ms', () => {
    const h = new Harness({ 'enable.idempotence': false }, [{ leader: -1 }]);
    const [d] = h.append(0);
    const p = h.poll();
    expect(p.sends).toEqual([]);
    expect(h.metadata.updateRequested).toBe(true);
    expect(p.nextPollDelayMs).toBe(120_000);
    h.now += 120_000;
    h.poll();
    expect((d!.error as ClientError).code).toBe('DELIVERY_TIMEOUT');
    expect((d!.error as ClientError).message).toContain('t-0');
    expect(h.pool.available).toBe(h.pool.totalBytes);
  });

  test('MESSAGE_TOO_LARGE for a batch of several records splits it; the halves keep the sequence range', () => {
    const h = new Harness();
    const ds = h.append(0, 'x', 5);
    h.initProducerId();
    h.answer(h.sends()[0]!, { 0: { error: 'MESSAGE_TOO_LARGE' } });
    const first = h.sends()[0]!;
    expect(headers(first)[0]!.header).toMatchObject({ baseSequence: 0, recordCount: 3 });
    h.answer(first, { 0: { baseOffset: 10 } });
    const second = h.sends()[0]!;
    expect(headers(second)[0]!.header).toMatchObject({ baseSequence: 3, recordCount: 2 });
    h.answer(second, { 0: { baseOffset: 13 } });
    expect(ds.map((d) => d.result?.offset)).toEqual([10, 11, 12, 13, 14]);
  });

  test('MESSAGE_TOO_LARGE for a single record fails it', () => {
    const h = new Harness({ 'enable.idempotence': false });
    const [d] = h.append(0);
    h.answer(h.sends()[0]!, { 0: { error: 'MESSAGE_TOO_LARGE' } });
    expect((d!.error as KafkaError).type).toBe('MESSAGE_TOO_LARGE');
  });

  test('a response that leaves out a partition fails its batch with INVALID_RESPONSE', () => {
    const h = new Harness({ 'enable.idempotence': false });
    const [d0] = h.append(0);
    const [d1] = h.append(1);
    h.answer(h.sends()[0]!, { 0: { baseOffset: 3 } });
    expect(d0!.result?.offset).toBe(3);
    expect((d1!.error as ClientError).code).toBe('INVALID_RESPONSE');
  });

  test('a leader hint in NOT_LEADER_OR_FOLLOWER moves the partition at once', () => {
    const h = new Harness({ 'enable.idempotence': false });
    h.append(0);
    const s = h.sends()[0]!;
    h.core.onProduceOutcome(s, {
      response: { topics: [{ topic: 't', partitions: [{ partition: 0, error: wireError('NOT_LEADER_OR_FOLLOWER', 2, 1), baseOffset: -1, logAppendTime: -1, logStartOffset: -1 }] }] },
    }, h.now);
    h.now += 1000;
    expect(h.sends()[0]!.nodeId).toBe(2);
  });

  test('metrics count sends, errors, bytes, batch sizes, queue time and latency', () => {
    const h = new Harness({ 'enable.idempotence': false, 'linger.ms': 5, 'retries': 0 });
    h.append(0, 'x', 4);
    h.now += 5;
    const s = h.sends()[0]!;
    const bytes = s.request.topics[0]!.partitions[0]!.records.length;
    h.now += 20;
    h.answer(s, { 0: { baseOffset: 0 } });
    h.append(1, 'y');
    h.now += 5;
    const s2 = h.sends();
    h.answer(s2[0]!, { 1: { error: 'INVALID_RECORD' } });
    const m = (h.core as unknown as { metrics: ProducerMetrics }).metrics.snapshot(h.now, { bufferAvailable: 0, bufferTotal: 0, waiting: 0, inFlight: 0 });
    expect(m['record-send-total']).toBe(5);
    expect(m['record-error-total']).toBe(1);
    expect(m['request-total']).toBe(2);
    expect(m['outgoing-byte-total']).toBeGreaterThan(bytes);
    expect(m['batch-size-max']).toBe(bytes);
    expect(m['record-queue-time-max']).toBe(5);
    expect(m['request-latency-max']).toBe(20);
    // Less than one window old: Kafka's Rate divides by the elapsed time plus one full window.
    expect(m['record-send-rate']).toBeCloseTo(5 / ((h.now - (T0 + 5) + 30_000) / 1000), 9);
    expect(readBatchHeader(s.request.topics[0]!.partitions[0]!.records).recordCount).toBe(4);
  });
});
