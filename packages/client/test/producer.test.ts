// The Producer as an application uses it, over the client's network interface (answered by each
// test, no broker) and a manual clock: the path of a send from metadata to acknowledgement,
// linger, flush, partition choice, fast failures for bad input, max.block.ms for metadata and
// buffer space, close.

import { decodeBatch } from '@samsa/log';
import { ClientError } from '../src/client-error.js';
import { KafkaError } from '../src/protocol/errors.js';
import type { ProduceRequest } from '../src/protocol/wire-types.js';
import { partitionForKey } from '../src/producer/murmur2.js';
import { Producer } from '../src/producer/producer.js';
import type { ProducerConfig } from '../src/config/producer-config.js';
import { ManualClock, advanceAndSettle, settle } from './helpers/manual-clock.js';
import { ScriptedNetwork, metadataResponse, type PendingCall } from './helpers/scripted-network.js';
import { seededRandom } from './helpers/seeded-random.js';

const cluster = metadataResponse({ brokers: [1, 2], topics: { t: [{ leader: 1 }, { leader: 2 }, { leader: 1 }, { leader: 2 }] } });

/** Answers every produce with consecutive offsets per partition, remembering what was written. */
function autoBroker(net: ScriptedNetwork) {
  const next = new Map<string, number>();
  const written: Array<{ partition: number; values: string[] }> = [];
  net.autoRespond((c) => {
    if (c.method === 'metadata') return cluster;
    if (c.method === 'initProducerId') return { error: null, producerId: 77, producerEpoch: 0 };
    if (c.method !== 'produce') return undefined;
    const req = c.request as ProduceRequest;
    return {
      topics: req.topics.map((t) => ({
        topic: t.topic,
        partitions: t.partitions.map((p) => {
          const batch = decodeBatch(p.records);
          const key = `${t.topic}-${p.partition}`;
          const base = next.get(key) ?? 0;
          next.set(key, base + batch.records.length);
          written.push({ partition: p.partition, values: batch.records.map((r) => r.value!.toString()) });
          return { partition: p.partition, error: null, baseOffset: base, logAppendTime: -1, logStartOffset: 0 };
        }),
      })),
    };
  });
  return written;
}

function setup(config: ProducerConfig = {}) {
  const clock = new ManualClock();
  const net = new ScriptedNetwork();
  const producer = new Producer({ 'bootstrap.servers': 'seed:9092', ...config }, { clock, connector: net.connector, random: seededRandom() });
  return { clock, net, producer };
}

