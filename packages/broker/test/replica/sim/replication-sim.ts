// A deterministic simulation of one partition replicated on 3 brokers, driving the real
// PartitionReplica core: in-memory logs (sim-log.ts) with random flush points, a network
// between brokers that loses, duplicates, delays (now and then by far) and so reorders
// messages, a coordinator store that applies the leaders' ISR compare-and-sets, a controller
// (modelled on Kafka's ZooKeeper controller: it notices failures late, elects leaders only from
// the ISR it reads from that store and bumps the leader epoch on every change) that also moves
// leadership, crashes (process kills that lose nothing, and power losses that drop every
// unflushed record), restarts, and producers writing with acks=all (counted) and acks=1 (which
// leave uncommitted tails to truncate). Everything random comes from one seed, so a seed
// reproduces a run exactly; the fault mix (rates, delays, min.insync.replicas, lag time) is
// drawn from the seed too.
//
// The fault model is Kafka's durability model: replication, not fsync, makes a write durable,
// so a power loss counts as a failure until the broker is back: it may drop unflushed records
// only while every other broker is up and another one is in the written ISR, and while it is
// down nothing else fails and leadership does not move. (A second failure in that window loses
// acknowledged records in Kafka too: the controller, not yet aware of the power loss, may elect
// the broker that lost them.) A process kill never loses anything and may strike any time.
//
// A run has two phases: chaos for `chaosTicks`, then healing (every broker up, no loss or
// duplication, one tick of delay): within `healTicks` every replica must be back in the ISR with
// an identical log, every HW at the log end, and an acks=all write issued after healing must be
// acknowledged. The invariants of sim-invariants.ts are checked after every tick.

import type { KafkaError } from '@samsa/client';
import { PartitionReplica, type IsrChangeProposal } from '../../../src/replica/partition-replica.js';
import type { PartitionStateInput } from '../../../src/replica/partition-state.js';
import { Oracle } from './sim-invariants.js';
import { type SimBatch, SimLog } from './sim-log.js';

// Module-level references: under jest's vm contexts every global lookup (Math) is slow.
const { floor, imul, max, min } = Math;

const TICK_MS = 10;
const BROKERS = [1, 2, 3] as const;
const NO_LEADER = -1;

/** Deliberate bugs the adapter-side of the simulation can introduce, to prove the run can fail. */
export type SimMutation =
  | 'none'
  /** Followers truncate to their high watermark instead of by leader epoch. */
  | 'truncate-to-high-watermark'
  /** Followers skip truncation and fetch from their log end at once. */
  | 'skip-truncation'
  /** The controller does not bump the leader epoch when a broker outside the ISR fails (Kafka's ZK controller). */
  | 'no-epoch-bump-for-non-isr-failure'
  /** The leader's fetch handler ignores the follower's leader epoch. */
  | 'no-fetch-fencing';

export interface SimOptions {
  readonly seed: number;
  readonly chaosTicks: number;
  readonly healTicks: number;
  readonly trace?: boolean;
  readonly mutation?: SimMutation;
}

export interface SimResult {
  readonly seed: number;
  readonly ticks: number;
  readonly healedInTicks: number;
  readonly acked: number;
  readonly committed: number;
  readonly leaderElections: number;
  readonly crashes: number;
  readonly lossyCrashes: number;
  readonly truncations: number;
  readonly isrShrinks: number;
  readonly isrExpansions: number;
  readonly rejectedIsrChanges: number;
  readonly refusedProduces: number;
}

/** A run that broke an invariant or did not heal in time; the message says how to rerun it. */
export class SimulationFailure extends Error {
  constructor(
    readonly seed: number,
    readonly tick: number,
    cause: Error,
    trace: readonly string[],
  ) {
    super(
      `replication simulation seed=${seed} failed at tick ${tick}: ${cause.message}\n` +
        `rerun just this seed (with a trace): SAMSA_SIM_SEED=${seed} ` +
        `NODE_OPTIONS="--experimental-vm-modules --disable-warning=ExperimentalWarning" npx jest packages/broker/test/replica/replication-simulation` +
        (trace.length > 0 ? `\nlast events:\n${trace.join('\n')}` : ''),
      { cause },
    );
    this.name = 'SimulationFailure';
  }
}

/** mulberry32: a small seeded PRNG. */
function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface ZnodeState {
  leader: number;
  leaderEpoch: number;
  isr: number[];
  controllerEpoch: number;
  version: number;
}

