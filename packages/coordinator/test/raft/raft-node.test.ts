// RaftNode's contract with its adapter, message by message: configuration and persisted-state
// validation, garbage messages, the Ready protocol and what must be persisted with what,
// refusals and limits, randomized election timeouts, flow control, restart and compaction.

import {
  type Message,
  RaftError,
  RaftNode,
  type RaftConfig,
  type Ready,
  type Entry,
  seededRandom,
} from '../../src/raft/index.js';

const enc = new TextEncoder();

function newNode(overrides: Partial<RaftConfig> = {}): RaftNode {
  return new RaftNode({ id: 1, peers: [1, 2, 3], random: () => 0, ...overrides });
}

/** Drains and advances every Ready; returns them. */
function drain(node: RaftNode): Ready[] {
  const out: Ready[] = [];
  for (let rd = node.ready(); rd !== null; rd = node.ready()) {
    out.push(rd);
    node.advance(rd);
  }
  return out;
}

function sent(readies: readonly Ready[]): Message[] {
  return readies.flatMap((rd) => rd.messages);
}

/** Node 1 of {1,2,3} elected with node 2's (pre-)votes; its no-op at index 1 is not yet acknowledged. */
function electedLeader(overrides: Partial<RaftConfig> = {}): RaftNode {
  const node = newNode(overrides);
  node.campaign();
  node.step({ type: 'preVoteResponse', from: 2, to: 1, term: 1, reject: false });
  node.step({ type: 'voteResponse', from: 2, to: 1, term: 1, reject: false });
  expect(node.isLeader).toBe(true);
  drain(node);
  return node;
}

function ack(node: RaftNode, from: number, index: number): Ready[] {
  node.step({ type: 'appendResponse', from, to: 1, term: node.term, index, reject: false, hintIndex: 0, hintTerm: 0 });
  return drain(node);
}

function raftError(fn: () => unknown): RaftError {
  try {
    fn();
  } catch (e) {
    if (e instanceof RaftError) return e;
    throw e;
  }
  throw new Error('expected a RaftError');
}

