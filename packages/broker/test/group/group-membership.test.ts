// Static membership (group.instance.id), offset-commit fencing of zombies, group.max.size, the
// DescribeGroups/ListGroups views, DeleteGroups and OffsetDelete rules, unloading and loading a
// group, and the coordinator's answers to garbage and misuse.

import { type KafkaErrorName, encodeSubscription, subscription } from '@samsa/client';
import { GroupCoordinator } from '../../src/group/group-coordinator.js';
import { GroupError } from '../../src/group/group-errors.js';
import type { OffsetCommitIdentity } from '../../src/group/group-types.js';
import { type GroupMetadataValue, encodeGroupMetadataKey } from '../../src/group/offsets-records.js';
import { GROUP, GroupHarness, assignmentBytes, consumerProtocols } from './group-harness.js';

function commitCheck(h: GroupHarness, identity: OffsetCommitIdentity): KafkaErrorName | null {
  const r = h.coordinator.validateOffsetCommit(identity, h.now);
  h.absorb(r);
  return r.response.error;
}

/** Two static members i1 (leader) and i2, Stable at generation 1 with partitions 0 and 1. */
function staticGroup(h: GroupHarness, spec: { session?: [number, number]; rebalanceTimeoutMs?: number } = {}): { m1: string; m2: string } {
  const [s1, s2] = spec.session ?? [10_000, 10_000];
  const rebalanceTimeoutMs = spec.rebalanceTimeoutMs ?? 30_000;
  const r1 = h.join({ instanceId: 'i1', clientId: 'c1', sessionTimeoutMs: s1, rebalanceTimeoutMs });
  const r2 = h.join({ instanceId: 'i2', clientId: 'c2', sessionTimeoutMs: s2, rebalanceTimeoutMs });
  h.settleJoin();
  const m1 = h.joins.get(r1)!.memberId;
  const m2 = h.joins.get(r2)!.memberId;
  h.sync(m2, 1, {}, 'i2');
  h.sync(m1, 1, { [m1]: assignmentBytes([0]), [m2]: assignmentBytes([1]) }, 'i1');
  expect(h.coordinator.state).toBe('Stable');
  return { m1, m2 };
}

