// One partition's replica on one broker: leader epoch, high watermark, ISR and the follower
// fetch protocol, as Kafka's Partition / ReplicaManager do it, in the shape of a pure core (etcd
// raft): no I/O, no timers, no clock. Time enters as `nowMs` arguments (a monotonic clock in
// ms), the log is the adapter's, and everything the adapter must do comes out of the calls'
// results and of takeOutputs().
//
// Lifecycle and ownership: one PartitionReplica per hosted partition, created when the broker
// opens the partition's log (role 'offline', offsets from the log, HW from the checkpoint), told
// its role by the controller (becomeLeader / becomeFollower, i.e. LeaderAndIsr), stopped by
// stop() (StopReplica, log directory failure) and dropped with the partition. A ReplicaError
// INVARIANT_VIOLATION means its state can no longer be trusted: take the partition offline.
// The adapter owns the log, the coordinator session, the network and the timers.
//
// Leader inputs:  checkProduce · onAppend · awaitReplication · onFollowerFetch ·
//                 answerOffsetForLeaderEpoch · tick · onIsrChangeCommitted / onIsrChangeRejected
// Follower inputs: nextFollowerStep · onOffsetForLeaderEpochAnswer · onTruncated ·
//                 acceptsFetchResponse · onAppend · onLeaderHighWatermark · onFetchError
// Outputs (takeOutputs): the new high watermark, an ISR change to write, finished acks=all requests.
//
// THE ISR CONTRACT. An ISR change takes effect only once written. takeOutputs().isrChange holds
// at most one proposal at a time (Kafka's pending ISR state); the adapter writes it to the state
// znode with compare-and-set (expected version = expectedPartitionEpoch), then reports:
//   - onIsrChangeCommitted(id, newVersion) when the write succeeded;
//   - onIsrChangeRejected(id) only when it certainly did not happen (BadVersion). On an unknown
//     outcome (connection loss, timeout) re-read the znode first: our ISR at version
//     expected + 1 means committed. After a rejection no change is proposed until a newer
//     partition epoch arrives: re-read the znode and pass it to becomeLeader (same leader epoch,
//     newer partition epoch), or wait for the controller's LeaderAndIsr.
// While a change is in flight the high watermark counts the "maximal ISR" (current ∪ proposed),
// so whichever way the write goes, every replica the controller may elect holds what the high
// watermark covers.
//
// THE FOLLOWER CONTRACT (one request per partition in flight; Kafka's fetcher thread):
//   loop: step = nextFollowerStep(log.leaderEpochCache.epochEntries())
//     'offset-for-leader-epoch' → send it; the answer (or error) → onOffsetForLeaderEpochAnswer (with
//                        the epoch asked about: a duplicate answer from an earlier round is ignored)
//     'truncate'       → log.truncateTo(offset); log.leaderEpochCache.truncateFromEnd(log.logEndOffset)
//                        (also when offset >= LEO: an epoch entry without records must go, or
//                        the next question repeats the last one); then onTruncated
//     'truncate-fully' → log.truncateFullyAndStartAt(startOffset); then onTruncated
//     'fetch'          → send it; on the response: if acceptsFetchResponse(epoch, fetchOffset),
//                        append the batches as they are, onAppend(LEO), onLeaderHighWatermark(hw);
//                        on an error: onFetchError (with the leader's log start and end)
//     null             → nothing to do (not a follower, no leader, or fenced: await LeaderAndIsr)
// A follower truncates by leader epoch before it fetches, every time its leader epoch changes.

import type { KafkaError } from '@samsa/client';
import { checkArgument, checkOffset, checkTime, invariant, isInt32, isOffset, kafkaError } from './errors.js';
import { FollowerProgress, type FollowerProgressView } from './follower-progress.js';
import { type EpochEntry, UNDEFINED_EPOCH } from '@samsa/log';
import {
  checkEpochEntries,
  endOffsetForEpoch,
  latestEpochOf,
  truncationDecision,
  type TruncationDecision,
} from './leader-epochs.js';
import { type PartitionStateInput, NO_LEADER, partitionStateProblem } from './partition-state.js';
import { PendingProduces, type ProduceCompletion } from './pending-produces.js';
import { type ReplicaConfig, resolveReplicaConfig } from './replica-config.js';

export type ReplicaRole = 'offline' | 'leader' | 'follower';
/** A follower's fetch state: truncating (by epoch) before fetching; idle without a usable leader. */
export type FollowerPhase = 'idle' | 'truncating' | 'fetching';

export interface PartitionReplicaOptions {
  readonly brokerId: number;
  /** For messages, e.g. "orders-3". */
  readonly name?: string;
  readonly config?: Partial<ReplicaConfig>;
  /** The log as opened. */
  readonly logStartOffset: number;
  readonly logEndOffset: number;
  /** From the high-watermark checkpoint (clamped into [logStartOffset, logEndOffset]). Default: logStartOffset. */
  readonly highWatermark?: number;
  readonly nowMs: number;
}

/** An ISR change for the adapter to write with compare-and-set (see THE ISR CONTRACT). */
export interface IsrChangeProposal {
  readonly id: number;
  readonly kind: 'expand' | 'shrink';
  /** The brokers added (expand) or removed (shrink). */
  readonly changed: readonly number[];
  /** The state znode's new body: leader, leader_epoch, isr, controller_epoch. */
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly controllerEpoch: number;
  readonly isr: readonly number[];
  /** The znode version the write must find (compare-and-set). */
  readonly expectedPartitionEpoch: number;
}

export interface ReplicaOutputs {
  /** The high watermark, when it changed since the last takeOutputs (checkpoint it, wake fetches). */
  readonly highWatermark: number | null;
  readonly isrChange: IsrChangeProposal | null;
  /** acks=all requests now finished: error null = replicated, answer success. */
  readonly completedProduces: readonly ProduceCompletion[];
}

