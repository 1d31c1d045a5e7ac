// A consumer's membership of its group (Kafka's AbstractCoordinator + ConsumerCoordinator, classic
// protocol): finds the coordinator, joins (JoinGroup, with the MEMBER_ID_REQUIRED round trip),
// leads the assignment when elected, syncs, heartbeats on its own timer, commits and fetches
// offsets, and leaves. The consumer drives it: each turn of poll() calls poll(now), which never
// waits on the network — it starts what is due (FindCoordinator, the JoinGroup/SyncGroup exchange)
// and applies what finished, running the rebalance listener there, so callbacks run inside poll()
// as in Kafka. Time comes from the injected clock.
//
// Rebalance protocols, as Kafka: EAGER (an assignor list that includes range/roundrobin/sticky)
// revokes every partition before joining; COOPERATIVE (cooperative-sticky only) keeps its
// partitions through the rebalance, revokes only those missing from the new assignment, and then
// joins once more so the assignor can hand them to their new owner (two-phase).
//
// Fencing: every heartbeat, sync and commit carries the generation and member id; a coordinator
// answer of ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID means this member's generation is over: its
// partitions are lost (onPartitionsLost, no commit possible) and it rejoins. FENCED_INSTANCE_ID
// (another process took our group.instance.id) is fatal.
//
// Commits leave one at a time in call order (commitSync and commitAsync share one queue), so an
// older commit never lands after a newer one.

import { ClientError } from '../../client-error.js';
import type { Clock } from '../../clock.js';
import type { ConnectionPool } from '../../cluster/connection-pool.js';
import type { MetadataManager } from '../../cluster/metadata-manager.js';
import type { ClientLogger } from '../../logger.js';
import type { BrokerApi } from '../../protocol/broker-rpc.js';
import { KafkaError, kafkaErrorFromWire } from '../../protocol/errors.js';
import type { JoinGroupResponse, OffsetCommitTopic, SyncGroupAssignment } from '../../protocol/group-wire-types.js';
import { RetryPolicy, retryUntil } from '../../retry/retry-policy.js';
import { TopicPartitionMap, tpString, type TopicPartition } from '../../topic-partition.js';
import {
  CONSUMER_PROTOCOL_TYPE, NO_GENERATION, decodeAssignment, decodeSubscription, encodeAssignment, encodeSubscription, subscription,
  type ConsumerAssignment,
} from '../assignors/consumer-protocol.js';
import {
  AssignorError, assignPartitions, compareTopicPartitions, cooperativeViolations, type ConsumerPartitionAssignor, type MemberSubscription,
  type RebalanceProtocol,
} from '../assignors/partition-assignor.js';
import type { ConsumerRebalanceListener, ConsumerGroupMetadata, OffsetAndMetadata, OffsetToCommit, CommitCallback } from '../consumer-group-types.js';
import type { ConsumerMetrics } from '../consumer-metrics.js';
import { findCoordinator, isCoordinatorError, type CoordinatorNode } from './find-coordinator.js';
import { HeartbeatTimer } from './heartbeat.js';

export type MemberState = 'UNJOINED' | 'PREPARING_REBALANCE' | 'COMPLETING_REBALANCE' | 'STABLE';

/** Commits waiting in the queue at most (auto commits included); beyond it commitAsync fails at once. */
export const MAX_PENDING_COMMITS = 1_000;

/** What the coordinator needs from its consumer. */
export interface GroupHost {
  assignment(): TopicPartition[];
  /** Applies an assignment from the group (kept partitions keep their positions). */
  setAssignment(tps: TopicPartition[]): void;
  /** Positions of the assigned partitions (what auto commit commits). */
  consumedOffsets(): Array<OffsetToCommit & { leaderEpoch: number }>;
  /** Partition counts of the topics the metadata knows (the leader assigns from them). */
  partitionCounts(topics: string[]): Promise<Map<string, number>>;
  /** Stops fetching and returning these partitions (Consumer.pause). */
  pause(tps: TopicPartition[]): void;
  /** Partition counts the metadata cache holds now (no request). */
  cachedPartitionCounts(topics: string[]): Map<string, number>;
  /** Every topic name (for a pattern subscription). */
  allTopics(): Promise<string[]>;
  /** Something finished: a waiting poll() should look again. */
  wake(): void;
}

export interface CoordinatorOptions {
  groupId: string;
  groupInstanceId: string | null;
  clientId: string;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  maxPollIntervalMs: number;
  autoCommit: boolean;
  autoCommitIntervalMs: number;
  retryBackoffMs: number;
  requestTimeoutMs: number;
  defaultApiTimeoutMs: number;
  metadataMaxAgeMs: number;
  assignors: ConsumerPartitionAssignor[];
  clock: Clock;
  pool: ConnectionPool;
  metadata: MetadataManager;
  policy: RetryPolicy;
  logger: ClientLogger;
  metrics: ConsumerMetrics;
  host: GroupHost;
}

interface Generation {
  generationId: number;
  memberId: string;
  protocolName: string | null;
}

const NO_GENERATION_STATE: Generation = { generationId: NO_GENERATION, memberId: '', protocolName: null };

type JoinOutcome =
  | { ok: true; epoch: number; generation: Generation; assignment: ConsumerAssignment }
  | { ok: false; epoch: number; error: unknown };

interface PendingCommit {
  offsets: OffsetToCommit[];
  /** The generation the commit is fenced by: the member's when it asked (none outside group management). */
  generation: Generation;
  deadlineMs: number;
  resolve(): void;
  reject(err: unknown): void;
}

