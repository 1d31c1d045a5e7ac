// One member of the coordination ensemble: the Raft core, its durable storage, the znode tree
// it replicates, and the leader-side session keeping — everything except the gRPC surfaces
// (client-service.ts, peer-service.ts), which call into this class.
//
// Lifecycle: `await CoordinatorNode.open(options)` loads the persisted state and starts the
// tick timer; `await stop()` hands leadership over if it has it, then closes the storage.
// The node is fail-stop: a storage error or a broken Raft invariant calls options.onFatal
// (the process exits and recovers from disk at restart) rather than running on in doubt.
//
// Concurrency: JavaScript is single-threaded, but persisting is asynchronous, so inputs (ticks,
// messages, proposals) reach the Raft core while a Ready is being drained; the core allows that.
// Only one drain runs at a time, and it loops until the core has nothing more to hand out, so
// proposals made while a batch is being fsynced go out together in the next one.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { RaftNode } from '../raft/raft-node.js';
import { seededRandom } from '../raft/random.js';
import type { Entry, Message, NodeId, ReadState, Role, SoftState } from '../raft/types.js';
import { CoordinatorError } from '../tree/errors.js';
import { decodeTreeCommand, encodeTreeCommand } from '../tree/command-codec.js';
import type { TreeCommand } from '../tree/commands.js';
import { DataTree } from '../tree/data-tree.js';
import type { TreeLimits } from '../tree/limits.js';
import type { ApplyOutcome } from '../tree/results.js';
import { SessionTracker, type SessionTrackerOptions } from '../tree/session-tracker.js';
import { WatchManager, type WatchManagerOptions, type WatchNotification, type WatcherId } from '../tree/watch-manager.js';
import { silentLogger, type Logger } from '../ops/logger.js';
import { errorFromWire, errorToWire } from '../client/wire-convert.js';
import type { ProtoError } from '../client/wire-types.js';
import type { CoordinatorMetrics } from './metrics.js';
import { PeerTransport } from './peer-transport.js';
import { RaftStorage } from './raft-storage.js';

export interface CoordinatorNodeOptions {
  id: NodeId;
  dataDir: string;
  /** Peer (Raft) address of every member, this one included. */
  peers: ReadonlyMap<NodeId, string>;
  /** One Raft tick. Election timeout = electionTicks..2·electionTicks ticks. */
  tickMs?: number;
  electionTicks?: number;
  heartbeatTicks?: number;
  /** Take a snapshot and compact the log after this many applied entries. */
  snapshotEntries?: number;
  /** How long a write or a read may wait for the ensemble. */
  requestTimeoutMs?: number;
  limits?: Partial<TreeLimits>;
  sessions?: Partial<SessionTrackerOptions>;
  watches?: Partial<WatchManagerOptions>;
  logger?: Logger;
  metrics?: CoordinatorMetrics;
  /** Wall clock for command timestamps and session deadlines. */
  clock?: () => number;
  /** Called once when the node cannot go on safely (storage failure, broken invariant). */
  onFatal?: (err: unknown) => void;
}

interface PendingProposal {
  term: number;
  startedAt: number;
  /** performance.now() after which the write fails with TIMEOUT (checked every tick). */
  deadline: number;
  resolve(outcome: ApplyOutcome): void;
  reject(err: CoordinatorError): void;
}

interface QueuedProposal {
  data: Uint8Array;
  startedAt: number;
  resolve(outcome: ApplyOutcome): void;
  reject(err: CoordinatorError): void;
}

/** Writes waiting for the next drain; beyond this the node answers UNAVAILABLE (backpressure). */
const MAX_QUEUED_PROPOSALS = 10_000;

interface ReadWaiter {
  resolve(): void;
  reject(err: CoordinatorError): void;
}

interface ReadRound {
  ctx: string;
  waiters: ReadWaiter[];
  timer: NodeJS.Timeout;
}

/** Delivers watch notifications to the stream that registered the watcher. */
export type NotificationSink = (notifications: WatchNotification[]) => void;

