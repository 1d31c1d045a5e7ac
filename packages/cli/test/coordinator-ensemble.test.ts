// The coordination service as real OS processes: a 3-member ensemble on loopback, members
// killed with SIGKILL, clients as in-process and separate processes.
import { spawn } from 'node:child_process';
import { jest } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { CoordinatorClient, CoordinatorError } from '@samsa/coordinator';
import { LocalCluster, waitFor, withDeadline } from '../src/cluster/local-cluster.js';

// Process tests wait on elections and session timeouts; conditions with deadlines bound them.
jest.setTimeout(120_000);

describe('coordinator ensemble (3 processes)', () => {
  let cluster: LocalCluster;
  const clients: CoordinatorClient[] = [];

  beforeAll(async () => {
    cluster = await LocalCluster.start({ coordinators: 3, coordinatorArgs: ['--snapshot-entries', '200'] });
  }, 90_000);

  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => {});
    await cluster?.destroy();
  }, 60_000);

  async function client(addresses = cluster.coordinatorAddresses, sessionTimeoutMs = 6_000): Promise<CoordinatorClient> {
    const c = await CoordinatorClient.connect({ coordinators: addresses, sessionTimeoutMs, requestTimeoutMs: 15_000 });
    clients.push(c);
    return c;
  }

  test('kill -9 the leader while clients write: a new leader takes over, no acknowledged write is lost, none is applied twice', async () => {
    const leader = await cluster.waitForCoordinatorLeader([1, 2, 3]);
    const writer = await client();
    await writer.create('/seq');
    await writer.create('/counter', '0');
    const acked: string[] = [];
    const unknown: string[] = [];
    let casAcked = 0;
    let casUnknown = 0;
    let stop = false;
    const writeLoop = async (w: number): Promise<void> => {
      for (let i = 0; !stop; i++) {
        const value = `w${w}-${i}`;
        try {
          await writer.create('/seq/n-', value, { mode: 'persistent_sequential' });
          acked.push(value);
        } catch (err) {
          if (!(err instanceof CoordinatorError)) throw err;
          unknown.push(value);
        }
      }
    };
    const casLoop = async (): Promise<void> => {
      while (!stop) {
        try {
          const { data, stat } = await writer.get('/counter');
          await writer.set('/counter', String(Number(data.toString()) + 1), stat.version);
          casAcked++;
        } catch (err) {
          if (!(err instanceof CoordinatorError)) throw err;
          if (err.code !== 'BAD_VERSION') casUnknown++;
        }
      }
    };
    const loops = [writeLoop(1), writeLoop(2), casLoop()];
    await waitFor(() => acked.length >= 30, 30_000);
    await cluster.kill(`coordinator-${leader}`);
    const ackedAtKill = acked.length;
    const survivors = [1, 2, 3].filter((id) => id !== leader);
    const newLeader = await cluster.waitForCoordinatorLeader(survivors);
    expect(newLeader).not.toBe(leader);
    await waitFor(() => acked.length >= ackedAtKill + 30, 30_000);
    stop = true;
    await Promise.all(loops);

    const { children } = await writer.children('/seq');
    const values = await Promise.all(children.map(async (c) => (await writer.get(`/seq/${c}`)).data.toString()));
    const counts = new Map<string, number>();
    for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
    for (const v of acked) expect(counts.get(v)).toBe(1);
    for (const [v, n] of counts) {
      expect(n).toBe(1);
      expect(acked.includes(v) || unknown.includes(v)).toBe(true);
    }
    const counter = Number((await writer.get('/counter')).data.toString());
    expect(counter).toBeGreaterThanOrEqual(casAcked);
    expect(counter).toBeLessThanOrEqual(casAcked + casUnknown);

    await cluster.restart(`coordinator-${leader}`);
    await cluster.waitForCoordinatorLeader([1, 2, 3]);
  });

  test('a client whose member was killed keeps its session through another member', async () => {
    await cluster.waitForCoordinatorLeader([1, 2, 3]);
    const c = await client();
    const memberId = [1, 2, 3].find((id) => cluster.coordinatorAddress(id) === c.currentAddress)!;
    const sessionId = c.sessionId;
    const eph = await c.create('/keeps-session', 'x', { mode: 'ephemeral' });
    let expired = false;
    c.on('expired', () => (expired = true));
    await cluster.kill(`coordinator-${memberId}`);
    await waitFor(() => c.currentAddress !== cluster.coordinatorAddress(memberId) && c.state === 'connected', 20_000);
    // Well past the session timeout: still alive, and the ephemeral is still there.
    const other = await client();
    // The property is about time passing: let 1.5 session timeouts go by after the move.
    await new Promise((r) => setTimeout(r, c.sessionTimeoutMs * 1.5));
    expect(expired).toBe(false);
    expect(c.sessionId).toBe(sessionId);
    expect(await other.exists(eph.path)).not.toBeNull();
    await c.set(eph.path, 'still mine');
    await cluster.restart(`coordinator-${memberId}`);
  });

  test('the ephemeral znode of a killed client disappears after its session timeout', async () => {
    const sessionTimeoutMs = 3_000;
    const holder = spawn(process.execPath, [
      fileURLToPath(new URL('./fixtures/ephemeral-holder.mjs', import.meta.url)),
      cluster.coordinatorAddresses.join(','),
      '/holder',
      String(sessionTimeoutMs),
    ], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_OPTIONS: '' } });
    const ready = await new Promise<string>((resolve, reject) => {
      holder.stdout!.once('data', (d: Buffer) => resolve(d.toString()));
      holder.once('exit', (code) => reject(new Error(`holder exited with ${code}`)));
    });
    expect(JSON.parse(ready).ready).toBe(true);
    const observer = await client();
    expect(await observer.exists('/holder')).not.toBeNull();
    const gone = new Promise<number>((resolve) => {
      const h = observer.watch('/holder', { kind: 'data' }, (ev) => {
        if (ev.type === 'deleted') resolve(Date.now());
      });
      void h.ready;
    });
    const killedAt = Date.now();
    holder.kill('SIGKILL');
    const deletedAt = await withDeadline(gone, 20_000, 'ephemeral znode not removed');
    const elapsed = deletedAt - killedAt;
    // Not before the timeout (the session was alive until the kill), and soon after it.
    expect(elapsed).toBeGreaterThanOrEqual(sessionTimeoutMs - 1_100);
    expect(await observer.exists('/holder')).toBeNull();
  });

  test('a restarted member catches up, by snapshot when it is far behind', async () => {
    const leader = await cluster.waitForCoordinatorLeader([1, 2, 3]);
    const lagging = [1, 2, 3].find((id) => id !== leader)!;
    await cluster.kill(`coordinator-${lagging}`);
    const c = await client(cluster.coordinatorAddresses.filter((a) => a !== cluster.coordinatorAddress(lagging)));
    await c.ensurePath('/bulk');
    // Far more entries than --snapshot-entries: the leader compacts its log past the lagging member.
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < 600; i++) writes.push(c.create(`/bulk/k${i}`, `v${i}`));
    await Promise.all(writes);
    const leaderStatus = await cluster.coordinatorStatus(leader);
    await cluster.restart(`coordinator-${lagging}`);
    await waitFor(async () => ((await cluster.coordinatorStatus(lagging))?.appliedIndex ?? 0) >= leaderStatus!.commitIndex, 30_000);
    expect(cluster.log(`coordinator-${lagging}`)).toContain('installed snapshot from leader');
    const direct = await client([cluster.coordinatorAddress(lagging)]);
    expect((await direct.get('/bulk/k599')).data.toString()).toBe('v599');
    expect((await direct.children('/bulk')).children).toHaveLength(600);
  });

  test('a persistent watch survives the death of its member: every change arrives once, in commit order', async () => {
    await cluster.waitForCoordinatorLeader([1, 2, 3]);
    const watcher = await client();
    const memberId = [1, 2, 3].find((id) => cluster.coordinatorAddress(id) === watcher.currentAddress)!;
    const writer = await client(cluster.coordinatorAddresses.filter((a) => a !== watcher.currentAddress));
    await writer.ensurePath('/watched');
    // A linearizable read through the watcher's member: it has applied the create before the
    // watch is registered there (watches start from the member's applied index, as in ZooKeeper).
    expect(await watcher.exists('/watched')).not.toBeNull();
    const seen: { path: string; index: number }[] = [];
    const h = watcher.watch('/watched', { persistent: true, recursive: true }, (ev) => {
      if (ev.type === 'created') seen.push({ path: ev.path, index: ev.index });
    });
    await h.ready;
    for (let i = 0; i < 20; i++) await writer.create(`/watched/a${i}`);
    await cluster.kill(`coordinator-${memberId}`);
    // The killed member may have been the leader: a create forwarded to it just then fails with
    // its outcome unknown (ZooKeeper's ConnectionLoss), and is retried the way a ZooKeeper recipe
    // does it: NODE_EXISTS on the retry means the first attempt was applied.
    const createOnce = async (path: string): Promise<void> => {
      for (let attempt = 0; ; attempt++) {
        try {
          await writer.create(path);
          return;
        } catch (err) {
          if (!(err instanceof CoordinatorError) || attempt >= 5) throw err;
          if (attempt > 0 && err.code === 'NODE_EXISTS') return;
          if (err.code !== 'TIMEOUT' && err.code !== 'UNAVAILABLE') throw err;
        }
      }
    };
    for (let i = 0; i < 20; i++) await createOnce(`/watched/b${i}`);
    const expected = [...Array.from({ length: 20 }, (_, i) => `/watched/a${i}`), ...Array.from({ length: 20 }, (_, i) => `/watched/b${i}`)];
    expect(await waitFor(() => seen.length >= expected.length, 30_000)).toBe(true);
    expect(seen.map((e) => e.path)).toEqual(expected);
    const indexes = seen.map((e) => e.index);
    expect([...indexes].sort((a, b) => a - b)).toEqual(indexes);
    await cluster.restart(`coordinator-${memberId}`);
  });
});
