// The algorithm behind Kafka's sticky assignors (AbstractStickyAssignor, Kafka 3.x without rack
// awareness): balance first, then move as few partitions as possible.
//
// 1. Owned partitions: each member reports the partitions it owns and the generation it got them
//    in (MemberData). Only claims from the highest generation count; a partition claimed twice in
//    that generation is owned by nobody; claims on topics no longer subscribed are dropped.
// 2. When every member subscribes to the same topics, constrainedAssign: quotas min = ⌊P/C⌋ and
//    max = ⌈P/C⌉, exactly P mod C members get max. Members keep owned partitions up to their quota,
//    the rest (sorted by topic, partition) fill the members under quota in member order.
// 3. Otherwise generalAssign: keep valid ownership, hand out the unowned partitions to the least
//    loaded eligible member, then move partitions from loaded to lighter members until no move
//    improves balance, and revert if the result scores no better than before balancing.
//
// It also reports which partitions change owner ("partitions transferring ownership"), which the
// cooperative assignor withholds from their new owner for one rebalance. Where Kafka iterates a
// HashMap, this iterates members by member id, so the result is a function of the input.

import type { TopicPartition } from '../../protocol/wire-types.js';
import {
  AssignorError,
  compareStrings,
  compareTopicPartitions,
  type MemberSubscription,
  type PartitionsPerTopic,
  tpKeyOf,
} from './partition-assignor.js';
import { PartitionMovements } from './partition-movements.js';
import { SortedConsumers } from './sorted-consumers.js';

/** Kafka's AbstractStickyAssignor.DEFAULT_GENERATION. */
export const DEFAULT_GENERATION = -1;

/** What a member claims to own, and from which generation (null: it did not say). */
export interface StickyMemberData {
  readonly partitions: readonly TopicPartition[];
  readonly generation: number | null;
}

export interface StickyAssignmentResult {
  readonly assignment: Map<string, TopicPartition[]>;
  /**
   * Partitions that move from one owner to another, with their new owner; null when the general
   * algorithm ran and the caller must compute them from the owned partitions (Kafka does the same).
   */
  readonly partitionsTransferringOwnership: Map<string, { tp: TopicPartition; consumer: string }> | null;
}

function invariant(condition: boolean, message: string): asserts condition {
  if (!condition) throw new AssignorError('INVALID_ASSIGNMENT', `sticky assignment bug: ${message}`);
}

function removeTp(list: TopicPartition[], tp: TopicPartition): boolean {
  const i = list.findIndex((x) => x.topic === tp.topic && x.partition === tp.partition);
  if (i < 0) return false;
  list.splice(i, 1);
  return true;
}

interface OwnedClaims {
  readonly allSubscriptionsEqual: boolean;
  readonly consumerToOwnedPartitions: Map<string, TopicPartition[]>;
  readonly partitionsWithMultiplePreviousOwners: Set<string>;
  readonly maxGeneration: number;
}

