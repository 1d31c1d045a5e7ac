// The records of __consumer_offsets, in Kafka's own binary schemas (GroupMetadataManager's
// message formats), so the topic reads like Kafka's and every record says its version.
//
// Key (version:int16 first):
//   v0, v1  OffsetCommitKey      group:string topic:string partition:int32
//   v2      GroupMetadataKey     group:string
// OffsetCommitValue (version:int16 first; samsa writes v3):
//   v0 offset:int64 metadata:string commitTimestamp:int64
//   v1 … + expireTimestamp:int64 (-1 none)      v2 = v0      v3 offset leaderEpoch:int32 metadata commitTimestamp
// GroupMetadataValue (samsa writes v3):
//   protocolType:string generation:int32 protocol:nullable string leader:nullable string
//   v2+ currentStateTimestamp:int64 (-1 none)
//   members:[memberId:string (v3+ groupInstanceId:nullable string) clientId:string clientHost:string
//            (v1+ rebalanceTimeout:int32) sessionTimeout:int32 subscription:bytes assignment:bytes]
// A null value is a tombstone: the offset, or the group, is deleted (and compaction removes it).
//
// Decoding never trusts the bytes (they come from disk or from another broker): every length is
// checked and any problem is a BinaryFormatError with a stable code.

import { BinaryFormatError, KafkaBinaryReader, KafkaBinaryWriter } from '@samsa/client';

export const OFFSET_COMMIT_KEY_VERSION = 1;
export const GROUP_METADATA_KEY_VERSION = 2;
export const OFFSET_COMMIT_VALUE_VERSION = 3;
export const GROUP_METADATA_VALUE_VERSION = 3;

/** leaderEpoch / timestamps Kafka writes as -1 when absent. */
export const NO_LEADER_EPOCH = -1;

export interface OffsetCommitKey {
  readonly type: 'offset';
  readonly groupId: string;
  readonly topic: string;
  readonly partition: number;
}

export interface GroupMetadataKey {
  readonly type: 'group';
  readonly groupId: string;
}

export type OffsetsRecordKey = OffsetCommitKey | GroupMetadataKey;

export interface OffsetCommitValue {
  readonly offset: number;
  /** The leader epoch of the last consumed record (NO_LEADER_EPOCH when unknown). */
  readonly leaderEpoch: number;
  readonly metadata: string;
  readonly commitTimestampMs: number;
  /** Only v1 records carry a per-offset expiry (old clients' retention time); null otherwise. */
  readonly expireTimestampMs: number | null;
}

export interface GroupMemberRecord {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly rebalanceTimeoutMs: number;
  readonly sessionTimeoutMs: number;
  /** The member's metadata for the group's protocol (a ConsumerProtocol subscription for consumers). */
  readonly subscription: Uint8Array;
  readonly assignment: Uint8Array;
}

export interface GroupMetadataValue {
  /** '' when the group never had a protocol type. */
  readonly protocolType: string;
  readonly generationId: number;
  readonly protocolName: string | null;
  readonly leaderId: string | null;
  /** When the group entered its current state; null when unknown (records before v2). */
  readonly currentStateTimestampMs: number | null;
  readonly members: readonly GroupMemberRecord[];
}

export type OffsetsTopicRecord =
  | { readonly key: OffsetCommitKey; readonly value: OffsetCommitValue | null }
  | { readonly key: GroupMetadataKey; readonly value: GroupMetadataValue | null };

/** A record as bytes, ready to append (value null = tombstone). */
export interface EncodedRecord {
  readonly key: Uint8Array;
  readonly value: Uint8Array | null;
}

const UNBOUNDED = Number.MAX_SAFE_INTEGER; // lengths are still checked against the bytes left

export function encodeOffsetCommitKey(groupId: string, topic: string, partition: number): Uint8Array {
  return new KafkaBinaryWriter(16 + groupId.length + topic.length).int16(OFFSET_COMMIT_KEY_VERSION).string(groupId).string(topic).int32(partition).finish();
}

export function encodeGroupMetadataKey(groupId: string): Uint8Array {
  return new KafkaBinaryWriter(8 + groupId.length).int16(GROUP_METADATA_KEY_VERSION).string(groupId).finish();
}

export function encodeOffsetCommitValue(v: OffsetCommitValue, version = OFFSET_COMMIT_VALUE_VERSION): Uint8Array {
  const w = new KafkaBinaryWriter(32 + v.metadata.length);
  w.int16(version);
  switch (version) {
    case 0:
    case 2:
      return w.int64(v.offset).string(v.metadata).int64(v.commitTimestampMs).finish();
    case 1:
      return w.int64(v.offset).string(v.metadata).int64(v.commitTimestampMs).int64(v.expireTimestampMs ?? -1).finish();
    case 3:
      return w.int64(v.offset).int32(v.leaderEpoch).string(v.metadata).int64(v.commitTimestampMs).finish();
    default:
      throw new BinaryFormatError('UNSUPPORTED_VERSION', `offset commit value version ${version} is not in [0, 3]`);
  }
}

export function encodeGroupMetadataValue(v: GroupMetadataValue, version = GROUP_METADATA_VALUE_VERSION): Uint8Array {
  if (!Number.isInteger(version) || version < 0 || version > 3) {
    throw new BinaryFormatError('UNSUPPORTED_VERSION', `group metadata value version ${version} is not in [0, 3]`);
  }
  const w = new KafkaBinaryWriter(64);
  w.int16(version).string(v.protocolType).int32(v.generationId).nullableString(v.protocolName).nullableString(v.leaderId);
  if (version >= 2) w.int64(v.currentStateTimestampMs ?? -1);
  w.int32(v.members.length);
  for (const m of v.members) {
    w.string(m.memberId);
    if (version >= 3) w.nullableString(m.groupInstanceId);
    w.string(m.clientId).string(m.clientHost);
    if (version >= 1) w.int32(m.rebalanceTimeoutMs);
    w.int32(m.sessionTimeoutMs).bytes(m.subscription).bytes(m.assignment);
  }
  return w.finish();
}

