// The Admin over the client's network interface (answered by each test) and a manual clock:
// controller-bound calls find the controller in metadata and follow it on NOT_CONTROLLER, reads
// go to any broker (broker configs to that broker, offsets to leaders), item errors come back
// as KafkaErrors naming the item, and every call ends by its timeout.

import { Admin } from '../src/admin/admin.js';
import { ClientError } from '../src/client-error.js';
import { KafkaError } from '../src/protocol/errors.js';
import type { CreateTopicsRequest, ListOffsetsRequest } from '../src/protocol/wire-types.js';
import { ManualClock, advanceAndSettle, settle } from './helpers/manual-clock.js';
import { ScriptedNetwork, metadataResponse, wireError } from './helpers/scripted-network.js';
import { seededRandom } from './helpers/seeded-random.js';

let controller = 1;
let leaders: Record<number, number> = { 0: 1, 1: 2 };
const cluster = () =>
  metadataResponse({
    brokers: [1, 2, 3],
    controller,
    topics: {
      t: [
        { leader: leaders[0]!, epoch: 3, replicas: [1, 2, 3], isr: [1, 2, 3] },
        { leader: leaders[1]!, epoch: 5, replicas: [2, 3, 1], isr: [2], offline: [3] },
      ],
      __consumer_offsets: [{ leader: 1 }],
    },
  });

function setup() {
  controller = 1;
  leaders = { 0: 1, 1: 2 };
  const clock = new ManualClock();
  const net = new ScriptedNetwork();
  net.autoRespond((c) => {
    if (c.method !== 'metadata') return undefined;
    const res = cluster();
    res.topics = c.request.allTopics
      ? res.topics.map((t) => (t.name === '__consumer_offsets' ? { ...t, isInternal: true } : t))
      : (c.request.topics as string[]).map((n) => res.topics.find((t) => t.name === n) ?? { name: n, isInternal: false, partitions: [], error: wireError('UNKNOWN_TOPIC_OR_PARTITION') });
    return res;
  });
  const admin = new Admin({ 'bootstrap.servers': 'seed:9092' }, { clock, connector: net.connector, random: seededRandom() });
  return { clock, net, admin };
}