/** Join and sync errors after which nothing but the application can help. */
const FATAL_JOIN_ERRORS = new Set([
  'FENCED_INSTANCE_ID', 'INCONSISTENT_GROUP_PROTOCOL', 'INVALID_SESSION_TIMEOUT', 'GROUP_MAX_SIZE_REACHED', 'INVALID_GROUP_ID', 'UNSUPPORTED_VERSION',
  'INVALID_REQUEST',
]);

function sortedTps(tps: Iterable<TopicPartition>): TopicPartition[] {
  return [...tps].map((tp) => ({ topic: tp.topic, partition: tp.partition })).sort(compareTopicPartitions);
}

function minus(a: readonly TopicPartition[], b: readonly TopicPartition[]): TopicPartition[] {
  const set = new TopicPartitionMap<true>();
  for (const tp of b) set.set(tp, true);
  return sortedTps(a.filter((tp) => !set.has(tp)));
}

/** The protocol every configured assignor supports, preferring COOPERATIVE (Kafka's rule). */
export function rebalanceProtocolOf(assignors: readonly ConsumerPartitionAssignor[]): RebalanceProtocol {
  return assignors.every((a) => a.supportedProtocols().includes('COOPERATIVE')) ? 'COOPERATIVE' : 'EAGER';
}

export class ConsumerCoordinator {
  readonly protocol: RebalanceProtocol;
  private readonly o: CoordinatorOptions;
  private readonly heartbeat: HeartbeatTimer;
  private readonly rebalanceTimeoutMs: number;

  private coordinator: CoordinatorNode | null = null;
  private findPromise: Promise<CoordinatorNode> | null = null;
  private findFailures = 0;
  private findRetryAtMs = 0;

  private generation: Generation = NO_GENERATION_STATE;
  private state: MemberState = 'UNJOINED';
  private rejoinNeeded = true;
  private rejoinReason = 'initial join';
  /** The generation ended with an error: owned partitions are lost, not revoked. */
  private generationLost = false;
  private joinPrepared = false;
  private joinEpoch = 0;
  private joinInFlight = false;
  private joinOutcome: JoinOutcome | null = null;
  private joinFailures = 0;
  /** Cooperative partitions to revoke once their commit is done (see onJoinComplete). */
  private pendingRevocation: { revoked: TopicPartition[]; added: TopicPartition[]; assigned: TopicPartition[]; ready: boolean } | null = null;
  private joinRetryAtMs = 0;

  private topics: string[] | null = null;
  /** Partition counts of the subscribed topics when the member last joined (Kafka's metadataSnapshot). */
  private joinedSnapshot = '';
  private pattern: RegExp | null = null;
  private patternCheckAtMs = 0;
  private listener: ConsumerRebalanceListener = {};
  private fatal: Error | null = null;

  private heartbeatInFlight = false;
  private cancelHeartbeatTimer: (() => void) | null = null;

  private readonly commits: PendingCommit[] = [];
  private committing = false;
  private nextAutoCommitMs: number;
  private closed = false;
  private closing = false;

  constructor(options: CoordinatorOptions) {
    this.o = options;
    if (options.assignors.length === 0) throw new ClientError('INVALID_CONFIG', 'partition.assignment.strategy names no assignor');
    this.protocol = rebalanceProtocolOf(options.assignors);
    this.rebalanceTimeoutMs = options.maxPollIntervalMs;
    const now = options.clock.now();
    this.heartbeat = new HeartbeatTimer(
      { sessionTimeoutMs: options.sessionTimeoutMs, heartbeatIntervalMs: options.heartbeatIntervalMs, maxPollIntervalMs: options.maxPollIntervalMs, retryBackoffMs: options.retryBackoffMs },
      now,
    );
    this.nextAutoCommitMs = now + options.autoCommitIntervalMs;
  }

  // ---- what the consumer asks ----

  get subscribed(): boolean {
    return this.topics !== null || this.pattern !== null;
  }

  memberState(): MemberState {
    return this.state;
  }

  groupMetadata(): ConsumerGroupMetadata {
    return { groupId: this.o.groupId, generationId: this.generation.generationId, memberId: this.generation.memberId, groupInstanceId: this.o.groupInstanceId };
  }

  /** The topics subscribed to (resolved from the pattern at the last join). */
  subscription(): string[] {
    return [...(this.topics ?? [])];
  }

  subscribe(topics: string[] | RegExp, listener: ConsumerRebalanceListener): void {
    if (topics instanceof RegExp) {
      this.pattern = new RegExp(topics.source, topics.flags.replace(/[gy]/g, ''));
      this.topics = this.topics ?? [];
      this.patternCheckAtMs = 0;
    } else {
      this.pattern = null;
      const next = [...new Set(topics)].sort();
      const changed = this.topics === null || next.join('\u0000') !== this.topics.join('\u0000');
      this.topics = next;
      if (!changed && this.state === 'STABLE') {
        this.listener = listener;
        return;
      }
    }
    this.listener = listener;
    this.requestRejoin('subscription changed');
  }

  /** Ends group membership: revokes the assignment, leaves (dynamic members), forgets the subscription. */
  async unsubscribe(): Promise<void> {
    if (!this.subscribed) return;
    await this.onLeavePrepare();
    await this.maybeLeaveGroup('the consumer unsubscribed');
    this.topics = null;
    this.pattern = null;
    this.o.host.setAssignment([]);
    // Left the group: a later subscribe() joins as a new member.
    this.resetGeneration(true);
    this.generationLost = false;
    this.stopHeartbeats();
  }

  requestRejoin(reason: string): void {
    if (!this.rejoinNeeded) this.o.logger.info('group rejoin requested', { groupId: this.o.groupId, reason });
    this.rejoinNeeded = true;
    this.rejoinReason = reason;
    this.o.host.wake();
  }