export type StateChangeResult =
  | {
      readonly kind: 'applied';
      readonly isNewLeaderEpoch: boolean;
      /** A new leader: record that its epoch starts here (log.assignEpochStartOffset) before any append. */
      readonly assignEpochStart: { readonly epoch: number; readonly startOffset: number } | null;
    }
  /** The same state again (a duplicate LeaderAndIsr): nothing changed. */
  | { readonly kind: 'unchanged' }
  /** STALE_CONTROLLER_EPOCH, FENCED_LEADER_EPOCH (an older leader or partition epoch) or INVALID_REQUEST. */
  | { readonly kind: 'rejected'; readonly error: KafkaError };

export type AwaitReplicationResult =
  | { readonly kind: 'pending'; readonly id: number }
  /** Finished at once: error null = already replicated. */
  | { readonly kind: 'done'; readonly error: KafkaError | null };

export interface FollowerFetch {
  /** The follower's log end offset: it holds every record below. */
  readonly fetchOffset: number;
  /** The follower's view of the leader epoch; -1 skips the check (Kafka: consumers of old versions). */
  readonly currentLeaderEpoch: number;
  readonly logStartOffset: number;
}

export type FollowerFetchResult =
  | { readonly ok: true; readonly highWatermark: number; readonly logStartOffset: number; readonly logEndOffset: number }
  /** OFFSET_OUT_OF_RANGE carries the leader's offsets; the follower's onFetchError needs logStartOffset. */
  | { readonly ok: false; readonly error: KafkaError; readonly logStartOffset: number; readonly logEndOffset: number };

export type OffsetForLeaderEpochResult =
  | { readonly ok: true; readonly leaderEpoch: number; readonly endOffset: number }
  | { readonly ok: false; readonly error: KafkaError };

export type FollowerStep =
  | {
      readonly kind: 'offset-for-leader-epoch';
      readonly leaderId: number;
      readonly currentLeaderEpoch: number;
      readonly requestedEpoch: number;
    }
  | { readonly kind: 'truncate'; readonly offset: number; readonly complete: boolean }
  | { readonly kind: 'truncate-fully'; readonly startOffset: number }
  | {
      readonly kind: 'fetch';
      readonly leaderId: number;
      readonly currentLeaderEpoch: number;
      readonly fetchOffset: number;
      /** The epoch of the last record held (for the leader's divergence check), -1 if none. */
      readonly lastFetchedEpoch: number;
      readonly logStartOffset: number;
    };

type TruncateStep = Extract<FollowerStep, { kind: 'truncate' | 'truncate-fully' }>;

export interface ReplicaStateView {
  readonly brokerId: number;
  readonly role: ReplicaRole;
  readonly leaderId: number;
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
  readonly controllerEpoch: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  /** isr ∪ a proposed expansion in flight: what the high watermark counts. */
  readonly maximalIsr: readonly number[];
  readonly pendingIsrChange: IsrChangeProposal | null;
  readonly highWatermark: number;
  readonly logEndOffset: number;
  readonly logStartOffset: number;
  /** Leader: the log end offset when its epoch started (-1 otherwise). */
  readonly leaderEpochStartOffset: number;
  readonly followers: readonly FollowerProgressView[];
  readonly followerPhase: FollowerPhase;
  readonly pendingProduces: number;
}

const EMPTY_COMPLETIONS: readonly ProduceCompletion[] = Object.freeze([]);

export class PartitionReplica {
  readonly brokerId: number;
  readonly name: string;
  private cfg: ReplicaConfig;

  private role: ReplicaRole = 'offline';
  private leaderId = NO_LEADER;
  private leaderEpoch = -1;
  private partitionEpoch = -1;
  private controllerEpoch = -1;
  private replicas: readonly number[] = [];
  private isr: readonly number[] = [];
  private maximalIsr: readonly number[] = [];
  private highWatermark: number;
  private logEndOffset: number;
  private logStartOffset: number;
  private lastNowMs: number;

  // Leader state.
  private followers = new Map<number, FollowerProgress>();
  private leaderEpochStartOffset = -1;
  private pendingIsr: IsrChangeProposal | null = null;
  /** A compare-and-set failed: our partition epoch is stale until a newer state arrives. */
  private isrChangeBlocked = false;
  private nextIsrProposalId = 1;
  private readonly pending = new PendingProduces();
  private nextProduceId = 1;

  // Follower state.
  private phase: FollowerPhase = 'idle';
  private pendingTruncation: TruncateStep | null = null;

  // Outputs not yet taken.
  private outHighWatermark: number | null = null;
  private outIsrChange: IsrChangeProposal | null = null;
  private outCompleted: ProduceCompletion[] = [];

  constructor(options: PartitionReplicaOptions) {
    checkArgument(isInt32(options.brokerId), () => `broker id ${String(options.brokerId)} is not an int32 >= 0`);
    checkOffset('log start offset', options.logStartOffset);
    checkOffset('log end offset', options.logEndOffset);
    checkArgument(
      options.logStartOffset <= options.logEndOffset,
      () => `log start ${options.logStartOffset} > log end ${options.logEndOffset}`,
    );
    checkTime('nowMs', options.nowMs);
    this.brokerId = options.brokerId;
    this.name = options.name ?? 'partition';
    this.cfg = resolveReplicaConfig(options.config);
    this.logStartOffset = options.logStartOffset;
    this.logEndOffset = options.logEndOffset;
    const hw = options.highWatermark ?? options.logStartOffset;
    checkOffset('high watermark', hw);
    this.highWatermark = Math.min(Math.max(hw, options.logStartOffset), options.logEndOffset);
    this.lastNowMs = options.nowMs;
  }

