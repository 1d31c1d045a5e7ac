// Shared helpers for the assignor tests: building subscriptions, running rebalances the way a group
// does (members report what they own, the leader assigns, members adopt it), and the properties
// Kafka's own assignor tests check.

import { subscription } from '../../src/consumer/assignors/consumer-protocol.js';
import {
  type ConsumerPartitionAssignor,
  type MemberSubscription,
  assignPartitions,
  compareTopicPartitions,
  tpKeyOf,
} from '../../src/consumer/assignors/partition-assignor.js';
import type { TopicPartition } from '../../src/protocol/wire-types.js';

export const tp = (topic: string, partition: number): TopicPartition => ({ topic, partition });

export function member(
  topics: readonly string[],
  options: { owned?: TopicPartition[]; generation?: number; instanceId?: string; userData?: Uint8Array | null } = {},
): MemberSubscription {
  return {
    ...subscription(topics, { ownedPartitions: options.owned ?? [], generationId: options.generation ?? -1, userData: options.userData ?? null }),
    groupInstanceId: options.instanceId ?? null,
  };
}

export const sorted = (l: readonly TopicPartition[]): TopicPartition[] => [...l].sort(compareTopicPartitions);

/** Runs the leader step (filtering, assignment, validity check) and returns plain partition lists. */
export function runAssign(
  assignor: ConsumerPartitionAssignor,
  partitionsPerTopic: Record<string, number>,
  subscriptions: Map<string, MemberSubscription>,
): Map<string, TopicPartition[]> {
  const result = assignPartitions(assignor, (t) => partitionsPerTopic[t], subscriptions);
  return new Map([...result].map(([m, a]) => [m, [...a.partitions]]));
}

/** Every partition of a topic that someone subscribes to, assigned exactly once. */
export function expectFullCoverage(
  partitionsPerTopic: Record<string, number>,
  subscriptions: ReadonlyMap<string, MemberSubscription>,
  assignment: ReadonlyMap<string, readonly TopicPartition[]>,
): void {
  const subscribed = new Set([...subscriptions.values()].flatMap((s) => s.topics));
  const expected: string[] = [];
  for (const [topic, n] of Object.entries(partitionsPerTopic)) if (subscribed.has(topic)) for (let p = 0; p < n; p++) expected.push(tpKeyOf(tp(topic, p)));
  const actual = [...assignment.values()].flat().map(tpKeyOf);
  expect(actual.sort()).toEqual(expected.sort());
}

/**
 * Kafka's balance guarantee for the sticky assignors (AbstractStickyAssignorTest
 * verifyValidityAndBalance, in its stronger form): no member holds two or more partitions more than
 * a member that could take one of them.
 */
export function balanceViolations(
  subscriptions: ReadonlyMap<string, MemberSubscription>,
  assignment: ReadonlyMap<string, readonly TopicPartition[]>,
): string[] {
  const out: string[] = [];
  for (const [rich, richList] of assignment) {
    for (const [poor, poorList] of assignment) {
      if (richList.length <= poorList.length + 1) continue;
      const poorTopics = new Set(subscriptions.get(poor)!.topics);
      const movable = richList.find((x) => poorTopics.has(x.topic));
      if (movable) out.push(`${rich} (${richList.length}) holds ${movable.topic}-${movable.partition}, ${poor} (${poorList.length}) could take it`);
    }
  }
  return out;
}

export interface GroupMember {
  topics: string[];
  owned: TopicPartition[];
  instanceId?: string;
}

/**
 * One rebalance as a cooperative group runs it: members report their owned partitions and the
 * generation they got them in, the leader assigns, then every member revokes what it lost and
 * adopts what it was given.
 */
export function rebalanceOnce(
  assignor: ConsumerPartitionAssignor,
  partitionsPerTopic: Record<string, number>,
  members: Map<string, GroupMember>,
  generation: number,
  /** The userData a member sends (the eager sticky assignor keeps its memory there). */
  userDataOf: (owned: TopicPartition[], generation: number) => Uint8Array | null = () => null,
): { subscriptions: Map<string, MemberSubscription>; assignment: Map<string, TopicPartition[]> } {
  const subscriptions = new Map<string, MemberSubscription>();
  for (const [id, m] of members) {
    const options: { owned: TopicPartition[]; generation: number; instanceId?: string; userData: Uint8Array | null } = {
      owned: m.owned,
      generation,
      userData: userDataOf(m.owned, generation),
    };
    if (m.instanceId !== undefined) options.instanceId = m.instanceId;
    subscriptions.set(id, member(m.topics, options));
  }
  const assignment = runAssign(assignor, partitionsPerTopic, subscriptions);
  for (const [id, m] of members) m.owned = sorted(assignment.get(id) ?? []);
  return { subscriptions, assignment };
}

export function ownerMap(members: ReadonlyMap<string, GroupMember>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [id, m] of members) for (const x of m.owned) out.set(tpKeyOf(x), id);
  return out;
}
