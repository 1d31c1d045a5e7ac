// The Admin's consumer-group calls over the client's network interface (answered by each test)
// with a manual clock: group calls go to the coordinator FindCoordinator names and follow it on
// NOT_COORDINATOR, member assignments are decoded, lag is log end minus committed, and an offset
// reset is refused for an active group and clamped to the log for an inactive one.

import { Admin } from '../src/admin/admin.js';
import { KafkaError } from '../src/protocol/errors.js';
import { encodeAssignment } from '../src/consumer/assignors/consumer-protocol.js';
import type { OffsetCommitRequest } from '../src/protocol/group-wire-types.js';
import { ManualClock, advanceAndSettle } from './helpers/manual-clock.js';
import { ScriptedNetwork, metadataResponse, wireError, type PendingCall } from './helpers/scripted-network.js';
import { seededRandom } from './helpers/seeded-random.js';

const cluster = () =>
  metadataResponse({
    brokers: [1, 2, 3],
    topics: { t: [{ leader: 1 }, { leader: 2 }, { leader: 3 }] },
  });

/** Log start and end per partition of topic t. */
const LOG = [
  { start: 0, end: 100 },
  { start: 10, end: 50 },
  { start: 0, end: 0 },
];

function setup(opts: { coordinator?: () => number; state?: string; committed?: Array<[number, number]> } = {}) {
  const clock = new ManualClock();
  const net = new ScriptedNetwork();
  const coordinator = opts.coordinator ?? (() => 2);
  net.autoRespond((c) => {
    if (c.method === 'metadata') {
      const res = cluster();
      if (!c.request.allTopics) res.topics = res.topics.filter((t) => (c.request.topics as string[]).includes(t.name));
      return res;
    }
    if (c.method === 'findCoordinator') {
      const id = coordinator();
      return { error: null, nodeId: id, host: `broker${id}`, port: 9092 };
    }
    if (c.method === 'listOffsets') {
      return {
        topics: c.request.topics.map((t: { topic: string; partitions: Array<{ partition: number; timestamp: number }> }) => ({
          topic: t.topic,
          partitions: t.partitions.map((p) => ({
            partition: p.partition,
            error: null,
            timestamp: -1,
            // Timestamp lookups: records of partition p have timestamp 1000 + offset.
            offset: p.timestamp === -1 ? LOG[p.partition]!.end : p.timestamp === -2 ? LOG[p.partition]!.start : Math.max(LOG[p.partition]!.start, p.timestamp - 1000),
            leaderEpoch: 0,
          })),
        })),
      };
    }
    if (c.method === 'describeGroups' && c.address === `broker${coordinator()}:9092`) {
      return {
        groups: [
          {
            error: null,
            groupId: c.request.groups[0],
            groupState: opts.state ?? 'Stable',
            protocolType: 'consumer',
            protocolData: 'range',
            members: [
              {
                memberId: 'm-1',
                groupInstanceId: '',
                clientId: 'c1',
                clientHost: '/10.0.0.1',
                memberMetadata: Buffer.alloc(0),
                memberAssignment: Buffer.from(encodeAssignment({ partitions: [{ topic: 't', partition: 2 }, { topic: 't', partition: 0 }], userData: null })),
              },
            ],
          },
        ],
      };
    }
    if (c.method === 'offsetFetch' && c.address === `broker${coordinator()}:9092`) {
      return {
        error: null,
        topics: [{ topic: 't', partitions: (opts.committed ?? [[0, 40]]).map(([partition, offset]) => ({ partition, committedOffset: offset, committedLeaderEpoch: 0, metadata: '', error: null })) }],
      };
    }
    if (c.address !== `broker${coordinator()}:9092` && ['describeGroups', 'offsetFetch', 'offsetCommit', 'deleteGroups', 'groupLag'].includes(c.method)) {
      if (c.method === 'describeGroups') return { groups: [{ error: wireError('NOT_COORDINATOR'), groupId: c.request.groups[0], groupState: '', protocolType: '', protocolData: '', members: [] }] };
      if (c.method === 'offsetFetch') return { error: wireError('NOT_COORDINATOR'), topics: [] };
    }
    return undefined;
  });
  const admin = new Admin({ 'bootstrap.servers': 'seed:9092', 'retry.backoff.ms': 10 }, { clock, connector: net.connector, random: seededRandom() });
  return { clock, net, admin };
}