  // --- state ---------------------------------------------------------------------------------

  get config(): ReplicaConfig {
    return this.cfg;
  }

  /** min.insync.replicas and the lag time are topic configs that change at run time. */
  updateConfig(config: Partial<ReplicaConfig>): void {
    this.cfg = resolveReplicaConfig({ ...this.cfg, ...config });
  }

  get isLeader(): boolean {
    return this.role === 'leader';
  }

  state(): ReplicaStateView {
    return {
      brokerId: this.brokerId,
      role: this.role,
      leaderId: this.leaderId,
      leaderEpoch: this.leaderEpoch,
      partitionEpoch: this.partitionEpoch,
      controllerEpoch: this.controllerEpoch,
      replicas: this.replicas,
      isr: this.isr,
      maximalIsr: this.maximalIsr,
      pendingIsrChange: this.pendingIsr,
      highWatermark: this.highWatermark,
      logEndOffset: this.logEndOffset,
      logStartOffset: this.logStartOffset,
      leaderEpochStartOffset: this.leaderEpochStartOffset,
      followers: [...this.followers.values()].map((f) => f.view()),
      followerPhase: this.phase,
      pendingProduces: this.pending.size,
    };
  }

  hasOutputs(): boolean {
    return this.outHighWatermark !== null || this.outIsrChange !== null || this.outCompleted.length > 0;
  }

  /** Everything to act on since the last call; each output is handed out once. */
  takeOutputs(): ReplicaOutputs {
    const out: ReplicaOutputs = {
      highWatermark: this.outHighWatermark,
      isrChange: this.outIsrChange,
      completedProduces: this.outCompleted.length === 0 ? EMPTY_COMPLETIONS : this.outCompleted,
    };
    this.outHighWatermark = null;
    this.outIsrChange = null;
    if (this.outCompleted.length > 0) this.outCompleted = [];
    return out;
  }

  // --- becoming leader, follower, offline ---------------------------------------------------

  /**
   * LeaderAndIsr naming this broker the leader. A higher leader epoch starts a new leadership:
   * followers' progress is forgotten (they must fetch again under this epoch), and the epoch
   * starts at the current log end offset. The same leader epoch with a higher partition epoch
   * (the controller changed the ISR, or a re-read after a failed compare-and-set) adopts the new
   * ISR and assignment and keeps everything else.
   */
  becomeLeader(state: PartitionStateInput, nowMs: number): StateChangeResult {
    const now = this.now(nowMs);
    const refused = this.refuseStateChange(state, 'leader');
    if (refused !== null) return refused;
    if (state.leaderEpoch === this.leaderEpoch) {
      if (this.role !== 'leader') return this.rejectSameEpoch(state, 'lead');
      if (state.partitionEpoch === this.partitionEpoch) return { kind: 'unchanged' };
      this.controllerEpoch = state.controllerEpoch;
      this.adoptIsr(state, now);
      this.afterLeaderChange();
      return { kind: 'applied', isNewLeaderEpoch: false, assignEpochStart: null };
    }
    this.setEpochs(state);
    const wasLeader = this.role === 'leader';
    this.role = 'leader';
    this.leaderId = this.brokerId;
    this.phase = 'idle';
    this.pendingTruncation = null;
    this.leaderEpochStartOffset = this.logEndOffset;
    this.replicas = [...state.replicas];
    this.isr = [...state.isr];
    this.maximalIsr = this.isr;
    this.pendingIsr = null;
    this.outIsrChange = null;
    this.isrChangeBlocked = false;
    this.followers = new Map();
    for (const id of this.replicas) {
      if (id !== this.brokerId) this.followers.set(id, new FollowerProgress(id, now, this.isr.includes(id)));
    }
    // A leader re-elected under a new epoch keeps its waiting acks=all requests: their records
    // are in its log, and the high watermark goes on from where it was.
    if (!wasLeader) invariant(this.pending.size === 0, () => `${this.name}: acks=all requests pending on a non-leader`);
    this.afterLeaderChange();
    const assignEpochStart = { epoch: this.leaderEpoch, startOffset: this.leaderEpochStartOffset };
    return { kind: 'applied', isNewLeaderEpoch: true, assignEpochStart };
  }

  /**
   * LeaderAndIsr naming another broker (or none) the leader. A new leader epoch restarts the
   * fetch protocol with truncation by epoch; waiting acks=all requests fail with
   * NOT_LEADER_OR_FOLLOWER. The follower's high watermark is kept (it only bounds reads).
   */
  becomeFollower(state: PartitionStateInput, nowMs: number): StateChangeResult {
    this.now(nowMs);
    const refused = this.refuseStateChange(state, 'follower');
    if (refused !== null) return refused;
    if (state.leaderEpoch === this.leaderEpoch) {
      if (this.role !== 'follower' || state.leader !== this.leaderId) return this.rejectSameEpoch(state, 'follow');
      if (state.partitionEpoch === this.partitionEpoch) return { kind: 'unchanged' };
      this.controllerEpoch = state.controllerEpoch;
      this.partitionEpoch = state.partitionEpoch;
      this.replicas = [...state.replicas];
      this.isr = [...state.isr];
      this.maximalIsr = this.isr;
      return { kind: 'applied', isNewLeaderEpoch: false, assignEpochStart: null };
    }
    this.setEpochs(state);
    this.leaveLeadership(state.leader);
    this.role = 'follower';
    this.leaderId = state.leader;
    this.replicas = [...state.replicas];
    this.isr = [...state.isr];
    this.maximalIsr = this.isr;
    this.phase = state.leader === NO_LEADER ? 'idle' : 'truncating';
    this.pendingTruncation = null;
    this.checkInvariants();
    return { kind: 'applied', isNewLeaderEpoch: true, assignEpochStart: null };
  }

