// Kafka's RoundRobinAssignor ('roundrobin', EAGER): all partitions of all subscribed topics, sorted
// by topic then partition, dealt one at a time to the members in order (static members by
// group.instance.id first, then by member id), skipping a member that does not subscribe to the
// partition's topic. When every member subscribes to the same topics, member counts differ by at
// most one.

import type { TopicPartition } from '../../protocol/wire-types.js';
import type { ConsumerAssignment } from './consumer-protocol.js';
import {
  compareMembers,
  compareStrings,
  type ConsumerPartitionAssignor,
  type MemberSubscription,
  type PartitionsPerTopic,
  type RebalanceProtocol,
  partitionsOf,
} from './partition-assignor.js';

export class RoundRobinAssignor implements ConsumerPartitionAssignor {
  readonly name = 'roundrobin';

  supportedProtocols(): readonly RebalanceProtocol[] {
    return ['EAGER'];
  }

  subscriptionUserData(): Uint8Array | null {
    return null;
  }

  onAssignment(_assignment: ConsumerAssignment, _generationId: number): void {}

  assign(partitionsPerTopic: PartitionsPerTopic, subscriptions: ReadonlyMap<string, MemberSubscription>): Map<string, TopicPartition[]> {
    const assignment = new Map<string, TopicPartition[]>();
    const members: { memberId: string; groupInstanceId: string | null; topics: Set<string> }[] = [];
    const allTopics = new Set<string>();
    for (const [memberId, sub] of subscriptions) {
      assignment.set(memberId, []);
      const topics = new Set(sub.topics);
      members.push({ memberId, groupInstanceId: sub.groupInstanceId, topics });
      for (const t of topics) allTopics.add(t);
    }
    if (members.length === 0) return assignment;
    members.sort(compareMembers);
    let next = 0; // Kafka's CircularIterator over the sorted members
    for (const topic of [...allTopics].sort(compareStrings)) {
      const count = partitionsPerTopic.get(topic);
      if (count === undefined) continue;
      for (const tp of partitionsOf(topic, count)) {
        // Some member subscribes to `topic` (it came from a subscription), so this ends.
        while (!members[next]!.topics.has(topic)) next = (next + 1) % members.length;
        assignment.get(members[next]!.memberId)!.push(tp);
        next = (next + 1) % members.length;
      }
    }
    return assignment;
  }
}
