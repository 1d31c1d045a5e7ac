// A deterministic simulation of a whole Raft cluster in one process: RaftNode cores over a
// simulated network (loss, duplication, delay and so reordering, partitions — symmetric,
// asymmetric, minority isolation — that heal), simulated disks (a crash loses everything not
// persisted; restart reads back hard state, snapshot and entries), clients proposing values and
// asking for linearizable reads, applications that compact their logs, leadership transfers,
// paused processes, drifting clocks, and (in half the runs) asynchronous disk writes, so that
// inputs reach a node between ready() and advance() as they do in the real adapter. A crash
// breaks the crashed node's connections: the peers that had one (no partition between them) are
// told so with peerConnectionLost, as a real transport sees a reset; and some runs add such
// notices at random while the peer is alive (a transient stream reset). Everything
// random comes from one seed, so a seed reproduces a run exactly.
//
// A run has two phases: chaos (faults on) for `chaosTicks`, then healing (every node up, no
// partition, no loss, FIFO links with one tick of delay): within `commitTicks` a leader must
// commit a new proposal, and within `catchUpTicks` every node must have applied it. The
// invariants of sim-invariants.ts are checked as events happen.

import {
  type Entry,
  type HardState,
  type Message,
  RaftNode,
  type Ready,
  type Snapshot,
  decodeMessage,
  encodeMessage,
  seededRandom,
} from '../../src/raft/index.js';
import { InvariantViolation, Oracle, chainHash, check, entryKey } from './sim-invariants.js';

export interface SimulationOptions {
  readonly seed: number;
  readonly nodes: number;
  readonly chaosTicks: number;
  /** After healing, a new proposal must commit within this many ticks… */
  readonly commitTicks: number;
  /** …and be applied by every node within this many. */
  readonly catchUpTicks: number;
  /** Keep a trace of the last events for the failure message (slower). */
  readonly trace?: boolean;
  /** Overrides of the fault mix drawn from the seed, to aim a run at one kind of trouble. */
  readonly profile?: Partial<FaultProfile>;
}

export interface SimulationResult {
  readonly seed: number;
  readonly nodes: number;
  readonly ticks: number;
  /** Ticks from healing until the final proposal was committed. */
  readonly commitTicks: number;
  /** Ticks from healing until the final proposal was applied by every node. */
  readonly catchUpTicks: number;
  readonly committed: number;
  readonly leaders: number;
  readonly messages: number;
  readonly snapshotsSent: number;
  readonly crashes: number;
  readonly reads: number;
  /** peerConnectionLost notices given to a node about the leader it followed. */
  readonly leaderLostNotices: number;
  /** Of those, the ones given while that leader was up (spurious resets). */
  readonly spuriousLeaderLostNotices: number;
}

/** A run that broke an invariant or missed the liveness bound. The message says how to rerun it. */
export class SimulationFailure extends Error {
  constructor(
    readonly seed: number,
    readonly nodes: number,
    readonly tick: number,
    cause: Error,
    trace: readonly string[],
  ) {
    super(
      `simulation seed=${seed} nodes=${nodes} failed at tick ${tick}: ${cause.message}\n` +
        `rerun just this seed (with a trace): SAMSA_SIM_SEED=${seed} SAMSA_SIM_NODES=${nodes} ` +
        `NODE_OPTIONS="--experimental-vm-modules --disable-warning=ExperimentalWarning" npx jest packages/coordinator/test/raft/simulation` +
        (trace.length > 0 ? `\nlast events:\n${trace.join('\n')}` : ''),
      { cause },
    );
    this.name = 'SimulationFailure';
  }
}

/** What the simulated disk holds: the only thing that survives a crash. */
interface Disk {
  hardState: HardState;
  snapshot: Snapshot | null;
  entries: Entry[];
}

/** The application: a hash of the applied sequence, which is all a snapshot needs to carry. */
interface StateMachine {
  applied: number;
  hash: number;
}

interface PendingRead {
  readonly node: number;
  readonly incarnation: number;
  /** The largest commit index anywhere when the read was asked for. */
  readonly minIndex: number;
}

interface SimNode {
  readonly id: number;
  raft: RaftNode | null;
  readonly disk: Disk;
  sm: StateMachine;
  incarnation: number;
  restartAt: number;
  /** A paused process (GC pause, frozen VM): no ticks, no deliveries until then. */
  pausedUntil: number;
  /** Clock rate: the chance that this node's timer fires in a given tick (clock drift). */
  clockRate: number;
  /** With asyncDisk: the Ready whose persist is in flight. */
  diskWrite: Ready | null;
  /** Per incarnation: the highest term and commit seen, which must never go down. */
  seenTerm: number;
  seenCommit: number;
  seenLeaderTerm: number;
}