  /** StopReplica or a failed log directory: serve nothing; waiting acks=all requests fail. Epochs are kept. */
  stop(nowMs: number): void {
    this.now(nowMs);
    this.leaveLeadership(NO_LEADER);
    this.role = 'offline';
    this.leaderId = NO_LEADER;
    this.phase = 'idle';
    this.pendingTruncation = null;
  }

  // --- leader: produce -----------------------------------------------------------------------

  /**
   * Before appending a produce request's records: NOT_LEADER_OR_FOLLOWER when not the leader,
   * INVALID_REQUIRED_ACKS for acks outside {-1, 0, 1}, and for acks=all NOT_ENOUGH_REPLICAS when
   * the ISR is below min.insync.replicas or REQUEST_TIMED_OUT when maxPendingProduces requests
   * already wait. null: append.
   */
  checkProduce(requiredAcks: number): KafkaError | null {
    if (this.role !== 'leader') return this.notLeaderError();
    if (requiredAcks !== -1 && requiredAcks !== 0 && requiredAcks !== 1) {
      return kafkaError('INVALID_REQUIRED_ACKS', `acks must be -1 (all), 0 or 1, got ${String(requiredAcks)}`);
    }
    if (requiredAcks !== -1) return null;
    if (this.isr.length < this.cfg.minInsyncReplicas) {
      return kafkaError(
        'NOT_ENOUGH_REPLICAS',
        `${this.name}: the ISR [${this.isr.join(',')}] has ${this.isr.length} replicas, ` +
          `min.insync.replicas is ${this.cfg.minInsyncReplicas}`,
      );
    }
    if (this.pending.size >= this.cfg.maxPendingProduces) return this.tooManyPendingError();
    return null;
  }

  /** The local log grew to `newLogEndOffset` (a leader's append, or a follower's copy of fetched batches). */
  onAppend(newLogEndOffset: number, nowMs: number): void {
    this.now(nowMs);
    checkOffset('log end offset', newLogEndOffset);
    checkArgument(
      newLogEndOffset >= this.logEndOffset,
      () => `${this.name}: log end offset going back from ${this.logEndOffset} to ${newLogEndOffset} (truncation is onTruncated)`,
    );
    this.logEndOffset = newLogEndOffset;
    if (this.role === 'leader') this.maybeAdvanceHighWatermark();
    this.checkInvariants();
  }

  /**
   * An acks=all request whose records end just below `requiredOffset` (last offset + 1) waits
   * until the high watermark reaches it. Finishes with NOT_ENOUGH_REPLICAS_AFTER_APPEND if the
   * ISR is below min.insync.replicas by then, REQUEST_TIMED_OUT at `deadlineMs`, and
   * NOT_LEADER_OR_FOLLOWER if this replica stops leading first (onAppend must come first).
   */
  awaitReplication(requiredOffset: number, deadlineMs: number, nowMs: number): AwaitReplicationResult {
    const now = this.now(nowMs);
    checkOffset('required offset', requiredOffset);
    checkTime('deadlineMs', deadlineMs);
    if (this.role !== 'leader') return { kind: 'done', error: this.notLeaderError() };
    checkArgument(
      requiredOffset <= this.logEndOffset,
      () => `${this.name}: required offset ${requiredOffset} is past the log end offset ${this.logEndOffset} (call onAppend first)`,
    );
    if (this.highWatermark >= requiredOffset) return { kind: 'done', error: this.replicatedResult() };
    if (deadlineMs <= now) return { kind: 'done', error: this.timedOutError(requiredOffset) };
    if (this.pending.size >= this.cfg.maxPendingProduces) return { kind: 'done', error: this.tooManyPendingError() };
    const id = this.nextProduceId++;
    this.pending.add({ id, requiredOffset, deadlineMs });
    return { kind: 'pending', id };
  }

  // --- leader: followers -----------------------------------------------------------------------

  /**
   * A follower's fetch (before reading the log for it): checks leadership and the follower's
   * epoch, records its progress, may propose adding it to the ISR and may advance the high
   * watermark. The result's high watermark goes back in the fetch response.
   */
  onFollowerFetch(replicaId: number, fetch: FollowerFetch, nowMs: number): FollowerFetchResult {
    const now = this.now(nowMs);
    const failed = (error: KafkaError): FollowerFetchResult => ({
      ok: false,
      error,
      logStartOffset: this.logStartOffset,
      logEndOffset: this.logEndOffset,
    });
    if (this.role !== 'leader') return failed(this.notLeaderError());
    const fenced = this.fencingError(fetch.currentLeaderEpoch);
    if (fenced !== null) return failed(fenced);
    const follower = this.followers.get(replicaId);
    if (follower === undefined) {
      const message = `${this.name}: broker ${String(replicaId)} is not a follower (replicas [${this.replicas.join(',')}])`;
      return failed(kafkaError('NOT_LEADER_OR_FOLLOWER', message, this.leaderId, this.leaderEpoch));
    }
    if (!Number.isSafeInteger(fetch.fetchOffset) || fetch.fetchOffset < this.logStartOffset || fetch.fetchOffset > this.logEndOffset) {
      const message = `${this.name}: fetch offset ${String(fetch.fetchOffset)} is outside [${this.logStartOffset}, ${this.logEndOffset}]`;
      return failed(kafkaError('OFFSET_OUT_OF_RANGE', message));
    }
    const followerStart = Number.isSafeInteger(fetch.logStartOffset) && fetch.logStartOffset >= 0 ? fetch.logStartOffset : -1;
    follower.onFetch(fetch.fetchOffset, followerStart, now, this.logEndOffset);
    this.maybeExpandIsr(follower);
    this.maybeAdvanceHighWatermark();
    this.checkInvariants();
    invariant(
      this.highWatermark <= this.logEndOffset,
      () => `${this.name}: sending high watermark ${this.highWatermark} past the log end ${this.logEndOffset}`,
    );
    return { ok: true, highWatermark: this.highWatermark, logStartOffset: this.logStartOffset, logEndOffset: this.logEndOffset };
  }

