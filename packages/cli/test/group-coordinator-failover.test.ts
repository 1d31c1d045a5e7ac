// The group coordinator across a kill -9 (1 coordinator and 3 brokers as processes,
// __consumer_offsets replicated 3 times, min ISR 2): a member joins, syncs and commits through the
// raw broker protocol; the broker coordinating the group is killed with SIGKILL; FindCoordinator
// names another broker, which loads the partition from its replica, and there the committed
// offsets are exactly the acknowledged ones, the member's generation is still valid (heartbeat and
// commit succeed without a rejoin) and a commit from an older generation is refused.
import { jest } from '@jest/globals';
import { Admin, BrokerRpc, encodeAssignment, encodeSubscription, subscription, type WireError } from '@samsa/client';
import { LocalCluster, waitFor } from '../src/cluster/local-cluster.js';

jest.setTimeout(90_000);

const GROUP = 'failover-group';
const opts = { timeoutMs: 5_000 };
const name = (e: WireError): string | null => (e && e.code ? e.name : null);

describe('group coordinator failover (1 coordinator + 3 brokers)', () => {
  let cluster: LocalCluster;
  let admin: Admin;
  const rpcs = new Map<number, BrokerRpc>();
  const rpc = (id: number): BrokerRpc => {
    let r = rpcs.get(id);
    if (!r) rpcs.set(id, (r = new BrokerRpc(cluster.brokerAddress(id))));
    return r;
  };

  beforeAll(async () => {
    cluster = await LocalCluster.start({
      coordinators: 1,
      brokers: 3,
      brokerArgs: ['--offsets.topic.num.partitions', '3', '--group.initial.rebalance.delay.ms', '0', '--auto.leader.rebalance.enable', 'false'],
    });
    admin = new Admin({ 'bootstrap.servers': cluster.brokerAddresses.join(',') });
    await admin.createTopics([{ name: 't', numPartitions: 2, replicationFactor: 3 }]);
  }, 60_000);

  afterAll(async () => {
    for (const r of rpcs.values()) r.close();
    admin?.close();
    await cluster?.destroy();
  }, 30_000);

  /** Asks the live brokers until one names a coordinator (other than `not`) that has loaded the group's partition. */
  async function coordinator(live: number[], not = -1): Promise<number> {
    let found = -1;
    const ok = await waitFor(async () => {
      for (const id of live) {
        const r = await rpc(id).findCoordinator({ key: GROUP, keyType: 0 }, opts).catch(() => null);
        if (!r || name(r.error) !== null || r.nodeId === not || !live.includes(r.nodeId)) continue;
        const f = await rpc(r.nodeId).offsetFetch({ groupId: GROUP, topics: [], allTopics: true }, opts).catch(() => null);
        if (f && name(f.error) === null) {
          found = r.nodeId;
          return true;
        }
      }
      return false;
    }, 30_000, 100);
    if (!ok) throw new Error('no coordinator found');
    return found;
  }

  test('kill -9 of the coordinating broker: another broker coordinates the group with its committed offsets intact', async () => {
    const first = await coordinator([1, 2, 3]);
    // Every replica of the group's offsets partition in sync, so the kill loses nothing acknowledged.
    const [offsetsTopic] = await admin.describeTopics(['__consumer_offsets']);
    expect(offsetsTopic!.partitions).toHaveLength(3);
    const ready = await waitFor(async () => {
      const [t] = await admin.describeTopics(['__consumer_offsets']);
      return t!.partitions.every((p) => p.isr.length === 3);
    }, 20_000);
    expect(ready).toBe(true);

    const c = rpc(first);
    const protocols = [{ name: 'range', metadata: encodeSubscription(subscription(['t'])) }];
    const join = { groupId: GROUP, sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 10_000, groupInstanceId: '', protocolType: 'consumer', protocols, reason: '', clientId: 'failover' };
    const j1 = await c.joinGroup({ ...join, memberId: '' }, opts);
    expect(name(j1.error)).toBe('MEMBER_ID_REQUIRED');
    const memberId = j1.memberId;
    const j2 = await c.joinGroup({ ...join, memberId }, opts);
    expect(j2).toMatchObject({ generationId: 1, leader: memberId });
    const assignment = encodeAssignment({ partitions: [{ topic: 't', partition: 0 }, { topic: 't', partition: 1 }], userData: null });
    expect(name((await c.syncGroup({ groupId: GROUP, generationId: 1, memberId, groupInstanceId: '', protocolType: 'consumer', protocolName: 'range', assignments: [{ memberId, assignment }] }, opts)).error)).toBeNull();
    const commit = (to: BrokerRpc, generationId: number, o0: number, o1: number) =>
      to.offsetCommit({
        groupId: GROUP, generationId, memberId, groupInstanceId: '',
        topics: [{ topic: 't', partitions: [{ partition: 0, committedOffset: o0, committedLeaderEpoch: -1, committedMetadata: 'a' }, { partition: 1, committedOffset: o1, committedLeaderEpoch: -1, committedMetadata: 'b' }] }],
      }, opts);
    const committed = await commit(c, 1, 17, 4);
    expect(committed.topics[0]!.partitions.map((p) => name(p.error))).toEqual([null, null]);

    await cluster.kill(`broker-${first}`);
    rpcs.get(first)?.close();
    rpcs.delete(first);
    const live = [1, 2, 3].filter((id) => id !== first);
    const second = await coordinator(live, first);
    expect(second).not.toBe(first);

    const n = rpc(second);
    const fetched = await n.offsetFetch({ groupId: GROUP, topics: [{ topic: 't', partitions: [0, 1] }], allTopics: false }, opts);
    expect(fetched.topics[0]!.partitions.map((p) => [p.partition, p.committedOffset, p.metadata])).toEqual([[0, 17, 'a'], [1, 4, 'b']]);
    // The group was loaded Stable: the member carries on in generation 1 without rejoining.
    expect((await n.describeGroups({ groups: [GROUP] }, opts)).groups[0]).toMatchObject({ groupState: 'Stable', protocolData: 'range' });
    expect(name((await n.heartbeat({ groupId: GROUP, generationId: 1, memberId, groupInstanceId: '' }, opts)).error)).toBeNull();
    expect((await commit(n, 1, 20, 5)).topics[0]!.partitions.map((p) => name(p.error))).toEqual([null, null]);
    expect((await commit(n, 0, 99, 99)).topics[0]!.partitions.map((p) => name(p.error))).toEqual(['ILLEGAL_GENERATION', 'ILLEGAL_GENERATION']);
    const after = await n.offsetFetch({ groupId: GROUP, topics: [{ topic: 't', partitions: [0, 1] }], allTopics: false }, opts);
    expect(after.topics[0]!.partitions.map((p) => p.committedOffset)).toEqual([20, 5]);
  });
});