describe('RaftNode configuration and restart state', () => {
  test('invalid configurations are refused with INVALID_CONFIG', () => {
    const bad: Partial<RaftConfig>[] = [
      { id: 4 },
      { peers: [1, 2, 2] },
      { peers: [] },
      { id: 0 },
      { electionTicks: 5, heartbeatTicks: 5 },
      { electionTicks: 0 },
      { random: 'x' as unknown as () => number },
      { maxInflightAppends: 0 },
      { preVote: 'yes' as unknown as boolean },
      { applied: -1 },
    ];
    for (const overrides of bad) expect(raftError(() => newNode(overrides)).code).toBe('INVALID_CONFIG');
  });

  test('inconsistent persisted state is refused with INVALID_PERSISTED_STATE', () => {
    const entry = (index: number, term: number): Entry => ({ index, term, type: 'normal', data: new Uint8Array(0) });
    const states = [
      { hardState: { term: 1, vote: null, commit: 0 }, snapshot: null, entries: [entry(1, 1), entry(3, 1)] },
      { hardState: { term: 1, vote: null, commit: 3 }, snapshot: null, entries: [entry(1, 1)] },
      { hardState: { term: 1, vote: 9, commit: 0 }, snapshot: null, entries: [] },
      { hardState: { term: 1, vote: null, commit: 0 }, snapshot: null, entries: [entry(1, 2)] },
      { hardState: { term: 2, vote: null, commit: 0 }, snapshot: null, entries: [entry(1, 2), entry(2, 1)] },
      { hardState: { term: 2, vote: null, commit: 0 }, snapshot: { index: 4, term: 1, data: new Uint8Array(0) }, entries: [entry(6, 2)] },
      { hardState: { term: -1, vote: null, commit: 0 }, snapshot: null, entries: [] },
    ];
    for (const storage of states) expect(raftError(() => newNode({ storage })).code).toBe('INVALID_PERSISTED_STATE');
  });

  test('a restarted node keeps its term and vote: it never votes twice in a term', () => {
    const node = newNode({ id: 2, storage: { hardState: { term: 5, vote: 3, commit: 0 }, snapshot: null, entries: [] } });
    expect(node.term).toBe(5);
    node.step({ type: 'vote', from: 1, to: 2, term: 5, lastIndex: 10, lastTerm: 5, transfer: false });
    const [reply] = sent(drain(node));
    expect(reply).toMatchObject({ type: 'voteResponse', to: 1, reject: true });
    node.step({ type: 'vote', from: 3, to: 2, term: 5, lastIndex: 10, lastTerm: 5, transfer: false });
    expect(sent(drain(node))[0]).toMatchObject({ type: 'voteResponse', to: 3, reject: false });
  });

  test('after a restart, committed entries after the snapshot are delivered again for applying', () => {
    const entry = (index: number, term: number): Entry => ({ index, term, type: 'normal', data: enc.encode(`v${index}`) });
    const node = newNode({
      storage: {
        hardState: { term: 2, vote: 1, commit: 6 },
        snapshot: { index: 4, term: 1, data: enc.encode('state@4') },
        entries: [entry(5, 2), entry(6, 2), entry(7, 2)],
      },
    });
    expect(node.appliedIndex).toBe(4);
    const readies = drain(node);
    expect(readies.flatMap((rd) => rd.committedEntries.map((e) => e.index))).toEqual([5, 6]);
    expect(readies.every((rd) => rd.hardState === null && rd.entries.length === 0 && rd.snapshot === null)).toBe(true);
    expect(node.appliedIndex).toBe(6);
  });

  test('an application that persists its own applied index starts from there', () => {
    const entry = (index: number): Entry => ({ index, term: 1, type: 'normal', data: new Uint8Array(0) });
    const node = newNode({ applied: 2, storage: { hardState: { term: 1, vote: null, commit: 3 }, snapshot: null, entries: [entry(1), entry(2), entry(3)] } });
    expect(drain(node).flatMap((rd) => rd.committedEntries.map((e) => e.index))).toEqual([3]);
    expect(raftError(() => newNode({ applied: 4, storage: { hardState: { term: 1, vote: null, commit: 3 }, snapshot: null, entries: [entry(1), entry(2), entry(3)] } })).code).toBe('INVALID_CONFIG');
  });
});

