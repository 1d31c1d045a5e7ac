// Kafka's StickyAssignor ('sticky', EAGER): the sticky algorithm for the eager protocol. A member
// revokes everything before it rejoins, so it remembers its last assignment itself and reports it
// in its subscription's userData (STICKY_ASSIGNOR_USER_DATA_V1: previous_assignment
// [topic:string partitions:[int32]], generation:int32; V0 has no generation).

import type { TopicPartition } from '../../protocol/wire-types.js';
import type { ConsumerAssignment } from './consumer-protocol.js';
import { BinaryFormatError, KafkaBinaryReader, KafkaBinaryWriter } from './kafka-binary.js';
import type { ConsumerPartitionAssignor, MemberSubscription, PartitionsPerTopic, RebalanceProtocol } from './partition-assignor.js';
import { DEFAULT_GENERATION, type StickyMemberData, stickyAssign } from './sticky-assignment.js';

/** Bounds on a member's reported previous assignment. */
const MAX_TOPICS = 10_000;
const MAX_PARTITIONS = 200_000;

export function encodeStickyUserData(partitions: readonly TopicPartition[], generation: number): Uint8Array {
  const byTopic = new Map<string, number[]>();
  for (const tp of partitions) {
    let list = byTopic.get(tp.topic);
    if (!list) byTopic.set(tp.topic, (list = []));
    list.push(tp.partition);
  }
  const w = new KafkaBinaryWriter(32);
  w.int32(byTopic.size);
  for (const [topic, parts] of byTopic) {
    w.string(topic);
    w.int32(parts.length);
    for (const p of parts) w.int32(p);
  }
  w.int32(generation);
  return w.finish();
}

/** Kafka's rule: unreadable userData counts as no previous assignment. */
export function decodeStickyUserData(userData: Uint8Array | null): StickyMemberData {
  if (userData === null || userData.length === 0) return { partitions: [], generation: null };
  try {
    const r = new KafkaBinaryReader(userData, 'sticky userData');
    const partitions: TopicPartition[] = [];
    const topics = r.arrayCount('previous_assignment', MAX_TOPICS, 6);
    for (let i = 0; i < topics; i++) {
      const topic = r.string('topic');
      const n = r.arrayCount('partitions', MAX_PARTITIONS - partitions.length, 4);
      for (let j = 0; j < n; j++) partitions.push({ topic, partition: r.int32('partition') });
    }
    // V0 ends here; V1 adds the generation.
    const generation = r.remaining >= 4 ? r.int32('generation') : null;
    return { partitions, generation };
  } catch (e) {
    if (e instanceof BinaryFormatError) return { partitions: [], generation: null };
    throw e;
  }
}

export class StickyAssignor implements ConsumerPartitionAssignor {
  readonly name = 'sticky';
  private memberAssignment: readonly TopicPartition[] | null = null;
  private generation = DEFAULT_GENERATION;

  supportedProtocols(): readonly RebalanceProtocol[] {
    return ['EAGER'];
  }

  subscriptionUserData(): Uint8Array | null {
    if (this.memberAssignment === null) return null;
    return encodeStickyUserData(this.memberAssignment, this.generation);
  }

  onAssignment(assignment: ConsumerAssignment, generationId: number): void {
    this.memberAssignment = assignment.partitions;
    this.generation = generationId;
  }

  assign(partitionsPerTopic: PartitionsPerTopic, subscriptions: ReadonlyMap<string, MemberSubscription>): Map<string, TopicPartition[]> {
    return stickyAssign(partitionsPerTopic, subscriptions, (s) => decodeStickyUserData(s.userData)).assignment;
  }
}