/** Step 1 (Kafka's allSubscriptionsEqual, which also collects the valid owned partitions). */
function collectOwnedClaims(
  memberIds: readonly string[],
  partitionsPerTopic: PartitionsPerTopic,
  subscriptions: ReadonlyMap<string, MemberSubscription>,
  memberDataOf: (sub: MemberSubscription) => StickyMemberData,
): OwnedClaims {
  const consumerToOwnedPartitions = new Map<string, TopicPartition[]>();
  const partitionsWithMultiplePreviousOwners = new Set<string>();
  const previousOwner = new Map<string, string>();
  let membersOfHighestGeneration = new Set<string>();
  let maxGeneration = DEFAULT_GENERATION;
  let allSubscriptionsEqual = true;
  let subscribedTopics: Set<string> | null = null;

  for (const consumer of memberIds) {
    const sub = subscriptions.get(consumer)!;
    const topics = new Set(sub.topics);
    // Unlike Kafka, the first member's set is the reference even when empty (Kafka took the next
    // member's, and then assigned partitions to a member that subscribes to nothing).
    if (subscribedTopics === null) {
      subscribedTopics = topics;
    } else if (allSubscriptionsEqual && (topics.size !== subscribedTopics.size || [...topics].some((t) => !subscribedTopics!.has(t)))) {
      allSubscriptionsEqual = false;
    }

    const data = memberDataOf(sub);
    const owned: TopicPartition[] = [];
    consumerToOwnedPartitions.set(consumer, owned);
    const generation = data.generation;
    if ((generation !== null && generation >= maxGeneration) || (generation === null && maxGeneration === DEFAULT_GENERATION)) {
      if (generation !== null && generation > maxGeneration) {
        // A newer generation: every claim seen so far is stale.
        previousOwner.clear();
        partitionsWithMultiplePreviousOwners.clear();
        for (const dropped of membersOfHighestGeneration) consumerToOwnedPartitions.get(dropped)!.length = 0;
        membersOfHighestGeneration = new Set();
        maxGeneration = generation;
      }
      membersOfHighestGeneration.add(consumer);
      for (const tp of data.partitions) {
        const count = partitionsPerTopic.get(tp.topic);
        // Claims on topics that are gone or no longer subscribed by anyone are dropped (and, unlike
        // Kafka, on partition numbers the topic does not have).
        if (count === undefined || !Number.isInteger(tp.partition) || tp.partition < 0 || tp.partition >= count) continue;
        const key = tpKeyOf(tp);
        const other = previousOwner.get(key);
        previousOwner.set(key, consumer);
        if (other === undefined) {
          owned.push({ topic: tp.topic, partition: tp.partition });
        } else {
          // Two members of the same generation claim it: neither keeps it.
          removeTp(consumerToOwnedPartitions.get(other)!, tp);
          partitionsWithMultiplePreviousOwners.add(key);
        }
      }
    }
  }
  return { allSubscriptionsEqual, consumerToOwnedPartitions, partitionsWithMultiplePreviousOwners, maxGeneration };
}

/** Every partition of `partitionsPerTopic`, topics in `topicOrder`, partitions ascending. */
function allTopicPartitions(partitionsPerTopic: PartitionsPerTopic, topicOrder: readonly string[]): TopicPartition[] {
  const out: TopicPartition[] = [];
  for (const topic of topicOrder) {
    const count = partitionsPerTopic.get(topic)!;
    for (let p = 0; p < count; p++) out.push({ topic, partition: p });
  }
  return out;
}