describe('RaftNode inputs', () => {
  test('garbage messages are refused with INVALID_MESSAGE and change nothing', () => {
    const node = electedLeader();
    const before = node.status();
    const garbage: unknown[] = [
      null,
      'hello',
      { type: 'append', from: 2, to: 1, term: 1 },
      { type: 'teleport', from: 2, to: 1, term: 1 },
      { type: 'heartbeatResponse', from: 2, to: 3, term: 1, readSeq: 0 }, // not for this node
      { type: 'heartbeatResponse', from: 7, to: 1, term: 1, readSeq: 0 }, // not a member
      { type: 'heartbeatResponse', from: 1, to: 1, term: 1, readSeq: 0 }, // from itself
      { type: 'heartbeatResponse', from: 2, to: 1, term: -1, readSeq: 0 },
      { type: 'heartbeatResponse', from: 2, to: 1, term: 1.5, readSeq: 0 },
      { type: 'voteResponse', from: 2, to: 1, term: 1, reject: 'no' },
      { type: 'append', from: 2, to: 1, term: 9, prevIndex: 0, prevTerm: 0, commit: 0, entries: [{ index: 2, term: 1, type: 'normal', data: new Uint8Array(0) }] },
      { type: 'append', from: 2, to: 1, term: 9, prevIndex: 0, prevTerm: 0, commit: 0, entries: [{ index: 1, term: 1, type: 'normal', data: 'text' }] },
      { type: 'append', from: 2, to: 1, term: 1, prevIndex: 0, prevTerm: 0, commit: 0, entries: [{ index: 1, term: 9, type: 'normal', data: new Uint8Array(0) }] },
      { type: 'snapshot', from: 2, to: 1, term: 9, snapshot: { index: 0, term: 1, data: new Uint8Array(0) } },
      { type: 'readIndex', from: 2, to: 1, term: 1, requestCtx: 'x'.repeat(300) },
    ];
    for (const m of garbage) expect(raftError(() => node.step(m as Message)).code).toBe('INVALID_MESSAGE');
    expect(node.status()).toEqual(before);
    expect(node.ready()).toBeNull();
  });

  test('bad arguments are refused with INVALID_ARGUMENT', () => {
    const node = electedLeader();
    expect(raftError(() => node.propose('text' as unknown as Uint8Array)).code).toBe('INVALID_ARGUMENT');
    expect(raftError(() => node.readIndex('')).code).toBe('INVALID_ARGUMENT');
    expect(raftError(() => node.transferLeadership(9)).code).toBe('INVALID_ARGUMENT');
    expect(raftError(() => node.compact(1.5, new Uint8Array(0))).code).toBe('INVALID_ARGUMENT');
  });

  test('the election timeout is drawn from the injected random in [electionTicks, 2·electionTicks)', () => {
    const firesAt = (r: number): number => {
      const node = newNode({ electionTicks: 10, random: () => r });
      for (let t = 1; t <= 40; t++) {
        node.tick();
        const rd = node.ready();
        if (rd !== null && rd.messages.some((m) => m.type === 'preVote')) return t;
        if (rd !== null) node.advance(rd);
      }
      return -1;
    };
    expect(firesAt(0)).toBe(10);
    expect(firesAt(0.5)).toBe(15);
    expect(firesAt(0.9999)).toBe(19);
    expect(raftError(() => newNode({ random: () => 1 })).code).toBe('INVARIANT_VIOLATION');
  });

  test('a seeded random spreads nodes over different timeouts', () => {
    const timeouts = new Set<number>();
    for (let seed = 1; seed <= 20; seed++) {
      const node = newNode({ random: seededRandom(seed) });
      let t = 0;
      while (node.status().role === 'follower') {
        node.tick();
        t++;
      }
      timeouts.add(t);
      expect(t).toBeGreaterThanOrEqual(10);
      expect(t).toBeLessThan(20);
    }
    expect(timeouts.size).toBeGreaterThan(3);
  });
});