type Message =
  | { kind: 'fetch'; leaderEpoch: number; fetchOffset: number; maxBatches: number }
  | { kind: 'fetch-response'; leaderEpoch: number; fetchOffset: number; ok: true; batches: SimBatch[]; highWatermark: number }
  | {
      kind: 'fetch-response';
      leaderEpoch: number;
      fetchOffset: number;
      ok: false;
      error: KafkaError;
      leaderLogStartOffset: number;
      leaderLogEndOffset: number;
    }
  | { kind: 'ofle'; leaderEpoch: number; requestedEpoch: number }
  | { kind: 'ofle-response'; leaderEpoch: number; requestedEpoch: number; answer: { leaderEpoch: number; endOffset: number } | KafkaError }
  | { kind: 'leader-and-isr'; state: PartitionStateInput }
  | { kind: 'cas-result'; proposalId: number; committedVersion: number | null }
  | { kind: 'reread'; state: ZnodeState };

interface Envelope {
  readonly from: number;
  readonly to: number;
  /** Delivered only to this incarnation of `to` (a restart breaks connections). */
  readonly toIncarnation: number;
  readonly fromIncarnation: number;
  readonly msg: Message;
}

interface PendingWrite {
  readonly values: string[];
  readonly baseOffset: number;
}

interface SimBroker {
  readonly id: number;
  readonly log: SimLog;
  up: boolean;
  incarnation: number;
  replica: PartitionReplica | null;
  restartAtTick: number;
  /** Down after a power loss (not a process kill). */
  lostPower: boolean;
  lastPowerLossTick: number;
  /** The HW last checked by HighWatermarkBackedByIsr while leading (0 when not leading). */
  lastLeaderHw: number;
  hwCheckpoint: number;
  /** The follower's request in flight: another is sent when it is answered or times out. */
  inflight: { sentAtTick: number; leaderEpoch: number } | null;
  readonly waits: Map<number, PendingWrite>;
}

interface Profile {
  lossRate: number;
  dupRate: number;
  maxDelayTicks: number;
  /** A share of messages is held up far longer (a slow link, a paused process), arriving long after newer ones. */
  spikeRate: number;
  crashRate: number;
  lossyCrashShare: number;
  moveLeaderRate: number;
  produceRate: number;
  acksOneShare: number;
  flushRate: number;
  minInsyncReplicas: number;
  lagTicks: number;
  detectTicks: number;
}

export class ReplicationSimulation {
  private readonly random: () => number;
  private readonly profile: Profile;
  private readonly mutation: SimMutation;
  private readonly oracle = new Oracle();
  private readonly brokers = new Map<number, SimBroker>();
  private readonly inbox = new Map<number, Envelope[]>();
  private readonly trace: string[] = [];
  private readonly traceOn: boolean;
  private tick = 0;
  private healing = false;
  private znode: ZnodeState = { leader: 1, leaderEpoch: 0, isr: [1, 2, 3], controllerEpoch: 1, version: 0 };
  /** The controller's view: brokers it believes alive; failures it has yet to notice. */
  private readonly controllerLive = new Set<number>(BROKERS);
  private readonly failureNoticeAt = new Map<number, number>();
  private nextValue = 0;
  /** After healing: an acks=all write that must be acknowledged (re-issued if it fails). */
  private healProbe: { state: 'none' | 'waiting' | 'acked' } | { state: 'written'; value: string } = { state: 'none' };
  /** ISR compare-and-sets on their way to the coordinator. */
  private casQueue: { atTick: number; from: number; incarnation: number; proposal: IsrChangeProposal }[] = [];
  private stats = {
    leaderElections: 0,
    crashes: 0,
    lossyCrashes: 0,
    truncations: 0,
    isrShrinks: 0,
    isrExpansions: 0,
    rejectedIsrChanges: 0,
    refusedProduces: 0,
  };