describe('Producer', () => {
  test('send(): metadata, InitProducerId, then one batch after linger.ms; resolves with partition and offset', async () => {
    const { clock, net, producer } = setup();
    const written = autoBroker(net);
    const sent = producer.send({ topic: 't', value: 'hello', partition: 2, timestamp: 1234 });
    await settle();
    expect(net.count('metadata')).toBe(1);
    expect(net.count('initProducerId')).toBe(1);
    expect(net.count('produce')).toBe(0); // lingering
    await advanceAndSettle(clock, 5);
    await expect(sent).resolves.toEqual({ topic: 't', partition: 2, offset: 0, timestamp: 1234 });
    expect(written).toEqual([{ partition: 2, values: ['hello'] }]);
    expect(net.history.find((h) => h.method === 'produce')!.address).toBe('broker1:9092');
    await producer.close();
    expect(net.closed.sort()).toEqual([...new Set(net.opened)].sort());
  });

  test('records of one send() burst share a batch; keyed records go to murmur2(key) % partitions', async () => {
    const { clock, net, producer } = setup({ 'enable.idempotence': false });
    const written = autoBroker(net);
    const warm = producer.send({ topic: 't', value: 'warm', partition: 0 });
    await advanceAndSettle(clock, 5);
    await warm;
    const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
    const results = await (async () => {
      const ps = keys.map((k) => producer.send({ topic: 't', key: k, value: `v-${k}` }));
      await advanceAndSettle(clock, 5);
      return Promise.all(ps);
    })();
    results.forEach((r, i) => expect(r.partition).toBe(partitionForKey(Buffer.from(keys[i]!), 4)));
    // One produce request per broker for the whole burst.
    expect(net.count('produce')).toBe(1 + new Set(results.map((r) => (r.partition % 2 === 0 ? 1 : 2))).size);
    expect(written.slice(1).flatMap((w) => w.values).sort()).toEqual(keys.map((k) => `v-${k}`).sort());
    await producer.close();
  });

  test('keyless records stick to one partition per batch', async () => {
    const { clock, net, producer } = setup({ 'enable.idempotence': false });
    autoBroker(net);
    const warm = producer.send({ topic: 't', value: 'warm', partition: 0 });
    await advanceAndSettle(clock, 5);
    await warm;
    const ps = Array.from({ length: 20 }, (_, i) => producer.send({ topic: 't', value: `v${i}` }));
    await advanceAndSettle(clock, 5);
    const parts = new Set((await Promise.all(ps)).map((r) => r.partition));
    expect(parts.size).toBe(1);
    await producer.close();
  });

  test('flush() sends at once and waits for every earlier send', async () => {
    const { net, producer } = setup({ 'linger.ms': 60_000, 'enable.idempotence': false });
    autoBroker(net);
    const a = producer.send({ topic: 't', value: 'a', partition: 1 });
    const b = producer.send({ topic: 't', value: 'b', partition: 1 });
    await producer.flush();
    await expect(Promise.all([a, b])).resolves.toEqual([
      expect.objectContaining({ offset: 0 }),
      expect.objectContaining({ offset: 1 }),
    ]);
    await producer.close();
  });

  test('bad records fail at once with typed errors', async () => {
    const { net, producer } = setup({ 'max.request.size': 1000 });
    autoBroker(net);
    await expect(producer.send({ topic: 'bad topic!', value: 'x' })).rejects.toMatchObject({ type: 'INVALID_TOPIC_EXCEPTION' });
    await expect(producer.send({ topic: 't' } as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(producer.send({ topic: 't', value: 'x', partition: -1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(producer.send({ topic: 't', value: 'x', timestamp: -5 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(producer.send({ topic: 't', value: 42 as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(producer.send({ topic: 't', value: 'x', headers: [{ key: 1 as never, value: 'v' }] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const tooLarge = producer.send({ topic: 't', value: Buffer.alloc(2000) });
    await expect(tooLarge).rejects.toBeInstanceOf(KafkaError);
    await expect(tooLarge).rejects.toMatchObject({ type: 'MESSAGE_TOO_LARGE' });
    expect(net.count('metadata')).toBe(0); // nothing went out for any of these
    await producer.close();
  });

  test('a topic that never appears fails with METADATA_TIMEOUT after max.block.ms', async () => {
    const { clock, net, producer } = setup({ 'max.block.ms': 1000 });
    net.autoRespond((c) => (c.method === 'metadata' ? metadataResponse({ brokers: [1], topics: { nope: { error: 'UNKNOWN_TOPIC_OR_PARTITION' } } }) : undefined));
    const sent = producer.send({ topic: 'nope', value: 'x' }).catch((e: unknown) => e);
    await advanceAndSettle(clock, 1000, 100);
    const err = (await sent) as ClientError;
    expect(err.code).toBe('METADATA_TIMEOUT');
    expect((err.cause as KafkaError).type).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    await producer.close();
  });

  test('a full buffer.memory blocks send() and fails it with BUFFER_EXHAUSTED after max.block.ms', async () => {
    // 2 batches of 1000 bytes fill the buffer; the broker does not answer.
    const { clock, net, producer } = setup({ 'buffer.memory': 2000, 'batch.size': 1000, 'max.block.ms': 500, 'enable.idempotence': false });
    net.autoRespond((c) => (c.method === 'metadata' ? cluster : undefined));
    const held = [producer.send({ topic: 't', value: 'a', partition: 0 }), producer.send({ topic: 't', value: 'b', partition: 1 })];
    await settle();
    const blocked = producer.send({ topic: 't', value: 'c', partition: 2 }).catch((e: unknown) => e);
    await advanceAndSettle(clock, 499, 100);
    expect(producer.metrics()['waiting-threads']).toBe(1);
    await advanceAndSettle(clock, 1);
    expect(((await blocked) as ClientError).code).toBe('BUFFER_EXHAUSTED');
    // Memory coming back lets sends through again.
    for (const c of net.pending.filter((p) => p.method === 'produce')) answerAll(c);
    await Promise.all(held);
    const after = producer.send({ topic: 't', value: 'd', partition: 2 });
    await advanceAndSettle(clock, 5);
    answerAll(await net.next('produce'));
    await expect(after).resolves.toMatchObject({ partition: 2 });
    await producer.close();
  });

  test('sends to one topic keep their order when the first must wait for metadata', async () => {
    const { clock, net, producer } = setup({ 'enable.idempotence': false });
    const written = autoBroker(net);
    const ps = ['1', '2', '3'].map((v) => producer.send({ topic: 't', value: v, partition: 3 }));
    await advanceAndSettle(clock, 5);
    expect((await Promise.all(ps)).map((r) => r.offset)).toEqual([0, 1, 2]);
    expect(written).toEqual([{ partition: 3, values: ['1', '2', '3'] }]);
    await producer.close();
  });

  test('close() sends what is buffered; send() afterwards fails with CLOSED', async () => {
    const { net, producer } = setup({ 'linger.ms': 60_000 });
    autoBroker(net);
    const a = producer.send({ topic: 't', value: 'a', partition: 0 });
    await producer.close();
    await expect(a).resolves.toMatchObject({ offset: 0 });
    await expect(producer.send({ topic: 't', value: 'b' })).rejects.toMatchObject({ code: 'CLOSED' });
    expect(producer.isClosed).toBe(true);
  });

  test('close({timeoutMs}) fails what the broker did not acknowledge in time with CLOSED', async () => {
    const { clock, net, producer } = setup({ 'enable.idempotence': false });
    net.autoRespond((c) => (c.method === 'metadata' ? cluster : undefined));
    const a = producer.send({ topic: 't', value: 'a', partition: 0 }).catch((e: unknown) => e);
    await advanceAndSettle(clock, 5);
    await net.next('produce');
    const closing = producer.close({ timeoutMs: 1000 });
    await advanceAndSettle(clock, 1000);
    await closing;
    expect(((await a) as ClientError).code).toBe('CLOSED');
    expect(net.pending).toEqual([]); // the produce call was cancelled
  });

  test('metrics() reports Kafka-named values', async () => {
    const { clock, net, producer } = setup();
    autoBroker(net);
    const sent = producer.send({ topic: 't', value: 'x', partition: 0 });
    await advanceAndSettle(clock, 5);
    await sent;
    const m = producer.metrics();
    expect(m['record-send-total']).toBe(1);
    expect(m['buffer-total-bytes']).toBe(33_554_432);
    expect(m['buffer-available-bytes']).toBe(33_554_432);
    expect(Object.keys(m)).toEqual(expect.arrayContaining(['record-send-rate', 'record-error-rate', 'record-queue-time-avg', 'request-latency-avg', 'outgoing-byte-rate', 'batch-size-avg']));
    await producer.close();
  });
});

function answerAll(c: PendingCall): void {
  const req = c.request as ProduceRequest;
  c.respond({
    topics: req.topics.map((t) => ({
      topic: t.topic,
      partitions: t.partitions.map((p) => ({ partition: p.partition, error: null, baseOffset: 0, logAppendTime: -1, logStartOffset: 0 })),
    })),
  });
}