  /**
   * OffsetForLeaderEpoch from a follower: where `requestedEpoch` ends in this leader's log.
   * `localEntries` is this replica's epoch cache, which must already hold the current epoch
   * (assignEpochStart of becomeLeader).
   */
  answerOffsetForLeaderEpoch(
    currentLeaderEpoch: number,
    requestedEpoch: number,
    localEntries: readonly EpochEntry[],
  ): OffsetForLeaderEpochResult {
    if (this.role !== 'leader') return { ok: false, error: this.notLeaderError() };
    const fenced = this.fencingError(currentLeaderEpoch);
    if (fenced !== null) return { ok: false, error: fenced };
    if (requestedEpoch !== UNDEFINED_EPOCH && !isInt32(requestedEpoch)) {
      return { ok: false, error: kafkaError('INVALID_REQUEST', `leader epoch ${String(requestedEpoch)} is not an int32`) };
    }
    checkEpochEntries(localEntries);
    checkArgument(
      latestEpochOf(localEntries) === this.leaderEpoch,
      () =>
        `${this.name}: the epoch cache ends at epoch ${latestEpochOf(localEntries)}, not the leader epoch ` +
        `${this.leaderEpoch} (assign the epoch start first)`,
    );
    const [leaderEpoch, endOffset] = endOffsetForEpoch(localEntries, requestedEpoch, this.logEndOffset);
    return { ok: true, leaderEpoch, endOffset };
  }

  /** Periodic work (Kafka runs the ISR check every replica.lag.time.max.ms / 2): shrink the ISR, expire acks=all requests. */
  tick(nowMs: number): void {
    const now = this.now(nowMs);
    if (this.role !== 'leader') return;
    for (const p of this.pending.takeExpired(now)) {
      this.outCompleted.push({ id: p.id, requiredOffset: p.requiredOffset, error: this.timedOutError(p.requiredOffset) });
    }
    this.maybeShrinkIsr(now);
    this.checkInvariants();
  }

  /** The proposal `proposalId` was written: the znode is now at `newPartitionEpoch`. false: not the one in flight (ignored). */
  onIsrChangeCommitted(proposalId: number, newPartitionEpoch: number, nowMs: number): boolean {
    this.now(nowMs);
    const p = this.pendingIsr;
    if (this.role !== 'leader' || p === null || p.id !== proposalId) return false;
    checkArgument(
      isInt32(newPartitionEpoch) && newPartitionEpoch > p.expectedPartitionEpoch,
      () => `${this.name}: committed partition epoch ${String(newPartitionEpoch)} is not above the expected ${p.expectedPartitionEpoch}`,
    );
    this.partitionEpoch = newPartitionEpoch;
    this.isr = p.isr;
    this.maximalIsr = this.isr;
    this.pendingIsr = null;
    this.afterLeaderChange();
    return true;
  }

  /** The compare-and-set of `proposalId` certainly failed (see THE ISR CONTRACT). false: not the one in flight. */
  onIsrChangeRejected(proposalId: number, nowMs: number): boolean {
    this.now(nowMs);
    const p = this.pendingIsr;
    if (this.role !== 'leader' || p === null || p.id !== proposalId) return false;
    this.pendingIsr = null;
    this.maximalIsr = this.isr;
    this.isrChangeBlocked = true;
    this.afterLeaderChange();
    return true;
  }

  // --- follower --------------------------------------------------------------------------------

  /** What the fetcher does next for this partition (see THE FOLLOWER CONTRACT); null: nothing. */
  nextFollowerStep(localEntries: readonly EpochEntry[]): FollowerStep | null {
    if (this.role !== 'follower' || this.phase === 'idle') return null;
    if (this.pendingTruncation !== null) return this.pendingTruncation;
    if (this.phase === 'truncating') {
      if (localEntries.length === 0) {
        // No epochs means no records past the log start (every batch carries its epoch): the
        // high watermark is as far as this replica can vouch for.
        this.pendingTruncation = { kind: 'truncate', offset: this.highWatermark, complete: true };
        return this.pendingTruncation;
      }
      return {
        kind: 'offset-for-leader-epoch',
        leaderId: this.leaderId,
        currentLeaderEpoch: this.leaderEpoch,
        requestedEpoch: latestEpochOf(localEntries),
      };
    }
    return {
      kind: 'fetch',
      leaderId: this.leaderId,
      currentLeaderEpoch: this.leaderEpoch,
      fetchOffset: this.logEndOffset,
      lastFetchedEpoch: latestEpochOf(localEntries),
      logStartOffset: this.logStartOffset,
    };
  }

  /**
   * The leader's answer to the OffsetForLeaderEpoch sent under `requestLeaderEpoch` for
   * `requestedEpoch` (or its error). Returns the truncation decided (then the next step is that
   * truncation), or null when the answer is stale (another leader epoch, or a question about
   * an epoch that is no longer this log's latest: a duplicate from an earlier round) or an
   * error: FENCED_LEADER_EPOCH idles the follower until a new LeaderAndIsr; other errors leave
   * it to ask again after a backoff.
   */
  onOffsetForLeaderEpochAnswer(
    requestLeaderEpoch: number,
    requestedEpoch: number,
    answer: { readonly leaderEpoch: number; readonly endOffset: number } | KafkaError,
    localEntries: readonly EpochEntry[],
  ): TruncationDecision | null {
    const waiting = this.role === 'follower' && this.phase === 'truncating' && this.pendingTruncation === null;
    if (!waiting || requestLeaderEpoch !== this.leaderEpoch) return null;
    if (answer instanceof Error) {
      if (answer.type === 'FENCED_LEADER_EPOCH') this.phase = 'idle';
      return null;
    }
    if (requestedEpoch !== latestEpochOf(localEntries)) return null;
    checkEpochEntries(localEntries);
    const decision = truncationDecision({
      localEntries,
      localLogEndOffset: this.logEndOffset,
      localHighWatermark: this.highWatermark,
      leaderEpoch: answer.leaderEpoch,
      leaderEndOffset: answer.endOffset,
    });
    this.pendingTruncation = { kind: 'truncate', offset: decision.offset, complete: decision.complete };
    return decision;
  }