describe('RaftNode Ready protocol', () => {
  test('ready() again before advance() and advance() of a foreign Ready are refused', () => {
    const node = newNode();
    node.campaign();
    const rd = node.ready()!;
    expect(raftError(() => node.ready()).code).toBe('READY_PROTOCOL');
    expect(raftError(() => node.advance({ ...rd })).code).toBe('READY_PROTOCOL');
    node.advance(rd);
    expect(raftError(() => node.advance(rd)).code).toBe('READY_PROTOCOL');
  });

  test('a granted vote leaves in the same Ready as the hard state recording it, to be synced first', () => {
    const node = newNode({ id: 2 });
    node.step({ type: 'vote', from: 1, to: 2, term: 1, lastIndex: 0, lastTerm: 0, transfer: false });
    const rd = node.ready()!;
    expect(rd.hardState).toEqual({ term: 1, vote: 1, commit: 0 });
    expect(rd.messages).toEqual([{ type: 'voteResponse', from: 2, to: 1, term: 1, reject: false }]);
    expect(rd.mustSync).toBe(true);
  });

  test('an append acknowledgement leaves with the entries it acknowledges', () => {
    const node = newNode({ id: 2 });
    const entries: Entry[] = [{ index: 1, term: 1, type: 'noop', data: new Uint8Array(0) }];
    node.step({ type: 'append', from: 1, to: 2, term: 1, prevIndex: 0, prevTerm: 0, commit: 0, entries });
    const rd = node.ready()!;
    expect(rd.entries).toEqual(entries);
    expect(rd.messages).toEqual([{ type: 'appendResponse', from: 2, to: 1, term: 1, index: 1, reject: false, hintIndex: 0, hintTerm: 0 }]);
    expect(rd.mustSync).toBe(true);
    expect(rd.softState).toEqual({ role: 'follower', leaderId: 1, term: 1 });
  });

  test('a commit-only hard state change does not need an fsync', () => {
    const node = newNode({ id: 2 });
    node.step({ type: 'append', from: 1, to: 2, term: 1, prevIndex: 0, prevTerm: 0, commit: 0, entries: [{ index: 1, term: 1, type: 'noop', data: new Uint8Array(0) }] });
    drain(node);
    node.step({ type: 'heartbeat', from: 1, to: 2, term: 1, commit: 1, readSeq: 0 });
    const rd = node.ready()!;
    expect(rd.hardState).toEqual({ term: 1, vote: null, commit: 1 });
    expect(rd.mustSync).toBe(false);
    expect(rd.committedEntries.map((e) => e.index)).toEqual([1]);
  });

  test("a leader's appends may leave before its write; its own copy counts towards commit only once advanced", () => {
    const node = newNode({ peers: [1, 2, 3, 4, 5] });
    node.campaign();
    for (const from of [2, 3]) node.step({ type: 'preVoteResponse', from, to: 1, term: 1, reject: false });
    for (const from of [2, 3]) node.step({ type: 'voteResponse', from, to: 1, term: 1, reject: false });
    expect(node.isLeader).toBe(true);
    drain(node);
    for (const from of [2, 3, 4, 5]) ack(node, from, 1); // the no-op is committed, every follower replicating
    node.propose(enc.encode('x'));
    const rd = node.ready()!;
    expect(rd.entries.map((e) => e.index)).toEqual([2]);
    expect(rd.earlyMessages).toBe(4);
    expect(rd.messages.slice(0, rd.earlyMessages).map((m) => [m.type, m.to])).toEqual([['append', 2], ['append', 3], ['append', 4], ['append', 5]]);
    // Two followers acknowledge while the leader's own write is in flight: 2 of 5 is no quorum
    // without the leader's copy, which is not on its disk yet.
    node.step({ type: 'appendResponse', from: 2, to: 1, term: 1, index: 2, reject: false, hintIndex: 0, hintTerm: 0 });
    node.step({ type: 'appendResponse', from: 3, to: 1, term: 1, index: 2, reject: false, hintIndex: 0, hintTerm: 0 });
    expect(node.commitIndex).toBe(1);
    node.advance(rd); // persisted: now the leader's copy makes three of five
    expect(node.commitIndex).toBe(2);
    const next = drain(node);
    expect(next.flatMap((r) => r.committedEntries).map((e) => e.index)).toEqual([2]);
  });

  test('votes and acknowledgements never leave before the write', () => {
    const voter = newNode({ id: 2 });
    voter.step({ type: 'vote', from: 1, to: 2, term: 1, lastIndex: 0, lastTerm: 0, transfer: false });
    expect(voter.ready()!.earlyMessages).toBe(0);
    const follower = newNode({ id: 3 });
    follower.step({ type: 'append', from: 1, to: 3, term: 1, prevIndex: 0, prevTerm: 0, commit: 0, entries: [{ index: 1, term: 1, type: 'noop', data: new Uint8Array(0) }] });
    expect(follower.ready()!.earlyMessages).toBe(0);
  });

  test('inputs may arrive between ready() and advance()', () => {
    const node = electedLeader();
    node.propose(enc.encode('a'));
    const rd = node.ready()!;
    node.propose(enc.encode('b'));
    node.advance(rd);
    const next = node.ready()!;
    expect(next.entries.map((e) => e.index)).toEqual([3]);
  });
});

