// A consumer in a group, over the client's network interface (each test plays the group
// coordinator by answering JoinGroup/SyncGroup/Heartbeat/OffsetCommit itself) and a manual clock:
// the join handshake with MEMBER_ID_REQUIRED, the leader's assignment, heartbeats on their own
// timer, rejoining on REBALANCE_IN_PROGRESS with eager revocation, generation fencing (a zombie's
// commit is refused and its partitions are lost), the cooperative two-phase revoke, static
// membership, auto commit, commitAsync order, coordinator failover and the metrics.

import { ClientError } from '../src/client-error.js';
import { Consumer } from '../src/consumer/consumer.js';
import type { ConsumerConfig } from '../src/config/consumer-config.js';
import { decodeAssignment, decodeSubscription, encodeAssignment } from '../src/consumer/assignors/consumer-protocol.js';
import { KafkaError } from '../src/protocol/errors.js';
import type { JoinGroupRequest, OffsetCommitRequest, SyncGroupRequest } from '../src/protocol/group-wire-types.js';
import type { ListOffsetsRequest } from '../src/protocol/wire-types.js';
import type { TopicPartition } from '../src/topic-partition.js';
import { batch } from './helpers/batches.js';
import { ManualClock, advanceAndSettle, settle } from './helpers/manual-clock.js';
import { ScriptedNetwork, metadataResponse, wireError, type PendingCall } from './helpers/scripted-network.js';
import { seededRandom } from './helpers/seeded-random.js';

const t0 = { topic: 't', partition: 0 };
const t1 = { topic: 't', partition: 1 };

function setup(config: ConsumerConfig = {}) {
  const clock = new ManualClock();
  const net = new ScriptedNetwork();
  const state = { coordinator: 1, committed: new Map<string, number>() };
  net.autoRespond((c) => {
    if (c.method === 'metadata') {
      const res = metadataResponse({ brokers: [1, 2], topics: { t: [{ leader: 1 }, { leader: 2 }] } });
      if (!c.request.allTopics) res.topics = res.topics.filter((t) => (c.request.topics as string[]).includes(t.name));
      return res;
    }
    if (c.method === 'findCoordinator') return { error: null, nodeId: state.coordinator, host: `broker${state.coordinator}`, port: 9092 };
    if (c.method === 'offsetFetch') {
      return {
        error: null,
        topics: c.request.topics.map((t: { topic: string; partitions: number[] }) => ({
          topic: t.topic,
          partitions: t.partitions.map((p) => ({ partition: p, committedOffset: state.committed.get(`${t.topic}-${p}`) ?? -1, committedLeaderEpoch: -1, metadata: '', error: null })),
        })),
      };
    }
    if (c.method === 'listOffsets') {
      const req = c.request as ListOffsetsRequest;
      return { topics: req.topics.map((t) => ({ topic: t.topic, partitions: t.partitions.map((p) => ({ partition: p.partition, error: null, timestamp: -1, offset: 0, leaderEpoch: 0 })) })) };
    }
    return undefined;
  });
  const consumer = new Consumer(
    { 'bootstrap.servers': 'seed:9092', 'group.id': 'g', 'auto.offset.reset': 'earliest', 'retry.backoff.ms': 10, ...config },
    { clock, connector: net.connector, random: seededRandom() },
  );
  return { clock, net, consumer, state };
}

interface Events {
  log: string[];
  listener: { onPartitionsAssigned(tps: TopicPartition[]): void; onPartitionsRevoked(tps: TopicPartition[]): void; onPartitionsLost(tps: TopicPartition[]): void };
}

function recorder(): Events {
  const log: string[] = [];
  const fmt = (tps: TopicPartition[]) => tps.map((tp) => `${tp.topic}-${tp.partition}`).join(',');
  return {
    log,
    listener: {
      onPartitionsAssigned: (tps) => void log.push(`assigned[${fmt(tps)}]`),
      onPartitionsRevoked: (tps) => void log.push(`revoked[${fmt(tps)}]`),
      onPartitionsLost: (tps) => void log.push(`lost[${fmt(tps)}]`),
    },
  };
}