  /** When poll() should look again even if no I/O finishes (a backoff ends, an auto commit is due). */
  nextWakeMs(): number {
    let at = Number.POSITIVE_INFINITY;
    // A join that finished while poll() was busy is applied at once (its wake-up may have been missed).
    if (this.joinOutcome || this.fatal || this.pendingRevocation?.ready) return 0;
    if (this.subscribed && !this.coordinator) at = Math.min(at, this.findRetryAtMs);
    if (this.subscribed && this.needsJoin() && this.coordinator) at = Math.min(at, this.joinRetryAtMs);
    if (this.o.autoCommit) at = Math.min(at, this.nextAutoCommitMs);
    if (this.pattern) at = Math.min(at, this.patternCheckAtMs);
    return at;
  }

  /**
   * One turn of the group state machine, from poll(): applies a finished join (running the
   * listener), starts what is due, commits when auto commit is due. Raises a fatal group error.
   */
  async poll(nowMs: number): Promise<void> {
    if (this.fatal) throw this.fatal;
    if (this.closed || this.closing) return;
    this.heartbeat.poll(nowMs);
    if (this.subscribed) {
      if (!this.coordinator) this.maybeFindCoordinator(nowMs);
      if (this.pattern && nowMs >= this.patternCheckAtMs) await this.checkPattern(nowMs);
      if (this.state === 'STABLE' && !this.rejoinNeeded && this.metadataSnapshot() !== this.joinedSnapshot) {
        this.requestRejoin('the partition count of a subscribed topic changed');
      }
      const pending = this.pendingRevocation;
      if (pending?.ready) {
        this.pendingRevocation = null;
        await this.completeCooperative(pending.revoked, pending.added, pending.assigned);
      }
      const outcome = this.joinOutcome;
      if (outcome) {
        this.joinOutcome = null;
        await this.applyJoinOutcome(outcome);
        if (this.fatal) throw this.fatal;
      }
      if (this.needsJoin() && !this.joinInFlight && !this.pendingRevocation) {
        if (!this.coordinator) this.maybeFindCoordinator(this.o.clock.now());
        else {
          if (!this.joinPrepared) {
            await this.onJoinPrepare();
            this.joinPrepared = true;
          }
          if (this.coordinator && this.o.clock.now() >= this.joinRetryAtMs && this.subscribed) this.startJoin();
        }
      }
    }
    this.maybeAutoCommit(this.o.clock.now());
  }

  /** Topic:count of the subscribed topics the metadata knows, as one comparable string. */
  private metadataSnapshot(): string {
    const counts = this.o.host.cachedPartitionCounts(this.topics ?? []);
    return [...counts].map(([t, n]) => `${t}:${n}`).join(',');
  }

  private needsJoin(): boolean {
    return this.rejoinNeeded || this.state === 'UNJOINED';
  }

  private async checkPattern(nowMs: number): Promise<void> {
    this.patternCheckAtMs = nowMs + Math.max(1_000, this.o.metadataMaxAgeMs);
    let all: string[];
    try {
      all = await this.o.host.allTopics();
    } catch (err) {
      this.o.logger.debug('pattern subscription: listing topics failed', { error: err });
      this.patternCheckAtMs = nowMs + this.o.retryBackoffMs;
      return;
    }
    if (!this.pattern) return;
    const matched = all.filter((t) => this.pattern!.test(t)).sort();
    if (matched.join('\u0000') !== (this.topics ?? []).join('\u0000')) {
      this.topics = matched;
      this.requestRejoin('topics matching the subscription pattern changed');
    }
  }

  // ---- coordinator discovery ----

  private ensureCoordinator(): Promise<CoordinatorNode> {
    if (this.coordinator) return Promise.resolve(this.coordinator);
    if (!this.findPromise) {
      const found = findCoordinator(
        { pool: this.o.pool, metadata: this.o.metadata, requestTimeoutMs: this.o.requestTimeoutMs, signal: this.o.metadata.signal },
        this.o.groupId,
      ).then((node) => {
        if (!this.coordinator) this.o.logger.info('group coordinator found', { groupId: this.o.groupId, coordinator: node.id, address: node.address });
        this.coordinator = node;
        this.findFailures = 0;
        this.heartbeat.resetSession(this.o.clock.now());
        this.scheduleHeartbeat();
        return node;
      });
      this.findPromise = found;
      void found.then(
        () => {
          this.findPromise = null;
        },
        () => {
          this.findPromise = null;
        },
      );
    }
    return this.findPromise;
  }

  private maybeFindCoordinator(nowMs: number): void {
    if (this.findPromise || nowMs < this.findRetryAtMs || this.closed) return;
    this.ensureCoordinator().then(
      () => this.o.host.wake(),
      (err: unknown) => {
        this.findFailures++;
        this.findRetryAtMs = this.o.clock.now() + this.o.policy.backoffMs(this.findFailures);
        this.o.logger.debug('FindCoordinator failed', { groupId: this.o.groupId, error: err });
        if (err instanceof KafkaError && !err.retriable && err.type !== 'COORDINATOR_NOT_AVAILABLE') this.fatal ??= err;
        this.o.host.wake();
      },
    );
  }

  /** Kafka's markCoordinatorUnknown: the next request looks the coordinator up again. */
  private markCoordinatorUnknown(reason: string): void {
    if (!this.coordinator) return;
    this.o.logger.info('group coordinator unknown', { groupId: this.o.groupId, coordinator: this.coordinator.id, reason });
    this.coordinator = null;
    this.o.host.wake();
  }

