// The Raft consensus core of one node (Ongaro & Ousterhout, "In Search of an Understandable
// Consensus Algorithm", and the Raft thesis), in the shape of etcd's raft library: no I/O, no
// timers, no clock, no ambient randomness. The adapter feeds it inputs and drains its output.
//
// Lifecycle and ownership: one RaftNode per coordinator process, created from the persisted
// state (PersistedState) at start and dropped at shutdown or after a RaftError with code
// INVARIANT_VIOLATION (the node's state can no longer be trusted: crash and restart from disk).
// It owns its in-memory log; the adapter owns the disk, the network, the timer and the state
// machine.
//
// Inputs:   tick() every tickMs · step(message) for each message received · propose(data) ·
//           readIndex(requestCtx) · compact(index, snapshotData) · transferLeadership(to) ·
//           campaign() · peerConnectionLost(peer)
// Output:   ready() → Ready | null, then advance(ready) once the Ready is drained.
//
// THE PERSISTENCE CONTRACT. For each Ready the adapter must, in this order:
//   0. (optional) send the first ready.earlyMessages of ready.messages: a leader's appends,
//      heartbeats and snapshots, which promise nothing about this node's disk — the leader
//      counts its own copy of an entry towards commit only when advance() says it is persisted;
//   1. persist snapshot, entries and hardState atomically (one level batch) and durably (fsync,
//      unless ready.mustSync is false) — a vote or an append acknowledgement in this Ready's
//      messages is only a promise if the state behind it survives a crash;
//   2. only then send the rest of ready.messages (any order, any transport; loss is tolerated);
//   3. restore ready.snapshot into the state machine, apply ready.committedEntries in order,
//      serve ready.readStates once the applied index reaches their index, fail
//      ready.droppedReads;
//   4. call advance(ready).
// Inputs (step, tick, propose…) may be interleaved anywhere in this sequence; ready() may not be
// called again before advance().
//
// Proposals are not forwarded by the core: propose() on a follower returns NOT_LEADER with the
// leader it knows, and the adapter forwards the client request (or redirects the client) — the
// client then learns the (index, term) from the leader itself. A proposal at (index, term)
// succeeded when a committed entry at `index` has term `term`; it was lost if the committed entry
// at `index` has another term (or the client's deadline passes first). Reads, in contrast, ARE
// forwarded by the core (see readIndex), so every node can serve linearizable reads.

import { type RaftConfig, type ResolvedRaftConfig, MAX_REQUEST_CTX_LENGTH, resolveRaftConfig } from './config.js';
import { RaftError, type RaftRefusalCode, invariant } from './errors.js';
import { validateEntry, validateMessage, validateSnapshot } from './message-validation.js';
import { Progress, type ProgressState } from './progress.js';
import { RaftLog } from './raft-log.js';
import { ReadIndexQueue } from './read-index.js';
import {
  type AppendMessage,
  type AppendResponseMessage,
  EMPTY_PERSISTED_STATE,
  type Entry,
  type HardState,
  type HeartbeatMessage,
  type HeartbeatResponseMessage,
  type Message,
  type NodeId,
  type PersistedState,
  type ReadState,
  type Ready,
  type Role,
  type Snapshot,
  type SnapshotMessage,
  type SoftState,
  type VoteMessage,
} from './types.js';

/** Why a request was refused; `leaderId` is the leader this node knows (null if none). */
export interface RaftRefusal {
  readonly ok: false;
  readonly code: RaftRefusalCode;
  readonly leaderId: NodeId | null;
  readonly message: string;
}

export type ProposeResult = { readonly ok: true; readonly index: number; readonly term: number } | RaftRefusal;

/** Accepted: the ReadState arrives in a later Ready — or never, if leadership changes meanwhile (see readIndex). */
export type ReadIndexResult = { readonly ok: true; readonly forwardedTo: NodeId | null } | RaftRefusal;

export type TransferResult = { readonly ok: true } | RaftRefusal;

export interface FollowerStatus {
  readonly match: number;
  readonly next: number;
  readonly state: ProgressState;
  readonly recentActive: boolean;
  readonly inflight: number;
}

export interface RaftStatus {
  readonly id: NodeId;
  readonly role: Role;
  readonly term: number;
  readonly vote: NodeId | null;
  readonly leaderId: NodeId | null;
  readonly commit: number;
  readonly applied: number;
  readonly snapshotIndex: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly lastTerm: number;
  readonly leadTransferee: NodeId | null;
  readonly pendingReads: number;
  /** Only on a leader: its view of every member, itself included. */
  readonly progress: ReadonlyMap<NodeId, FollowerStatus> | null;
}

interface WaitingRead {
  readonly requestCtx: string;
  readonly from: NodeId;
}

const EMPTY: readonly never[] = Object.freeze([]);

export class RaftNode {
  readonly id: NodeId;
  private readonly cfg: ResolvedRaftConfig;
  private readonly peers: readonly NodeId[];
  private readonly quorum: number;
  private readonly log: RaftLog;
  /** The latest snapshot with its data, sent to followers behind the compacted log. */
  private snapshot: Snapshot | null;

