// The classic group protocol, one rule per test, as Kafka 3.x's GroupCoordinator behaves: the
// two-step first join, the initial rebalance delay, leader election and protocol choice, the
// rebalance completing when everyone rejoined (or at the rebalance timeout, without those who did
// not), SyncGroup waiting for the leader's assignment and for it to be stored, session timeouts,
// the pending-sync timeout, LeaveGroup, and the errors of each request.

import { GroupHarness, assignmentBytes, consumerProtocols } from './group-harness.js';

describe('first join of an empty group', () => {
  test('a new member is given its id (MEMBER_ID_REQUIRED), joins with it, waits group.initial.rebalance.delay.ms, and leads generation 1', () => {
    const h = new GroupHarness();
    const first = h.join({ clientId: 'c' });
    expect(h.joins.get(first)).toMatchObject({ error: 'MEMBER_ID_REQUIRED', memberId: 'c-u1', generationId: -1, leaderId: '' });
    expect(h.coordinator.state).toBe('Empty');
    expect(h.coordinator.pendingMemberCount).toBe(1);

    const second = h.join({ clientId: 'c', memberId: 'c-u1' });
    expect(h.coordinator.state).toBe('PreparingRebalance');
    h.advance(2_999);
    expect(h.joins.has(second)).toBe(false);
    h.advance(1);
    expect(h.joins.get(second)).toEqual({
      error: null,
      generationId: 1,
      protocolType: 'consumer',
      protocolName: 'range',
      leaderId: 'c-u1',
      memberId: 'c-u1',
      skipAssignment: false,
      members: [{ memberId: 'c-u1', groupInstanceId: null, metadata: consumerProtocols(['t'])[0]!.metadata }],
    });
    expect(h.coordinator.state).toBe('CompletingRebalance');
  });

  test("the leader's SyncGroup is answered only once the assignment is stored; then the group is Stable", () => {
    const h = new GroupHarness();
    const { memberId } = h.joinNew({ clientId: 'c' });
    h.advance(3_000);
    h.storeMode = 'hold';
    const sync = h.sync(memberId, 1, { [memberId]: assignmentBytes([0, 1]) });
    expect(h.syncs.has(sync)).toBe(false);
    expect(h.heldStores).toHaveLength(1);
    expect(h.heldStores[0]!.value).toMatchObject({ protocolType: 'consumer', generationId: 1, protocolName: 'range', leaderId: memberId, currentStateTimestampMs: 3_000 });
    expect(h.heldStores[0]!.value.members).toEqual([
      expect.objectContaining({ memberId, groupInstanceId: null, clientId: 'c', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 30_000, assignment: assignmentBytes([0, 1]) }),
    ]);
    h.completeHeldStore();
    expect(h.syncs.get(sync)).toEqual({ error: null, protocolType: 'consumer', protocolName: 'range', assignment: assignmentBytes([0, 1]) });
    expect(h.coordinator.state).toBe('Stable');
    expect(h.heartbeat(memberId, 1)).toEqual({ error: null });
  });

  test('members arriving during the initial delay extend it, by at most the rebalance timeout in all', () => {
    const h = new GroupHarness();
    const a = h.joinNew({ clientId: 'a', rebalanceTimeoutMs: 10_000 });
    // Remaining after the first delay: 10000 - 3000 = 7000.
    h.advance(2_000);
    const b = h.joinNew({ clientId: 'b', rebalanceTimeoutMs: 10_000 });
    h.advance(1_000); // t=3000: B arrived, so wait another 3000 (remaining 4000)
    expect(h.joins.has(a.requestId)).toBe(false);
    h.advance(2_000);
    const c = h.joinNew({ clientId: 'c', rebalanceTimeoutMs: 10_000 }); // t=5000
    h.advance(1_000); // t=6000: C arrived: another 3000 (remaining 1000)
    h.advance(2_000);
    const d = h.joinNew({ clientId: 'd', rebalanceTimeoutMs: 10_000 }); // t=8000
    h.advance(1_000); // t=9000: D arrived: min(3000, 1000) = 1000 more, nothing remains after
    h.advance(500);
    const e = h.joinNew({ clientId: 'e', rebalanceTimeoutMs: 10_000 }); // t=9500
    h.advance(499);
    expect(h.joins.has(a.requestId)).toBe(false);
    h.advance(1); // t=10000: the rebalance timeout is spent
    for (const m of [a, b, c, d, e]) expect(h.joins.get(m.requestId)).toMatchObject({ error: null, generationId: 1, leaderId: a.memberId });
    expect(h.joins.get(a.requestId)!.members.map((m) => m.memberId)).toEqual([a, b, c, d, e].map((m) => m.memberId));
  });

  test('with group.initial.rebalance.delay.ms = 0 the first join completes at once', () => {
    const h = new GroupHarness({ groupInitialRebalanceDelayMs: 0 });
    const { requestId } = h.joinNew();
    expect(h.joins.get(requestId)).toMatchObject({ error: null, generationId: 1 });
  });

  test('a JoinGroup v0-3 client (requireKnownMemberId false) joins in one step', () => {
    const h = new GroupHarness({ groupInitialRebalanceDelayMs: 0 });
    const r = h.join({ clientId: 'old', requireKnownMemberId: false });
    expect(h.joins.get(r)).toMatchObject({ error: null, memberId: 'old-u1', generationId: 1 });
  });
});

