// A real broker (one coordination-service member and one BrokerServer in this process, gRPC on
// port 0, logs in a temp dir) serves the consumer-group RPCs end to end: the first FindCoordinator
// creates the internal __consumer_offsets topic; a member joins (MEMBER_ID_REQUIRED, then
// generation 1), syncs its assignment, heartbeats and commits; a zombie's commit (old generation)
// is refused; lag is the high watermark minus the committed offset and is exported under the
// samsa_consumer_group_* names; leave, delete and hostile requests get Kafka's errors; and after a
// restart of the broker on the same log directory the committed offsets are loaded back.

import { jest } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrokerRpc, encodeAssignment, encodeSubscription, subscription, type WireError } from '@samsa/client';
import { silentLogger } from '@samsa/coordinator';
import { encodeBatch } from '@samsa/log';
import { startSingleMember } from '../../../coordinator/test/client/single-member.js';
import { BrokerServer } from '../../src/server/broker-server.js';
import { eventually } from '../controller/helpers.js';

jest.setTimeout(60_000);

const opts = { timeoutMs: 10_000 };
const GROUP = 'orders-service';

let service: Awaited<ReturnType<typeof startSingleMember>>;
let dir: string;
let broker: BrokerServer;
let rpc: BrokerRpc;

async function startBroker(): Promise<void> {
  broker = await BrokerServer.start({
    config: {
      'broker.id': 1,
      'log.dirs': dir,
      coordinators: service.address,
      listeners: '127.0.0.1:0',
      'metrics.port': 0,
      'offsets.topic.num.partitions': 3,
      'group.initial.rebalance.delay.ms': 0,
      'group.min.session.timeout.ms': 1_000,
      'controlled.shutdown.enable': false,
    },
    logger: silentLogger,
  });
  rpc = new BrokerRpc(`127.0.0.1:${broker.listenPort}`);
}

async function stopBroker(): Promise<void> {
  rpc.close();
  await broker.stop(false);
}

const name = (e: WireError): string | null => (e && e.code ? e.name : null);

async function findCoordinator(group: string): Promise<number> {
  let node = -1;
  await eventually(async () => {
    const r = await rpc.findCoordinator({ key: group, keyType: 0 }, opts);
    node = r.nodeId;
    return name(r.error) === null;
  }, 'FindCoordinator answers', 20_000);
  return node;
}

/** Waits until the group's coordinator has loaded its partition (OffsetFetch says no COORDINATOR_LOAD_IN_PROGRESS / NOT_COORDINATOR). */
async function coordinatorReady(group: string): Promise<void> {
  await eventually(async () => name((await rpc.offsetFetch({ groupId: group, topics: [], allTopics: true }, opts)).error) === null, 'coordinator loaded', 20_000);
}

function records(n: number): Buffer {
  return encodeBatch({ records: Array.from({ length: n }, (_, i) => ({ value: Buffer.from(`v${i}`) })), timestamp: Date.now() });
}