describe('static membership', () => {
  test('a static member joins in one step (no MEMBER_ID_REQUIRED) with an id built from its group.instance.id', () => {
    const h = new GroupHarness();
    const { m1, m2 } = staticGroup(h);
    expect([m1, m2]).toEqual(['i1-u1', 'i2-u2']);
  });

  test('a restart with the same subscription takes over without a rebalance: new member id, same generation and assignment, the old id fenced', () => {
    const h = new GroupHarness();
    const { m1, m2 } = staticGroup(h);
    const effectsBefore = h.effects.length;
    const r = h.join({ instanceId: 'i2', clientId: 'c2' });
    expect(h.joins.get(r)).toEqual({
      error: null,
      generationId: 1,
      protocolType: 'consumer',
      protocolName: 'range',
      leaderId: m1,
      memberId: 'i2-u3',
      skipAssignment: false,
      members: [],
    });
    expect(h.coordinator.state).toBe('Stable');
    expect(h.effects.slice(effectsBefore).filter((e) => e.type === 'state-changed')).toEqual([]);
    expect(h.stores().at(-1)!.members.map((m) => [m.memberId, m.groupInstanceId])).toEqual([
      [m1, 'i1'],
      ['i2-u3', 'i2'],
    ]);
    // The new incarnation gets the old assignment; the old one is fenced everywhere.
    expect(h.syncs.get(h.sync('i2-u3', 1, {}, 'i2'))!.assignment).toEqual(assignmentBytes([1]));
    expect(h.heartbeat(m2, 1, 'i2')).toEqual({ error: 'FENCED_INSTANCE_ID' });
    expect(h.heartbeat(m2, 1)).toEqual({ error: 'UNKNOWN_MEMBER_ID' });
    expect(h.joins.get(h.join({ memberId: m2, instanceId: 'i2', clientId: 'c2' }))!.error).toBe('FENCED_INSTANCE_ID');
    expect(commitCheck(h, { memberId: m2, groupInstanceId: 'i2', generationId: 1 })).toBe('FENCED_INSTANCE_ID');
    expect(h.syncs.get(h.sync(m2, 1, {}, 'i2'))!.error).toBe('FENCED_INSTANCE_ID');
    // The other member noticed nothing.
    expect(h.heartbeat(m1, 1, 'i1')).toEqual({ error: null });
    expect(h.removedMembers()).toEqual([{ memberId: m2, reason: 'replaced' }]);
  });

  test('the restarted leader is told it leads but must skip the assignment (JoinGroup v9 SkipAssignment)', () => {
    const h = new GroupHarness();
    const { m2 } = staticGroup(h);
    const r = h.join({ instanceId: 'i1', clientId: 'c1' });
    expect(h.joins.get(r)).toMatchObject({ error: null, generationId: 1, memberId: 'i1-u3', leaderId: 'i1-u3', skipAssignment: true });
    expect(h.joins.get(r)!.members.map((m) => m.memberId)).toEqual(['i1-u3', m2]);
    expect(h.coordinator.leaderId).toBe('i1-u3');
  });

  test('a restart with different subscribed topics rebalances (samsa’s stricter rule; Kafka checks the protocol only)', () => {
    const h = new GroupHarness();
    staticGroup(h);
    h.join({ instanceId: 'i2', clientId: 'c2', protocols: consumerProtocols(['t', 'other']) });
    expect(h.coordinator.state).toBe('PreparingRebalance');
  });

  test('a restart whose new protocol would change the group’s choice rebalances (Kafka’s rule)', () => {
    const h = new GroupHarness();
    staticGroup(h);
    h.join({ instanceId: 'i2', clientId: 'c2', protocols: consumerProtocols(['t'], ['roundrobin', 'range']) });
    expect(h.coordinator.state).toBe('Stable'); // both still support range, which keeps the most votes
    const h2 = new GroupHarness();
    const r1 = h2.join({ instanceId: 'i1', protocols: consumerProtocols(['t'], ['range', 'roundrobin']) });
    h2.settleJoin();
    const m1 = h2.joins.get(r1)!.memberId;
    h2.sync(m1, 1, { [m1]: assignmentBytes([0]) }, 'i1');
    const restart = h2.join({ instanceId: 'i1', protocols: consumerProtocols(['t'], ['roundrobin', 'range']) });
    // Its only member has rejoined, so the rebalance completes at once (Kafka's DelayedJoin
    // completes in tryCompleteElseWatch): generation 2 with the member's new choice.
    expect(h2.effects).toContainEqual(expect.objectContaining({ type: 'state-changed', from: 'Stable', to: 'PreparingRebalance' }));
    expect(h2.coordinator.state).toBe('CompletingRebalance');
    expect(h2.joins.get(restart)).toMatchObject({ error: null, generationId: 2, protocolName: 'roundrobin' });
  });

  test('the JoinGroup of a restart is answered only once the new member id is stored', () => {
    const h = new GroupHarness();
    staticGroup(h);
    h.storeMode = 'hold';
    const r = h.join({ instanceId: 'i2', clientId: 'c2' });
    expect(h.joins.has(r)).toBe(false);
    h.completeHeldStore();
    expect(h.joins.get(r)).toMatchObject({ error: null, memberId: 'i2-u3' });
  });

  test('if the new member id cannot be stored, the old incarnation is put back and the restart is refused', () => {
    const h = new GroupHarness();
    const { m1, m2 } = staticGroup(h);
    h.storeMode = { fail: 'NOT_LEADER_OR_FOLLOWER' };
    const r = h.join({ instanceId: 'i2', clientId: 'c2', sessionTimeoutMs: 20_000 });
    expect(h.joins.get(r)).toEqual({
      error: 'NOT_COORDINATOR',
      generationId: 1,
      protocolType: 'consumer',
      protocolName: 'range',
      leaderId: m1,
      memberId: '',
      skipAssignment: false,
      members: [],
    });
    expect(h.heartbeat(m2, 1, 'i2')).toEqual({ error: null });
    expect(h.coordinator.memberIds()).toEqual([m1, m2]);
    expect(h.coordinator.pendingRequestCount).toBe(0);
  });

  test('a restart during a rebalance takes the old member’s place in it', () => {
    const h = new GroupHarness();
    const { m1 } = staticGroup(h);
    const leaderRejoin = h.join({ memberId: m1, instanceId: 'i1', clientId: 'c1' });
    const restart = h.join({ instanceId: 'i2', clientId: 'c2' });
    expect(h.joins.get(leaderRejoin)).toMatchObject({ error: null, generationId: 2 });
    expect(h.joins.get(leaderRejoin)!.members.map((m) => m.memberId)).toEqual([m1, 'i2-u3']);
    expect(h.joins.get(restart)).toMatchObject({ error: null, generationId: 2, memberId: 'i2-u3' });
  });

  test('a restart during CompletingRebalance starts the rebalance over (the leader may be assigning to the old id)', () => {
    const h = new GroupHarness();
    const { m1, m2 } = staticGroup(h);
    h.join({ memberId: m1, instanceId: 'i1', clientId: 'c1' });
    h.join({ memberId: m2, instanceId: 'i2', clientId: 'c2' });
    expect(h.coordinator.state).toBe('CompletingRebalance');
    // The leader's assignment is being written when the restart arrives.
    h.storeMode = 'hold';
    const waiting = h.sync(m1, 2, { [m1]: assignmentBytes([0]), [m2]: assignmentBytes([1]) }, 'i1');
    expect(h.syncs.has(waiting)).toBe(false);
    h.join({ instanceId: 'i2', clientId: 'c2' });
    expect(h.coordinator.state).toBe('PreparingRebalance');
    expect(h.syncs.get(waiting)!.error).toBe('REBALANCE_IN_PROGRESS');
    // The late write of the abandoned generation's assignment changes nothing.
    h.completeHeldStore();
    expect(h.coordinator.state).toBe('PreparingRebalance');
  });

  test('a static member that does not rejoin is kept past the rebalance timeout (until its session times out)', () => {
    const h = new GroupHarness();
    const { m1, m2 } = staticGroup(h, { session: [10_000, 60_000], rebalanceTimeoutMs: 20_000 });
    const rejoin = h.join({ memberId: m1, instanceId: 'i1', clientId: 'c1', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 20_000 });
    h.advanceWithHeartbeats(20_000, 2_000, [{ memberId: m1, generationId: 1, instanceId: 'i1' }]);
    expect(h.joins.get(rejoin)!.members.map((m) => m.memberId)).toEqual([m1, m2]);
    expect(h.coordinator.state).toBe('CompletingRebalance');
    expect(h.removedMembers()).toEqual([]);
  });

  test('an administrator removes a static member by group.instance.id (LeaveGroup with no member id)', () => {
    const h = new GroupHarness();
    const { m2 } = staticGroup(h);
    const r = h.leave({ memberId: '', groupInstanceId: 'i2' }, { memberId: '', groupInstanceId: 'nope' });
    expect(r.members.map((m) => m.error)).toEqual([null, 'UNKNOWN_MEMBER_ID']);
    expect(h.removedMembers()).toEqual([{ memberId: m2, reason: 'leave-group' }]);
    expect(h.coordinator.state).toBe('PreparingRebalance');
  });
});

