// Kafka's RangeAssignor ('range', EAGER): per topic, the members that subscribe to it are sorted
// (static members by group.instance.id first, then by member id) and each takes a contiguous
// range of partitions; the first (partitions % members) members take one extra. Balanced per topic
// (max − min ≤ 1 for every topic), not across topics: with several topics the first members get
// the extra partition of each, which is why Kafka's default list pairs it with cooperative-sticky.

import type { TopicPartition } from '../../protocol/wire-types.js';
import type { ConsumerAssignment } from './consumer-protocol.js';
import {
  compareMembers,
  compareStrings,
  type ConsumerPartitionAssignor,
  type MemberSubscription,
  type PartitionsPerTopic,
  type RebalanceProtocol,
} from './partition-assignor.js';

export class RangeAssignor implements ConsumerPartitionAssignor {
  readonly name = 'range';

  supportedProtocols(): readonly RebalanceProtocol[] {
    return ['EAGER'];
  }

  subscriptionUserData(): Uint8Array | null {
    return null;
  }

  onAssignment(_assignment: ConsumerAssignment, _generationId: number): void {}

  assign(partitionsPerTopic: PartitionsPerTopic, subscriptions: ReadonlyMap<string, MemberSubscription>): Map<string, TopicPartition[]> {
    const assignment = new Map<string, TopicPartition[]>();
    const membersPerTopic = new Map<string, { memberId: string; groupInstanceId: string | null }[]>();
    for (const [memberId, sub] of subscriptions) {
      assignment.set(memberId, []);
      for (const topic of new Set(sub.topics)) {
        let members = membersPerTopic.get(topic);
        if (!members) membersPerTopic.set(topic, (members = []));
        members.push({ memberId, groupInstanceId: sub.groupInstanceId });
      }
    }
    for (const topic of [...membersPerTopic.keys()].sort(compareStrings)) {
      const partitionCount = partitionsPerTopic.get(topic);
      if (partitionCount === undefined) continue;
      const members = membersPerTopic.get(topic)!.sort(compareMembers);
      const perMember = Math.floor(partitionCount / members.length);
      const withExtra = partitionCount % members.length;
      members.forEach((member, i) => {
        const start = perMember * i + Math.min(i, withExtra);
        const length = perMember + (i + 1 > withExtra ? 0 : 1);
        const list = assignment.get(member.memberId)!;
        for (let p = start; p < start + length; p++) list.push({ topic, partition: p });
      });
    }
    return assignment;
  }
}
