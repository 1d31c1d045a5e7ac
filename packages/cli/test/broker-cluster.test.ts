// Brokers as real OS processes: 3 coordinators and 3 brokers on loopback, killed with SIGKILL
// and stopped with SIGTERM while an idempotent acks=all producer writes.
import { jest } from '@jest/globals';
import { BrokerRpc, KafkaError, Producer, kafkaErrorFromWire } from '@samsa/client';
import { encodeBatch } from '@samsa/log';
import { LocalCluster, waitFor } from '../src/cluster/local-cluster.js';
import { createTopic, metadata, partitionState, readPartition } from './helpers/broker-ops.js';

jest.setTimeout(180_000);

/** Sends values one after another, keeping `inFlight` sends open; records what was acknowledged. */
class ProducerLoad {
  readonly acked: string[] = [];
  readonly failed: { value: string; error: unknown }[] = [];
  private stopped = false;
  private next = 0;
  private readonly done: Promise<void>;

  constructor(private readonly producer: Producer, private readonly topic: string, inFlight = 8) {
    this.done = Promise.all(Array.from({ length: inFlight }, () => this.worker())).then(() => undefined);
  }

  private async worker(): Promise<void> {
    while (!this.stopped) {
      const value = `v${this.next++}`;
      try {
        await this.producer.send({ topic: this.topic, partition: 0, value: Buffer.from(value) });
        this.acked.push(value);
      } catch (error) {
        this.failed.push({ value, error });
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

describe('brokers (3 coordinators, 3 brokers as processes)', () => {
  let cluster: LocalCluster;
  const producers: Producer[] = [];

  beforeAll(async () => {
    cluster = await LocalCluster.start({ coordinators: 3, brokers: 3, brokerArgs: ['--auto.leader.rebalance.enable', 'false'] });
  }, 120_000);

  afterAll(async () => {
    for (const p of producers) await p.close({ timeoutMs: 1_000 }).catch(() => {});
    await cluster?.destroy();
  }, 60_000);

  const producer = (): Producer => {
    const p = new Producer({ 'bootstrap.servers': cluster.brokerAddresses.join(','), 'delivery.timeout.ms': 60_000, 'request.timeout.ms': 5_000 });
    producers.push(p);
    return p;
  };

  async function waitForIsr(topic: string, size: number): Promise<void> {
    expect(await waitFor(async () => (await partitionState(cluster.brokerAddresses, topic, 0).catch(() => undefined))?.isr.length === size, 60_000, 200)).toBe(true);
  }

  test('RF 3, min ISR 2, kill -9 the leader under acks=all: a new leader takes over, every acknowledged record is read back exactly once in order, the old leader rejoins the ISR', async () => {
    await createTopic(cluster.brokerAddresses, 'failover', 1, 3);
    const before = (await partitionState(cluster.brokerAddresses, 'failover', 0))!;
    expect(before.isr).toHaveLength(3);
    const load = new ProducerLoad(producer(), 'failover');
    await waitFor(() => load.acked.length >= 200, 60_000);
    await cluster.kill(`broker-${before.leader}`);
    const ackedAtKill = load.acked.length;
    await waitFor(() => load.acked.length >= ackedAtKill + 300, 90_000);
    await load.stop();
    expect(load.failed).toEqual([]);

    const after = (await partitionState(cluster.brokerAddresses, 'failover', 0))!;
    expect(after.leader).not.toBe(before.leader);
    expect(after.leaderEpoch).toBeGreaterThan(before.leaderEpoch);

    const records = await readPartition(cluster.brokerAddresses, 'failover', 0);
    const values = records.map((r) => r.value);
    expect(new Set(values).size).toBe(values.length); // nothing twice
    const position = new Map(values.map((v, i) => [v, i]));
    for (const v of load.acked) expect(position.has(v)).toBe(true); // nothing acknowledged lost
    const ackedOrder = [...load.acked].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
    const positions = ackedOrder.map((v) => position.get(v)!);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions); // in send order

    await cluster.restart(`broker-${before.leader}`);
    await waitForIsr('failover', 3);
  });

  test('kill -9 the controller: another broker becomes controller', async () => {
    const md = await metadata(cluster.brokerAddresses);
    const controller = md.controllerId;
    expect(controller).toBeGreaterThan(0);
    await cluster.kill(`broker-${controller}`);
    const others = cluster.brokerAddresses.filter((a) => a !== cluster.brokerAddress(controller));
    expect(await waitFor(async () => {
      const m = await metadata(others).catch(() => null);
      return m !== null && m.controllerId > 0 && m.controllerId !== controller;
    }, 30_000, 200)).toBe(true);
    await cluster.restart(`broker-${controller}`);
  });

  test('two brokers down: acks=all is refused with NOT_ENOUGH_REPLICAS, and accepted again when one returns', async () => {
    await createTopic(cluster.brokerAddresses, 'minisr', 1, 3);
    await waitForIsr('minisr', 3);
    const state = (await partitionState(cluster.brokerAddresses, 'minisr', 0))!;
    const followers = state.replicas.filter((r) => r !== state.leader);
    for (const f of followers) await cluster.kill(`broker-${f}`);
    await waitForIsr('minisr', 1);
    const rpc = new BrokerRpc(cluster.brokerAddress(state.leader));
    const produce = async (acks: number) => {
      const res = await rpc.produce(
        { acks, timeoutMs: 5_000, topics: [{ topic: 'minisr', partitions: [{ partition: 0, records: encodeBatch({ timestamp: Date.now(), records: [{ value: Buffer.from('x') }] }) }] }] },
        { timeoutMs: 10_000 },
      );
      return kafkaErrorFromWire(res.topics[0]!.partitions[0]!.error);
    };
    try {
      const refused = await produce(-1);
      expect(refused).toBeInstanceOf(KafkaError);
      expect(refused!.type).toBe('NOT_ENOUGH_REPLICAS');
      expect(await produce(1)).toBeNull(); // acks=1 still works: the leader alone decides
      await cluster.restart(`broker-${followers[0]}`);
      await waitForIsr('minisr', 2);
      expect(await produce(-1)).toBeNull();
    } finally {
      rpc.close();
    }
    await cluster.restart(`broker-${followers[1]}`);
    await waitForIsr('minisr', 3);
  });

  test('rolling restart of every broker with SIGTERM: no acknowledged record lost, no error seen by the producer', async () => {
    await createTopic(cluster.brokerAddresses, 'rolling', 1, 3);
    await waitForIsr('rolling', 3);
    const load = new ProducerLoad(producer(), 'rolling');
    await waitFor(() => load.acked.length >= 100, 60_000);
    for (const id of [1, 2, 3]) {
      const before = load.acked.length;
      await cluster.stop(`broker-${id}`);
      await cluster.restart(`broker-${id}`);
      await waitForIsr('rolling', 3);
      await waitFor(() => load.acked.length >= before + 50, 60_000);
    }
    await load.stop();
    expect(load.failed).toEqual([]);
    const values = (await readPartition(cluster.brokerAddresses, 'rolling', 0)).map((r) => r.value);
    expect(new Set(values).size).toBe(values.length);
    const present = new Set(values);
    for (const v of load.acked) expect(present.has(v)).toBe(true);
  });

  test('kill -9 the coordinator leader: brokers keep serving produce and fetch', async () => {
    await createTopic(cluster.brokerAddresses, 'coordfail', 1, 3);
    await waitForIsr('coordfail', 3);
    const leader = await cluster.waitForCoordinatorLeader([1, 2, 3]);
    await cluster.kill(`coordinator-${leader}`);
    const p = producer();
    for (let i = 0; i < 20; i++) await p.send({ topic: 'coordfail', partition: 0, value: Buffer.from(`c${i}`) });
    const values = (await readPartition(cluster.brokerAddresses, 'coordfail', 0)).map((r) => r.value);
    expect(values).toEqual(Array.from({ length: 20 }, (_, i) => `c${i}`));
    await cluster.restart(`coordinator-${leader}`);
  });
});