/** Answers the next JoinGroup (as leader of a one-member group unless `members` says otherwise) and SyncGroup. */
async function completeJoin(
  net: ScriptedNetwork,
  opts: { memberId?: string; generation?: number; assignment?: TopicPartition[]; leader?: boolean } = {},
): Promise<{ join: PendingCall; sync: PendingCall }> {
  const memberId = opts.memberId ?? 'm1';
  const join = await net.next('joinGroup');
  const req = join.request as JoinGroupRequest;
  const leader = opts.leader ?? true;
  join.respond({
    error: null,
    generationId: opts.generation ?? 1,
    protocolType: 'consumer',
    protocolName: req.protocols[0]!.name,
    leader: leader ? memberId : 'other',
    skipAssignment: false,
    memberId,
    members: leader ? [{ memberId, groupInstanceId: req.groupInstanceId, metadata: req.protocols[0]!.metadata }] : [],
  });
  const sync = await net.next('syncGroup');
  const own = (sync.request as SyncGroupRequest).assignments.find((a) => a.memberId === memberId);
  const assignment = opts.assignment ? encodeAssignment({ partitions: opts.assignment, userData: null }) : (own?.assignment ?? encodeAssignment({ partitions: [], userData: null }));
  sync.respond({ error: null, protocolType: 'consumer', protocolName: req.protocols[0]!.name, assignment: Buffer.from(assignment) });
  return { join, sync };
}

/** Keeps polling in the background (as an application's loop does) until stopped. */
function pollLoop(consumer: Consumer): { stop(): Promise<void>; errors: unknown[] } {
  let running = true;
  const errors: unknown[] = [];
  const loop = (async () => {
    while (running) {
      try {
        await consumer.poll(100);
      } catch (err) {
        errors.push(err);
        if (err instanceof ClientError && err.code === 'CLOSED') break;
      }
      // Let I/O callbacks in between polls, as a real loop would.
      await new Promise<void>((r) => setImmediate(r));
    }
  })();
  return {
    errors,
    async stop() {
      running = false;
      consumer.wakeup();
      await loop;
    },
  };
}

function commitOf(call: PendingCall): Array<[string, number]> {
  const req = call.request as OffsetCommitRequest;
  return req.topics.flatMap((t) => t.partitions.map((p) => [`${t.topic}-${p.partition}`, p.committedOffset] as [string, number]));
}

function commitOk(call: PendingCall): void {
  const req = call.request as OffsetCommitRequest;
  call.respond({ topics: req.topics.map((t) => ({ topic: t.topic, partitions: t.partitions.map((p) => ({ partition: p.partition, error: null })) })) });
}

function commitError(call: PendingCall, error: string): void {
  const req = call.request as OffsetCommitRequest;
  call.respond({ topics: req.topics.map((t) => ({ topic: t.topic, partitions: t.partitions.map((p) => ({ partition: p.partition, error: wireError(error) })) })) });
}