describe('Admin', () => {
  test('createTopics goes to the controller with broker defaults (-1), configs as strings and validateOnly', async () => {
    const { net, admin } = setup();
    const created = admin.createTopics(
      [{ name: 'a', numPartitions: 3, replicationFactor: 2, configs: { 'retention.ms': 1000, 'cleanup.policy': 'delete' } }, { name: 'b' }],
      { validateOnly: true },
    );
    const call = await net.next('createTopics');
    expect(call.address).toBe('broker1:9092');
    const req = call.request as CreateTopicsRequest;
    expect(req.validateOnly).toBe(true);
    expect(req.timeoutMs).toBe(30_000);
    expect(req.topics).toEqual([
      { name: 'a', numPartitions: 3, replicationFactor: 2, assignments: [], configs: [{ name: 'retention.ms', value: '1000' }, { name: 'cleanup.policy', value: 'delete' }] },
      { name: 'b', numPartitions: -1, replicationFactor: -1, assignments: [], configs: [] },
    ]);
    call.respond({ topics: [{ name: 'a', error: null, numPartitions: 3, replicationFactor: 2 }, { name: 'b', error: null, numPartitions: 1, replicationFactor: 3 }] });
    await expect(created).resolves.toEqual([
      { name: 'a', numPartitions: 3, replicationFactor: 2 },
      { name: 'b', numPartitions: 1, replicationFactor: 3 },
    ]);
    admin.close();
  });

  test('NOT_CONTROLLER: refresh metadata, resend only the topics that need it to the new controller', async () => {
    const { clock, net, admin } = setup();
    const created = admin.createTopics([{ name: 'a' }, { name: 'b' }]);
    const first = await net.next('createTopics', 'broker1:9092');
    controller = 3;
    first.respond({ topics: [{ name: 'a', error: null, numPartitions: 1, replicationFactor: 3 }, { name: 'b', error: wireError('NOT_CONTROLLER'), numPartitions: -1, replicationFactor: -1 }] });
    await advanceAndSettle(clock, 100);
    const second = await net.next('createTopics');
    expect(second.address).toBe('broker3:9092');
    expect((second.request as CreateTopicsRequest).topics.map((t) => t.name)).toEqual(['b']);
    second.respond({ topics: [{ name: 'b', error: null, numPartitions: 1, replicationFactor: 3 }] });
    await expect(created).resolves.toHaveLength(2);
    admin.close();
  });

  test("a topic's own error rejects the call with a KafkaError naming it", async () => {
    const { net, admin } = setup();
    const created = admin.createTopics([{ name: 'exists' }]);
    (await net.next('createTopics')).respond({ topics: [{ name: 'exists', error: wireError('TOPIC_ALREADY_EXISTS'), numPartitions: -1, replicationFactor: -1 }] });
    const err = (await created.catch((e: unknown) => e)) as KafkaError;
    expect(err).toBeInstanceOf(KafkaError);
    expect(err.type).toBe('TOPIC_ALREADY_EXISTS');
    expect(err.message).toContain("Topic 'exists'");
    admin.close();
  });

  test('deleteTopics and createPartitions go to the controller', async () => {
    const { net, admin } = setup();
    const del = admin.deleteTopics(['a', 'b']);
    const d = await net.next('deleteTopics');
    expect([d.address, d.request.names]).toEqual(['broker1:9092', ['a', 'b']]);
    d.respond({ results: [{ name: 'a', error: null }, { name: 'b', error: null }] });
    await del;
    const cp = admin.createPartitions({ t: 6 }, { validateOnly: false });
    const c = await net.next('createPartitions');
    expect(c.request.topics).toEqual([{ name: 't', count: 6 }]);
    c.respond({ results: [{ name: 't', error: wireError('INVALID_PARTITIONS') }] });
    await expect(cp).rejects.toMatchObject({ type: 'INVALID_PARTITIONS' });
    admin.close();
  });

  test('describeTopics reports leader, replicas, ISR, offline replicas and under-replication; unknown topics fail at once', async () => {
    const { net, admin } = setup();
    const [t] = await admin.describeTopics(['t']);
    expect(t).toEqual({
      name: 't',
      internal: false,
      partitions: [
        { partition: 0, leader: 1, leaderEpoch: 3, replicas: [1, 2, 3], isr: [1, 2, 3], offlineReplicas: [], underReplicated: false },
        { partition: 1, leader: 2, leaderEpoch: 5, replicas: [2, 3, 1], isr: [2], offlineReplicas: [3], underReplicated: true },
      ],
    });
    const before = net.count('metadata');
    await expect(admin.describeTopics(['nope'])).rejects.toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });
    expect(net.count('metadata')).toBe(before + 1);
    admin.close();
  });

  test('listTopics is sorted and hides internal topics unless asked; describeCluster lists brokers and controller', async () => {
    const { admin } = setup();
    expect(await admin.listTopics()).toEqual(['t']);
    expect(await admin.listTopics({ listInternal: true })).toEqual(['__consumer_offsets', 't']);
    expect(await admin.describeCluster()).toEqual({
      clusterId: 'test-cluster',
      controllerId: 1,
      brokers: [1, 2, 3].map((id) => ({ id, host: `broker${id}`, port: 9092, rack: null })),
    });
    admin.close();
  });

  test('describeConfigs: topic resources to any broker, broker resources to that broker', async () => {
    const { net, admin } = setup();
    const routed: Array<[string, string, string[]]> = [];
    const entry = { readOnly: false, isDefault: false, source: 'DYNAMIC_TOPIC_CONFIG', sensitive: false };
    net.autoRespond((c) => {
      if (c.method !== 'describeConfigs') return undefined;
      const resources = c.request.resources as Array<{ type: string; name: string; keys: string[] }>;
      for (const r of resources) routed.push([r.type, c.address, r.keys]);
      return {
        results: resources.map((r) => ({
          type: r.type,
          name: r.name,
          error: null,
          configs: r.type === 'TOPIC' ? [{ ...entry, name: 'retention.ms', value: '1000' }] : [{ ...entry, name: 'num.partitions', value: '1', source: 'DEFAULT_CONFIG', isDefault: true }],
        })),
      };
    });
    const out = await admin.describeConfigs([{ type: 'topic', name: 't', keys: ['retention.ms'] }, { type: 'broker', name: '2' }]);
    expect(out.map((r) => [r.type, r.name, r.configs.map((c) => `${c.name}=${c.value}`)])).toEqual([
      ['topic', 't', ['retention.ms=1000']],
      ['broker', '2', ['num.partitions=1']],
    ]);
    expect(out[1]!.configs[0]).toMatchObject({ source: 'DEFAULT_CONFIG', isDefault: true });
    expect(routed.find(([type]) => type === 'BROKER')).toEqual(['BROKER', 'broker2:9092', []]);
    expect(routed.find(([type]) => type === 'TOPIC')![2]).toEqual(['retention.ms']);
    await expect(admin.describeConfigs([{ type: 'broker', name: '9' }])).rejects.toMatchObject({ type: 'BROKER_NOT_AVAILABLE' }); // not in the cluster
    admin.close();
  });

  test('alterConfigs sends incremental SET/DELETE ops', async () => {
    const { net, admin } = setup();
    const altered = admin.alterConfigs([{ type: 'topic', name: 't', ops: [{ name: 'retention.ms', op: 'SET', value: '5000' }, { name: 'segment.bytes', op: 'DELETE' }] }]);
    const call = await net.next('alterConfigs');
    expect(call.request).toEqual({
      resources: [{ type: 'TOPIC', name: 't', configs: [{ name: 'retention.ms', value: '5000', op: 'SET' }, { name: 'segment.bytes', value: '', op: 'DELETE' }] }],
      validateOnly: false,
    });
    call.respond({ results: [{ type: 'TOPIC', name: 't', error: wireError('INVALID_CONFIG') }] });
    await expect(altered).rejects.toMatchObject({ type: 'INVALID_CONFIG' });
    admin.close();
  });

  test('listOffsets asks each leader; a leadership error is retried at the new leader', async () => {
    const { clock, net, admin } = setup();
    const listed = admin.listOffsets([
      { topic: 't', partition: 0, spec: 'earliest' },
      { topic: 't', partition: 1, spec: { timestamp: 1_700_000_000_000 } },
    ]);
    const toBroker1 = await net.next('listOffsets', 'broker1:9092');
    expect((toBroker1.request as ListOffsetsRequest).topics).toEqual([{ topic: 't', partitions: [{ partition: 0, timestamp: -2, currentLeaderEpoch: 3 }] }]);
    toBroker1.respond({ topics: [{ topic: 't', partitions: [{ partition: 0, error: null, timestamp: -1, offset: 4, leaderEpoch: 3 }] }] });
    const toBroker2 = await net.next('listOffsets', 'broker2:9092');
    expect(toBroker2.request.topics[0].partitions[0].timestamp).toBe(1_700_000_000_000);
    leaders = { 0: 1, 1: 3 };
    toBroker2.respond({ topics: [{ topic: 't', partitions: [{ partition: 1, error: wireError('NOT_LEADER_OR_FOLLOWER'), timestamp: -1, offset: -1, leaderEpoch: -1 }] }] });
    await advanceAndSettle(clock, 100);
    const toBroker3 = await net.next('listOffsets', 'broker3:9092');
    toBroker3.respond({ topics: [{ topic: 't', partitions: [{ partition: 1, error: null, timestamp: 1_700_000_000_123, offset: 88, leaderEpoch: 6 }] }] });
    await expect(listed).resolves.toEqual([
      { topic: 't', partition: 0, offset: 4, timestamp: -1, leaderEpoch: 3 },
      { topic: 't', partition: 1, offset: 88, timestamp: 1_700_000_000_123, leaderEpoch: 6 },
    ]);
    admin.close();
  });

  test('a call whose broker never answers ends with API_TIMEOUT at its timeout', async () => {
    const { clock, net, admin } = setup();
    net.autoRespond((c) => (c.method === 'deleteTopics' ? new KafkaError('NETWORK_EXCEPTION') : undefined));
    const del = admin.deleteTopics(['x'], { timeoutMs: 2_000 }).catch((e: unknown) => e);
    await advanceAndSettle(clock, 2_000, 50);
    const err = (await del) as ClientError;
    expect(err.code).toBe('API_TIMEOUT');
    expect((err.cause as KafkaError).type).toBe('NETWORK_EXCEPTION');
    expect(net.count('deleteTopics')).toBeGreaterThan(2);
    admin.close();
  });

  test('bad arguments are refused before anything is sent', async () => {
    const { net, admin } = setup();
    await expect(admin.createTopics([{ name: 'a' }, { name: 'a' }])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(admin.createTopics([{ name: 'a', numPartitions: 0 }])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(admin.createTopics([{ name: 'a', numPartitions: 2, replicaAssignment: { 0: [1] } }])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(admin.createTopics([{ name: 'a/b' }])).rejects.toMatchObject({ type: 'INVALID_TOPIC_EXCEPTION' });
    await expect(admin.createPartitions({ t: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(admin.listOffsets([{ topic: 't', partition: 0, spec: 'middle' as never }])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(admin.describeConfigs([{ type: 'broker', name: 'one' }])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(admin.alterConfigs([{ type: 'topic', name: 't', ops: [{ name: 'x', op: 'SET' } as never] }])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(admin.deleteTopics(['t'], { timeoutMs: -1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(net.history).toEqual([]);
    admin.close();
    await expect(admin.listTopics()).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
