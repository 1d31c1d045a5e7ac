// The GroupManager over a real on-disk log of __consumer_offsets (a temp dir), with a manual clock
// and scheduler: a new leader answers COORDINATOR_LOAD_IN_PROGRESS until it has replayed the log,
// then serves the groups and offsets a previous coordinator wrote; losing leadership answers every
// waiting JoinGroup NOT_COORDINATOR; session timeouts fire from the injected clock; a failed
// append is mapped to the commit error Kafka gives and changes nothing; expiration, deleted topics
// and DeleteGroups write tombstones that a later load honours; pending requests and groups are
// bounded; lag comes from commits and sampled log end offsets.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeAssignment, encodeSubscription, subscription, type KafkaErrorName } from '@samsa/client';
import { silentLogger } from '@samsa/coordinator';
import { Log } from '@samsa/log';
import { GroupManager, type GroupManagerConfig, type GroupScheduler, type OffsetsLogAccess } from '../../src/group/group-manager.js';
import type { JoinGroupRequest } from '../../src/group/group-types.js';
import { BurrowEvaluator } from '../../src/lag/burrow-evaluator.js';

class TestOffsetsLog implements OffsetsLogAccess {
  readonly log: Log;
  epoch: number | null = null;
  failWith: KafkaErrorName | null = null;
  appends = 0;
  constructor(dir: string) {
    this.log = Log.open({ dir: join(dir, '__consumer_offsets-0') });
  }
  leader(partition: number) {
    return partition === 0 && this.epoch !== null ? { log: this.log, leaderEpoch: this.epoch } : null;
  }
  async append(_partition: number, batch: Buffer): Promise<{ error: KafkaErrorName | null; baseOffset: number }> {
    this.appends++;
    if (this.failWith) return { error: this.failWith, baseOffset: -1 };
    const r = this.log.append(batch, { assignOffsets: true, leaderEpoch: this.epoch ?? 0 });
    return { error: null, baseOffset: r.baseOffset };
  }
}

/** Intervals run only when the test says; a load step waits for the gate when one is closed. */
class ManualScheduler implements GroupScheduler {
  private gate: Promise<void> | null = null;
  private openGate: (() => void) | null = null;
  setInterval(): unknown {
    return null;
  }
  clearInterval(): void {}
  yield(): Promise<void> {
    return this.gate ?? Promise.resolve();
  }
  close(): void {
    this.gate = new Promise((r) => (this.openGate = r));
  }
  open(): void {
    this.openGate?.();
    this.gate = null;
  }
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

let dir: string;
let offsetsLog: TestOffsetsLog;
let now: number;
let scheduler: ManualScheduler;
let leos: Map<string, number>;

function manager(config: Partial<GroupManagerConfig> = {}, lag?: BurrowEvaluator): GroupManager {
  return new GroupManager(
    {
      log: offsetsLog,
      logger: silentLogger,
      clock: () => now,
      scheduler,
      partitionExists: (topic) => topic === 't',
      offsetsTopicPartitions: () => 1,
      logEndOffsets: async () => leos,
      lag,
    },
    { group: { groupInitialRebalanceDelayMs: 0 }, offsets: { offsetsRetentionMs: 60_000 }, ...config },
  );
}

async function lead(m: GroupManager, epoch: number): Promise<void> {
  offsetsLog.epoch = epoch;
  m.onLeadershipChange(0, true, epoch);
  await flush();
}

const joinReq = (memberId = '', over: Partial<JoinGroupRequest> = {}): Omit<JoinGroupRequest, 'requestId'> => ({
  memberId,
  groupInstanceId: null,
  clientId: 'c',
  clientHost: '/127.0.0.1',
  sessionTimeoutMs: 10_000,
  rebalanceTimeoutMs: 10_000,
  protocolType: 'consumer',
  protocols: [{ name: 'range', metadata: encodeSubscription(subscription(['t'])) }],
  ...over,
});

/** One member, Stable at generation 1, assigned t-0. */
async function stableMember(m: GroupManager, group: string): Promise<string> {
  const first = await m.join(group, joinReq());
  expect(first.error).toBe('MEMBER_ID_REQUIRED');
  const joined = await m.join(group, joinReq(first.memberId));
  expect(joined).toMatchObject({ error: null, generationId: 1 });
  const assignment = encodeAssignment({ partitions: [{ topic: 't', partition: 0 }], userData: null });
  const synced = await m.sync(group, { memberId: first.memberId, groupInstanceId: null, generationId: 1, protocolType: 'consumer', protocolName: 'range', assignments: [{ memberId: first.memberId, assignment }] });
  expect(synced.error).toBeNull();
  return first.memberId;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'samsa-group-manager-'));
  offsetsLog = new TestOffsetsLog(dir);
  now = 1_700_000_000_000;
  scheduler = new ManualScheduler();
  leos = new Map();
});