  constructor(private readonly options: SimOptions) {
    this.random = rng(options.seed);
    this.mutation = options.mutation ?? 'none';
    this.traceOn = options.trace === true;
    const r = this.random;
    this.profile = {
      lossRate: r() < 0.3 ? 0 : r() * 0.25,
      dupRate: r() < 0.5 ? 0 : r() * 0.1,
      maxDelayTicks: 1 + floor(r() * 5),
      spikeRate: r() < 0.5 ? 0 : r() * 0.05,
      crashRate: 0.003 + r() * 0.02,
      lossyCrashShare: r(),
      moveLeaderRate: r() * 0.02,
      produceRate: 0.1 + r() * 0.6,
      acksOneShare: r() < 0.5 ? 0 : r() * 0.5,
      flushRate: 0.02 + r() * 0.5,
      minInsyncReplicas: r() < 0.3 ? 1 : 2,
      lagTicks: 10 + floor(r() * 30),
      detectTicks: 2 + floor(r() * 20),
    };
    for (const id of BROKERS) {
      this.brokers.set(id, {
        id,
        log: new SimLog(),
        up: true,
        incarnation: 0,
        replica: null,
        restartAtTick: 0,
        lostPower: false,
        lastPowerLossTick: -1_000,
        lastLeaderHw: 0,
        hwCheckpoint: 0,
        inflight: null,
        waits: new Map(),
      });
    }
  }

  run(): SimResult {
    let healedAt = -1;
    try {
      for (const b of this.brokers.values()) this.startReplica(b);
      this.broadcastState();
      for (; this.tick < this.options.chaosTicks; this.tick++) this.step();
      this.heal();
      const deadline = this.tick + this.options.healTicks;
      for (; this.tick < deadline; this.tick++) {
        this.step();
        if (this.isHealed()) {
          healedAt = this.tick;
          break;
        }
      }
      if (healedAt < 0) throw new Error(`Liveness violated: not healed within ${this.options.healTicks} ticks: ${this.describe()}`);
      for (const b of this.brokers.values()) this.oracle.checkAllCommitted(b.id, b.replica!.state().highWatermark, b.log);
    } catch (e) {
      throw new SimulationFailure(this.options.seed, this.tick, e as Error, this.trace);
    }
    return {
      seed: this.options.seed,
      ticks: this.tick,
      healedInTicks: healedAt - this.options.chaosTicks,
      acked: this.oracle.acked.length,
      committed: this.oracle.committedCount,
      ...this.stats,
    };
  }

  // --- one tick ------------------------------------------------------------------------------

  private step(): void {
    const now = this.tick * TICK_MS;
    const due = this.inbox.get(this.tick);
    if (due !== undefined) {
      this.inbox.delete(this.tick);
      for (const env of due) this.deliver(env, now);
    }
    this.casQueue = this.casQueue.filter((c) => {
      if (c.atTick > this.tick) return true;
      this.applyIsrChange(c.from, c.incarnation, c.proposal);
      return false;
    });
    if (!this.healing) this.injectFaults();
    for (const [id, at] of this.failureNoticeAt) if (at <= this.tick) this.controllerOnFailure(id);
    for (const b of this.brokers.values()) if (!b.up && b.restartAtTick <= this.tick) this.restart(b);
    // After healing, writes stop once the probe is acknowledged, so that the logs can converge.
    if (this.healProbe.state !== 'acked' && this.random() < this.profile.produceRate) this.produce(now);
    for (const b of this.brokers.values()) {
      if (!b.up || b.replica === null) continue;
      b.replica.tick(now);
      this.followerWork(b, now);
      if (this.random() < this.profile.flushRate) b.log.flush();
      if (this.random() < 0.2) b.hwCheckpoint = b.replica.state().highWatermark;
      this.drain(b);
    }
    this.checkInvariants();
  }

  /**
   * While a broker that lost power is down (until its restart, when the controller takes it out
   * of the ISR), it counts as the one failure the cluster tolerates: no other broker crashes and
   * leadership does not move, as either could hand leadership to the broker that lost records
   * while the controller still thinks it is alive and in sync.
   */
  private injectFaults(): void {
    const r = this.random;
    const lossyDown = [...this.brokers.values()].some((b) => !b.up && b.lostPower);
    if (r() < this.profile.crashRate && !lossyDown) {
      const up = [...this.brokers.values()].filter((b) => b.up);
      if (up.length > 0) this.crash(up[floor(r() * up.length)]!);
    }
    if (r() < this.profile.moveLeaderRate && !lossyDown) this.controllerMoveLeader();
  }

  private heal(): void {
    this.healing = true;
    this.profile.lossRate = 0;
    this.profile.dupRate = 0;
    this.profile.maxDelayTicks = 1;
    this.profile.spikeRate = 0;
    this.profile.produceRate = max(this.profile.produceRate, 0.2);
    for (const b of this.brokers.values()) if (!b.up) b.restartAtTick = this.tick;
    this.log('heal');
  }