describe('RaftNode refusals and limits', () => {
  test('a follower refuses proposals and names the leader; reads are forwarded to it', () => {
    const node = newNode({ id: 2 });
    expect(node.propose(enc.encode('x'))).toMatchObject({ ok: false, code: 'NOT_LEADER', leaderId: null });
    expect(node.readIndex('r1')).toMatchObject({ ok: false, code: 'NOT_LEADER', leaderId: null });
    node.step({ type: 'heartbeat', from: 1, to: 2, term: 1, commit: 0, readSeq: 0 });
    expect(node.propose(enc.encode('x'))).toMatchObject({ ok: false, code: 'NOT_LEADER', leaderId: 1 });
    expect(node.readIndex('r2')).toEqual({ ok: true, forwardedTo: 1 });
    expect(sent(drain(node))).toContainEqual({ type: 'readIndex', from: 2, to: 1, term: 1, requestCtx: 'r2' });
  });

  test('proposals over maxProposalBytes are refused', () => {
    const node = electedLeader({ maxProposalBytes: 10 });
    expect(node.propose(new Uint8Array(11))).toMatchObject({ ok: false, code: 'PROPOSAL_TOO_LARGE' });
    expect(node.propose(new Uint8Array(10))).toMatchObject({ ok: true, index: 2, term: 1 });
  });

  test('uncommitted proposal bytes are bounded, and commit frees them', () => {
    const node = electedLeader({ maxUncommittedBytes: 100 });
    expect(node.propose(new Uint8Array(60)).ok).toBe(true);
    expect(node.propose(new Uint8Array(60))).toMatchObject({ ok: false, code: 'UNCOMMITTED_LIMIT', leaderId: 1 });
    ack(node, 2, 2); // no-op and the first proposal commit
    expect(node.commitIndex).toBe(2);
    expect(node.propose(new Uint8Array(60)).ok).toBe(true);
  });

  test('pending reads are bounded', () => {
    const node = electedLeader({ maxPendingReads: 2 });
    expect(node.readIndex('a').ok).toBe(true);
    expect(node.readIndex('b').ok).toBe(true);
    expect(node.readIndex('c')).toMatchObject({ ok: false, code: 'READ_LIMIT' });
  });

  test('a leader handing over refuses proposals and points at the new leader', () => {
    const node = electedLeader();
    expect(node.transferLeadership(3)).toEqual({ ok: true });
    expect(node.propose(enc.encode('x'))).toMatchObject({ ok: false, code: 'TRANSFER_IN_PROGRESS', leaderId: 3 });
    // Not done within an election timeout: abandoned, proposals flow again.
    for (let i = 0; i < 10; i++) {
      node.tick();
      node.step({ type: 'heartbeatResponse', from: 2, to: 1, term: 1, readSeq: 0 });
    }
    expect(node.propose(enc.encode('x')).ok).toBe(true);
  });

  test('at most maxInflightAppends appends are unacknowledged per follower, each at most maxAppendBytes', () => {
    const node = electedLeader({ maxInflightAppends: 2, maxAppendBytes: 150 });
    ack(node, 2, 1); // node 2: probe → replicate
    for (let i = 0; i < 6; i++) node.propose(new Uint8Array(100));
    const toNode2 = sent(drain(node)).filter((m) => m.type === 'append' && m.to === 2);
    expect(toNode2).toHaveLength(2);
    expect(toNode2.map((m) => (m.type === 'append' ? m.entries.map((e) => e.index) : []))).toEqual([[2], [3]]);
    // Each acknowledgement opens the window by one message.
    const next = sent(ack(node, 2, 2)).filter((m) => m.type === 'append' && m.to === 2);
    expect(next.map((m) => (m.type === 'append' ? m.entries.map((e) => e.index) : []))).toEqual([[4]]);
  });

  test('compact refuses an unapplied index and ignores an outdated one', () => {
    const node = electedLeader();
    ack(node, 2, 1);
    expect(node.appliedIndex).toBe(1);
    expect(raftError(() => node.compact(2, new Uint8Array(0))).code).toBe('INVALID_ARGUMENT');
    expect(node.compact(1, enc.encode('s'))).toBe(true);
    expect(node.compact(1, enc.encode('s'))).toBe(false);
    expect(node.snapshotIndex).toBe(1);
  });
});