afterEach(() => {
  offsetsLog.log.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('leadership: loading and unloading', () => {
  test('a new leader answers COORDINATOR_LOAD_IN_PROGRESS while it replays, then serves the previous coordinator’s groups and offsets', async () => {
    const before = manager();
    await lead(before, 1);
    const memberId = await stableMember(before, 'g');
    const commit = await before.commitOffsets('g', { memberId, groupInstanceId: null, generationId: 1, entries: [{ topic: 't', partition: 0, offset: 42, metadata: 'x' }] });
    expect(commit).toEqual([{ topic: 't', partition: 0, error: null }]);
    before.onLeadershipChange(0, false, -1);
    expect(before.coordinatorStatus('g')).toEqual({ error: 'NOT_COORDINATOR' });

    const after = manager();
    scheduler.close();
    offsetsLog.epoch = 2;
    after.onLeadershipChange(0, true, 2);
    await flush();
    expect(after.coordinatorStatus('g')).toEqual({ error: 'COORDINATOR_LOAD_IN_PROGRESS' });
    expect(after.fetchOffsets('g', null).error).toBe('COORDINATOR_LOAD_IN_PROGRESS');
    expect((await after.join('g', joinReq())).error).toBe('COORDINATOR_LOAD_IN_PROGRESS');
    scheduler.open();
    await flush();
    expect(after.coordinatorStatus('g')).toEqual({ error: null, partition: 0 });
    expect(after.fetchOffsets('g', null).offsets).toEqual([{ topic: 't', partition: 0, offset: 42, leaderEpoch: -1, metadata: 'x', error: null }]);
    expect(after.describeGroup('g').description).toMatchObject({ state: 'Stable', protocolName: 'range' });
    // The member carries on with the new coordinator without rejoining.
    expect(after.heartbeat('g', { memberId, groupInstanceId: null, generationId: 1 })).toBeNull();
  });

  test('losing leadership answers a waiting JoinGroup NOT_COORDINATOR and drops the groups', async () => {
    const m = manager({ group: { groupInitialRebalanceDelayMs: 3_000 } });
    await lead(m, 1);
    const first = await m.join('g', joinReq());
    const waiting = m.join('g', joinReq(first.memberId));
    await flush();
    expect(m.pendingRequests).toBe(1);
    m.onLeadershipChange(0, false, -1);
    expect(await waiting).toMatchObject({ error: 'NOT_COORDINATOR' });
    expect(m.pendingRequests).toBe(0);
    expect(m.listGroups(null).groups).toEqual([]);
  });

  test('a new leader epoch for a partition it already leads reloads it from the log', async () => {
    const m = manager();
    await lead(m, 1);
    await m.commitOffsets('s', { memberId: '', groupInstanceId: null, generationId: -1, entries: [{ topic: 't', partition: 0, offset: 5 }] });
    await lead(m, 3);
    expect(m.fetchOffsets('s', null).offsets.map((o) => o.offset)).toEqual([5]);
  });
});

describe('timers and failures', () => {
  test('a member that stops heartbeating is removed at its session timeout, driven by the injected clock', async () => {
    const m = manager();
    await lead(m, 1);
    const memberId = await stableMember(m, 'g');
    now += 9_000;
    m.tick();
    expect(m.heartbeat('g', { memberId, groupInstanceId: null, generationId: 1 })).toBeNull();
    now += 10_001;
    m.tick();
    expect(m.describeGroup('g').description.state).toBe('Empty');
    expect(m.heartbeat('g', { memberId, groupInstanceId: null, generationId: 1 })).toBe('UNKNOWN_MEMBER_ID');
  });

  test('a failed append is mapped as Kafka maps it (NOT_ENOUGH_REPLICAS → COORDINATOR_NOT_AVAILABLE) and nothing becomes visible', async () => {
    const m = manager();
    await lead(m, 1);
    offsetsLog.failWith = 'NOT_ENOUGH_REPLICAS';
    const r = await m.commitOffsets('s', { memberId: '', groupInstanceId: null, generationId: -1, entries: [{ topic: 't', partition: 0, offset: 5 }, { topic: 'gone', partition: 0, offset: 1 }] });
    expect(r).toEqual([
      { topic: 'gone', partition: 0, error: 'UNKNOWN_TOPIC_OR_PARTITION' },
      { topic: 't', partition: 0, error: 'COORDINATOR_NOT_AVAILABLE' },
    ]);
    expect(m.fetchOffsets('s', null).offsets).toEqual([]);
  });
});

describe('tombstones: expiration, deleted topics, DeleteGroups', () => {
  test('offsets of a standalone consumer expire after offsets.retention.minutes, its empty group goes, and a reload agrees', async () => {
    const m = manager();
    await lead(m, 1);
    await m.commitOffsets('s', { memberId: '', groupInstanceId: null, generationId: -1, entries: [{ topic: 't', partition: 0, offset: 5 }] });
    now += 59_999;
    m.expireOffsets();
    expect(m.fetchOffsets('s', null).offsets).toHaveLength(1);
    now += 1;
    m.expireOffsets();
    await flush();
    expect(m.fetchOffsets('s', null).offsets).toEqual([]);
    expect(m.listGroups(null).groups).toEqual([]);
    const reloaded = manager();
    await lead(reloaded, 2);
    expect(reloaded.fetchOffsets('s', null).offsets).toEqual([]);
  });

  test('deleting a topic removes its offsets from every group; DeleteGroups removes an Empty group; both survive a reload', async () => {
    const m = manager();
    await lead(m, 1);
    await m.commitOffsets('a', { memberId: '', groupInstanceId: null, generationId: -1, entries: [{ topic: 't', partition: 0, offset: 1 }] });
    await m.commitOffsets('b', { memberId: '', groupInstanceId: null, generationId: -1, entries: [{ topic: 't', partition: 0, offset: 2 }] });
    const memberId = await stableMember(m, 'c');
    expect(m.deleteGroup('c')).toBe('NON_EMPTY_GROUP');
    m.leave('c', { members: [{ memberId, groupInstanceId: null }] });
    expect(m.deleteGroup('c')).toBeNull();
    expect(m.deleteGroup('c')).toBe('GROUP_ID_NOT_FOUND');
    m.onTopicsDeleted(['t']);
    await flush();
    expect(m.fetchOffsets('a', null).offsets).toEqual([]);
    const reloaded = manager();
    await lead(reloaded, 2);
    expect(reloaded.listGroups(null).groups).toEqual([]);
    expect(reloaded.fetchOffsets('b', null).offsets).toEqual([]);
  });
});

describe('bounds and lag', () => {
  test('waiting requests beyond maxPendingRequests and groups beyond maxGroups get COORDINATOR_NOT_AVAILABLE at once', async () => {
    const m = manager({ maxPendingRequests: 1, maxGroups: 1, group: { groupInitialRebalanceDelayMs: 3_000 } });
    await lead(m, 1);
    const a = await m.join('g', joinReq());
    const b = await m.join('g', joinReq());
    void m.join('g', joinReq(a.memberId));
    await flush();
    expect((await m.join('g', joinReq(b.memberId))).error).toBe('COORDINATOR_NOT_AVAILABLE');
    expect((await m.join('other', joinReq())).error).toBe('COORDINATOR_NOT_AVAILABLE');
    m.stop();
  });

  test('a refused first JoinGroup, or a member id never claimed, leaves no group behind', async () => {
    const m = manager();
    await lead(m, 1);
    expect((await m.join('refused', joinReq('', { sessionTimeoutMs: 10 }))).error).toBe('INVALID_SESSION_TIMEOUT');
    expect((await m.join('abandoned', joinReq())).error).toBe('MEMBER_ID_REQUIRED');
    expect(m.listGroups(null).groups.map((g) => g.groupId)).toEqual(['abandoned']);
    now += 10_000;
    m.tick();
    expect(m.listGroups(null).groups).toEqual([]);
  });

  test('GroupLag: lag from the committed offset to the sampled log end offset', async () => {
    const m = manager({}, new BurrowEvaluator());
    await lead(m, 1);
    await m.commitOffsets('s', { memberId: '', groupInstanceId: null, generationId: -1, entries: [{ topic: 't', partition: 0, offset: 40 }] });
    leos.set('t\u00000', 100);
    now += 1_000;
    const [report] = await m.groupLag(['s']);
    expect(report).toMatchObject({ groupId: 's', error: null, maxLag: 60, totalLag: 60 });
    expect(report!.partitions).toEqual([expect.objectContaining({ topic: 't', partition: 0, committedOffset: 40, logEndOffset: 100, lag: 60 })]);
    expect((await m.groupLag(['unknown']))[0]!.error).toBe('GROUP_ID_NOT_FOUND');
  });
});