describe('rebalancing a group', () => {
  test('a member joining a Stable group starts a rebalance; the others learn it from their heartbeat, rejoin, and it completes as soon as all did', () => {
    const h = new GroupHarness();
    const g = h.stableGroup(1);
    const b = h.joinNew({ clientId: 'b' });
    expect(h.coordinator.state).toBe('PreparingRebalance');
    expect(h.heartbeat(g.leader, 1)).toEqual({ error: 'REBALANCE_IN_PROGRESS' });
    const a = h.join({ memberId: g.leader, clientId: 'client0' });
    expect(h.joins.get(a)).toMatchObject({ error: null, generationId: 2, leaderId: g.leader });
    expect(h.joins.get(a)!.members.map((m) => m.memberId)).toEqual([g.leader, b.memberId]);
    expect(h.joins.get(b.requestId)).toMatchObject({ error: null, generationId: 2, leaderId: g.leader, members: [] });
  });

  test('a member that does not rejoin within the rebalance timeout (max.poll.interval.ms) is removed, even if it heartbeats', () => {
    const h = new GroupHarness();
    const g = h.stableGroup(2, { rebalanceTimeoutMs: 30_000 });
    const [a, b] = g.members as [string, string];
    const rejoin = h.join({ memberId: a, clientId: 'client0', rebalanceTimeoutMs: 30_000 });
    h.advanceWithHeartbeats(29_000, 3_000, [{ memberId: b, generationId: 1 }]);
    expect(h.joins.has(rejoin)).toBe(false);
    h.advance(1_000);
    expect(h.joins.get(rejoin)).toMatchObject({ error: null, generationId: 2, leaderId: a });
    expect(h.joins.get(rejoin)!.members.map((m) => m.memberId)).toEqual([a]);
    expect(h.removedMembers()).toEqual([{ memberId: b, reason: 'rebalance-timeout' }]);
    expect(h.heartbeat(b, 1)).toEqual({ error: 'UNKNOWN_MEMBER_ID' });
  });

  test('the rebalance timeout is the largest of the members’ (a new member’s is counted)', () => {
    const h = new GroupHarness();
    const g = h.stableGroup(1, { rebalanceTimeoutMs: 5_000, sessionTimeoutMs: 60_000 });
    const b = h.joinNew({ clientId: 'b', rebalanceTimeoutMs: 20_000, sessionTimeoutMs: 60_000 });
    h.advance(19_999);
    expect(h.joins.has(b.requestId)).toBe(false);
    h.advance(1);
    expect(h.joins.get(b.requestId)).toMatchObject({ error: null, generationId: 2, leaderId: b.memberId });
    expect(h.removedMembers()).toEqual([{ memberId: g.leader, reason: 'rebalance-timeout' }]);
  });

  test('when the leader does not rejoin, a member that did leads the next generation', () => {
    const h = new GroupHarness();
    const g = h.stableGroup(2);
    const [a, b] = g.members as [string, string];
    // b changes its subscription: a rebalance the leader (alive, heartbeating) does not join.
    const rejoin = h.join({ memberId: b, clientId: 'client1', protocols: consumerProtocols(['t', 'u']) });
    h.advanceWithHeartbeats(30_000, 3_000, [{ memberId: a, generationId: 1 }, { memberId: b, generationId: 1 }]);
    expect(h.joins.get(rejoin)).toMatchObject({ error: null, generationId: 2, leaderId: b });
    expect(h.coordinator.leaderId).toBe(b);
    expect(h.removedMembers()).toEqual([{ memberId: a, reason: 'rebalance-timeout' }]);
  });

  test('a member silent for session.timeout.ms is removed and the group rebalances; heartbeats keep the others in', () => {
    const h = new GroupHarness();
    const g = h.stableGroup(2, { sessionTimeoutMs: 10_000 });
    const [a, b] = g.members as [string, string];
    h.advanceWithHeartbeats(20_000, 2_000, [{ memberId: a, generationId: 1 }]);
    expect(h.removedMembers()).toEqual([{ memberId: b, reason: 'session-timeout' }]);
    expect(h.coordinator.state).toBe('PreparingRebalance');
    expect(h.heartbeat(a, 1)).toEqual({ error: 'REBALANCE_IN_PROGRESS' });
    const rejoin = h.join({ memberId: a, clientId: 'client0' });
    expect(h.joins.get(rejoin)).toMatchObject({ generationId: 2, members: [expect.objectContaining({ memberId: a })] });
  });

  test('a session deadline that passes while the member waits for its JoinGroup answer does not remove it', () => {
    const h = new GroupHarness();
    const a = h.joinNew({ clientId: 'a', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 30_000 });
    const b = h.joinNew({ clientId: 'b', sessionTimeoutMs: 60_000, rebalanceTimeoutMs: 30_000 });
    h.settleJoin();
    h.sync(b.memberId, 1);
    h.sync(a.memberId, 1, { [a.memberId]: assignmentBytes([0]) });
    const ra = h.join({ memberId: a.memberId, clientId: 'a' }); // the leader rejoins; b (silent) does not
    h.advance(29_999); // a's session deadline passes while it waits
    expect(h.removedMembers()).toEqual([]);
    h.advance(1);
    expect(h.removedMembers()).toEqual([{ memberId: b.memberId, reason: 'rebalance-timeout' }]);
    expect(h.joins.get(ra)).toMatchObject({ error: null, generationId: 2 });
  });

  test('a new member whose JoinGroup waits longer than the new-member join timeout is dropped (UNKNOWN_MEMBER_ID)', () => {
    const h = new GroupHarness();
    const g = h.stableGroup(1, { rebalanceTimeoutMs: 600_000 });
    const b = h.joinNew({ clientId: 'b', rebalanceTimeoutMs: 600_000 });
    h.advanceWithHeartbeats(300_000, 5_000, [{ memberId: g.leader, generationId: 1 }]);
    expect(h.joins.get(b.requestId)).toMatchObject({ error: 'UNKNOWN_MEMBER_ID', memberId: '' });
    expect(h.removedMembers()).toEqual([{ memberId: b.memberId, reason: 'new-member-join-timeout' }]);
  });

  test('a member told MEMBER_ID_REQUIRED holds the rebalance until it joins or its session timeout passes', () => {
    const h = new GroupHarness();
    const g = h.stableGroup(1, { sessionTimeoutMs: 10_000 });
    const pending = h.join({ clientId: 'b', sessionTimeoutMs: 10_000 });
    expect(h.joins.get(pending)!.error).toBe('MEMBER_ID_REQUIRED');
    const rejoin = h.join({ memberId: g.leader, clientId: 'client0' });
    h.advance(9_999);
    expect(h.joins.has(rejoin)).toBe(false);
    h.advance(1);
    expect(h.joins.get(rejoin)).toMatchObject({ error: null, generationId: 2 });
    expect(h.joins.get(rejoin)!.members).toHaveLength(1);
    expect(h.removedMembers()).toEqual([{ memberId: h.joins.get(pending)!.memberId, reason: 'pending-timeout' }]);
  });

  test('a JoinGroup repeated while the first still waits replaces it; the first is answered REBALANCE_IN_PROGRESS', () => {
    const h = new GroupHarness();
    const { memberId, requestId } = h.joinNew();
    const again = h.join({ memberId });
    expect(h.joins.get(requestId)).toMatchObject({ error: 'REBALANCE_IN_PROGRESS', memberId });
    h.settleJoin();
    expect(h.joins.get(again)).toMatchObject({ error: null, generationId: 1 });
  });
});

