// The Consumer as an application (or a group layer) uses it, over the client's network
// interface answered by each test and a manual clock: starting positions (reset policies,
// committed offsets), long-poll fetches, following a leader change, wakeup and close, the async
// iterator, and typed errors for misuse.

import { ClientError } from '../src/client-error.js';
import { Consumer, type CommittedOffsetSource } from '../src/consumer/consumer.js';
import type { ConsumerConfig } from '../src/config/consumer-config.js';
import type { FetchRequest, FetchResponse, ListOffsetsRequest } from '../src/protocol/wire-types.js';
import { batch, offsets, values } from './helpers/batches.js';
import { ManualClock, advanceAndSettle, settle } from './helpers/manual-clock.js';
import { ScriptedNetwork, metadataResponse, wireError, type PendingCall } from './helpers/scripted-network.js';
import { seededRandom } from './helpers/seeded-random.js';

const tp0 = { topic: 't', partition: 0 };
const tp1 = { topic: 't', partition: 1 };
let leaders = { 0: 1, 1: 2 };
const cluster = () => metadataResponse({ brokers: [1, 2], topics: { t: [{ leader: leaders[0], epoch: leaders[0] }, { leader: leaders[1], epoch: 0 }] } });

function setup(config: ConsumerConfig = {}, committed?: CommittedOffsetSource) {
  leaders = { 0: 1, 1: 2 };
  const clock = new ManualClock();
  const net = new ScriptedNetwork();
  net.autoRespond((c) => (c.method === 'metadata' ? cluster() : undefined));
  const consumer = new Consumer(
    { 'bootstrap.servers': 'seed:9092', ...config },
    { clock, connector: net.connector, random: seededRandom(), committedOffsets: committed },
  );
  return { clock, net, consumer };
}

/** Answers ListOffsets: earliest → `earliest`, latest → `latest`. */
function listOffsetsAnswers(net: ScriptedNetwork, earliest = 0, latest = 100): void {
  net.autoRespond((c) => {
    if (c.method !== 'listOffsets') return undefined;
    const req = c.request as ListOffsetsRequest;
    return {
      topics: req.topics.map((t) => ({
        topic: t.topic,
        partitions: t.partitions.map((p) => ({ partition: p.partition, error: null, timestamp: -1, offset: p.timestamp === -2 ? earliest : latest, leaderEpoch: 0 })),
      })),
    };
  });
}

function fetchResponse(parts: Record<number, Buffer | string>): FetchResponse {
  return {
    error: null,
    topics: [{
      topic: 't',
      partitions: Object.entries(parts).map(([p, r]) => ({
        partition: Number(p),
        error: typeof r === 'string' ? wireError(r, 2, 9) : null,
        highWatermark: 100,
        logStartOffset: 0,
        logEndOffset: 100,
        records: typeof r === 'string' ? Buffer.alloc(0) : r,
        divergingEpoch: null,
      })),
    }],
  };
}

function fetchOffsetsOf(call: PendingCall): Array<[number, number]> {
  return (call.request as FetchRequest).topics.flatMap((t) => t.partitions.map((p) => [p.partition, p.fetchOffset] as [number, number]));
}