  private currentTerm: number;
  private vote: NodeId | null;
  private lead: NodeId | null = null;
  private role: Role = 'follower';

  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  private readonly votes = new Map<NodeId, boolean>();
  private progress = new Map<NodeId, Progress>();
  private leadTransferee: NodeId | null = null;
  private uncommittedBytes = 0;

  private readonly reads = new ReadIndexQueue();
  /** Reads that arrived before this leader committed an entry of its term. */
  private waitingReads: WaitingRead[] = [];

  private msgs: Message[] = [];
  private readStates: ReadState[] = [];
  private droppedReads: string[] = [];

  private prevSoftState: SoftState;
  private prevHardState: HardState;
  private outstanding: Ready | null = null;

  constructor(config: RaftConfig) {
    this.cfg = resolveRaftConfig(config);
    this.id = this.cfg.id;
    this.peers = this.cfg.peers;
    this.quorum = Math.floor(this.peers.length / 2) + 1;
    const storage = this.cfg.storage ?? EMPTY_PERSISTED_STATE;
    validatePersistedState(storage, this.peers);
    const snapIndex = storage.snapshot?.index ?? 0;
    // A snapshot only holds committed state, so commit ≥ snapshot index even if the stored
    // hard state was written before the snapshot.
    const commit = Math.max(storage.hardState.commit, snapIndex);
    const applied = this.cfg.applied ?? snapIndex;
    if (applied < snapIndex || applied > commit) {
      throw new RaftError('INVALID_CONFIG', `applied ${applied} outside [snapshot ${snapIndex}, commit ${commit}]`);
    }
    this.snapshot = storage.snapshot;
    this.log = new RaftLog(storage.snapshot, storage.entries, commit, applied);
    this.currentTerm = storage.hardState.term;
    this.vote = storage.hardState.vote;
    this.becomeFollower(this.currentTerm, null);
    this.prevSoftState = this.softState();
    this.prevHardState = storage.hardState;
  }

  // ---- inspection ---------------------------------------------------------------------------

  get term(): number {
    return this.currentTerm;
  }

  get leaderId(): NodeId | null {
    return this.lead;
  }

  get isLeader(): boolean {
    return this.role === 'leader';
  }

  get commitIndex(): number {
    return this.log.committed;
  }

  /** The last index handed to the application and advanced. */
  get appliedIndex(): number {
    return this.log.applied;
  }

  get lastIndex(): number {
    return this.log.lastIndex();
  }

  /** The index the log is compacted to (the latest snapshot's index; 0 if none). */
  get snapshotIndex(): number {
    return this.log.snapshotIndex;
  }

  softState(): SoftState {
    return { role: this.role, leaderId: this.lead, term: this.currentTerm };
  }

  hardState(): HardState {
    return { term: this.currentTerm, vote: this.vote, commit: this.log.committed };
  }

  /** Term of the entry at `index` in this node's log; undefined if compacted or beyond the end. */
  termAt(index: number): number | undefined {
    return this.log.term(index);
  }

  /** The entry at `index`; undefined if compacted or beyond the end. */
  entryAt(index: number): Entry | undefined {
    return this.log.entryAt(index);
  }

  status(): RaftStatus {
    let progress: Map<NodeId, FollowerStatus> | null = null;
    if (this.role === 'leader') {
      progress = new Map();
      for (const [id, pr] of this.progress) {
        progress.set(id, { match: pr.match, next: pr.next, state: pr.state, recentActive: pr.recentActive, inflight: pr.inflights.size });
      }
    }
    return {
      id: this.id,
      role: this.role,
      term: this.currentTerm,
      vote: this.vote,
      leaderId: this.lead,
      commit: this.log.committed,
      applied: this.log.applied,
      snapshotIndex: this.log.snapshotIndex,
      firstIndex: this.log.firstIndex(),
      lastIndex: this.log.lastIndex(),
      lastTerm: this.log.lastTerm(),
      leadTransferee: this.leadTransferee,
      pendingReads: this.reads.size + this.waitingReads.length,
      progress,
    };
  }

  // ---- inputs -------------------------------------------------------------------------------

  /** One unit of logical time. */
  tick(): void {
    if (this.role === 'leader') this.tickHeartbeat();
    else this.tickElection();
  }

  /** Starts an election now (with pre-vote if enabled), as if the election timeout elapsed. */
  campaign(): void {
    this.hup(false);
  }

  /**
   * The transport saw an established connection with `peer` break (on loopback or a LAN a dead
   * process's sockets are reset at once). If `peer` is the leader this follower follows, the
   * follower stops counting on it without waiting out a whole election timeout: it forgets the
   * leader (and with it the leader's lease, so it grants pre-votes and votes again) and
   * campaigns after 1 + 2·rank ticks (at most electionTicks), its rank being its place by id
   * among the other survivors. The followers that saw the same break so campaign one after
   * another, two ticks apart — at least a tick of wall-clock time between any two, whatever the
   * phase of their timers — instead of splitting the vote, which would cost a whole election
   * timeout; if the first cannot win (its log is behind), the next one does. Any message from
   * the leader in the meantime brings the lease and the normal timeout back, so a reset while
   * the leader lives costs at most one failed pre-vote: the members that still hear the leader
   * keep rejecting (without pre-vote, at most one needless election). Safety does not depend
   * on this input: terms, votes and the up-to-date check are untouched. Ignored on a leader or
   * (pre-)candidate and for a peer that is not our leader.
   */
  peerConnectionLost(peer: NodeId): void {
    if (!this.peers.includes(peer) || peer === this.id) throw new RaftError('INVALID_ARGUMENT', `node ${String(peer)} is not a peer of ${this.id}`);
    if (this.role !== 'follower' || this.lead !== peer) return;
    this.lead = null;
    let rank = 0;
    for (const p of this.peers) if (p !== peer && p < this.id) rank++;
    const delay = Math.min(1 + 2 * rank, this.cfg.electionTicks);
    this.electionElapsed = Math.max(this.electionElapsed, this.randomizedElectionTimeout - delay);
  }