export class CoordinatorNode {
  readonly id: NodeId;
  readonly peers: ReadonlyMap<NodeId, string>;
  readonly transport: PeerTransport;
  readonly sessions: SessionTracker;
  readonly watches: WatchManager;
  private tree: DataTree;
  private readonly raft: RaftNode;
  private readonly storage: RaftStorage;
  private readonly logger: Logger;
  private readonly metrics: CoordinatorMetrics | undefined;
  private readonly clock: () => number;
  private readonly options: CoordinatorNodeOptions;
  private readonly requestTimeoutMs: number;
  private readonly snapshotEntries: number;

  private ticker: NodeJS.Timeout | null = null;
  private draining = false;
  private drainScheduled = false;
  private stopped = false;
  private fatal = false;

  private role: Role = 'follower';
  private leader: NodeId | null = null;
  private appliedIndex = 0;
  private appliedTerm = 0;
  private snapshotIndex = 0;

  private readonly pending = new Map<number, PendingProposal>();
  private queuedProposals: QueuedProposal[] = [];
  private readonly appliedWaiters: { index: number; resolve(): void }[] = [];
  private readWaiters: ReadWaiter[] = [];
  private readRound: ReadRound | null = null;
  private readSeq = 0;
  private expiring = false;
  /** Sessions that heartbeated here since the last relay to the leader (followers only). */
  private touchedSessions = new Set<number>();
  private touchInFlight = false;
  private readonly sinks = new Map<WatcherId, NotificationSink>();
  /** Called when the tree jumped (snapshot installed): watchers must resync. */
  onWatchReset: ((watchers: WatcherId[], index: number) => void) | null = null;

  private constructor(options: CoordinatorNodeOptions, storage: RaftStorage, raft: RaftNode, tree: DataTree, snapshotIndex: number) {
    this.options = options;
    this.id = options.id;
    this.peers = options.peers;
    this.storage = storage;
    this.raft = raft;
    this.tree = tree;
    this.logger = options.logger ?? silentLogger;
    this.metrics = options.metrics;
    this.clock = options.clock ?? Date.now;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.snapshotEntries = options.snapshotEntries ?? 10_000;
    this.appliedIndex = snapshotIndex;
    this.snapshotIndex = snapshotIndex;
    this.sessions = new SessionTracker(options.sessions);
    this.sessions.load(tree.sessions(), this.clock());
    this.watches = new WatchManager(snapshotIndex, options.watches);
    this.transport = new PeerTransport(options.id, options.peers, {
      onDropped: (_peer, n) => this.metrics?.peerMessagesDropped.inc(n),
      onSent: (_peer, n) => this.metrics?.peerMessagesSent.inc(n),
      onConnectionLost: (peer) => this.peerConnectionLost(peer),
    });
  }

  static async open(options: CoordinatorNodeOptions): Promise<CoordinatorNode> {
    mkdirSync(options.dataDir, { recursive: true });
    const storage = new RaftStorage(join(options.dataDir, 'raft'), {
      onSyncedWrite: (s) => options.metrics?.fsyncDuration.observe(s),
    });
    const persisted = await storage.open();
    const tree = persisted.snapshot ? DataTree.restore(persisted.snapshot.data, options.limits) : new DataTree(options.limits);
    const raft = new RaftNode({
      id: options.id,
      peers: [...options.peers.keys()],
      random: seededRandom((options.id * 7919 + Date.now()) >>> 0),
      storage: persisted,
      electionTicks: options.electionTicks ?? 10,
      heartbeatTicks: options.heartbeatTicks ?? 1,
    });
    const node = new CoordinatorNode(options, storage, raft, tree, persisted.snapshot?.index ?? 0);
    node.appliedTerm = persisted.snapshot?.term ?? 0;
    node.logger.info('coordinator node opened', {
      snapshotIndex: node.snapshotIndex, entries: persisted.entries.length, term: persisted.hardState.term, commit: persisted.hardState.commit,
    });
    node.ticker = setInterval(() => node.tick(), options.tickMs ?? 50);
    node.updateGauges();
    node.scheduleDrain();
    return node;
  }

  // ---- state for status, probes and metrics ---------------------------------------------------

