// How long the controller takes for the work that scales with partitions, against a real
// one-member coordination service in this process (level on disk, fsync per commit), as JSON
// lines: creating a topic of N partitions (states written, LeaderAndIsr queued), a broker death
// (every affected partition re-elected or shrunk, compare-and-set, and its new state delivered),
// and a controller failover (the standby reads the cluster and resends everything).
// Workload: 4 brokers, RF 3, so 3/4 of the partitions have a replica on the broker that dies.
//
//   npx tsx --conditions=@samsa/source packages/broker/bench/controller-failover.ts [partitions...]

import { Registry } from 'prom-client';
import { seededRandom } from '@samsa/coordinator';
import { Controller } from '../src/controller/controller.js';
import { ControllerHarness, RecordingChannel, eventually, registerBroker } from '../test/controller/helpers.js';

async function run(partitions: number): Promise<void> {
  const h = await ControllerHarness.start();
  try {
    const c1 = await h.addControllerBroker(1);
    for (const id of [2, 3, 4]) await h.addBroker(id);
    await eventually(() => c1.isActive, 'controller active');
    await c1.whenIdle();

    let start = performance.now();
    const [r] = await c1.createTopics([{ name: 'bench', numPartitions: partitions, replicationFactor: 3 }]);
    if (r!.error) throw r!.error;
    await c1.whenIdle();
    console.log(JSON.stringify({ bench: 'controller.createTopic', partitions, ms: Math.round(performance.now() - start) }));

    const affected = [...r!.assignment!.values()].filter((replicas) => replicas.includes(2)).length;
    const led = [...r!.assignment!.values()].filter((replicas) => replicas[0] === 2).length;
    h.channel.clear();
    start = performance.now();
    await h.killBroker(2);
    await eventually(() => {
      const told = new Set<number>();
      for (const req of h.channel.of('leaderAndIsr')) for (const s of req.request.partitionStates) if (s.leaderEpoch >= 1) told.add(s.partition);
      return told.size === affected;
    }, 'every affected partition updated', 120_000);
    console.log(JSON.stringify({ bench: 'controller.brokerFailure', partitions, affected, leadersMoved: led, ms: Math.round(performance.now() - start) }));

    // A standby on its own session and channel, then the active controller's broker dies.
    const channel = new RecordingChannel();
    const b5 = await registerBroker(h.address, 5);
    const standby = new Controller({ client: b5.client, channel, config: { 'broker.id': 5, 'auto.leader.rebalance.enable': false }, registry: new Registry(), random: seededRandom(5) });
    await standby.start();
    start = performance.now();
    await h.killBroker(1);
    await eventually(() => standby.isActive, 'standby active', 120_000);
    await standby.whenIdle();
    await eventually(() => channel.of('updateMetadata', 3).length > 0, 'full metadata sent', 120_000);
    console.log(JSON.stringify({ bench: 'controller.failover', partitions, ms: Math.round(performance.now() - start) }));
    await standby.stop();
    await b5.close();
  } finally {
    await h.close();
  }
}

const sizes = process.argv.slice(2).map(Number).filter((n) => Number.isInteger(n) && n > 0);
for (const n of sizes.length > 0 ? sizes : [100, 1000, 5000]) await run(n);