/** Per-seed fault mix, drawn from the seed so that 1,000 seeds cover many combinations. */
export interface FaultProfile {
  lossRate: number;
  dupRate: number;
  maxDelay: number;
  crashRate: number;
  partitionRate: number;
  proposeRate: number;
  readRate: number;
  compactEvery: number;
  transferRate: number;
  codecRate: number;
  pauseRate: number;
  clockSkew: boolean;
  /** Drain Ready asynchronously: inputs reach the node between ready() and advance(). */
  asyncDisk: boolean;
  /** The chance that a peer connected to a crashing node is told its connection broke. */
  crashNoticeRate: number;
  /** Per tick: the chance of a notice that a connection broke while both ends are up. */
  spuriousNoticeRate: number;
  preVote: boolean;
  checkQuorum: boolean;
  maxInflightAppends: number;
  maxAppendBytes: number;
  maxCommittedBytesPerReady: number;
}

const encoder = new TextEncoder();
const ELECTION_TICKS = 10;
/** A notice that `to` (in incarnation `incarnation`) saw its connection with `peer` break. */
interface ConnectionNotice {
  readonly to: number;
  readonly incarnation: number;
  readonly peer: number;
}

/** Deliveries within one tick before we call it a message storm. */
const MAX_DELIVERIES_PER_TICK = 100_000;

export class Simulation {
  private readonly rng: () => number;
  private readonly profile: FaultProfile;
  private readonly nodes: SimNode[] = [];
  private readonly ids: number[];
  private readonly oracle = new Oracle();
  /** In-flight messages by delivery tick. */
  private readonly inflight = new Map<number, Message[]>();
  /** blocked[from][to]: the link drops everything. */
  private readonly blocked: boolean[][];
  private partitioned = false;
  private faultsOn = true;
  private now = 0;
  private nextValue = 0;
  private readonly pendingReads = new Map<string, PendingRead>();
  /** Connection-lost notices not yet given (their node is paused, or they came this tick). */
  private notices: ConnectionNotice[] = [];
  private readonly traceLines: string[] = [];
  private stats = { messages: 0, snapshotsSent: 0, crashes: 0, reads: 0, leaderLostNotices: 0, spuriousLeaderLostNotices: 0 };

  constructor(private readonly options: SimulationOptions) {
    this.rng = seededRandom(options.seed * 7919 + options.nodes);
    this.profile = { ...this.drawProfile(), ...options.profile };
    this.ids = Array.from({ length: options.nodes }, (_, i) => i + 1);
    this.blocked = Array.from({ length: options.nodes + 1 }, () => new Array<boolean>(options.nodes + 1).fill(false));
    for (const id of this.ids) {
      const node: SimNode = {
        id,
        raft: null,
        disk: { hardState: { term: 0, vote: null, commit: 0 }, snapshot: null, entries: [] },
        sm: { applied: 0, hash: 0 },
        incarnation: 0,
        restartAt: 0,
        pausedUntil: 0,
        diskWrite: null,
        clockRate: this.profile.clockSkew ? 0.3 + 0.7 * this.random() : 1,
        seenTerm: 0,
        seenCommit: 0,
        seenLeaderTerm: 0,
      };
      this.nodes.push(node);
      this.start(node);
    }
  }

  run(): SimulationResult {
    let healedAt = -1;
    try {
      for (; this.now < this.options.chaosTicks; this.now++) {
        this.chaosEvents();
        this.tickAll();
      }
      healedAt = this.now;
      this.heal();
      const { commitTicks, catchUpTicks } = this.awaitLiveness();
      return {
        seed: this.options.seed,
        nodes: this.options.nodes,
        ticks: this.now,
        commitTicks,
        catchUpTicks,
        committed: this.oracle.maxCommitted,
        leaders: this.oracle.leaders.size,
        messages: this.stats.messages,
        snapshotsSent: this.stats.snapshotsSent,
        crashes: this.stats.crashes,
        reads: this.stats.reads,
        leaderLostNotices: this.stats.leaderLostNotices,
        spuriousLeaderLostNotices: this.stats.spuriousLeaderLostNotices,
      };
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      if (healedAt >= 0) this.trace(() => `healed at tick ${healedAt}`);
      throw new SimulationFailure(this.options.seed, this.options.nodes, this.now, err, this.traceLines);
    }
  }

  private random(): number {
    return this.rng();
  }