/** Step 2: every member subscribes to the same topics. */
function constrainedAssign(
  memberIds: readonly string[],
  partitionsPerTopic: PartitionsPerTopic,
  consumerToOwnedPartitions: Map<string, TopicPartition[]>,
  partitionsWithMultiplePreviousOwners: ReadonlySet<string>,
): StickyAssignmentResult {
  const transferring = new Map<string, { tp: TopicPartition; consumer: string }>();
  const allRevokedPartitions = new Set<string>();
  const unfilledUnderMinQuota: string[] = [];
  let unfilledExactlyMinQuota: string[] = [];

  const numberOfConsumers = memberIds.length;
  let totalPartitions = 0;
  for (const n of partitionsPerTopic.values()) totalPartitions += n;
  const minQuota = Math.floor(totalPartitions / numberOfConsumers);
  const maxQuota = Math.ceil(totalPartitions / numberOfConsumers);
  // How many members get maxQuota (0 when min == max), and how many have it so far.
  const expectedMembersOverMinQuota = totalPartitions % numberOfConsumers;
  let membersOverMinQuota = 0;

  const assignment = new Map<string, TopicPartition[]>();
  for (const c of memberIds) assignment.set(c, []);
  const assigned = new Set<string>();

  for (const consumer of memberIds) {
    const owned = consumerToOwnedPartitions.get(consumer)!.filter((tp) => !partitionsWithMultiplePreviousOwners.has(tpKeyOf(tp)));
    const consumerAssignment = assignment.get(consumer)!;
    const keep = (n: number): void => {
      for (const tp of owned.slice(0, n)) {
        consumerAssignment.push(tp);
        assigned.add(tpKeyOf(tp));
      }
      for (const tp of owned.slice(n)) allRevokedPartitions.add(tpKeyOf(tp));
    };
    if (owned.length < minQuota) {
      keep(owned.length);
      unfilledUnderMinQuota.push(consumer);
    } else if (owned.length >= maxQuota && membersOverMinQuota < expectedMembersOverMinQuota) {
      membersOverMinQuota++;
      if (membersOverMinQuota === expectedMembersOverMinQuota) unfilledExactlyMinQuota = [];
      keep(maxQuota);
    } else {
      keep(minQuota);
      // Still a candidate for one more partition while fewer than expected members have maxQuota.
      if (membersOverMinQuota < expectedMembersOverMinQuota) unfilledExactlyMinQuota.push(consumer);
    }
  }

  const unassigned = allTopicPartitions(partitionsPerTopic, [...partitionsPerTopic.keys()].sort(compareStrings)).filter(
    (tp) => !assigned.has(tpKeyOf(tp)),
  );
  unfilledUnderMinQuota.sort(compareStrings);
  unfilledExactlyMinQuota.sort(compareStrings);

  // Round-robin over the members under minQuota; once none is left, one more each to members at minQuota.
  let cursor = 0;
  for (const tp of unassigned) {
    let consumer: string;
    let fromUnderMin: boolean;
    if (cursor < unfilledUnderMinQuota.length) {
      consumer = unfilledUnderMinQuota[cursor++]!;
      fromUnderMin = true;
    } else if (unfilledUnderMinQuota.length === 0) {
      invariant(unfilledExactlyMinQuota.length > 0, `no member left to take ${tp.topic}-${tp.partition}`);
      consumer = unfilledExactlyMinQuota.shift()!;
      fromUnderMin = false;
    } else {
      cursor = 0;
      consumer = unfilledUnderMinQuota[cursor++]!;
      fromUnderMin = true;
    }
    const consumerAssignment = assignment.get(consumer)!;
    consumerAssignment.push(tp);
    const key = tpKeyOf(tp);
    // Not its owned partition (those are placed already), so it changes owner if someone owned it.
    if (allRevokedPartitions.has(key) || partitionsWithMultiplePreviousOwners.has(key)) transferring.set(key, { tp, consumer });

    if (consumerAssignment.length === minQuota && fromUnderMin) {
      unfilledUnderMinQuota.splice(--cursor, 1);
      unfilledExactlyMinQuota.push(consumer);
    } else if (consumerAssignment.length === maxQuota) {
      membersOverMinQuota++;
    }
  }

  if (unfilledUnderMinQuota.length > 0) {
    invariant(membersOverMinQuota === expectedMembersOverMinQuota, 'partitions ran out before enough members reached maxQuota');
    for (const c of unfilledUnderMinQuota) invariant(assignment.get(c)!.length === minQuota, `${c} did not reach minQuota`);
  }
  return { assignment, partitionsTransferringOwnership: transferring };
}

interface GeneralState {
  readonly currentAssignment: Map<string, TopicPartition[]>;
  readonly prevAssignment: Map<string, { consumer: string; generation: number }>;
  readonly consumer2AllPotentialTopics: Map<string, string[]>;
  readonly consumerTopicSets: Map<string, Set<string>>;
  readonly topic2AllPotentialConsumers: Map<string, string[]>;
  readonly currentPartitionConsumer: Map<string, string>;
  readonly partitionsPerTopic: PartitionsPerTopic;
  readonly totalPartitionCount: number;
  readonly movements: PartitionMovements;
  readonly sorted: SortedConsumers;
}

function maxAssignmentSize(s: GeneralState, topics: readonly string[]): number {
  if (topics.length === s.partitionsPerTopic.size) return s.totalPartitionCount;
  let n = 0;
  for (const t of topics) n += s.partitionsPerTopic.get(t)!;
  return n;
}

function topicCanParticipate(s: GeneralState, topic: string): boolean {
  return s.topic2AllPotentialConsumers.get(topic)!.length >= 2;
}

function consumerCanParticipate(s: GeneralState, consumer: string): boolean {
  const current = s.currentAssignment.get(consumer)!;
  if (current.length < maxAssignmentSize(s, s.consumer2AllPotentialTopics.get(consumer)!)) return true;
  return current.some((tp) => topicCanParticipate(s, tp.topic));
}