  private isHealed(): boolean {
    if (this.healProbe.state === 'none') {
      if ([...this.brokers.values()].every((b) => b.up && b.replica !== null)) this.healProbe = { state: 'waiting' };
      return false;
    }
    if (this.healProbe.state !== 'acked') return false;
    if (this.znode.isr.length !== BROKERS.length || this.znode.leader === NO_LEADER) return false;
    const states = [...this.brokers.values()].map((b) => b.replica?.state());
    const leader = this.brokers.get(this.znode.leader)!;
    if (leader.replica?.state().role !== 'leader' || leader.replica.state().leaderEpoch !== this.znode.leaderEpoch) return false;
    const leo = leader.log.logEndOffset;
    for (const [i, b] of [...this.brokers.values()].entries()) {
      const s = states[i];
      if (s === undefined || s.highWatermark !== leo || b.log.logEndOffset !== leo) return false;
      for (let o = 0; o < leo; o++) if (b.log.valueAt(o) !== leader.log.valueAt(o)) return false;
    }
    return true;
  }

  private describe(): string {
    const parts = [...this.brokers.values()].map((b) => {
      const s = b.replica?.state();
      return (
        `b${b.id}${b.up ? '' : '(down)'} ${s?.role ?? '-'} epoch ${s?.leaderEpoch ?? '-'} leo ${b.log.logEndOffset} ` +
        `hw ${s?.highWatermark ?? '-'} isr [${s?.isr.join(',') ?? ''}] phase ${s?.followerPhase ?? '-'}`
      );
    });
    return `znode ${JSON.stringify(this.znode)}; ${parts.join('; ')}; probe ${JSON.stringify(this.healProbe)}`;
  }

  // --- faults --------------------------------------------------------------------------------

  /**
   * Power loss is allowed only while every other broker is up and another broker is in the
   * written ISR and in every ISR a compare-and-set in flight may still write.
   */
  private crash(b: SimBroker): void {
    const othersUp = [...this.brokers.values()].every((o) => o === b || o.up);
    const anotherInIsr = [this.znode.isr, ...this.casQueue.map((c) => c.proposal.isr)].every((isr) => isr.some((id) => id !== b.id));
    const lossy = othersUp && anotherInIsr && this.random() < this.profile.lossyCrashShare;
    b.lostPower = lossy;
    if (lossy) b.lastPowerLossTick = this.tick;
    b.lastLeaderHw = 0;
    const lost = lossy ? b.log.logEndOffset - b.log.flushedOffset : 0;
    b.log.crash(lossy);
    b.up = false;
    b.replica = null;
    b.inflight = null;
    b.waits.clear();
    b.incarnation++;
    b.restartAtTick = this.tick + 3 + floor(this.random() * 40);
    this.oracle.forget(b.id);
    this.stats.crashes++;
    if (lossy) this.stats.lossyCrashes++;
    if (!this.failureNoticeAt.has(b.id)) this.failureNoticeAt.set(b.id, this.tick + this.profile.detectTicks);
    this.log(`crash b${b.id} ${lossy ? `power loss (${lost} unflushed records lost)` : 'kill'}; log end ${b.log.logEndOffset}`);
  }

  private restart(b: SimBroker): void {
    b.up = true;
    this.startReplica(b);
    this.log(`restart b${b.id} log end ${b.log.logEndOffset} hw checkpoint ${b.hwCheckpoint}`);
    // A new registration: the controller handles the bounce (failure first if not yet noticed).
    if (this.failureNoticeAt.has(b.id)) this.controllerOnFailure(b.id);
    this.controllerOnStartup(b.id);
  }

  private startReplica(b: SimBroker): void {
    const now = this.tick * TICK_MS;
    b.replica = new PartitionReplica({
      brokerId: b.id,
      name: `b${b.id}`,
      logStartOffset: b.log.logStartOffset,
      logEndOffset: b.log.logEndOffset,
      highWatermark: min(b.hwCheckpoint, b.log.logEndOffset),
      nowMs: now,
      config: { replicaLagTimeMaxMs: this.profile.lagTicks * TICK_MS, minInsyncReplicas: this.profile.minInsyncReplicas, maxPendingProduces: 50 },
    });
  }

  // --- the controller ------------------------------------------------------------------------

  private writeZnode(next: Omit<ZnodeState, 'version' | 'controllerEpoch'>, why: string): void {
    this.znode = { ...next, controllerEpoch: 1, version: this.znode.version + 1 };
    this.log(`controller: ${why} → ${JSON.stringify(this.znode)}`);
    this.broadcastState();
  }

  private broadcastState(): void {
    for (const id of BROKERS) if (this.controllerLive.has(id)) this.sendState(id);
  }

