// One classic consumer group's coordinator, Kafka 3.x's GroupCoordinator logic in the shape of a
// pure core (etcd raft): no I/O, no timers, no clock, no randomness of its own. Time enters as
// `nowMs` (a monotonic clock in ms); member ids get their random part from the injected
// `newMemberIdSuffix`; everything the adapter must do comes out of each call as a GroupStep.
//
// Lifecycle and ownership: the adapter that leads the group's __consumer_offsets partition owns
// one GroupCoordinator per group: create() on the first JoinGroup (or simple offset commit),
// load() for each group record replayed when it becomes the partition's leader, unload() when it
// stops leading it, and drops the object once the group is Dead (delete(), unload(), or empty and
// without offsets after expiration). A GroupError INVARIANT_VIOLATION means the group's state can
// no longer be trusted: unload the partition.
//
// Inputs:  join · sync · heartbeat · leave · validateOffsetCommit · onGroupStored · tick
//          (+ delete · unload, and the read-only describe · overview · expiryView · offsetDeletionCheck)
// Outputs: GroupStep { responses, effects }.
//
// THE CONTRACT.
// - Every call takes nowMs, never smaller than the previous call's. A call first fires the timers
//   due by nowMs (session timeouts, the join and sync deadlines) at their own deadlines, then does
//   its work, then fires anything that became due at once; tick(nowMs) does only the firing. Call
//   tick by nextDeadlineMs() at the latest.
// - JoinGroup and SyncGroup are delayed requests: the adapter names each with a requestId unique
//   among this group's pending requests, and delivers each GroupResponse to the request it names,
//   whichever call's step it came out of. Every such request is answered exactly once; after
//   unload() none is left pending.
// - 'store-group' effects are writes the group waits on: append the record to the group's
//   __consumer_offsets partition (acks=all) and report onGroupStored(storeId, null) on success or
//   onGroupStored(storeId, appendError) on failure; the SyncGroup answers of a new generation are
//   held until then, as in Kafka. 'delete-group' tombstones are best effort. 'state-changed' and
//   'member-removed' are for logs and metrics.
// - Offsets are not here: validateOffsetCommit says whether a commit may proceed (generation and
//   member checks, so a zombie's commit is refused); the OffsetStore keeps the offsets.

import { type KafkaErrorName, CONSUMER_PROTOCOL_TYPE, decodeSubscribedTopics } from '@samsa/client';
import { groupStoreError } from './append-errors.js';
import { type GroupConfig, resolveGroupConfig } from './group-config.js';
import { GroupError, checkArgument, checkTime, invariant } from './group-errors.js';
import { GroupMetadata, type ResponseSink, joinError, syncError } from './group-metadata.js';
import {
  type GroupDescription,
  type GroupEffect,
  type GroupOverview,
  type GroupReply,
  type GroupResponse,
  type GroupState,
  type GroupStep,
  type HeartbeatRequest,
  type HeartbeatResponse,
  type JoinGroupRequest,
  type JoinGroupResponse,
  type LeaveGroupMemberResponse,
  type LeaveGroupRequest,
  type LeaveGroupResponse,
  type MemberRemovalReason,
  type OffsetCommitCheck,
  type OffsetCommitIdentity,
  type ProtocolMetadata,
  type SyncGroupRequest,
  type SyncGroupResponse,
  UNKNOWN_MEMBER_ID,
} from './group-types.js';
import { EMPTY_BYTES, MemberMetadata } from './member-metadata.js';
import { type GroupMetadataValue, encodeGroupMetadataKey, encodeGroupMetadataValue } from './offsets-records.js';
import { TimerQueue } from './timer-queue.js';

export interface GroupCoordinatorOptions {
  readonly groupId: string;
  readonly nowMs: number;
  readonly config?: Partial<GroupConfig>;
  /**
   * The random part of new member ids (Kafka: a UUID). The adapter passes crypto.randomUUID; a
   * test passes a seeded generator. Ids must not repeat across coordinators of the group.
   */
  readonly newMemberIdSuffix: () => string;
}

/** What a group needs to know about a topic-partition for OffsetDelete (Kafka's handleDeleteOffsets). */
export interface OffsetDeletionCheck {
  readonly groupError: KafkaErrorName | null;
  readonly eligible: readonly { topic: string; partition: number }[];
  readonly partitionErrors: readonly { topic: string; partition: number; error: KafkaErrorName }[];
}

/** What offset expiration needs to know about the group (see OffsetStore.expire). */
export interface GroupExpiryView {
  readonly state: GroupState;
  readonly protocolType: string | null;
  readonly currentStateTimestampMs: number | null;
  readonly subscribedTopics: ReadonlySet<string> | null;
}

/** Writes of group metadata the group is waiting on. */
type PendingStore =
  | { readonly kind: 'sync'; readonly generationId: number; readonly assignment: ReadonlyMap<string, Uint8Array> }
  | {
      readonly kind: 'static-rejoin';
      readonly generationId: number;
      readonly requestId: number;
      readonly groupInstanceId: string;
      readonly oldMemberId: string;
      readonly newMemberId: string;
      readonly oldProtocols: readonly ProtocolMetadata[];
      readonly oldRebalanceTimeoutMs: number;
      readonly oldSessionTimeoutMs: number;
      readonly previousLeaderId: string | null;
      readonly supportsSkippingAssignment: boolean;
    }
  | { readonly kind: 'empty' };

type JoinTimer = { readonly kind: 'regular' } | { readonly kind: 'initial'; readonly delayMs: number; readonly remainingMs: number };

const JOIN_TIMER = 'join';
const SYNC_TIMER = 'sync';
const HEARTBEAT_PREFIX = 'hb:';
const PENDING_PREFIX = 'pending:';
/** Group metadata writes in flight at once; beyond, a write fails at once as if it timed out. */
const MAX_PENDING_STORES = 1_024;
/** Timer firings in one call; far beyond any real group, it turns a runaway loop into an error. */
const MAX_FIRINGS_PER_CALL = 1_000_000;
const INT32_MAX = 2 ** 31 - 1;

function isString(v: unknown, maxLength: number): v is string {
  return typeof v === 'string' && v.length <= maxLength;
}

function isNullableString(v: unknown, maxLength: number): v is string | null {
  return v === null || isString(v, maxLength);
}

export class GroupCoordinator {
  private readonly config: GroupConfig;
  private readonly group: GroupMetadata;
  private readonly timers = new TimerQueue<string>();
  private readonly newMemberIdSuffix: () => string;
  private joinTimer: JoinTimer | null = null;
  private syncTimerGeneration: number | null = null;
  private readonly pendingRequests = new Set<number>();
  private readonly pendingStores = new Map<number, PendingStore>();
  private nextStoreId = 1;
  private now: number;
  private responses: GroupResponse[] = [];
  private effects: GroupEffect[] = [];
  private inCall = false;