  private chance(p: number): boolean {
    return p > 0 && this.rng() < p;
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.rng() * items.length)]!;
  }

  private drawProfile(): FaultProfile {
    const lossy = this.chance(0.8);
    const allFeatures = this.chance(0.8);
    return {
      lossRate: lossy ? this.pick([0.01, 0.05, 0.1, 0.2]) : 0,
      dupRate: this.pick([0, 0.02, 0.1]),
      maxDelay: this.pick([0, 1, 2, 4]),
      crashRate: this.pick([0, 0.005, 0.01, 0.02]),
      partitionRate: this.pick([0, 0.01, 0.03]),
      proposeRate: this.pick([0.2, 0.5, 1]),
      readRate: this.pick([0, 0.1, 0.3]),
      compactEvery: this.pick([4, 8, 16, 1_000_000]),
      transferRate: this.pick([0, 0, 0.01]),
      codecRate: this.pick([0.1, 0.5]),
      pauseRate: this.pick([0, 0, 0.005, 0.02]),
      clockSkew: this.chance(0.3),
      asyncDisk: this.chance(0.5),
      preVote: allFeatures || this.chance(0.5),
      checkQuorum: allFeatures || this.chance(0.5),
      maxInflightAppends: this.pick([1, 2, 4, 64]),
      maxAppendBytes: this.pick([1, 100, 1 << 20]),
      maxCommittedBytesPerReady: this.pick([1, 200, 1 << 20]),
      crashNoticeRate: this.pick([0, 0.9, 1]),
      spuriousNoticeRate: this.pick([0, 0.005, 0.02]),
    };
  }

  private trace(line: () => string): void {
    if (!this.options.trace) return;
    this.traceLines.push(`t=${this.now} ${line()}`);
    if (this.traceLines.length > 400) this.traceLines.splice(0, this.traceLines.length - 300);
  }

  // ---- node lifecycle -----------------------------------------------------------------------

  private start(node: SimNode): void {
    node.incarnation++;
    node.restartAt = 0;
    // The application restores its persisted snapshot; the core re-delivers the rest.
    const snap = node.disk.snapshot;
    node.sm = snap === null ? { applied: 0, hash: 0 } : decodeState(snap.data);
    if (snap !== null) check('StateMachineSafety', node.sm.applied === snap.index, () => `snapshot data index ${node.sm.applied} ≠ ${snap.index}`);
    const p = this.profile;
    node.raft = new RaftNode({
      id: node.id,
      peers: this.ids,
      random: seededRandom(Math.floor(this.random() * 2 ** 32)),
      storage: { hardState: node.disk.hardState, snapshot: node.disk.snapshot, entries: [...node.disk.entries] },
      electionTicks: ELECTION_TICKS,
      heartbeatTicks: 1,
      preVote: p.preVote,
      checkQuorum: p.checkQuorum,
      maxInflightAppends: p.maxInflightAppends,
      maxAppendBytes: p.maxAppendBytes,
      maxCommittedBytesPerReady: p.maxCommittedBytesPerReady,
      snapshotRetryTicks: 3 * ELECTION_TICKS,
    });
    node.seenTerm = node.disk.hardState.term;
    node.seenCommit = node.disk.hardState.commit;
    node.seenLeaderTerm = 0;
    this.trace(() => `start ${node.id} (incarnation ${node.incarnation}) term=${node.disk.hardState.term} commit=${node.disk.hardState.commit} snap=${snap?.index ?? 0} entries=${node.disk.entries.length}`);
  }

  private crash(node: SimNode): void {
    node.raft = null;
    node.diskWrite = null; // never completed: nothing of it is durable, only its early messages were sent
    node.restartAt = this.now + 1 + Math.floor(this.random() * 4 * ELECTION_TICKS);
    this.stats.crashes++;
    this.trace(() => `crash ${node.id}`);
    // Its sockets are reset: every peer with a connection to it (no partition between them)
    // may notice, from the next tick on.
    for (const other of this.nodes) {
      if (other === node || other.raft === null || this.blocked[node.id]![other.id] || this.blocked[other.id]![node.id]) continue;
      if (this.chance(this.profile.crashNoticeRate)) this.notices.push({ to: other.id, incarnation: other.incarnation, peer: node.id });
    }
  }

  /** Gives the connection-lost notices whose node is up and running; a restarted node never had the connection. */
  private giveNotices(): void {
    const waiting: ConnectionNotice[] = [];
    for (const notice of this.notices) {
      const node = this.nodes[notice.to - 1]!;
      if (node.raft === null || node.incarnation !== notice.incarnation) continue;
      if (node.pausedUntil > this.now) waiting.push(notice);
      else this.noticeConnectionLost(node, notice.peer);
    }
    this.notices = waiting;
  }

  private noticeConnectionLost(node: SimNode, peer: number): void {
    const raft = node.raft!;
    if (raft.leaderId === peer && !raft.isLeader) {
      this.stats.leaderLostNotices++;
      if (this.nodes[peer - 1]!.raft !== null) this.stats.spuriousLeaderLostNotices++;
    }
    raft.peerConnectionLost(peer);
    this.trace(() => `${node.id} lost its connection with ${peer}`);
    this.processReady(node);
  }

  // ---- the clock and the faults -------------------------------------------------------------

  private chaosEvents(): void {
    const p = this.profile;
    this.giveNotices();
    if (this.chance(p.spuriousNoticeRate)) {
      // A transient reset with both ends alive.
      const node = this.pick(this.nodes);
      const peer = this.pick(this.ids.filter((id) => id !== node.id));
      if (this.reachable(node)) this.noticeConnectionLost(node, peer);
    }
    for (const node of this.nodes) {
      if (node.raft === null) {
        if (this.now >= node.restartAt) this.start(node);
      } else if (this.chance(p.crashRate)) {
        this.crash(node);
      } else if (node.pausedUntil <= this.now && this.chance(p.pauseRate)) {
        node.pausedUntil = this.now + 1 + Math.floor(this.random() * 3 * ELECTION_TICKS);
        this.trace(() => `pause ${node.id} until ${node.pausedUntil}`);
      }
    }
    if (!this.partitioned && this.chance(p.partitionRate)) this.partition();
    else if (this.partitioned && this.chance(0.05)) this.healPartition();
    this.clientEvents(p.proposeRate, p.readRate, p.transferRate);
    for (const node of this.nodes) if (this.reachable(node) && this.chance(0.1)) this.maybeCompact(node);
  }

  private clientEvents(proposeRate: number, readRate: number, transferRate: number): void {
    let proposals = proposeRate;
    while (proposals > 0 && this.chance(Math.min(proposals, 1))) {
      this.clientPropose();
      proposals -= 1;
    }
    if (this.chance(readRate)) this.clientRead();
    if (this.chance(transferRate)) {
      const leader = this.nodes.find((n) => n.raft?.isLeader && this.reachable(n));
      if (leader?.raft) {
        const to = this.pick(this.ids);
        leader.raft.transferLeadership(to);
        this.trace(() => `transfer leadership ${leader.id} → ${to}`);
        this.processReady(leader);
      }
    }
  }

  /** Up and not paused: clients can talk to it, its application runs. */
  private reachable(node: SimNode): boolean {
    return node.raft !== null && node.pausedUntil <= this.now;
  }

  private partition(): void {
    const kind = this.pick(['split', 'leader-in-minority', 'isolate', 'one-way-in', 'one-way-out'] as const);
    const victim = this.pick(this.ids);
    if (kind === 'split' || kind === 'leader-in-minority') {
      // split: any cut, sometimes with no majority on either side. leader-in-minority: the
      // leader and up to a minority of followers are cut off — the stale-leader case.
      let side: Set<number>;
      const leader = this.nodes.find((n) => n.raft?.isLeader);
      if (kind === 'leader-in-minority' && leader !== undefined) {
        const others = this.ids.filter((id) => id !== leader.id);
        const size = Math.floor(this.random() * Math.floor(this.ids.length / 2));
        side = new Set([leader.id, ...others.filter((_, i) => i < size)]);
      } else {
        side = new Set(this.ids.filter(() => this.chance(0.5)));
      }
      for (const a of this.ids) for (const b of this.ids) if (side.has(a) !== side.has(b)) this.blocked[a]![b] = true;
      this.trace(() => `partition {${[...side].join(',')}} | rest`);
    } else {
      for (const other of this.ids) {
        if (other === victim) continue;
        if (kind !== 'one-way-out') this.blocked[other]![victim] = true; // victim hears nothing
        if (kind !== 'one-way-in') this.blocked[victim]![other] = true; // nobody hears victim
      }
      this.trace(() => `partition ${kind} ${victim}`);
    }
    this.partitioned = true;
  }

  private healPartition(): void {
    for (const row of this.blocked) row.fill(false);
    this.partitioned = false;
    this.trace(() => 'partition healed');
  }

  private tickAll(): void {
    // Nodes tick in a random order: each has its own clock.
    const order = [...this.nodes];
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (const node of order) {
      if (node.raft === null || node.pausedUntil > this.now) continue;
      if (this.faultsOn && node.clockRate < 1 && !this.chance(node.clockRate)) continue;
      node.raft.tick();
      this.processReady(node);
    }
    // Deliveries and disk completions feed each other (a completed write sends messages, a
    // delivery starts a write): run both until the tick is quiet.
    for (;;) {
      this.deliverDue();
      if (!this.nodes.some((n) => n.diskWrite !== null && n.raft !== null && n.pausedUntil <= this.now)) break;
      this.completeDiskWrites();
    }
  }

  private heal(): void {
    this.faultsOn = false;
    this.notices = [];
    this.healPartition();
    for (const node of this.nodes) {
      if (node.raft === null) this.start(node);
      // Messages deferred by a pause still arrive, late.
      node.pausedUntil = Math.min(node.pausedUntil, this.now);
    }
    this.trace(() => 'heal: no more faults');
  }

  /**
   * After healing: within commitTicks a leader commits a new proposal, and within catchUpTicks
   * every node has applied it (lagging nodes catch up by log or snapshot).
   */
  private awaitLiveness(): { commitTicks: number; catchUpTicks: number } {
    const from = this.now;
    const value = `final-${this.options.seed}`;
    let proposed: { index: number; term: number } | null = null;
    let commitTicks = -1;
    const isCommitted = (): boolean => proposed !== null && this.oracle.committedAt(proposed.index)?.term === proposed.term;
    for (;;) {
      const elapsed = this.now - from;
      if (commitTicks < 0 && isCommitted()) commitTicks = elapsed;
      if (commitTicks >= 0 && this.nodes.every((n) => n.sm.applied >= proposed!.index)) return { commitTicks, catchUpTicks: elapsed };
      if (commitTicks < 0 && elapsed >= this.options.commitTicks) {
        throw new InvariantViolation('Liveness', `no leader committed a new proposal within ${this.options.commitTicks} ticks of healing (${this.describeNodes()})`);
      }
      if (elapsed >= this.options.catchUpTicks) {
        throw new InvariantViolation('Liveness', `not every node applied the new proposal within ${this.options.catchUpTicks} ticks of healing (${this.describeNodes()})`);
      }
      const leader = this.nodes.find((n) => n.raft?.isLeader);
      // (Re)propose until it commits: a leader change may lose it.
      if (commitTicks < 0 && leader?.raft && (proposed === null || leader.raft.term !== proposed.term)) {
        const r = leader.raft.propose(encoder.encode(value));
        if (r.ok) proposed = { index: r.index, term: r.term };
        this.trace(() => `final proposal at ${leader.id}: ${r.ok ? `${r.index}/${r.term}` : r.code}`);
        this.processReady(leader);
      }
      this.tickAll();
      this.now++;
    }
  }

  private describeNodes(): string {
    return this.nodes
      .map((n) => {
        const s = n.raft!.status();
        return `${n.id}:${s.role}/t${s.term}/lead${s.leaderId}/commit${s.commit}/applied${n.sm.applied}/last${s.lastIndex}`;
      })
      .join(' ');
  }

  // ---- clients ------------------------------------------------------------------------------

  private clientPropose(): void {
    const live = this.nodes.filter((n) => this.reachable(n));
    if (live.length === 0) return;
    let node = this.pick(live);
    const value = `v${this.nextValue++}`;
    let r = node.raft!.propose(encoder.encode(value));
    if (!r.ok && r.code === 'NOT_LEADER' && r.leaderId !== null) {
      // The client follows the redirect once.
      const leader = this.nodes[r.leaderId - 1]!;
      if (this.reachable(leader)) {
        node = leader;
        r = node.raft!.propose(encoder.encode(value));
      }
    }
    this.trace(() => `propose ${value} at ${node.id}: ${r.ok ? `${r.index}/${r.term}` : r.code}`);
    if (r.ok) this.processReady(node);
  }

  private clientRead(): void {
    const live = this.nodes.filter((n) => this.reachable(n));
    if (live.length === 0) return;
    const node = this.pick(live);
    const ctx = `r${node.id}-${this.stats.reads++}`;
    const r = node.raft!.readIndex(ctx);
    this.trace(() => `readIndex ${ctx} at ${node.id}: ${r.ok ? 'accepted' : r.code} (min ${this.oracle.maxCommitted})`);
    if (r.ok) {
      this.pendingReads.set(ctx, { node: node.id, incarnation: node.incarnation, minIndex: this.oracle.maxCommitted });
      this.processReady(node);
    }
  }

  private maybeCompact(node: SimNode): void {
    const raft = node.raft!;
    if (node.sm.applied - raft.snapshotIndex < this.profile.compactEvery || node.sm.applied !== raft.appliedIndex) return;
    const index = node.sm.applied;
    const term = raft.termAt(index)!;
    const data = encodeState(node.sm);
    if (!raft.compact(index, data)) return;
    // The adapter's job: persist the snapshot, then drop the stored entries it covers.
    node.disk.snapshot = { index, term, data };
    node.disk.entries = node.disk.entries.filter((e) => e.index > index);
    this.oracle.observeSnapshotState(node.id, index, node.sm.hash);
    this.trace(() => `compact ${node.id} to ${index}/${term}`);
  }

  // ---- the adapter: drain Ready in the contract's order --------------------------------------

  private processReady(node: SimNode): void {
    for (;;) {
      const raft = node.raft;
      if (raft === null || node.diskWrite !== null) return; // a write in flight: the drain loop is busy
      this.checkNodeState(node);
      const rd = raft.ready();
      if (rd === null) return;
      // The messages that may leave before the write (a leader's appends) leave now, as in the
      // real adapter; a crash before the write completes then loses the leader's own copy.
      for (const m of rd.messages.slice(0, rd.earlyMessages)) this.send(m);
      if (this.profile.asyncDisk) {
        // Like the real adapter, whose level write is asynchronous: the node keeps receiving
        // messages, ticks and proposals until the write completes (completeDiskWrites).
        node.diskWrite = rd;
        return;
      }
      if (rd.earlyMessages > 0 && this.faultsOn && this.chance(0.002)) {
        // Crash after the early sends, before the write.
        this.crash(node);
        return;
      }
      this.drain(node, rd);
    }
  }

  /** Persist, then send (what did not leave early), then apply, then advance: the contract of Ready. */
  private drain(node: SimNode, rd: Ready): void {
    this.persist(node, rd);
    if (this.faultsOn && this.chance(0.002)) {
      // Crash after the write, before anything else was sent or applied.
      this.crash(node);
      return;
    }
    for (const m of rd.messages.slice(rd.earlyMessages)) this.send(m);
    this.apply(node, rd);
    node.raft!.advance(rd);
  }

  /** Completes the disk write of `node` (if one is in flight) and drains what follows. */
  private completeDiskWrite(node: SimNode): void {
    const rd = node.diskWrite;
    if (rd === null || node.raft === null || node.pausedUntil > this.now) return;
    node.diskWrite = null;
    this.drain(node, rd);
    this.processReady(node);
  }

  private completeDiskWrites(): void {
    for (let busy = true; busy; ) {
      busy = false;
      for (const node of this.nodes) {
        if (node.diskWrite !== null && node.pausedUntil <= this.now) {
          this.completeDiskWrite(node);
          busy = true;
        }
      }
    }
  }

  private checkNodeState(node: SimNode): void {
    const raft = node.raft!;
    check('MonotonicTerm', raft.term >= node.seenTerm, () => `node ${node.id} term ${raft.term} < ${node.seenTerm}`);
    node.seenTerm = raft.term;
    const commit = raft.commitIndex;
    check('MonotonicCommit', commit >= node.seenCommit, () => `node ${node.id} commit ${commit} < ${node.seenCommit}`);
    node.seenCommit = commit;
    if (raft.isLeader && node.seenLeaderTerm !== raft.term) {
      node.seenLeaderTerm = raft.term;
      this.oracle.observeLeader(raft.term, node.id);
      this.trace(() => `leader ${node.id} term ${raft.term} last=${raft.lastIndex}`);
      this.checkLeaderCompleteness(node);
    }
  }

  private checkLeaderCompleteness(node: SimNode): void {
    const raft = node.raft!;
    const s = raft.status();
    for (let i = s.snapshotIndex + 1; i <= this.oracle.maxCommitted; i++) {
      const fact = this.oracle.committedAt(i);
      if (fact === undefined || fact.observedTerm >= s.term) continue;
      check('LeaderCompleteness', raft.termAt(i) === fact.term, () =>
        `leader ${node.id} of term ${s.term} has ${i}/${raft.termAt(i)}, but ${i}/${fact.term} was committed by term ${fact.observedTerm}`,
      );
    }
    if (s.snapshotIndex > 0) {
      const fact = this.oracle.committedAt(s.snapshotIndex);
      if (fact !== undefined) {
        check('LeaderCompleteness', raft.termAt(s.snapshotIndex) === fact.term, () =>
          `leader ${node.id} snapshot at ${s.snapshotIndex} has term ${raft.termAt(s.snapshotIndex)}, committed term ${fact.term}`,
        );
      }
    }
  }

  private persist(node: SimNode, rd: Ready): void {
    const disk = node.disk;
    const raft = node.raft!;
    if (rd.snapshot !== null) {
      const s = rd.snapshot;
      check('CommittedEntriesNeverChange', s.index > disk.hardState.commit, () =>
        `node ${node.id} installs snapshot ${s.index} at or below its commit ${disk.hardState.commit}`,
      );
      this.oracle.observeCommitted(node.id, s.index, s.term, null, raft.term);
      this.oracle.observeSnapshotState(node.id, s.index, decodeState(s.data).hash);
      disk.snapshot = s;
      disk.entries = [];
      this.trace(() => `${node.id} installs snapshot ${s.index}/${s.term}`);
    }
    if (rd.entries.length > 0) {
      const first = rd.entries[0]!.index;
      const base = disk.snapshot?.index ?? 0;
      check('CommittedEntriesNeverChange', first > disk.hardState.commit, () =>
        `node ${node.id} overwrites from ${first} below its persisted commit ${disk.hardState.commit}`,
      );
      check('LogMatching', first >= base + 1 && first <= base + disk.entries.length + 1, () =>
        `node ${node.id} writes entry ${first} leaving a gap (disk has ${base + 1}..${base + disk.entries.length})`,
      );
      disk.entries.length = first - base - 1;
      let prevTerm = first - 1 === base ? (disk.snapshot?.term ?? 0) : disk.entries[disk.entries.length - 1]!.term;
      for (const e of rd.entries) {
        this.oracle.observeLogEntry(node.id, e, prevTerm);
        disk.entries.push(e);
        prevTerm = e.term;
      }
    }
    if (rd.hardState !== null) {
      const hs = rd.hardState;
      const old = disk.hardState;
      check('MonotonicTerm', hs.term >= old.term, () => `node ${node.id} persists term ${hs.term} < ${old.term}`);
      check('MonotonicCommit', hs.commit >= old.commit, () => `node ${node.id} persists commit ${hs.commit} < ${old.commit}`);
      check('ElectionSafety', hs.term > old.term || old.vote === null || hs.vote === old.vote, () =>
        `node ${node.id} changed its vote in term ${hs.term} from ${old.vote} to ${hs.vote}`,
      );
      const base = disk.snapshot?.index ?? 0;
      check('MonotonicCommit', hs.commit <= base + disk.entries.length, () =>
        `node ${node.id} persists commit ${hs.commit} beyond its persisted log end ${base + disk.entries.length}`,
      );
      for (let i = Math.max(old.commit, base) + 1; i <= hs.commit; i++) {
        const e = disk.entries[i - base - 1]!;
        this.oracle.observeCommitted(node.id, i, e.term, entryKey(e), hs.term);
        this.checkCommittedInLeaders(i);
      }
      disk.hardState = hs;
    }
  }

  /** A newly committed entry must be in the log of every live leader of a later term. */
  private checkCommittedInLeaders(index: number): void {
    const fact = this.oracle.committedAt(index)!;
    for (const n of this.nodes) {
      const raft = n.raft;
      if (raft === null || !raft.isLeader || raft.term <= fact.observedTerm) continue;
      const t = raft.termAt(index);
      if (t === undefined && index <= raft.snapshotIndex) continue;
      check('LeaderCompleteness', t === fact.term, () => `leader ${n.id} of term ${raft.term} lacks committed ${index}/${fact.term}`);
    }
  }

  private apply(node: SimNode, rd: Ready): void {
    if (rd.snapshot !== null) {
      node.sm = decodeState(rd.snapshot.data);
      check('StateMachineSafety', node.sm.applied === rd.snapshot.index, () => `snapshot data ${node.sm.applied} ≠ index ${rd.snapshot!.index}`);
    }
    for (const e of rd.committedEntries) {
      node.sm.hash = this.oracle.observeApplied(node.id, e, node.sm.applied, node.sm.hash);
      node.sm.applied = e.index;
    }
    for (const rs of rd.readStates) {
      const pending = this.pendingReads.get(rs.requestCtx);
      // Unknown: answered already (a duplicated response) — an adapter ignores it too.
      if (pending === undefined) continue;
      check('ReadIndexLinearizable', pending.node === node.id, () => `node ${node.id} got the read state of ${rs.requestCtx}, asked at ${pending.node}`);
      this.pendingReads.delete(rs.requestCtx);
      if (pending.incarnation !== node.incarnation) continue; // asked before a crash: the client is gone
      check('ReadIndexLinearizable', rs.index >= pending.minIndex, () =>
        `read ${rs.requestCtx} at node ${node.id} got index ${rs.index}, but ${pending.minIndex} was committed before it was asked`,
      );
      this.trace(() => `read ${rs.requestCtx} at ${node.id} index ${rs.index} (min ${pending.minIndex})`);
    }
    for (const ctx of rd.droppedReads) this.pendingReads.delete(ctx);
  }

  // ---- the network --------------------------------------------------------------------------

  private send(m: Message): void {
    this.stats.messages++;
    if (m.type === 'snapshot') this.stats.snapshotsSent++;
    if (this.faultsOn && this.chance(this.profile.lossRate)) return;
    const copies = this.faultsOn && this.chance(this.profile.dupRate) ? 2 : 1;
    for (let c = 0; c < copies; c++) {
      // Some messages take the wire format, which also proves they survive it.
      const wire = this.chance(this.profile.codecRate) ? decodeMessage(encodeMessage(m)) : m;
      // A healed network is a healthy one: one tick of delay, first in first out.
      this.enqueue(wire, this.now + (this.faultsOn ? Math.floor(this.random() * (this.profile.maxDelay + 1)) : 1));
    }
  }

  private enqueue(m: Message, at: number): void {
    check('Simulator', at >= this.now, () => `message scheduled in the past (${at} < ${this.now})`);
    let bucket = this.inflight.get(at);
    if (bucket === undefined) this.inflight.set(at, (bucket = []));
    bucket.push(m);
  }

  private deliverDue(): void {
    const bucket = this.inflight.get(this.now);
    if (bucket === undefined) return;
    let delivered = 0;
    // Under faults, random order within the tick: messages overtake each other.
    while (bucket.length > 0) {
      check('Liveness', ++delivered <= MAX_DELIVERIES_PER_TICK, () => `message storm: over ${MAX_DELIVERIES_PER_TICK} deliveries in one tick`);
      let m: Message;
      if (this.faultsOn) {
        const i = Math.floor(this.random() * bucket.length);
        m = bucket[i]!;
        bucket[i] = bucket[bucket.length - 1]!;
        bucket.pop();
      } else {
        m = bucket.shift()!;
      }
      if (this.blocked[m.from]![m.to]) continue;
      const node = this.nodes[m.to - 1]!;
      if (node.raft === null) continue;
      if (node.pausedUntil > this.now) {
        // Waits in the paused process's socket buffer.
        this.enqueue(m, node.pausedUntil);
        continue;
      }
      this.trace(() => `deliver ${describe(m)}`);
      node.raft.step(m);
      this.processReady(node);
      if (this.profile.asyncDisk && this.chance(0.3)) this.completeDiskWrite(this.pick(this.nodes));
    }
    this.inflight.delete(this.now);
  }
}