describe('rejoining without a change', () => {
  test('during CompletingRebalance, the same metadata gets the current generation again (a lost response); the leader gets the members', () => {
    const h = new GroupHarness();
    const a = h.joinNew({ clientId: 'a' });
    const b = h.joinNew({ clientId: 'b' });
    h.settleJoin();
    const rb = h.join({ memberId: b.memberId, clientId: 'b' });
    expect(h.joins.get(rb)).toMatchObject({ error: null, generationId: 1, leaderId: a.memberId, members: [] });
    const ra = h.join({ memberId: a.memberId, clientId: 'a' });
    expect(h.joins.get(ra)!.members).toHaveLength(2);
    expect(h.coordinator.state).toBe('CompletingRebalance');
    h.join({ memberId: b.memberId, clientId: 'b', protocols: consumerProtocols(['t', 'u']) });
    expect(h.coordinator.state).toBe('PreparingRebalance');
  });

  test('in a Stable group a follower with unchanged metadata gets the current generation; the leader (or a changed follower) triggers a rebalance', () => {
    const h = new GroupHarness();
    const g = h.stableGroup(2);
    const [a, b] = g.members as [string, string];
    const rb = h.join({ memberId: b, clientId: 'client1' });
    expect(h.joins.get(rb)).toMatchObject({ error: null, generationId: 1, leaderId: a, members: [] });
    expect(h.coordinator.state).toBe('Stable');
    h.join({ memberId: a, clientId: 'client0' });
    expect(h.coordinator.state).toBe('PreparingRebalance');
  });
});