/** Sum over all pairs of |size difference| (0 = perfectly balanced), in O(n log n). */
function balanceScore(assignment: ReadonlyMap<string, readonly TopicPartition[]>): number {
  const sizes = [...assignment.values()].map((l) => l.length).sort((a, b) => a - b);
  let score = 0;
  sizes.forEach((size, i) => {
    score += size * (2 * i - sizes.length + 1);
  });
  return score;
}

function isBalanced(s: GeneralState): boolean {
  const first = s.sorted.first();
  const last = s.sorted.last();
  if (first === undefined || last === undefined) return true;
  const min = s.currentAssignment.get(first)!.length;
  const max = s.currentAssignment.get(last)!.length;
  if (min >= max - 1) return true;

  const owner = new Map<string, string>();
  for (const [consumer, partitions] of s.currentAssignment) for (const tp of partitions) owner.set(tpKeyOf(tp), consumer);

  // A consumer short of all it could hold must not be able to take a partition from a consumer
  // holding more than it does.
  for (const consumer of s.sorted.toArray()) {
    const mine = s.currentAssignment.get(consumer)!;
    const topics = s.consumer2AllPotentialTopics.get(consumer)!;
    if (mine.length === maxAssignmentSize(s, topics)) continue;
    const mineKeys = new Set(mine.map(tpKeyOf));
    for (const topic of topics) {
      const count = s.partitionsPerTopic.get(topic)!;
      for (let p = 0; p < count; p++) {
        const key = tpKeyOf({ topic, partition: p });
        if (mineKeys.has(key)) continue;
        const other = owner.get(key);
        if (other !== undefined && mine.length < s.currentAssignment.get(other)!.length) return false;
      }
    }
  }
  return true;
}

function processPartitionMovement(s: GeneralState, tp: TopicPartition, newConsumer: string): void {
  const key = tpKeyOf(tp);
  const oldConsumer = s.currentPartitionConsumer.get(key)!;
  s.sorted.remove(oldConsumer);
  s.sorted.remove(newConsumer);
  s.movements.movePartition(tp, oldConsumer, newConsumer);
  removeTp(s.currentAssignment.get(oldConsumer)!, tp);
  s.currentAssignment.get(newConsumer)!.push(tp);
  s.currentPartitionConsumer.set(key, newConsumer);
  s.sorted.add(newConsumer);
  s.sorted.add(oldConsumer);
}

function reassignPartitionTo(s: GeneralState, tp: TopicPartition, newConsumer: string): void {
  const consumer = s.currentPartitionConsumer.get(tpKeyOf(tp))!;
  processPartitionMovement(s, s.movements.actualPartitionToMove(tp, consumer, newConsumer), newConsumer);
}

function reassignPartition(s: GeneralState, tp: TopicPartition): void {
  const newConsumer = s.sorted.find((c) => s.consumerTopicSets.get(c)!.has(tp.topic));
  invariant(newConsumer !== undefined, `no consumer can take ${tp.topic}-${tp.partition}`);
  reassignPartitionTo(s, tp, newConsumer);
}

function performReassignments(s: GeneralState, reassignable: readonly TopicPartition[]): boolean {
  let reassignmentPerformed = false;
  let modified: boolean;
  // Every move takes a partition from a member holding at least two more than the receiver, so the
  // sum of squared sizes (≤ P²) drops with each round that moves; the cap only guards against a bug
  // turning into an endless loop in the group leader.
  let roundsLeft = (reassignable.length + 1) ** 2 + 16;
  do {
    if (roundsLeft-- === 0) break;
    modified = false;
    for (const tp of reassignable) {
      if (isBalanced(s)) break;
      const consumer = s.currentPartitionConsumer.get(tpKeyOf(tp));
      invariant(consumer !== undefined, `${tp.topic}-${tp.partition} has no consumer`);
      const size = s.currentAssignment.get(consumer)!.length;
      // Prefer handing it back to its owner of the previous generation.
      // (Unlike Kafka, only to a previous owner that still subscribes to the topic.)
      const prev = s.prevAssignment.get(tpKeyOf(tp));
      const prevList = prev === undefined ? undefined : s.currentAssignment.get(prev.consumer);
      if (prev !== undefined && prevList !== undefined && s.consumerTopicSets.get(prev.consumer)!.has(tp.topic) && size > prevList.length + 1) {
        reassignPartitionTo(s, tp, prev.consumer);
        reassignmentPerformed = true;
        modified = true;
        continue;
      }
      for (const other of s.topic2AllPotentialConsumers.get(tp.topic)!) {
        const otherList = s.currentAssignment.get(other);
        if (otherList !== undefined && size > otherList.length + 1) {
          reassignPartition(s, tp);
          reassignmentPerformed = true;
          modified = true;
          break;
        }
      }
    }
  } while (modified);
  return reassignmentPerformed;
}