  private sendState(to: number): void {
    const z = this.znode;
    const state: PartitionStateInput = {
      leader: z.leader,
      leaderEpoch: z.leaderEpoch,
      partitionEpoch: z.version,
      controllerEpoch: z.controllerEpoch,
      isr: [...z.isr],
      replicas: [...BROKERS],
    };
    this.send(0, to, { kind: 'leader-and-isr', state }, false);
  }

  /** Kafka's onBrokerFailure: elect a new leader from the live ISR, or take the broker out of the ISR (epoch + 1). */
  private controllerOnFailure(id: number): void {
    this.failureNoticeAt.delete(id);
    this.controllerLive.delete(id);
    const z = this.znode;
    if (z.leader === id) {
      const candidate = BROKERS.find((r) => r !== id && this.controllerLive.has(r) && z.isr.includes(r));
      if (candidate !== undefined) {
        this.stats.leaderElections++;
        const isr = z.isr.filter((r) => r !== id && this.controllerLive.has(r));
        this.writeZnode({ leader: candidate, leaderEpoch: z.leaderEpoch + 1, isr }, `b${id} failed, elect b${candidate}`);
      } else {
        const rest = z.isr.filter((r) => r !== id);
        const isr = rest.length > 0 ? rest : [id];
        this.writeZnode({ leader: NO_LEADER, leaderEpoch: z.leaderEpoch + 1, isr }, `b${id} failed, no ISR member left to lead`);
      }
    } else if (z.isr.includes(id) && z.isr.length > 1) {
      this.writeZnode({ leader: z.leader, leaderEpoch: z.leaderEpoch + 1, isr: z.isr.filter((r) => r !== id) }, `b${id} failed, out of the ISR`);
    } else if (this.mutation !== 'no-epoch-bump-for-non-isr-failure') {
      // Even outside the ISR: a new leader epoch fences what the dead incarnation still has in flight.
      this.writeZnode({ leader: z.leader, leaderEpoch: z.leaderEpoch + 1, isr: [...z.isr] }, `b${id} failed (not in the ISR)`);
    }
  }

  private controllerOnStartup(id: number): void {
    this.controllerLive.add(id);
    const z = this.znode;
    if (z.leader === NO_LEADER && z.isr.includes(id)) {
      this.stats.leaderElections++;
      const isr = z.isr.filter((r) => this.controllerLive.has(r));
      this.writeZnode({ leader: id, leaderEpoch: z.leaderEpoch + 1, isr }, `b${id} is back, elect it`);
    } else {
      this.sendState(id);
    }
  }

  /** A preferred-leader election or controlled shutdown: leadership moves to another live ISR member. */
  private controllerMoveLeader(): void {
    const z = this.znode;
    if (z.leader === NO_LEADER) return;
    const candidates = z.isr.filter((r) => r !== z.leader && this.controllerLive.has(r));
    if (candidates.length === 0) return;
    const to = candidates[floor(this.random() * candidates.length)]!;
    this.stats.leaderElections++;
    this.writeZnode({ leader: to, leaderEpoch: z.leaderEpoch + 1, isr: [...z.isr] }, `move leadership to b${to}`);
  }

  /** The coordinator applies a leader's compare-and-set. */
  private applyIsrChange(from: number, fromIncarnation: number, p: IsrChangeProposal): void {
    let committedVersion: number | null = null;
    if (this.znode.version === p.expectedPartitionEpoch) {
      const version = this.znode.version + 1;
      this.znode = { leader: p.leader, leaderEpoch: p.leaderEpoch, isr: [...p.isr], controllerEpoch: p.controllerEpoch, version };
      committedVersion = this.znode.version;
      if (p.kind === 'shrink') this.stats.isrShrinks++;
      else this.stats.isrExpansions++;
      this.log(`coordinator: b${from} ${p.kind} ISR → ${JSON.stringify(this.znode)}`);
    } else {
      this.stats.rejectedIsrChanges++;
      const why = `version ${this.znode.version}, expected ${p.expectedPartitionEpoch}`;
      this.log(`coordinator: b${from} ${p.kind} ISR [${p.isr.join(',')}] rejected (${why})`);
    }
    const b = this.brokers.get(from)!;
    if (b.incarnation === fromIncarnation) this.send(0, from, { kind: 'cas-result', proposalId: p.id, committedVersion }, false);
  }

  // --- network -------------------------------------------------------------------------------