describe('protocol choice', () => {
  test('only protocols every member supports are candidates; each member votes its favourite; most votes win', () => {
    const h = new GroupHarness();
    const proto = (names: string[]) => consumerProtocols(['t'], names);
    h.joinNew({ clientId: 'a', protocols: proto(['range', 'roundrobin']) });
    h.joinNew({ clientId: 'b', protocols: proto(['roundrobin', 'range']) });
    const c = h.joinNew({ clientId: 'c', protocols: proto(['roundrobin']) });
    h.settleJoin();
    expect(h.joins.get(c.requestId)!.protocolName).toBe('roundrobin');

    const h2 = new GroupHarness();
    h2.joinNew({ clientId: 'a', protocols: proto(['range', 'roundrobin']) });
    h2.joinNew({ clientId: 'b', protocols: proto(['range', 'roundrobin']) });
    const c2 = h2.joinNew({ clientId: 'c', protocols: proto(['roundrobin', 'range']) });
    h2.settleJoin();
    expect(h2.joins.get(c2.requestId)!.protocolName).toBe('range');
  });

  test('a member with another protocol type, or sharing no protocol, or offering none, gets INCONSISTENT_GROUP_PROTOCOL', () => {
    const h = new GroupHarness();
    h.stableGroup(1);
    expect(h.joins.get(h.join({ protocolType: 'connect' }))!.error).toBe('INCONSISTENT_GROUP_PROTOCOL');
    expect(h.joins.get(h.join({ protocols: consumerProtocols(['t'], ['sticky']) }))!.error).toBe('INCONSISTENT_GROUP_PROTOCOL');
    const empty = new GroupHarness();
    expect(empty.joins.get(empty.join({ protocols: [] }))!.error).toBe('INCONSISTENT_GROUP_PROTOCOL');
    expect(empty.joins.get(empty.join({ protocolType: '' }))!.error).toBe('INCONSISTENT_GROUP_PROTOCOL');
  });
});

