// Kafka's ConsumerProtocol: the bytes a consumer puts in its JoinGroup protocol metadata (its
// Subscription) and the bytes the leader puts in SyncGroup for each member (its Assignment). The
// group coordinator treats them as opaque, except that it reads the subscribed topics (the v0
// prefix) to know which offsets a group still uses. Binary layout, as Kafka's
// ConsumerProtocolSubscription.json / ConsumerProtocolAssignment.json (non-flexible):
//
//   Subscription  version:int16 | topics:[string] | userData:nullable bytes
//                 v1+: ownedPartitions:[topic:string partitions:[int32]]
//                 v2+: generationId:int32 (-1 = none)      v3+: rackId:nullable string
//   Assignment    version:int16 | assignedPartitions:[topic:string partitions:[int32]] | userData:nullable bytes
//                 (versions 0–3 share this layout)
//
// A version newer than we know is read as the newest we know (every version is a prefix of the
// next, Kafka's rule), so an older consumer can still lead a group with newer members.

import type { TopicPartition } from '../../protocol/wire-types.js';
import { BinaryFormatError, KafkaBinaryReader, KafkaBinaryWriter } from './kafka-binary.js';

export const CONSUMER_PROTOCOL_TYPE = 'consumer';
export const CONSUMER_SUBSCRIPTION_VERSION_MAX = 3;
export const CONSUMER_ASSIGNMENT_VERSION_MAX = 3;
/** Kafka's DEFAULT_GENERATION: the subscription carries no generation. */
export const NO_GENERATION = -1;

export interface ConsumerSubscription {
  readonly topics: readonly string[];
  readonly userData: Uint8Array | null;
  /** The partitions the member owns as it joins (v1+; cooperative rebalancing relies on it). */
  readonly ownedPartitions: readonly TopicPartition[];
  /** The generation those partitions were assigned in (v2+); NO_GENERATION when unknown. */
  readonly generationId: number;
  readonly rackId: string | null;
}

export interface ConsumerAssignment {
  readonly partitions: readonly TopicPartition[];
  readonly userData: Uint8Array | null;
}

/** Bounds on what a decoder accepts (a leader decodes every member's bytes). */
export interface ConsumerProtocolLimits {
  readonly maxTopics: number;
  readonly maxPartitions: number;
  readonly maxUserDataBytes: number;
}

export const DEFAULT_CONSUMER_PROTOCOL_LIMITS: ConsumerProtocolLimits = {
  maxTopics: 10_000,
  maxPartitions: 200_000,
  maxUserDataBytes: 1024 * 1024,
};

// Smallest encodings, used to refuse counts that cannot fit in the bytes left.
const MIN_STRING_BYTES = 2;
const MIN_TOPIC_PARTITIONS_BYTES = MIN_STRING_BYTES + 4;

export function subscription(
  topics: readonly string[],
  options: Partial<Omit<ConsumerSubscription, 'topics'>> = {},
): ConsumerSubscription {
  return {
    topics,
    userData: options.userData ?? null,
    ownedPartitions: options.ownedPartitions ?? [],
    generationId: options.generationId ?? NO_GENERATION,
    rackId: options.rackId ?? null,
  };
}

function checkVersion(version: number, max: number, what: string): void {
  if (!Number.isInteger(version) || version < 0 || version > max) {
    throw new BinaryFormatError('UNSUPPORTED_VERSION', `${what} version ${String(version)} is not in [0, ${max}]`);
  }
}

/** Groups partitions by topic in order of first appearance (partition order kept within a topic). */
function byTopic(partitions: readonly TopicPartition[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const tp of partitions) {
    let list = out.get(tp.topic);
    if (!list) out.set(tp.topic, (list = []));
    list.push(tp.partition);
  }
  return out;
}

function writeTopicPartitions(w: KafkaBinaryWriter, partitions: readonly TopicPartition[]): void {
  const grouped = byTopic(partitions);
  w.int32(grouped.size);
  for (const [topic, parts] of grouped) {
    w.string(topic);
    w.int32(parts.length);
    for (const p of parts) w.int32(p);
  }
}

function readTopicPartitions(r: KafkaBinaryReader, field: string, limits: ConsumerProtocolLimits): TopicPartition[] {
  const out: TopicPartition[] = [];
  const topics = r.arrayCount(field, limits.maxTopics, MIN_TOPIC_PARTITIONS_BYTES);
  for (let i = 0; i < topics; i++) {
    const topic = r.string(`${field} topic`);
    const n = r.arrayCount(`${field} partitions`, limits.maxPartitions - out.length, 4);
    for (let j = 0; j < n; j++) {
      const partition = r.int32(`${field} partition`);
      if (partition < 0) throw new BinaryFormatError('MALFORMED', `${field}: negative partition ${partition} of topic ${topic}`);
      out.push({ topic, partition });
    }
  }
  return out;
}