  /**
   * Appends `data` to the log if this node is the leader. Ownership of `data` passes to the
   * core: do not modify it afterwards.
   */
  propose(data: Uint8Array): ProposeResult {
    return this.proposeBatch([data])[0]!;
  }

  /**
   * Appends several proposals as consecutive entries and replicates them together: one append
   * message per follower instead of one per proposal. An adapter that collects the requests of
   * one event-loop turn gets far larger batches through the in-flight window this way. Each
   * proposal is accepted or refused on its own, as by propose().
   */
  proposeBatch(datas: readonly Uint8Array[]): ProposeResult[] {
    const results: ProposeResult[] = [];
    const entries: Entry[] = [];
    let added = 0;
    for (const data of datas) {
      if (!(data instanceof Uint8Array)) throw new RaftError('INVALID_ARGUMENT', 'proposal data must be a Uint8Array');
      if (this.role !== 'leader') {
        results.push(this.refuse('NOT_LEADER', this.lead, `node ${this.id} is not the leader`));
        continue;
      }
      if (this.leadTransferee !== null) {
        results.push(this.refuse('TRANSFER_IN_PROGRESS', this.leadTransferee, `leadership is moving to ${this.leadTransferee}`));
        continue;
      }
      if (data.length > this.cfg.maxProposalBytes) {
        results.push(this.refuse('PROPOSAL_TOO_LARGE', this.id, `proposal of ${data.length} bytes exceeds maxProposalBytes ${this.cfg.maxProposalBytes}`));
        continue;
      }
      // The first proposal always fits, so a single large entry cannot wedge the leader.
      const pending = this.uncommittedBytes + added;
      if (pending > 0 && pending + data.length > this.cfg.maxUncommittedBytes) {
        results.push(this.refuse('UNCOMMITTED_LIMIT', this.id, `${pending} proposal bytes await commit (maxUncommittedBytes ${this.cfg.maxUncommittedBytes})`));
        continue;
      }
      const entry: Entry = { index: this.log.lastIndex() + 1 + entries.length, term: this.currentTerm, type: 'normal', data };
      entries.push(entry);
      added += data.length;
      results.push({ ok: true, index: entry.index, term: entry.term });
    }
    if (entries.length > 0) {
      this.uncommittedBytes += added;
      this.appendEntries(entries);
      this.bcastAppend();
    }
    return results;
  }

  /**
   * Asks for a linearizable read point (Raft thesis §6.4, ReadIndex). On success a ReadState
   * { index, requestCtx } appears in a later Ready: the read may be served once the state
   * machine has applied `index`. The leader first commits an entry of its own term (the no-op
   * it appends on election) and confirms it is still leader with a heartbeat round to a quorum.
   * A follower forwards the request to the leader it knows.
   *
   * `requestCtx` identifies the request (unique per node, ≤ 256 chars); one call may stand for
   * a batch of client reads. Requests the leader accepted but cannot confirm (it stepped down)
   * are reported in Ready.droppedReads; a forwarded request can be lost silently (message loss,
   * leader change), so the adapter gives every read a deadline.
   */
  readIndex(requestCtx: string): ReadIndexResult {
    if (typeof requestCtx !== 'string' || requestCtx.length === 0 || requestCtx.length > MAX_REQUEST_CTX_LENGTH) {
      throw new RaftError('INVALID_ARGUMENT', `requestCtx must be a string of 1..${MAX_REQUEST_CTX_LENGTH} characters`);
    }
    if (this.role === 'leader') {
      const refusal = this.handleReadRequest(requestCtx, this.id);
      return refusal ?? { ok: true, forwardedTo: null };
    }
    if (this.role === 'follower' && this.lead !== null) {
      this.send({ type: 'readIndex', from: this.id, to: this.lead, term: this.currentTerm, requestCtx });
      return { ok: true, forwardedTo: this.lead };
    }
    return this.refuse('NOT_LEADER', this.lead, `node ${this.id} knows no leader`);
  }

  /**
   * The application took a snapshot of its state at `index` (≤ the applied index, i.e. handed
   * out in a Ready that was advanced): drop the log up to there; the snapshot is what lagging
   * followers get from now on. The adapter stores the snapshot and deletes the stored entries
   * ≤ index itself, the snapshot durably first. Returns false, changing nothing, if the log is
   * already compacted to `index` or beyond (e.g. a newer snapshot arrived from the leader).
   */
  compact(index: number, snapshotData: Uint8Array): boolean {
    if (!(snapshotData instanceof Uint8Array)) throw new RaftError('INVALID_ARGUMENT', 'snapshot data must be a Uint8Array');
    if (!Number.isSafeInteger(index) || index < 0) throw new RaftError('INVALID_ARGUMENT', `bad compact index ${String(index)}`);
    if (index <= this.log.snapshotIndex) return false;
    if (index > this.log.applied) {
      throw new RaftError('INVALID_ARGUMENT', `cannot compact to ${index}: only ${this.log.applied} is applied (and advanced)`);
    }
    const term = this.log.term(index)!;
    this.log.compact(index);
    this.snapshot = { index, term, data: snapshotData };
    return true;
  }

