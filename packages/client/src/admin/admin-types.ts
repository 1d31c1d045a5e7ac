// What the Admin takes and returns (Kafka's AdminClient shapes, as plain objects).

export interface NewTopic {
  name: string;
  /** Default -1: the broker's num.partitions. */
  numPartitions?: number;
  /** Default -1: the broker's default.replication.factor. */
  replicationFactor?: number;
  /** Explicit replicas per partition (then numPartitions and replicationFactor stay unset). */
  replicaAssignment?: Record<number, number[]>;
  configs?: Record<string, string | number | boolean>;
}

export interface CreatedTopic {
  name: string;
  numPartitions: number;
  replicationFactor: number;
}

export interface AdminCallOptions {
  /** Overall time for the call, retries included; default default.api.timeout.ms. */
  timeoutMs?: number;
}

export interface ValidateOnlyOptions extends AdminCallOptions {
  /** Check the request on the controller without applying it. */
  validateOnly?: boolean;
}

export interface PartitionDescription {
  partition: number;
  /** -1 when offline. */
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  offlineReplicas: number[];
  /** Fewer in-sync replicas than replicas. */
  underReplicated: boolean;
}

export interface TopicDescription {
  name: string;
  internal: boolean;
  partitions: PartitionDescription[];
}

export interface ClusterDescription {
  clusterId: string;
  /** -1 when no controller is known. */
  controllerId: number;
  brokers: Array<{ id: number; host: string; port: number; rack: string | null }>;
}

export type ConfigResourceType = 'topic' | 'broker';

export interface ConfigResourceSpec {
  type: ConfigResourceType;
  /** Topic name, or broker id as a string. */
  name: string;
  /** Only these keys; default all. */
  keys?: string[];
}

export interface ConfigEntryDescription {
  name: string;
  value: string;
  readOnly: boolean;
  isDefault: boolean;
  source: string;
  sensitive: boolean;
}

export interface ResourceConfigs {
  type: ConfigResourceType;
  name: string;
  configs: ConfigEntryDescription[];
}

export type AlterConfigOp = { name: string; op: 'SET'; value: string } | { name: string; op: 'DELETE' };

export interface AlterConfigsSpec {
  type: ConfigResourceType;
  name: string;
  ops: AlterConfigOp[];
}

/** earliest, latest, or the first offset whose timestamp is at or after `timestamp`. */
export type OffsetSpec = 'earliest' | 'latest' | { timestamp: number };

export interface ListOffsetsSpec {
  topic: string;
  partition: number;
  spec: OffsetSpec;
}

export interface ListedOffset {
  topic: string;
  partition: number;
  /** -1 when no record has a timestamp at or after the one asked for. */
  offset: number;
  timestamp: number;
  leaderEpoch: number;
}

// ---- consumer groups ----

export interface ListGroupsOptions extends AdminCallOptions {
  /** Only groups in these states ('Stable', 'Empty', 'PreparingRebalance', 'CompletingRebalance', 'Dead'). */
  states?: string[];
}

export interface GroupListing {
  groupId: string;
  protocolType: string;
  state: string;
  /** The broker coordinating the group. */
  coordinatorId: number;
}

export interface GroupMemberDescription {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  host: string;
  /** Decoded from the member's ConsumerProtocol assignment ([] for other protocol types). */
  assignment: Array<{ topic: string; partition: number }>;
}

export interface GroupDescription {
  groupId: string;
  /** Kafka's group states; 'Dead' for a group the coordinator does not know. */
  state: string;
  protocolType: string;
  /** The chosen assignor while Stable ('' otherwise). */
  assignor: string;
  coordinator: { id: number; host: string; port: number };
  members: GroupMemberDescription[];
}

export interface DeletedGroup {
  groupId: string;
  /** Kafka's error name (NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND, …), null when deleted. */
  error: string | null;
}

export interface GroupOffset {
  topic: string;
  partition: number;
  offset: number;
  leaderEpoch: number;
  metadata: string;
}

export interface GroupPartitionLag {
  topic: string;
  partition: number;
  /** -1 when nothing is committed (then lag is the whole log: log end minus log start). */
  committedOffset: number;
  logEndOffset: number;
  lag: number;
}

export interface GroupLagPartitionStatus {
  topic: string;
  partition: number;
  committedOffset: number;
  logEndOffset: number;
  lag: number;
  /** Burrow's partition status: OK, WARN, STALL, STOP, REWIND. */
  status: string;
  /** ms since the epoch of the last commit, -1 when none. */
  commitTimestampMs: number;
}

export interface GroupLagStatus {
  groupId: string;
  /** Burrow's group status: OK, WARN, ERR. */
  status: string;
  maxLag: number;
  totalLag: number;
  partitions: GroupLagPartitionStatus[];
}

export type ResetOffsetsStrategy = 'earliest' | 'latest' | 'to-offset' | 'to-timestamp' | 'shift-by';

export interface ResetOffsetsSpec {
  /** Topics to reset; default every topic the group has committed offsets for. */
  topics?: string[];
  strategy: ResetOffsetsStrategy;
  /** The offset (to-offset), timestamp in ms (to-timestamp) or shift (shift-by, may be negative). */
  value?: number;
  /** Compute and return the new offsets without committing them. */
  dryRun?: boolean;
}

export interface GroupOffsetChange {
  topic: string;
  partition: number;
  offset: number;
}