export function encodeSubscription(sub: ConsumerSubscription, version = CONSUMER_SUBSCRIPTION_VERSION_MAX): Uint8Array {
  checkVersion(version, CONSUMER_SUBSCRIPTION_VERSION_MAX, 'subscription');
  const w = new KafkaBinaryWriter(64);
  w.int16(version);
  w.int32(sub.topics.length);
  for (const t of sub.topics) w.string(t);
  w.nullableBytes(sub.userData);
  if (version >= 1) writeTopicPartitions(w, sub.ownedPartitions);
  if (version >= 2) w.int32(sub.generationId);
  if (version >= 3) w.nullableString(sub.rackId);
  return w.finish();
}

/** The version field of a subscription or assignment (its first two bytes). */
export function consumerProtocolVersion(bytes: Uint8Array): number {
  return new KafkaBinaryReader(bytes, 'consumer protocol').int16('version');
}

export function decodeSubscription(bytes: Uint8Array, limits: ConsumerProtocolLimits = DEFAULT_CONSUMER_PROTOCOL_LIMITS): ConsumerSubscription {
  const r = new KafkaBinaryReader(bytes, 'subscription');
  const wireVersion = r.int16('version');
  if (wireVersion < 0) throw new BinaryFormatError('UNSUPPORTED_VERSION', `subscription version ${wireVersion} is negative`);
  const version = Math.min(wireVersion, CONSUMER_SUBSCRIPTION_VERSION_MAX);
  const topicCount = r.arrayCount('topics', limits.maxTopics, MIN_STRING_BYTES);
  const topics: string[] = [];
  for (let i = 0; i < topicCount; i++) topics.push(r.string('topic'));
  const userData = r.nullableBytes('userData', limits.maxUserDataBytes);
  const ownedPartitions = version >= 1 ? readTopicPartitions(r, 'ownedPartitions', limits) : [];
  const generationId = version >= 2 ? r.int32('generationId') : NO_GENERATION;
  const rackId = version >= 3 ? r.nullableString('rackId') : null;
  // Fields a newer version appended are ignored; a version we know must end here.
  if (wireVersion <= CONSUMER_SUBSCRIPTION_VERSION_MAX) r.expectEnd();
  return { topics, userData, ownedPartitions, generationId, rackId };
}

/** Only the subscribed topics (the v0 prefix every version shares), as the group coordinator reads them. */
export function decodeSubscribedTopics(bytes: Uint8Array, limits: ConsumerProtocolLimits = DEFAULT_CONSUMER_PROTOCOL_LIMITS): string[] {
  const r = new KafkaBinaryReader(bytes, 'subscription');
  const version = r.int16('version');
  if (version < 0) throw new BinaryFormatError('UNSUPPORTED_VERSION', `subscription version ${version} is negative`);
  const topicCount = r.arrayCount('topics', limits.maxTopics, MIN_STRING_BYTES);
  const topics: string[] = [];
  for (let i = 0; i < topicCount; i++) topics.push(r.string('topic'));
  return topics;
}

export function encodeAssignment(assignment: ConsumerAssignment, version = CONSUMER_ASSIGNMENT_VERSION_MAX): Uint8Array {
  checkVersion(version, CONSUMER_ASSIGNMENT_VERSION_MAX, 'assignment');
  const w = new KafkaBinaryWriter(64);
  w.int16(version);
  writeTopicPartitions(w, assignment.partitions);
  w.nullableBytes(assignment.userData);
  return w.finish();
}

/**
 * An assignment's bytes. Empty bytes decode as an empty assignment: the coordinator hands those to
 * members the leader left out, and on errors.
 */
export function decodeAssignment(bytes: Uint8Array, limits: ConsumerProtocolLimits = DEFAULT_CONSUMER_PROTOCOL_LIMITS): ConsumerAssignment {
  if (bytes.length === 0) return { partitions: [], userData: null };
  const r = new KafkaBinaryReader(bytes, 'assignment');
  const wireVersion = r.int16('version');
  if (wireVersion < 0) throw new BinaryFormatError('UNSUPPORTED_VERSION', `assignment version ${wireVersion} is negative`);
  const partitions = readTopicPartitions(r, 'assignedPartitions', limits);
  const userData = r.nullableBytes('userData', limits.maxUserDataBytes);
  if (wireVersion <= CONSUMER_ASSIGNMENT_VERSION_MAX) r.expectEnd();
  return { partitions, userData };
}