  get currentRole(): Role {
    return this.role;
  }
  get leaderId(): NodeId | null {
    return this.leader;
  }
  get term(): number {
    return this.raft.term;
  }
  get commitIndex(): number {
    return this.raft.status().commit;
  }
  get applied(): number {
    return this.appliedIndex;
  }
  get znodeCount(): number {
    return this.tree.nodeCount;
  }
  get sessionCount(): number {
    return this.tree.sessionCount;
  }
  /** The tree as of the applied index. Read through linearizableRead() for client reads. */
  get data(): DataTree {
    return this.tree;
  }
  get isStopped(): boolean {
    return this.stopped;
  }

  // ---- inputs -----------------------------------------------------------------------------

  private tick(): void {
    if (this.stopped) return;
    this.failOverdueProposals();
    this.guard(() => this.raft.tick());
    if (this.role === 'leader') this.expireSessions();
    else this.relayTouches();
    this.scheduleDrain();
  }

  /** A batch of Raft messages from a peer. Garbage is dropped (and logged), never fatal. */
  receive(messages: Message[]): void {
    if (this.stopped) return;
    for (const m of messages) {
      try {
        this.raft.step(m);
      } catch (err) {
        if ((err as { code?: string }).code === 'INVALID_MESSAGE') {
          this.logger.warn('dropped invalid Raft message', { from: m?.from, error: err });
          continue;
        }
        this.die(err);
        return;
      }
    }
    this.scheduleDrain();
  }

  /**
   * An established connection with `peer` broke (its process may have died: a reset arrives at
   * once). If `peer` is our leader, Raft stops counting on it and campaigns within a few ticks
   * rather than after a whole election timeout (RaftNode.peerConnectionLost); otherwise nothing.
   */
  peerConnectionLost(peer: NodeId): void {
    if (this.stopped || peer === this.id || !this.peers.has(peer)) return;
    if (this.leader === peer && this.role === 'follower') this.logger.info('connection with the leader broke', { leader: peer });
    this.guard(() => this.raft.peerConnectionLost(peer));
    this.scheduleDrain();
  }

  /** Proposes `command` here if this node leads; otherwise forwards it to the leader. */
  async propose(command: TreeCommand): Promise<ApplyOutcome> {
    if (this.stopped) throw new CoordinatorError('UNAVAILABLE', { message: 'node is shutting down' });
    if (this.role === 'leader') return this.proposeLocal(encodeTreeCommand(command));
    return this.forward(encodeTreeCommand(command));
  }

  /**
   * A proposal forwarded by a follower (or our own): must be the leader. Proposals are queued
   * and handed to Raft together at the next drain, so one append message per follower carries
   * all the writes of an event-loop turn.
   */
  proposeLocal(data: Uint8Array): Promise<ApplyOutcome> {
    if (this.role !== 'leader') {
      const leaderId = this.leader;
      return Promise.reject(new CoordinatorError('NOT_LEADER', { details: leaderId ? { leaderId } : {} }));
    }
    if (this.queuedProposals.length >= MAX_QUEUED_PROPOSALS) {
      return Promise.reject(new CoordinatorError('UNAVAILABLE', { message: `${MAX_QUEUED_PROPOSALS} writes are already queued` }));
    }
    return new Promise<ApplyOutcome>((resolve, reject) => {
      this.queuedProposals.push({ data, resolve, reject, startedAt: performance.now() });
      this.scheduleDrain();
    });
  }

  private flushProposals(): void {
    if (this.queuedProposals.length === 0) return;
    const batch = this.queuedProposals;
    this.queuedProposals = [];
    const results = this.raft.proposeBatch(batch.map((q) => q.data));
    results.forEach((r, i) => {
      const q = batch[i]!;
      if (!r.ok) {
        const code = r.code === 'NOT_LEADER' || r.code === 'TRANSFER_IN_PROGRESS' ? 'NOT_LEADER'
          : r.code === 'PROPOSAL_TOO_LARGE' ? 'REQUEST_TOO_LARGE' : 'UNAVAILABLE';
        q.reject(new CoordinatorError(code, { message: r.message, details: r.leaderId ? { leaderId: r.leaderId } : {} }));
        return;
      }
      const deadline = q.startedAt + this.requestTimeoutMs;
      const replaced = this.pending.get(r.index);
      if (replaced) {
        // A write of an earlier term of ours at this index: a leader since then overwrote it.
        this.pending.delete(r.index);
        replaced.reject(new CoordinatorError('NOT_LEADER', { message: 'leadership changed before the write committed; it was not applied' }));
      }
      this.pending.set(r.index, { term: r.term, startedAt: q.startedAt, deadline, resolve: q.resolve, reject: q.reject });
    });
  }