  private constructor(options: GroupCoordinatorOptions, state: GroupState, stateTimestampMs: number | null) {
    checkTime('nowMs', options.nowMs);
    checkArgument(typeof options.groupId === 'string' && options.groupId.length > 0, () => 'groupId must be a non-empty string');
    checkArgument(typeof options.newMemberIdSuffix === 'function', () => 'newMemberIdSuffix must be a function');
    this.config = resolveGroupConfig(options.config);
    this.newMemberIdSuffix = options.newMemberIdSuffix;
    this.now = options.nowMs;
    const sink: ResponseSink = {
      join: (requestId, response) => this.deliver({ kind: 'join', requestId, response }),
      sync: (requestId, response) => this.deliver({ kind: 'sync', requestId, response }),
    };
    this.group = new GroupMetadata(options.groupId, state, stateTimestampMs, sink);
  }

  /** A new, Empty group (first JoinGroup, or a simple consumer's first commit). */
  static create(options: GroupCoordinatorOptions): GroupCoordinator {
    return new GroupCoordinator(options, 'Empty', options.nowMs);
  }

  /**
   * A group replayed from its latest __consumer_offsets record (Kafka's loadGroup + onGroupLoaded):
   * Stable with its members and assignments, or Empty. Every member gets a fresh session timeout;
   * a group over group.max.size starts a rebalance. Throws GroupError INVALID_ARGUMENT when the
   * record contradicts itself (the loader then treats the group as empty).
   */
  static load(value: GroupMetadataValue, options: GroupCoordinatorOptions): { coordinator: GroupCoordinator; step: GroupStep } {
    const members = value.members;
    checkArgument(Number.isInteger(value.generationId) && value.generationId >= 0, () => `group ${options.groupId}: generation ${value.generationId} is invalid`);
    if (members.length > 0) {
      checkArgument(value.protocolName !== null && value.protocolType.length > 0, () => `group ${options.groupId}: members without a protocol`);
      for (const m of members) {
        checkArgument(
          Number.isInteger(m.sessionTimeoutMs) && m.sessionTimeoutMs >= 0 && Number.isInteger(m.rebalanceTimeoutMs) && m.rebalanceTimeoutMs >= 0,
          () => `group ${options.groupId}: member ${m.memberId} has invalid timeouts`,
        );
      }
      const ids = new Set(members.map((m) => m.memberId));
      checkArgument(ids.size === members.length && !ids.has(UNKNOWN_MEMBER_ID), () => `group ${options.groupId}: duplicate or empty member ids`);
      const instances = members.map((m) => m.groupInstanceId).filter((i): i is string => i !== null);
      checkArgument(new Set(instances).size === instances.length, () => `group ${options.groupId}: duplicate group.instance.id`);
    }
    const coordinator = new GroupCoordinator(options, members.length > 0 ? 'Stable' : 'Empty', value.currentStateTimestampMs);
    const c = coordinator;
    c.inCall = true;
    const g = c.group;
    g.generationId = value.generationId;
    g.protocolType = value.protocolType.length > 0 ? value.protocolType : null;
    g.protocolName = members.length > 0 ? value.protocolName : null;
    for (const m of members) {
      const member = new MemberMetadata({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        rebalanceTimeoutMs: m.rebalanceTimeoutMs,
        sessionTimeoutMs: m.sessionTimeoutMs,
        protocolType: value.protocolType,
        supportedProtocols: [{ name: value.protocolName!, metadata: m.subscription }],
      });
      member.assignment = m.assignment;
      g.add(member, null);
    }
    // The recorded leader, if it is a member (else add() made the first member leader).
    if (value.leaderId !== null && g.has(value.leaderId)) g.setLeader(value.leaderId);
    g.subscribedTopics = g.computeSubscribedTopics();
    for (const m of g.allMembers()) c.scheduleHeartbeat(m);
    if (g.size > c.config.groupMaxSize) c.prepareRebalance(`loaded group has ${g.size} members, over group.max.size ${c.config.groupMaxSize}`);
    return { coordinator, step: c.finish() };
  }

  // --- read-only views -----------------------------------------------------------------------

  get groupId(): string {
    return this.group.groupId;
  }

  get state(): GroupState {
    return this.group.state;
  }

  get generationId(): number {
    return this.group.generationId;
  }

  get protocolType(): string | null {
    return this.group.protocolType;
  }

  get protocolName(): string | null {
    return this.group.protocolName;
  }

  get leaderId(): string | null {
    return this.group.leaderId;
  }

  get memberCount(): number {
    return this.group.size;
  }

  get pendingMemberCount(): number {
    return this.group.numPending;
  }

  memberIds(): string[] {
    return this.group.allMembers().map((m) => m.memberId);
  }

  /** Requests (JoinGroup/SyncGroup) the group still owes an answer. */
  get pendingRequestCount(): number {
    return this.pendingRequests.size;
  }

  /** The earliest time a timer is due (call tick then), or null. */
  nextDeadlineMs(): number | null {
    return this.timers.nextDeadlineMs();
  }