beforeAll(async () => {
  service = await startSingleMember();
  dir = mkdtempSync(join(tmpdir(), 'samsa-broker-groups-'));
  await startBroker();
  await eventually(async () => (await rpc.metadata({ topics: [], allTopics: true }, opts)).brokers.length === 1, 'broker registered', 20_000);
  const created = await rpc.createTopics({ topics: [{ name: 't', numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 10_000, validateOnly: false }, opts);
  expect(name(created.topics[0]!.error)).toBeNull();
});

afterAll(async () => {
  await stopBroker().catch(() => {});
  await service?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('consumer groups over gRPC on one broker', () => {
  let memberId = '';

  test('FindCoordinator creates __consumer_offsets on demand (internal, 3 partitions) and names this broker', async () => {
    expect(await findCoordinator(GROUP)).toBe(1);
    const md = await rpc.metadata({ topics: ['__consumer_offsets'], allTopics: false }, opts);
    expect(md.topics[0]).toMatchObject({ name: '__consumer_offsets', isInternal: true });
    expect(md.topics[0]!.partitions).toHaveLength(3);
    await coordinatorReady(GROUP);
  });

  test('join (MEMBER_ID_REQUIRED then generation 1 as leader), sync, heartbeat, commit, fetch', async () => {
    const protocols = [{ name: 'range', metadata: encodeSubscription(subscription(['t'])) }];
    const base = { groupId: GROUP, sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, groupInstanceId: '', protocolType: 'consumer', protocols, reason: '', clientId: 'c1' };
    const first = await rpc.joinGroup({ ...base, memberId: '' }, opts);
    expect(name(first.error)).toBe('MEMBER_ID_REQUIRED');
    memberId = first.memberId;
    expect(memberId).toMatch(/^c1-/);
    const joined = await rpc.joinGroup({ ...base, memberId }, opts);
    expect(name(joined.error)).toBeNull();
    expect(joined).toMatchObject({ generationId: 1, leader: memberId, memberId, protocolName: 'range', protocolType: 'consumer' });
    expect(joined.members.map((m) => m.memberId)).toEqual([memberId]);

    const assignment = encodeAssignment({ partitions: [{ topic: 't', partition: 0 }, { topic: 't', partition: 1 }], userData: null });
    const synced = await rpc.syncGroup({ groupId: GROUP, generationId: 1, memberId, groupInstanceId: '', protocolType: 'consumer', protocolName: 'range', assignments: [{ memberId, assignment }] }, opts);
    expect(name(synced.error)).toBeNull();
    expect(Buffer.from(synced.assignment)).toEqual(Buffer.from(assignment));
    expect(name((await rpc.heartbeat({ groupId: GROUP, generationId: 1, memberId, groupInstanceId: '' }, opts)).error)).toBeNull();

    const commit = await rpc.offsetCommit({
      groupId: GROUP, generationId: 1, memberId, groupInstanceId: '',
      topics: [{ topic: 't', partitions: [{ partition: 0, committedOffset: 2, committedLeaderEpoch: -1, committedMetadata: 'm' }, { partition: 1, committedOffset: 0, committedLeaderEpoch: -1, committedMetadata: '' }] }, { topic: 'nope', partitions: [{ partition: 0, committedOffset: 1, committedLeaderEpoch: -1, committedMetadata: '' }] }],
    }, opts);
    expect(commit.topics.map((t) => [t.topic, t.partitions.map((p) => [p.partition, name(p.error)])])).toEqual([
      ['nope', [[0, 'UNKNOWN_TOPIC_OR_PARTITION']]],
      ['t', [[0, null], [1, null]]],
    ]);
    const zombie = await rpc.offsetCommit({ groupId: GROUP, generationId: 0, memberId, groupInstanceId: '', topics: [{ topic: 't', partitions: [{ partition: 0, committedOffset: 99, committedLeaderEpoch: -1, committedMetadata: '' }] }] }, opts);
    expect(name(zombie.topics[0]!.partitions[0]!.error)).toBe('ILLEGAL_GENERATION');

    const fetched = await rpc.offsetFetch({ groupId: GROUP, topics: [{ topic: 't', partitions: [0, 1] }, { topic: 'u', partitions: [0] }], allTopics: false }, opts);
    expect(fetched.topics.map((t) => [t.topic, t.partitions.map((p) => [p.partition, p.committedOffset, p.metadata])])).toEqual([
      ['t', [[0, 2, 'm'], [1, 0, '']]],
      ['u', [[0, -1, '']]],
    ]);
  });

  test('DescribeGroups and ListGroups show the Stable group; an unknown group is Dead', async () => {
    const d = await rpc.describeGroups({ groups: [GROUP, 'never-seen'] }, opts);
    expect(d.groups[0]).toMatchObject({ groupId: GROUP, groupState: 'Stable', protocolType: 'consumer', protocolData: 'range' });
    expect(d.groups[0]!.members.map((m) => [m.memberId, m.clientId, m.clientHost])).toEqual([[memberId, 'c1', '/127.0.0.1']]);
    expect(d.groups[1]).toMatchObject({ groupId: 'never-seen', groupState: 'Dead', members: [] });
    const l = await rpc.listGroups({ statesFilter: ['stable'] }, opts);
    expect(l.groups).toEqual([{ groupId: GROUP, protocolType: 'consumer', groupState: 'Stable' }]);
    expect((await rpc.listGroups({ statesFilter: ['Empty'] }, opts)).groups).toEqual([]);
  });

  test('GroupLag is the high watermark minus the committed offset, and the lag metrics carry it', async () => {
    const produced = await rpc.produce({ acks: -1, timeoutMs: 10_000, topics: [{ topic: 't', partitions: [{ partition: 0, records: records(5) }] }] }, opts);
    expect(name(produced.topics[0]!.partitions[0]!.error)).toBeNull();
    const lag = await rpc.groupLag({ groups: [GROUP] }, opts);
    expect(name(lag.groups[0]!.error)).toBeNull();
    expect(lag.groups[0]).toMatchObject({ groupId: GROUP, maxLag: 3, totalLag: 3 });
    expect(lag.groups[0]!.partitions.map((p) => [p.topic, p.partition, p.committedOffset, p.logEndOffset, p.lag])).toEqual([
      ['t', 0, 2, 5, 3],
      ['t', 1, 0, 0, 0],
    ]);
    const text = await (await fetch(`http://127.0.0.1:${broker.metricsPort}/metrics`)).text();
    // (Every series also carries the registry's role and node_id labels.)
    const series = (metric: string, labels: string, value: string) => new RegExp(`^${metric}\\{${labels}[^}]*\\} ${value}$`, 'm');
    expect(text).toMatch(series('samsa_consumer_group_lag', `group="${GROUP}",topic="t",partition="0"`, '3'));
    expect(text).toMatch(series('samsa_consumer_group_lag', `group="${GROUP}",topic="t",partition="1"`, '0'));
    expect(text).toMatch(series('samsa_consumer_group_max_lag', `group="${GROUP}"`, '3'));
    expect(text).toMatch(series('samsa_consumer_group_status', `group="${GROUP}"`, '[012]'));
    expect(text).toMatch(series('samsa_consumer_group_partition_status', `group="${GROUP}",topic="t",partition="0"`, '[0-4]'));
    expect(text).toMatch(series('samsa_group_coordinator_groups', 'state="Stable"', '1'));
    expect(text).toMatch(series('samsa_broker_requests_total', 'api="JoinGroup"', '2'));
    // The exposition stays lint-clean with the group series in it.
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect({ status: lint.status, output: `${lint.stdout}${lint.stderr}`.trim() }).toEqual({ status: 0, output: '' });
  });

  test('hostile requests get Kafka errors, and the broker keeps serving', async () => {
    expect(name((await rpc.findCoordinator({ key: GROUP, keyType: 1 }, opts)).error)).toBe('INVALID_REQUEST');
    expect(name((await rpc.findCoordinator({ key: '', keyType: 0 }, opts)).error)).toBe('INVALID_GROUP_ID');
    const join = (over: object) => rpc.joinGroup({ groupId: 'hostile', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId: '', groupInstanceId: '', protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.alloc(1) }], reason: '', clientId: 'x', ...over }, opts);
    expect(name((await join({ sessionTimeoutMs: 10 })).error)).toBe('INVALID_SESSION_TIMEOUT');
    expect(name((await join({ protocols: Array.from({ length: 40 }, (_, i) => ({ name: `p${i}`, metadata: Buffer.alloc(0) })) })).error)).toBe('INVALID_REQUEST');
    expect(name((await join({ groupId: '' })).error)).toBe('INVALID_GROUP_ID');
    expect(name((await join({ memberId: 'made-up' })).error)).toBe('UNKNOWN_MEMBER_ID');
    const sync = await rpc.syncGroup({ groupId: GROUP, generationId: 1, memberId: 'ghost', groupInstanceId: '', protocolType: '', protocolName: '', assignments: [] }, opts);
    expect(name(sync.error)).toBe('UNKNOWN_MEMBER_ID');
    expect(name((await rpc.heartbeat({ groupId: GROUP, generationId: 7, memberId, groupInstanceId: '' }, opts)).error)).toBe('ILLEGAL_GENERATION');
    expect(name((await rpc.listGroups({ statesFilter: ['Sleeping'] }, opts)).error)).toBe('INVALID_REQUEST');
    const bad = await rpc.offsetCommit({ groupId: 'simple', generationId: -1, memberId: '', groupInstanceId: '', topics: [{ topic: 't', partitions: [{ partition: 0, committedOffset: -5, committedLeaderEpoch: -1, committedMetadata: 'x'.repeat(5000) }] }] }, opts);
    expect(name(bad.topics[0]!.partitions[0]!.error)).toBe('INVALID_REQUEST');
    // A client cannot forge committed offsets by producing to the internal topic.
    const forged = await rpc.produce({ acks: -1, timeoutMs: 5_000, topics: [{ topic: '__consumer_offsets', partitions: [{ partition: 0, records: records(1) }] }] }, opts);
    expect(name(forged.topics[0]!.partitions[0]!.error)).toBe('INVALID_TOPIC_EXCEPTION');
    expect(name((await rpc.heartbeat({ groupId: GROUP, generationId: 1, memberId, groupInstanceId: '' }, opts)).error)).toBeNull();
  });

  test('OffsetDelete refuses a subscribed topic; after LeaveGroup the group is Empty, DeleteGroups removes it and its offsets', async () => {
    const del = await rpc.offsetDelete({ groupId: GROUP, topics: [{ topic: 't', partitions: [0] }] }, opts);
    expect(name(del.topics[0]!.partitions[0]!.error)).toBe('GROUP_SUBSCRIBED_TO_TOPIC');
    expect(name((await rpc.deleteGroups({ groups: [GROUP] }, opts)).results[0]!.error)).toBe('NON_EMPTY_GROUP');
    const left = await rpc.leaveGroup({ groupId: GROUP, members: [{ memberId, groupInstanceId: '', reason: 'test' }] }, opts);
    expect(left.members.map((m) => [m.memberId, name(m.error)])).toEqual([[memberId, null]]);
    expect((await rpc.describeGroups({ groups: [GROUP] }, opts)).groups[0]!.groupState).toBe('Empty');
    expect(name((await rpc.deleteGroups({ groups: [GROUP] }, opts)).results[0]!.error)).toBeNull();
    const fetched = await rpc.offsetFetch({ groupId: GROUP, topics: [], allTopics: true }, opts);
    expect(fetched.topics).toEqual([]);
    expect(name((await rpc.deleteGroups({ groups: [GROUP] }, opts)).results[0]!.error)).toBe('GROUP_ID_NOT_FOUND');
  });

  test('committed offsets survive a restart of the broker: the new coordinator loads them from __consumer_offsets', async () => {
    const group = 'restart-me';
    await findCoordinator(group);
    await coordinatorReady(group);
    const c = await rpc.offsetCommit({ groupId: group, generationId: -1, memberId: '', groupInstanceId: '', topics: [{ topic: 't', partitions: [{ partition: 1, committedOffset: 7, committedLeaderEpoch: 3, committedMetadata: 'kept' }] }] }, opts);
    expect(name(c.topics[0]!.partitions[0]!.error)).toBeNull();
    await stopBroker();
    await startBroker();
    await findCoordinator(group);
    await coordinatorReady(group);
    const f = await rpc.offsetFetch({ groupId: group, topics: [{ topic: 't', partitions: [1] }], allTopics: false }, opts);
    expect(f.topics[0]!.partitions[0]).toMatchObject({ partition: 1, committedOffset: 7, committedLeaderEpoch: 3, metadata: 'kept' });
    expect((await rpc.listGroups({ statesFilter: [] }, opts)).groups.map((g) => g.groupId)).toContain(group);
  });
});