describe('offset commits: who may commit', () => {
  test('an Empty group accepts simple commits (generation −1); a member id with a generation must exist', () => {
    const h = new GroupHarness();
    expect(commitCheck(h, { memberId: '', groupInstanceId: null, generationId: -1 })).toBeNull();
    expect(commitCheck(h, { memberId: 'whoever', groupInstanceId: null, generationId: -1 })).toBeNull();
    expect(commitCheck(h, { memberId: '', groupInstanceId: null, generationId: 3 })).toBe('UNKNOWN_MEMBER_ID');
  });

  test('in an active group only current members of the current generation commit; a zombie is refused', () => {
    const h = new GroupHarness();
    const g = h.stableGroup(2, { sessionTimeoutMs: 10_000 });
    const [a, b] = g.members as [string, string];
    expect(commitCheck(h, { memberId: b, groupInstanceId: null, generationId: 1 })).toBeNull();
    expect(commitCheck(h, { memberId: b, groupInstanceId: null, generationId: 0 })).toBe('ILLEGAL_GENERATION');
    expect(commitCheck(h, { memberId: 'ghost', groupInstanceId: null, generationId: 1 })).toBe('UNKNOWN_MEMBER_ID');
    expect(commitCheck(h, { memberId: '', groupInstanceId: null, generationId: -1 })).toBe('UNKNOWN_MEMBER_ID');
    // b stalls past its session; the group moves on to generation 2 without it.
    h.advanceWithHeartbeats(12_000, 2_000, [{ memberId: a, generationId: 1 }]);
    h.join({ memberId: a, clientId: 'client0' });
    h.sync(a, 2, { [a]: assignmentBytes([0, 1]) });
    expect(commitCheck(h, { memberId: b, groupInstanceId: null, generationId: 1 })).toBe('UNKNOWN_MEMBER_ID'); // the zombie
    expect(commitCheck(h, { memberId: a, groupInstanceId: null, generationId: 1 })).toBe('ILLEGAL_GENERATION');
    expect(commitCheck(h, { memberId: a, groupInstanceId: null, generationId: 2 })).toBeNull();
  });

  test('commits are allowed while PreparingRebalance, refused with REBALANCE_IN_PROGRESS in CompletingRebalance', () => {
    const h = new GroupHarness();
    const g = h.stableGroup(2);
    const [a, b] = g.members as [string, string];
    h.join({ memberId: a, clientId: 'client0' });
    expect(commitCheck(h, { memberId: b, groupInstanceId: null, generationId: 1 })).toBeNull();
    h.join({ memberId: b, clientId: 'client1' });
    expect(h.coordinator.state).toBe('CompletingRebalance');
    expect(commitCheck(h, { memberId: b, groupInstanceId: null, generationId: 2 })).toBe('REBALANCE_IN_PROGRESS');
  });

  test('a member’s commit counts as a heartbeat', () => {
    const h = new GroupHarness();
    const g = h.stableGroup(1, { sessionTimeoutMs: 10_000 });
    for (let i = 0; i < 6; i++) {
      h.advance(5_000);
      expect(commitCheck(h, { memberId: g.leader, groupInstanceId: null, generationId: 1 })).toBeNull();
    }
    expect(h.removedMembers()).toEqual([]);
  });
});