  /**
   * Fails the writes not committed by their deadline (outcome unknown: they may still commit).
   * One sweep per tick instead of a timer per write; the map is in proposal order, which is
   * deadline order, so the sweep stops at the first write still in time.
   */
  private failOverdueProposals(): void {
    const now = performance.now();
    for (const [index, p] of this.pending) {
      if (p.deadline > now) break;
      this.pending.delete(index);
      p.reject(new CoordinatorError('TIMEOUT', { message: `write at index ${index} not committed within ${this.requestTimeoutMs} ms; its outcome is unknown` }));
    }
  }

  private async forward(data: Uint8Array): Promise<ApplyOutcome> {
    const leader = this.leader;
    if (leader === null || leader === this.id) {
      throw new CoordinatorError('UNAVAILABLE', { message: 'no leader is known right now (election in progress?)' });
    }
    let res;
    try {
      res = await this.transport.forward(leader, data, this.requestTimeoutMs);
    } catch (err) {
      const details = (err as { details?: string }).details ?? String(err);
      if (/No connection established|ECONNREFUSED/i.test(details)) {
        throw new CoordinatorError('UNAVAILABLE', { message: `leader ${leader} is unreachable: ${details}` });
      }
      throw new CoordinatorError('TIMEOUT', { message: `forwarding to leader ${leader} failed with the outcome unknown: ${details}` });
    }
    if (res.error && res.error.code) throw errorFromWire(res.error);
    return decodeOutcome(res.result);
  }

  /**
   * Resolves once this node's tree reflects every write committed before the call: a
   * ReadIndex round (confirmed by a quorum through the leader), then waiting to apply it.
   * Concurrent reads share rounds.
   */
  linearizableRead(): Promise<void> {
    if (this.stopped) return Promise.reject(new CoordinatorError('UNAVAILABLE', { message: 'node is shutting down' }));
    return new Promise<void>((resolve, reject) => {
      this.readWaiters.push({ resolve, reject });
      this.startReadRound();
    });
  }

  private startReadRound(): void {
    if (this.readRound || this.readWaiters.length === 0 || this.stopped) return;
    const waiters = this.readWaiters;
    this.readWaiters = [];
    const ctx = `${this.id}:${++this.readSeq}`;
    let r;
    try {
      r = this.raft.readIndex(ctx);
    } catch (err) {
      this.die(err);
      return;
    }
    if (!r.ok) {
      const err = new CoordinatorError('UNAVAILABLE', { message: r.message, details: r.leaderId ? { leaderId: r.leaderId } : {} });
      for (const w of waiters) w.reject(err);
      return;
    }
    const timer = setTimeout(() => this.finishReadRound(ctx, new CoordinatorError('TIMEOUT', { message: 'read barrier not confirmed in time' })), Math.min(this.requestTimeoutMs, 3_000));
    this.readRound = { ctx, waiters, timer };
    this.scheduleDrain();
  }

  private finishReadRound(ctx: string, outcome: CoordinatorError | number): void {
    const round = this.readRound;
    if (!round || round.ctx !== ctx) return;
    clearTimeout(round.timer);
    this.readRound = null;
    if (typeof outcome === 'number') {
      void this.waitApplied(outcome).then(() => {
        for (const w of round.waiters) w.resolve();
      });
    } else {
      for (const w of round.waiters) w.reject(outcome);
    }
    this.startReadRound();
  }

  waitApplied(index: number): Promise<void> {
    if (this.appliedIndex >= index) return Promise.resolve();
    return new Promise((resolve) => {
      this.appliedWaiters.push({ index, resolve });
    });
  }

