// The contract of a partition assignor (Kafka's ConsumerPartitionAssignor) and what every assignor
// shares: the leader's step that turns subscriptions and topic metadata into assignments
// (Kafka's AbstractPartitionAssignor), the member order Range and RoundRobin use, and the checks
// an assignment must pass before the leader sends it (each partition at most once, only existing
// partitions of subscribed topics, and for COOPERATIVE: nothing handed to a member while another
// member still owns it).
//
// An assignor runs in the group leader only, on data the coordinator relayed from every member, so
// it is pure: the same inputs give the same assignment (Kafka iterates hash maps in places; here
// every such iteration is in a defined order, see each assignor).

import type { TopicPartition } from '../../protocol/wire-types.js';
import type { ConsumerAssignment, ConsumerSubscription } from './consumer-protocol.js';

/** Kafka's RebalanceProtocol. EAGER revokes everything before a rebalance; COOPERATIVE only what moves. */
export type RebalanceProtocol = 'EAGER' | 'COOPERATIVE';

/** What the leader knows of a member when it assigns: its decoded subscription and static id. */
export interface MemberSubscription extends ConsumerSubscription {
  readonly groupInstanceId: string | null;
}

/** Subscribed topics that exist, with their partition counts (every count > 0). */
export type PartitionsPerTopic = ReadonlyMap<string, number>;

export interface ConsumerPartitionAssignor {
  /** The protocol name in JoinGroup (partition.assignment.strategy): 'range', 'roundrobin', 'cooperative-sticky'. */
  readonly name: string;
  /** The rebalance protocols it supports, most preferred first. */
  supportedProtocols(): readonly RebalanceProtocol[];
  /** The userData this member puts in its subscription (null for none). */
  subscriptionUserData(topics: ReadonlySet<string>): Uint8Array | null;
  /**
   * Assigns the partitions of `partitionsPerTopic` to the members of `subscriptions` (keyed by
   * member id). The result has an entry for every member.
   */
  assign(partitionsPerTopic: PartitionsPerTopic, subscriptions: ReadonlyMap<string, MemberSubscription>): Map<string, TopicPartition[]>;
  /** Every member (leader or not) hears its assignment and generation after a successful SyncGroup. */
  onAssignment(assignment: ConsumerAssignment, generationId: number): void;
}

export type AssignorErrorCode =
  | 'INVALID_ASSIGNMENT' // an assignor produced an assignment that breaks the rules (a bug in the assignor)
  | 'NO_COMMON_ASSIGNOR'; // the chosen protocol names no assignor this consumer has

export class AssignorError extends Error {
  constructor(
    readonly code: AssignorErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AssignorError';
  }
}

/** Java's String.compareTo: UTF-16 code units, lexicographically (what JS's < does on strings). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareTopicPartitions(a: TopicPartition, b: TopicPartition): number {
  return compareStrings(a.topic, b.topic) || a.partition - b.partition;
}

export function tpKeyOf(tp: TopicPartition): string {
  // ':' is illegal in topic names, so the key is unambiguous.
  return `${tp.topic}:${tp.partition}`;
}

/**
 * Kafka's MemberInfo order: static members first, by group.instance.id; then dynamic members by
 * member id. Static ids survive restarts, so a static group keeps the same order (and the same
 * Range/RoundRobin assignment) across restarts.
 */
export function compareMembers(
  a: { memberId: string; groupInstanceId: string | null },
  b: { memberId: string; groupInstanceId: string | null },
): number {
  if (a.groupInstanceId !== null && b.groupInstanceId !== null) return compareStrings(a.groupInstanceId, b.groupInstanceId);
  if (a.groupInstanceId !== null) return -1;
  if (b.groupInstanceId !== null) return 1;
  return compareStrings(a.memberId, b.memberId);
}

/** Partitions 0..n-1 of a topic. */
export function partitionsOf(topic: string, count: number): TopicPartition[] {
  const out: TopicPartition[] = [];
  for (let p = 0; p < count; p++) out.push({ topic, partition: p });
  return out;
}

/**
 * Kafka's AbstractPartitionAssignor.assign: collects the topics any member subscribes to, keeps
 * those the metadata knows with at least one partition, runs the assignor, and checks its result.
 * `partitionCountOf` answers from the leader's metadata (undefined for an unknown topic).
 */
