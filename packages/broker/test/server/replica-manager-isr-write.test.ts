// The ReplicaManager's ISR write path (THE ISR CONTRACT) against a real in-process coordination
// service, with coordinator hiccups injected deterministically: the broker's client is the real
// one behind a proxy that fails chosen calls (before or after the real call runs) or holds them
// until the test lets them go. Broker 1 leads t-0 (replicas [1, 2, 3], ISR [1, 2], leader epoch
// 0, state znode version 0); broker 3 fetching caught up makes the leader propose to add it.
import { jest } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FetchResponse } from '@samsa/client';
import { CoordinatorClient, CoordinatorError, silentLogger } from '@samsa/coordinator';
import { encodeBatch } from '@samsa/log';
import { startSingleMember } from '../../../coordinator/test/client/single-member.js';
import { decodeIsrChangeNotification, ZK } from '../../src/controller/znodes.js';
import { resolveBrokerConfig } from '../../src/server/broker-config.js';
import { LogManager } from '../../src/server/log-manager.js';
import { MetadataCache } from '../../src/server/metadata-cache.js';
import { ReplicaManager } from '../../src/server/replica-manager.js';
import { resolveTopicSettings } from '../../src/server/topic-config.js';
import { eventually } from '../controller/helpers.js';

jest.setTimeout(30_000);

const STATE = '/brokers/topics/t/partitions/0/state';

/** What an armed fault does to one call of a client method. */
type Fault =
  | { kind: 'fail-before'; code: 'TIMEOUT' | 'UNAVAILABLE' } // never reaches the coordinator
  | { kind: 'fail-after' } // runs, then the answer is lost: TIMEOUT
  | { kind: 'hold'; until: Promise<void> }; // runs once `until` resolves

type Method = 'get' | 'set' | 'create';

/** The real client; each armed fault takes one call of its method, in order. */
class FaultyClient {
  readonly faults: Record<Method, Fault[]> = { get: [], set: [], create: [] };
  readonly calls: Method[] = [];
  readonly client: CoordinatorClient;

  constructor(real: CoordinatorClient) {
    this.client = new Proxy(real, {
      get: (target, prop) => {
        const value: unknown = Reflect.get(target, prop, target);
        if (typeof value !== 'function') return value;
        const fn = (value as (...a: unknown[]) => unknown).bind(target);
        if (prop !== 'get' && prop !== 'set' && prop !== 'create') return fn;
        return async (...args: unknown[]) => {
          this.calls.push(prop);
          const fault = this.faults[prop].shift();
          if (fault?.kind === 'fail-before') throw new CoordinatorError(fault.code, { message: 'injected' });
          if (fault?.kind === 'hold') await fault.until;
          const result = await fn(...args);
          if (fault?.kind === 'fail-after') throw new CoordinatorError('TIMEOUT', { message: 'injected: applied, answer lost' });
          return result;
        };
      },
    });
  }
}

function gate(): { until: Promise<void>; open: () => void } {
  let open!: () => void;
  const until = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { until, open };
}

