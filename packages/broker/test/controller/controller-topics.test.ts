// Topic creation, deletion, added partitions and ISR change notifications, handled by the active
// controller against a real in-process coordination service.
import { jest } from '@jest/globals';
import type { Controller } from '../../src/controller/controller.js';
import { ControllerHarness, eventually } from './helpers.js';

// Real coordinator round trips: generous per-test time on a loaded 2-core CI machine (conditions have their own deadlines).
jest.setTimeout(30_000);

describe('controller: topics', () => {
  let h: ControllerHarness;
  let controller: Controller;
  beforeEach(async () => {
    h = await ControllerHarness.start();
    controller = await h.addControllerBroker(1);
    await h.addBroker(2);
    await h.addBroker(3);
    await eventually(() => controller.isActive, 'controller active');
    await controller.whenIdle();
    h.channel.clear();
  });
  afterEach(async () => {
    await h.close();
  });

  const json = async (path: string): Promise<unknown> => JSON.parse((await h.admin.get(path)).data.toString());

  test('createTopics: assignment and config written together, partition states created, replicas told, everyone updated', async () => {
    const [r] = await controller.createTopics([{ name: 'orders', numPartitions: 3, replicationFactor: 2, configs: [{ name: 'retention.ms', value: '60000' }] }]);
    expect(r).toMatchObject({ name: 'orders', error: null, numPartitions: 3, replicationFactor: 2 });
    const assignment = (await json('/brokers/topics/orders')) as { version: number; partitions: Record<string, number[]> };
    expect(assignment.version).toBe(1);
    expect(Object.fromEntries(r!.assignment!)).toEqual(assignment.partitions);
    expect(await json('/config/topics/orders')).toEqual({ version: 1, config: { 'retention.ms': '60000' } });
    // When createTopics resolves, every partition has its first state: first replica leads, all are in the ISR.
    for (const [p, replicas] of Object.entries(assignment.partitions)) {
      expect(await h.state('orders', Number(p))).toMatchObject({ leader: replicas[0], leader_epoch: 0, isr: replicas, controller_epoch: 1, version: 0 });
    }
    await controller.whenIdle();
    for (const [p, replicas] of Object.entries(assignment.partitions)) {
      for (const b of replicas) {
        expect(h.channel.leaderAndIsrFor('orders', Number(p), b)).toHaveLength(1);
      }
    }
    for (const b of [1, 2, 3]) {
      const states = h.channel.of('updateMetadata', b).flatMap((u) => u.request.partitionStates.filter((s) => s.topic === 'orders'));
      expect(states.map((s) => s.partition).sort()).toEqual([0, 1, 2]);
    }
  });

  test('createTopics: per-topic errors with Kafka codes; validateOnly writes nothing', async () => {
    await controller.createTopics([{ name: 'exists' }]);
    const results = await controller.createTopics([
      { name: 'exists' },
      { name: 'bad name' },
      { name: 'too-many-replicas', replicationFactor: 4 },
      { name: 'no-partitions', numPartitions: 0 },
      { name: 'bad-assignment', assignments: [{ partition: 0, replicas: [9] }] },
      { name: 'bad-config', configs: { 'no.such.config': 'x' } },
      { name: 'dup' },
      { name: 'dup' },
      { name: 'fine', numPartitions: 2 },
    ]);
    expect(results.map((r) => [r.name, r.error?.type ?? null])).toEqual([
      ['exists', 'TOPIC_ALREADY_EXISTS'],
      ['bad name', 'INVALID_TOPIC_EXCEPTION'],
      ['too-many-replicas', 'INVALID_REPLICATION_FACTOR'],
      ['no-partitions', 'INVALID_PARTITIONS'],
      ['bad-assignment', 'INVALID_REPLICA_ASSIGNMENT'],
      ['bad-config', 'INVALID_CONFIG'],
      ['dup', 'INVALID_REQUEST'],
      ['dup', 'INVALID_REQUEST'],
      ['fine', null],
    ]);
    expect((await h.admin.children('/brokers/topics')).children.sort()).toEqual(['exists', 'fine']);
    const [v] = await controller.createTopics([{ name: 'dry', numPartitions: 4 }], { validateOnly: true });
    expect(v).toMatchObject({ error: null, numPartitions: 4, replicationFactor: 3 });
    expect(await h.admin.exists('/brokers/topics/dry')).toBeNull();
    expect(await h.admin.exists('/config/topics/dry')).toBeNull();
  });

  test('a topic written to the coordinator by someone else (an admin tool) is picked up by the watch', async () => {
    await h.admin.create('/brokers/topics/external', JSON.stringify({ version: 1, partitions: { '0': [3, 2] } }));
    await eventually(async () => (await h.state('external', 0)) !== null, 'state created');
    expect(await h.state('external', 0)).toMatchObject({ leader: 3, isr: [3, 2], leader_epoch: 0 });
  });

  test('a partition whose replicas are all down waits for them, then starts', async () => {
    await h.killBroker(3);
    await eventually(() => h.channel.of('updateMetadata', 2).some((u) => u.request.liveBrokers.length === 2), 'broker 3 gone');
    const [r] = await controller.createTopics([{ name: 'later', assignments: [{ partition: 0, replicas: [2] }] }]);
    expect(r!.error).toBeNull();
    await h.admin.create('/brokers/topics/orphan', JSON.stringify({ version: 1, partitions: { '0': [3] } }));
    await controller.whenIdle();
    await eventually(async () => (await h.state('later', 0)) !== null, 'later started');
    expect(await h.state('orphan', 0)).toBeNull();
    await h.addBroker(3);
    await eventually(async () => (await h.state('orphan', 0)) !== null, 'orphan started once broker 3 is back');
    expect(await h.state('orphan', 0)).toMatchObject({ leader: 3, isr: [3], leader_epoch: 0 });
  });

  test('deleteTopics: StopReplica(delete) to every replica, znodes removed, brokers told the topic is gone', async () => {
    await controller.createTopics([{ name: 'doomed', numPartitions: 2, replicationFactor: 2, configs: { 'retention.ms': '1000' } }, { name: 'kept' }]);
    await controller.whenIdle();
    h.channel.clear();
    const results = await controller.deleteTopics(['doomed', 'missing'], { timeoutMs: 10_000 });
    expect(results.map((r) => [r.name, r.error?.type ?? null])).toEqual([
      ['doomed', null],
      ['missing', 'UNKNOWN_TOPIC_OR_PARTITION'],
    ]);
    expect(await h.admin.exists('/brokers/topics/doomed')).toBeNull();
    expect(await h.admin.exists('/config/topics/doomed')).toBeNull();
    expect(await h.admin.exists('/admin/delete_topics/doomed')).toBeNull();
    expect(await h.admin.exists('/brokers/topics/kept')).not.toBeNull();
    const stops = h.channel.of('stopReplica');
    expect(stops.every((s) => s.request.deletePartitions && s.request.controllerEpoch === 1)).toBe(true);
    const stopped = stops.flatMap((s) => s.request.partitions.map((p) => `${s.brokerId}:${p.topic}-${p.partition}`)).sort();
    expect(stopped).toHaveLength(4); // 2 partitions × RF 2
    for (const b of [1, 2, 3]) {
      expect(h.channel.of('updateMetadata', b).some((u) => u.request.deletedTopics.includes('doomed'))).toBe(true);
    }
    // The name is free again.
    const [again] = await controller.createTopics([{ name: 'doomed' }]);
    expect(again!.error).toBeNull();
  });

  test('deletion of a topic with a replica on a dead broker waits for that broker', async () => {
    await controller.createTopics([{ name: 'd', assignments: [{ partition: 0, replicas: [2, 3] }] }]);
    await h.killBroker(3);
    await eventually(async () => (await h.state('d', 0))?.isr.join() === '2', 'ISR shrinks');
    const [r] = await controller.deleteTopics(['d'], { timeoutMs: 300 });
    expect(r!.error?.type).toBe('REQUEST_TIMED_OUT');
    expect(await h.admin.exists('/brokers/topics/d')).not.toBeNull();
    await h.addBroker(3);
    await eventually(async () => (await h.admin.exists('/brokers/topics/d')) === null, 'deleted once broker 3 is back');
    expect(h.channel.of('stopReplica', 3).some((s) => s.request.partitions.some((p) => p.topic === 'd'))).toBe(true);
  });

  test('a replica that fails StopReplica is asked again; the topic goes once it succeeds', async () => {
    await controller.createTopics([{ name: 'sticky', assignments: [{ partition: 0, replicas: [2, 3] }] }]);
    h.channel.stopReplicaErrors.add(3);
    await controller.deleteTopics(['sticky']);
    await eventually(() => h.channel.of('stopReplica', 3).length >= 2, 'asked again');
    expect(await h.admin.exists('/brokers/topics/sticky')).not.toBeNull();
    h.channel.stopReplicaErrors.delete(3);
    await eventually(async () => (await h.admin.exists('/brokers/topics/sticky')) === null, 'deleted');
  });

  test('createPartitions: new partitions continue the assignment and get states; errors per topic', async () => {
    await controller.createTopics([{ name: 'grow', numPartitions: 2, replicationFactor: 2 }]);
    await controller.whenIdle();
    h.channel.clear();
    const results = await controller.createPartitions([
      { name: 'grow', count: 5 },
      { name: 'unknown', count: 2 },
    ]);
    expect(results.map((r) => [r.name, r.error?.type ?? null])).toEqual([
      ['grow', null],
      ['unknown', 'UNKNOWN_TOPIC_OR_PARTITION'],
    ]);
    const assignment = (await json('/brokers/topics/grow')) as { partitions: Record<string, number[]> };
    expect(Object.keys(assignment.partitions).sort()).toEqual(['0', '1', '2', '3', '4']);
    for (let p = 2; p < 5; p++) {
      expect(assignment.partitions[String(p)]).toHaveLength(2);
      expect(await h.state('grow', p)).toMatchObject({ leader: assignment.partitions[String(p)]![0], leader_epoch: 0 });
    }
    await controller.whenIdle();
    expect(h.channel.of('leaderAndIsr').flatMap((r) => r.request.partitionStates).map((s) => s.partition).sort()).toEqual([2, 2, 3, 3, 4, 4]);
    const [same] = await controller.createPartitions([{ name: 'grow', count: 5 }]);
    expect(same!.error?.type).toBe('INVALID_PARTITIONS');
  });

  test('partitions added by rewriting the topic znode (an admin tool) are picked up by the watch', async () => {
    await controller.createTopics([{ name: 'ext', assignments: [{ partition: 0, replicas: [2] }] }]);
    const { stat } = await h.admin.get('/brokers/topics/ext');
    await h.admin.set('/brokers/topics/ext', JSON.stringify({ version: 1, partitions: { '0': [2], '1': [3] } }), stat.version);
    await eventually(async () => (await h.state('ext', 1)) !== null, 'partition 1 state');
    expect(await h.state('ext', 1)).toMatchObject({ leader: 3, isr: [3] });
  });

  test('an ISR change notification refreshes the partition, updates every broker, and is deleted', async () => {
    await controller.createTopics([{ name: 'isr', assignments: [{ partition: 0, replicas: [2, 3] }] }]);
    await h.killBroker(3);
    await eventually(async () => (await h.state('isr', 0))?.isr.join() === '2', 'ISR shrinks to [2]');
    await h.addBroker(3);
    await controller.whenIdle();
    h.channel.clear();
    // Leader 2 sees broker 3 caught up: it widens the ISR with compare-and-set and notifies.
    await h.leaderChangesIsr('isr', 0, [2, 3]);
    await eventually(
      () => [1, 2, 3].every((b) => h.channel.of('updateMetadata', b).some((u) => u.request.partitionStates.some((s) => s.topic === 'isr' && s.isr.length === 2))),
      'every broker updated',
    );
    const um = h.channel.of('updateMetadata', 1).at(-1)!.request.partitionStates[0]!;
    expect(um).toMatchObject({ leader: 2, isr: [2, 3], partitionEpoch: (await h.state('isr', 0))!.version });
    await eventually(async () => (await h.admin.children('/isr_change_notification')).children.length === 0, 'notification deleted');
    // The controller's view follows the leader's write: a later election uses the wider ISR.
    await h.killBroker(2);
    await eventually(async () => (await h.state('isr', 0))?.leader === 3, 'broker 3 takes over from the refreshed ISR');
  });

  test('an event that fails on a coordinator error is retried after a back-off, with a full resync to every broker', async () => {
    await controller.createTopics([{ name: 'other', assignments: [{ partition: 0, replicas: [3] }] }]);
    await controller.whenIdle();
    const brokerChanges = async (): Promise<number> =>
      Number(/samsa_controller_events_total\{event="BrokerChange"\} (\d+)/.exec(await h.registries.get(1)!.metrics())?.[1] ?? 0);
    const before = await brokerChanges();
    h.channel.clear();
    // An ephemeral partitions directory cannot have children: creating the state fails until it is fixed.
    await h.admin.create('/brokers/topics/stuck', JSON.stringify({ version: 1, partitions: { '0': [2] } }));
    await h.admin.create('/brokers/topics/stuck/partitions', '', { mode: 'ephemeral' });
    await eventually(async () => (await brokerChanges()) > before, 'a retry round ran (it re-triggers every watch event)');
    expect(await h.state('stuck', 0)).toBeNull();
    expect(controller.isActive).toBe(true);
    await h.admin.delete('/brokers/topics/stuck/partitions');
    await eventually(async () => (await h.state('stuck', 0)) !== null, 'state created by a retry');
    // The full resync resends what did not change too ('other').
    await eventually(
      () => [1, 2, 3].every((b) => h.channel.of('updateMetadata', b).some((u) => u.request.partitionStates.some((p) => p.topic === 'other'))),
      'full resync to every broker',
    );
  });

  test('notifications for unknown topics and garbage ones are dropped', async () => {
    await h.admin.create('/isr_change_notification/isr_change_', JSON.stringify({ version: 1, partitions: [{ topic: 'nope', partition: 0 }] }), {
      mode: 'persistent_sequential',
    });
    await h.admin.create('/isr_change_notification/isr_change_', 'garbage', { mode: 'persistent_sequential' });
    await eventually(async () => (await h.admin.children('/isr_change_notification')).children.length === 0, 'notifications deleted');
    expect(controller.isActive).toBe(true);
  });
});