  private async call<T>(node: CoordinatorNode, timeoutMs: number, fn: (api: BrokerApi, opts: { timeoutMs: number; signal: AbortSignal }) => Promise<T>): Promise<T> {
    try {
      return await this.o.pool.call(node.address, (api) => fn(api, { timeoutMs, signal: this.o.metadata.signal }));
    } catch (err) {
      if (isCoordinatorError(err) && this.coordinator === node) this.markCoordinatorUnknown((err as Error).message);
      throw err;
    }
  }

  // ---- join / sync ----

  private joinProtocols(): Array<{ name: string; metadata: Uint8Array }> {
    const topics = this.topics ?? [];
    const owned = sortedTps(this.o.host.assignment());
    return this.o.assignors.map((a) => ({
      name: a.name,
      metadata: encodeSubscription(
        subscription(topics, { userData: a.subscriptionUserData(new Set(topics)), ownedPartitions: owned, generationId: this.generation.generationId }),
      ),
    }));
  }

  private startJoin(): void {
    const epoch = ++this.joinEpoch;
    this.joinInFlight = true;
    this.rejoinNeeded = false;
    this.state = 'PREPARING_REBALANCE';
    this.joinAndSync(epoch).then(
      (out) => this.finishJoin(out),
      (error: unknown) => this.finishJoin({ ok: false, epoch, error }),
    );
  }

  private finishJoin(outcome: JoinOutcome): void {
    this.joinInFlight = false;
    if (outcome.epoch !== this.joinEpoch) return; // a reset superseded this join
    this.joinOutcome = outcome;
    this.o.host.wake();
  }

  private async joinAndSync(epoch: number): Promise<JoinOutcome> {
    const node = this.coordinator;
    if (!node) throw new KafkaError('COORDINATOR_NOT_AVAILABLE', 'the group coordinator is not known');
    const { clock, groupId } = this.o;
    const groupInstanceId = this.o.groupInstanceId ?? '';
    const joinStarted = clock.now();
    // A JoinGroup waits for the other members for up to the rebalance timeout.
    const joinTimeout = Math.max(this.o.requestTimeoutMs, this.rebalanceTimeoutMs + 5_000);
    const res: JoinGroupResponse = await this.call(node, joinTimeout, (api, opts) =>
      api.joinGroup(
        {
          groupId,
          sessionTimeoutMs: this.o.sessionTimeoutMs,
          rebalanceTimeoutMs: this.rebalanceTimeoutMs,
          memberId: this.generation.memberId,
          groupInstanceId,
          protocolType: CONSUMER_PROTOCOL_TYPE,
          protocols: this.joinProtocols(),
          reason: this.rejoinReason.slice(0, 255),
          clientId: this.o.clientId,
        },
        opts,
      ),
    );
    const joinError = kafkaErrorFromWire(res.error);
    if (joinError) {
      if (isCoordinatorError(joinError) && this.coordinator === node) this.markCoordinatorUnknown(joinError.message);
      if (joinError.type === 'MEMBER_ID_REQUIRED' && res.memberId) {
        // KIP-394: the coordinator names our member id; join again with it at once.
        this.generation = { ...this.generation, memberId: res.memberId };
      }
      throw joinError;
    }
    const now = clock.now();
    this.o.metrics.joinCompleted(now - joinStarted, now);
    if (res.protocolType && res.protocolType !== CONSUMER_PROTOCOL_TYPE) {
      throw new KafkaError('INCONSISTENT_GROUP_PROTOCOL', `the group's protocol type is ${res.protocolType}, not ${CONSUMER_PROTOCOL_TYPE}`);
    }
    const generation: Generation = { generationId: res.generationId, memberId: res.memberId, protocolName: res.protocolName };
    this.generation = generation;
    this.state = 'COMPLETING_REBALANCE';
    this.heartbeat.resetSession(now);
    this.scheduleHeartbeat();
    let assignments: SyncGroupAssignment[] = [];
    if (res.leader === res.memberId && !res.skipAssignment) assignments = await this.performAssignment(res);
    if (epoch !== this.joinEpoch) throw new ClientError('ILLEGAL_STATE', 'the join was superseded');
    const syncStarted = clock.now();
    const sync = await this.call(node, this.o.requestTimeoutMs, (api, opts) =>
      api.syncGroup(
        {
          groupId,
          generationId: generation.generationId,
          memberId: generation.memberId,
          groupInstanceId,
          protocolType: CONSUMER_PROTOCOL_TYPE,
          protocolName: generation.protocolName ?? '',
          assignments,
        },
        opts,
      ),
    );
    const syncError = kafkaErrorFromWire(sync.error);
    if (syncError) {
      if (isCoordinatorError(syncError) && this.coordinator === node) this.markCoordinatorUnknown(syncError.message);
      throw syncError;
    }
    const done = clock.now();
    this.o.metrics.syncCompleted(done - syncStarted, done);
    const bytes = sync.assignment;
    const assignment = bytes && bytes.length > 0 ? decodeAssignment(bytes) : { partitions: [], userData: null };
    return { ok: true, epoch, generation, assignment };
  }