describe('RaftNode single-node cluster', () => {
  test('elects itself, commits and serves reads without any message', () => {
    const node = new RaftNode({ id: 1, peers: [1], random: () => 0 });
    node.campaign();
    expect(node.isLeader).toBe(true);
    const r = node.propose(enc.encode('x'));
    expect(r).toEqual({ ok: true, index: 2, term: 1 });
    expect(node.readIndex('r').ok).toBe(true);
    const readies = drain(node);
    expect(sent(readies)).toEqual([]);
    expect(readies.flatMap((rd) => rd.committedEntries.map((e) => e.index))).toEqual([1, 2]);
    expect(readies.flatMap((rd) => rd.readStates)).toEqual([{ index: 2, requestCtx: 'r' }]);
  });
});

describe('RaftNode log backtracking', () => {
  test('a follower with a long divergent tail is repaired in two round trips, not one per entry', () => {
    // Leader 1: entries 1..3 of term 1, then 4..30 of term 3. Follower 2: 1..3 of term 1, then
    // 4..40 of term 2 (an old leader's entries that never committed).
    const entries = (from: number, to: number, term: number): Entry[] =>
      Array.from({ length: to - from + 1 }, (_, i) => ({ index: from + i, term, type: 'normal' as const, data: enc.encode(`${term}`) }));
    const leader = newNode({ storage: { hardState: { term: 3, vote: 1, commit: 3 }, snapshot: null, entries: [...entries(1, 3, 1), ...entries(4, 30, 3)] } });
    const follower = newNode({ id: 2, storage: { hardState: { term: 3, vote: 1, commit: 3 }, snapshot: null, entries: [...entries(1, 3, 1), ...entries(4, 40, 2)] } });
    leader.campaign();
    leader.step({ type: 'preVoteResponse', from: 3, to: 1, term: 4, reject: false });
    leader.step({ type: 'voteResponse', from: 3, to: 1, term: 4, reject: false });
    expect(leader.isLeader).toBe(true);
    let rejections = 0;
    let queue = sent(drain(leader)).filter((m) => m.to === 2);
    for (let round = 0; round < 100 && queue.length > 0; round++) {
      const next: Message[] = [];
      for (const m of queue) {
        const target = m.to === 1 ? leader : follower;
        target.step(m);
        if (m.type === 'appendResponse' && m.reject) rejections++;
        next.push(...sent(drain(target)).filter((x) => x.to === 1 || x.to === 2));
      }
      queue = next;
    }
    expect(rejections).toBe(1);
    expect(follower.lastIndex).toBe(31);
    expect(follower.termAt(30)).toBe(3);
    expect(follower.termAt(31)).toBe(4);
    expect(leader.status().progress?.get(2)?.match).toBe(31);
  });
});