/** Runs `p` while moving the manual clock, so backoffs pass. */
async function drive<T>(clock: ManualClock, p: Promise<T>): Promise<T> {
  let done = false;
  const out = p.finally(() => (done = true));
  out.catch(() => undefined); // the caller handles the rejection after the loop
  for (let i = 0; i < 200 && !done; i++) await advanceAndSettle(clock, 50);
  return out;
}

describe('Admin consumer groups', () => {
  test('describeGroups asks the coordinator, follows it after NOT_COORDINATOR and decodes member assignments', async () => {
    let coordinator = 1;
    const { clock, net, admin } = setup({ coordinator: () => coordinator });
    // The first FindCoordinator names broker 1; the group then moves to broker 3.
    net.autoRespond((c) => {
      if (c.method === 'describeGroups' && c.address === 'broker1:9092') {
        coordinator = 3;
        return { groups: [{ error: wireError('NOT_COORDINATOR'), groupId: 'g', groupState: '', protocolType: '', protocolData: '', members: [] }] };
      }
      return undefined;
    });
    const [g] = await drive(clock, admin.describeGroups(['g']));
    expect(g).toEqual({
      groupId: 'g',
      state: 'Stable',
      protocolType: 'consumer',
      assignor: 'range',
      coordinator: { id: 3, host: 'broker3', port: 9092 },
      members: [{ memberId: 'm-1', groupInstanceId: null, clientId: 'c1', host: '/10.0.0.1', assignment: [{ topic: 't', partition: 0 }, { topic: 't', partition: 2 }] }],
    });
    expect(net.history.filter((h) => h.method === 'describeGroups').map((h) => h.address)).toEqual(['broker1:9092', 'broker3:9092']);
    expect(net.count('findCoordinator')).toBe(2);
    admin.close();
  });

  test('listGroups asks every broker and names each group\'s coordinator', async () => {
    const { clock, net, admin } = setup();
    net.autoRespond((c) => {
      if (c.method !== 'listGroups') return undefined;
      expect(c.request.statesFilter).toEqual(['Stable']);
      const id = Number(c.address.slice(6, 7));
      return { error: null, groups: id === 2 ? [] : [{ groupId: `g${id}`, protocolType: 'consumer', groupState: 'Stable' }] };
    });
    await expect(drive(clock, admin.listGroups({ states: ['Stable'] }))).resolves.toEqual([
      { groupId: 'g1', protocolType: 'consumer', state: 'Stable', coordinatorId: 1 },
      { groupId: 'g3', protocolType: 'consumer', state: 'Stable', coordinatorId: 3 },
    ]);
    admin.close();
  });

  test('groupLag is the log end offset minus the committed offset; an assigned partition without a commit lags by its whole log', async () => {
    const { clock, admin } = setup({ committed: [[0, 40], [1, 50]] });
    await expect(drive(clock, admin.groupLag('g'))).resolves.toEqual([
      { topic: 't', partition: 0, committedOffset: 40, logEndOffset: 100, lag: 60 },
      { topic: 't', partition: 1, committedOffset: 50, logEndOffset: 50, lag: 0 },
      { topic: 't', partition: 2, committedOffset: -1, logEndOffset: 0, lag: 0 },
    ]);
    admin.close();
  });

  test('resetGroupOffsets refuses a group with active members (NON_EMPTY_GROUP) and commits nothing', async () => {
    const { clock, net, admin } = setup({ state: 'Stable' });
    const err = await drive(clock, admin.resetGroupOffsets('g', { strategy: 'earliest' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KafkaError);
    expect((err as KafkaError).type).toBe('NON_EMPTY_GROUP');
    expect((err as Error).message).toMatch(/Stable/);
    expect(net.count('offsetCommit')).toBe(0);
    admin.close();
  });

  test('resetGroupOffsets shift-by on an Empty group clamps to [log start, log end] and commits outside any generation', async () => {
    const { clock, net, admin } = setup({ state: 'Empty', committed: [[0, 40], [1, 15]] });
    let commit: PendingCall | undefined;
    net.autoRespond((c) => {
      if (c.method !== 'offsetCommit') return undefined;
      commit = c;
      return { topics: [{ topic: 't', partitions: [0, 1, 2].map((partition) => ({ partition, error: null })) }] };
    });
    // Dry run: offsets computed, nothing committed.
    const shifted = [
      { topic: 't', partition: 0, offset: 30 },
      { topic: 't', partition: 1, offset: 10 }, // 15 - 10 = 5 is below the log start 10
      { topic: 't', partition: 2, offset: 0 }, // nothing committed: from the log start, clamped to the (empty) log
    ];
    await expect(drive(clock, admin.resetGroupOffsets('g', { strategy: 'shift-by', value: -10, dryRun: true }))).resolves.toEqual(shifted);
    expect(commit).toBeUndefined();
    await expect(drive(clock, admin.resetGroupOffsets('g', { strategy: 'shift-by', value: -10 }))).resolves.toEqual(shifted);
    const req = commit!.request as OffsetCommitRequest;
    expect(req.generationId).toBe(-1);
    expect(req.memberId).toBe('');
    expect(req.topics[0]!.partitions.map((p) => [p.partition, p.committedOffset])).toEqual([[0, 30], [1, 10], [2, 0]]);
    // to-timestamp: the first offset at or after the time; to-offset past the end is clamped to it.
    await expect(drive(clock, admin.resetGroupOffsets('g', { strategy: 'to-timestamp', value: 1020, dryRun: true }))).resolves.toEqual([
      { topic: 't', partition: 0, offset: 20 },
      { topic: 't', partition: 1, offset: 20 },
      { topic: 't', partition: 2, offset: 0 },
    ]);
    await expect(drive(clock, admin.resetGroupOffsets('g', { strategy: 'to-offset', value: 70, dryRun: true }))).resolves.toEqual([
      { topic: 't', partition: 0, offset: 70 },
      { topic: 't', partition: 1, offset: 50 },
      { topic: 't', partition: 2, offset: 0 },
    ]);
    admin.close();
  });

  test('deleteGroups reports each group\'s error by name; describeGroupLag returns the coordinator\'s Burrow evaluation', async () => {
    const { clock, net, admin } = setup();
    net.autoRespond((c) => {
      if (c.method === 'deleteGroups') {
        const g = c.request.groups[0];
        return { results: [{ groupId: g, error: g === 'busy' ? wireError('NON_EMPTY_GROUP') : null }] };
      }
      if (c.method === 'groupLag') {
        return {
          groups: [{
            error: null, groupId: 'g', status: 'WARN', maxLag: 60, totalLag: 60,
            partitions: [{ topic: 't', partition: 0, committedOffset: 40, logEndOffset: 100, lag: 60, status: 'WARN', commitTimestamp: 1234 }],
          }],
        };
      }
      return undefined;
    });
    await expect(drive(clock, admin.deleteGroups(['busy', 'idle']))).resolves.toEqual([
      { groupId: 'busy', error: 'NON_EMPTY_GROUP' },
      { groupId: 'idle', error: null },
    ]);
    await expect(drive(clock, admin.describeGroupLag(['g']))).resolves.toEqual([
      {
        groupId: 'g', status: 'WARN', maxLag: 60, totalLag: 60,
        partitions: [{ topic: 't', partition: 0, committedOffset: 40, logEndOffset: 100, lag: 60, status: 'WARN', commitTimestampMs: 1234 }],
      },
    ]);
    await expect(admin.describeGroups([''])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    admin.close();
  });
});
