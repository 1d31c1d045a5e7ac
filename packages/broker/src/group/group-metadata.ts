// The state of one classic group (Kafka's GroupMetadata): its state machine, generation, chosen
// protocol and leader, the members (in join order), static members by group.instance.id, members
// still waiting for their id (pending), members the current generation still expects a SyncGroup
// from, and the vote count of each protocol. It keeps its own invariants; the protocol rules that
// move it live in GroupCoordinator, its owner. Answers it owes (a JoinGroup or SyncGroup a member
// waits on) go out through the ResponseSink the coordinator gives it.

import { BinaryFormatError, CONSUMER_PROTOCOL_TYPE, decodeSubscribedTopics } from '@samsa/client';
import { invariant } from './group-errors.js';
import type { GroupState, JoinGroupResponse, JoinGroupResponseMember, ProtocolMetadata, SyncGroupResponse } from './group-types.js';
import { MemberMetadata } from './member-metadata.js';

/** Where the group's owed answers go (the coordinator's output buffer). */
export interface ResponseSink {
  join(requestId: number, response: JoinGroupResponse): void;
  sync(requestId: number, response: SyncGroupResponse): void;
}

/** Kafka's validPreviousStates. */
const VALID_PREVIOUS_STATES: Readonly<Record<GroupState, readonly GroupState[]>> = {
  Dead: ['Stable', 'PreparingRebalance', 'CompletingRebalance', 'Empty', 'Dead'],
  CompletingRebalance: ['PreparingRebalance'],
  Stable: ['CompletingRebalance'],
  PreparingRebalance: ['Stable', 'CompletingRebalance', 'Empty'],
  Empty: ['PreparingRebalance'],
};

export class GroupMetadata {
  private stateValue: GroupState;
  /** When the group entered its current state; null when unknown (loaded from an old record). */
  currentStateTimestampMs: number | null;
  protocolType: string | null = null;
  protocolName: string | null = null;
  generationId = 0;
  private leader: string | null = null;
  private readonly members = new Map<string, MemberMetadata>();
  private readonly staticMembers = new Map<string, string>();
  private readonly pendingMembers = new Set<string>();
  private readonly pendingSyncMembers = new Set<string>();
  private readonly protocolVotes = new Map<string, number>();
  private membersAwaitingJoin = 0;
  /** Topics the members subscribe to (consumer groups); null when unknown. */
  subscribedTopics: Set<string> | null = null;
  /** A new member joined during the initial delay: the delay may be extended. */
  newMemberAdded = false;

  constructor(
    readonly groupId: string,
    initialState: GroupState,
    nowMs: number | null,
    private readonly sink: ResponseSink,
  ) {
    this.stateValue = initialState;
    this.currentStateTimestampMs = nowMs;
  }

  get state(): GroupState {
    return this.stateValue;
  }

  is(state: GroupState): boolean {
    return this.stateValue === state;
  }

  /** Kafka's canRebalance: PreparingRebalance may follow the current state. */
  get canRebalance(): boolean {
    return VALID_PREVIOUS_STATES.PreparingRebalance.includes(this.stateValue);
  }

  transitionTo(state: GroupState, nowMs: number): void {
    invariant(VALID_PREVIOUS_STATES[state].includes(this.stateValue), () => `group ${this.groupId}: ${this.stateValue} cannot become ${state}`);
    this.stateValue = state;
    this.currentStateTimestampMs = nowMs;
  }

  // --- members -------------------------------------------------------------------------------

  has(memberId: string): boolean {
    return this.members.has(memberId);
  }

  get(memberId: string): MemberMetadata {
    const m = this.members.get(memberId);
    invariant(m !== undefined, () => `group ${this.groupId} has no member ${memberId}`);
    return m;
  }

  get size(): number {
    return this.members.size;
  }

  allMembers(): MemberMetadata[] {
    return [...this.members.values()];
  }

  get leaderId(): string | null {
    return this.leader;
  }