  /**
   * The log was truncated (a follower's 'truncate' / 'truncate-fully' step, or the adapter's own
   * truncation of an offline replica). A leader never truncates.
   */
  onTruncated(logEndOffset: number, logStartOffset: number, nowMs: number): void {
    this.now(nowMs);
    checkArgument(this.role !== 'leader', () => `${this.name}: a leader's log must not be truncated`);
    checkOffset('log end offset', logEndOffset);
    checkOffset('log start offset', logStartOffset);
    checkArgument(logStartOffset <= logEndOffset, () => `log start ${logStartOffset} > log end ${logEndOffset}`);
    const step = this.pendingTruncation;
    if (step?.kind === 'truncate-fully') {
      checkArgument(
        logEndOffset === step.startOffset && logStartOffset === step.startOffset,
        () => `${this.name}: log restarted at [${logStartOffset}, ${logEndOffset}], asked for ${step.startOffset}`,
      );
    } else {
      const limit = step === null ? this.logEndOffset : Math.min(step.offset, this.logEndOffset);
      checkArgument(logEndOffset <= limit, () => `${this.name}: log end ${logEndOffset} after truncation is past ${limit}`);
    }
    if (step !== null) {
      this.pendingTruncation = null;
      if (this.role === 'follower' && (step.kind === 'truncate-fully' || step.complete)) this.phase = 'fetching';
    }
    this.logEndOffset = logEndOffset;
    this.logStartOffset = logStartOffset;
    this.setHighWatermark(Math.max(Math.min(this.highWatermark, this.logEndOffset), this.logStartOffset));
    this.checkInvariants();
  }

  /** Whether a fetch response to the request sent under (`leaderEpoch`, `fetchOffset`) may be appended now. */
  acceptsFetchResponse(leaderEpoch: number, fetchOffset: number): boolean {
    return (
      this.role === 'follower' &&
      this.phase === 'fetching' &&
      this.pendingTruncation === null &&
      leaderEpoch === this.leaderEpoch &&
      fetchOffset === this.logEndOffset
    );
  }

  /**
   * A fetch sent under (`requestLeaderEpoch`, `fetchOffset`) failed; `leader` holds the offsets
   * the leader sent with the error (FollowerFetchResult), or only its log start offset.
   * FENCED_LEADER_EPOCH: idle until a new LeaderAndIsr. OFFSET_OUT_OF_RANGE below the leader's
   * log start: start over there; past the leader's log end (only after an unclean election or a
   * leader that lost records; known only when the end is given): cut to that end, then truncate
   * by epoch again; otherwise truncate by epoch again. Others: retry after a backoff.
   */
  onFetchError(
    requestLeaderEpoch: number,
    fetchOffset: number,
    error: KafkaError,
    leader: { readonly logStartOffset: number; readonly logEndOffset: number } | number,
  ): void {
    if (!this.acceptsFetchResponse(requestLeaderEpoch, fetchOffset)) return;
    if (typeof leader === 'number') leader = { logStartOffset: leader, logEndOffset: -1 };
    if (error.type === 'FENCED_LEADER_EPOCH') {
      this.phase = 'idle';
    } else if (error.type === 'OFFSET_OUT_OF_RANGE') {
      if (isOffset(leader.logStartOffset) && leader.logStartOffset > fetchOffset) {
        this.pendingTruncation = { kind: 'truncate-fully', startOffset: leader.logStartOffset };
      } else {
        this.phase = 'truncating';
        if (isOffset(leader.logEndOffset) && leader.logEndOffset < fetchOffset) {
          this.pendingTruncation = { kind: 'truncate', offset: leader.logEndOffset, complete: false };
        }
      }
    }
  }

  /** The high watermark in the leader's fetch response: a follower's is min(leader's, own log end). */
  onLeaderHighWatermark(leaderHighWatermark: number, nowMs: number): void {
    this.now(nowMs);
    checkOffset('leader high watermark', leaderHighWatermark);
    if (this.role !== 'follower') return;
    this.setHighWatermark(Math.max(Math.min(leaderHighWatermark, this.logEndOffset), this.logStartOffset));
    this.checkInvariants();
  }

  /** Retention or DeleteRecords moved the log start (a leader only below its high watermark). */
  onLogStartOffsetChanged(logStartOffset: number, nowMs: number): void {
    this.now(nowMs);
    checkOffset('log start offset', logStartOffset);
    checkArgument(logStartOffset <= this.logEndOffset, () => `log start ${logStartOffset} past log end ${this.logEndOffset}`);
    if (this.role === 'leader') {
      checkArgument(
        logStartOffset <= this.highWatermark,
        () => `${this.name}: a leader's log start ${logStartOffset} must not pass its high watermark ${this.highWatermark}`,
      );
    }
    this.logStartOffset = logStartOffset;
    if (this.highWatermark < logStartOffset) this.setHighWatermark(logStartOffset);
    this.checkInvariants();
  }

  // --- internals -------------------------------------------------------------------------------