  /** The leader's step: decode every member's subscription, assign with the chosen assignor, check, encode. */
  private async performAssignment(res: JoinGroupResponse): Promise<SyncGroupAssignment[]> {
    const assignor = this.o.assignors.find((a) => a.name === res.protocolName);
    if (!assignor) throw new AssignorError('NO_COMMON_ASSIGNOR', `the group chose assignor '${res.protocolName}', which this consumer does not have`);
    const subs = new Map<string, MemberSubscription>();
    const topics = new Set<string>();
    for (const m of res.members ?? []) {
      const sub = decodeSubscription(m.metadata);
      subs.set(m.memberId, { ...sub, groupInstanceId: m.groupInstanceId === '' ? null : m.groupInstanceId });
      for (const t of sub.topics) topics.add(t);
    }
    const counts = await this.o.host.partitionCounts([...topics].sort());
    const assignments = assignPartitions(assignor, (t) => counts.get(t), subs);
    if (this.protocol === 'COOPERATIVE') {
      const violations = cooperativeViolations(subs, new Map([...assignments].map(([m, a]) => [m, a.partitions])));
      if (violations.length > 0) {
        throw new AssignorError('INVALID_ASSIGNMENT', `${assignor.name} moved ${violations.map(tpString).join(', ')} in one step, against the cooperative protocol`);
      }
    }
    this.o.logger.info('group leader assigned partitions', {
      groupId: this.o.groupId,
      generationId: res.generationId,
      assignor: assignor.name,
      members: subs.size,
    });
    return [...assignments].map(([memberId, a]) => ({ memberId, assignment: encodeAssignment(a) }));
  }

  private async applyJoinOutcome(outcome: JoinOutcome): Promise<void> {
    if (outcome.ok) {
      this.joinFailures = 0;
      await this.onJoinComplete(outcome.generation, outcome.assignment);
      return;
    }
    const err = outcome.error;
    this.state = 'UNJOINED';
    this.rejoinNeeded = true;
    const now = this.o.clock.now();
    const type = err instanceof KafkaError ? err.type : null;
    if (type === 'MEMBER_ID_REQUIRED' || type === 'REBALANCE_IN_PROGRESS') {
      this.joinRetryAtMs = now;
      return;
    }
    if (type === 'UNKNOWN_MEMBER_ID' || type === 'ILLEGAL_GENERATION') {
      this.resetGeneration(type === 'UNKNOWN_MEMBER_ID');
      this.joinRetryAtMs = now;
      return;
    }
    if ((type && FATAL_JOIN_ERRORS.has(type)) || err instanceof AssignorError || (err instanceof Error && err.name === 'BinaryFormatError')) {
      this.fatal = err as Error;
      this.o.logger.error('group membership failed', { groupId: this.o.groupId, error: err });
      return;
    }
    // Coordinator errors already marked it unknown; anything else (load in progress, timeouts) backs off.
    this.joinFailures++;
    this.joinRetryAtMs = now + this.o.policy.backoffMs(this.joinFailures);
    this.o.logger.info('group join failed, retrying', { groupId: this.o.groupId, error: err });
  }

  /** Before joining: commit (auto commit), then revoke (eager: everything) or declare lost. */
  private async onJoinPrepare(): Promise<void> {
    const owned = sortedTps(this.o.host.assignment());
    if (this.o.autoCommit && !this.generationLost && this.state === 'STABLE' && owned.length > 0) {
      if (this.protocol === 'EAGER') await this.commitOwnedSync(owned, 'before rebalancing');
      else {
        // Cooperative: the member keeps its partitions and consumes on while it rejoins, so the
        // commit need not hold the join (what moves is committed before it is revoked).
        this.commitAsync(this.o.host.consumedOffsets(), (err) => {
          if (err) this.o.logger.info('auto commit before rebalancing failed', { groupId: this.o.groupId, error: err });
        });
      }
    }
    if (this.generationLost) {
      this.generationLost = false;
      if (owned.length > 0) {
        this.o.host.setAssignment([]);
        await this.invoke('onPartitionsLost', owned);
      }
      return;
    }
    if (this.protocol === 'EAGER') {
      if (owned.length > 0) {
        await this.invoke('onPartitionsRevoked', owned);
        this.o.host.setAssignment([]);
      }
      return;
    }
    const topics = new Set(this.topics ?? []);
    const unsubscribed = owned.filter((tp) => !topics.has(tp.topic));
    if (unsubscribed.length > 0) {
      await this.invoke('onPartitionsRevoked', unsubscribed);
      this.o.host.setAssignment(minus(owned, unsubscribed));
    }
  }

  private async onJoinComplete(generation: Generation, assignment: ConsumerAssignment): Promise<void> {
    const assignor = this.o.assignors.find((a) => a.name === generation.protocolName);
    if (!assignor) {
      this.fatal = new AssignorError('NO_COMMON_ASSIGNOR', `the group chose assignor '${generation.protocolName}', which this consumer does not have`);
      return;
    }
    const assigned = sortedTps(assignment.partitions);
    assignor.onAssignment(assignment, generation.generationId);
    this.state = 'STABLE';
    this.joinPrepared = false;
    this.joinedSnapshot = this.metadataSnapshot();
    this.nextAutoCommitMs = this.o.clock.now() + this.o.autoCommitIntervalMs;
    const owned = sortedTps(this.o.host.assignment());
    this.o.logger.info('joined group', {
      groupId: this.o.groupId,
      generationId: generation.generationId,
      memberId: generation.memberId,
      assignor: generation.protocolName,
      partitions: assigned.length,
    });
    if (this.protocol === 'COOPERATIVE') {
      const added = minus(assigned, owned);
      const revoked = minus(owned, assigned);
      const offsets = this.o.autoCommit ? this.consumedOffsetsOf(revoked) : [];
      if (offsets.length > 0) {
        // What was consumed from the moving partitions is committed before they go. Meanwhile
        // they are paused and the kept ones go on being fetched and returned; the commit's end
        // (next poll) revokes them, applies the assignment and rejoins for the second phase.
        this.o.host.pause(revoked);
        const pending = { revoked, added, assigned, ready: false };
        this.pendingRevocation = pending;
        this.commitAsync(offsets, (err) => {
          if (err) this.o.logger.warn('auto commit before revoking partitions failed', { groupId: this.o.groupId, error: err });
          pending.ready = true;
          this.o.host.wake();
        });
        return;
      }
      await this.completeCooperative(revoked, added, assigned);
      return;
    }
    this.o.host.setAssignment(assigned);
    await this.invoke('onPartitionsAssigned', assigned);
  }