  /** A loaded record names its leader (add() made the first member leader). */
  setLeader(memberId: string): void {
    invariant(this.members.has(memberId), () => `leader ${memberId} is not a member of ${this.groupId}`);
    this.leader = memberId;
  }

  isLeader(memberId: string): boolean {
    return this.leader === memberId;
  }

  get numAwaitingJoin(): number {
    return this.membersAwaitingJoin;
  }

  get isConsumerGroup(): boolean {
    return this.protocolType === CONSUMER_PROTOCOL_TYPE;
  }

  /** Kafka's rebalanceTimeoutMs: the largest of the members'. */
  get rebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }

  add(member: MemberMetadata, awaitingJoin: number | null): void {
    if (member.groupInstanceId !== null) {
      invariant(!this.staticMembers.has(member.groupInstanceId), () => `static member ${member.groupInstanceId} is already in group ${this.groupId}`);
      this.staticMembers.set(member.groupInstanceId, member.memberId);
    }
    if (this.members.size === 0) this.protocolType = member.protocolType;
    invariant(this.protocolType === member.protocolType, () => `member ${member.memberId} has protocol type ${member.protocolType}, the group ${this.protocolType}`);
    invariant(this.supportsProtocols(member.protocolType, member.protocolNames()), () => `member ${member.memberId} shares no protocol with group ${this.groupId}`);
    invariant(!this.members.has(member.memberId), () => `member ${member.memberId} is already in group ${this.groupId}`);
    if (this.leader === null) this.leader = member.memberId;
    this.members.set(member.memberId, member);
    this.countVotes(member, 1);
    member.awaitingJoin = awaitingJoin;
    if (member.isAwaitingJoin) this.membersAwaitingJoin++;
    this.pendingMembers.delete(member.memberId);
  }

  remove(memberId: string): MemberMetadata | undefined {
    const member = this.members.get(memberId);
    if (member !== undefined) {
      this.members.delete(memberId);
      this.countVotes(member, -1);
      if (member.isAwaitingJoin) this.membersAwaitingJoin--;
      if (member.groupInstanceId !== null) this.staticMembers.delete(member.groupInstanceId);
    }
    if (this.leader === memberId) this.leader = this.members.keys().next().value ?? null;
    this.pendingMembers.delete(memberId);
    this.pendingSyncMembers.delete(memberId);
    return member;
  }

  /** Kafka's updateMember: new protocols and timeouts; `awaitingJoin` replaces the owed JoinGroup (null = none). */
  updateMember(member: MemberMetadata, protocols: readonly ProtocolMetadata[], rebalanceTimeoutMs: number, sessionTimeoutMs: number, awaitingJoin: number | null): void {
    this.countVotes(member, -1);
    member.supportedProtocols = protocols;
    this.countVotes(member, 1);
    member.rebalanceTimeoutMs = rebalanceTimeoutMs;
    member.sessionTimeoutMs = sessionTimeoutMs;
    if (awaitingJoin !== null && !member.isAwaitingJoin) this.membersAwaitingJoin++;
    else if (awaitingJoin === null && member.isAwaitingJoin) this.membersAwaitingJoin--;
    member.awaitingJoin = awaitingJoin;
  }

  /**
   * A static member rejoined with a new member id (Kafka's replaceStaticMember): the member keeps
   * its place, assignment and leadership under the new id; whatever the old incarnation still
   * waits on is answered FENCED_INSTANCE_ID.
   */
  replaceStaticMember(groupInstanceId: string, oldMemberId: string, newMemberId: string): MemberMetadata {
    const member = this.members.get(oldMemberId);
    invariant(member !== undefined, () => `cannot replace missing member ${oldMemberId} of group ${this.groupId}`);
    invariant(!this.members.has(newMemberId), () => `member id ${newMemberId} is already in group ${this.groupId}`);
    this.completeJoin(member, joinError(oldMemberId, 'FENCED_INSTANCE_ID'));
    this.completeSync(member, syncError('FENCED_INSTANCE_ID'));
    // Keep the join order: rebuild the map with the new id in the old one's place.
    const entries = [...this.members.entries()].map(([id, m]): [string, MemberMetadata] => (id === oldMemberId ? [newMemberId, m] : [id, m]));
    this.members.clear();
    for (const [id, m] of entries) this.members.set(id, m);
    member.memberId = newMemberId;
    if (this.leader === oldMemberId) this.leader = newMemberId;
    if (this.pendingSyncMembers.delete(oldMemberId)) this.pendingSyncMembers.add(newMemberId);
    this.staticMembers.set(groupInstanceId, newMemberId);
    return member;
  }

  currentStaticMemberId(groupInstanceId: string): string | undefined {
    return this.staticMembers.get(groupInstanceId);
  }

  get staticMemberCount(): number {
    return this.staticMembers.size;
  }

  // --- pending members (told MEMBER_ID_REQUIRED, not back yet) --------------------------------

  isPendingMember(memberId: string): boolean {
    return this.pendingMembers.has(memberId);
  }

  addPendingMember(memberId: string): void {
    invariant(!this.members.has(memberId), () => `pending member ${memberId} is already a member of ${this.groupId}`);
    this.pendingMembers.add(memberId);
  }

  get numPending(): number {
    return this.pendingMembers.size;
  }

  // --- pending sync -------------------------------------------------------------------------------

  addPendingSyncMember(memberId: string): void {
    invariant(this.members.has(memberId), () => `pending sync for non-member ${memberId}`);
    this.pendingSyncMembers.add(memberId);
  }

  removePendingSyncMember(memberId: string): void {
    this.pendingSyncMembers.delete(memberId);
  }

  get hasReceivedSyncFromAllMembers(): boolean {
    return this.pendingSyncMembers.size === 0;
  }

  allPendingSyncMembers(): string[] {
    return [...this.pendingSyncMembers];
  }

  clearPendingSyncMembers(): void {
    this.pendingSyncMembers.clear();
  }

  // --- joining ------------------------------------------------------------------------------------

  /** Kafka's hasAllMembersJoined: every member rejoined and nobody is still fetching a member id. */
  get hasAllMembersJoined(): boolean {
    return this.members.size === this.membersAwaitingJoin && this.pendingMembers.size === 0;
  }

  notYetRejoinedMembers(): MemberMetadata[] {
    return [...this.members.values()].filter((m) => !m.isAwaitingJoin);
  }

  /**
   * Kafka's maybeElectNewJoinedLeader: keep the leader if it rejoined, else pick the first member
   * that did. False when the group has no leader or nobody rejoined.
   */
  maybeElectNewJoinedLeader(): boolean {
    if (this.leader === null) return false;
    if (this.get(this.leader).isAwaitingJoin) return true;
    const joined = [...this.members.values()].find((m) => m.isAwaitingJoin);
    if (joined === undefined) return false;
    this.leader = joined.memberId;
    return true;
  }

  /** Kafka's supportsProtocols: an empty group takes any non-empty offer; else the type must match and one protocol be common to all. */
  supportsProtocols(memberProtocolType: string, memberProtocols: ReadonlySet<string>): boolean {
    if (this.is('Empty')) return memberProtocolType.length > 0 && memberProtocols.size > 0;
    if (this.protocolType !== memberProtocolType) return false;
    for (const p of memberProtocols) if ((this.protocolVotes.get(p) ?? 0) === this.members.size) return true;
    return false;
  }

  /**
   * Kafka's selectProtocol: among the protocols every member supports, each member votes for its
   * most preferred; the most votes win. (Ties, which Kafka breaks by hash order, go to the
   * protocol that got its first vote earliest in join order.)
   */
  selectProtocol(): string {
    invariant(this.members.size > 0, () => `cannot select a protocol for empty group ${this.groupId}`);
    const candidates = new Set<string>();
    for (const [p, n] of this.protocolVotes) if (n === this.members.size) candidates.add(p);
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      const choice = m.vote(candidates);
      votes.set(choice, (votes.get(choice) ?? 0) + 1);
    }
    let best: string | null = null;
    let bestVotes = -1;
    for (const [p, n] of votes) {
      if (n > bestVotes) {
        best = p;
        bestVotes = n;
      }
    }
    return best!;
  }

  /** Kafka's initNextGeneration: bump the generation, choose the protocol, and go to CompletingRebalance (or Empty). */
  initNextGeneration(nowMs: number): void {
    this.generationId++;
    if (this.members.size > 0) {
      this.protocolName = this.selectProtocol();
      this.subscribedTopics = this.computeSubscribedTopics();
      this.transitionTo('CompletingRebalance', nowMs);
    } else {
      this.protocolName = null;
      this.subscribedTopics = this.computeSubscribedTopics();
      this.transitionTo('Empty', nowMs);
    }
    this.clearPendingSyncMembers();
  }

  /**
   * Kafka's computeSubscribedTopics: for consumer groups, the union of the members' subscribed
   * topics (read from the v0 prefix of their subscriptions); null when not a consumer group or a
   * subscription cannot be read.
   */
  computeSubscribedTopics(): Set<string> | null {
    if (!this.isConsumerGroup) return null;
    if (this.members.size === 0) return new Set();
    if (this.protocolName === null) return null;
    const topics = new Set<string>();
    try {
      for (const m of this.members.values()) for (const t of decodeSubscribedTopics(m.metadata(this.protocolName))) topics.add(t);
    } catch (e) {
      if (e instanceof BinaryFormatError) return null;
      throw e;
    }
    return topics;
  }

  /** Kafka's isSubscribedToTopic: true when unknown (to be safe). */
  isSubscribedToTopic(topic: string): boolean {
    return this.subscribedTopics === null || this.subscribedTopics.has(topic);
  }

  /** The members and their metadata for the chosen protocol, as the leader gets them. */
  currentMemberMetadata(): JoinGroupResponseMember[] {
    invariant(!this.is('Dead') && !this.is('PreparingRebalance') && this.protocolName !== null, () => `group ${this.groupId} in ${this.state} has no member metadata`);
    const protocol = this.protocolName;
    return [...this.members.values()].map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: m.metadata(protocol) }));
  }

  // --- owed answers -------------------------------------------------------------------------------

  /** Answers the member's owed JoinGroup, if any (Kafka's maybeInvokeJoinCallback). */
  completeJoin(member: MemberMetadata, response: JoinGroupResponse): boolean {
    if (member.awaitingJoin === null) return false;
    const requestId = member.awaitingJoin;
    member.awaitingJoin = null;
    this.membersAwaitingJoin--;
    this.sink.join(requestId, response);
    return true;
  }

  /** Answers the member's owed SyncGroup, if any (Kafka's maybeInvokeSyncCallback). */
  completeSync(member: MemberMetadata, response: SyncGroupResponse): boolean {
    if (member.awaitingSync === null) return false;
    const requestId = member.awaitingSync;
    member.awaitingSync = null;
    this.sink.sync(requestId, response);
    return true;
  }

  private countVotes(member: MemberMetadata, delta: number): void {
    for (const name of member.protocolNames()) {
      const n = (this.protocolVotes.get(name) ?? 0) + delta;
      if (n === 0) this.protocolVotes.delete(name);
      else this.protocolVotes.set(name, n);
    }
  }
}

/** Kafka's JoinGroupResult(memberId, error). */
export function joinError(memberId: string, error: NonNullable<JoinGroupResponse['error']>): JoinGroupResponse {
  return { error, generationId: -1, protocolType: null, protocolName: null, leaderId: '', memberId, skipAssignment: false, members: [] };
}

/** Kafka's SyncGroupResult(error). */
export function syncError(error: NonNullable<SyncGroupResponse['error']>): SyncGroupResponse {
  return { error, protocolType: null, protocolName: null, assignment: new Uint8Array(0) };
}