  /**
   * Hands leadership to `to` (e.g. before a graceful shutdown): the leader stops accepting
   * proposals, brings `to` up to date, then tells it to campaign at once (TimeoutNow). Abandoned
   * if not done within an election timeout.
   */
  transferLeadership(to: NodeId): TransferResult {
    if (!this.peers.includes(to)) throw new RaftError('INVALID_ARGUMENT', `node ${String(to)} is not a member`);
    if (this.role !== 'leader') return this.refuse('NOT_LEADER', this.lead, `node ${this.id} is not the leader`);
    if (to === this.id) return { ok: true };
    if (this.leadTransferee === to) return { ok: true };
    this.leadTransferee = to;
    this.electionElapsed = 0; // the transfer must finish within one election timeout
    const pr = this.progress.get(to)!;
    if (pr.match === this.log.lastIndex()) this.sendTimeoutNow(to);
    else this.sendAppend(to);
    return { ok: true };
  }

  /**
   * A message from another node. Throws RaftError('INVALID_MESSAGE') for a malformed message,
   * one addressed to another node or one from a non-member; the node's state is then unchanged.
   */
  step(m: Message): void {
    validateMessage(m);
    if (m.to !== this.id) throw new RaftError('INVALID_MESSAGE', `message for ${m.to} delivered to ${this.id}`);
    if (m.from === this.id || !this.peers.includes(m.from)) {
      throw new RaftError('INVALID_MESSAGE', `message from ${m.from}, not a peer of ${this.id}`);
    }

    if (m.term > this.currentTerm) {
      if (m.type === 'vote' || m.type === 'preVote') {
        // Leader lease: a follower that heard from a live leader within the election timeout
        // does not help anyone depose it (check-quorum guarantees the leader steps down if it
        // loses its quorum, so this cannot block progress for long).
        const inLease = this.cfg.checkQuorum && this.lead !== null && this.electionElapsed < this.cfg.electionTicks;
        if (inLease && !m.transfer) return;
      }
      if (m.type === 'preVote') {
        // A pre-vote never changes our term.
      } else if (m.type === 'preVoteResponse' && !m.reject) {
        // Granted pre-votes carry the future term; we bump it when we win the pre-vote.
      } else if (m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot') {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, null);
      }
    } else if (m.term < this.currentTerm) {
      if ((this.cfg.checkQuorum || this.cfg.preVote) && (m.type === 'append' || m.type === 'heartbeat')) {
        // A stale leader (e.g. across a healed partition) may never hear a higher term
        // otherwise, since leases and pre-vote suppress the elections that would tell it.
        this.send({ type: 'appendResponse', from: this.id, to: m.from, term: this.currentTerm, index: 0, reject: false, hintIndex: 0, hintTerm: 0 });
      } else if (m.type === 'preVote') {
        this.send({ type: 'preVoteResponse', from: this.id, to: m.from, term: this.currentTerm, reject: true });
      }
      return;
    }

    if (m.type === 'vote' || m.type === 'preVote') {
      this.handleVoteRequest(m);
      return;
    }
    switch (this.role) {
      case 'leader':
        this.stepLeader(m);
        return;
      case 'candidate':
      case 'preCandidate':
        this.stepCandidate(m);
        return;
      case 'follower':
        this.stepFollower(m);
        return;
    }
  }

  // ---- output -------------------------------------------------------------------------------

  hasReady(): boolean {
    if (this.outstanding !== null) return false;
    return (
      this.msgs.length > 0 ||
      this.readStates.length > 0 ||
      this.droppedReads.length > 0 ||
      this.log.pendingSnapshot !== null ||
      this.log.hasUnstableEntries() ||
      this.log.hasNextCommitted() ||
      !sameSoftState(this.softState(), this.prevSoftState) ||
      !sameHardState(this.hardState(), this.prevHardState)
    );
  }

  /**
   * The next batch of work, or null if there is none. Drain it as the persistence contract at
   * the top of this file says, then call advance(ready). Throws READY_PROTOCOL if the previous
   * Ready was not advanced.
   */
  ready(): Ready | null {
    if (this.outstanding !== null) throw new RaftError('READY_PROTOCOL', 'ready() called before advance() of the previous Ready');
    if (!this.hasReady()) return null;
    const soft = this.softState();
    const hard = this.hardState();
    const hardChanged = !sameHardState(hard, this.prevHardState);
    const entries = this.log.unstableEntries();
    const snapshot = this.log.pendingSnapshot;
    const votingStateChanged = hard.term !== this.prevHardState.term || hard.vote !== this.prevHardState.vote;
    const { messages, early } = this.orderForEarlySend(this.msgs, !votingStateChanged && this.role === 'leader');
    const rd: Ready = {
      softState: sameSoftState(soft, this.prevSoftState) ? null : soft,
      hardState: hardChanged ? hard : null,
      snapshot,
      entries,
      messages,
      earlyMessages: early,
      committedEntries: this.log.nextCommitted(this.cfg.maxCommittedBytesPerReady),
      readStates: this.readStates.length > 0 ? this.readStates : EMPTY,
      droppedReads: this.droppedReads.length > 0 ? this.droppedReads : EMPTY,
      mustSync: entries.length > 0 || snapshot !== null || votingStateChanged,
    };
    this.msgs = [];
    if (this.readStates.length > 0) this.readStates = [];
    if (this.droppedReads.length > 0) this.droppedReads = [];
    this.outstanding = rd;
    return rd;
  }