describe('SyncGroup', () => {
  test('followers wait for the leader; the leader’s assignment reaches everyone; members it left out get an empty one', () => {
    const h = new GroupHarness();
    const a = h.joinNew({ clientId: 'a' });
    const b = h.joinNew({ clientId: 'b' });
    const c = h.joinNew({ clientId: 'c' });
    h.settleJoin();
    const sb = h.sync(b.memberId, 1);
    const sc = h.sync(c.memberId, 1);
    expect(h.syncs.size).toBe(0);
    const sa = h.sync(a.memberId, 1, { [a.memberId]: assignmentBytes([0]), [b.memberId]: assignmentBytes([1]), 'not-a-member': assignmentBytes([2]) });
    expect(h.syncs.get(sa)!.assignment).toEqual(assignmentBytes([0]));
    expect(h.syncs.get(sb)).toEqual({ error: null, protocolType: 'consumer', protocolName: 'range', assignment: assignmentBytes([1]) });
    expect(h.syncs.get(sc)).toEqual({ error: null, protocolType: 'consumer', protocolName: 'range', assignment: new Uint8Array(0) });
    expect(h.stores().at(-1)!.members.map((m) => m.memberId)).toEqual([a.memberId, b.memberId, c.memberId]);
  });

  test('in a Stable group a SyncGroup gets the stored assignment at once', () => {
    const h = new GroupHarness();
    const g = h.stableGroup(2);
    const again = h.sync(g.members[1]!, 1);
    expect(h.syncs.get(again)!.assignment).toEqual(assignmentBytes([1]));
  });

  test('errors: unknown member, old generation, other protocol, rebalance in progress', () => {
    const h = new GroupHarness();
    const g = h.stableGroup(2);
    const [a, b] = g.members as [string, string];
    expect(h.syncs.get(h.sync('nobody', 1))!.error).toBe('UNKNOWN_MEMBER_ID');
    expect(h.syncs.get(h.sync(b, 0))!.error).toBe('ILLEGAL_GENERATION');
    expect(h.syncs.get(h.sync(b, 1, {}, null, 'roundrobin'))!.error).toBe('INCONSISTENT_GROUP_PROTOCOL');
    h.join({ memberId: a, clientId: 'client0' });
    expect(h.syncs.get(h.sync(b, 1))).toEqual({ error: 'REBALANCE_IN_PROGRESS', protocolType: null, protocolName: null, assignment: new Uint8Array(0) });
  });

  test('a failed write of the assignment fails every waiting SyncGroup (Kafka’s error mapping) and the group rebalances', () => {
    const h = new GroupHarness();
    const a = h.joinNew({ clientId: 'a' });
    const b = h.joinNew({ clientId: 'b' });
    h.settleJoin();
    const sb = h.sync(b.memberId, 1);
    h.storeMode = { fail: 'NOT_LEADER_OR_FOLLOWER' };
    const sa = h.sync(a.memberId, 1, { [a.memberId]: assignmentBytes([0]), [b.memberId]: assignmentBytes([1]) });
    expect(h.syncs.get(sa)).toEqual({ error: 'NOT_COORDINATOR', protocolType: null, protocolName: null, assignment: new Uint8Array(0) });
    expect(h.syncs.get(sb)!.error).toBe('NOT_COORDINATOR');
    expect(h.coordinator.state).toBe('PreparingRebalance');
  });

  test('a write that times out maps to REBALANCE_IN_PROGRESS; a group record over groupRecordMaxBytes fails with UNKNOWN_SERVER_ERROR', () => {
    const timedOut = new GroupHarness();
    const m = timedOut.joinNew();
    timedOut.advance(3_000);
    timedOut.storeMode = { fail: 'REQUEST_TIMED_OUT' };
    expect(timedOut.syncs.get(timedOut.sync(m.memberId, 1, { [m.memberId]: assignmentBytes([0]) }))!.error).toBe('REBALANCE_IN_PROGRESS');

    const big = new GroupHarness({ groupRecordMaxBytes: 200 });
    const n = big.joinNew();
    big.advance(3_000);
    const huge = assignmentBytes(Array.from({ length: 100 }, (_, i) => i));
    expect(big.syncs.get(big.sync(n.memberId, 1, { [n.memberId]: huge }))!.error).toBe('UNKNOWN_SERVER_ERROR');
    expect(big.stores()).toHaveLength(0);
  });

  test('a write that completes after the group moved on changes nothing', () => {
    const h = new GroupHarness();
    const a = h.joinNew({ clientId: 'a' });
    h.advance(3_000);
    h.storeMode = 'hold';
    const sa = h.sync(a.memberId, 1, { [a.memberId]: assignmentBytes([0]) });
    h.storeMode = 'auto';
    h.joinNew({ clientId: 'b' }); // rebalance: a's SyncGroup is answered REBALANCE_IN_PROGRESS
    expect(h.syncs.get(sa)!.error).toBe('REBALANCE_IN_PROGRESS');
    h.completeHeldStore();
    expect(h.coordinator.state).toBe('PreparingRebalance');
  });

  test('members that do not send SyncGroup within the rebalance timeout are removed and the group rebalances', () => {
    const h = new GroupHarness();
    const a = h.joinNew({ clientId: 'a', rebalanceTimeoutMs: 20_000 });
    const b = h.joinNew({ clientId: 'b', rebalanceTimeoutMs: 20_000 });
    h.settleJoin();
    h.sync(a.memberId, 1, { [a.memberId]: assignmentBytes([0]) });
    expect(h.coordinator.state).toBe('Stable');
    h.advanceWithHeartbeats(19_000, 2_000, [{ memberId: a.memberId, generationId: 1 }, { memberId: b.memberId, generationId: 1 }]);
    expect(h.removedMembers()).toEqual([]);
    h.advance(1_000);
    expect(h.removedMembers()).toEqual([{ memberId: b.memberId, reason: 'sync-timeout' }]);
    expect(h.coordinator.state).toBe('PreparingRebalance');
  });

  test('no one is removed at the sync deadline when everyone synced', () => {
    const h = new GroupHarness();
    const g = h.stableGroup(3);
    h.advanceWithHeartbeats(60_000, 2_000, g.members.map((memberId) => ({ memberId, generationId: 1 })));
    expect(h.removedMembers()).toEqual([]);
    expect(h.coordinator.state).toBe('Stable');
  });
});