describe('group.max.size', () => {
  test('a member beyond group.max.size gets GROUP_MAX_SIZE_REACHED; so does a joiner when that many are already waiting for ids', () => {
    const h = new GroupHarness({ groupMaxSize: 2 });
    h.stableGroup(2);
    expect(h.joins.get(h.join({ clientId: 'third' }))).toMatchObject({ error: 'GROUP_MAX_SIZE_REACHED', memberId: '' });
    const fresh = new GroupHarness({ groupMaxSize: 2 });
    fresh.join();
    fresh.join();
    expect(fresh.joins.get(fresh.join())!.error).toBe('GROUP_MAX_SIZE_REACHED');
  });

  test('a loaded group above group.max.size starts a rebalance at once', () => {
    const value = storedGroupValue();
    const { coordinator, step } = GroupCoordinator.load(value, { groupId: GROUP, nowMs: 1_000, config: { groupMaxSize: 1 }, newMemberIdSuffix: () => 'x' });
    expect(coordinator.state).toBe('PreparingRebalance');
    expect(step.effects).toContainEqual(expect.objectContaining({ type: 'state-changed', from: 'Stable', to: 'PreparingRebalance' }));
  });
});

describe('views, deletion, OffsetDelete rules', () => {
  test('DescribeGroups shows protocol, metadata and assignments only when Stable; ListGroups the overview', () => {
    const h = new GroupHarness();
    const g = h.stableGroup(2);
    const d = h.coordinator.describe();
    expect(d).toMatchObject({ groupId: GROUP, state: 'Stable', protocolType: 'consumer', protocolName: 'range' });
    expect(d.members).toEqual([
      { memberId: g.members[0], groupInstanceId: null, clientId: 'client0', clientHost: '/127.0.0.1', metadata: consumerProtocols(['t'])[0]!.metadata, assignment: assignmentBytes([0]) },
      { memberId: g.members[1], groupInstanceId: null, clientId: 'client1', clientHost: '/127.0.0.1', metadata: consumerProtocols(['t'])[0]!.metadata, assignment: assignmentBytes([1]) },
    ]);
    expect(h.coordinator.overview()).toEqual({ groupId: GROUP, protocolType: 'consumer', state: 'Stable' });
    h.join({ memberId: g.leader, clientId: 'client0' });
    const during = h.coordinator.describe();
    expect(during).toMatchObject({ state: 'PreparingRebalance', protocolName: '' });
    expect(during.members.every((m) => m.metadata.length === 0 && m.assignment.length === 0)).toBe(true);
  });

  test('DeleteGroups: NON_EMPTY_GROUP while members remain; an Empty group becomes Dead with a tombstone; then GROUP_ID_NOT_FOUND', () => {
    const h = new GroupHarness();
    const g = h.stableGroup(1);
    const del = (): KafkaErrorName | null => {
      const r = h.coordinator.delete(h.now);
      h.absorb(r);
      return r.response.error;
    };
    expect(del()).toBe('NON_EMPTY_GROUP');
    h.leave({ memberId: g.leader, groupInstanceId: null });
    expect(del()).toBeNull();
    expect(h.coordinator.state).toBe('Dead');
    expect(h.effects).toContainEqual({ type: 'delete-group', groupId: GROUP, record: { key: encodeGroupMetadataKey(GROUP), value: null } });
    expect(del()).toBe('GROUP_ID_NOT_FOUND');
    expect(h.joins.get(h.join())).toMatchObject({ error: 'COORDINATOR_NOT_AVAILABLE', memberId: '' });
    expect(h.heartbeat(g.leader, 1)).toEqual({ error: 'COORDINATOR_NOT_AVAILABLE' });
    expect(commitCheck(h, { memberId: '', groupInstanceId: null, generationId: -1 })).toBe('COORDINATOR_NOT_AVAILABLE');
  });

  test('OffsetDelete: any offset of an Empty group; only unsubscribed topics of an active consumer group', () => {
    const h = new GroupHarness();
    const tps = [{ topic: 't', partition: 0 }, { topic: 'other', partition: 3 }];
    expect(h.coordinator.offsetDeletionCheck(tps)).toEqual({ groupError: null, eligible: tps, partitionErrors: [] });
    h.stableGroup(1);
    expect(h.coordinator.offsetDeletionCheck(tps)).toEqual({
      groupError: null,
      eligible: [{ topic: 'other', partition: 3 }],
      partitionErrors: [{ topic: 't', partition: 0, error: 'GROUP_SUBSCRIBED_TO_TOPIC' }],
    });
    const connect = new GroupHarness({ groupInitialRebalanceDelayMs: 0 });
    connect.joinNew({ protocolType: 'connect', protocols: [{ name: 'default', metadata: new Uint8Array([1]) }] });
    expect(connect.coordinator.offsetDeletionCheck(tps).groupError).toBe('NON_EMPTY_GROUP');
  });

  test('the expiry view says state, protocol type, since when, and the subscribed topics', () => {
    const h = new GroupHarness();
    expect(h.coordinator.expiryView()).toEqual({ state: 'Empty', protocolType: null, currentStateTimestampMs: 0, subscribedTopics: null });
    const g = h.stableGroup(2, { protocols: consumerProtocols(['t', 'u']) });
    expect(h.coordinator.expiryView()).toMatchObject({ state: 'Stable', protocolType: 'consumer', subscribedTopics: new Set(['t', 'u']) });
    h.now += 500;
    for (const m of g.members) h.leave({ memberId: m, groupInstanceId: null });
    expect(h.coordinator.expiryView()).toEqual({ state: 'Empty', protocolType: 'consumer', currentStateTimestampMs: h.now, subscribedTopics: new Set() });
  });
});

