// The inputs and outputs of the group coordinator core (Kafka's classic group protocol, the shapes
// of JoinGroup v9 / SyncGroup v5 / Heartbeat v4 / LeaveGroup v5 / DescribeGroups / ListGroups).
// Errors are Kafka's names (KafkaErrorName from @samsa/client); null means no error.

import type { KafkaErrorName } from '@samsa/client';
import type { EncodedRecord, GroupMetadataValue } from './offsets-records.js';

/** Kafka's group states (GroupState.toString), as DescribeGroups and ListGroups report them. */
export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

export const GROUP_STATES: readonly GroupState[] = ['Empty', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead'];

/** JoinGroupRequest.UNKNOWN_MEMBER_ID: a member that has no member id yet. */
export const UNKNOWN_MEMBER_ID = '';
/** The generation of a member outside group management (simple offset commits, admin tools). */
export const NO_GENERATION = -1;

export interface ProtocolMetadata {
  /** The protocol (for consumers: the assignor name, e.g. 'cooperative-sticky'). */
  readonly name: string;
  readonly metadata: Uint8Array;
}

/**
 * A pending request is named by the adapter's `requestId` (unique among this group's pending
 * requests); its response comes back in a GroupStep's `responses`, now or from a later call.
 */
export interface JoinGroupRequest {
  readonly requestId: number;
  /** UNKNOWN_MEMBER_ID ('') on the first join. */
  readonly memberId: string;
  /** group.instance.id of a static member; null for a dynamic member. */
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  /** session.timeout.ms. */
  readonly sessionTimeoutMs: number;
  /** The consumer's max.poll.interval.ms: how long a rebalance waits for it to rejoin. */
  readonly rebalanceTimeoutMs: number;
  /** 'consumer' for consumer groups. */
  readonly protocolType: string;
  /** Protocols the member supports, most preferred first. */
  readonly protocols: readonly ProtocolMetadata[];
  readonly reason?: string | null;
  /** JoinGroup v4+: a new dynamic member is first told its id with MEMBER_ID_REQUIRED. Default true. */
  readonly requireKnownMemberId?: boolean;
}

export interface JoinGroupResponseMember {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly metadata: Uint8Array;
}

export interface JoinGroupResponse {
  readonly error: KafkaErrorName | null;
  readonly generationId: number;
  readonly protocolType: string | null;
  readonly protocolName: string | null;
  /** '' when there is none. */
  readonly leaderId: string;
  /** The member's id: a new one with MEMBER_ID_REQUIRED or success, the request's otherwise. */
  readonly memberId: string;
  /** A static leader that rejoined a Stable group: it is told it leads, but must not assign. */
  readonly skipAssignment: boolean;
  /** Every member and its metadata for the chosen protocol, for the leader only. */
  readonly members: readonly JoinGroupResponseMember[];
}

export interface SyncGroupAssignment {
  readonly memberId: string;
  readonly assignment: Uint8Array;
}

export interface SyncGroupRequest {
  readonly requestId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly generationId: number;
  /** When set (SyncGroup v5+), must match the group's. */
  readonly protocolType: string | null;
  readonly protocolName: string | null;
  /** The leader's assignment; empty from followers. */
  readonly assignments: readonly SyncGroupAssignment[];
}

export interface SyncGroupResponse {
  readonly error: KafkaErrorName | null;
  readonly protocolType: string | null;
  readonly protocolName: string | null;
  readonly assignment: Uint8Array;
}

export interface HeartbeatRequest {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly generationId: number;
}

export interface HeartbeatResponse {
  readonly error: KafkaErrorName | null;
}

export interface LeaveGroupMember {
  /** UNKNOWN_MEMBER_ID with a groupInstanceId: an administrator removes a static member by instance id. */
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly reason?: string | null;
}

export interface LeaveGroupRequest {
  readonly members: readonly LeaveGroupMember[];
}

export interface LeaveGroupMemberResponse {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly error: KafkaErrorName | null;
}

export interface LeaveGroupResponse {
  readonly error: KafkaErrorName | null;
  readonly members: readonly LeaveGroupMemberResponse[];
}

/** Who commits offsets: a member of the current generation, or (generation −1) a simple consumer / admin. */
export interface OffsetCommitIdentity {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly generationId: number;
}

export interface OffsetCommitCheck {
  readonly error: KafkaErrorName | null;
}

/** A delayed response: JoinGroup and SyncGroup complete when the group is ready. */
export type GroupResponse =
  | { readonly kind: 'join'; readonly requestId: number; readonly response: JoinGroupResponse }
  | { readonly kind: 'sync'; readonly requestId: number; readonly response: SyncGroupResponse };

export type MemberRemovalReason =
  | 'session-timeout' // no heartbeat within session.timeout.ms
  | 'new-member-join-timeout' // a new member's JoinGroup waited longer than newMemberJoinTimeoutMs
  | 'rebalance-timeout' // a dynamic member did not rejoin within the rebalance timeout
  | 'sync-timeout' // a member did not send SyncGroup within the rebalance timeout
  | 'pending-timeout' // a member told MEMBER_ID_REQUIRED did not come back within its session timeout
  | 'leave-group' // LeaveGroup
  | 'over-capacity' // shed from a group above group.max.size
  | 'replaced'; // a static member rejoined with a new member id

export type GroupEffect =
  /**
   * Append `record` (key + value) to the group's __consumer_offsets partition, then report the
   * outcome with onGroupStored(storeId, error). Responses that wait on it are held until then.
   */
  | { readonly type: 'store-group'; readonly storeId: number; readonly groupId: string; readonly value: GroupMetadataValue; readonly record: EncodedRecord }
  /** Append the group's tombstone (best effort: nothing waits on it). */
  | { readonly type: 'delete-group'; readonly groupId: string; readonly record: EncodedRecord }
  | {
      readonly type: 'state-changed';
      readonly groupId: string;
      readonly from: GroupState;
      readonly to: GroupState;
      readonly generationId: number;
      readonly reason: string;
    }
  | {
      readonly type: 'member-removed';
      readonly groupId: string;
      readonly memberId: string;
      readonly groupInstanceId: string | null;
      readonly reason: MemberRemovalReason;
    };

/** Everything one call produced: responses to deliver (possibly to earlier requests) and effects to run. */
export interface GroupStep {
  readonly responses: GroupResponse[];
  readonly effects: GroupEffect[];
}

/** A call with an immediate answer, plus what else it produced. */
export interface GroupReply<R> extends GroupStep {
  readonly response: R;
}

export interface GroupMemberDescription {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  /** The member's metadata for the group's protocol (Stable groups only, else empty). */
  readonly metadata: Uint8Array;
  /** Its assignment (Stable groups only, else empty). */
  readonly assignment: Uint8Array;
}

/** DescribeGroups (Kafka's GroupSummary). */
export interface GroupDescription {
  readonly groupId: string;
  readonly state: GroupState;
  readonly protocolType: string;
  /** The chosen protocol when Stable, '' otherwise. */
  readonly protocolName: string;
  readonly members: readonly GroupMemberDescription[];
}

/** ListGroups (Kafka's GroupOverview). */
export interface GroupOverview {
  readonly groupId: string;
  readonly protocolType: string;
  readonly state: GroupState;
}