  /** Cooperative: revoke what moves (then rejoin for the second phase), apply the assignment, announce what was added. */
  private async completeCooperative(revoked: TopicPartition[], added: TopicPartition[], assigned: TopicPartition[]): Promise<void> {
    if (revoked.length > 0) {
      await this.invoke('onPartitionsRevoked', revoked);
      this.requestRejoin(`revoked ${revoked.length} partition(s) for the cooperative protocol's second phase`);
    }
    this.o.host.setAssignment(assigned);
    await this.invoke('onPartitionsAssigned', added);
  }

  private consumedOffsetsOf(tps: TopicPartition[]): OffsetToCommit[] {
    const want = new TopicPartitionMap<true>();
    for (const tp of tps) want.set(tp, true);
    return this.o.host.consumedOffsets().filter((o) => want.has(o));
  }

  /** Before leaving (close, unsubscribe): commit, then revoke, or declare lost if the generation is over. */
  private async onLeavePrepare(): Promise<void> {
    const owned = sortedTps(this.o.host.assignment());
    if (owned.length === 0) return;
    if (this.generationLost || this.state !== 'STABLE') {
      this.generationLost = false;
      await this.invoke('onPartitionsLost', owned);
    } else {
      await this.invoke('onPartitionsRevoked', owned);
    }
    this.o.host.setAssignment([]);
  }

  private async invoke(what: keyof ConsumerRebalanceListener, tps: TopicPartition[]): Promise<void> {
    const fn = this.listener[what];
    if (!fn) return;
    try {
      await fn.call(this.listener, tps);
    } catch (err) {
      // As Kafka: a listener's exception is logged, and the rebalance goes on.
      this.o.logger.error(`rebalance listener ${what} failed`, { groupId: this.o.groupId, error: err });
    }
  }

  /** The generation is over: the next poll declares owned partitions lost and rejoins. */
  private resetGeneration(resetMemberId: boolean): void {
    const hadGeneration = this.generation.generationId !== NO_GENERATION;
    this.generation = { generationId: NO_GENERATION, memberId: resetMemberId ? '' : this.generation.memberId, protocolName: null };
    this.state = 'UNJOINED';
    this.rejoinNeeded = true;
    this.joinEpoch++;
    this.joinInFlight = false;
    this.joinOutcome = null;
    this.joinPrepared = false;
    // Partitions waiting to be revoked are still owned: they are lost with the rest.
    this.pendingRevocation = null;
    if (hadGeneration || this.o.host.assignment().length > 0) this.generationLost = true;
    this.o.host.wake();
  }

  // ---- heartbeats ----

  private scheduleHeartbeat(): void {
    if (this.closed) return;
    this.cancelHeartbeatTimer?.();
    const now = this.o.clock.now();
    const delay = Math.max(0, this.heartbeat.nextCheckMs(now) - now);
    this.cancelHeartbeatTimer = this.o.clock.setTimer(delay, () => {
      this.cancelHeartbeatTimer = null;
      this.heartbeatTick();
    });
  }

  private stopHeartbeats(): void {
    this.cancelHeartbeatTimer?.();
    this.cancelHeartbeatTimer = null;
  }

  /** Kafka's HeartbeatThread, one tick: poll timeout, session expiry, or a heartbeat when due. */
  private heartbeatTick(): void {
    if (this.closed || this.fatal) return;
    const now = this.o.clock.now();
    const member = this.state === 'STABLE' || this.state === 'COMPLETING_REBALANCE';
    if (!member || !this.subscribed) return; // the next join restarts the loop
    if (this.heartbeat.pollTimeoutExpired(now)) {
      this.o.logger.warn('poll() was not called within max.poll.interval.ms; leaving the group', {
        groupId: this.o.groupId,
        maxPollIntervalMs: this.o.maxPollIntervalMs,
      });
      void this.maybeLeaveGroup('consumer poll timeout has expired').finally(() => this.resetGeneration(true));
      return;
    }
    if (!this.coordinator) {
      this.maybeFindCoordinator(now);
      this.heartbeat.failed(now);
      this.scheduleHeartbeat();
      return;
    }
    if (this.heartbeat.sessionExpired(now)) {
      this.markCoordinatorUnknown('no heartbeat answer within session.timeout.ms');
      this.heartbeat.resetSession(now);
      this.scheduleHeartbeat();
      return;
    }
    if (!this.heartbeatInFlight && this.heartbeat.timeToNextHeartbeat(now) === 0) this.sendHeartbeat(this.coordinator);
    this.scheduleHeartbeat();
  }

  private sendHeartbeat(node: CoordinatorNode): void {
    const generation = this.generation;
    this.heartbeatInFlight = true;
    this.heartbeat.sent(this.o.clock.now());
    this.call(node, this.o.requestTimeoutMs, (api, opts) =>
      api.heartbeat(
        { groupId: this.o.groupId, generationId: generation.generationId, memberId: generation.memberId, groupInstanceId: this.o.groupInstanceId ?? '' },
        opts,
      ),
    )
      .then(
        (res) => {
          const err = kafkaErrorFromWire(res.error);
          if (err && isCoordinatorError(err) && this.coordinator === node) this.markCoordinatorUnknown(err.message);
          this.onHeartbeatResult(generation, err);
        },
        (err: unknown) => this.onHeartbeatResult(generation, err),
      )
      .finally(() => {
        this.heartbeatInFlight = false;
      });
  }

