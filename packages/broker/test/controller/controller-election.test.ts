// Controller election and fencing against a real in-process coordination service.
import { jest } from '@jest/globals';
import { ControllerMovedError } from '../../src/controller/controller-errors.js';
import { ControllerStore } from '../../src/controller/controller-store.js';
import { silentLogger } from '@samsa/coordinator';
import { ControllerHarness, eventually } from './helpers.js';

// Real coordinator round trips: generous per-test time on a loaded 2-core CI machine (conditions have their own deadlines).
jest.setTimeout(30_000);

describe('controller election and fencing', () => {
  let h: ControllerHarness;
  beforeEach(async () => {
    h = await ControllerHarness.start();
  });
  afterEach(async () => {
    await h.close();
  });

  test('two candidates: exactly one is active; when its broker dies the other takes over with the next epoch', async () => {
    const c1 = await h.addControllerBroker(1);
    const c2 = await h.addControllerBroker(2);
    await eventually(() => c1.isActive, 'broker 1 active');
    expect(c2.isActive).toBe(false);
    expect(c1.epoch).toBe(1);
    await eventually(() => c2.activeControllerId === 1, 'broker 2 sees broker 1 as controller');
    expect(JSON.parse((await h.admin.get('/controller')).data.toString())).toEqual({ id: 1, epoch: 1 });
    // The new controller told every broker the full state, with its id and epoch.
    await eventually(() => h.channel.of('updateMetadata', 2).length > 0, 'UpdateMetadata to broker 2');
    expect(h.channel.of('updateMetadata').every((r) => r.request.controllerId === 1 && r.request.controllerEpoch === 1)).toBe(true);

    h.channel.clear();
    await h.killBroker(1);
    await eventually(() => c2.isActive, 'broker 2 active');
    expect(c2.epoch).toBe(2);
    expect((await h.admin.get('/controller_epoch')).data.toString()).toBe('2');
    await eventually(() => h.channel.of('updateMetadata', 2).length > 0, 'UpdateMetadata from the new controller');
    expect(h.channel.of('updateMetadata').map((r) => [r.request.controllerId, r.request.controllerEpoch])).toContainEqual([2, 2]);
    expect(h.channel.of('updateMetadata').every((r) => r.request.controllerEpoch === 2)).toBe(true);
  });

  test('a controller that stops gives /controller up and emits resigned; the standby activates', async () => {
    const c1 = await h.addControllerBroker(1);
    const c2 = await h.addControllerBroker(2);
    await eventually(() => c1.isActive, 'broker 1 active');
    const events: string[] = [];
    c1.on('resigned', (reason: string) => events.push(reason));
    await c1.stop();
    expect(events).toEqual(['stopped']);
    expect(c1.isActive).toBe(false);
    await eventually(() => c2.isActive, 'broker 2 active');
    expect(c2.epoch).toBe(2);
  });

  test("a deposed controller's writes fail on the epoch check and change nothing", async () => {
    const c1 = await h.addControllerBroker(1);
    await h.addBroker(2);
    await eventually(() => c1.isActive, 'broker 1 active');
    const [created] = await c1.createTopics([{ name: 't', assignments: [{ partition: 0, replicas: [1, 2] }] }]);
    expect(created!.error).toBeNull();
    const before = await h.state('t', 0);
    // Broker 1's controller as it was: the fence it took over with (/controller_epoch version 1).
    const stale = new ControllerStore(h.brokers.get(1)!.client, silentLogger, { maxPartitionsPerWrite: 10, maxConcurrentReads: 4 });
    const fence = { epochZkVersion: (await h.admin.exists('/controller_epoch'))!.version };
    const c2 = await h.addControllerBroker(3);
    await c1.stop(); // its session lives on (broker 1 is still up), so its client can still write
    await eventually(() => c2.isActive, 'broker 3 active');
    const write = stale.updatePartitionStates(fence, [
      { topic: 't', partition: 0, state: { leader: 2, leaderEpoch: 99, isr: [2], controllerEpoch: 1 }, expectedVersion: before!.version },
    ]);
    await expect(write).rejects.toBeInstanceOf(ControllerMovedError);
    await expect(stale.createTopic(fence, 'u', new Map([[0, [1]]]), {})).rejects.toBeInstanceOf(ControllerMovedError);
    expect(await h.state('t', 0)).toEqual(before);
    expect(await h.admin.exists('/brokers/topics/u')).toBeNull();
  });

  test('a controller that finds its epoch moved on (a newer controller it has not noticed) is fenced, resigns, and is re-elected past it', async () => {
    const c1 = await h.addControllerBroker(1);
    await h.addBroker(2);
    await h.addBroker(3);
    await eventually(() => c1.isActive, 'broker 1 active');
    await c1.createTopics([{ name: 't', assignments: [{ partition: 0, replicas: [2, 3] }] }]);
    const resigned: string[] = [];
    c1.on('resigned', (reason: string) => resigned.push(reason));
    // A newer controller's epoch, as if one had been elected behind this one's back.
    await h.admin.set('/controller_epoch', '5');
    h.channel.clear();
    await h.killBroker(2); // the leader dies: controller 1 must elect broker 3, and its write is fenced
    await eventually(() => resigned.includes('fenced'), 'controller 1 fenced');
    await eventually(() => c1.isActive && c1.epoch === 6, 'controller 1 re-elected with epoch 6');
    await eventually(async () => (await h.state('t', 0))?.leader === 3, 'broker 3 leads');
    const st = await h.state('t', 0);
    expect(st).toMatchObject({ leader: 3, leader_epoch: 1, isr: [3], controller_epoch: 6 });
    // No LeaderAndIsr for the new leadership went out under the stale epoch.
    const lai = h.channel.leaderAndIsrFor('t', 0);
    expect(lai.length).toBeGreaterThan(0);
    expect(lai.every((r) => r.controllerEpoch === 6)).toBe(true);
  });

  test('a new controller takes over existing state: it elects leaders for partitions whose leader died while there was no controller, and tells everyone everything', async () => {
    const c1 = await h.addControllerBroker(1);
    await h.addBroker(2);
    await h.addBroker(3);
    await eventually(() => c1.isActive, 'broker 1 active');
    await c1.createTopics([
      { name: 't', assignments: [{ partition: 0, replicas: [2, 3] }, { partition: 1, replicas: [3, 2] }] },
    ]);
    await h.killBroker(1); // no controller now
    await h.killBroker(2); // dies unnoticed
    expect((await h.state('t', 0))!.leader).toBe(2);
    h.channel.clear();
    const c4 = await h.addControllerBroker(4);
    await eventually(() => c4.isActive, 'broker 4 active');
    await c4.whenIdle();
    expect(c4.epoch).toBe(2);
    expect(await h.state('t', 0)).toMatchObject({ leader: 3, leader_epoch: 1, isr: [3], controller_epoch: 2 });
    expect(await h.state('t', 1)).toMatchObject({ leader: 3, leader_epoch: 1, isr: [3], controller_epoch: 2 });
    for (const b of [3, 4]) {
      const um = h.channel.of('updateMetadata', b)[0]!.request;
      expect(um.controllerEpoch).toBe(2);
      expect(um.partitionStates.map((p) => p.partition).sort()).toEqual([0, 1]);
      expect(um.liveBrokers.map((x) => x.id)).toEqual([3, 4]);
    }
    expect(h.channel.of('leaderAndIsr', 3).flatMap((r) => r.request.partitionStates).map((p) => [p.partition, p.leader, p.leaderEpoch]).sort()).toEqual([
      [0, 3, 1],
      [1, 3, 1],
    ]);
  });

  test('garbage in the coordinator (a broken registration, topic, state or config) is skipped, never takes the controller down', async () => {
    await h.admin.ensurePath('/brokers/ids');
    await h.admin.ensurePath('/brokers/topics');
    await h.admin.ensurePath('/config/topics');
    await h.admin.create('/brokers/ids/7', 'not json');
    await h.admin.create('/brokers/ids/not-a-number', '{}');
    await h.admin.create('/brokers/topics/broken', '{"version":1,"partitions":{"0":"x"}}');
    await h.admin.create('/brokers/topics/ok', JSON.stringify({ version: 1, partitions: { '0': [2, 3] } }));
    await h.admin.ensurePath('/brokers/topics/ok/partitions/0');
    await h.admin.create('/brokers/topics/ok/partitions/0/state', '{"leader":');
    await h.admin.create('/config/topics/ok', 'garbage');
    const c1 = await h.addControllerBroker(1);
    await h.addBroker(2);
    await h.addBroker(3);
    await eventually(() => c1.isActive, 'broker 1 active');
    // The unreadable state is treated as offline with an empty ISR: only an unclean election could
    // revive it, and that is off. The controller keeps working for everything else.
    await c1.whenIdle();
    expect((await h.admin.get('/brokers/topics/ok/partitions/0/state')).data.toString()).toBe('{"leader":');
    const [r] = await c1.createTopics([{ name: 'fresh', assignments: [{ partition: 0, replicas: [2] }] }]);
    expect(r!.error).toBeNull();
    expect(await h.state('fresh', 0)).toMatchObject({ leader: 2 });
    expect(c1.isActive).toBe(true);
    expect(await h.registries.get(1)!.metrics()).toMatch(/^samsa_controller_offline_partitions 1$/m);
  });

  test('a campaign that fails on a coordinator error is started again, so the cluster does not stay without a controller', async () => {
    const c1 = await h.addControllerBroker(1);
    const c2 = await h.addControllerBroker(2);
    await eventually(() => c1.isActive, 'broker 1 active');
    // /controller goes (every candidate campaigns) together with the epoch counter (every campaign fails).
    await h.admin.multi([
      { type: 'delete', path: '/controller' },
      { type: 'delete', path: '/controller_epoch' },
    ]);
    await eventually(() => !c1.isActive, 'broker 1 resigned');
    await eventually(() => c1.isActive || c2.isActive, 'a controller again');
    expect(JSON.parse((await h.admin.get('/controller')).data.toString()).id).toBe(c1.isActive ? 1 : 2);
  });

  test('metrics: the active controller reports 1, the standby 0, and the events it processed', async () => {
    const c1 = await h.addControllerBroker(1);
    await h.addControllerBroker(2);
    await eventually(() => c1.isActive, 'broker 1 active');
    await c1.whenIdle();
    const text1 = await h.registries.get(1)!.metrics();
    const text2 = await h.registries.get(2)!.metrics();
    expect(text1).toMatch(/^samsa_controller_active_controllers 1$/m);
    expect(text2).toMatch(/^samsa_controller_active_controllers 0$/m);
    expect(text1).toMatch(/^samsa_controller_events_total\{event="ControllerChange"\} 1$/m);
    expect(text1).toMatch(/^samsa_controller_offline_partitions 0$/m);
  });
});
