// Controlled shutdown and preferred leader election (on demand and automatic), handled by the
// active controller against a real in-process coordination service.
import { jest } from '@jest/globals';
import { ControllerHarness, eventually } from './helpers.js';

// Real coordinator round trips: generous per-test time on a loaded 2-core CI machine (conditions have their own deadlines).
jest.setTimeout(30_000);

describe('controller: moving leadership', () => {
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
    return controller;
  }

  test('controlled shutdown: leadership moves to another ISR member, the broker leaves the ISRs, StopReplica for what it follows', async () => {
    const controller = await cluster();
    const results = await controller.createTopics([
      {
        name: 't',
        assignments: [
          { partition: 0, replicas: [2, 3] }, // led by 2: moves to 3
          { partition: 1, replicas: [3, 2] }, // followed by 2: 2 leaves the ISR
        ],
      },
      { name: 'single', assignments: [{ partition: 0, replicas: [2] }] }, // RF 1: nothing to do, not reported
    ]);
    expect(results.map((r) => r.error)).toEqual([null, null]);
    await controller.whenIdle();
    h.channel.clear();

    const remaining = await controller.controlledShutdown(2);
    expect(remaining).toEqual([]);
    expect(await h.state('t', 0)).toMatchObject({ leader: 3, leader_epoch: 1, isr: [3] });
    expect(await h.state('t', 1)).toMatchObject({ leader: 3, leader_epoch: 1, isr: [3] });
    expect(await h.state('single', 0)).toMatchObject({ leader: 2, leader_epoch: 0 });
    await controller.whenIdle();
    // The shutting-down broker hears it is a follower now, then is told to stop following t-1.
    const toTwo = h.channel.delivered.filter((r) => r.brokerId === 2).map((r) => r.kind);
    expect(toTwo.indexOf('leaderAndIsr')).toBeLessThan(toTwo.lastIndexOf('stopReplica'));
    const stop = h.channel.of('stopReplica', 2);
    expect(stop.map((s) => [s.request.deletePartitions, s.request.partitions])).toEqual([[false, [{ topic: 't', partition: 1 }]]]);
    expect(h.channel.leaderAndIsrFor('t', 0, 3).at(-1)!.state).toMatchObject({ leader: 3, leaderEpoch: 1 });

    // While it shuts down it is not elected, even where it is the only other ISR member.
    await h.leaderChangesIsr('t', 0, [3, 2]);
    await eventually(async () => (await h.state('t', 0))?.isr.length === 2, 'ISR widened');
    await controller.whenIdle();
    await h.killBroker(3);
    await eventually(async () => (await h.state('t', 0))?.leader === -1, 't-0 has no leader');
  });

  test('controlled shutdown reports the partitions it could not move; unknown brokers and non-controllers are refused', async () => {
    const controller = await cluster();
    await controller.createTopics([{ name: 't', assignments: [{ partition: 0, replicas: [2, 3] }] }]);
    await h.killBroker(3);
    await eventually(async () => (await h.state('t', 0))?.isr.join() === '2', 'ISR is [2]');
    expect(await controller.controlledShutdown(2)).toEqual([{ topic: 't', partition: 0 }]);
    expect(await h.state('t', 0)).toMatchObject({ leader: 2, isr: [2] });
    await expect(controller.controlledShutdown(7)).rejects.toMatchObject({ type: 'BROKER_NOT_AVAILABLE' });

    const standby = await h.addControllerBroker(4);
    await expect(standby.controlledShutdown(2)).rejects.toMatchObject({ type: 'NOT_CONTROLLER' });
    expect((await standby.createTopics([{ name: 'x' }]))[0]!.error?.type).toBe('NOT_CONTROLLER');
    expect((await standby.deleteTopics(['t']))[0]!.error?.type).toBe('NOT_CONTROLLER');
  });

  test('preferred leader election on demand restores the preferred leader after a broker returns and rejoins the ISR', async () => {
    const controller = await cluster();
    await controller.createTopics([
      {
        name: 't',
        assignments: [
          { partition: 0, replicas: [2, 3] },
          { partition: 1, replicas: [3, 2] },
        ],
      },
    ]);
    await h.killBroker(2);
    await eventually(async () => (await h.state('t', 0))?.leader === 3, 'broker 3 took over t-0');
    await h.addBroker(2);
    await controller.whenIdle();

    // Back, but not yet in the ISR: the preferred replica cannot lead yet.
    let results = await controller.electPreferredLeaders([
      { topic: 't', partition: 0 },
      { topic: 't', partition: 1 },
      { topic: 'nope', partition: 0 },
    ]);
    expect(results.map((r) => [r.topic, r.partition, r.error?.type ?? null])).toEqual([
      ['nope', 0, 'UNKNOWN_TOPIC_OR_PARTITION'],
      ['t', 0, 'PREFERRED_LEADER_NOT_AVAILABLE'],
      ['t', 1, 'ELECTION_NOT_NEEDED'],
    ]);

    await h.leaderChangesIsr('t', 0, [3, 2]); // the leader lets broker 2 back in
    h.channel.clear();
    results = await controller.electPreferredLeaders();
    expect(results.map((r) => [r.topic, r.partition, r.error?.type ?? null])).toEqual([
      ['t', 0, null],
      ['t', 1, 'ELECTION_NOT_NEEDED'],
    ]);
    const st = await h.state('t', 0);
    expect(st).toMatchObject({ leader: 2, isr: [3, 2] });
    await controller.whenIdle();
    expect(h.channel.leaderAndIsrFor('t', 0, 2).at(-1)!.state).toMatchObject({ leader: 2, leaderEpoch: st!.leader_epoch });
    expect(await h.registries.get(1)!.metrics()).toMatch(/^samsa_controller_preferred_replica_imbalance 0$/m);
  });

  test('auto leader rebalance: once the preferred replica is back in the ISR, the periodic check hands leadership back', async () => {
    const controller = await cluster({ 'auto.leader.rebalance.enable': true, 'leader.imbalance.check.interval.ms': 100 });
    await controller.createTopics([{ name: 't', assignments: [{ partition: 0, replicas: [2, 3] }] }]);
    await h.killBroker(2);
    await eventually(async () => (await h.state('t', 0))?.leader === 3, 'broker 3 took over');
    await controller.whenIdle();
    expect(await h.registries.get(1)!.metrics()).toMatch(/^samsa_controller_preferred_replica_imbalance 1$/m);
    await h.addBroker(2);
    await h.leaderChangesIsr('t', 0, [3, 2]);
    await eventually(async () => (await h.state('t', 0))?.leader === 2, 'preferred leader 2 restored');
    await controller.whenIdle();
    expect(await h.registries.get(1)!.metrics()).toMatch(/^samsa_controller_preferred_replica_imbalance 0$/m);
    expect(await h.registries.get(1)!.metrics()).toMatch(/^samsa_controller_events_total\{event="AutoLeaderRebalance"\} [1-9]\d*$/m);
  });
});