  private onHeartbeatResult(generation: Generation, err: unknown): void {
    const now = this.o.clock.now();
    if (!err) {
      this.heartbeat.received(now);
      this.o.metrics.heartbeatAnswered(now);
      return;
    }
    const type = err instanceof KafkaError ? err.type : null;
    if (type === 'REBALANCE_IN_PROGRESS') {
      // The group is rebalancing; still a member, so the session goes on while we rejoin.
      this.heartbeat.received(now);
      if (this.state === 'STABLE') this.requestRejoin('the group is rebalancing (heartbeat)');
      return;
    }
    if (type === 'ILLEGAL_GENERATION' || type === 'UNKNOWN_MEMBER_ID' || type === 'FENCED_INSTANCE_ID') {
      if (generation !== this.generation) return; // already moved on
      if (type === 'FENCED_INSTANCE_ID') {
        this.fatal = err as Error;
        this.o.logger.error('fenced: another consumer joined with this group.instance.id', { groupId: this.o.groupId, groupInstanceId: this.o.groupInstanceId });
        this.o.host.wake();
        return;
      }
      this.o.logger.info('heartbeat: generation is over, rejoining', { groupId: this.o.groupId, error: type });
      this.resetGeneration(type === 'UNKNOWN_MEMBER_ID');
      return;
    }
    this.heartbeat.failed(now);
    this.scheduleHeartbeat();
  }

  /** LeaveGroup for a dynamic member (a static one stays, so its restart does not rebalance). */
  private async maybeLeaveGroup(reason: string, deadlineMs = Number.POSITIVE_INFINITY): Promise<void> {
    const memberId = this.generation.memberId;
    const node = this.coordinator;
    if (this.o.groupInstanceId !== null || memberId === '' || !node) return;
    await this.within(this.sendLeave(node, memberId, reason), deadlineMs);
  }

  /** Waits for `work` until `deadlineMs` at most (close({ timeoutMs })); the work itself goes on. */
  private async within(work: Promise<unknown>, deadlineMs: number): Promise<void> {
    const left = deadlineMs - this.o.clock.now();
    if (left <= 0) return;
    if (!Number.isFinite(left)) {
      await work;
      return;
    }
    let cancel: (() => void) | null = null;
    const timeout = new Promise<void>((resolve) => {
      cancel = this.o.clock.setTimer(left, resolve);
    });
    try {
      await Promise.race([work, timeout]);
    } finally {
      (cancel as (() => void) | null)?.();
    }
  }

  private async sendLeave(node: CoordinatorNode, memberId: string, reason: string): Promise<void> {
    try {
      const res = await this.call(node, this.o.requestTimeoutMs, (api, opts) =>
        api.leaveGroup({ groupId: this.o.groupId, members: [{ memberId, groupInstanceId: '', reason: reason.slice(0, 255) }] }, opts),
      );
      const err = kafkaErrorFromWire(res.error) ?? (res.members ?? []).map((m) => kafkaErrorFromWire(m.error)).find((e) => e);
      if (err) this.o.logger.info('LeaveGroup refused', { groupId: this.o.groupId, error: err });
    } catch (err) {
      this.o.logger.info('LeaveGroup failed', { groupId: this.o.groupId, error: err });
    }
  }

  // ---- offsets ----

  private maybeAutoCommit(nowMs: number): void {
    if (!this.o.autoCommit || nowMs < this.nextAutoCommitMs) return;
    this.nextAutoCommitMs = nowMs + this.o.autoCommitIntervalMs;
    if (this.subscribed && this.state !== 'STABLE') return;
    const offsets = this.o.host.consumedOffsets();
    if (offsets.length === 0 || this.commits.length >= MAX_PENDING_COMMITS) return;
    this.commitAsync(offsets, (err) => {
      if (err) this.o.logger.info('auto commit failed', { groupId: this.o.groupId, error: err });
    });
  }

  private async commitOwnedSync(tps: TopicPartition[], why: string): Promise<void> {
    const want = new TopicPartitionMap<true>();
    for (const tp of tps) want.set(tp, true);
    const offsets = this.o.host.consumedOffsets().filter((o) => want.has(o));
    if (offsets.length === 0) return;
    try {
      await this.commitSync(offsets, this.o.clock.now() + Math.min(this.rebalanceTimeoutMs, this.o.defaultApiTimeoutMs));
    } catch (err) {
      this.o.logger.warn(`auto commit ${why} failed`, { groupId: this.o.groupId, error: err });
    }
  }

  /** Commits `offsets`, after every commit queued before; resolves when the coordinator accepted them. */
  commitSync(offsets: OffsetToCommit[], deadlineMs: number): Promise<void> {
    if (this.fatal) return Promise.reject(this.fatal);
    if (offsets.length === 0) return Promise.resolve();
    if (this.commits.length >= MAX_PENDING_COMMITS) {
      return Promise.reject(new ClientError('BUFFER_EXHAUSTED', `more than ${MAX_PENDING_COMMITS} offset commits are waiting`));
    }
    let generation = NO_GENERATION_STATE;
    if (this.subscribed) {
      if (this.state !== 'STABLE') {
        return Promise.reject(
          new KafkaError('REBALANCE_IN_PROGRESS', 'Offset commit cannot be completed since the consumer is undergoing a rebalance; poll() completes it, then commit again'),
        );
      }
      generation = this.generation;
    }
    return new Promise<void>((resolve, reject) => {
      this.commits.push({ offsets, generation, deadlineMs, resolve, reject });
      void this.pumpCommits();
    });
  }

  commitAsync(offsets: OffsetToCommit[], callback: CommitCallback | undefined): void {
    this.commitSync(offsets, this.o.clock.now() + this.o.defaultApiTimeoutMs).then(
      () => callback?.(null, offsets),
      (err: unknown) => callback?.(err instanceof Error ? err : new Error(String(err)), offsets),
    );
  }

