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