  /** Broker-to-broker traffic is lossy; controller and coordinator sessions (from 0) are reliable. */
  private send(from: number, to: number, msg: Message, lossy: boolean, delayTicks?: number): void {
    const target = this.brokers.get(to)!;
    if (!target.up) return;
    if (lossy && this.random() < this.profile.lossRate) return;
    const fromIncarnation = from === 0 ? 0 : this.brokers.get(from)!.incarnation;
    const env: Envelope = { from, to, toIncarnation: target.incarnation, fromIncarnation, msg };
    const copies = lossy && this.random() < this.profile.dupRate ? 2 : 1;
    for (let c = 0; c < copies; c++) {
      const spike = lossy && this.random() < this.profile.spikeRate ? 10 + floor(this.random() * 60) : 0;
      const at = this.tick + spike + (delayTicks ?? 1 + floor(this.random() * this.profile.maxDelayTicks));
      let list = this.inbox.get(at);
      if (list === undefined) this.inbox.set(at, (list = []));
      list.push(env);
    }
  }

  private deliver(env: Envelope, now: number): void {
    const b = this.brokers.get(env.to)!;
    if (!b.up || b.incarnation !== env.toIncarnation || b.replica === null) return;
    const r = b.replica;
    const msg = env.msg;
    switch (msg.kind) {
      case 'leader-and-isr':
        this.applyState(b, msg.state, now, 'LeaderAndIsr');
        break;
      case 'cas-result':
        if (msg.committedVersion !== null) {
          r.onIsrChangeCommitted(msg.proposalId, msg.committedVersion, now);
        } else if (r.onIsrChangeRejected(msg.proposalId, now)) {
          // Re-read the znode (THE ISR CONTRACT): a newer version under our leader epoch is adopted.
          this.send(0, b.id, { kind: 'reread', state: { ...this.znode, isr: [...this.znode.isr] } }, false);
        }
        break;
      case 'reread': {
        const z = msg.state;
        const state: PartitionStateInput = {
          leader: z.leader,
          leaderEpoch: z.leaderEpoch,
          partitionEpoch: z.version,
          controllerEpoch: z.controllerEpoch,
          isr: z.isr,
          replicas: [...BROKERS],
        };
        this.applyState(b, state, now, 're-read');
        break;
      }
      case 'fetch': {
        const epochForFencing = this.mutation === 'no-fetch-fencing' ? -1 : msg.leaderEpoch;
        const result = r.onFollowerFetch(env.from, { fetchOffset: msg.fetchOffset, currentLeaderEpoch: epochForFencing, logStartOffset: 0 }, now);
        const request = { kind: 'fetch-response', leaderEpoch: msg.leaderEpoch, fetchOffset: msg.fetchOffset } as const;
        if (result.ok) {
          const batches = b.log.read(msg.fetchOffset, msg.maxBatches);
          this.send(b.id, env.from, { ...request, ok: true, batches, highWatermark: result.highWatermark }, true);
        } else {
          const offsets = { leaderLogStartOffset: result.logStartOffset, leaderLogEndOffset: result.logEndOffset };
          this.send(b.id, env.from, { ...request, ok: false, error: result.error, ...offsets }, true);
        }
        break;
      }
      case 'fetch-response':
        if (b.inflight?.leaderEpoch === msg.leaderEpoch) b.inflight = null;
        if (msg.ok) {
          if (!r.acceptsFetchResponse(msg.leaderEpoch, msg.fetchOffset)) break;
          b.log.appendAsFollower(msg.batches);
          r.onAppend(b.log.logEndOffset, now);
          r.onLeaderHighWatermark(msg.highWatermark, now);
        } else {
          r.onFetchError(msg.leaderEpoch, msg.fetchOffset, msg.error, { logStartOffset: msg.leaderLogStartOffset, logEndOffset: msg.leaderLogEndOffset });
        }
        break;
      case 'ofle': {
        const result = r.answerOffsetForLeaderEpoch(msg.leaderEpoch, msg.requestedEpoch, b.log.epochEntries());
        const answer = result.ok ? { leaderEpoch: result.leaderEpoch, endOffset: result.endOffset } : result.error;
        this.send(b.id, env.from, { kind: 'ofle-response', leaderEpoch: msg.leaderEpoch, requestedEpoch: msg.requestedEpoch, answer }, true);
        break;
      }
      case 'ofle-response':
        if (b.inflight?.leaderEpoch === msg.leaderEpoch) b.inflight = null;
        r.onOffsetForLeaderEpochAnswer(msg.leaderEpoch, msg.requestedEpoch, msg.answer, b.log.epochEntries());
        break;
    }
    this.drain(b);
  }