export function assignPartitions(
  assignor: ConsumerPartitionAssignor,
  partitionCountOf: (topic: string) => number | undefined,
  subscriptions: ReadonlyMap<string, MemberSubscription>,
): Map<string, ConsumerAssignment> {
  const partitionsPerTopic = new Map<string, number>();
  for (const sub of subscriptions.values()) {
    for (const topic of sub.topics) {
      if (partitionsPerTopic.has(topic)) continue;
      const count = partitionCountOf(topic);
      if (count !== undefined && Number.isInteger(count) && count > 0) partitionsPerTopic.set(topic, count);
    }
  }
  const raw = assignor.assign(partitionsPerTopic, subscriptions);
  checkAssignment(partitionsPerTopic, subscriptions, raw, assignor.name);
  const out = new Map<string, ConsumerAssignment>();
  for (const memberId of subscriptions.keys()) out.set(memberId, { partitions: raw.get(memberId) ?? [], userData: null });
  return out;
}

/**
 * Throws AssignorError INVALID_ASSIGNMENT unless every assigned partition exists, belongs to a topic
 * its member subscribes to, and is assigned to one member only, and every member is a known member.
 */
export function checkAssignment(
  partitionsPerTopic: PartitionsPerTopic,
  subscriptions: ReadonlyMap<string, MemberSubscription>,
  assignments: ReadonlyMap<string, readonly TopicPartition[]>,
  assignorName: string,
): void {
  const owner = new Map<string, string>();
  for (const [memberId, partitions] of assignments) {
    const sub = subscriptions.get(memberId);
    if (!sub) throw new AssignorError('INVALID_ASSIGNMENT', `${assignorName} assigned partitions to unknown member ${memberId}`);
    const topics = new Set(sub.topics);
    for (const tp of partitions) {
      const count = partitionsPerTopic.get(tp.topic);
      if (count === undefined || !Number.isInteger(tp.partition) || tp.partition < 0 || tp.partition >= count) {
        throw new AssignorError('INVALID_ASSIGNMENT', `${assignorName} assigned ${tp.topic}-${tp.partition}, which does not exist`);
      }
      if (!topics.has(tp.topic)) {
        throw new AssignorError('INVALID_ASSIGNMENT', `${assignorName} assigned ${tp.topic}-${tp.partition} to ${memberId}, which does not subscribe to ${tp.topic}`);
      }
      const key = tpKeyOf(tp);
      const previous = owner.get(key);
      if (previous !== undefined) {
        throw new AssignorError('INVALID_ASSIGNMENT', `${assignorName} assigned ${tp.topic}-${tp.partition} to both ${previous} and ${memberId}`);
      }
      owner.set(key, memberId);
    }
  }
}

/**
 * Partitions a member gains that another member owned and loses (Kafka's
 * computePartitionsTransferringOwnership), with the member that gains each.
 */
export function partitionsChangingOwner(
  subscriptions: ReadonlyMap<string, Pick<MemberSubscription, 'ownedPartitions'>>,
  assignment: ReadonlyMap<string, readonly TopicPartition[]>,
): Map<string, { tp: TopicPartition; consumer: string }> {
  const added = new Map<string, { tp: TopicPartition; consumer: string }>();
  const revoked = new Set<string>();
  for (const [consumer, assigned] of assignment) {
    const owned = subscriptions.get(consumer)?.ownedPartitions ?? [];
    const ownedKeys = new Set(owned.map(tpKeyOf));
    const assignedKeys = new Set(assigned.map(tpKeyOf));
    for (const tp of assigned) if (!ownedKeys.has(tpKeyOf(tp))) added.set(tpKeyOf(tp), { tp, consumer });
    for (const tp of owned) if (!assignedKeys.has(tpKeyOf(tp))) revoked.add(tpKeyOf(tp));
  }
  for (const key of [...added.keys()]) if (!revoked.has(key)) added.delete(key);
  return added;
}

/**
 * The cooperative rule (Kafka's ConsumerCoordinator.validateCooperativeAssignment): a partition
 * that one member gains must not be one that another member loses in the same rebalance; it is
 * first revoked, and assigned in the next rebalance. Returns the partitions that break it (sorted).
 */
export function cooperativeViolations(
  subscriptions: ReadonlyMap<string, Pick<MemberSubscription, 'ownedPartitions'>>,
  assignments: ReadonlyMap<string, readonly TopicPartition[]>,
): TopicPartition[] {
  return [...partitionsChangingOwner(subscriptions, assignments).values()].map((e) => e.tp).sort(compareTopicPartitions);
}