describe('RaftNode proposeBatch', () => {
  test('consecutive entries go to each follower in one append message', () => {
    const leader = electedLeader();
    // Followers acknowledge the no-op, so their progress moves from probing to replicating.
    ack(leader, 2, 1);
    ack(leader, 3, 1);
    const data = (s: string) => new Uint8Array(Buffer.from(s));
    const results = leader.proposeBatch([data('a'), data('b'), data('c')]);
    expect(results.every((r) => r.ok)).toBe(true);
    const indexes = results.map((r) => (r.ok ? r.index : -1));
    expect(indexes[1]).toBe(indexes[0]! + 1);
    expect(indexes[2]).toBe(indexes[0]! + 2);
    const appends = sent(drain(leader)).filter((m) => m.type === 'append');
    expect(appends).toHaveLength(2);
    for (const m of appends) {
      if (m.type !== 'append') continue;
      expect(m.entries.map((e) => Buffer.from(e.data).toString())).toEqual(['a', 'b', 'c']);
    }
  });

  test('each proposal is refused or accepted on its own', () => {
    const leader = electedLeader({ maxProposalBytes: 4 });
    drain(leader);
    const results = leader.proposeBatch([new Uint8Array(2), new Uint8Array(10), new Uint8Array(3)]);
    expect(results.map((r) => r.ok)).toEqual([true, false, true]);
    expect(results[1]).toMatchObject({ ok: false, code: 'PROPOSAL_TOO_LARGE' });
    const okIndexes = results.filter((r) => r.ok).map((r) => (r.ok ? r.index : 0));
    expect(okIndexes[1]).toBe(okIndexes[0]! + 1);
    expect(newNode().proposeBatch([new Uint8Array(1)])[0]).toMatchObject({ ok: false, code: 'NOT_LEADER' });
  });
});