describe('Consumer', () => {
  test('auto.offset.reset=earliest: ListOffsets(-2) to the leader, then a long-poll fetch from there', async () => {
    const { net, consumer } = setup({ 'auto.offset.reset': 'earliest' });
    listOffsetsAnswers(net, 40);
    consumer.assign([tp0]);
    const polled = consumer.poll(5_000);
    const fetch = await net.next('fetch');
    expect(fetch.address).toBe('broker1:9092');
    expect(fetchOffsetsOf(fetch)).toEqual([[0, 40]]);
    expect(fetch.request).toMatchObject({ replicaId: -1, maxWaitMs: 500, minBytes: 1 });
    expect((net.history.find((h) => h.method === 'listOffsets')!.request as ListOffsetsRequest).topics[0]!.partitions[0]!.timestamp).toBe(-2);
    fetch.respond(fetchResponse({ 0: batch(38, ['old', 'old', 'a', 'b']) }));
    const records = await polled;
    expect(offsets(records)).toEqual([40, 41]);
    expect(values(records)).toEqual(['a', 'b']);
    expect(records[0]).toMatchObject({ topic: 't', partition: 0, key: Buffer.from('k40'), timestampType: 'CreateTime' });
    expect(await consumer.position(tp0)).toBe(42);
    await consumer.close();
  });

  test('the default (latest) starts at the end; poll returns [] at its timeout while the fetch waits', async () => {
    const { clock, net, consumer } = setup();
    listOffsetsAnswers(net, 0, 100);
    consumer.assign([tp1]);
    const polled = consumer.poll(1_000);
    const fetch = await net.next('fetch');
    expect(fetch.address).toBe('broker2:9092');
    expect(fetchOffsetsOf(fetch)).toEqual([[1, 100]]);
    await advanceAndSettle(clock, 1_000);
    await expect(polled).resolves.toEqual([]);
    // The answer arriving later is there for the next poll, without a new fetch.
    fetch.respond(fetchResponse({ 1: batch(100, ['late']) }));
    await settle();
    expect(values(await consumer.poll(0))).toEqual(['late']);
    await consumer.close();
  });

  test('auto.offset.reset=none without a position raises NO_OFFSET_FOR_PARTITION', async () => {
    const { consumer } = setup({ 'auto.offset.reset': 'none' });
    consumer.assign([tp0, tp1]);
    await expect(consumer.poll(100)).rejects.toMatchObject({ code: 'NO_OFFSET_FOR_PARTITION' });
    await expect(consumer.position(tp0)).rejects.toMatchObject({ code: 'NO_OFFSET_FOR_PARTITION' });
    consumer.seek(tp0, 0);
    consumer.seek(tp1, 0);
    expect(await consumer.position(tp1)).toBe(0);
    await consumer.close();
  });

  test('OFFSET_OUT_OF_RANGE with auto.offset.reset=earliest resets to the log start and goes on', async () => {
    const { net, consumer } = setup({ 'auto.offset.reset': 'earliest' });
    listOffsetsAnswers(net, 7);
    consumer.assign([tp0]);
    consumer.seek(tp0, 1_000);
    const polled = consumer.poll(5_000);
    const f1 = await net.next('fetch');
    expect(fetchOffsetsOf(f1)).toEqual([[0, 1_000]]);
    f1.respond(fetchResponse({ 0: 'OFFSET_OUT_OF_RANGE' }));
    const f2 = await net.next('fetch');
    expect(fetchOffsetsOf(f2)).toEqual([[0, 7]]);
    f2.respond(fetchResponse({ 0: batch(7, ['x']) }));
    expect(values(await polled)).toEqual(['x']);
    await consumer.close();
  });

  test('starts from committed offsets when a source is plugged in, the reset policy for the rest', async () => {
    const asked: string[][] = [];
    const source: CommittedOffsetSource = {
      fetchCommitted: async (tps) => {
        asked.push(tps.map((tp) => `${tp.topic}-${tp.partition}`));
        return tps.map((tp) => (tp.partition === 0 ? { offset: 12 } : null));
      },
    };
    const { net, consumer } = setup({ 'auto.offset.reset': 'earliest' }, source);
    listOffsetsAnswers(net, 3);
    consumer.assign([tp0, tp1]);
    expect(await consumer.position(tp0)).toBe(12);
    expect(await consumer.position(tp1)).toBe(3);
    expect(asked).toEqual([['t-0', 't-1']]);
    await consumer.close();
  });

  test('follows a leader change: NOT_LEADER_OR_FOLLOWER, metadata refresh, fetch from the new leader', async () => {
    const { clock, net, consumer } = setup();
    consumer.assign([tp0]);
    consumer.seek(tp0, 5);
    const polled = consumer.poll(10_000);
    const f1 = await net.next('fetch', 'broker1:9092');
    leaders = { 0: 2, 1: 2 };
    f1.respond(fetchResponse({ 0: 'NOT_LEADER_OR_FOLLOWER' }));
    await advanceAndSettle(clock, 100, 10);
    const f2 = await net.next('fetch', 'broker2:9092');
    expect(fetchOffsetsOf(f2)).toEqual([[0, 5]]);
    expect((f2.request as FetchRequest).topics[0]!.partitions[0]!.currentLeaderEpoch).toBeGreaterThanOrEqual(2);
    f2.respond(fetchResponse({ 0: batch(5, ['moved']) }));
    expect(values(await polled)).toEqual(['moved']);
    expect(net.count('metadata')).toBeGreaterThanOrEqual(2);
    await consumer.close();
  });

  test('max.poll.records bounds one poll; the rest comes with the next', async () => {
    const { net, consumer } = setup({ 'max.poll.records': 2 });
    consumer.assign([tp0]);
    consumer.seek(tp0, 0);
    const polled = consumer.poll(5_000);
    (await net.next('fetch')).respond(fetchResponse({ 0: batch(0, ['a', 'b', 'c']) }));
    expect(values(await polled)).toEqual(['a', 'b']);
    expect(values(await consumer.poll(0))).toEqual(['c']);
    await consumer.close();
  });

  test('wakeup() and close() end a waiting poll with []', async () => {
    const { net, consumer } = setup();
    consumer.assign([tp0]);
    consumer.seek(tp0, 0);
    const p1 = consumer.poll(60_000);
    await net.next('fetch');
    consumer.wakeup();
    await expect(p1).resolves.toEqual([]);
    const p2 = consumer.poll(60_000);
    await settle();
    await consumer.close();
    await expect(p2).resolves.toEqual([]);
    expect(net.pending).toEqual([]); // the long poll was cancelled
    expect(net.closed.length).toBeGreaterThan(0);
    await expect(consumer.poll(0)).rejects.toMatchObject({ code: 'CLOSED' });
  });

  test('the async iterator yields record by record and, left early, seeks back to the first record not taken', async () => {
    const { net, consumer } = setup();
    consumer.assign([tp0]);
    consumer.seek(tp0, 0);
    net.autoRespond((c) => (c.method === 'fetch' && fetchOffsetsOf(c)[0]![1] === 0 ? fetchResponse({ 0: batch(0, ['a', 'b', 'c', 'd']) }) : undefined));
    const seen: string[] = [];
    for await (const r of consumer) {
      seen.push(r.value!.toString());
      if (seen.length === 2) break;
    }
    expect(seen).toEqual(['a', 'b']);
    expect(await consumer.position(tp0)).toBe(2);
    await consumer.close();
  });

  test('pause() stops fetching a partition and holding back its records; resume() brings them', async () => {
    const { net, consumer } = setup();
    consumer.assign([tp0, tp1]);
    consumer.seek(tp0, 0);
    consumer.seek(tp1, 0);
    consumer.pause([tp1]);
    expect(consumer.paused()).toEqual([tp1]);
    const polled = consumer.poll(5_000);
    const f = await net.next('fetch');
    expect(f.address).toBe('broker1:9092');
    expect(net.pending.filter((c) => c.method === 'fetch')).toHaveLength(1);
    f.respond(fetchResponse({ 0: batch(0, ['p0']) }));
    expect(values(await polled)).toEqual(['p0']);
    consumer.resume([tp1]);
    const next = consumer.poll(5_000);
    const f1 = await net.next('fetch', 'broker2:9092');
    f1.respond(fetchResponse({ 1: batch(0, ['p1']) }));
    expect(values(await next)).toEqual(['p1']);
    await consumer.close();
  });

  test('position() times out with API_TIMEOUT when the position cannot be found', async () => {
    const { clock, consumer } = setup();
    consumer.assign([tp0]); // latest reset: ListOffsets never answered
    const pos = consumer.position(tp0, { timeoutMs: 500 }).catch((e: unknown) => e);
    await advanceAndSettle(clock, 500, 100);
    expect(((await pos) as ClientError).code).toBe('API_TIMEOUT');
    await consumer.close();
  });

  test('misuse gets typed errors', async () => {
    const { consumer } = setup();
    await expect(consumer.poll(10)).rejects.toMatchObject({ code: 'ILLEGAL_STATE' }); // nothing assigned
    expect(() => consumer.assign([{ topic: 'bad topic', partition: 0 }])).toThrow(expect.objectContaining({ type: 'INVALID_TOPIC_EXCEPTION' }));
    expect(() => consumer.assign([{ topic: 't', partition: -1 }])).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    consumer.assign([tp0]);
    expect(() => consumer.seek(tp0, -1)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => consumer.seek(tp1, 0)).toThrow(expect.objectContaining({ code: 'NOT_ASSIGNED' }));
    expect(() => consumer.pause([tp1])).toThrow(expect.objectContaining({ code: 'NOT_ASSIGNED' }));
    await expect(consumer.position(tp1)).rejects.toMatchObject({ code: 'NOT_ASSIGNED' });
    await expect(consumer.poll(-1)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const running = consumer.poll(1_000);
    await expect(consumer.poll(0)).rejects.toMatchObject({ code: 'ILLEGAL_STATE' });
    consumer.wakeup();
    await running;
    await consumer.close();
    expect(() => consumer.assign([tp0])).toThrow(expect.objectContaining({ code: 'CLOSED' }));
  });
});