  /**
   * The leader's appends, heartbeats and snapshots first (they may leave before the persist, see
   * Ready.earlyMessages), the rest after, each group in its original order.
   */
  private orderForEarlySend(msgs: Message[], allowed: boolean): { messages: Message[]; early: number } {
    if (!allowed) return { messages: msgs, early: 0 };
    const early: Message[] = [];
    const late: Message[] = [];
    for (const m of msgs) {
      if (m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot') early.push(m);
      else late.push(m);
    }
    if (late.length === 0) return { messages: msgs, early: msgs.length };
    return { messages: [...early, ...late], early: early.length };
  }

  /** The Ready returned by the last ready() is persisted, sent and applied. */
  advance(rd: Ready): void {
    if (rd !== this.outstanding || rd === null) throw new RaftError('READY_PROTOCOL', 'advance() with a Ready that is not the outstanding one');
    if (rd.softState !== null) this.prevSoftState = rd.softState;
    if (rd.hardState !== null) this.prevHardState = rd.hardState;
    if (rd.snapshot !== null) {
      this.log.stableSnapshotTo(rd.snapshot.index);
      this.log.appliedTo(rd.snapshot.index);
    }
    if (rd.entries.length > 0) {
      const last = rd.entries[rd.entries.length - 1]!;
      this.log.stableTo(last.index, last.term);
      // The leader's own copy counts towards commit only now that it is on disk.
      if (this.role === 'leader' && this.progress.get(this.id)!.maybeUpdate(this.log.lastStableIndex()) && this.maybeCommit()) {
        this.bcastAppend();
      }
    }
    if (rd.committedEntries.length > 0) this.log.appliedTo(rd.committedEntries[rd.committedEntries.length - 1]!.index);
    this.outstanding = null;
  }

  // ---- role changes -------------------------------------------------------------------------

  private reset(term: number): void {
    if (term !== this.currentTerm) {
      invariant(term > this.currentTerm, () => `term going backwards: ${this.currentTerm} → ${term}`);
      this.currentTerm = term;
      this.vote = null;
    }
    this.lead = null;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.leadTransferee = null;
    this.votes.clear();
    this.progress = new Map();
    const last = this.log.lastIndex();
    for (const p of this.peers) {
      const pr = new Progress(last + 1, this.cfg.maxInflightAppends);
      if (p === this.id) pr.match = Math.min(last, this.log.lastStableIndex());
      this.progress.set(p, pr);
    }
    for (const r of this.reads.clear()) if (r.from === this.id) this.droppedReads.push(r.requestCtx);
    for (const r of this.waitingReads) if (r.from === this.id) this.droppedReads.push(r.requestCtx);
    this.waitingReads = [];
    this.uncommittedBytes = 0;
  }

  private resetRandomizedElectionTimeout(): void {
    const r = this.cfg.random();
    invariant(r >= 0 && r < 1, () => `random() returned ${r}, outside [0, 1)`);
    this.randomizedElectionTimeout = this.cfg.electionTicks + Math.floor(r * this.cfg.electionTicks);
  }

  private becomeFollower(term: number, lead: NodeId | null): void {
    this.reset(term);
    this.lead = lead;
    this.role = 'follower';
  }

  private becomePreCandidate(): void {
    invariant(this.role !== 'leader', () => 'leader cannot become pre-candidate');
    // Term and vote stay: a pre-vote changes nothing durable.
    this.role = 'preCandidate';
    this.votes.clear();
    this.lead = null;
    this.resetRandomizedElectionTimeout();
  }

  private becomeCandidate(): void {
    invariant(this.role !== 'leader', () => 'leader cannot become candidate');
    this.reset(this.currentTerm + 1);
    this.vote = this.id;
    this.role = 'candidate';
  }

  private becomeLeader(): void {
    invariant(this.role === 'candidate', () => `only a candidate becomes leader, not a ${this.role}`);
    this.reset(this.currentTerm);
    this.lead = this.id;
    this.role = 'leader';
    const self = this.progress.get(this.id)!;
    self.becomeReplicate();
    self.recentActive = true;
    // Raft §8: commit an entry of our own term so that the commit index is known to be current
    // (needed before serving reads, and to commit entries of earlier terms).
    this.appendEntries([{ index: this.log.lastIndex() + 1, term: this.currentTerm, type: 'noop', data: new Uint8Array(0) }]);
  }

  // ---- elections ----------------------------------------------------------------------------

  private tickElection(): void {
    this.electionElapsed++;
    if (this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.hup(false);
    }
  }

  private hup(transfer: boolean): void {
    if (this.role === 'leader') return;
    if (this.cfg.preVote && !transfer) this.startCampaign('preVote', false);
    else this.startCampaign('vote', transfer);
  }

  private startCampaign(type: 'vote' | 'preVote', transfer: boolean): void {
    let voteTerm: number;
    if (type === 'preVote') {
      this.becomePreCandidate();
      voteTerm = this.currentTerm + 1; // the term we would campaign in; ours does not change
    } else {
      this.becomeCandidate();
      voteTerm = this.currentTerm;
    }
    if (this.poll(this.id, true) === 'won') {
      this.wonElection(type);
      return;
    }
    const lastIndex = this.log.lastIndex();
    const lastTerm = this.log.lastTerm();
    for (const p of this.peers) {
      if (p !== this.id) this.send({ type, from: this.id, to: p, term: voteTerm, lastIndex, lastTerm, transfer });
    }
  }

  private poll(from: NodeId, granted: boolean): 'won' | 'lost' | 'pending' {
    if (!this.votes.has(from)) this.votes.set(from, granted);
    let yes = 0;
    for (const v of this.votes.values()) if (v) yes++;
    if (yes >= this.quorum) return 'won';
    const missing = this.peers.length - this.votes.size;
    return yes + missing >= this.quorum ? 'pending' : 'lost';
  }

  private wonElection(type: 'vote' | 'preVote'): void {
    if (type === 'preVote') {
      this.startCampaign('vote', false);
    } else {
      this.becomeLeader();
      this.bcastAppend();
    }
  }

  private handleVoteRequest(m: VoteMessage): void {
    const responseType = m.type === 'vote' ? 'voteResponse' : 'preVoteResponse';
    const canVote =
      this.vote === m.from || (this.vote === null && this.lead === null) || (m.type === 'preVote' && m.term > this.currentTerm);
    if (canVote && this.log.isUpToDate(m.lastIndex, m.lastTerm)) {
      // The grant carries the requested term (for a pre-vote, one we have not adopted).
      this.send({ type: responseType, from: this.id, to: m.from, term: m.term, reject: false });
      if (m.type === 'vote') {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ type: responseType, from: this.id, to: m.from, term: this.currentTerm, reject: true });
    }
  }