describe('Consumer in a group', () => {
  test('joins with MEMBER_ID_REQUIRED, leads the range assignment, tells the listener, and heartbeats every heartbeat.interval.ms', async () => {
    const { clock, net, consumer } = setup();
    const ev = recorder();
    consumer.subscribe(['t'], ev.listener);
    const loop = pollLoop(consumer);
    const first = await net.next('joinGroup');
    expect(first.address).toBe('broker1:9092');
    const req = first.request as JoinGroupRequest;
    expect(req).toMatchObject({ groupId: 'g', memberId: '', groupInstanceId: '', protocolType: 'consumer', sessionTimeoutMs: 45_000, rebalanceTimeoutMs: 300_000 });
    expect(req.protocols.map((p) => p.name)).toEqual(['range', 'cooperative-sticky']);
    expect(decodeSubscription(req.protocols[0]!.metadata).topics).toEqual(['t']);
    first.respond({ error: wireError('MEMBER_ID_REQUIRED'), generationId: -1, protocolType: '', protocolName: '', leader: '', skipAssignment: false, memberId: 'm1', members: [] });
    const { join, sync } = await completeJoin(net, { memberId: 'm1', generation: 5 });
    expect((join.request as JoinGroupRequest).memberId).toBe('m1');
    const syncReq = sync.request as SyncGroupRequest;
    expect(syncReq).toMatchObject({ generationId: 5, memberId: 'm1', protocolName: 'range' });
    expect(decodeAssignment(syncReq.assignments[0]!.assignment).partitions).toEqual([t0, t1]);
    await advanceAndSettle(clock, 10);
    expect(ev.log).toEqual(['assigned[t-0,t-1]']);
    expect(consumer.assignment()).toEqual([t0, t1]);
    expect(consumer.groupMetadata()).toEqual({ groupId: 'g', generationId: 5, memberId: 'm1', groupInstanceId: null });
    // Heartbeats come from their own timer, with the generation.
    expect(net.count('heartbeat')).toBe(0);
    await advanceAndSettle(clock, 3_000, 100);
    const hb = await net.next('heartbeat');
    expect(hb.request).toEqual({ groupId: 'g', generationId: 5, memberId: 'm1', groupInstanceId: '' });
    hb.respond({ error: null });
    await advanceAndSettle(clock, 3_000, 100);
    (await net.next('heartbeat')).respond({ error: null });
    expect(consumer.metrics()['assigned-partitions']).toBe(2);
    expect(consumer.metrics()['sync-total']).toBe(1);
    await loop.stop();
    expect(loop.errors).toEqual([]);
    // The auto commit due at 5 s went out (positions 0 from the earliest reset); close commits again, revokes and leaves.
    for (const c of net.pending.filter((p) => p.method === 'offsetCommit')) commitOk(c);
    net.autoRespond((c) => (c.method === 'offsetCommit' ? (commitOk(c), undefined) : undefined));
    net.autoRespond((c) => (c.method === 'leaveGroup' ? { error: null, members: [{ memberId: 'm1', groupInstanceId: '', error: null }] } : undefined));
    await consumer.close();
    expect(ev.log).toEqual(['assigned[t-0,t-1]', 'revoked[t-0,t-1]']);
    expect(net.history.filter((h) => h.method === 'leaveGroup').map((h) => h.request)).toEqual([
      { groupId: 'g', members: [{ memberId: 'm1', groupInstanceId: '', reason: 'the consumer is being closed' }] },
    ]);
  });

  test('REBALANCE_IN_PROGRESS on a heartbeat: auto commit, revoke everything (eager), rejoin with the same member id', async () => {
    const { clock, net, consumer } = setup();
    const ev = recorder();
    consumer.subscribe(['t'], ev.listener);
    const loop = pollLoop(consumer);
    await completeJoin(net, { generation: 1 });
    // Records 0..2 of t-0 are consumed, so the position is 3.
    net.autoRespond((c) => {
      if (c.method !== 'fetch') return undefined;
      const wants0 = c.request.topics.some((t: { partitions: Array<{ partition: number; fetchOffset: number }> }) => t.partitions.some((p) => p.partition === 0 && p.fetchOffset === 0));
      if (!wants0) return undefined;
      return { error: null, topics: [{ topic: 't', partitions: [{ partition: 0, error: null, highWatermark: 3, logStartOffset: 0, logEndOffset: 3, records: batch(0, ['a', 'b', 'c']), divergingEpoch: null }] }] };
    });
    await advanceAndSettle(clock, 2_900, 100);
    expect(await consumer.position(t0)).toBe(3);
    await advanceAndSettle(clock, 100, 100);
    (await net.next('heartbeat')).respond({ error: wireError('REBALANCE_IN_PROGRESS') });
    const commit = await net.next('offsetCommit');
    expect((commit.request as OffsetCommitRequest).generationId).toBe(1);
    expect(commitOf(commit)).toEqual([['t-0', 3], ['t-1', 0]]);
    commitOk(commit);
    const join = await net.next('joinGroup');
    expect((join.request as JoinGroupRequest).memberId).toBe('m1');
    expect(ev.log).toEqual(['assigned[t-0,t-1]', 'revoked[t-0,t-1]']);
    expect(consumer.assignment()).toEqual([]);
    // Eager: nothing owned while joining.
    expect(decodeSubscription((join.request as JoinGroupRequest).protocols[0]!.metadata).ownedPartitions).toEqual([]);
    join.respond({ error: null, generationId: 2, protocolType: 'consumer', protocolName: 'range', leader: 'other', skipAssignment: false, memberId: 'm1', members: [] });
    const sync = await net.next('syncGroup');
    expect((sync.request as SyncGroupRequest).assignments).toEqual([]);
    sync.respond({ error: null, protocolType: 'consumer', protocolName: 'range', assignment: Buffer.from(encodeAssignment({ partitions: [t1], userData: null })) });
    await advanceAndSettle(clock, 10);
    expect(ev.log).toEqual(['assigned[t-0,t-1]', 'revoked[t-0,t-1]', 'assigned[t-1]']);
    expect(consumer.groupMetadata().generationId).toBe(2);
    await loop.stop();
    await consumer.close({ timeoutMs: 0 });
  });

  test('generation fencing: a commit answered ILLEGAL_GENERATION fails with COMMIT_FAILED, the partitions are lost (not revoked), and the member rejoins', async () => {
    const { clock, net, consumer } = setup({ 'enable.auto.commit': false });
    const ev = recorder();
    consumer.subscribe(['t'], ev.listener);
    const loop = pollLoop(consumer);
    await completeJoin(net, { generation: 3 });
    await advanceAndSettle(clock, 10);
    await loop.stop();
    const committing = consumer.commitSync([{ topic: 't', partition: 0, offset: 7, metadata: 'm' }]);
    const commit = await net.next('offsetCommit');
    expect(commit.request).toMatchObject({ generationId: 3, memberId: 'm1' });
    commitError(commit, 'ILLEGAL_GENERATION');
    const err = await committing.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect((err as ClientError).code).toBe('COMMIT_FAILED');
    expect(consumer.groupMetadata().generationId).toBe(-1);
    const loop2 = pollLoop(consumer);
    const join = await net.next('joinGroup');
    // ILLEGAL_GENERATION keeps the member id (UNKNOWN_MEMBER_ID would clear it).
    expect((join.request as JoinGroupRequest).memberId).toBe('m1');
    expect(ev.log).toEqual(['assigned[t-0,t-1]', 'lost[t-0,t-1]']);
    join.respond({ error: null, generationId: 4, protocolType: 'consumer', protocolName: 'range', leader: 'm1', skipAssignment: false, memberId: 'm1', members: [{ memberId: 'm1', groupInstanceId: '', metadata: (join.request as JoinGroupRequest).protocols[0]!.metadata }] });
    const sync = await net.next('syncGroup');
    sync.respond({ error: null, protocolType: 'consumer', protocolName: 'range', assignment: (sync.request as SyncGroupRequest).assignments[0]!.assignment });
    await advanceAndSettle(clock, 10);
    expect(ev.log.at(-1)).toBe('assigned[t-0,t-1]');
    // A commit during a rebalance is refused locally with REBALANCE_IN_PROGRESS.
    await advanceAndSettle(clock, 3_000, 100);
    (await net.next('heartbeat')).respond({ error: wireError('REBALANCE_IN_PROGRESS') });
    await net.next('joinGroup');
    const during = await consumer.commitSync([{ topic: 't', partition: 0, offset: 8 }]).catch((e: unknown) => e);
    expect(during).toBeInstanceOf(KafkaError);
    expect((during as KafkaError).type).toBe('REBALANCE_IN_PROGRESS');
    await loop2.stop();
    await consumer.close({ timeoutMs: 0 });
  });

  test('cooperative-sticky: only partitions that move are revoked, the kept one is never stopped, and the member rejoins for the second phase', async () => {
    const { clock, net, consumer } = setup({ 'partition.assignment.strategy': 'cooperative-sticky', 'enable.auto.commit': false });
    const ev = recorder();
    consumer.subscribe(['t'], ev.listener);
    const loop = pollLoop(consumer);
    await completeJoin(net, { generation: 1 });
    await advanceAndSettle(clock, 3_000, 100);
    (await net.next('heartbeat')).respond({ error: wireError('REBALANCE_IN_PROGRESS') });
    const join = await net.next('joinGroup');
    // Nothing is revoked before joining; the subscription reports what is owned.
    expect(ev.log).toEqual(['assigned[t-0,t-1]']);
    expect(consumer.assignment()).toEqual([t0, t1]);
    const sub = decodeSubscription((join.request as JoinGroupRequest).protocols[0]!.metadata);
    expect(sub.ownedPartitions).toEqual([t0, t1]);
    expect(sub.generationId).toBe(1);
    // Another member's leader takes t-1 away.
    join.respond({ error: null, generationId: 2, protocolType: 'consumer', protocolName: 'cooperative-sticky', leader: 'other', skipAssignment: false, memberId: 'm1', members: [] });
    (await net.next('syncGroup')).respond({ error: null, protocolType: 'consumer', protocolName: 'cooperative-sticky', assignment: Buffer.from(encodeAssignment({ partitions: [t0], userData: null })) });
    const second = await net.next('joinGroup');
    expect(ev.log).toEqual(['assigned[t-0,t-1]', 'revoked[t-1]', 'assigned[]']);
    expect(consumer.assignment()).toEqual([t0]);
    expect(decodeSubscription((second.request as JoinGroupRequest).protocols[0]!.metadata).ownedPartitions).toEqual([t0]);
    second.respond({ error: null, generationId: 3, protocolType: 'consumer', protocolName: 'cooperative-sticky', leader: 'other', skipAssignment: false, memberId: 'm1', members: [] });
    (await net.next('syncGroup')).respond({ error: null, protocolType: 'consumer', protocolName: 'cooperative-sticky', assignment: Buffer.from(encodeAssignment({ partitions: [t0], userData: null })) });
    await advanceAndSettle(clock, 10);
    expect(ev.log).toEqual(['assigned[t-0,t-1]', 'revoked[t-1]', 'assigned[]', 'assigned[]']);
    expect(net.count('joinGroup')).toBe(3);
    await loop.stop();
    await consumer.close({ timeoutMs: 0 });
  });

  test('static membership: group.instance.id joins, survives, and close() does not leave the group', async () => {
    const { clock, net, consumer } = setup({ 'group.instance.id': 'host-a', 'enable.auto.commit': false });
    consumer.subscribe(['t']);
    const loop = pollLoop(consumer);
    const { join } = await completeJoin(net);
    expect((join.request as JoinGroupRequest).groupInstanceId).toBe('host-a');
    await advanceAndSettle(clock, 10);
    expect(consumer.groupMetadata().groupInstanceId).toBe('host-a');
    await loop.stop();
    await consumer.close();
    expect(net.count('leaveGroup')).toBe(0);
  });

  test('FENCED_INSTANCE_ID on a heartbeat is fatal: poll() raises it', async () => {
    const { clock, net, consumer } = setup({ 'group.instance.id': 'host-a', 'enable.auto.commit': false });
    consumer.subscribe(['t']);
    const loop = pollLoop(consumer);
    await completeJoin(net);
    await advanceAndSettle(clock, 3_000, 100);
    (await net.next('heartbeat')).respond({ error: wireError('FENCED_INSTANCE_ID') });
    await advanceAndSettle(clock, 200, 100);
    await loop.stop();
    expect(loop.errors.length).toBeGreaterThan(0);
    expect((loop.errors[0] as KafkaError).type).toBe('FENCED_INSTANCE_ID');
    await consumer.close({ timeoutMs: 0 });
  });

  test('auto commit every auto.commit.interval.ms; commitAsync commits leave one at a time, in call order', async () => {
    const { clock, net, consumer } = setup({ 'auto.commit.interval.ms': 1_000 });
    consumer.subscribe(['t']);
    const loop = pollLoop(consumer);
    await completeJoin(net);
    net.autoRespond((c) => (c.method === 'heartbeat' ? { error: null } : undefined));
    await advanceAndSettle(clock, 1_000, 100);
    const auto = await net.next('offsetCommit');
    expect(commitOf(auto)).toEqual([['t-0', 0], ['t-1', 0]]);
    commitOk(auto);
    await loop.stop();
    const order: string[] = [];
    consumer.commitAsync([{ topic: 't', partition: 0, offset: 10 }], (err) => order.push(`a:${err ? 'err' : 'ok'}`));
    consumer.commitAsync([{ topic: 't', partition: 0, offset: 20 }], (err) => order.push(`b:${err ? 'err' : 'ok'}`));
    const syncDone = consumer.commitSync([{ topic: 't', partition: 0, offset: 30 }]).then(() => order.push('c:ok'));
    const a = await net.next('offsetCommit');
    await settle();
    expect(net.pending.filter((p) => p.method === 'offsetCommit')).toHaveLength(1);
    // The first one meets a coordinator that moved: it is retried on the new one before b goes.
    commitError(a, 'NOT_COORDINATOR');
    await advanceAndSettle(clock, 50, 10);
    const aAgain = await net.next('offsetCommit');
    expect(commitOf(aAgain)).toEqual([['t-0', 10]]);
    commitOk(aAgain);
    const b = await net.next('offsetCommit');
    expect(commitOf(b)).toEqual([['t-0', 20]]);
    commitOk(b);
    const c = await net.next('offsetCommit');
    expect(commitOf(c)).toEqual([['t-0', 30]]);
    commitOk(c);
    await syncDone;
    expect(order).toEqual(['a:ok', 'b:ok', 'c:ok']);
    expect(consumer.metrics()['commit-total']).toBe(4);
    expect(consumer.metrics()['commit-latency-avg']).toBeGreaterThanOrEqual(0);
    await consumer.close({ timeoutMs: 0 });
  });

  test('coordinator failover: a heartbeat answered NOT_COORDINATOR makes the member find the new coordinator and heartbeat there, still in its generation', async () => {
    const { clock, net, consumer, state } = setup({ 'enable.auto.commit': false });
    consumer.subscribe(['t']);
    const loop = pollLoop(consumer);
    await completeJoin(net, { generation: 7 });
    await advanceAndSettle(clock, 3_000, 100);
    const hb = await net.next('heartbeat');
    expect(hb.address).toBe('broker1:9092');
    state.coordinator = 2;
    hb.respond({ error: wireError('NOT_COORDINATOR') });
    await advanceAndSettle(clock, 200, 20);
    expect(net.count('findCoordinator')).toBe(2);
    await advanceAndSettle(clock, 3_000, 100);
    const next = await net.next('heartbeat');
    expect(next.address).toBe('broker2:9092');
    expect(next.request).toMatchObject({ generationId: 7, memberId: 'm1' });
    next.respond({ error: null });
    expect(net.count('joinGroup')).toBe(1);
    const committed = consumer.committed([t0, t1]);
    state.committed.set('t-1', 42);
    await expect(committed).resolves.toEqual([null, { offset: 42, metadata: '' }]);
    expect(net.history.filter((h) => h.method === 'offsetFetch').at(-1)!.address).toBe('broker2:9092');
    await loop.stop();
    await consumer.close({ timeoutMs: 0 });
  });

  test('max.poll.interval.ms without poll(): the member leaves the group, and its next poll() declares the partitions lost and rejoins with a new member id', async () => {
    const { clock, net, consumer } = setup({ 'max.poll.interval.ms': 10_000, 'enable.auto.commit': false });
    const ev = recorder();
    consumer.subscribe(['t'], ev.listener);
    const loop = pollLoop(consumer);
    await completeJoin(net);
    await advanceAndSettle(clock, 10);
    await loop.stop();
    net.autoRespond((c) => (c.method === 'heartbeat' ? { error: null } : undefined));
    await advanceAndSettle(clock, 10_000, 500);
    const leave = await net.next('leaveGroup');
    expect(leave.request).toEqual({ groupId: 'g', members: [{ memberId: 'm1', groupInstanceId: '', reason: 'consumer poll timeout has expired' }] });
    leave.respond({ error: null, members: [] });
    await settle();
    const loop2 = pollLoop(consumer);
    const join = await net.next('joinGroup');
    expect((join.request as JoinGroupRequest).memberId).toBe('');
    expect(ev.log).toEqual(['assigned[t-0,t-1]', 'lost[t-0,t-1]']);
    await loop2.stop();
    await consumer.close({ timeoutMs: 0 });
  });

  test('misuse: subscribe without group.id is INVALID_GROUP_ID; assign and subscribe are mutually exclusive', async () => {
    const plain = new Consumer({ 'bootstrap.servers': 'seed:9092' }, { connector: new ScriptedNetwork().connector });
    expect(() => plain.subscribe(['t'])).toThrow(expect.objectContaining({ type: 'INVALID_GROUP_ID' }));
    await expect(plain.commitSync()).rejects.toMatchObject({ type: 'INVALID_GROUP_ID' });
    await plain.close();
    const { consumer } = setup();
    consumer.subscribe(['t']);
    expect(() => consumer.assign([t0])).toThrow(expect.objectContaining({ code: 'ILLEGAL_STATE' }));
    expect(consumer.subscription()).toEqual(['t']);
    await consumer.close({ timeoutMs: 0 });
  });

  test('a RegExp subscription joins for the matching topics and rejoins when a matching topic appears', async () => {
    const { clock, net, consumer } = setup({ 'metadata.max.age.ms': 10_000, 'enable.auto.commit': false });
    let topics = ['t', 'tx', 'other'];
    net.autoRespond((c) => {
      if (c.method !== 'metadata' || !c.request.allTopics) return undefined;
      return metadataResponse({ brokers: [1, 2], topics: Object.fromEntries(topics.map((t) => [t, [{ leader: 1 }]])) });
    });
    consumer.subscribe(/^t/);
    const loop = pollLoop(consumer);
    const { join } = await completeJoin(net, { assignment: [t0] });
    expect(decodeSubscription((join.request as JoinGroupRequest).protocols[0]!.metadata).topics).toEqual(['t', 'tx']);
    expect(consumer.subscription()).toEqual(['t', 'tx']);
    net.autoRespond((c) => (c.method === 'heartbeat' ? { error: null } : undefined));
    topics = ['t', 'tx', 'ty', 'other'];
    await advanceAndSettle(clock, 10_000, 500);
    const rejoin = await net.next('joinGroup');
    expect(decodeSubscription((rejoin.request as JoinGroupRequest).protocols[0]!.metadata).topics).toEqual(['t', 'tx', 'ty']);
    await loop.stop();
    await consumer.close({ timeoutMs: 0 });
  });

  test('run(eachMessage): a handler error seeks back to the record that failed and ends run() with it; eachBatch gets each poll\'s records', async () => {
    const { net, consumer } = setup({ 'enable.auto.commit': false });
    consumer.subscribe(['t']);
    let fetched = false;
    net.autoRespond((c) => {
      if (c.method !== 'fetch' || fetched) return undefined;
      fetched = true;
      return { error: null, topics: [{ topic: 't', partitions: [{ partition: 0, error: null, highWatermark: 4, logStartOffset: 0, logEndOffset: 4, records: batch(0, ['a', 'b', 'c', 'd']), divergingEpoch: null }] }] };
    });
    const seen: number[] = [];
    const running = consumer.run({
      eachMessage: async (r) => {
        if (r.offset === 2) throw new Error('poison');
        seen.push(r.offset);
      },
    });
    await completeJoin(net, { assignment: [t0] });
    await expect(running).rejects.toThrow('poison');
    expect(seen).toEqual([0, 1]);
    expect(await consumer.position(t0)).toBe(2);
    // The same records again, from offset 2, to a batch handler (the long poll in flight for offset 4 ends empty first).
    for (const c of net.pending.filter((x) => x.method === 'fetch')) {
      c.respond({ error: null, topics: [{ topic: 't', partitions: [{ partition: 0, error: null, highWatermark: 4, logStartOffset: 0, logEndOffset: 4, records: Buffer.alloc(0), divergingEpoch: null }] }] });
    }
    fetched = false;
    net.autoRespond((c) => {
      if (c.method !== 'fetch' || fetched) return undefined;
      fetched = true;
      return { error: null, topics: [{ topic: 't', partitions: [{ partition: 0, error: null, highWatermark: 4, logStartOffset: 0, logEndOffset: 4, records: batch(0, ['a', 'b', 'c', 'd']), divergingEpoch: null }] }] };
    });
    const ac = new AbortController();
    const batches: number[][] = [];
    await consumer.run({
      signal: ac.signal,
      eachBatch: async (rs) => {
        batches.push(rs.map((r) => r.offset));
        ac.abort();
      },
    });
    expect(batches).toEqual([[2, 3]]);
    expect(await consumer.position(t0)).toBe(4);
    await consumer.close({ timeoutMs: 0 });
  });

  test('unsubscribe(): revokes (listener), leaves the group, and the consumer has nothing to poll', async () => {
    const { clock, net, consumer } = setup({ 'enable.auto.commit': false });
    const ev = recorder();
    consumer.subscribe(['t'], ev.listener);
    const loop = pollLoop(consumer);
    await completeJoin(net);
    await advanceAndSettle(clock, 10);
    await loop.stop();
    net.autoRespond((c) => (c.method === 'leaveGroup' ? { error: null, members: [] } : undefined));
    consumer.unsubscribe();
    await expect(consumer.poll(0)).resolves.toEqual([]);
    expect(ev.log).toEqual(['assigned[t-0,t-1]', 'revoked[t-0,t-1]']);
    expect(net.count('leaveGroup')).toBe(1);
    expect(consumer.assignment()).toEqual([]);
    expect(consumer.subscription()).toEqual([]);
    await expect(consumer.poll(0)).rejects.toMatchObject({ code: 'ILLEGAL_STATE' });
    await consumer.close({ timeoutMs: 0 });
  });

  test('JoinGroup answered COORDINATOR_LOAD_IN_PROGRESS is retried after a backoff; SyncGroup answered UNKNOWN_MEMBER_ID rejoins without a member id', async () => {
    const { clock, net, consumer } = setup({ 'enable.auto.commit': false });
    consumer.subscribe(['t']);
    const loop = pollLoop(consumer);
    const loading = await net.next('joinGroup');
    loading.respond({ error: wireError('COORDINATOR_LOAD_IN_PROGRESS'), generationId: -1, protocolType: '', protocolName: '', leader: '', skipAssignment: false, memberId: '', members: [] });
    await settle();
    expect(net.pending.filter((p) => p.method === 'joinGroup')).toHaveLength(0);
    await advanceAndSettle(clock, 50, 10);
    const join = await net.next('joinGroup');
    expect(join.address).toBe('broker1:9092');
    join.respond({ error: null, generationId: 1, protocolType: 'consumer', protocolName: 'range', leader: 'other', skipAssignment: false, memberId: 'm1', members: [] });
    (await net.next('syncGroup')).respond({ error: wireError('UNKNOWN_MEMBER_ID'), protocolType: '', protocolName: '', assignment: Buffer.alloc(0) });
    const again = await net.next('joinGroup');
    expect((again.request as JoinGroupRequest).memberId).toBe('');
    await loop.stop();
    await consumer.close({ timeoutMs: 0 });
  });

  test('a subscribed topic that gains partitions makes the member rejoin (at its next metadata refresh)', async () => {
    const { clock, net, consumer } = setup({ 'metadata.max.age.ms': 5_000, 'enable.auto.commit': false });
    let partitions = 2;
    net.autoRespond((c) => {
      if (c.method !== 'metadata') return undefined;
      return metadataResponse({ brokers: [1, 2], topics: { t: Array.from({ length: partitions }, () => ({ leader: 1 })) } });
    });
    consumer.subscribe(['t']);
    const loop = pollLoop(consumer);
    await completeJoin(net);
    net.autoRespond((c) => (c.method === 'heartbeat' ? { error: null } : undefined));
    await advanceAndSettle(clock, 6_000, 500);
    expect(net.count('joinGroup')).toBe(1);
    partitions = 3;
    await advanceAndSettle(clock, 6_000, 500);
    const rejoin = await net.next('joinGroup');
    expect((rejoin.request as JoinGroupRequest).reason).toContain('partition count');
    await loop.stop();
    await consumer.close({ timeoutMs: 0 });
  });

  test('cooperative with auto commit: a moving partition is paused and committed before it is revoked, while the kept one keeps delivering records', async () => {
    const { clock, net, consumer } = setup({ 'partition.assignment.strategy': 'cooperative-sticky' });
    const ev = recorder();
    consumer.subscribe(['t'], ev.listener);
    // Each fetch returns the next record of every partition it asks for.
    net.autoRespond((c) => {
      if (c.method !== 'fetch') return undefined;
      const parts = c.request.topics[0].partitions as Array<{ partition: number; fetchOffset: number }>;
      return {
        error: null,
        topics: [{
          topic: 't',
          partitions: parts.map((p) => ({ partition: p.partition, error: null, highWatermark: p.fetchOffset + 1, logStartOffset: 0, logEndOffset: p.fetchOffset + 1, records: batch(p.fetchOffset, [`p${p.partition}-${p.fetchOffset}`]), divergingEpoch: null })),
        }],
      };
    });
    const poll = consumer.poll(100);
    await completeJoin(net, { generation: 1 });
    await poll;
    const got: string[] = [];
    for (let i = 0; i < 3; i++) got.push(...(await consumer.poll(0)).map((r) => r.value!.toString()));
    expect(got.some((v) => v.startsWith('p1-'))).toBe(true);
    // The heartbeat tells of a rebalance; the leader (another member) takes t-1 away.
    const hbPoll = consumer.poll(5_000);
    await advanceAndSettle(clock, 3_000, 100);
    (await net.next('heartbeat')).respond({ error: wireError('REBALANCE_IN_PROGRESS') });
    await hbPoll;
    await settle();
    void consumer.poll(0);
    const preJoinCommit = await net.next('offsetCommit');
    commitOk(preJoinCommit);
    const join = await net.next('joinGroup');
    join.respond({ error: null, generationId: 2, protocolType: 'consumer', protocolName: 'cooperative-sticky', leader: 'other', skipAssignment: false, memberId: 'm1', members: [] });
    (await net.next('syncGroup')).respond({ error: null, protocolType: 'consumer', protocolName: 'cooperative-sticky', assignment: Buffer.from(encodeAssignment({ partitions: [t0], userData: null })) });
    await settle();
    await consumer.poll(0);
    const commit = await net.next('offsetCommit');
    expect(commit.request).toMatchObject({ generationId: 2 });
    expect(commitOf(commit).map(([tp]) => tp)).toEqual(['t-1']);
    // While that commit is out, t-0 goes on and t-1 is held back.
    const during: string[] = [];
    for (let i = 0; i < 3; i++) during.push(...(await consumer.poll(0)).map((r) => r.value!.toString()));
    expect(during.length).toBeGreaterThan(0);
    expect(during.every((v) => v.startsWith('p0-'))).toBe(true);
    expect(ev.log).toEqual(['assigned[t-0,t-1]']);
    commitOk(commit);
    await settle();
    await consumer.poll(0);
    expect(ev.log).toEqual(['assigned[t-0,t-1]', 'revoked[t-1]', 'assigned[]']);
    expect(consumer.assignment()).toEqual([t0]);
    const second = await net.next('joinGroup');
    expect(decodeSubscription((second.request as JoinGroupRequest).protocols[0]!.metadata).ownedPartitions).toEqual([t0]);
    await consumer.close({ timeoutMs: 0 });
  });
});