/** Step 3: subscriptions differ. */
function generalAssign(
  memberIds: readonly string[],
  partitionsPerTopic: PartitionsPerTopic,
  subscriptions: ReadonlyMap<string, MemberSubscription>,
  currentAssignment: Map<string, TopicPartition[]>,
  memberDataOf: (sub: MemberSubscription) => StickyMemberData,
  maxGeneration: number,
): Map<string, TopicPartition[]> {
  // Owners from older generations, which balancing prefers when it has to move a partition.
  const prevAssignment = new Map<string, { consumer: string; generation: number }>();
  const updatePrev = (partitions: readonly TopicPartition[], consumer: string, generation: number): void => {
    for (const tp of partitions) {
      const key = tpKeyOf(tp);
      const existing = prevAssignment.get(key);
      if (existing === undefined || generation > existing.generation) prevAssignment.set(key, { consumer, generation });
    }
  };
  for (const consumer of memberIds) {
    const data = memberDataOf(subscriptions.get(consumer)!);
    if (data.generation !== null && data.generation < maxGeneration) updatePrev(data.partitions, consumer, data.generation);
    else if (data.generation === null && maxGeneration > DEFAULT_GENERATION) updatePrev(data.partitions, consumer, DEFAULT_GENERATION);
  }

  const topic2AllPotentialConsumers = new Map<string, string[]>();
  for (const topic of partitionsPerTopic.keys()) topic2AllPotentialConsumers.set(topic, []);
  const consumer2AllPotentialTopics = new Map<string, string[]>();
  const consumerTopicSets = new Map<string, Set<string>>();
  for (const consumer of memberIds) {
    const topics = [...new Set(subscriptions.get(consumer)!.topics)].filter((t) => partitionsPerTopic.has(t));
    consumer2AllPotentialTopics.set(consumer, topics);
    consumerTopicSets.set(consumer, new Set(topics));
    for (const t of topics) topic2AllPotentialConsumers.get(t)!.push(consumer);
    if (!currentAssignment.has(consumer)) currentAssignment.set(consumer, []);
  }

  const currentPartitionConsumer = new Map<string, string>();
  for (const [consumer, partitions] of currentAssignment) for (const tp of partitions) currentPartitionConsumer.set(tpKeyOf(tp), consumer);

  let totalPartitionCount = 0;
  for (const n of partitionsPerTopic.values()) totalPartitionCount += n;
  // Topics with the fewest potential consumers first: they have the least room to move.
  const sortedAllTopics = [...topic2AllPotentialConsumers.keys()].sort(
    (a, b) => topic2AllPotentialConsumers.get(a)!.length - topic2AllPotentialConsumers.get(b)!.length || compareStrings(a, b),
  );
  let sortedPartitions = allTopicPartitions(partitionsPerTopic, sortedAllTopics);

  const assignedKeys = new Set<string>();
  let revocationRequired = false;
  for (const [consumer, partitions] of currentAssignment) {
    const topics = new Set(subscriptions.get(consumer)!.topics);
    for (const tp of [...partitions]) {
      if (!topic2AllPotentialConsumers.has(tp.topic)) {
        removeTp(partitions, tp);
        currentPartitionConsumer.delete(tpKeyOf(tp));
      } else if (!topics.has(tp.topic)) {
        // The member no longer subscribes to it: it must give it up.
        removeTp(partitions, tp);
        revocationRequired = true;
      } else {
        assignedKeys.add(tpKeyOf(tp));
      }
    }
  }
  let unassignedPartitions = sortedPartitions.filter((tp) => !assignedKeys.has(tpKeyOf(tp)));

  const s: GeneralState = {
    currentAssignment,
    prevAssignment,
    consumer2AllPotentialTopics,
    consumerTopicSets,
    topic2AllPotentialConsumers,
    currentPartitionConsumer,
    partitionsPerTopic,
    totalPartitionCount,
    movements: new PartitionMovements(),
    sorted: new SortedConsumers((c) => currentAssignment.get(c)!.length),
  };
  for (const c of currentAssignment.keys()) s.sorted.add(c);

  // balance()
  const initializing = currentAssignment.get(s.sorted.last()!)!.length === 0;
  for (const tp of unassignedPartitions) {
    if (topic2AllPotentialConsumers.get(tp.topic)!.length === 0) continue;
    const consumer = s.sorted.find((c) => consumerTopicSets.get(c)!.has(tp.topic))!;
    s.sorted.remove(consumer);
    currentAssignment.get(consumer)!.push(tp);
    currentPartitionConsumer.set(tpKeyOf(tp), consumer);
    s.sorted.add(consumer);
  }

  // Only partitions of topics with two or more potential consumers can move.
  sortedPartitions = sortedPartitions.filter((tp) => topicCanParticipate(s, tp.topic));
  unassignedPartitions = unassignedPartitions.filter((tp) => topicCanParticipate(s, tp.topic));

  // Consumers that can neither gain nor lose anything sit out the balancing.
  const fixedAssignments = new Map<string, TopicPartition[]>();
  for (const consumer of memberIds) {
    if (!consumerCanParticipate(s, consumer)) {
      s.sorted.remove(consumer);
      fixedAssignments.set(consumer, currentAssignment.get(consumer)!);
      currentAssignment.delete(consumer);
    }
  }

  const preBalanceAssignment = new Map<string, TopicPartition[]>([...currentAssignment].map(([c, l]) => [c, [...l]]));
  const preBalancePartitionConsumers = new Map(currentPartitionConsumer);

  // Without forced revocations, first try to balance by moving only the partitions just handed out.
  if (!revocationRequired) performReassignments(s, unassignedPartitions);
  const reassignmentPerformed = performReassignments(s, sortedPartitions);

  if (!initializing && reassignmentPerformed && balanceScore(currentAssignment) >= balanceScore(preBalanceAssignment)) {
    currentAssignment.clear();
    for (const [c, l] of preBalanceAssignment) currentAssignment.set(c, l);
    currentPartitionConsumer.clear();
    for (const [k, c] of preBalancePartitionConsumers) currentPartitionConsumer.set(k, c);
  }
  for (const [consumer, partitions] of fixedAssignments) currentAssignment.set(consumer, partitions);
  return currentAssignment;
}