  private stepCandidate(m: Message): void {
    const myResponseType = this.role === 'preCandidate' ? 'preVoteResponse' : 'voteResponse';
    switch (m.type) {
      case 'append':
        this.becomeFollower(m.term, m.from);
        this.handleAppend(m);
        return;
      case 'heartbeat':
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case 'snapshot':
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return;
      case 'voteResponse':
      case 'preVoteResponse': {
        if (m.type !== myResponseType) return;
        const result = this.poll(m.from, !m.reject);
        if (result === 'won') this.wonElection(this.role === 'preCandidate' ? 'preVote' : 'vote');
        else if (result === 'lost') this.becomeFollower(this.currentTerm, null);
        return;
      }
      default:
        return; // timeoutNow, reads, stray responses: nothing to do without a leader
    }
  }

  // ---- follower -----------------------------------------------------------------------------

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'append':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppend(m);
        return;
      case 'heartbeat':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return;
      case 'snapshot':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        return;
      case 'timeoutNow':
        this.hup(true);
        return;
      case 'readIndexResponse':
        this.readStates.push({ index: m.index, requestCtx: m.requestCtx });
        return;
      default:
        return;
    }
  }

  private handleAppend(m: AppendMessage): void {
    const reply = (index: number, reject: boolean, hintIndex: number, hintTerm: number): void =>
      this.send({ type: 'appendResponse', from: this.id, to: m.from, term: this.currentTerm, index, reject, hintIndex, hintTerm });
    if (m.prevIndex < this.log.committed) {
      reply(this.log.committed, false, 0, 0);
      return;
    }
    const lastNew = this.log.maybeAppend(m.prevIndex, m.prevTerm, m.commit, m.entries);
    if (lastNew !== undefined) {
      reply(lastNew, false, 0, 0);
      return;
    }
    // Fast backtracking: point the leader at our last entry whose term is ≤ its prevTerm, so it
    // skips a whole conflicting term per round trip instead of one entry.
    const hint = this.log.findConflictByTerm(Math.min(m.prevIndex, this.log.lastIndex()), m.prevTerm);
    reply(m.prevIndex, true, hint.index, hint.term);
  }

  private handleHeartbeat(m: HeartbeatMessage): void {
    this.log.commitTo(m.commit);
    this.send({ type: 'heartbeatResponse', from: this.id, to: m.from, term: this.currentTerm, readSeq: m.readSeq });
  }

  private handleSnapshot(m: SnapshotMessage): void {
    const s = m.snapshot;
    let index: number;
    if (s.index <= this.log.committed) {
      index = this.log.committed; // stale: tell the leader where we are
    } else if (this.log.matchTerm(s.index, s.term)) {
      this.log.commitTo(s.index); // we have the entries already: just learn the commit
      index = this.log.committed;
    } else {
      this.log.restore(s);
      this.snapshot = s;
      index = this.log.lastIndex();
    }
    this.send({ type: 'appendResponse', from: this.id, to: m.from, term: this.currentTerm, index, reject: false, hintIndex: 0, hintTerm: 0 });
  }

  // ---- leader -------------------------------------------------------------------------------

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.cfg.electionTicks) {
      this.electionElapsed = 0;
      if (this.cfg.checkQuorum && !this.quorumActive()) {
        this.becomeFollower(this.currentTerm, null);
        return;
      }
      if (this.leadTransferee !== null) this.leadTransferee = null; // transfer timed out
    }
    for (const [id, pr] of this.progress) {
      if (pr.state === 'snapshot' && ++pr.snapshotTicks >= this.cfg.snapshotRetryTicks) {
        // The snapshot (or its acknowledgement) was probably lost: probe again.
        pr.becomeProbe();
        this.sendAppend(id);
      }
    }
    if (this.heartbeatElapsed >= this.cfg.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.bcastHeartbeat(this.reads.lastSeq());
    }
  }

  /** Check-quorum: did a quorum (us included) talk to us since the last check? Resets the marks. */
  private quorumActive(): boolean {
    let active = 0;
    for (const [id, pr] of this.progress) {
      if (id === this.id || pr.recentActive) active++;
      if (id !== this.id) pr.recentActive = false;
    }
    return active >= this.quorum;
  }

  private stepLeader(m: Message): void {
    const pr = this.progress.get(m.from)!;
    pr.recentActive = true;
    switch (m.type) {
      case 'appendResponse':
        this.handleAppendResponse(m, pr);
        return;
      case 'heartbeatResponse':
        this.handleHeartbeatResponse(m, pr);
        return;
      case 'readIndex':
        this.handleReadRequest(m.requestCtx, m.from);
        return;
      default:
        // append/heartbeat/snapshot at our own term cannot come from another leader (Election
        // Safety); vote responses and timeoutNow are stale. Nothing to do.
        return;
    }
  }

  private handleAppendResponse(m: AppendResponseMessage, pr: Progress): void {
    if (m.reject) {
      let nextProbe = m.hintIndex;
      if (m.hintTerm > 0) nextProbe = this.log.findConflictByTerm(m.hintIndex, m.hintTerm).index;
      if (pr.maybeDecrTo(m.index, nextProbe)) {
        if (pr.state === 'replicate') pr.becomeProbe();
        this.sendAppend(m.from);
      }
      return;
    }
    const wasPaused = pr.isPaused();
    if (!pr.maybeUpdate(m.index)) return;
    if (pr.state === 'probe') {
      pr.becomeReplicate();
    } else if (pr.state === 'snapshot' && pr.match + 1 >= this.log.firstIndex()) {
      pr.becomeProbe();
      pr.becomeReplicate();
    } else if (pr.state === 'replicate') {
      pr.inflights.freeLE(m.index);
    }
    if (this.maybeCommit()) this.bcastAppend();
    else if (wasPaused) this.sendAppend(m.from);
    // The window may have opened by several messages: fill it (without empty appends).
    while (this.sendAppend(m.from, false)) {
      // keep sending
    }
    if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) this.sendTimeoutNow(m.from);
  }

  private handleHeartbeatResponse(m: HeartbeatResponseMessage, pr: Progress): void {
    pr.probeSent = false;
    // A lost append would otherwise keep a full window closed forever.
    if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirstOne();
    if (pr.match < this.log.lastIndex()) this.sendAppend(m.from);
    if (m.readSeq === 0) return;
    const acks = this.reads.ack(m.from, m.readSeq);
    if (acks === undefined || acks.size < this.quorum) return;
    for (const r of this.reads.release(m.readSeq)) this.respondRead(r.from, r.requestCtx, r.index);
  }

  /** Returns a refusal for the local caller, or undefined when accepted. Forwarded requests are dropped when refused. */
  private handleReadRequest(requestCtx: string, from: NodeId): RaftRefusal | undefined {
    if (this.reads.size + this.waitingReads.length >= this.cfg.maxPendingReads) {
      return this.refuse('READ_LIMIT', this.id, `${this.cfg.maxPendingReads} reads are waiting for confirmation`);
    }
    if (!this.committedEntryInCurrentTerm()) {
      this.waitingReads.push({ requestCtx, from });
      return undefined;
    }
    if (this.peers.length === 1) {
      this.respondRead(from, requestCtx, this.log.committed);
      return undefined;
    }
    const read = this.reads.add(this.log.committed, requestCtx, from);
    read.acks.add(this.id);
    this.bcastHeartbeat(read.seq);
    return undefined;
  }

  private respondRead(from: NodeId, requestCtx: string, index: number): void {
    if (from === this.id) this.readStates.push({ index, requestCtx });
    else this.send({ type: 'readIndexResponse', from: this.id, to: from, term: this.currentTerm, requestCtx, index });
  }

  private committedEntryInCurrentTerm(): boolean {
    return this.log.term(this.log.committed) === this.currentTerm;
  }

  /** The leader's own progress moves when the entries are persisted (see advance). */
  private appendEntries(ents: Entry[]): void {
    this.log.append(ents);
  }

  /** Commit the largest index a quorum has, if it is of our term (Raft §5.4.2). */
  private maybeCommit(): boolean {
    const matches: number[] = [];
    for (const pr of this.progress.values()) matches.push(pr.match);
    matches.sort((a, b) => b - a);
    const candidate = matches[this.quorum - 1]!;
    const old = this.log.committed;
    if (!this.log.maybeCommit(candidate, this.currentTerm)) return false;
    for (let i = old + 1; i <= candidate; i++) {
      const e = this.log.entryAt(i);
      if (e !== undefined && e.term === this.currentTerm) this.uncommittedBytes -= e.data.length;
    }
    if (this.uncommittedBytes < 0) this.uncommittedBytes = 0;
    if (this.waitingReads.length > 0) {
      const waiting = this.waitingReads;
      this.waitingReads = [];
      for (const r of waiting) {
        const refusal = this.handleReadRequest(r.requestCtx, r.from);
        if (refusal !== undefined && r.from === this.id) this.droppedReads.push(r.requestCtx);
      }
    }
    return true;
  }

  private bcastAppend(): void {
    for (const p of this.peers) if (p !== this.id) this.sendAppend(p);
  }

  private bcastHeartbeat(readSeq: number): void {
    for (const p of this.peers) {
      if (p === this.id) continue;
      const pr = this.progress.get(p)!;
      this.send({
        type: 'heartbeat',
        from: this.id,
        to: p,
        term: this.currentTerm,
        commit: Math.min(pr.match, this.log.committed),
        readSeq,
      });
    }
  }

  /**
   * Sends `to` the entries it needs next (or a snapshot if we compacted them away). Returns
   * whether a message was sent. With sendIfEmpty false, an append without entries is not sent.
   */
  private sendAppend(to: NodeId, sendIfEmpty = true): boolean {
    const pr = this.progress.get(to)!;
    if (pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.term(prevIndex);
    const entries = this.log.entriesFrom(pr.next, this.cfg.maxAppendBytes);
    if (prevTerm === undefined || entries === undefined) return this.sendSnapshot(to, pr);
    if (entries.length === 0 && !sendIfEmpty) return false;
    this.send({ type: 'append', from: this.id, to, term: this.currentTerm, prevIndex, prevTerm, entries, commit: this.log.committed });
    if (pr.state === 'replicate') {
      if (entries.length > 0) pr.sentEntries(entries[entries.length - 1]!.index);
    } else {
      pr.probeSent = true;
    }
    return true;
  }

  private sendSnapshot(to: NodeId, pr: Progress): boolean {
    // Do not push a (possibly large) snapshot at a node that may be down; its next response
    // marks it active again.
    if (!pr.recentActive) return false;
    const snapshot = this.snapshot;
    invariant(snapshot !== null && snapshot.index === this.log.snapshotIndex, () => `log compacted to ${this.log.snapshotIndex} without a matching snapshot`);
    this.send({ type: 'snapshot', from: this.id, to, term: this.currentTerm, snapshot });
    pr.becomeSnapshot(snapshot.index);
    return true;
  }

  private sendTimeoutNow(to: NodeId): void {
    this.send({ type: 'timeoutNow', from: this.id, to, term: this.currentTerm });
  }

  // ---- helpers ------------------------------------------------------------------------------

  private send(m: Message): void {
    this.msgs.push(m);
  }

  private refuse(code: RaftRefusalCode, leaderId: NodeId | null, message: string): RaftRefusal {
    return { ok: false, code, leaderId, message };
  }
}