  private async pumpCommits(): Promise<void> {
    if (this.committing) return;
    this.committing = true;
    try {
      for (let c = this.commits.shift(); c; c = this.commits.shift()) {
        try {
          await this.sendCommit(c.offsets, c.generation, c.deadlineMs);
          c.resolve();
        } catch (err) {
          c.reject(err);
        }
      }
    } finally {
      this.committing = false;
    }
  }

  private retrying<T>(what: string, deadlineMs: number, fn: () => Promise<T>): Promise<T> {
    return retryUntil({ clock: this.o.clock, policy: this.o.policy, deadlineMs, what, signal: this.o.metadata.signal }, fn);
  }

  private async sendCommit(offsets: OffsetToCommit[], generation: Generation, deadlineMs: number): Promise<void> {
    const topics = new Map<string, OffsetCommitTopic>();
    const epochs = new TopicPartitionMap<number>();
    for (const o of this.o.host.consumedOffsets()) epochs.set(o, o.leaderEpoch);
    for (const o of offsets) {
      let t = topics.get(o.topic);
      if (!t) topics.set(o.topic, (t = { topic: o.topic, partitions: [] }));
      const epoch = epochs.get(o);
      t.partitions.push({ partition: o.partition, committedOffset: o.offset, committedLeaderEpoch: epoch ?? -1, committedMetadata: o.metadata ?? '' });
    }
    await this.retrying(`commit of group '${this.o.groupId}'`, deadlineMs, async () => {
      const node = await this.ensureCoordinator();
      const started = this.o.clock.now();
      const res = await this.call(node, this.o.requestTimeoutMs, (api, opts) =>
        api.offsetCommit(
          {
            groupId: this.o.groupId,
            generationId: generation.generationId,
            memberId: generation.memberId,
            groupInstanceId: this.o.groupInstanceId ?? '',
            topics: [...topics.values()],
          },
          opts,
        ),
      );
      let first: KafkaError | null = null;
      for (const t of res.topics ?? []) for (const p of t.partitions ?? []) first ??= kafkaErrorFromWire(p.error);
      if (!first) {
        const now = this.o.clock.now();
        this.o.metrics.commitCompleted(now - started, now);
        return;
      }
      if (isCoordinatorError(first) && this.coordinator === node) this.markCoordinatorUnknown(first.message);
      if (first.type === 'REBALANCE_IN_PROGRESS') {
        this.requestRejoin('the group is rebalancing (commit)');
        throw first;
      }
      if (first.type === 'ILLEGAL_GENERATION' || first.type === 'UNKNOWN_MEMBER_ID') {
        if (generation === this.generation && generation !== NO_GENERATION_STATE) this.resetGeneration(first.type === 'UNKNOWN_MEMBER_ID');
        throw new ClientError(
          'COMMIT_FAILED',
          `Commit cannot be completed since the group has already rebalanced and assigned the partitions to another member (${first.type}); poll() rejoins the group`,
          { cause: first },
        );
      }
      if (first.type === 'FENCED_INSTANCE_ID') this.fatal = first;
      throw first;
    });
  }

  /** Committed offsets of `tps` (null where none), from the coordinator. */
  async fetchCommitted(tps: TopicPartition[], deadlineMs: number): Promise<Array<(OffsetAndMetadata & { leaderEpoch: number }) | null>> {
    if (tps.length === 0) return [];
    const byTopic = new Map<string, number[]>();
    for (const tp of tps) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
    const found = await this.retrying(`committed offsets of group '${this.o.groupId}'`, deadlineMs, async () => {
      const node = await this.ensureCoordinator();
      const res = await this.call(node, this.o.requestTimeoutMs, (api, opts) =>
        api.offsetFetch({ groupId: this.o.groupId, topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })), allTopics: false }, opts),
      );
      const err = kafkaErrorFromWire(res.error);
      if (err) {
        if (isCoordinatorError(err) && this.coordinator === node) this.markCoordinatorUnknown(err.message);
        throw err;
      }
      const out = new TopicPartitionMap<OffsetAndMetadata & { leaderEpoch: number }>();
      for (const t of res.topics ?? []) {
        for (const p of t.partitions ?? []) {
          const perr = kafkaErrorFromWire(p.error);
          if (perr) throw perr;
          if (p.committedOffset >= 0) out.set({ topic: t.topic, partition: p.partition }, { offset: p.committedOffset, metadata: p.metadata ?? '', leaderEpoch: p.committedLeaderEpoch });
        }
      }
      return out;
    });
    return tps.map((tp) => found.get(tp) ?? null);
  }

  // ---- close ----

  /** Commits (auto commit), revokes, leaves (dynamic members), and stops heartbeats. */
  async close(deadlineMs: number): Promise<void> {
    if (this.closed || this.closing) return;
    // A poll() running alongside (run() while the application closes) stops driving the group now.
    this.closing = true;
    try {
      if (this.o.autoCommit && !this.fatal) {
        const offsets = this.o.host.consumedOffsets();
        if (offsets.length > 0 && (!this.subscribed || this.state === 'STABLE')) {
          const commit = this.commitSync(offsets, deadlineMs).catch((err: unknown) => this.o.logger.warn('commit on close failed', { groupId: this.o.groupId, error: err }));
          await this.within(commit, deadlineMs);
        }
      }
      if (this.subscribed) {
        await this.onLeavePrepare();
        await this.maybeLeaveGroup('the consumer is being closed', deadlineMs);
      }
    } finally {
      this.closed = true;
      this.stopHeartbeats();
      this.joinEpoch++;
    }
  }
}