  // ---- sessions ---------------------------------------------------------------------------

  /**
   * A heartbeat of `sessionId` arrived here. Returns the session's state as this node sees it:
   * 'ok', 'unknown' (created at an index this node has not applied yet) or 'expired'.
   */
  touchSession(sessionId: number): 'ok' | 'unknown' | 'expired' {
    if (!Number.isSafeInteger(sessionId) || sessionId <= 0) return 'expired';
    if (!this.tree.session(sessionId)) return sessionId > this.appliedIndex ? 'unknown' : 'expired';
    if (this.role === 'leader') {
      if (!this.sessions.touch(sessionId, this.clock())) return this.sessions.isExpiring(sessionId) ? 'expired' : 'ok';
    } else if (this.touchedSessions.size < 100_000) {
      this.touchedSessions.add(sessionId);
    }
    return 'ok';
  }

  /** Leader side of a follower's relay. Returns the ids this leader considers gone. */
  touchSessionsFromPeer(ids: number[]): number[] {
    const gone: number[] = [];
    if (this.role !== 'leader') return gone;
    const now = this.clock();
    for (const id of ids) {
      if (!this.sessions.touch(id, now) && !this.sessions.has(id) && id <= this.appliedIndex) gone.push(id);
    }
    return gone;
  }

  private relayTouches(): void {
    if (this.touchInFlight || this.touchedSessions.size === 0 || this.leader === null || this.leader === this.id) return;
    const ids = [...this.touchedSessions];
    this.touchedSessions = new Set();
    this.touchInFlight = true;
    this.transport
      .touchSessions(this.leader, ids, 1_000)
      .catch(() => {
        for (const id of ids) this.touchedSessions.add(id);
      })
      .finally(() => {
        this.touchInFlight = false;
      });
  }

  private expireSessions(): void {
    if (this.expiring) return;
    const expired = this.sessions.expiredSessions(this.clock());
    if (expired.length === 0) return;
    this.expiring = true;
    this.logger.info('expiring sessions', { sessionIds: expired });
    this.proposeLocal(encodeTreeCommand({ type: 'expireSessions', sessionIds: expired, timeMs: this.clock() }))
      .then((o) => {
        if (o.result.type === 'expireSessions') this.metrics?.sessionsExpired.inc(o.result.expiredSessionIds.length);
      })
      .catch((err) => this.logger.warn('session expiry proposal failed; will retry', { error: err }))
      .finally(() => {
        this.expiring = false;
      });
  }

  // ---- watches ------------------------------------------------------------------------------

  registerSink(watcherId: WatcherId, sink: NotificationSink): void {
    this.sinks.set(watcherId, sink);
  }

  unregisterSink(watcherId: WatcherId): void {
    this.sinks.delete(watcherId);
    this.watches.removeWatcher(watcherId);
    this.metrics?.watches.set(this.watches.watchCount());
  }

  private deliver(notifications: WatchNotification[]): void {
    if (notifications.length === 0) return;
    const byWatcher = new Map<WatcherId, WatchNotification[]>();
    for (const n of notifications) {
      let list = byWatcher.get(n.watcherId);
      if (!list) byWatcher.set(n.watcherId, (list = []));
      list.push(n);
    }
    for (const [watcherId, list] of byWatcher) this.sinks.get(watcherId)?.(list);
  }

  // ---- draining Ready ---------------------------------------------------------------------

