// Settings of the group coordinator, under Kafka's names where Kafka has one (Kafka 3.x defaults),
// and the explicit bounds samsa adds where Kafka has none: every member, protocol, metadata blob
// and stored record has a limit, and going over it is a typed refusal, never unbounded growth.

import { GroupError } from './group-errors.js';

export interface GroupConfig {
  /** group.min.session.timeout.ms: a JoinGroup with a shorter session timeout is refused. Kafka default 6000. */
  readonly groupMinSessionTimeoutMs: number;
  /** group.max.session.timeout.ms. Kafka default 1800000 (30 min). */
  readonly groupMaxSessionTimeoutMs: number;
  /** group.initial.rebalance.delay.ms: how long the first rebalance of an empty group waits for more members. Kafka default 3000. */
  readonly groupInitialRebalanceDelayMs: number;
  /**
   * group.max.size: members per group; more get GROUP_MAX_SIZE_REACHED. Kafka's default is
   * unbounded (Int.MaxValue); samsa bounds it. Members waiting for their member id (pending) are
   * bounded by the same number.
   */
  readonly groupMaxSize: number;
  /** Kafka's NewMemberJoinTimeoutMs: a new member's JoinGroup may wait this long before it is dropped. */
  readonly newMemberJoinTimeoutMs: number;
  /** Protocols (assignors) one member may offer. */
  readonly maxProtocolsPerMember: number;
  /** Length of protocol names and of the protocol type, in characters. */
  readonly protocolNameMaxLength: number;
  /** client.id, client host and group.instance.id lengths, in characters. */
  readonly clientIdMaxLength: number;
  /** The metadata of all the protocols of one member, in bytes. */
  readonly memberMetadataMaxBytes: number;
  /** One member's assignment from the leader, in bytes. */
  readonly memberAssignmentMaxBytes: number;
  /**
   * The group metadata record written to __consumer_offsets (members, subscriptions and
   * assignments). Kafka bounds it by the offsets topic's max.message.bytes, 1048588 by default; a
   * larger one fails the SyncGroup with UNKNOWN_SERVER_ERROR, as Kafka's RECORD_LIST_TOO_LARGE does.
   */
  readonly groupRecordMaxBytes: number;
}

export const DEFAULT_GROUP_CONFIG: GroupConfig = Object.freeze({
  groupMinSessionTimeoutMs: 6_000,
  groupMaxSessionTimeoutMs: 1_800_000,
  groupInitialRebalanceDelayMs: 3_000,
  groupMaxSize: 1_000,
  newMemberJoinTimeoutMs: 300_000,
  maxProtocolsPerMember: 32,
  protocolNameMaxLength: 255,
  clientIdMaxLength: 1_024,
  memberMetadataMaxBytes: 1_048_576,
  memberAssignmentMaxBytes: 1_048_576,
  groupRecordMaxBytes: 1_048_588,
});

export function checkConfigInt(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new GroupError('INVALID_CONFIG', `${name} must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

const INT32_MAX = 2 ** 31 - 1;

/** Fills defaults and checks ranges; throws GroupError INVALID_CONFIG. */
export function resolveGroupConfig(config: Partial<GroupConfig> = {}): GroupConfig {
  const c = { ...DEFAULT_GROUP_CONFIG, ...config };
  const resolved: GroupConfig = {
    groupMinSessionTimeoutMs: checkConfigInt('group.min.session.timeout.ms', c.groupMinSessionTimeoutMs, 1, INT32_MAX),
    groupMaxSessionTimeoutMs: checkConfigInt('group.max.session.timeout.ms', c.groupMaxSessionTimeoutMs, 1, INT32_MAX),
    groupInitialRebalanceDelayMs: checkConfigInt('group.initial.rebalance.delay.ms', c.groupInitialRebalanceDelayMs, 0, INT32_MAX),
    groupMaxSize: checkConfigInt('group.max.size', c.groupMaxSize, 1, 1_000_000),
    newMemberJoinTimeoutMs: checkConfigInt('newMemberJoinTimeoutMs', c.newMemberJoinTimeoutMs, 1, INT32_MAX),
    maxProtocolsPerMember: checkConfigInt('maxProtocolsPerMember', c.maxProtocolsPerMember, 1, 1_000),
    protocolNameMaxLength: checkConfigInt('protocolNameMaxLength', c.protocolNameMaxLength, 1, 32_767),
    clientIdMaxLength: checkConfigInt('clientIdMaxLength', c.clientIdMaxLength, 1, 32_767),
    memberMetadataMaxBytes: checkConfigInt('memberMetadataMaxBytes', c.memberMetadataMaxBytes, 1, INT32_MAX),
    memberAssignmentMaxBytes: checkConfigInt('memberAssignmentMaxBytes', c.memberAssignmentMaxBytes, 1, INT32_MAX),
    groupRecordMaxBytes: checkConfigInt('groupRecordMaxBytes', c.groupRecordMaxBytes, 1, INT32_MAX),
  };
  if (resolved.groupMinSessionTimeoutMs > resolved.groupMaxSessionTimeoutMs) {
    throw new GroupError('INVALID_CONFIG', 'group.min.session.timeout.ms is larger than group.max.session.timeout.ms');
  }
  return Object.freeze(resolved);
}
