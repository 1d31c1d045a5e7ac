// TypeScript shapes of broker.proto's consumer-group messages (Kafka's classic group protocol), as
// @grpc/proto-loader hands them over: camelCase, longs as numbers, bytes as Buffer, defaults
// filled in. Nullable strings of Kafka (group_instance_id) are '' for null on the wire.

import type { WireError } from './wire-types.js';

/** FindCoordinator key_type for a consumer group (transactional ids are not supported). */
export const COORDINATOR_KEY_TYPE_GROUP = 0;

export interface FindCoordinatorRequest { key: string; keyType: number }
export interface FindCoordinatorResponse { error: WireError; nodeId: number; host: string; port: number }

export interface JoinGroupProtocol { name: string; metadata: Uint8Array }
export interface JoinGroupRequest {
  groupId: string; sessionTimeoutMs: number; rebalanceTimeoutMs: number; memberId: string; groupInstanceId: string;
  protocolType: string; protocols: JoinGroupProtocol[]; reason: string; clientId: string;
}
export interface JoinGroupMember { memberId: string; groupInstanceId: string; metadata: Uint8Array }
export interface JoinGroupResponse {
  error: WireError; generationId: number; protocolType: string; protocolName: string; leader: string;
  skipAssignment: boolean; memberId: string; members: JoinGroupMember[];
}

export interface SyncGroupAssignment { memberId: string; assignment: Uint8Array }
export interface SyncGroupRequest {
  groupId: string; generationId: number; memberId: string; groupInstanceId: string; protocolType: string;
  protocolName: string; assignments: SyncGroupAssignment[];
}
export interface SyncGroupResponse { error: WireError; protocolType: string; protocolName: string; assignment: Uint8Array }

export interface HeartbeatRequest { groupId: string; generationId: number; memberId: string; groupInstanceId: string }
export interface HeartbeatResponse { error: WireError }

export interface LeaveGroupMember { memberId: string; groupInstanceId: string; reason: string }
export interface LeaveGroupRequest { groupId: string; members: LeaveGroupMember[] }
export interface LeaveGroupMemberResponse { memberId: string; groupInstanceId: string; error: WireError }
export interface LeaveGroupResponse { error: WireError; members: LeaveGroupMemberResponse[] }

export interface OffsetCommitPartition { partition: number; committedOffset: number; committedLeaderEpoch: number; committedMetadata: string }
export interface OffsetCommitTopic { topic: string; partitions: OffsetCommitPartition[] }
export interface OffsetCommitRequest { groupId: string; generationId: number; memberId: string; groupInstanceId: string; topics: OffsetCommitTopic[] }
export interface OffsetCommitPartitionResponse { partition: number; error: WireError }
export interface OffsetCommitTopicResponse { topic: string; partitions: OffsetCommitPartitionResponse[] }
export interface OffsetCommitResponse { topics: OffsetCommitTopicResponse[] }

export interface OffsetFetchTopic { topic: string; partitions: number[] }
export interface OffsetFetchRequest { groupId: string; topics: OffsetFetchTopic[]; allTopics: boolean }
export interface OffsetFetchPartitionResponse { partition: number; committedOffset: number; committedLeaderEpoch: number; metadata: string; error: WireError }
export interface OffsetFetchTopicResponse { topic: string; partitions: OffsetFetchPartitionResponse[] }
export interface OffsetFetchResponse { error: WireError; topics: OffsetFetchTopicResponse[] }

export interface OffsetDeleteRequest { groupId: string; topics: OffsetFetchTopic[] }
export interface OffsetDeleteResponse { error: WireError; topics: OffsetCommitTopicResponse[] }

export interface ListGroupsRequest { statesFilter: string[] }
export interface ListedGroup { groupId: string; protocolType: string; groupState: string }
export interface ListGroupsResponse { error: WireError; groups: ListedGroup[] }

export interface DescribeGroupsRequest { groups: string[] }
export interface DescribedGroupMember {
  memberId: string; groupInstanceId: string; clientId: string; clientHost: string; memberMetadata: Uint8Array; memberAssignment: Uint8Array;
}
export interface DescribedGroup { error: WireError; groupId: string; groupState: string; protocolType: string; protocolData: string; members: DescribedGroupMember[] }
export interface DescribeGroupsResponse { groups: DescribedGroup[] }

export interface DeleteGroupsRequest { groups: string[] }
export interface DeletableGroupResult { groupId: string; error: WireError }
export interface DeleteGroupsResponse { results: DeletableGroupResult[] }

export interface GroupLagRequest { groups: string[] }
export interface PartitionLag {
  topic: string; partition: number; committedOffset: number; logEndOffset: number; lag: number; status: string; commitTimestamp: number;
}
export interface GroupLag { error: WireError; groupId: string; status: string; maxLag: number; totalLag: number; partitions: PartitionLag[] }
export interface GroupLagResponse { groups: GroupLag[] }