  /** Times come from a monotonic clock; one that steps back is held at the last value seen. */
  private now(nowMs: number): number {
    checkTime('nowMs', nowMs);
    if (nowMs > this.lastNowMs) this.lastNowMs = nowMs;
    return this.lastNowMs;
  }

  private refuseStateChange(state: PartitionStateInput, role: 'leader' | 'follower'): StateChangeResult | null {
    const problem = partitionStateProblem(state, this.brokerId, role);
    if (problem !== null) return { kind: 'rejected', error: kafkaError('INVALID_REQUEST', `${this.name}: ${problem}`) };
    if (state.controllerEpoch < this.controllerEpoch) {
      return {
        kind: 'rejected',
        error: kafkaError(
          'STALE_CONTROLLER_EPOCH',
          `${this.name}: controller epoch ${state.controllerEpoch} is older than ${this.controllerEpoch}`,
        ),
      };
    }
    if (state.leaderEpoch < this.leaderEpoch || state.partitionEpoch < this.partitionEpoch) {
      return {
        kind: 'rejected',
        error: kafkaError(
          'FENCED_LEADER_EPOCH',
          `${this.name}: leader epoch ${state.leaderEpoch} / partition epoch ${state.partitionEpoch} ` +
            `is older than ${this.leaderEpoch} / ${this.partitionEpoch}`,
          this.leaderId,
          this.leaderEpoch,
        ),
      };
    }
    return null;
  }

  private rejectSameEpoch(state: PartitionStateInput, verb: string): StateChangeResult {
    return {
      kind: 'rejected',
      error: kafkaError(
        'FENCED_LEADER_EPOCH',
        `${this.name}: cannot ${verb} under leader epoch ${state.leaderEpoch}, ` +
          `which this replica already holds as ${this.role} of leader ${this.leaderId}`,
        this.leaderId,
        this.leaderEpoch,
      ),
    };
  }

  private setEpochs(state: PartitionStateInput): void {
    invariant(
      state.leaderEpoch > this.leaderEpoch,
      () => `${this.name}: leader epoch going from ${this.leaderEpoch} to ${state.leaderEpoch}`,
    );
    invariant(
      state.partitionEpoch >= this.partitionEpoch,
      () => `${this.name}: partition epoch going from ${this.partitionEpoch} to ${state.partitionEpoch}`,
    );
    invariant(
      state.controllerEpoch >= this.controllerEpoch,
      () => `${this.name}: controller epoch going from ${this.controllerEpoch} to ${state.controllerEpoch}`,
    );
    this.leaderEpoch = state.leaderEpoch;
    this.partitionEpoch = state.partitionEpoch;
    this.controllerEpoch = state.controllerEpoch;
  }

  /** Same leader epoch, newer partition epoch: the written state is the truth, take it whole. */
  private adoptIsr(state: PartitionStateInput, now: number): void {
    invariant(
      state.partitionEpoch > this.partitionEpoch,
      () => `${this.name}: partition epoch going from ${this.partitionEpoch} to ${state.partitionEpoch}`,
    );
    this.partitionEpoch = state.partitionEpoch;
    this.replicas = [...state.replicas];
    this.isr = [...state.isr];
    this.maximalIsr = this.isr;
    this.pendingIsr = null;
    this.outIsrChange = null;
    this.isrChangeBlocked = false;
    for (const id of [...this.followers.keys()]) if (!this.replicas.includes(id)) this.followers.delete(id);
    for (const id of this.replicas) {
      if (id !== this.brokerId && !this.followers.has(id)) this.followers.set(id, new FollowerProgress(id, now, this.isr.includes(id)));
    }
  }

  /** After the ISR or the leadership changed: the high watermark may move, waiting requests may finish. */
  private afterLeaderChange(): void {
    this.maybeAdvanceHighWatermark();
    this.checkInvariants();
  }

  private leaveLeadership(newLeaderId: number): void {
    const wasLeader = this.role === 'leader';
    this.followers = new Map();
    this.pendingIsr = null;
    this.outIsrChange = null;
    this.isrChangeBlocked = false;
    this.leaderEpochStartOffset = -1;
    if (!wasLeader) return;
    const message = `${this.name}: broker ${this.brokerId} is no longer the leader`;
    const error = kafkaError('NOT_LEADER_OR_FOLLOWER', message, newLeaderId, this.leaderEpoch);
    for (const p of this.pending.takeAll()) this.outCompleted.push({ id: p.id, requiredOffset: p.requiredOffset, error });
  }

  /**
   * HW = the smallest log end offset over the maximal ISR. A follower that has not fetched under
   * this epoch counts as -1, which holds the HW where it is. The HW of a leader never goes down.
   */
  private maybeAdvanceHighWatermark(): void {
    if (this.role !== 'leader') return;
    let candidate = this.logEndOffset;
    for (const id of this.maximalIsr) {
      if (id === this.brokerId) continue;
      const f = this.followers.get(id);
      invariant(f !== undefined, () => `${this.name}: ISR member ${id} has no follower state`);
      if (f.logEndOffset < candidate) candidate = f.logEndOffset;
    }
    if (candidate > this.highWatermark) this.setHighWatermark(candidate);
    this.completeReplicated();
  }

  private setHighWatermark(hw: number): void {
    if (hw === this.highWatermark) return;
    invariant(hw <= this.logEndOffset, () => `${this.name}: high watermark ${hw} past the log end ${this.logEndOffset}`);
    invariant(
      this.role !== 'leader' || hw > this.highWatermark,
      () => `${this.name}: a leader's high watermark going back from ${this.highWatermark} to ${hw}`,
    );
    this.highWatermark = hw;
    this.outHighWatermark = hw;
  }