describe('unloading and loading', () => {
  test('unload answers every waiting JoinGroup and SyncGroup with NOT_COORDINATOR and leaves nothing pending or scheduled', () => {
    const h = new GroupHarness();
    const a = h.joinNew({ clientId: 'a' });
    const b = h.joinNew({ clientId: 'b' });
    h.settleJoin();
    const sb = h.sync(b.memberId, 1);
    const c = h.joinNew({ clientId: 'c' });
    expect(h.coordinator.pendingRequestCount).toBe(1);
    h.absorb(h.coordinator.unload(h.now));
    expect(h.syncs.get(sb)!.error).toBe('REBALANCE_IN_PROGRESS'); // answered when c's join started the rebalance
    expect(h.joins.get(c.requestId)).toMatchObject({ error: 'NOT_COORDINATOR' });
    expect(h.coordinator.state).toBe('Dead');
    expect(h.coordinator.pendingRequestCount).toBe(0);
    expect(h.coordinator.nextDeadlineMs()).toBeNull();
    expect(h.joins.get(a.requestId)!.error).toBeNull();
  });

  test('unload while a static restart waits on its write: the restart is answered; the late write changes nothing', () => {
    const h = new GroupHarness();
    staticGroup(h);
    h.storeMode = 'hold';
    const r = h.join({ instanceId: 'i2', clientId: 'c2' });
    h.absorb(h.coordinator.unload(h.now));
    expect(h.joins.get(r)!.error).toBe('NOT_COORDINATOR');
    h.completeHeldStore();
    expect(h.coordinator.state).toBe('Dead');
  });

  test('a group loaded from its record is Stable with its members, leader and assignments, and members time out without heartbeats', () => {
    const value = storedGroupValue();
    const { coordinator, step } = GroupCoordinator.load(value, { groupId: GROUP, nowMs: 50_000, newMemberIdSuffix: () => 'x' });
    expect(step).toEqual({ responses: [], effects: [] });
    const h = new GroupHarness({}, coordinator);
    h.now = 50_000;
    expect(coordinator).toMatchObject({ state: 'Stable', generationId: 5, protocolName: 'range', leaderId: 'm2', memberCount: 2 });
    expect(coordinator.describe().members.map((m) => [m.memberId, m.groupInstanceId, m.assignment])).toEqual([
      ['m1', null, assignmentBytes([0])],
      ['m2', 'i2', assignmentBytes([1])],
    ]);
    expect(h.syncs.get(h.sync('m1', 5))!.assignment).toEqual(assignmentBytes([0]));
    expect(h.heartbeat('m2', 5, 'i2')).toEqual({ error: null });
    h.advanceWithHeartbeats(12_000, 1_000, [{ memberId: 'm2', generationId: 5, instanceId: 'i2' }]);
    expect(h.removedMembers()).toEqual([{ memberId: 'm1', reason: 'session-timeout' }]);
  });

  test('the record a group stores loads back to the same group', () => {
    const h = new GroupHarness();
    const g = h.stableGroup(3, { protocols: consumerProtocols(['t', 'u']) });
    const stored = h.stores().at(-1)!;
    const { coordinator } = GroupCoordinator.load(stored, { groupId: GROUP, nowMs: h.now, newMemberIdSuffix: () => 'y' });
    expect(coordinator.describe()).toEqual(h.coordinator.describe());
    expect(coordinator.leaderId).toBe(g.leader);
    expect(coordinator.expiryView()).toEqual(h.coordinator.expiryView());
  });

  test('an empty record loads an Empty group that remembers its protocol type (for offset expiration)', () => {
    const { coordinator } = GroupCoordinator.load(
      { protocolType: 'consumer', generationId: 7, protocolName: null, leaderId: null, currentStateTimestampMs: 123, members: [] },
      { groupId: GROUP, nowMs: 1_000, newMemberIdSuffix: () => 'z' },
    );
    expect(coordinator.expiryView()).toEqual({ state: 'Empty', protocolType: 'consumer', currentStateTimestampMs: 123, subscribedTopics: new Set() });
    expect(coordinator.generationId).toBe(7);
  });

  test('a record that contradicts itself is refused with GroupError INVALID_ARGUMENT', () => {
    const ok = storedGroupValue();
    const opts = { groupId: GROUP, nowMs: 0, newMemberIdSuffix: () => 'w' };
    expect(() => GroupCoordinator.load({ ...ok, protocolName: null }, opts)).toThrow(GroupError);
    expect(() => GroupCoordinator.load({ ...ok, members: [ok.members[0]!, ok.members[0]!] }, opts)).toThrow(GroupError);
    expect(() => GroupCoordinator.load({ ...ok, generationId: -3 }, opts)).toThrow(GroupError);
    expect(() => GroupCoordinator.load({ ...ok, members: [{ ...ok.members[0]!, sessionTimeoutMs: -1 }] }, opts)).toThrow(GroupError);
  });
});