function sameSoftState(a: SoftState, b: SoftState): boolean {
  return a.role === b.role && a.leaderId === b.leaderId && a.term === b.term;
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

function validatePersistedState(s: PersistedState, peers: readonly NodeId[]): void {
  const bad = (what: string): never => {
    throw new RaftError('INVALID_PERSISTED_STATE', what);
  };
  if (s === null || typeof s !== 'object') bad('persisted state must be an object');
  const hs = s.hardState;
  if (hs === null || typeof hs !== 'object') bad('hardState must be an object');
  if (!Number.isSafeInteger(hs.term) || hs.term < 0) bad(`hardState.term ${String(hs.term)} is not a non-negative integer`);
  if (!Number.isSafeInteger(hs.commit) || hs.commit < 0) bad(`hardState.commit ${String(hs.commit)} is not a non-negative integer`);
  if (hs.vote !== null && !peers.includes(hs.vote)) bad(`hardState.vote ${String(hs.vote)} is not a member`);
  let prevIndex = 0;
  let prevTerm = 0;
  if (s.snapshot !== null) {
    try {
      validateSnapshot(s.snapshot);
    } catch (e) {
      bad(`snapshot: ${(e as Error).message}`);
    }
    prevIndex = s.snapshot.index;
    prevTerm = s.snapshot.term;
  }
  if (!Array.isArray(s.entries)) bad('entries must be an array');
  for (const e of s.entries) {
    try {
      validateEntry(e);
    } catch (err) {
      bad(`entry after ${prevIndex}: ${(err as Error).message}`);
    }
    if (e.index !== prevIndex + 1) bad(`entries not contiguous: ${e.index} after ${prevIndex}`);
    if (e.term < prevTerm) bad(`entry ${e.index} has term ${e.term} below the previous ${prevTerm}`);
    prevIndex = e.index;
    prevTerm = e.term;
  }
  if (prevTerm > hs.term) bad(`log term ${prevTerm} is ahead of hardState.term ${hs.term}`);
  if (hs.commit > prevIndex) bad(`hardState.commit ${hs.commit} is beyond the last persisted index ${prevIndex}`);
}