  /** A partition state from the controller or a re-read of the znode, as the broker's adapter applies it. */
  private applyState(b: SimBroker, state: PartitionStateInput, now: number, source: string): void {
    const r = b.replica!;
    const leading = state.leader === b.id;
    const result = leading ? r.becomeLeader(state, now) : r.becomeFollower(state, now);
    if (result.kind !== 'applied') return;
    b.inflight = null;
    if (result.assignEpochStart !== null) b.log.assignEpochStart(result.assignEpochStart.epoch, result.assignEpochStart.startOffset);
    if (leading) {
      b.lastLeaderHw = r.state().highWatermark;
      this.oracle.observeLeader(b.id, state.leaderEpoch);
      this.oracle.checkLeaderHoldsAcked(b.id, state.leaderEpoch, b.log, 'becoming leader');
    }
    this.log(
      `b${b.id} ${leading ? 'leads' : `follows b${state.leader}`} epoch ${state.leaderEpoch} v${state.partitionEpoch} isr [${state.isr.join(',')}] ` +
        `(${source}, log end ${b.log.logEndOffset})`,
    );
  }

  // --- followers -----------------------------------------------------------------------------

  private followerWork(b: SimBroker, now: number): void {
    const r = b.replica!;
    const s = r.state();
    if (b.inflight !== null && (b.inflight.leaderEpoch !== s.leaderEpoch || this.tick - b.inflight.sentAtTick > 4 * this.profile.maxDelayTicks + 2)) {
      b.inflight = null; // lost, or asked under an old epoch: ask again
    }
    for (let steps = 0; steps < 4 && b.inflight === null; steps++) {
      const step = r.nextFollowerStep(b.log.epochEntries());
      if (step === null) return;
      switch (step.kind) {
        case 'truncate':
        case 'truncate-fully': {
          const target = step.kind === 'truncate' ? step.offset : step.startOffset;
          const before = b.log.logEndOffset;
          b.log.truncateTo(target);
          if (b.log.logEndOffset < before) {
            this.stats.truncations++;
            this.log(`b${b.id} truncates to ${target}: log end ${before} → ${b.log.logEndOffset}`);
          }
          r.onTruncated(b.log.logEndOffset, b.log.logStartOffset, now);
          this.drain(b);
          break;
        }
        case 'offset-for-leader-epoch':
          if (this.mutation === 'truncate-to-high-watermark' || this.mutation === 'skip-truncation') {
            this.mutatedTruncation(b);
            break;
          }
          b.inflight = { sentAtTick: this.tick, leaderEpoch: step.currentLeaderEpoch };
          this.send(b.id, step.leaderId, { kind: 'ofle', leaderEpoch: step.currentLeaderEpoch, requestedEpoch: step.requestedEpoch }, true);
          break;
        case 'fetch':
          b.inflight = { sentAtTick: this.tick, leaderEpoch: step.currentLeaderEpoch };
          const maxBatches = 1 + floor(this.random() * 4);
          this.send(b.id, step.leaderId, { kind: 'fetch', leaderEpoch: step.currentLeaderEpoch, fetchOffset: step.fetchOffset, maxBatches }, true);
          break;
      }
    }
  }

  /** The classic bugs, played through the core's own API: a fake leader answer that makes it cut elsewhere. */
  private mutatedTruncation(b: SimBroker): void {
    const r = b.replica!;
    const s = r.state();
    const entries = b.log.epochEntries();
    const latest = entries[entries.length - 1]!.epoch;
    // Answer "your latest epoch ends at <target>": the core then cuts to min(target, log end).
    const target = this.mutation === 'truncate-to-high-watermark' ? s.highWatermark : s.logEndOffset;
    r.onOffsetForLeaderEpochAnswer(s.leaderEpoch, latest, { leaderEpoch: latest, endOffset: target }, entries);
  }

  // --- producers -----------------------------------------------------------------------------