describe('garbage and misuse', () => {
  test('malformed JoinGroups are answered INVALID_REQUEST / INVALID_SESSION_TIMEOUT, never thrown', () => {
    const h = new GroupHarness({ memberMetadataMaxBytes: 64, maxProtocolsPerMember: 2 });
    const err = (spec: Parameters<GroupHarness['join']>[0]) => h.joins.get(h.join(spec))!.error;
    expect(err({ sessionTimeoutMs: 5_999 })).toBe('INVALID_SESSION_TIMEOUT');
    expect(err({ sessionTimeoutMs: 1_800_001 })).toBe('INVALID_SESSION_TIMEOUT');
    expect(err({ rebalanceTimeoutMs: -1 })).toBe('INVALID_REQUEST');
    expect(err({ instanceId: '' })).toBe('INVALID_REQUEST');
    expect(err({ protocols: consumerProtocols(['t'], ['a', 'b', 'c']) })).toBe('INVALID_REQUEST');
    expect(err({ protocols: consumerProtocols(['t'], ['a', 'a']) })).toBe('INVALID_REQUEST');
    expect(err({ protocols: [{ name: 'big', metadata: new Uint8Array(65) }] })).toBe('INVALID_REQUEST');
    const garbage = { ...h.joinRequest(), memberId: 5, protocols: 'x' } as unknown as Parameters<GroupCoordinator['join']>[0];
    h.absorb(h.coordinator.join(garbage, h.now));
    expect(h.joins.get(garbage.requestId)!.error).toBe('INVALID_REQUEST');
    expect(h.coordinator.state).toBe('Empty');
  });

  test('malformed SyncGroup, Heartbeat, LeaveGroup and commit identities are answered INVALID_REQUEST', () => {
    // The harness's assignments are 21 bytes (one topic, one partition); the limit lets them through.
    const h = new GroupHarness({ memberAssignmentMaxBytes: 32 });
    const g = h.stableGroup(1);
    expect(h.coordinator.state).toBe('Stable');
    expect(h.syncs.get(h.sync(g.leader, 1, { [g.leader]: new Uint8Array(33) }))!.error).toBe('INVALID_REQUEST');
    const bad = { requestId: 999, memberId: g.leader, groupInstanceId: null, generationId: 1, protocolType: null, protocolName: null, assignments: [{ memberId: 1 }] };
    h.absorb(h.coordinator.sync(bad as unknown as Parameters<GroupCoordinator['sync']>[0], h.now));
    expect(h.syncs.get(999)!.error).toBe('INVALID_REQUEST');
    expect(h.coordinator.heartbeat({ memberId: 7, groupInstanceId: null, generationId: 'x' } as never, h.now).response.error).toBe('INVALID_REQUEST');
    expect(h.coordinator.leave({ members: 'all' } as never, h.now).response).toEqual({ error: 'INVALID_REQUEST', members: [] });
    expect(h.coordinator.leave({ members: [null, { memberId: 3 }] } as never, h.now).response.members.map((m) => m.error)).toEqual(['INVALID_REQUEST', 'INVALID_REQUEST']);
    expect(commitCheck(h, { memberId: null, groupInstanceId: null, generationId: 1 } as never)).toBe('INVALID_REQUEST');
    expect(h.coordinator.state).toBe('Stable');
  });

  test('adapter misuse throws GroupError INVALID_ARGUMENT and leaves the coordinator usable', () => {
    const h = new GroupHarness();
    const { memberId } = h.joinNew();
    h.advance(100);
    expect(() => h.coordinator.tick(99)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => h.coordinator.tick(Number.NaN)).toThrow(GroupError);
    const pendingId = [...Array(10).keys()].map((i) => i + 1).find((id) => !h.joins.has(id))!;
    expect(() => h.coordinator.join(h.joinRequest({ memberId }) && { ...h.joinRequest({ memberId }), requestId: pendingId }, h.now)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => h.coordinator.onGroupStored(12345, null, h.now)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    h.advance(3_000);
    expect(h.joins.get(pendingId)).toMatchObject({ error: null, generationId: 1 });
  });

  test('bad configuration and options are refused with GroupError', () => {
    const mk = (config: object, groupId = GROUP) => () => GroupCoordinator.create({ groupId, nowMs: 0, config, newMemberIdSuffix: () => 'x' });
    expect(mk({ groupMaxSize: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
    expect(mk({ groupMinSessionTimeoutMs: 10, groupMaxSessionTimeoutMs: 5 })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
    expect(mk({}, '')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  test('a newMemberIdSuffix that repeats itself is caught, not turned into two members with one id', () => {
    const c = GroupCoordinator.create({ groupId: GROUP, nowMs: 0, newMemberIdSuffix: () => 'same' });
    const h = new GroupHarness({}, c);
    h.join({ clientId: 'c' });
    expect(() => h.join({ clientId: 'c' })).toThrow(expect.objectContaining({ code: 'INVARIANT_VIOLATION' }));
  });
});

function storedGroupValue(): GroupMetadataValue {
  const sub = encodeSubscription(subscription(['t']));
  return {
    protocolType: 'consumer',
    generationId: 5,
    protocolName: 'range',
    leaderId: 'm2',
    currentStateTimestampMs: 40_000,
    members: [
      { memberId: 'm1', groupInstanceId: null, clientId: 'c1', clientHost: 'h1', rebalanceTimeoutMs: 30_000, sessionTimeoutMs: 10_000, subscription: sub, assignment: assignmentBytes([0]) },
      { memberId: 'm2', groupInstanceId: 'i2', clientId: 'c2', clientHost: 'h2', rebalanceTimeoutMs: 30_000, sessionTimeoutMs: 10_000, subscription: sub, assignment: assignmentBytes([1]) },
    ],
  };
}