export function encodeOffsetsRecord(record: OffsetsTopicRecord): EncodedRecord {
  if (record.key.type === 'offset') {
    const value = record.value as OffsetCommitValue | null;
    return {
      key: encodeOffsetCommitKey(record.key.groupId, record.key.topic, record.key.partition),
      value: value === null ? null : encodeOffsetCommitValue(value),
    };
  }
  const value = record.value as GroupMetadataValue | null;
  return { key: encodeGroupMetadataKey(record.key.groupId), value: value === null ? null : encodeGroupMetadataValue(value) };
}

export function decodeOffsetsRecordKey(bytes: Uint8Array): OffsetsRecordKey {
  const r = new KafkaBinaryReader(bytes, '__consumer_offsets key');
  const version = r.int16('key version');
  let key: OffsetsRecordKey;
  if (version === 0 || version === 1) {
    const groupId = r.string('group');
    const topic = r.string('topic');
    const partition = r.int32('partition');
    if (partition < 0) throw new BinaryFormatError('MALFORMED', `__consumer_offsets key: negative partition ${partition}`);
    key = { type: 'offset', groupId, topic, partition };
  } else if (version === 2) {
    key = { type: 'group', groupId: r.string('group') };
  } else {
    throw new BinaryFormatError('UNSUPPORTED_VERSION', `__consumer_offsets key version ${version} is not one samsa knows (0-2)`);
  }
  r.expectEnd();
  return key;
}

export function decodeOffsetCommitValue(bytes: Uint8Array): OffsetCommitValue {
  const r = new KafkaBinaryReader(bytes, 'offset commit value');
  const version = r.int16('version');
  let value: OffsetCommitValue;
  if (version === 0 || version === 2) {
    value = { offset: r.int64('offset'), leaderEpoch: NO_LEADER_EPOCH, metadata: r.string('metadata'), commitTimestampMs: r.int64('commitTimestamp'), expireTimestampMs: null };
  } else if (version === 1) {
    const offset = r.int64('offset');
    const metadata = r.string('metadata');
    const commitTimestampMs = r.int64('commitTimestamp');
    const expire = r.int64('expireTimestamp');
    value = { offset, leaderEpoch: NO_LEADER_EPOCH, metadata, commitTimestampMs, expireTimestampMs: expire === -1 ? null : expire };
  } else if (version === 3) {
    value = { offset: r.int64('offset'), leaderEpoch: r.int32('leaderEpoch'), metadata: r.string('metadata'), commitTimestampMs: r.int64('commitTimestamp'), expireTimestampMs: null };
  } else {
    throw new BinaryFormatError('UNSUPPORTED_VERSION', `offset commit value version ${version} is not one samsa knows (0-3)`);
  }
  r.expectEnd();
  return value;
}

// Smallest encoded member: four empty strings' lengths (2 each at v0), session timeout, two empty byte arrays.
const MIN_MEMBER_BYTES = 2 + 2 + 2 + 4 + 4 + 4;

export function decodeGroupMetadataValue(bytes: Uint8Array): GroupMetadataValue {
  const r = new KafkaBinaryReader(bytes, 'group metadata value');
  const version = r.int16('version');
  if (version < 0 || version > 3) {
    throw new BinaryFormatError('UNSUPPORTED_VERSION', `group metadata value version ${version} is not one samsa knows (0-3)`);
  }
  const protocolType = r.string('protocolType');
  const generationId = r.int32('generation');
  const protocolName = r.nullableString('protocol');
  const leaderId = r.nullableString('leader');
  let currentStateTimestampMs: number | null = null;
  if (version >= 2) {
    const ts = r.int64('currentStateTimestamp');
    currentStateTimestampMs = ts === -1 ? null : ts;
  }
  const count = r.arrayCount('members', UNBOUNDED, MIN_MEMBER_BYTES);
  const members: GroupMemberRecord[] = [];
  for (let i = 0; i < count; i++) {
    const memberId = r.string('memberId');
    const groupInstanceId = version >= 3 ? r.nullableString('groupInstanceId') : null;
    const clientId = r.string('clientId');
    const clientHost = r.string('clientHost');
    const rebalanceTimeout = version >= 1 ? r.int32('rebalanceTimeout') : null;
    const sessionTimeoutMs = r.int32('sessionTimeout');
    const subscription = r.bytes('subscription', UNBOUNDED);
    const assignment = r.bytes('assignment', UNBOUNDED);
    members.push({
      memberId,
      groupInstanceId,
      clientId,
      clientHost,
      // v0 had one timeout for both (Kafka reads it so).
      rebalanceTimeoutMs: rebalanceTimeout ?? sessionTimeoutMs,
      sessionTimeoutMs,
      subscription,
      assignment,
    });
  }
  r.expectEnd();
  return { protocolType, generationId, protocolName, leaderId, currentStateTimestampMs, members };
}

/** A record read back from the log. Throws BinaryFormatError (the loader decides to skip or stop). */
export function decodeOffsetsRecord(key: Uint8Array, value: Uint8Array | null): OffsetsTopicRecord {
  const k = decodeOffsetsRecordKey(key);
  if (k.type === 'offset') return { key: k, value: value === null ? null : decodeOffsetCommitValue(value) };
  return { key: k, value: value === null ? null : decodeGroupMetadataValue(value) };
}