function encodeState(sm: StateMachine): Uint8Array {
  return encoder.encode(JSON.stringify({ applied: sm.applied, hash: sm.hash }));
}

function decodeState(data: Uint8Array): StateMachine {
  const v = JSON.parse(new TextDecoder().decode(data)) as { applied: number; hash: number };
  return { applied: v.applied, hash: v.hash };
}

export function describe(m: Message): string {
  const head = `${m.from}→${m.to} ${m.type} t${m.term}`;
  switch (m.type) {
    case 'append':
      return `${head} prev=${m.prevIndex}/${m.prevTerm} commit=${m.commit} entries=[${m.entries.map((e) => `${e.index}/${e.term}`).join(' ')}]`;
    case 'appendResponse':
      return `${head} index=${m.index}${m.reject ? ` REJECT hint=${m.hintIndex}/${m.hintTerm}` : ''}`;
    case 'vote':
    case 'preVote':
      return `${head} last=${m.lastIndex}/${m.lastTerm}${m.transfer ? ' transfer' : ''}`;
    case 'voteResponse':
    case 'preVoteResponse':
      return `${head}${m.reject ? ' REJECT' : ''}`;
    case 'heartbeat':
      return `${head} commit=${m.commit} read=${m.readSeq}`;
    case 'heartbeatResponse':
      return `${head} read=${m.readSeq}`;
    case 'snapshot':
      return `${head} snap=${m.snapshot.index}/${m.snapshot.term}`;
    case 'readIndex':
      return `${head} ctx=${m.requestCtx}`;
    case 'readIndexResponse':
      return `${head} ctx=${m.requestCtx} index=${m.index}`;
    case 'timeoutNow':
      return head;
  }
}
