// `samsa cluster status` once brokers run (1 coordinator, 3 brokers as processes): the --json
// contract {"controller","brokers":[{"id","alive","address"}],"coordinators":[…],
// "partitions":[{"topic","partition","leader","leaderEpoch","replicas","isr"}]}, and what it
// shows after `samsa cluster kill broker-N` of a partition leader and of the controller.
import { jest } from '@jest/globals';
import { LocalCluster, waitFor } from '../src/cluster/local-cluster.js';
import type { CliRun } from './run-cli.js';
import { runCliAsync } from './helpers/run-cli-async.js';

jest.setTimeout(60_000);

interface PartitionStatus {
  topic: string;
  partition: number;
  leader: number | null;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
}

interface StatusJson {
  controller: number | null;
  brokers: { id: number; alive: boolean; address: string }[];
  coordinators: { id: number; alive: boolean; role: string; address: string }[];
  partitions: PartitionStatus[];
}

describe('samsa cluster status with brokers (1 coordinator, 3 brokers)', () => {
  let cluster: LocalCluster;

  beforeAll(async () => {
    cluster = await LocalCluster.start({ coordinators: 1, brokers: 3, brokerArgs: ['--auto.leader.rebalance.enable', 'false'] });
  }, 60_000);

  afterAll(async () => {
    await cluster?.destroy();
  }, 30_000);

  const samsa = async (...args: string[]): Promise<CliRun> => runCliAsync([...args, '--data-dir', cluster.dataDir]);
  const ok = async (...args: string[]): Promise<string> => {
    const r = await samsa(...args);
    if (r.status !== 0) throw new Error(`samsa ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    return r.stdout;
  };
  const status = async (): Promise<StatusJson> => JSON.parse(await ok('cluster', 'status', '--json')) as StatusJson;

  /** Polls `samsa cluster status --json` until `condition` holds; fails with the last status seen. */
  async function statusUntil(what: string, condition: (s: StatusJson) => boolean, timeoutMs = 30_000): Promise<StatusJson> {
    let last: StatusJson | undefined;
    const reached = await waitFor(async () => {
      last = await status();
      return condition(last);
    }, timeoutMs, 100);
    if (!reached) throw new Error(`${what} not seen within ${timeoutMs} ms; last status: ${JSON.stringify(last)}`);
    return last!;
  }

  const partitionsOf = (s: StatusJson, topic: string): PartitionStatus[] => s.partitions.filter((p) => p.topic === topic);
  const fullyInSync = (topic: string) => (s: StatusJson) => {
    const ps = partitionsOf(s, topic);
    return ps.length === 3 && ps.every((p) => p.leader !== null && p.isr.length === 3);
  };

  test('--json has the contract shape: every broker alive with its address, a controller among them, each partition with leader, leaderEpoch, replicas and isr', async () => {
    await ok('topics', 'create', 'replicated', '--partitions', '3', '--replication-factor', '3');
    const s = await statusUntil('3 partitions fully in sync', fullyInSync('replicated'));

    expect(Object.keys(s).sort()).toEqual(['brokers', 'controller', 'coordinators', 'partitions']);
    expect(s.brokers).toEqual([1, 2, 3].map((id) => ({ id, alive: true, address: cluster.brokerAddress(id) })));
    expect([1, 2, 3]).toContain(s.controller);
    expect(s.coordinators).toEqual([expect.objectContaining({ id: 1, alive: true, role: 'leader', address: cluster.coordinatorAddress(1) })]);

    const ps = partitionsOf(s, 'replicated');
    expect(ps.map((p) => p.partition)).toEqual([0, 1, 2]);
    for (const p of ps) {
      expect(Object.keys(p).sort()).toEqual(['isr', 'leader', 'leaderEpoch', 'partition', 'replicas', 'topic']);
      expect([...p.replicas].sort()).toEqual([1, 2, 3]);
      expect([...p.isr].sort()).toEqual([1, 2, 3]);
      expect(p.leader).toBe(p.replicas[0]); // a new topic's leader is its preferred replica
      expect(p.leaderEpoch).toBe(0);
    }
    // Leadership is spread: each broker leads one of the three partitions.
    expect(ps.map((p) => p.leader).sort()).toEqual([1, 2, 3]);

    const text = await ok('cluster', 'status');
    expect(text).toContain(`controller: ${s.controller}`);
    for (const id of [1, 2, 3]) expect(text).toContain(`broker-${id}  alive  ${cluster.brokerAddress(id)}`);
    for (const p of ps) expect(text).toContain(`replicated-${p.partition}  leader ${p.leader}  epoch 0  replicas [${p.replicas.join(',')}]  isr [${p.isr.join(',')}]`);
  });

  test('kill -9 of a partition leader (not the controller): status shows it dead, its partition led by another ISR member at a higher epoch, the ISR without it; acks=all still works; start brings it back into every ISR', async () => {
    const before = await status();
    const victimPartition = partitionsOf(before, 'replicated').find((p) => p.leader !== before.controller)!;
    const victim = victimPartition.leader!;

    const killed = await ok('cluster', 'kill', `broker-${victim}`);
    expect(killed).toBe(`killed broker-${victim}\n`);
    const after = await statusUntil(`a new leader for replicated-${victimPartition.partition}`, (s) => {
      const p = partitionsOf(s, 'replicated').find((x) => x.partition === victimPartition.partition);
      return p !== undefined && p.leader !== null && p.leader !== victim;
    });
    expect(after.brokers.find((b) => b.id === victim)!.alive).toBe(false);
    expect(after.controller).toBe(before.controller);
    const moved = partitionsOf(after, 'replicated').find((p) => p.partition === victimPartition.partition)!;
    expect(victimPartition.isr).toContain(moved.leader);
    expect(moved.leaderEpoch).toBeGreaterThan(victimPartition.leaderEpoch);
    expect(moved.replicas).toEqual(victimPartition.replicas); // the assignment stays; only leadership and ISR change
    for (const p of partitionsOf(after, 'replicated')) expect(p.isr).not.toContain(victim);

    const underReplicated = await ok('topics', 'describe', 'replicated', '--under-replicated-partitions');
    expect(underReplicated.split('\n').filter((l) => l.includes('UnderReplicated'))).toHaveLength(3);

    // Two of three in sync meets min.insync.replicas=2: acks=all writes go through.
    const produced = await runCliAsync(['produce', 'replicated', '--acks', 'all', '--partition', String(victimPartition.partition), '--data-dir', cluster.dataDir], { input: 'while-down\n' });
    expect(produced.status).toBe(0);
    expect(await ok('consume', 'replicated', '--partition', String(victimPartition.partition), '--from-beginning', '--max-messages', '1')).toBe('while-down\n');

    expect(await ok('cluster', 'start', `broker-${victim}`)).toContain(`broker-${victim}`);
    const healed = await statusUntil('every ISR whole again', fullyInSync('replicated'));
    expect(healed.brokers.every((b) => b.alive)).toBe(true);
  });

  test('kill -9 of the controller: status shows another live broker as controller, and no partition left without a leader', async () => {
    const before = await statusUntil('every ISR whole', fullyInSync('replicated'));
    const controller = before.controller!;
    await ok('cluster', 'kill', `broker-${controller}`);
    const after = await statusUntil('a new controller with every partition led', (s) =>
      s.controller !== null && s.controller !== controller && partitionsOf(s, 'replicated').every((p) => p.leader !== null && p.leader !== controller),
    );
    expect(after.brokers.find((b) => b.id === controller)!.alive).toBe(false);
    expect(after.brokers.find((b) => b.id === after.controller)!.alive).toBe(true);
    for (const p of partitionsOf(after, 'replicated')) {
      const was = partitionsOf(before, 'replicated').find((x) => x.partition === p.partition)!;
      if (was.leader === controller) expect(p.leaderEpoch).toBeGreaterThan(was.leaderEpoch);
      else expect(p.leader).toBe(was.leader);
    }
    await ok('cluster', 'start', `broker-${controller}`);
    await statusUntil('every ISR whole again', fullyInSync('replicated'));
  });
});