describe('Heartbeat', () => {
  test('answers by state and identity: NONE, REBALANCE_IN_PROGRESS, UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION', () => {
    const h = new GroupHarness();
    const g = h.stableGroup(2);
    const [a, b] = g.members as [string, string];
    expect(h.heartbeat(b, 1)).toEqual({ error: null });
    expect(h.heartbeat('ghost', 1)).toEqual({ error: 'UNKNOWN_MEMBER_ID' });
    expect(h.heartbeat(b, 0)).toEqual({ error: 'ILLEGAL_GENERATION' });
    expect(h.heartbeat(b, 2)).toEqual({ error: 'ILLEGAL_GENERATION' });
    h.join({ memberId: a, clientId: 'client0' });
    expect(h.heartbeat(b, 1)).toEqual({ error: 'REBALANCE_IN_PROGRESS' });
  });

  test('in CompletingRebalance a heartbeat is normal (the consumer heartbeats after its JoinGroup answer)', () => {
    const h = new GroupHarness();
    const a = h.joinNew();
    h.advance(3_000);
    expect(h.heartbeat(a.memberId, 1)).toEqual({ error: null });
  });
});

describe('LeaveGroup', () => {
  test('a leaving member makes the group rebalance; the last one to leave makes it Empty (and the empty generation is stored)', () => {
    const h = new GroupHarness();
    const g = h.stableGroup(2);
    const [a, b] = g.members as [string, string];
    expect(h.leave({ memberId: b, groupInstanceId: null })).toEqual({ error: null, members: [{ memberId: b, groupInstanceId: null, error: null }] });
    expect(h.removedMembers()).toEqual([{ memberId: b, reason: 'leave-group' }]);
    const rejoin = h.join({ memberId: a, clientId: 'client0' });
    expect(h.joins.get(rejoin)).toMatchObject({ generationId: 2 });
    h.sync(a, 2, { [a]: assignmentBytes([0, 1]) });
    h.leave({ memberId: a, groupInstanceId: null });
    expect(h.coordinator.state).toBe('Empty');
    expect(h.coordinator.generationId).toBe(3);
    expect(h.stores().at(-1)).toMatchObject({ generationId: 3, protocolName: null, leaderId: null, members: [] });
  });

  test('per-member errors: an unknown member, a pending member, a member leaving while its JoinGroup waits', () => {
    const h = new GroupHarness();
    const pending = h.join({ clientId: 'p' });
    const pendingId = h.joins.get(pending)!.memberId;
    const m = h.joinNew({ clientId: 'm' });
    const r = h.leave({ memberId: 'ghost', groupInstanceId: null }, { memberId: pendingId, groupInstanceId: null }, { memberId: m.memberId, groupInstanceId: null });
    expect(r.members.map((x) => x.error)).toEqual(['UNKNOWN_MEMBER_ID', null, null]);
    expect(h.joins.get(m.requestId)).toMatchObject({ error: 'UNKNOWN_MEMBER_ID', memberId: '' });
    expect(h.coordinator.pendingRequestCount).toBe(0);
  });

  test('a member leaving while its SyncGroup waits gets that SyncGroup answered (nothing is left pending)', () => {
    const h = new GroupHarness();
    h.joinNew({ clientId: 'a' });
    const b = h.joinNew({ clientId: 'b' });
    h.settleJoin();
    const sb = h.sync(b.memberId, 1);
    h.leave({ memberId: b.memberId, groupInstanceId: null });
    expect(h.syncs.get(sb)!.error).toBe('UNKNOWN_MEMBER_ID');
    expect(h.coordinator.pendingRequestCount).toBe(0);
  });
});