describe('RaftNode peerConnectionLost (the transport saw the connection with a peer break)', () => {
  /** Node 1 of {1,2,3}, following leader 2 in term 1: it just heard a heartbeat. */
  function followerOf2(overrides: Partial<RaftConfig> = {}): RaftNode {
    const node = newNode(overrides);
    node.step({ type: 'heartbeat', from: 2, to: 1, term: 1, commit: 0, readSeq: 0 });
    drain(node);
    return node;
  }
  const preVoteFrom3: Message = { type: 'preVote', from: 3, to: 1, term: 2, lastIndex: 0, lastTerm: 0, transfer: false };

  /** Ticks until the node sends pre-votes; returns how many ticks that took (-1: not within 40). */
  function ticksToCampaign(node: RaftNode): number {
    for (let t = 1; t <= 40; t++) {
      node.tick();
      if (sent(drain(node)).some((m) => m.type === 'preVote')) return t;
    }
    return -1;
  }

  test('a follower whose leader broke off drops the lease: it grants pre-votes it ignored a moment ago', () => {
    const node = followerOf2();
    node.step(preVoteFrom3);
    expect(sent(drain(node))).toEqual([]); // in lease: ignored
    node.peerConnectionLost(2);
    expect(node.leaderId).toBeNull();
    expect(drain(node).map((rd) => rd.softState)).toEqual([{ role: 'follower', leaderId: null, term: 1 }]);
    node.step(preVoteFrom3);
    expect(sent(drain(node))).toEqual([{ type: 'preVoteResponse', from: 1, to: 3, term: 2, reject: false }]);
    expect(node.term).toBe(1); // a pre-vote changes nothing durable
  });

  test('it campaigns after 1 + 2·rank ticks (its place by id among the survivors), not a whole election timeout', () => {
    /** Node `id` of `peers`, following `leader`; ticks until it campaigns, told of the break or not. */
    const campaignsAfter = (id: number, peers: number[], leader: number, told: boolean, electionTicks = 10): number => {
      const node = new RaftNode({ id, peers, random: () => 0.9999, electionTicks });
      node.step({ type: 'heartbeat', from: leader, to: id, term: 1, commit: 0, readSeq: 0 });
      drain(node);
      if (told) node.peerConnectionLost(leader);
      return ticksToCampaign(node);
    };
    expect(campaignsAfter(1, [1, 2, 3], 2, false)).toBe(19); // the longest timeout random() allows
    expect(campaignsAfter(1, [1, 2, 3], 2, true)).toBe(1);
    expect(campaignsAfter(3, [1, 2, 3], 2, true)).toBe(3);
    expect(campaignsAfter(3, [1, 2, 3], 1, true)).toBe(3);
    expect(campaignsAfter(2, [1, 2, 3], 1, true)).toBe(1);
    expect([2, 3, 4, 5].map((id) => campaignsAfter(id, [1, 2, 3, 4, 5], 1, true))).toEqual([1, 3, 5, 7]);
    expect([1, 2, 4, 5].map((id) => campaignsAfter(id, [1, 2, 3, 4, 5], 3, true))).toEqual([1, 3, 5, 7]);
    expect(campaignsAfter(5, [1, 2, 3, 4, 5], 1, true, 5)).toBe(5); // never beyond electionTicks
  });

  test('an election already due sooner is not postponed', () => {
    const node = new RaftNode({ id: 3, peers: [1, 2, 3], random: () => 0.9999 }); // timeout 19, delay 3
    node.step({ type: 'heartbeat', from: 2, to: 3, term: 1, commit: 0, readSeq: 0 });
    for (let t = 0; t < 17; t++) node.tick();
    drain(node);
    node.peerConnectionLost(2);
    expect(ticksToCampaign(node)).toBe(2);
  });

  test('a message from the leader after a spurious break restores the lease and the normal timeout', () => {
    const node = followerOf2({ random: () => 0 }); // timeout 10, delay 1
    node.peerConnectionLost(2);
    node.step({ type: 'heartbeat', from: 2, to: 1, term: 1, commit: 0, readSeq: 0 });
    drain(node);
    expect(node.leaderId).toBe(2);
    node.step(preVoteFrom3);
    expect(sent(drain(node))).toEqual([]);
    expect(ticksToCampaign(node)).toBe(10);
  });

  test('the pre-vote of the member that saw a spurious break fails while the others hear the leader', () => {
    // Node 3 saw the break; node 1 still follows leader 2: it ignores node 3's pre-vote, and so
    // does the leader (its own lease), so node 3 cannot win and the term stays.
    const node = followerOf2();
    node.tick();
    node.step(preVoteFrom3);
    expect(sent(drain(node))).toEqual([]);
    const leader = electedLeader();
    leader.step({ type: 'preVote', from: 3, to: 1, term: 2, lastIndex: 1, lastTerm: 1, transfer: false });
    expect(sent(drain(leader))).toEqual([]);
    expect(leader.isLeader).toBe(true);
    expect(leader.term).toBe(1);
  });

  test('a leader, a (pre-)candidate, and a follower hearing about another peer ignore it', () => {
    const leader = electedLeader();
    leader.peerConnectionLost(2);
    expect(leader.isLeader).toBe(true);
    expect(drain(leader)).toEqual([]);

    const preCandidate = newNode();
    preCandidate.campaign();
    drain(preCandidate);
    preCandidate.peerConnectionLost(2);
    expect(preCandidate.hasReady()).toBe(false);
    expect(preCandidate.status().role).toBe('preCandidate');

    const candidate = newNode({ preVote: false });
    candidate.campaign();
    drain(candidate);
    candidate.peerConnectionLost(2);
    expect(candidate.hasReady()).toBe(false);
    expect(candidate.status()).toMatchObject({ role: 'candidate', term: 1, vote: 1 });

    const follower = followerOf2({ random: () => 0 });
    follower.peerConnectionLost(3);
    expect(follower.leaderId).toBe(2);
    follower.step(preVoteFrom3);
    expect(sent(drain(follower))).toEqual([]);
    expect(ticksToCampaign(follower)).toBe(10);
  });

  test('an unknown peer or the node itself is refused with INVALID_ARGUMENT', () => {
    const node = followerOf2();
    expect(raftError(() => node.peerConnectionLost(9)).code).toBe('INVALID_ARGUMENT');
    expect(raftError(() => node.peerConnectionLost(1)).code).toBe('INVALID_ARGUMENT');
    expect(node.leaderId).toBe(2);
  });
});
