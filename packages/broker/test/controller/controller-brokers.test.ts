// Broker failures and returns, as the active controller handles them, against a real in-process
// coordination service. Broker 1 runs the controller; brokers 2 and 3 host the replicas.
import { jest } from '@jest/globals';
import { ControllerHarness, eventually } from './helpers.js';

// Real coordinator round trips: generous per-test time on a loaded 2-core CI machine (conditions have their own deadlines).
jest.setTimeout(30_000);

describe('controller: brokers dying and coming back', () => {
  let h: ControllerHarness;
  beforeEach(async () => {
    h = await ControllerHarness.start();
  });
  afterEach(async () => {
    await h.close();
  });

  async function cluster(config: Parameters<ControllerHarness['addControllerBroker']>[1] = {}) {
    const controller = await h.addControllerBroker(1, config);
    await h.addBroker(2);
    await h.addBroker(3);
    await eventually(() => controller.isActive, 'controller active');
    const [r] = await controller.createTopics([
      {
        name: 't',
        assignments: [
          { partition: 0, replicas: [2, 3] },
          { partition: 1, replicas: [3, 2] },
        ],
      },
    ]);
    expect(r!.error).toBeNull();
    expect(await h.state('t', 0)).toMatchObject({ leader: 2, leader_epoch: 0, isr: [2, 3], controller_epoch: 1 });
    await controller.whenIdle();
    h.channel.clear();
    return controller;
  }

  test('3 brokers, RF 2: the leader dies → the other ISR member leads with leader epoch + 1, and is told so', async () => {
    const controller = await cluster();
    await h.killBroker(2);
    await eventually(async () => (await h.state('t', 0))?.leader === 3, 'broker 3 leads t-0');
    expect(await h.state('t', 0)).toMatchObject({ leader: 3, leader_epoch: 1, isr: [3], controller_epoch: 1 });
    // t-1 was led by 3 and followed by 2: 2 leaves its ISR, the leader stays, the epoch moves on.
    await eventually(async () => (await h.state('t', 1))?.isr.length === 1, 't-1 ISR shrinks');
    expect(await h.state('t', 1)).toMatchObject({ leader: 3, leader_epoch: 1, isr: [3] });
    await controller.whenIdle();
    const lai = h.channel.leaderAndIsrFor('t', 0, 3);
    expect(lai.at(-1)!.state).toMatchObject({ leader: 3, leaderEpoch: 1, isr: [3], replicas: [2, 3], controllerEpoch: 1 });
    expect(h.channel.leaderAndIsrFor('t', 0, 2)).toEqual([]); // a dead broker is not sent anything
    // Every live broker heard about the change and the new broker list.
    for (const id of [1, 3]) {
      const um = h.channel.of('updateMetadata', id).at(-1)!.request;
      expect(um.liveBrokers.map((b) => b.id)).toEqual([1, 3]);
      expect(um.partitionStates.find((s) => s.partition === 0)).toMatchObject({ leader: 3, leaderEpoch: 1 });
    }
  });

  test('no ISR member alive → the partition goes offline (leader -1, last ISR member kept) until that member returns', async () => {
    const controller = await cluster();
    await h.killBroker(3);
    await eventually(async () => (await h.state('t', 0))?.isr.join() === '2', 't-0 ISR is [2]');
    await h.killBroker(2);
    await eventually(async () => (await h.state('t', 0))?.leader === -1, 't-0 offline');
    expect(await h.state('t', 0)).toMatchObject({ leader: -1, isr: [2] });
    await controller.whenIdle();
    expect(await h.registries.get(1)!.metrics()).toMatch(/^samsa_controller_offline_partitions 2$/m);

    // Broker 3 returns, but it is not in the ISR and unclean election is off: still offline.
    await h.addBroker(3);
    await eventually(() => h.channel.of('leaderAndIsr', 3).length > 0, 'broker 3 told its replicas');
    await controller.whenIdle();
    expect((await h.state('t', 0))?.leader).toBe(-1);

    // Broker 2, the last ISR member, returns: it leads again, with a new epoch.
    const before = (await h.state('t', 0))!.leader_epoch;
    await h.addBroker(2);
    await eventually(async () => (await h.state('t', 0))?.leader === 2, 't-0 led by 2 again');
    expect(await h.state('t', 0)).toMatchObject({ leader: 2, leader_epoch: before + 1, isr: [2] });
    await controller.whenIdle();
    expect(await h.registries.get(1)!.metrics()).toMatch(/^samsa_controller_offline_partitions 0$/m);
  });

  test('unclean.leader.election.enable (broker default): a live replica outside the ISR leads, ISR = [it]', async () => {
    const controller = await cluster({ 'unclean.leader.election.enable': true });
    await h.killBroker(3);
    await eventually(async () => (await h.state('t', 0))?.isr.join() === '2', 't-0 ISR is [2]');
    await h.killBroker(2);
    await eventually(async () => (await h.state('t', 0))?.leader === -1, 't-0 offline');
    await h.addBroker(3);
    await eventually(async () => (await h.state('t', 0))?.leader === 3, 'broker 3 leads uncleanly');
    expect(await h.state('t', 0)).toMatchObject({ leader: 3, isr: [3] });
    await controller.whenIdle();
  });

  test('unclean election follows the topic config over the broker default', async () => {
    const controller = await h.addControllerBroker(1);
    await h.addBroker(2);
    await h.addBroker(3);
    await eventually(() => controller.isActive, 'controller active');
    const results = await controller.createTopics([
      { name: 'lossy', assignments: [{ partition: 0, replicas: [2, 3] }], configs: { 'unclean.leader.election.enable': 'true' } },
      { name: 'safe', assignments: [{ partition: 0, replicas: [2, 3] }] },
    ]);
    expect(results.map((r) => r.error)).toEqual([null, null]);
    await h.killBroker(3);
    await eventually(async () => (await h.state('lossy', 0))?.isr.join() === '2' && (await h.state('safe', 0))?.isr.join() === '2', 'ISRs shrink');
    await h.killBroker(2);
    await h.addBroker(3);
    await eventually(async () => (await h.state('lossy', 0))?.leader === 3, 'lossy led by 3');
    await controller.whenIdle();
    expect((await h.state('safe', 0))?.leader).toBe(-1);
  });

  test('a broker that comes back gets UpdateMetadata with everything and LeaderAndIsr for its replicas', async () => {
    const controller = await cluster();
    await h.killBroker(3);
    await eventually(async () => (await h.state('t', 1))?.leader === 2, 't-1 led by 2');
    await controller.whenIdle();
    h.channel.clear();
    await h.addBroker(3);
    await eventually(() => h.channel.of('leaderAndIsr', 3).length > 0, 'LeaderAndIsr to broker 3');
    await controller.whenIdle();
    const states = h.channel.of('leaderAndIsr', 3).flatMap((r) => r.request.partitionStates);
    expect(states.map((s) => [s.topic, s.partition, s.leader]).sort()).toEqual([
      ['t', 0, 2],
      ['t', 1, 2],
    ]);
    const full = h.channel.of('updateMetadata', 3)[0]!.request;
    expect(full.partitionStates).toHaveLength(2);
    expect(full.liveBrokers.map((b) => b.id)).toEqual([1, 2, 3]);
    // The others learn the broker list changed.
    expect(h.channel.of('updateMetadata', 2).at(-1)!.request.liveBrokers.map((b) => b.id)).toEqual([1, 2, 3]);
    // The controller does not put it back in the ISR: the leader does that once it caught up.
    expect((await h.state('t', 1))?.isr).toEqual([2]);
  });

  test('a broker that re-registers in one step (same id, new epoch = a restart) loses its leaderships and gets them back as a follower, with new leader epochs', async () => {
    const controller = await cluster();
    // The restart as the controller sees it in one notification: the old registration gone and a
    // new one (another session, so another czxid = broker epoch) in the same commit.
    const registration = (await h.admin.get('/brokers/ids/2')).data;
    await h.admin.multi([
      { type: 'delete', path: '/brokers/ids/2' },
      { type: 'create', path: '/brokers/ids/2', data: registration, mode: 'ephemeral' },
    ]);
    await eventually(async () => (await h.state('t', 0))?.leader === 3, 't-0 led by 3');
    await controller.whenIdle();
    expect(await h.state('t', 0)).toMatchObject({ leader: 3, leader_epoch: 1, isr: [3] });
    expect(await h.state('t', 1)).toMatchObject({ leader: 3, leader_epoch: 1, isr: [3] });
    // The restarted broker is live again and hears about its replicas.
    const told = h.channel.of('leaderAndIsr', 2).flatMap((r) => r.request.partitionStates);
    expect(told.map((s) => [s.partition, s.leader, s.leaderEpoch]).sort()).toEqual([
      [0, 3, 1],
      [1, 3, 1],
    ]);
    expect(h.channel.of('updateMetadata', 2).at(-1)!.request.liveBrokers.map((b) => b.id)).toEqual([1, 2, 3]);
  });

  test('a broker outside the ISR dies: its partitions keep leader and ISR but move to a new leader epoch (KIP-903: fences fetches it sent before dying); other partitions are untouched', async () => {
    const controller = await cluster();
    await h.addBroker(4);
    const [r] = await controller.createTopics([{ name: 'elsewhere', assignments: [{ partition: 0, replicas: [2, 4] }] }]);
    expect(r!.error).toBeNull();
    await h.leaderChangesIsr('t', 0, [2]); // leader 2 dropped broker 3 from the ISR
    await eventually(async () => (await h.state('t', 0))?.isr.join() === '2', 't-0 ISR is [2]');
    await controller.whenIdle();
    h.channel.clear();

    await h.killBroker(3);
    await eventually(async () => (await h.state('t', 0))?.leader_epoch === 1, 't-0 leader epoch bumped');
    expect(await h.state('t', 0)).toMatchObject({ leader: 2, leader_epoch: 1, isr: [2], controller_epoch: 1, version: 2 });
    expect(await h.state('t', 1)).toMatchObject({ leader: 2, leader_epoch: 1, isr: [2] }); // 3 led it: elected away, as before
    expect(await h.state('elsewhere', 0)).toMatchObject({ leader: 2, leader_epoch: 0, version: 0 }); // no replica on 3
    await controller.whenIdle();
    // The leader learns the new epoch (its followers must fetch under it), and so does every broker.
    expect(h.channel.leaderAndIsrFor('t', 0, 2).at(-1)!.state).toMatchObject({ leader: 2, leaderEpoch: 1, isr: [2], partitionEpoch: 2 });
    expect(h.channel.leaderAndIsrFor('elsewhere', 0)).toEqual([]);
    const um = h.channel.of('updateMetadata', 4).at(-1)!.request;
    expect(um.partitionStates.find((s) => s.topic === 't' && s.partition === 0)).toMatchObject({ leaderEpoch: 1 });

    // A later event does not bump again: the failure was fenced once.
    await h.killBroker(4);
    await eventually(async () => (await h.state('elsewhere', 0))?.isr.join() === '2', 'elsewhere-0 ISR shrinks');
    await controller.whenIdle();
    expect(await h.state('t', 0)).toMatchObject({ leader_epoch: 1, version: 2 });
  });

  test('a broker outside the ISR restarts (same id, new epoch): the leader epoch moves on before it is told its replicas', async () => {
    const controller = await cluster();
    await h.leaderChangesIsr('t', 0, [2]);
    await eventually(async () => (await h.state('t', 0))?.isr.join() === '2', 't-0 ISR is [2]');
    await controller.whenIdle();
    h.channel.clear();
    const registration = (await h.admin.get('/brokers/ids/3')).data;
    await h.admin.multi([
      { type: 'delete', path: '/brokers/ids/3' },
      { type: 'create', path: '/brokers/ids/3', data: registration, mode: 'ephemeral' },
    ]);
    await eventually(async () => (await h.state('t', 0))?.leader_epoch === 1, 't-0 leader epoch bumped');
    await controller.whenIdle();
    expect(await h.state('t', 0)).toMatchObject({ leader: 2, leader_epoch: 1, isr: [2] });
    expect(h.channel.leaderAndIsrFor('t', 0, 2).at(-1)!.state).toMatchObject({ leader: 2, leaderEpoch: 1 });
    // The restarted broker is only ever told the new epoch.
    expect(h.channel.leaderAndIsrFor('t', 0, 3).map((x) => x.state.leaderEpoch)).toEqual([1]);
  });

  test('a broker whose request queue overflows gets the full current state once it answers again', async () => {
    const controller = await h.addControllerBroker(1, {}, { maxQueuedRequestsPerBroker: 2 });
    await h.addBroker(2);
    await h.addBroker(3);
    await eventually(() => controller.isActive, 'controller active');
    h.channel.failing.add(3);
    for (let i = 0; i < 4; i++) {
      const [r] = await controller.createTopics([{ name: `t${i}`, assignments: [{ partition: 0, replicas: [3, 2] }] }]);
      expect(r!.error).toBeNull();
    }
    await controller.whenIdle();
    h.channel.failing.delete(3);
    await eventually(
      () => {
        const told = new Set(h.channel.of('leaderAndIsr', 3).flatMap((r) => r.request.partitionStates.map((s) => s.topic)));
        const full = h.channel.of('updateMetadata', 3).some((u) => u.request.partitionStates.length === 4);
        return told.size === 4 && full;
      },
      'broker 3 resynced',
    );
  });

  test('requests to an unreachable broker are retried until it answers', async () => {
    const controller = await cluster();
    h.channel.failing.add(3);
    await h.killBroker(2);
    await eventually(() => h.channel.attempts.filter((a) => a.brokerId === 3 && a.kind === 'leaderAndIsr').length >= 3, 'several attempts');
    expect(h.channel.leaderAndIsrFor('t', 0, 3)).toEqual([]);
    h.channel.failing.delete(3);
    await eventually(() => h.channel.leaderAndIsrFor('t', 0, 3).length > 0, 'delivered');
    expect(h.channel.leaderAndIsrFor('t', 0, 3).at(-1)!.state).toMatchObject({ leader: 3, leaderEpoch: 1 });
    await controller.whenIdle();
  });
});