  /** DescribeGroups (Kafka's GroupMetadata.summary). */
  describe(): GroupDescription {
    const g = this.group;
    const stable = g.is('Stable') && g.protocolName !== null;
    return {
      groupId: g.groupId,
      state: g.state,
      protocolType: g.protocolType ?? '',
      protocolName: stable ? g.protocolName! : '',
      members: g.allMembers().map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        metadata: stable ? m.metadata(g.protocolName!) : EMPTY_BYTES,
        assignment: stable ? m.assignment : EMPTY_BYTES,
      })),
    };
  }

  /** ListGroups (Kafka's GroupMetadata.overview). */
  overview(): GroupOverview {
    return { groupId: this.group.groupId, protocolType: this.group.protocolType ?? '', state: this.group.state };
  }

  expiryView(): GroupExpiryView {
    const g = this.group;
    return { state: g.state, protocolType: g.protocolType, currentStateTimestampMs: g.currentStateTimestampMs, subscribedTopics: g.subscribedTopics };
  }

  /** Kafka's handleDeleteOffsets rules: which offsets OffsetDelete may remove from this group. */
  offsetDeletionCheck(partitions: readonly { topic: string; partition: number }[]): OffsetDeletionCheck {
    const g = this.group;
    if (g.is('Dead')) return { groupError: 'GROUP_ID_NOT_FOUND', eligible: [], partitionErrors: [] };
    if (g.is('Empty')) return { groupError: null, eligible: [...partitions], partitionErrors: [] };
    if (!g.isConsumerGroup) return { groupError: 'NON_EMPTY_GROUP', eligible: [], partitionErrors: [] };
    const eligible = partitions.filter((tp) => !g.isSubscribedToTopic(tp.topic));
    const partitionErrors = partitions
      .filter((tp) => g.isSubscribedToTopic(tp.topic))
      .map((tp) => ({ topic: tp.topic, partition: tp.partition, error: 'GROUP_SUBSCRIBED_TO_TOPIC' as const }));
    return { groupError: null, eligible, partitionErrors };
  }

  // --- inputs ----------------------------------------------------------------------------------

  tick(nowMs: number): GroupStep {
    return this.run(nowMs, () => {});
  }

  join(req: JoinGroupRequest, nowMs: number): GroupStep {
    return this.run(nowMs, () => {
      this.checkNewRequestId(req?.requestId);
      const g = this.group;
      const memberId = typeof req.memberId === 'string' ? req.memberId : UNKNOWN_MEMBER_ID;
      const problem = this.joinRequestProblem(req);
      if (problem !== null) {
        this.respondJoin(req.requestId, joinError(memberId, problem));
      } else if (req.sessionTimeoutMs < this.config.groupMinSessionTimeoutMs || req.sessionTimeoutMs > this.config.groupMaxSessionTimeoutMs) {
        this.respondJoin(req.requestId, joinError(memberId, 'INVALID_SESSION_TIMEOUT'));
      } else if (!this.acceptJoiningMember(memberId)) {
        const removed = g.remove(memberId);
        if (removed !== undefined) this.memberGone(removed, 'over-capacity');
        this.timers.cancel(PENDING_PREFIX + memberId);
        this.respondJoin(req.requestId, joinError(UNKNOWN_MEMBER_ID, 'GROUP_MAX_SIZE_REACHED'));
      } else if (memberId === UNKNOWN_MEMBER_ID) {
        this.doNewMemberJoin(req);
      } else {
        this.doCurrentMemberJoin(req, memberId);
      }
      if (g.is('PreparingRebalance')) this.maybeCompleteJoin();
    });
  }

  sync(req: SyncGroupRequest, nowMs: number): GroupStep {
    return this.run(nowMs, () => {
      this.checkNewRequestId(req?.requestId);
      const error = this.syncRequestProblem(req) ?? this.validateSync(req);
      if (error !== null) this.respondSync(req.requestId, syncError(error));
      else this.doSync(req);
    });
  }

  heartbeat(req: HeartbeatRequest, nowMs: number): GroupReply<HeartbeatResponse> {
    return this.reply(nowMs, () => {
      const g = this.group;
      let error: KafkaErrorName | null;
      if (!this.isIdentity(req)) error = 'INVALID_REQUEST';
      else if (g.is('Dead')) error = 'COORDINATOR_NOT_AVAILABLE';
      else error = this.validateCurrentMember(req.memberId, req.groupInstanceId) ?? (req.generationId !== g.generationId ? 'ILLEGAL_GENERATION' : null);
      if (error === null) {
        switch (g.state) {
          case 'Empty':
            error = 'UNKNOWN_MEMBER_ID';
            break;
          case 'CompletingRebalance':
          case 'Stable':
            // (In CompletingRebalance the consumer heartbeats after its JoinGroup answer.)
            this.scheduleHeartbeat(g.get(req.memberId));
            break;
          case 'PreparingRebalance':
            this.scheduleHeartbeat(g.get(req.memberId));
            error = 'REBALANCE_IN_PROGRESS';
            break;
          case 'Dead':
            invariant(false, () => `group ${g.groupId}: heartbeat validated in Dead state`);
        }
      }
      return { error };
    });
  }

  leave(req: LeaveGroupRequest, nowMs: number): GroupReply<LeaveGroupResponse> {
    return this.reply(nowMs, (): LeaveGroupResponse => {
      const g = this.group;
      if (typeof req !== 'object' || req === null || !Array.isArray(req.members) || req.members.length > this.config.groupMaxSize) {
        return { error: 'INVALID_REQUEST', members: [] };
      }
      if (g.is('Dead')) return { error: 'COORDINATOR_NOT_AVAILABLE', members: [] };
      const members: LeaveGroupMemberResponse[] = [];
      for (const leaving of req.members) {
        if (typeof leaving !== 'object' || leaving === null || !this.isIdentity({ ...leaving, generationId: 0 })) {
          members.push({ memberId: String((leaving as { memberId?: unknown } | null)?.memberId ?? ''), groupInstanceId: null, error: 'INVALID_REQUEST' });
          continue;
        }
        const { memberId, groupInstanceId } = leaving;
        let error: KafkaErrorName | null;
        if (memberId === UNKNOWN_MEMBER_ID) {
          // An administrator removes a static member by its instance id.
          const current = groupInstanceId === null ? undefined : g.currentStaticMemberId(groupInstanceId);
          if (current !== undefined) {
            this.removeMemberAndUpdateGroup(g.get(current), 'leave-group');
            error = null;
          } else {
            error = 'UNKNOWN_MEMBER_ID';
          }
        } else if (g.isPendingMember(memberId)) {
          this.removePendingMemberAndUpdateGroup(memberId, 'leave-group');
          error = null;
        } else {
          error = this.validateCurrentMember(memberId, groupInstanceId);
          if (error === null) this.removeMemberAndUpdateGroup(g.get(memberId), 'leave-group');
        }
        members.push({ memberId, groupInstanceId, error });
      }
      return { error: null, members };
    });
  }

  /**
   * Whether an OffsetCommit may proceed (Kafka's validateOffsetCommit + doCommitOffsets): members
   * commit with their member id and current generation (a zombie gets ILLEGAL_GENERATION or
   * UNKNOWN_MEMBER_ID); generation −1 commits (simple consumers, admin tools) only while the group
   * is Empty; during CompletingRebalance REBALANCE_IN_PROGRESS. A member's commit counts as a
   * heartbeat.
   */
  validateOffsetCommit(identity: OffsetCommitIdentity, nowMs: number): GroupReply<OffsetCommitCheck> {
    return this.reply(nowMs, () => {
      const g = this.group;
      let error: KafkaErrorName | null;
      if (!this.isIdentity(identity)) {
        error = 'INVALID_REQUEST';
      } else if (g.is('Dead')) {
        error = 'COORDINATOR_NOT_AVAILABLE';
      } else if (identity.generationId < 0 && g.is('Empty')) {
        error = null;
      } else if (identity.generationId >= 0 || identity.memberId !== UNKNOWN_MEMBER_ID || identity.groupInstanceId !== null) {
        error =
          this.validateCurrentMember(identity.memberId, identity.groupInstanceId) ??
          (identity.generationId !== g.generationId ? 'ILLEGAL_GENERATION' : null);
      } else {
        error = g.is('Empty') ? null : 'UNKNOWN_MEMBER_ID';
      }
      if (error === null) {
        if (g.is('CompletingRebalance')) error = 'REBALANCE_IN_PROGRESS';
        else if (g.is('Stable') || g.is('PreparingRebalance')) this.scheduleHeartbeat(g.get(identity.memberId));
      }
      return { error };
    });
  }

  /** The outcome of a 'store-group' write: null on success, else the append's error. */
  onGroupStored(storeId: number, appendError: KafkaErrorName | null, nowMs: number): GroupStep {
    return this.run(nowMs, () => {
      const pending = this.pendingStores.get(storeId);
      checkArgument(pending !== undefined, () => `group ${this.group.groupId}: no pending store ${storeId}`);
      this.pendingStores.delete(storeId);
      this.completeStore(pending, appendError === null ? null : groupStoreError(appendError));
    });
  }

  /**
   * DeleteGroups (Kafka's rules): only an Empty group can be deleted; it becomes Dead and its
   * tombstone is written. The caller removes its offsets (OffsetStore.deleteGroup) and drops it.
   */
  delete(nowMs: number): GroupReply<{ error: KafkaErrorName | null }> {
    return this.reply(nowMs, () => {
      const g = this.group;
      if (g.is('Dead')) return { error: 'GROUP_ID_NOT_FOUND' as const };
      if (!g.is('Empty')) return { error: 'NON_EMPTY_GROUP' as const };
      this.transition('Dead', 'deleted');
      this.effects.push({ type: 'delete-group', groupId: g.groupId, record: { key: encodeGroupMetadataKey(g.groupId), value: null } });
      return { error: null };
    });
  }

  /**
   * This broker no longer coordinates the group (its __consumer_offsets partition moved; Kafka's
   * onGroupUnloaded): the group becomes Dead and every request it owes is answered NOT_COORDINATOR,
   * so clients look for the new coordinator.
   */
  unload(nowMs: number): GroupStep {
    const step = this.run(nowMs, () => {
      const g = this.group;
      if (!g.is('Dead')) this.transition('Dead', 'unloaded');
      for (const m of g.allMembers()) {
        g.completeJoin(m, joinError(m.memberId, 'NOT_COORDINATOR'));
        g.completeSync(m, syncError('NOT_COORDINATOR'));
      }
      g.clearPendingSyncMembers();
      for (const key of [JOIN_TIMER, SYNC_TIMER]) this.timers.cancel(key);
      for (const m of g.allMembers()) this.timers.cancel(HEARTBEAT_PREFIX + m.memberId);
      this.joinTimer = null;
      this.syncTimerGeneration = null;
    });
    invariant(this.pendingRequests.size === 0, () => `group ${this.group.groupId}: ${this.pendingRequests.size} requests left pending after unload`);
    return step;
  }

  // --- JoinGroup -------------------------------------------------------------------------------

  /** Kafka's acceptJoiningMember (group.max.size). */
  private acceptJoiningMember(memberId: string): boolean {
    const g = this.group;
    switch (g.state) {
      case 'Empty':
      case 'Dead':
        return true;
      case 'PreparingRebalance':
        // Counting members that rejoined lets the last rejoiners of an oversized group be shed.
        return (g.has(memberId) && g.get(memberId).isAwaitingJoin) || g.numAwaitingJoin < this.config.groupMaxSize;
      case 'CompletingRebalance':
      case 'Stable':
        return g.has(memberId) || g.size < this.config.groupMaxSize;
    }
  }

  private doNewMemberJoin(req: JoinGroupRequest): void {
    const g = this.group;
    if (g.is('Dead')) {
      this.respondJoin(req.requestId, joinError(UNKNOWN_MEMBER_ID, 'COORDINATOR_NOT_AVAILABLE'));
    } else if (!g.supportsProtocols(req.protocolType, new Set(req.protocols.map((p) => p.name)))) {
      this.respondJoin(req.requestId, joinError(UNKNOWN_MEMBER_ID, 'INCONSISTENT_GROUP_PROTOCOL'));
    } else {
      const newMemberId = this.generateMemberId(req.groupInstanceId ?? req.clientId);
      if (req.groupInstanceId !== null) {
        const oldMemberId = g.currentStaticMemberId(req.groupInstanceId);
        if (oldMemberId !== undefined) this.updateStaticMemberAndRebalance(req, req.groupInstanceId, oldMemberId, newMemberId);
        else this.addMemberAndRebalance(req, newMemberId);
      } else if (req.requireKnownMemberId ?? true) {
        // Tell the member its id first (JoinGroup v4+): it rejoins with it, so a member whose
        // JoinGroup response is lost does not leave a ghost member behind.
        if (g.numPending >= this.config.groupMaxSize) {
          this.respondJoin(req.requestId, joinError(UNKNOWN_MEMBER_ID, 'GROUP_MAX_SIZE_REACHED'));
          return;
        }
        g.addPendingMember(newMemberId);
        this.timers.schedule(PENDING_PREFIX + newMemberId, this.now + req.sessionTimeoutMs);
        this.respondJoin(req.requestId, joinError(newMemberId, 'MEMBER_ID_REQUIRED'));
      } else {
        this.addMemberAndRebalance(req, newMemberId);
      }
    }
  }

  private doCurrentMemberJoin(req: JoinGroupRequest, memberId: string): void {
    const g = this.group;
    if (g.is('Dead')) {
      this.respondJoin(req.requestId, joinError(memberId, 'COORDINATOR_NOT_AVAILABLE'));
      return;
    }
    if (!g.supportsProtocols(req.protocolType, new Set(req.protocols.map((p) => p.name)))) {
      this.respondJoin(req.requestId, joinError(memberId, 'INCONSISTENT_GROUP_PROTOCOL'));
      return;
    }
    if (g.isPendingMember(memberId)) {
      // A pending member is always dynamic (Kafka throws; a client sending an instance id with
      // the dynamic id it was given is told to start over).
      if (req.groupInstanceId !== null) this.respondJoin(req.requestId, joinError(memberId, 'UNKNOWN_MEMBER_ID'));
      else this.addMemberAndRebalance(req, memberId);
      return;
    }
    const error = this.validateCurrentMember(memberId, req.groupInstanceId);
    if (error !== null) {
      this.respondJoin(req.requestId, joinError(memberId, error));
      return;
    }
    const member = g.get(memberId);
    switch (g.state) {
      case 'PreparingRebalance':
        this.updateMemberAndRebalance(member, req, `member ${memberId} joining during PreparingRebalance`);
        break;
      case 'CompletingRebalance':
        if (member.matches(req.protocols)) {
          // It lost its JoinGroup response: give it the current generation again.
          this.respondJoin(req.requestId, this.joinSuccess(memberId, g.isLeader(memberId), g.leaderId ?? ''));
        } else {
          this.updateMemberAndRebalance(member, req, `member ${memberId} changed its metadata during CompletingRebalance`);
        }
        break;
      case 'Stable':
        if (g.isLeader(memberId)) {
          // The leader rejoins to rebalance for changes only it sees (topic metadata).
          this.updateMemberAndRebalance(member, req, `leader ${memberId} rejoined`);
        } else if (!member.matches(req.protocols)) {
          this.updateMemberAndRebalance(member, req, `member ${memberId} changed its metadata`);
        } else {
          this.respondJoin(req.requestId, this.joinSuccess(memberId, false, g.leaderId ?? ''));
        }
        break;
      case 'Empty':
      case 'Dead':
        this.respondJoin(req.requestId, joinError(memberId, 'UNKNOWN_MEMBER_ID'));
        break;
    }
  }

  private addMemberAndRebalance(req: JoinGroupRequest, memberId: string): void {
    const g = this.group;
    const member = new MemberMetadata({
      memberId,
      groupInstanceId: req.groupInstanceId,
      clientId: req.clientId,
      clientHost: req.clientHost,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs,
      sessionTimeoutMs: req.sessionTimeoutMs,
      protocolType: req.protocolType,
      supportedProtocols: req.protocols,
    });
    member.isNew = true;
    // During the first rebalance a new member may extend the initial delay.
    if (g.is('PreparingRebalance') && g.generationId === 0) g.newMemberAdded = true;
    g.add(member, req.requestId);
    this.pendingRequests.add(req.requestId);
    this.timers.cancel(PENDING_PREFIX + memberId);
    // A new member's JoinGroup can wait long (the whole rebalance); it is bounded by the new-member
    // join timeout, not the session timeout (it cannot heartbeat without its first answer).
    this.timers.schedule(HEARTBEAT_PREFIX + memberId, this.now + this.config.newMemberJoinTimeoutMs);
    this.maybePrepareRebalance(`adding member ${memberId}${req.groupInstanceId === null ? '' : ` (group.instance.id ${req.groupInstanceId})`}`);
  }

  private updateMemberAndRebalance(member: MemberMetadata, req: JoinGroupRequest, reason: string): void {
    const g = this.group;
    // A repeated JoinGroup replaces the earlier one, which is answered so it does not leak.
    g.completeJoin(member, joinError(member.memberId, 'REBALANCE_IN_PROGRESS'));
    g.updateMember(member, req.protocols, req.rebalanceTimeoutMs, req.sessionTimeoutMs, req.requestId);
    this.pendingRequests.add(req.requestId);
    this.maybePrepareRebalance(reason);
  }

  /**
   * A known static member rejoins with no member id (a restart): it takes over its old place under
   * a new id and the old incarnation is fenced. In a Stable group whose chosen protocol stays and
   * whose subscribed topics did not change, there is no rebalance: the new id is persisted and the
   * member gets the current generation (and keeps its assignment). Kafka checks only the protocol;
   * samsa also rebalances when a consumer's subscribed topics changed, so its new topics get
   * assigned.
   */
  private updateStaticMemberAndRebalance(req: JoinGroupRequest, groupInstanceId: string, oldMemberId: string, newMemberId: string): void {
    const g = this.group;
    const previousLeaderId = g.leaderId;
    const member = g.replaceStaticMember(groupInstanceId, oldMemberId, newMemberId);
    this.timers.cancel(HEARTBEAT_PREFIX + oldMemberId);
    this.effects.push({ type: 'member-removed', groupId: g.groupId, memberId: oldMemberId, groupInstanceId, reason: 'replaced' });
    this.scheduleHeartbeat(member);
    const oldProtocols = member.supportedProtocols;
    const oldRebalanceTimeoutMs = member.rebalanceTimeoutMs;
    const oldSessionTimeoutMs = member.sessionTimeoutMs;
    g.updateMember(member, req.protocols, req.rebalanceTimeoutMs, req.sessionTimeoutMs, req.requestId);
    this.pendingRequests.add(req.requestId);
    switch (g.state) {
      case 'Stable': {
        const selected = g.selectProtocol();
        if (g.protocolName === selected && this.sameSubscribedTopics(oldProtocols, req.protocols, selected)) {
          const assignment = new Map(g.allMembers().map((m) => [m.memberId, m.assignment] as const));
          this.storeGroup(
            {
              kind: 'static-rejoin',
              generationId: g.generationId,
              requestId: req.requestId,
              groupInstanceId,
              oldMemberId,
              newMemberId,
              oldProtocols,
              oldRebalanceTimeoutMs,
              oldSessionTimeoutMs,
              previousLeaderId,
              supportsSkippingAssignment: true,
            },
            assignment,
          );
        } else {
          this.maybePrepareRebalance(`static member ${groupInstanceId} rejoined with a different protocol or subscription`);
        }
        break;
      }
      case 'CompletingRebalance':
        // The leader may already be assigning to the old id: start over.
        this.prepareRebalance(`static member ${groupInstanceId} rejoined during CompletingRebalance`);
        break;
      case 'PreparingRebalance':
        break;
      case 'Empty':
      case 'Dead':
        invariant(false, () => `group ${g.groupId}: static member ${groupInstanceId} known in state ${g.state}`);
    }
  }

  /** For consumer groups: do the old and new subscriptions name the same topics? (Other protocol types: yes, as Kafka.) */
  private sameSubscribedTopics(oldProtocols: readonly ProtocolMetadata[], newProtocols: readonly ProtocolMetadata[], protocol: string): boolean {
    if (this.group.protocolType !== CONSUMER_PROTOCOL_TYPE) return true;
    const before = oldProtocols.find((p) => p.name === protocol);
    const after = newProtocols.find((p) => p.name === protocol);
    if (before === undefined || after === undefined) return false;
    try {
      const a = new Set(decodeSubscribedTopics(before.metadata));
      const b = new Set(decodeSubscribedTopics(after.metadata));
      return a.size === b.size && [...a].every((t) => b.has(t));
    } catch {
      return false;
    }
  }

  private joinSuccess(memberId: string, withMembers: boolean, leaderId: string, skipAssignment = false): JoinGroupResponse {
    const g = this.group;
    return {
      error: null,
      generationId: g.generationId,
      protocolType: g.protocolType,
      protocolName: g.protocolName,
      leaderId,
      memberId,
      skipAssignment,
      members: withMembers ? g.currentMemberMetadata() : [],
    };
  }

  // --- rebalance -------------------------------------------------------------------------------

  private maybePrepareRebalance(reason: string): void {
    if (this.group.canRebalance) this.prepareRebalance(reason);
  }

  private prepareRebalance(reason: string): void {
    const g = this.group;
    // Members waiting for their assignment must rejoin instead.
    if (g.is('CompletingRebalance')) this.resetAndPropagateAssignmentError('REBALANCE_IN_PROGRESS');
    this.removeSyncExpiration();
    const wasEmpty = g.is('Empty');
    this.transition('PreparingRebalance', reason);
    if (wasEmpty) {
      // The first rebalance of an empty group waits group.initial.rebalance.delay.ms for more members.
      const delayMs = this.config.groupInitialRebalanceDelayMs;
      this.joinTimer = { kind: 'initial', delayMs, remainingMs: Math.max(g.rebalanceTimeoutMs - delayMs, 0) };
      this.timers.schedule(JOIN_TIMER, this.now + delayMs);
    } else {
      this.joinTimer = { kind: 'regular' };
      this.timers.schedule(JOIN_TIMER, this.now + g.rebalanceTimeoutMs);
    }
    this.maybeCompleteJoin();
  }

  /** Kafka's tryCompleteJoin: a regular join completes as soon as every member rejoined. */
  private maybeCompleteJoin(): void {
    if (this.group.is('PreparingRebalance') && this.joinTimer?.kind === 'regular' && this.group.hasAllMembersJoined) {
      this.timers.cancel(JOIN_TIMER);
      this.joinTimer = null;
      this.onCompleteJoin();
    }
  }

  private onJoinDeadline(): void {
    const timer = this.joinTimer;
    this.joinTimer = null;
    const g = this.group;
    if (timer === null || !g.is('PreparingRebalance')) return;
    if (timer.kind === 'initial' && g.newMemberAdded && timer.remainingMs !== 0) {
      // Members are still arriving: wait again, at most the rebalance timeout in all.
      g.newMemberAdded = false;
      const delayMs = Math.min(this.config.groupInitialRebalanceDelayMs, timer.remainingMs);
      this.joinTimer = { kind: 'initial', delayMs, remainingMs: Math.max(timer.remainingMs - timer.delayMs, 0) };
      this.timers.schedule(JOIN_TIMER, this.now + delayMs);
      return;
    }
    this.onCompleteJoin();
  }

  /** Kafka's onCompleteJoin: drop dynamic members that did not rejoin, start the next generation, answer every JoinGroup. */
  private onCompleteJoin(): void {
    const g = this.group;
    for (const m of g.notYetRejoinedMembers()) {
      if (m.isStatic) continue; // static members stay until their session times out
      g.completeSync(m, syncError('UNKNOWN_MEMBER_ID'));
      g.remove(m.memberId);
      this.memberGone(m, 'rebalance-timeout');
    }
    if (g.is('Dead')) return;
    if (!g.maybeElectNewJoinedLeader() && g.size > 0) {
      // Only static members that did not rejoin are left: wait for them (or their session timeouts).
      this.joinTimer = { kind: 'regular' };
      this.timers.schedule(JOIN_TIMER, this.now + g.rebalanceTimeoutMs);
      return;
    }
    const from = g.state;
    g.initNextGeneration(this.now);
    this.effects.push({ type: 'state-changed', groupId: g.groupId, from, to: g.state, generationId: g.generationId, reason: 'join complete' });
    if (g.is('Empty')) {
      this.storeGroup({ kind: 'empty' }, new Map());
      return;
    }
    const leaderId = g.leaderId ?? '';
    for (const m of g.allMembers()) {
      g.completeJoin(m, this.joinSuccess(m.memberId, g.isLeader(m.memberId), leaderId));
      this.scheduleHeartbeat(m);
      m.isNew = false;
      g.addPendingSyncMember(m.memberId);
    }
    this.syncTimerGeneration = g.generationId;
    this.timers.schedule(SYNC_TIMER, this.now + g.rebalanceTimeoutMs);
  }

  // --- SyncGroup -------------------------------------------------------------------------------

  private doSync(req: SyncGroupRequest): void {
    const g = this.group;
    switch (g.state) {
      case 'Empty':
        this.respondSync(req.requestId, syncError('UNKNOWN_MEMBER_ID'));
        break;
      case 'PreparingRebalance':
        this.respondSync(req.requestId, syncError('REBALANCE_IN_PROGRESS'));
        break;
      case 'CompletingRebalance': {
        const member = g.get(req.memberId);
        // A repeated SyncGroup replaces the earlier one, which is answered so it does not leak.
        g.completeSync(member, syncError('REBALANCE_IN_PROGRESS'));
        member.awaitingSync = req.requestId;
        this.pendingRequests.add(req.requestId);
        this.removePendingSyncMember(member.memberId);
        if (g.isLeader(member.memberId)) {
          const given = new Map<string, Uint8Array>();
          for (const a of req.assignments) given.set(a.memberId, a.assignment);
          // Members the leader left out get an empty assignment (Kafka's rule).
          const assignment = new Map<string, Uint8Array>();
          for (const m of g.allMembers()) assignment.set(m.memberId, given.get(m.memberId) ?? EMPTY_BYTES);
          this.storeGroup({ kind: 'sync', generationId: g.generationId, assignment }, assignment);
        }
        break;
      }
      case 'Stable': {
        const member = g.get(req.memberId);
        this.removePendingSyncMember(member.memberId);
        this.respondSync(req.requestId, { error: null, protocolType: g.protocolType, protocolName: g.protocolName, assignment: member.assignment });
        this.scheduleHeartbeat(member);
        break;
      }
      case 'Dead':
        invariant(false, () => `group ${g.groupId}: sync validated in Dead state`);
    }
  }

  private validateSync(req: SyncGroupRequest): KafkaErrorName | null {
    const g = this.group;
    if (g.is('Dead')) return 'COORDINATOR_NOT_AVAILABLE';
    const memberError = this.validateCurrentMember(req.memberId, req.groupInstanceId);
    if (memberError !== null) return memberError;
    if (req.generationId !== g.generationId) return 'ILLEGAL_GENERATION';
    if (req.protocolType !== null && req.protocolType !== g.protocolType) return 'INCONSISTENT_GROUP_PROTOCOL';
    if (req.protocolName !== null && req.protocolName !== g.protocolName) return 'INCONSISTENT_GROUP_PROTOCOL';
    return null;
  }

  private resetAndPropagateAssignmentError(error: KafkaErrorName): void {
    invariant(this.group.is('CompletingRebalance'), () => `group ${this.group.groupId}: assignment reset in ${this.group.state}`);
    for (const m of this.group.allMembers()) m.assignment = EMPTY_BYTES;
    this.propagateAssignment(error);
  }

  private setAndPropagateAssignment(assignment: ReadonlyMap<string, Uint8Array>): void {
    invariant(this.group.is('CompletingRebalance'), () => `group ${this.group.groupId}: assignment set in ${this.group.state}`);
    for (const m of this.group.allMembers()) m.assignment = assignment.get(m.memberId) ?? EMPTY_BYTES;
    this.propagateAssignment(null);
  }

  private propagateAssignment(error: KafkaErrorName | null): void {
    const g = this.group;
    for (const m of g.allMembers()) {
      const answered = g.completeSync(m, {
        error,
        protocolType: error === null ? g.protocolType : null,
        protocolName: error === null ? g.protocolName : null,
        assignment: m.assignment,
      });
      // A member's session may have "expired" while it waited on the group: start it afresh.
      if (answered) this.scheduleHeartbeat(m);
    }
  }

  private removePendingSyncMember(memberId: string): void {
    this.group.removePendingSyncMember(memberId);
    this.maybeCompleteSyncDeadline();
  }

  private removeSyncExpiration(): void {
    this.group.clearPendingSyncMembers();
    this.maybeCompleteSyncDeadline();
  }

  /** Kafka's tryCompletePendingSync: the sync deadline is moot once everyone synced or the generation moved on. */
  private maybeCompleteSyncDeadline(): void {
    const g = this.group;
    if (this.syncTimerGeneration === null) return;
    const inGeneration = this.syncTimerGeneration === g.generationId && (g.is('CompletingRebalance') || g.is('Stable'));
    if (!inGeneration || g.hasReceivedSyncFromAllMembers) {
      this.timers.cancel(SYNC_TIMER);
      this.syncTimerGeneration = null;
    }
  }

  /** Kafka's onExpirePendingSync: members that never sent SyncGroup are removed and the group rebalances. */
  private onSyncDeadline(): void {
    const generation = this.syncTimerGeneration;
    this.syncTimerGeneration = null;
    const g = this.group;
    if (generation !== g.generationId || !(g.is('CompletingRebalance') || g.is('Stable')) || g.hasReceivedSyncFromAllMembers) return;
    const laggards = g.allPendingSyncMembers();
    for (const id of laggards) {
      const m = g.get(id);
      g.completeJoin(m, joinError(UNKNOWN_MEMBER_ID, 'UNKNOWN_MEMBER_ID'));
      g.remove(id);
      this.memberGone(m, 'sync-timeout');
    }
    this.prepareRebalance(`members ${laggards.join(', ')} did not send SyncGroup in time`);
  }

  // --- storing group metadata ------------------------------------------------------------------

  private groupMetadataValue(assignment: ReadonlyMap<string, Uint8Array>): GroupMetadataValue {
    const g = this.group;
    const protocol = g.protocolName;
    return {
      protocolType: g.protocolType ?? '',
      generationId: g.generationId,
      protocolName: protocol,
      leaderId: g.leaderId,
      currentStateTimestampMs: g.currentStateTimestampMs,
      members: g.allMembers().map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        rebalanceTimeoutMs: m.rebalanceTimeoutMs,
        sessionTimeoutMs: m.sessionTimeoutMs,
        subscription: protocol === null ? EMPTY_BYTES : m.metadata(protocol),
        assignment: assignment.get(m.memberId) ?? EMPTY_BYTES,
      })),
    };
  }

  private storeGroup(pending: PendingStore, assignment: ReadonlyMap<string, Uint8Array>): void {
    const value = this.groupMetadataValue(assignment);
    const key = encodeGroupMetadataKey(this.group.groupId);
    const encoded = encodeGroupMetadataValue(value);
    if (key.length + encoded.length > this.config.groupRecordMaxBytes) {
      this.completeStore(pending, groupStoreError('RECORD_LIST_TOO_LARGE'));
      return;
    }
    if (this.pendingStores.size >= MAX_PENDING_STORES) {
      this.completeStore(pending, groupStoreError('REQUEST_TIMED_OUT'));
      return;
    }
    const storeId = this.nextStoreId++;
    this.pendingStores.set(storeId, pending);
    this.effects.push({ type: 'store-group', storeId, groupId: this.group.groupId, value, record: { key, value: encoded } });
  }

  private completeStore(pending: PendingStore, error: KafkaErrorName | null): void {
    const g = this.group;
    switch (pending.kind) {
      case 'empty':
        // Nothing waits on it: if it failed, an older record may come back after a failover, and
        // its members will simply time out (Kafka's reasoning).
        return;
      case 'sync':
        // Only if nothing happened to the group meanwhile.
        if (!g.is('CompletingRebalance') || g.generationId !== pending.generationId) return;
        if (error !== null) {
          this.resetAndPropagateAssignmentError(error);
          this.maybePrepareRebalance(`storing the assignment failed with ${error}`);
        } else {
          this.setAndPropagateAssignment(pending.assignment);
          this.transition('Stable', 'assignment stored');
        }
        return;
      case 'static-rejoin':
        this.completeStaticRejoinStore(pending, error);
        return;
    }
  }

  private completeStaticRejoinStore(pending: Extract<PendingStore, { kind: 'static-rejoin' }>, error: KafkaErrorName | null): void {
    const g = this.group;
    const unchanged =
      g.is('Stable') && g.generationId === pending.generationId && g.currentStaticMemberId(pending.groupInstanceId) === pending.newMemberId;
    // If the group moved on (a rebalance started), the member's JoinGroup is part of it now.
    if (!unchanged) return;
    const member = g.get(pending.newMemberId);
    if (error === null) {
      const isLeader = g.isLeader(pending.newMemberId);
      if (member.awaitingJoin === pending.requestId) {
        const response = pending.supportsSkippingAssignment
          ? this.joinSuccess(pending.newMemberId, isLeader, g.leaderId ?? '', isLeader)
          : this.joinSuccess(pending.newMemberId, false, pending.previousLeaderId ?? '');
        g.completeJoin(member, response);
      }
      return;
    }
    // The new id could not be persisted: put the old incarnation back and refuse the rejoin.
    const owed = member.awaitingJoin;
    g.updateMember(member, pending.oldProtocols, pending.oldRebalanceTimeoutMs, pending.oldSessionTimeoutMs, null);
    const restored = g.replaceStaticMember(pending.groupInstanceId, pending.newMemberId, pending.oldMemberId);
    this.timers.cancel(HEARTBEAT_PREFIX + pending.newMemberId);
    this.scheduleHeartbeat(restored);
    if (owed !== null) {
      this.respondJoin(owed, {
        error,
        generationId: g.generationId,
        protocolType: g.protocolType,
        protocolName: g.protocolName,
        leaderId: pending.previousLeaderId ?? '',
        memberId: UNKNOWN_MEMBER_ID,
        skipAssignment: false,
        members: [],
      });
    }
  }

  // --- members leaving -------------------------------------------------------------------------

  /** Kafka's removeMemberAndUpdateGroup. */
  private removeMemberAndUpdateGroup(member: MemberMetadata, reason: MemberRemovalReason): void {
    const g = this.group;
    g.completeJoin(member, joinError(UNKNOWN_MEMBER_ID, 'UNKNOWN_MEMBER_ID'));
    // (Kafka leaves an owed SyncGroup unanswered here; samsa answers every request it holds.)
    g.completeSync(member, syncError('UNKNOWN_MEMBER_ID'));
    g.remove(member.memberId);
    this.memberGone(member, reason);
    switch (g.state) {
      case 'Dead':
      case 'Empty':
        break;
      case 'Stable':
      case 'CompletingRebalance':
        this.maybePrepareRebalance(`member ${member.memberId} removed (${reason})`);
        break;
      case 'PreparingRebalance':
        this.maybeCompleteJoin();
        break;
    }
  }

  private removePendingMemberAndUpdateGroup(memberId: string, reason: MemberRemovalReason): void {
    const g = this.group;
    g.remove(memberId);
    this.timers.cancel(PENDING_PREFIX + memberId);
    this.effects.push({ type: 'member-removed', groupId: g.groupId, memberId, groupInstanceId: null, reason });
    if (g.is('PreparingRebalance')) this.maybeCompleteJoin();
  }

  private memberGone(member: MemberMetadata, reason: MemberRemovalReason): void {
    this.timers.cancel(HEARTBEAT_PREFIX + member.memberId);
    this.effects.push({ type: 'member-removed', groupId: this.group.groupId, memberId: member.memberId, groupInstanceId: member.groupInstanceId, reason });
  }

  private onHeartbeatDeadline(memberId: string): void {
    const g = this.group;
    if (g.is('Dead') || !g.has(memberId)) return;
    const member = g.get(memberId);
    if (member.heartbeatSatisfiedWhileWaiting) return;
    this.removeMemberAndUpdateGroup(member, member.isNew ? 'new-member-join-timeout' : 'session-timeout');
  }

  private onPendingMemberDeadline(memberId: string): void {
    if (this.group.is('Dead') || !this.group.isPendingMember(memberId)) return;
    this.removePendingMemberAndUpdateGroup(memberId, 'pending-timeout');
  }

  // --- helpers ---------------------------------------------------------------------------------

  /** Kafka's validateCurrentMember: the instance id (if any) maps to this member id, and the member exists. */
  private validateCurrentMember(memberId: string, groupInstanceId: string | null): KafkaErrorName | null {
    const g = this.group;
    if (groupInstanceId !== null) {
      const current = g.currentStaticMemberId(groupInstanceId);
      if (current === undefined) return 'UNKNOWN_MEMBER_ID';
      if (current !== memberId) return 'FENCED_INSTANCE_ID';
    }
    return g.has(memberId) ? null : 'UNKNOWN_MEMBER_ID';
  }

  private scheduleHeartbeat(member: MemberMetadata): void {
    this.timers.schedule(HEARTBEAT_PREFIX + member.memberId, this.now + member.sessionTimeoutMs);
  }

  private transition(to: GroupState, reason: string): void {
    const from = this.group.state;
    this.group.transitionTo(to, this.now);
    this.effects.push({ type: 'state-changed', groupId: this.group.groupId, from, to, generationId: this.group.generationId, reason });
  }

  private generateMemberId(prefix: string): string {
    for (let attempt = 0; attempt < 8; attempt++) {
      const id = `${prefix}-${this.newMemberIdSuffix()}`;
      if (!this.group.has(id) && !this.group.isPendingMember(id)) return id;
    }
    throw new GroupError('INVARIANT_VIOLATION', `group ${this.group.groupId}: newMemberIdSuffix keeps repeating itself`);
  }

  private respondJoin(requestId: number, response: JoinGroupResponse): void {
    this.deliver({ kind: 'join', requestId, response });
  }

  private respondSync(requestId: number, response: SyncGroupResponse): void {
    this.deliver({ kind: 'sync', requestId, response });
  }

  private deliver(response: GroupResponse): void {
    this.pendingRequests.delete(response.requestId);
    this.responses.push(response);
  }

  private checkNewRequestId(requestId: unknown): void {
    const ok = typeof requestId === 'number' && Number.isSafeInteger(requestId) && !this.pendingRequests.has(requestId);
    if (!ok) throw new GroupError('INVALID_ARGUMENT', `group ${this.group.groupId}: requestId ${String(requestId)} is not an integer or is still pending`);
  }

  private isIdentity(v: unknown): v is { memberId: string; groupInstanceId: string | null; generationId: number } {
    if (typeof v !== 'object' || v === null) return false;
    const r = v as { memberId?: unknown; groupInstanceId?: unknown; generationId?: unknown };
    const maxId = this.config.clientIdMaxLength + 64;
    return isString(r.memberId, maxId) && isNullableString(r.groupInstanceId, this.config.clientIdMaxLength) && Number.isInteger(r.generationId);
  }

  /** Shape and limits of a JoinGroup; INVALID_REQUEST names a request no well-behaved client sends. */
  private joinRequestProblem(req: JoinGroupRequest): KafkaErrorName | null {
    const c = this.config;
    if (typeof req !== 'object' || req === null) return 'INVALID_REQUEST';
    if (!isString(req.memberId, c.clientIdMaxLength + 64)) return 'INVALID_REQUEST';
    if (!isNullableString(req.groupInstanceId, c.clientIdMaxLength) || req.groupInstanceId === '') return 'INVALID_REQUEST';
    if (!isString(req.clientId, c.clientIdMaxLength) || !isString(req.clientHost, c.clientIdMaxLength)) return 'INVALID_REQUEST';
    if (!Number.isInteger(req.sessionTimeoutMs)) return 'INVALID_SESSION_TIMEOUT';
    if (!Number.isInteger(req.rebalanceTimeoutMs) || req.rebalanceTimeoutMs < 0 || req.rebalanceTimeoutMs > INT32_MAX) return 'INVALID_REQUEST';
    if (!isString(req.protocolType, c.protocolNameMaxLength)) return 'INVALID_REQUEST';
    if (!Array.isArray(req.protocols) || req.protocols.length > c.maxProtocolsPerMember) return 'INVALID_REQUEST';
    const names = new Set<string>();
    let metadataBytes = 0;
    for (const p of req.protocols as unknown[]) {
      if (typeof p !== 'object' || p === null) return 'INVALID_REQUEST';
      const { name, metadata } = p as { name?: unknown; metadata?: unknown };
      if (!isString(name, c.protocolNameMaxLength) || !(metadata instanceof Uint8Array) || names.has(name)) return 'INVALID_REQUEST';
      names.add(name);
      metadataBytes += metadata.length;
    }
    if (metadataBytes > c.memberMetadataMaxBytes) return 'INVALID_REQUEST';
    if (req.reason !== undefined && !isNullableString(req.reason, c.clientIdMaxLength)) return 'INVALID_REQUEST';
    return null;
  }

  private syncRequestProblem(req: SyncGroupRequest): KafkaErrorName | null {
    const c = this.config;
    if (!this.isIdentity(req)) return 'INVALID_REQUEST';
    if (!isNullableString(req.protocolType, c.protocolNameMaxLength) || !isNullableString(req.protocolName, c.protocolNameMaxLength)) return 'INVALID_REQUEST';
    if (!Array.isArray(req.assignments) || req.assignments.length > c.groupMaxSize * 2) return 'INVALID_REQUEST';
    for (const a of req.assignments as unknown[]) {
      if (typeof a !== 'object' || a === null) return 'INVALID_REQUEST';
      const { memberId, assignment } = a as { memberId?: unknown; assignment?: unknown };
      if (!isString(memberId, c.clientIdMaxLength + 64) || !(assignment instanceof Uint8Array) || assignment.length > c.memberAssignmentMaxBytes) {
        return 'INVALID_REQUEST';
      }
    }
    return null;
  }

  // --- call framing ----------------------------------------------------------------------------

  /**
   * One call: move time forward (firing the timers due by nowMs), do `body`, fire what became due,
   * hand out the step. If anything throws, the partial output is dropped and the error propagates.
   */
  private run(nowMs: number, body: () => void): GroupStep {
    invariant(!this.inCall, () => `group ${this.group.groupId}: re-entrant call`);
    checkTime('nowMs', nowMs);
    checkArgument(nowMs >= this.now, () => `group ${this.group.groupId}: time went backwards (${nowMs} < ${this.now})`);
    this.inCall = true;
    try {
      // Timers due by nowMs fire first, each at its own deadline.
      this.fireDueTimers(nowMs);
      this.now = nowMs;
      body();
      return this.finish();
    } catch (e) {
      this.responses = [];
      this.effects = [];
      this.inCall = false;
      throw e;
    }
  }

  private reply<R>(nowMs: number, body: () => R): GroupReply<R> {
    let response: R | undefined;
    const step = this.run(nowMs, () => {
      response = body();
    });
    return { ...step, response: response as R };
  }

  private fireDueTimers(nowMs: number): void {
    for (let fired = 0; ; fired++) {
      invariant(fired < MAX_FIRINGS_PER_CALL, () => `group ${this.group.groupId}: timers keep firing`);
      const due = this.timers.popDue(nowMs);
      if (due === null) return;
      this.now = Math.max(this.now, due.deadlineMs);
      if (due.key === JOIN_TIMER) this.onJoinDeadline();
      else if (due.key === SYNC_TIMER) this.onSyncDeadline();
      else if (due.key.startsWith(HEARTBEAT_PREFIX)) this.onHeartbeatDeadline(due.key.slice(HEARTBEAT_PREFIX.length));
      else if (due.key.startsWith(PENDING_PREFIX)) this.onPendingMemberDeadline(due.key.slice(PENDING_PREFIX.length));
      else invariant(false, () => `unknown timer ${due.key}`);
    }
  }

  /** Ends a call: fires what became due at once (e.g. a zero rebalance timeout) and hands out the step. */
  private finish(): GroupStep {
    this.fireDueTimers(this.now);
    const step = { responses: this.responses, effects: this.effects };
    this.responses = [];
    this.effects = [];
    this.inCall = false;
    return step;
  }
}