  private scheduleDrain(): void {
    if (this.drainScheduled || this.draining || this.stopped) return;
    this.drainScheduled = true;
    setImmediate(() => {
      this.drainScheduled = false;
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.draining || this.stopped) return;
    this.draining = true;
    try {
      for (;;) {
        if (this.stopped) return;
        this.flushProposals();
        const rd = this.raft.ready();
        if (!rd) break;
        if (rd.softState) this.onSoftState(rd.softState);
        // A leader's appends leave before its own write: its fsync overlaps its followers'.
        if (rd.earlyMessages > 0) this.transport.send(rd.messages.slice(0, rd.earlyMessages));
        await this.storage.persist(rd);
        if (this.stopped) return;
        this.transport.send(rd.earlyMessages > 0 ? rd.messages.slice(rd.earlyMessages) : rd.messages);
        if (rd.snapshot) this.installSnapshot(rd.snapshot.index, rd.snapshot.term, rd.snapshot.data);
        for (const e of rd.committedEntries) this.applyEntry(e);
        for (const rs of rd.readStates) this.onReadState(rs);
        for (const ctx of rd.droppedReads) {
          this.finishReadRound(ctx, new CoordinatorError('UNAVAILABLE', { message: 'leadership changed before the read was confirmed' }));
        }
        this.raft.advance(rd);
        await this.maybeSnapshot();
      }
      this.updateGauges();
    } catch (err) {
      this.die(err);
    } finally {
      this.draining = false;
    }
    // Inputs that arrived during the last persist may have left work behind.
    if (!this.stopped && (this.raft.hasReady() || this.queuedProposals.length > 0)) this.scheduleDrain();
  }

  private onSoftState(s: SoftState): void {
    const wasLeader = this.role === 'leader';
    if (s.leaderId !== this.leader && s.leaderId !== null) this.metrics?.leaderChanges.inc();
    if (s.role !== this.role || s.leaderId !== this.leader) {
      this.logger.info('raft state changed', { role: s.role, leader: s.leaderId, term: s.term });
    }
    this.role = s.role;
    this.leader = s.leaderId;
    this.metrics?.setRole(s.role);
    if (s.role === 'leader' && !wasLeader) {
      // A new leader gives every session a full timeout: clients could not heartbeat during the election.
      this.sessions.resetAll(this.clock());
    }
  }

  private onReadState(rs: ReadState): void {
    this.finishReadRound(rs.requestCtx, rs.index);
  }

  private applyEntry(e: Entry): void {
    let outcome: ApplyOutcome;
    if (e.type === 'noop') {
      this.tree.advanceTo(e.index);
      outcome = { index: e.index, result: { type: 'noop' }, events: [] };
    } else {
      let command: TreeCommand | null = null;
      try {
        command = decodeTreeCommand(e.data);
      } catch (err) {
        // Every replica sees the same bytes and fails the same way, so the tree stays identical.
        this.tree.advanceTo(e.index);
        outcome = { index: e.index, result: { type: 'error', error: err instanceof CoordinatorError ? err : new CoordinatorError('CORRUPT_DATA') }, events: [] };
      }
      if (command) {
        outcome = this.tree.apply(command, e.index);
        this.sessions.trackApplied(outcome.result, this.clock());
      }
    }
    this.deliver(this.watches.dispatch(outcome!));
    this.appliedIndex = e.index;
    this.appliedTerm = e.term;
    const p = this.pending.get(e.index);
    if (p) {
      this.pending.delete(e.index);
      if (p.term === e.term) {
        this.metrics?.proposalDuration.observe((performance.now() - p.startedAt) / 1000);
        p.resolve(outcome!);
      } else {
        p.reject(new CoordinatorError('NOT_LEADER', { message: 'leadership changed before the write committed; it was not applied' }));
      }
    }
    this.releaseAppliedWaiters();
  }

  private releaseAppliedWaiters(): void {
    if (this.appliedWaiters.length === 0) return;
    let kept = 0;
    for (const w of this.appliedWaiters) {
      if (w.index <= this.appliedIndex) w.resolve();
      else this.appliedWaiters[kept++] = w;
    }
    this.appliedWaiters.length = kept;
  }

  private installSnapshot(index: number, term: number, data: Uint8Array): void {
    this.tree = DataTree.restore(data, this.options.limits);
    this.sessions.load(this.tree.sessions(), this.clock());
    const affected = this.watches.reset(index);
    this.appliedIndex = index;
    this.appliedTerm = term;
    this.snapshotIndex = index;
    this.metrics?.snapshots.inc();
    this.logger.info('installed snapshot from leader', { index, term, bytes: data.length });
    this.onWatchReset?.(affected, index);
    for (const [i, p] of this.pending) {
      if (i <= index) {
        this.pending.delete(i);
        p.reject(new CoordinatorError('TIMEOUT', { message: 'the write was covered by a snapshot; its outcome is unknown' }));
      }
    }
    this.releaseAppliedWaiters();
  }

  private async maybeSnapshot(): Promise<void> {
    if (this.appliedIndex - this.snapshotIndex < this.snapshotEntries) return;
    const index = this.appliedIndex;
    const term = this.appliedTerm;
    const data = this.tree.snapshot();
    if (!this.raft.compact(index, data)) return;
    await this.storage.compact({ index, term, data });
    this.snapshotIndex = index;
    this.metrics?.snapshots.inc();
    this.logger.info('took snapshot', { index, bytes: data.length });
  }

  private updateGauges(): void {
    if (!this.metrics) return;
    const st = this.raft.status();
    this.metrics.term.set(st.term);
    this.metrics.commitIndex.set(st.commit);
    this.metrics.appliedIndex.set(this.appliedIndex);
    this.metrics.sessions.set(this.tree.sessionCount);
    this.metrics.znodes.set(this.tree.nodeCount);
    this.metrics.watches.set(this.watches.watchCount());
  }

  // ---- failure and shutdown ---------------------------------------------------------------

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.die(err);
    }
  }

  private die(err: unknown): void {
    if (this.fatal) return;
    this.fatal = true;
    this.logger.error('coordinator node failed; stopping (fail-stop)', { error: err, stack: (err as Error)?.stack });
    void this.stop(false).finally(() => this.options.onFatal?.(err));
  }

  /** Leaves the ensemble: hands leadership over first when `transfer` (SIGTERM), then closes. */
  async stop(transfer = true): Promise<void> {
    if (this.stopped) return;
    if (transfer && this.role === 'leader' && this.peers.size > 1) await this.handOverLeadership();
    this.stopped = true;
    if (this.ticker) clearInterval(this.ticker);
    this.transport.close();
    const closed = new CoordinatorError('UNAVAILABLE', { message: 'node is shutting down' });
    for (const p of this.pending.values()) p.reject(closed);
    this.pending.clear();
    for (const q of this.queuedProposals) q.reject(closed);
    this.queuedProposals = [];
    if (this.readRound) {
      clearTimeout(this.readRound.timer);
      for (const w of this.readRound.waiters) w.reject(closed);
      this.readRound = null;
    }
    for (const w of this.readWaiters) w.reject(closed);
    this.readWaiters = [];
    while (this.draining) await new Promise((r) => setTimeout(r, 5));
    await this.storage.close().catch(() => {});
    this.logger.info('coordinator node stopped');
  }

  private async handOverLeadership(): Promise<void> {
    const st = this.raft.status();
    let best: NodeId | null = null;
    let bestMatch = -1;
    for (const [id, pr] of st.progress ?? []) {
      if (id !== this.id && pr.recentActive && pr.match > bestMatch) {
        best = id;
        bestMatch = pr.match;
      }
    }
    if (best === null) return;
    this.logger.info('handing leadership over before shutdown', { to: best });
    this.raft.transferLeadership(best);
    this.scheduleDrain();
    const deadline = Date.now() + 2_000;
    while (this.role === 'leader' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }
}

// ---- apply outcomes across Peer.Forward ---------------------------------------------------

/** ApplyOutcome → bytes (JSON; errors in their wire form). */
export function encodeOutcome(o: ApplyOutcome): Buffer {
  const result = o.result.type === 'error' ? { type: 'error', error: errorToWire(o.result.error) } : o.result;
  return Buffer.from(JSON.stringify({ index: o.index, result, events: o.events }));
}

export function decodeOutcome(bytes: Uint8Array): ApplyOutcome {
  let parsed: { index: number; result: { type: string; error?: ProtoError }; events: ApplyOutcome['events'] };
  try {
    parsed = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new CoordinatorError('CORRUPT_DATA', { message: 'forwarded outcome is not valid JSON' });
  }
  if (parsed.result?.type === 'error' && parsed.result.error) {
    return { index: parsed.index, result: { type: 'error', error: errorFromWire(parsed.result.error) }, events: [] };
  }
  return parsed as unknown as ApplyOutcome;
}
