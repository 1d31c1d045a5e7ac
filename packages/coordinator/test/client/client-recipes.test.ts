// The client library and its recipes against a real one-member service in this process.
import { CoordinatorClient, type ZnodeEvent } from '../../src/client/coordinator-client.js';
import { ConfigWatcher } from '../../src/client/recipes/config-watcher.js';
import { GroupMembership, type Member } from '../../src/client/recipes/group-membership.js';
import { LeaderElection } from '../../src/client/recipes/leader-election.js';
import { ensembleHealth } from '../../src/client/recipes/ensemble-health.js';
import { CoordinatorError } from '../../src/tree/errors.js';
import { startSingleMember } from './single-member.js';

async function eventually(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('CoordinatorClient and recipes', () => {
  let service: Awaited<ReturnType<typeof startSingleMember>>;
  const clients: CoordinatorClient[] = [];
  const connect = async (sessionTimeoutMs = 10_000): Promise<CoordinatorClient> => {
    const c = await CoordinatorClient.connect({ coordinators: service.address, sessionTimeoutMs });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    service = await startSingleMember();
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    await service.close();
  });

  test('znode operations return stats and typed errors', async () => {
    const c = await connect();
    const created = await c.create('/ops', 'one');
    expect(created.path).toBe('/ops');
    expect(created.stat.version).toBe(0);
    expect((await c.get('/ops')).data.toString()).toBe('one');
    const stat = await c.set('/ops', 'two', 0);
    expect(stat.version).toBe(1);
    await expect(c.set('/ops', 'three', 0)).rejects.toMatchObject({ code: 'BAD_VERSION' });
    await expect(c.get('/missing')).rejects.toMatchObject({ code: 'NO_NODE' });
    await expect(c.create('bad path')).rejects.toMatchObject({ code: 'INVALID_PATH' });
    await expect(c.create('/ops')).rejects.toMatchObject({ code: 'NODE_EXISTS' });
    const seq = await c.create('/ops/item-', '', { mode: 'persistent_sequential' });
    expect(seq.path).toBe('/ops/item-0000000000');
    expect((await c.children('/ops')).children).toEqual(['item-0000000000']);
    await expect(c.delete('/ops')).rejects.toMatchObject({ code: 'NOT_EMPTY' });
    expect(await c.exists('/nope')).toBeNull();
  });

  test('multi is all or nothing and names the failing op', async () => {
    const c = await connect();
    await c.create('/multi');
    const err = await c
      .multi([
        { type: 'create', path: '/multi/a' },
        { type: 'check', path: '/multi', version: 7 },
      ])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CoordinatorError);
    expect((err as CoordinatorError).code).toBe('BAD_VERSION');
    expect((err as CoordinatorError).details.failedOpIndex).toBe(1);
    expect(await c.exists('/multi/a')).toBeNull();
    const results = await c.multi([
      { type: 'create', path: '/multi/a', data: 'x' },
      { type: 'setData', path: '/multi', data: 'y', version: 0 },
    ]);
    expect(results.map((r) => r.path)).toEqual(['/multi/a', '/multi']);
  });

  test('one-shot and persistent recursive watches deliver events in commit order', async () => {
    const c = await connect();
    await c.create('/w');
    const oneShot: ZnodeEvent[] = [];
    const recursive: ZnodeEvent[] = [];
    const a = c.watch('/w', { kind: 'data' }, (e) => oneShot.push(e as ZnodeEvent));
    const b = c.watch('/w', { persistent: true, recursive: true }, (e) => recursive.push(e as ZnodeEvent));
    await Promise.all([a.ready, b.ready]);
    await c.set('/w', '1');
    await c.set('/w', '2');
    await c.create('/w/child', 'c');
    await c.delete('/w/child');
    await eventually(() => recursive.length >= 4);
    expect(oneShot.map((e) => e.type)).toEqual(['dataChanged']);
    expect(recursive.map((e) => `${e.type} ${e.path}`)).toEqual(['dataChanged /w', 'dataChanged /w', 'created /w/child', 'deleted /w/child']);
    const indexes = recursive.map((e) => e.index);
    expect([...indexes].sort((x, y) => x - y)).toEqual(indexes);
  });

  test('close() ends the session and its ephemerals at once', async () => {
    const a = await connect();
    const b = await connect();
    await a.create('/eph', 'x', { mode: 'ephemeral' });
    expect((await b.exists('/eph'))?.ephemeralOwner).toBe(a.sessionId);
    await a.close();
    expect(await b.exists('/eph')).toBeNull();
    await expect(a.get('/')).rejects.toMatchObject({ code: 'SESSION_EXPIRED' });
  });

  test('leader election: one leader at a time, epochs increase, the next takes over', async () => {
    const c1 = await connect();
    const c2 = await connect();
    const e1 = new LeaderElection(c1, { path: '/controller', epochPath: '/controller_epoch', candidateId: 1 });
    const e2 = new LeaderElection(c2, { path: '/controller', epochPath: '/controller_epoch', candidateId: 2 });
    await e1.start();
    await e2.start();
    expect(e1.isLeader).toBe(true);
    expect(e2.isLeader).toBe(false);
    const firstEpoch = e1.epoch;
    const elected = new Promise<number>((resolve) => e2.once('elected', resolve));
    await e1.stop();
    const epoch2 = await elected;
    expect(epoch2).toBe(firstEpoch + 1);
    expect(await e2.currentLeader()).toEqual({ id: 2, epoch: epoch2 });
    await e2.stop();
  });

  test('group membership: joins and departures reach observers; a live id cannot join twice', async () => {
    const observer = await connect();
    const group = new GroupMembership(observer, '/brokers/ids');
    const seen: string[][] = [];
    group.on('members', (m: Member[]) => seen.push(m.map((x) => x.id)));
    await group.observe();
    const b1 = await connect();
    const m1 = new GroupMembership(b1, '/brokers/ids');
    await m1.join('1', '{"host":"a"}');
    const dup = new GroupMembership(await connect(), '/brokers/ids');
    await expect(dup.join('1', 'x')).rejects.toMatchObject({ code: 'NODE_EXISTS' });
    await eventually(() => seen.some((s) => s.includes('1')));
    await b1.close();
    await eventually(() => seen.length > 0 && seen[seen.length - 1]!.length === 0);
    group.stop();
    m1.stop();
    dup.stop();
  });

  test('config watcher follows creation, change and deletion', async () => {
    const c = await connect();
    const watcher = new ConfigWatcher(c, '/config/topics/t');
    const changes: (string | null)[] = [];
    watcher.on('change', (v: Buffer | null) => changes.push(v ? v.toString() : null));
    expect(await watcher.start()).toBeNull();
    await c.ensurePath('/config/topics/t', 'retention.ms=1');
    await eventually(() => changes.length === 1);
    await c.set('/config/topics/t', 'retention.ms=2');
    await eventually(() => changes.length === 2);
    await c.delete('/config/topics/t');
    await eventually(() => changes.length === 3);
    expect(changes).toEqual(['retention.ms=1', 'retention.ms=2', null]);
    watcher.stop();
  });

  test('ensemble health reports the member and an unreachable address', async () => {
    const h = await ensembleHealth([service.address, '127.0.0.1:1'], 500);
    expect(h.members[0]).toMatchObject({ id: 1, role: 'leader' });
    expect(h.members[1]).toMatchObject({ role: 'unreachable', id: null });
    expect(h.leaderId).toBe(1);
    // One of two listed members is not a majority.
    expect(h.healthy).toBe(false);
    expect((await ensembleHealth([service.address], 500)).healthy).toBe(true);
  });
});