/**
 * Kafka's AbstractStickyAssignor.assign. `memberDataOf` says what each member claims to own (the
 * cooperative assignor reads the subscription's ownedPartitions; the eager one its userData).
 */
export function stickyAssign(
  partitionsPerTopic: PartitionsPerTopic,
  subscriptions: ReadonlyMap<string, MemberSubscription>,
  memberDataOf: (sub: MemberSubscription) => StickyMemberData,
): StickyAssignmentResult {
  const memberIds = [...subscriptions.keys()].sort(compareStrings);
  if (memberIds.length === 0) return { assignment: new Map(), partitionsTransferringOwnership: new Map() };
  const claims = collectOwnedClaims(memberIds, partitionsPerTopic, subscriptions, memberDataOf);
  if (claims.allSubscriptionsEqual) {
    return constrainedAssign(memberIds, partitionsPerTopic, claims.consumerToOwnedPartitions, claims.partitionsWithMultiplePreviousOwners);
  }
  const assignment = generalAssign(
    memberIds,
    partitionsPerTopic,
    subscriptions,
    claims.consumerToOwnedPartitions,
    memberDataOf,
    claims.maxGeneration,
  );
  // Members in member-id order, each list sorted, so equal inputs give equal outputs.
  const ordered = new Map<string, TopicPartition[]>();
  for (const c of memberIds) ordered.set(c, (assignment.get(c) ?? []).sort(compareTopicPartitions));
  return { assignment: ordered, partitionsTransferringOwnership: null };
}