  private completeReplicated(): void {
    if (this.pending.size === 0) return;
    const done = this.pending.takeReplicated(this.highWatermark);
    if (done.length === 0) return;
    const error = this.replicatedResult();
    for (const p of done) this.outCompleted.push({ id: p.id, requiredOffset: p.requiredOffset, error });
  }

  /** Kafka checks min.insync.replicas again when the wait ends, against the maximal ISR. */
  private replicatedResult(): KafkaError | null {
    if (this.maximalIsr.length >= this.cfg.minInsyncReplicas) return null;
    return kafkaError(
      'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
      `${this.name}: written, but the ISR [${this.maximalIsr.join(',')}] fell below min.insync.replicas ${this.cfg.minInsyncReplicas}`,
    );
  }

  /**
   * Kafka's isFollowerInSync: a follower joins when it has everything up to the high watermark
   * and has fetched past the start of this leader epoch (so it has truncated to this leader's
   * log, KAFKA-7128).
   */
  private maybeExpandIsr(f: FollowerProgress): void {
    if (this.pendingIsr !== null || this.isrChangeBlocked || this.isr.includes(f.replicaId)) return;
    if (f.logEndOffset < this.highWatermark || f.logEndOffset < this.leaderEpochStartOffset) return;
    this.propose('expand', [f.replicaId], [...this.isr, f.replicaId]);
  }

  private maybeShrinkIsr(now: number): void {
    if (this.pendingIsr !== null || this.isrChangeBlocked) return;
    const outOfSync = this.isr.filter((id) => {
      if (id === this.brokerId) return false;
      const f = this.followers.get(id);
      return f === undefined || !f.isCaughtUp(this.logEndOffset, now, this.cfg.replicaLagTimeMaxMs);
    });
    if (outOfSync.length === 0) return;
    this.propose('shrink', outOfSync, this.isr.filter((id) => !outOfSync.includes(id)));
  }

  private propose(kind: 'expand' | 'shrink', changed: number[], isr: number[]): void {
    invariant(this.pendingIsr === null, () => `${this.name}: a second ISR change while one is in flight`);
    invariant(
      isr.includes(this.brokerId) && isr.every((id) => this.replicas.includes(id)),
      () => `${this.name}: proposed ISR [${isr.join(',')}] is not valid`,
    );
    const proposal: IsrChangeProposal = {
      id: this.nextIsrProposalId++,
      kind,
      changed,
      leader: this.brokerId,
      leaderEpoch: this.leaderEpoch,
      controllerEpoch: this.controllerEpoch,
      isr,
      expectedPartitionEpoch: this.partitionEpoch,
    };
    this.pendingIsr = proposal;
    this.outIsrChange = proposal;
    // Expanding: count the new member now, as the write may succeed. Shrinking: keep counting
    // the members being removed until the write succeeds.
    if (kind === 'expand') this.maximalIsr = isr;
  }

  private fencingError(currentLeaderEpoch: number): KafkaError | null {
    if (currentLeaderEpoch === -1) return null;
    if (!isInt32(currentLeaderEpoch)) {
      return kafkaError('INVALID_REQUEST', `current leader epoch ${String(currentLeaderEpoch)} is not an int32`);
    }
    if (currentLeaderEpoch < this.leaderEpoch) {
      const message = `${this.name}: leader epoch ${currentLeaderEpoch} is older than ${this.leaderEpoch}`;
      return kafkaError('FENCED_LEADER_EPOCH', message, this.leaderId, this.leaderEpoch);
    }
    if (currentLeaderEpoch > this.leaderEpoch) {
      const message = `${this.name}: leader epoch ${currentLeaderEpoch} is newer than ${this.leaderEpoch}`;
      return kafkaError('UNKNOWN_LEADER_EPOCH', message, this.leaderId, this.leaderEpoch);
    }
    return null;
  }

  private notLeaderError(): KafkaError {
    const message = `${this.name}: broker ${this.brokerId} is not the leader (${this.role})`;
    return kafkaError('NOT_LEADER_OR_FOLLOWER', message, this.leaderId, this.leaderEpoch);
  }

  private timedOutError(requiredOffset: number): KafkaError {
    return kafkaError('REQUEST_TIMED_OUT', `${this.name}: offset ${requiredOffset - 1} was not replicated to the ISR in time`);
  }

  private tooManyPendingError(): KafkaError {
    const message = `${this.name}: ${this.pending.size} acks=all requests already wait for replication (maxPendingProduces)`;
    return kafkaError('REQUEST_TIMED_OUT', message);
  }

  /** Invariants that hold after every input (asserted again where they are relied on). */
  private checkInvariants(): void {
    invariant(
      this.logStartOffset <= this.highWatermark && this.highWatermark <= this.logEndOffset,
      () => `${this.name}: offsets out of order: log start ${this.logStartOffset}, HW ${this.highWatermark}, LEO ${this.logEndOffset}`,
    );
    if (this.role !== 'leader') return;
    invariant(
      this.isr.includes(this.brokerId),
      () => `${this.name}: the leader ${this.brokerId} is not in its ISR [${this.isr.join(',')}]`,
    );
    invariant(
      this.maximalIsr.every((id) => this.replicas.includes(id)),
      () => `${this.name}: ISR [${this.maximalIsr.join(',')}] not within replicas [${this.replicas.join(',')}]`,
    );
    invariant(
      this.isr.every((id) => this.maximalIsr.includes(id)),
      () => `${this.name}: maximal ISR [${this.maximalIsr.join(',')}] lacks members of [${this.isr.join(',')}]`,
    );
    invariant(
      this.leaderEpochStartOffset >= 0 && this.leaderEpochStartOffset <= this.logEndOffset,
      () => `${this.name}: epoch start ${this.leaderEpochStartOffset} outside the log`,
    );
  }
}
