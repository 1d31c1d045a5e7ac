// Kafka's CooperativeStickyAssignor ('cooperative-sticky', COOPERATIVE then EAGER): the sticky
// algorithm over the partitions each member reports as owned (Subscription.ownedPartitions), with
// the cooperative two-phase rule on top: a partition that moves from one member to another is left
// out of its new owner's assignment in this rebalance. Its old owner sees it missing and revokes it,
// which makes the consumer rejoin; in that next rebalance nobody owns it and it is assigned. Members
// keep consuming the partitions that do not move throughout.
//
// The generation of the owned partitions comes from the subscription (v2+), or else from this
// assignor's userData: an int32, the generation of the member's last assignment
// (COOPERATIVE_STICKY_ASSIGNOR_USER_DATA_V0).

import type { TopicPartition } from '../../protocol/wire-types.js';
import type { ConsumerAssignment } from './consumer-protocol.js';
import { NO_GENERATION } from './consumer-protocol.js';
import {
  type ConsumerPartitionAssignor,
  type MemberSubscription,
  type PartitionsPerTopic,
  partitionsChangingOwner,
  type RebalanceProtocol,
} from './partition-assignor.js';
import { DEFAULT_GENERATION, type StickyMemberData, stickyAssign } from './sticky-assignment.js';

export function encodeCooperativeStickyUserData(generation: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setInt32(0, generation);
  return out;
}

/** The generation in a member's userData; DEFAULT_GENERATION when unreadable, null when absent (Kafka's rules). */
export function decodeCooperativeStickyUserData(userData: Uint8Array | null): number | null {
  if (userData === null) return null;
  if (userData.length < 4) return DEFAULT_GENERATION;
  return new DataView(userData.buffer, userData.byteOffset, userData.byteLength).getInt32(0);
}

export class CooperativeStickyAssignor implements ConsumerPartitionAssignor {
  readonly name = 'cooperative-sticky';
  /** The generation of this member's current assignment (sent in its next subscription). */
  private generation = DEFAULT_GENERATION;

  supportedProtocols(): readonly RebalanceProtocol[] {
    return ['COOPERATIVE', 'EAGER'];
  }

  subscriptionUserData(): Uint8Array | null {
    return encodeCooperativeStickyUserData(this.generation);
  }

  onAssignment(_assignment: ConsumerAssignment, generationId: number): void {
    this.generation = generationId;
  }

  memberData(sub: MemberSubscription): StickyMemberData {
    if (sub.generationId !== NO_GENERATION) return { partitions: sub.ownedPartitions, generation: sub.generationId };
    return { partitions: sub.ownedPartitions, generation: decodeCooperativeStickyUserData(sub.userData) };
  }

  assign(partitionsPerTopic: PartitionsPerTopic, subscriptions: ReadonlyMap<string, MemberSubscription>): Map<string, TopicPartition[]> {
    const { assignment, partitionsTransferringOwnership } = stickyAssign(partitionsPerTopic, subscriptions, (s) => this.memberData(s));
    const transferring = partitionsTransferringOwnership ?? partitionsChangingOwner(subscriptions, assignment);
    for (const { tp, consumer } of transferring.values()) {
      const list = assignment.get(consumer)!;
      const i = list.findIndex((x) => x.topic === tp.topic && x.partition === tp.partition);
      if (i >= 0) list.splice(i, 1);
    }
    return assignment;
  }
}