  /** A producer write: acks=all (acknowledged once replicated), or acks=1 (never counted as acknowledged: it leaves uncommitted tails). */
  private produce(now: number): void {
    const r = this.random;
    const targetId = r() < 0.8 && this.znode.leader !== NO_LEADER ? this.znode.leader : BROKERS[floor(r() * BROKERS.length)]!;
    const b = this.brokers.get(targetId)!;
    if (!b.up || b.replica === null) return;
    const replica = b.replica;
    const probe = this.healProbe.state === 'waiting';
    const acks = !probe && r() < this.profile.acksOneShare ? 1 : -1;
    if (replica.checkProduce(acks) !== null) {
      this.stats.refusedProduces++;
      return;
    }
    const count = 1 + floor(r() * 3);
    const values: string[] = [];
    for (let i = 0; i < count; i++) values.push(`v${this.nextValue++}`);
    if (probe) this.healProbe = { state: 'written', value: values[0]! };
    const epoch = replica.state().leaderEpoch;
    const { baseOffset, lastOffset } = b.log.appendAsLeader(epoch, values);
    replica.onAppend(b.log.logEndOffset, now);
    if (acks === -1) {
      const waited = replica.awaitReplication(lastOffset + 1, now + 40 * TICK_MS, now);
      if (waited.kind === 'pending') {
        b.waits.set(waited.id, { values, baseOffset });
      } else if (waited.error === null) {
        this.acknowledge(b, { values, baseOffset });
      }
    }
    this.drain(b);
  }

  private acknowledge(b: SimBroker, w: PendingWrite): void {
    const epoch = b.replica!.state().leaderEpoch;
    w.values.forEach((value, i) => {
      const a = { offset: w.baseOffset + i, value, ackEpoch: epoch, ackedBy: b.id, tick: this.tick };
      this.oracle.recordAck(a);
      if (this.healProbe.state === 'written' && this.healProbe.value === value) this.healProbe = { state: 'acked' };
      for (const o of this.brokers.values()) {
        const s = o.replica?.state();
        if (o.up && s?.role === 'leader' && s.leaderEpoch > epoch) {
          this.oracle.checkHolds(o.id, s.leaderEpoch, o.log, a, 'acknowledged while a newer leader sits');
        }
      }
    });
    this.log(`ack b${b.id} epoch ${epoch} offsets ${w.baseOffset}..${w.baseOffset + w.values.length - 1}`);
  }

  // --- outputs and invariants ----------------------------------------------------------------

  /** After every event at a broker: check its HW, then act on the core's outputs. */
  private drain(b: SimBroker): void {
    const r = b.replica;
    if (r === null) return;
    const s = r.state();
    this.oracle.observeHighWatermark(b.id, s.highWatermark, s.role === 'leader', b.log);
    if (!r.hasOutputs()) return;
    const out = r.takeOutputs();
    if (out.highWatermark !== null) this.checkHighWatermarkBacked(b, out.highWatermark);
    if (out.isrChange !== null) {
      // The compare-and-set travels to the coordinator and is applied there later.
      const atTick = this.tick + 1 + floor(this.random() * this.profile.maxDelayTicks);
      this.casQueue.push({ atTick, from: b.id, incarnation: b.incarnation, proposal: out.isrChange });
    }
    for (const c of out.completedProduces) {
      const w = b.waits.get(c.id);
      if (w === undefined) continue;
      b.waits.delete(c.id);
      if (c.error === null) this.acknowledge(b, w);
      else if (this.healProbe.state === 'written' && w.values.includes(this.healProbe.value)) this.healProbe = { state: 'waiting' };
    }
  }

  private checkHighWatermarkBacked(b: SimBroker, hw: number): void {
    const s = b.replica!.state();
    const from = b.lastLeaderHw;
    b.lastLeaderHw = s.role === 'leader' ? hw : 0;
    if (s.role !== 'leader' || hw <= from) return;
    const members = s.maximalIsr
      .filter((id) => id !== b.id)
      .map((id) => this.brokers.get(id)!)
      .filter((m) => m.up && this.tick - m.lastPowerLossTick > 100)
      .map((m) => ({ id: m.id, log: m.log }));
    this.oracle.checkHighWatermarkBacked(b.id, from, hw, b.log, members);
  }

  /** Once a tick: every replica's HW (also those without events), and now and then every acknowledged record. */
  private checkInvariants(): void {
    for (const b of this.brokers.values()) {
      if (!b.up || b.replica === null) continue;
      const s = b.replica.state();
      this.oracle.observeHighWatermark(b.id, s.highWatermark, s.role === 'leader', b.log);
      if (s.role === 'leader' && this.tick % 50 === 0) this.oracle.checkLeaderHoldsAcked(b.id, s.leaderEpoch, b.log, 'periodic check');
    }
  }

  private log(event: string): void {
    if (!this.traceOn) return;
    this.trace.push(`[${this.tick}] ${event}`);
    if (this.trace.length > 400) this.trace.shift();
  }
}

