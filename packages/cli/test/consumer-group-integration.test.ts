// The client library's consumer groups against a real cluster: 1 coordinator and 3 brokers as
// processes, the group coordinator in the brokers. Members join, rebalance and leave while records
// flow (each partition has exactly one owner per generation, every record is processed at least
// once); a commitSync is where a new member of the group resumes; members beyond the partition
// count stay idle; cooperative-sticky moves only what must move and never revokes the partitions
// a member keeps; a static member's quick restart does not rebalance the group; a kill -9 of the
// group's coordinator sends the member to the new one without losing records; a zombie whose
// group.instance.id was taken over cannot commit.
import { jest } from '@jest/globals';
import { Admin, Consumer, Producer, type ConsumerRecord, type TopicPartition } from '@samsa/client';
import { LocalCluster, waitFor } from '../src/cluster/local-cluster.js';

jest.setTimeout(120_000);

const BROKER_ARGS = [
  '--group.initial.rebalance.delay.ms', '200',
  '--group.min.session.timeout.ms', '2000',
  '--offsets.topic.num.partitions', '6',
  '--auto.leader.rebalance.enable', 'false',
];

const key = (tp: TopicPartition): string => `${tp.topic}-${tp.partition}`;

describe('consumer groups of the client library against 1 coordinator + 3 brokers', () => {
  let cluster: LocalCluster;
  let servers: string;
  let admin: Admin;
  const closers: (() => Promise<unknown> | void)[] = [];

  beforeAll(async () => {
    cluster = await LocalCluster.start({ coordinators: 1, brokers: 3, brokerArgs: BROKER_ARGS });
    servers = cluster.brokerAddresses.join(',');
    admin = new Admin({ 'bootstrap.servers': servers });
  }, 90_000);

  afterAll(async () => {
    for (const close of closers) await Promise.resolve(close()).catch(() => {});
    admin?.close();
    await cluster?.destroy();
  }, 30_000);

  async function createTopic(name: string, numPartitions: number): Promise<void> {
    await admin.createTopics([{ name, numPartitions, replicationFactor: 3 }]);
    const ready = await waitFor(async () => {
      const [t] = await admin.describeTopics([name]).catch(() => []);
      return t !== undefined && t.partitions.length === numPartitions && t.partitions.every((p) => p.leader >= 0 && p.isr.length === 3);
    }, 30_000, 100);
    if (!ready) throw new Error(`topic ${name} not fully in sync within 30 s`);
  }

  function producer(): Producer {
    const p = new Producer({ 'bootstrap.servers': servers, 'linger.ms': 2 });
    closers.push(() => p.close({ timeoutMs: 2_000 }));
    return p;
  }

  function member(group: string, config: Record<string, string | number | boolean> = {}): Consumer {
    const c = new Consumer({
      'bootstrap.servers': servers,
      'group.id': group,
      'auto.offset.reset': 'earliest',
      'fetch.max.wait.ms': 100,
      'session.timeout.ms': 6_000,
      'heartbeat.interval.ms': 500,
      ...config,
    });
    closers.push(() => c.close({ timeoutMs: 5_000 }));
    return c;
  }

  /** Runs a member's poll loop (run with eachMessage) until stopped. */
  function running(c: Consumer, onRecord: (r: ConsumerRecord) => void = () => {}): { stop(): Promise<void> } {
    const ac = new AbortController();
    const done = c.run({ eachMessage: async (r) => onRecord(r), signal: ac.signal, pollTimeoutMs: 100 });
    return {
      async stop() {
        ac.abort();
        await done;
      },
    };
  }

  async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
    if (!(await waitFor(async () => check(), timeoutMs, 50))) throw new Error(`not within ${timeoutMs} ms: ${what}`);
  }

  test('members join, rebalance and leave while records flow: one owner per partition per generation, every record processed at least once', async () => {
    const topic = 'flow';
    await createTopic(topic, 6);
    const group = 'flow-group';
    // Every assignment a member receives, with the generation it belongs to (eager: a full assignment per generation).
    const assignments: Array<{ member: string; generation: number; tps: string[] }> = [];
    const processed = new Set<string>();
    const members: Consumer[] = [];
    const loops: Array<{ stop(): Promise<void> }> = [];
    const join = (name: string): Consumer => {
      const c = member(group, { 'client.id': name });
      c.subscribe([topic], {
        onPartitionsAssigned: (tps) => void assignments.push({ member: name, generation: c.groupMetadata().generationId, tps: tps.map(key) }),
      });
      members.push(c);
      loops.push(running(c, (r) => processed.add(r.value!.toString())));
      return c;
    };
    const p = producer();
    const total = 900;
    let sent = 0;
    const sending = (async () => {
      for (; sent < total; sent += 30) {
        await Promise.all(Array.from({ length: 30 }, (_, i) => p.send({ topic, key: `k${sent + i}`, value: `v${sent + i}` })));
        await new Promise((r) => setTimeout(r, 40));
      }
    })();
    const a = join('a');
    await until('a owns all 6 partitions', () => a.assignment().length === 6);
    const b = join('b');
    await until('a and b share the 6 partitions', () => a.assignment().length + b.assignment().length === 6 && b.assignment().length > 0);
    const c = join('c');
    await until('a, b and c own 2 each', () => [a, b, c].every((m) => m.assignment().length === 2));
    // b leaves (close: commit, revoke, LeaveGroup); a and c take its partitions over.
    await loops[1]!.stop();
    await b.close();
    await until('a and c own 3 each', () => a.assignment().length === 3 && c.assignment().length === 3, 30_000);
    await sending;
    await until(`all ${total} records processed`, () => processed.size === total, 30_000);
    for (let i = 0; i < total; i++) expect(processed.has(`v${i}`)).toBe(true);
    // No partition had two owners in one generation.
    const owners = new Map<string, string>();
    for (const { member: m, generation, tps } of assignments) {
      for (const tp of tps) {
        const k = `${generation}/${tp}`;
        expect(owners.get(k) ?? m).toBe(m);
        owners.set(k, m);
      }
    }
    expect(new Set(assignments.map((x) => x.generation)).size).toBeGreaterThanOrEqual(4);
    const [described] = await admin.describeGroups([group]);
    expect(described!.state).toBe('Stable');
    expect(described!.members.map((m) => m.clientId).sort()).toEqual(['a', 'c']);
    expect(described!.members.flatMap((m) => m.assignment).map(key).sort()).toEqual(Array.from({ length: 6 }, (_, i) => `${topic}-${i}`).sort());
    await loops[0]!.stop();
    await loops[2]!.stop();
  });

  test('after commitSync a new member of the group resumes right after the committed offset', async () => {
    const topic = 'resume';
    await createTopic(topic, 1);
    const p = producer();
    for (let i = 0; i < 10; i++) await p.send({ topic, partition: 0, value: `r${i}` });
    const group = 'resume-group';
    const first = member(group, { 'enable.auto.commit': false });
    first.subscribe([topic]);
    const seen: ConsumerRecord[] = [];
    const deadline = Date.now() + 30_000;
    while (seen.length < 4 && Date.now() < deadline) seen.push(...(await first.poll(200)));
    expect(seen.length).toBeGreaterThanOrEqual(4);
    // Processed the first four only: commit the offset of the fifth.
    await first.commitSync([{ topic, partition: 0, offset: seen[3]!.offset + 1, metadata: 'after r3' }]);
    await expect(first.committed([{ topic, partition: 0 }])).resolves.toEqual([{ offset: 4, metadata: 'after r3' }]);
    await first.close();
    const [lag] = await admin.groupLag(group);
    expect(lag).toEqual({ topic, partition: 0, committedOffset: 4, logEndOffset: 10, lag: 6 });
    const second = member(group, { 'enable.auto.commit': false });
    second.subscribe([topic]);
    const next: ConsumerRecord[] = [];
    while (next.length === 0 && Date.now() < deadline + 30_000) next.push(...(await second.poll(200)));
    expect(next[0]!.offset).toBe(4);
    expect(next[0]!.value!.toString()).toBe('r4');
    await second.close();
  });

  test('more members than partitions: the extra member stays idle (no partitions) but is a member of the group', async () => {
    const topic = 'few';
    await createTopic(topic, 2);
    const group = 'few-group';
    const ms = ['x', 'y', 'z'].map((name) => {
      const c = member(group, { 'client.id': name });
      c.subscribe([topic]);
      return c;
    });
    const loops = ms.map((c) => running(c));
    await until('2 partitions over 3 members, one each at most', async () => {
      const sizes = ms.map((c) => c.assignment().length).sort();
      if (sizes.join() !== '0,1,1') return false;
      const [d] = await admin.describeGroups([group]);
      return d!.state === 'Stable' && d!.members.length === 3;
    });
    const [d] = await admin.describeGroups([group]);
    expect(d!.members.map((m) => m.assignment.length).sort()).toEqual([0, 1, 1]);
    expect(ms.filter((c) => c.metrics()['assigned-partitions'] === 0)).toHaveLength(1);
    for (const l of loops) await l.stop();
  });

  test('cooperative-sticky: when a second member joins, the first revokes only the partitions that move and keeps consuming the others', async () => {
    const topic = 'coop';
    await createTopic(topic, 4);
    const group = 'coop-group';
    const events: string[] = [];
    const coop = { 'partition.assignment.strategy': 'cooperative-sticky' };
    const first = member(group, coop);
    first.subscribe([topic], {
      onPartitionsAssigned: (tps) => void events.push(`assigned ${tps.map(key).join(',')}`),
      onPartitionsRevoked: (tps) => void events.push(`revoked ${tps.map(key).join(',')}`),
      onPartitionsLost: (tps) => void events.push(`lost ${tps.map(key).join(',')}`),
    });
    const loop1 = running(first);
    await until('the first member owns all 4', () => first.assignment().length === 4);
    const second = member(group, coop);
    second.subscribe([topic]);
    const loop2 = running(second);
    await until('2 partitions each', () => first.assignment().length === 2 && second.assignment().length === 2);
    const kept = first.assignment().map(key);
    const moved = second.assignment().map(key);
    const revoked = events.filter((e) => e.startsWith('revoked')).flatMap((e) => e.slice(8).split(','));
    expect(revoked.sort()).toEqual([...moved].sort());
    for (const tp of kept) expect(revoked).not.toContain(tp);
    expect(events.filter((e) => e.startsWith('lost'))).toEqual([]);
    // The second phase: the moved partitions reached the second member in a later generation, with no full revocation.
    expect(events[0]).toBe(`assigned ${Array.from({ length: 4 }, (_, i) => `${topic}-${i}`).join(',')}`);
    expect(first.metrics()['sync-total']).toBeGreaterThanOrEqual(3);
    await loop2.stop();
    await loop1.stop();
  });

  test('static membership: a member restarted with the same group.instance.id within session.timeout.ms gets its partitions back without a rebalance', async () => {
    const topic = 'static';
    await createTopic(topic, 4);
    const group = 'static-group';
    const events: string[] = [];
    const staticMember = (instance: string, log = false): Consumer => {
      const c = member(group, { 'group.instance.id': instance, 'client.id': instance });
      c.subscribe([topic], log ? {
        onPartitionsAssigned: (tps) => void events.push(`assigned ${tps.map(key).join(',')}`),
        onPartitionsRevoked: (tps) => void events.push(`revoked ${tps.map(key).join(',')}`),
        onPartitionsLost: (tps) => void events.push(`lost ${tps.map(key).join(',')}`),
      } : {});
      return c;
    };
    const one = staticMember('i1');
    const two = staticMember('i2', true);
    const loopOne = running(one);
    const loopTwo = running(two);
    await until('2 partitions each', () => one.assignment().length === 2 && two.assignment().length === 2);
    const generation = two.groupMetadata().generationId;
    const oneHad = one.assignment().map(key);
    const eventsBefore = events.length;
    // i1 goes away without LeaveGroup (static) and comes back as a new process would.
    await loopOne.stop();
    await one.close();
    const back = staticMember('i1');
    const loopBack = running(back);
    await until('the restarted member holds its partitions again', () => back.assignment().length === 2);
    expect(back.assignment().map(key)).toEqual(oneHad);
    expect(back.groupMetadata().generationId).toBe(generation);
    // The other member saw nothing: no revocation, no new generation.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(events.slice(eventsBefore)).toEqual([]);
    expect(two.groupMetadata().generationId).toBe(generation);
    expect(two.assignment()).toHaveLength(2);
    await loopBack.stop();
    await loopTwo.stop();
  });

  test('kill -9 of the group coordinator: the member finds the new coordinator, keeps its generation or rejoins, and every record is processed', async () => {
    const topic = 'failover';
    await createTopic(topic, 2);
    const group = 'failover-group';
    const processed = new Set<string>();
    const c = member(group, { 'auto.commit.interval.ms': 200 });
    c.subscribe([topic]);
    const loop = running(c, (r) => processed.add(r.value!.toString()));
    await until('assigned', () => c.assignment().length === 2);
    const [before] = await admin.describeGroups([group]);
    const oldCoordinator = before!.coordinator.id;
    const p = producer();
    for (let i = 0; i < 50; i++) await p.send({ topic, key: `k${i}`, value: `f${i}` });
    await until('the first 50 processed', () => processed.size === 50);
    await cluster.kill(`broker-${oldCoordinator}`);
    for (let i = 50; i < 100; i++) await p.send({ topic, key: `k${i}`, value: `f${i}` });
    await until('all 100 processed', () => processed.size === 100, 60_000);
    // Commits reach the new coordinator.
    await c.commitSync(undefined, { timeoutMs: 30_000 });
    const [after] = await admin.describeGroups([group], { timeoutMs: 30_000 });
    expect(after!.coordinator.id).not.toBe(oldCoordinator);
    const offsets = await admin.listGroupOffsets(group);
    const committed = offsets.reduce((n, o) => n + o.offset, 0);
    expect(committed).toBe(100);
    await loop.stop();
    await cluster.restart(`broker-${oldCoordinator}`);
  });

  test('a zombie is fenced: after another process takes its group.instance.id, its commit is refused (FENCED_INSTANCE_ID) and the committed offset stays', async () => {
    const topic = 'zombie';
    await createTopic(topic, 1);
    const p = producer();
    for (let i = 0; i < 5; i++) await p.send({ topic, partition: 0, value: `z${i}` });
    const group = 'zombie-group';
    const zombie = member(group, { 'group.instance.id': 'worker-1', 'enable.auto.commit': false });
    zombie.subscribe([topic]);
    const loop = running(zombie);
    await until('the first process owns the partition', () => zombie.assignment().length === 1);
    await loop.stop();
    await zombie.commitSync([{ topic, partition: 0, offset: 2 }]);
    // A second process with the same instance id replaces it (static membership: no rebalance wait).
    const replacement = member(group, { 'group.instance.id': 'worker-1', 'enable.auto.commit': false });
    replacement.subscribe([topic]);
    const loop2 = running(replacement);
    await until('the replacement owns the partition', () => replacement.assignment().length === 1);
    const refused = await zombie.commitSync([{ topic, partition: 0, offset: 5 }]).catch((e: unknown) => e);
    expect((refused as { type?: string }).type).toBe('FENCED_INSTANCE_ID');
    await expect(admin.listGroupOffsets(group)).resolves.toEqual([{ topic, partition: 0, offset: 2, leaderEpoch: expect.any(Number), metadata: '' }]);
    // The replacement's commits are accepted.
    await replacement.commitSync([{ topic, partition: 0, offset: 4 }]);
    expect((await admin.listGroupOffsets(group))[0]!.offset).toBe(4);
    await loop2.stop();
  });
});