describe('ReplicaManager: ISR writes through coordinator hiccups', () => {
  let service: Awaited<ReturnType<typeof startSingleMember>>;
  let admin: CoordinatorClient;
  let brokerClient: CoordinatorClient;
  let zk: FaultyClient;
  let dir: string;
  let logs: LogManager;
  let rm: ReplicaManager;

  beforeAll(async () => {
    service = await startSingleMember();
    admin = await CoordinatorClient.connect({ coordinators: service.address, sessionTimeoutMs: 10_000 });
  });
  afterAll(async () => {
    await admin.close();
    await service.close();
  });

  beforeEach(async () => {
    for (const path of [ZK.isrChangeNotification, '/brokers/topics']) {
      if (await admin.exists(path)) await deleteTree(path);
    }
    await admin.ensurePath('/brokers/topics/t/partitions/0');
    await admin.create(STATE, JSON.stringify({ version: 1, leader: 1, leader_epoch: 0, isr: [1, 2], controller_epoch: 1 }));
    brokerClient = await CoordinatorClient.connect({ coordinators: service.address, sessionTimeoutMs: 10_000 });
    zk = new FaultyClient(brokerClient);
    dir = mkdtempSync(join(tmpdir(), 'samsa-isr-write-'));
    const config = resolveBrokerConfig({ 'broker.id': 1, 'log.dirs': dir, coordinators: service.address });
    logs = new LogManager({ dir, logger: silentLogger, defaultConfig: resolveTopicSettings(config, 1, {}).log });
    logs.open();
    rm = new ReplicaManager({
      brokerId: 1, config, logManager: logs, metadata: new MetadataCache(), zk: () => zk.client,
      topicSettings: async (_t, rf) => resolveTopicSettings(config, rf, {}), logger: silentLogger,
      isrWriteRetry: { minMs: 5, maxMs: 40 },
    });
    const lai = await rm.leaderAndIsr({
      controllerId: 9, controllerEpoch: 1, liveBrokers: [],
      partitionStates: [{ topic: 't', partition: 0, controllerEpoch: 1, leader: 1, leaderEpoch: 0, isr: [1, 2], partitionEpoch: 0, replicas: [1, 2, 3] }],
    });
    expect(lai.partitionErrors).toEqual([]);
  });

  afterEach(async () => {
    await rm.shutdown();
    logs.close(new Map());
    await brokerClient.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function deleteTree(path: string): Promise<void> {
    for (const child of (await admin.children(path)).children) await deleteTree(`${path}/${child}`);
    await admin.delete(path);
  }

  const replica = () => rm.get('t', 0)!.replica.state();

  async function znode(): Promise<{ version: number; isr: number[]; leader: number; leader_epoch: number }> {
    const { data, stat } = await admin.get(STATE);
    return { ...(JSON.parse(data.toString()) as { isr: number[]; leader: number; leader_epoch: number }), version: stat.version };
  }

  async function notified(): Promise<string[]> {
    if (!(await admin.exists(ZK.isrChangeNotification))) return [];
    const out: string[] = [];
    for (const name of (await admin.children(ZK.isrChangeNotification)).children) {
      const path = `${ZK.isrChangeNotification}/${name}`;
      for (const tp of decodeIsrChangeNotification(path, (await admin.get(path)).data)) out.push(`${tp.topic}-${tp.partition}`);
    }
    return out;
  }

  async function produce(count: number): Promise<void> {
    const records = encodeBatch({ records: Array.from({ length: count }, (_, i) => ({ value: Buffer.from(`r${i}`) })), timestamp: 1_000 });
    const res = await rm.produce({ acks: 1, timeoutMs: 1_000, topics: [{ topic: 't', partitions: [{ partition: 0, records }] }] });
    expect(res.topics[0]!.partitions[0]!.error).toBeNull();
  }

  function followerFetch(replicaId: number, fetchOffset: number): Promise<FetchResponse> {
    return rm.fetch({
      replicaId, replicaEpoch: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20,
      topics: [{ topic: 't', partitions: [{ partition: 0, fetchOffset, partitionMaxBytes: 1 << 20, currentLeaderEpoch: 0, logStartOffset: 0, lastFetchedEpoch: -1 }] }],
    });
  }

  const settled = () => eventually(() => rm.isrWriteBacklog().writing === 0, 'the ISR write settled');

  test('the CAS applied but its answer was lost, and the first re-read failed too: reported committed (was: rejected, the ISR dropped broker 3 while the znode had it)', async () => {
    zk.faults.set.push({ kind: 'fail-after' });
    zk.faults.get.push({ kind: 'fail-before', code: 'UNAVAILABLE' });
    await followerFetch(3, 0);
    expect(replica().pendingIsrChange).toMatchObject({ kind: 'expand', isr: [1, 2, 3], expectedPartitionEpoch: 0 });
    expect(replica().maximalIsr).toEqual([1, 2, 3]);
    await settled();
    expect(replica()).toMatchObject({ isr: [1, 2, 3], partitionEpoch: 1, pendingIsrChange: null });
    expect(await znode()).toMatchObject({ version: 1, isr: [1, 2, 3] });
    expect(zk.calls.filter((c) => c === 'set')).toHaveLength(1);
    await eventually(async () => (await notified()).includes('t-0'), 'the controller notified');
  });

  test('the CAS timed out before reaching the coordinator: the re-read finds the expected version, the same change is written again and commits', async () => {
    zk.faults.set.push({ kind: 'fail-before', code: 'TIMEOUT' });
    await followerFetch(3, 0);
    await settled();
    expect(replica()).toMatchObject({ isr: [1, 2, 3], partitionEpoch: 1, pendingIsrChange: null });
    expect(await znode()).toMatchObject({ version: 1, isr: [1, 2, 3] });
    expect(zk.calls.filter((c) => c === 'set')).toHaveLength(2);
  });

  test('the notification fails after a committed CAS: the change stays committed, the notification is retried', async () => {
    zk.faults.create.push({ kind: 'fail-before', code: 'UNAVAILABLE' }, { kind: 'fail-after' });
    await followerFetch(3, 0);
    await settled();
    expect(replica()).toMatchObject({ isr: [1, 2, 3], partitionEpoch: 1, pendingIsrChange: null });
    await eventually(async () => rm.isrWriteBacklog().notifications === 0 && (await notified()).includes('t-0'), 'notified after retries');
    expect(zk.faults.create).toEqual([]); // both failures were met: three attempts
    expect(zk.calls.filter((c) => c === 'create')).toHaveLength(3);
  });

  test('unknown outcome, then the controller wrote a new leadership past our version: the change stays pending and the HW keeps counting broker 3 until LeaderAndIsr', async () => {
    await produce(5);
    await followerFetch(2, 5);
    expect(replica().highWatermark).toBe(5);
    const held = gate();
    zk.faults.set.push({ kind: 'fail-after' }); // our expansion lands as version 1
    zk.faults.get.push({ kind: 'hold', until: held.until });
    await followerFetch(3, 5);
    await eventually(() => zk.calls.includes('get'), 'the re-read started');
    // Meanwhile broker 1 seems dead to the controller: it elects broker 3 (in the ISR at version 1).
    await admin.set(STATE, JSON.stringify({ version: 1, leader: 3, leader_epoch: 1, isr: [3, 2], controller_epoch: 1 }), 1);
    held.open();
    await settled();
    // Records 5..9 reach broker 2 but not broker 3: with broker 3 dropped they would count as committed.
    await produce(5);
    await followerFetch(2, 10);
    expect(replica()).toMatchObject({ isr: [1, 2], maximalIsr: [1, 2, 3], highWatermark: 5, pendingIsrChange: { isr: [1, 2, 3] } });
    // The controller's LeaderAndIsr settles it.
    const lai = await rm.leaderAndIsr({
      controllerId: 9, controllerEpoch: 1, liveBrokers: [],
      partitionStates: [{ topic: 't', partition: 0, controllerEpoch: 1, leader: 3, leaderEpoch: 1, isr: [3, 2], partitionEpoch: 2, replicas: [1, 2, 3] }],
    });
    expect(lai.partitionErrors).toEqual([]);
    expect(replica()).toMatchObject({ role: 'follower', leaderEpoch: 1, pendingIsrChange: null });
  });

  test('unknown outcome, and the znode moved on under our own leadership: the znode state is adopted and ISR changes go on', async () => {
    const held = gate();
    zk.faults.set.push({ kind: 'fail-before', code: 'TIMEOUT' });
    zk.faults.get.push({ kind: 'hold', until: held.until });
    await followerFetch(3, 0);
    await eventually(() => zk.calls.includes('get'), 'the re-read started');
    await admin.set(STATE, JSON.stringify({ version: 1, leader: 1, leader_epoch: 0, isr: [1], controller_epoch: 1 }), 0);
    held.open();
    await settled();
    expect(replica()).toMatchObject({ isr: [1], partitionEpoch: 1, pendingIsrChange: null });
    // Not blocked: the next fetch of broker 3 proposes again, against version 1, and commits.
    await followerFetch(3, 0);
    await settled();
    expect(replica()).toMatchObject({ isr: [1, 3], partitionEpoch: 2, pendingIsrChange: null });
    expect(await znode()).toMatchObject({ version: 2, isr: [1, 3] });
  });

  test('a BAD_VERSION (someone else wrote under a new leader epoch) is a certain rejection', async () => {
    await admin.set(STATE, JSON.stringify({ version: 1, leader: 1, leader_epoch: 1, isr: [1, 2], controller_epoch: 1 }), 0);
    await followerFetch(3, 0);
    await settled();
    expect(replica()).toMatchObject({ isr: [1, 2], maximalIsr: [1, 2], partitionEpoch: 0, pendingIsrChange: null });
    expect(zk.calls.filter((c) => c === 'set')).toHaveLength(1);
  });

  test('shutdown ends the retries of a write whose outcome stays unknown', async () => {
    zk.faults.set.push({ kind: 'fail-before', code: 'TIMEOUT' });
    for (let i = 0; i < 1_000; i++) zk.faults.get.push({ kind: 'fail-before', code: 'UNAVAILABLE' });
    await followerFetch(3, 0);
    await eventually(() => zk.calls.filter((c) => c === 'get').length >= 3, 'several re-reads');
    expect(replica().pendingIsrChange).not.toBeNull();
    await rm.shutdown();
    expect(rm.isrWriteBacklog().writing).toBe(0);
  });
});
