// TypeScript shapes of broker.proto messages as @grpc/proto-loader hands them over (camelCase,
// longs as numbers, enums as strings, defaults filled in). Requests may omit defaulted fields.

import type { WireKafkaError } from './errors.js';

export type WireError = WireKafkaError | null;

export interface MetadataRequest { topics: string[]; allTopics: boolean }
export interface BrokerInfo { id: number; host: string; port: number; rack: string }
export interface PartitionMetadata {
  error: WireError; partition: number; leader: number; leaderEpoch: number;
  replicas: number[]; isr: number[]; offlineReplicas: number[];
}
export interface TopicMetadata { error: WireError; name: string; isInternal: boolean; partitions: PartitionMetadata[] }
export interface MetadataResponse { brokers: BrokerInfo[]; controllerId: number; clusterId: string; topics: TopicMetadata[] }

export interface PartitionRecords { partition: number; records: Buffer }
export interface TopicRecords { topic: string; partitions: PartitionRecords[] }
export interface ProduceRequest { acks: number; timeoutMs: number; topics: TopicRecords[] }
export interface PartitionProduceResponse { partition: number; error: WireError; baseOffset: number; logAppendTime: number; logStartOffset: number }
export interface TopicProduceResponse { topic: string; partitions: PartitionProduceResponse[] }
export interface ProduceResponse { topics: TopicProduceResponse[] }

export interface FetchPartition {
  partition: number; fetchOffset: number; partitionMaxBytes: number; currentLeaderEpoch: number;
  logStartOffset: number; lastFetchedEpoch: number;
}
export interface FetchTopic { topic: string; partitions: FetchPartition[] }
export interface FetchRequest { replicaId: number; maxWaitMs: number; minBytes: number; maxBytes: number; topics: FetchTopic[]; replicaEpoch: number }
export interface EpochEndOffset { epoch: number; endOffset: number }
export interface FetchPartitionResponse {
  partition: number; error: WireError; highWatermark: number; logStartOffset: number; logEndOffset: number;
  records: Buffer; divergingEpoch: EpochEndOffset | null;
}
export interface FetchTopicResponse { topic: string; partitions: FetchPartitionResponse[] }
export interface FetchResponse { error: WireError; topics: FetchTopicResponse[] }

/** A request on a ProduceStream or FetchStream, and its answer (response, or an error for the whole request). */
export interface StreamRequest<Req> { correlationId: number; request: Req }
export interface StreamResponse<Res> { correlationId: number; response: Res | null; error: WireError }

export interface ListOffsetsPartition { partition: number; timestamp: number; currentLeaderEpoch: number }
export interface ListOffsetsTopic { topic: string; partitions: ListOffsetsPartition[] }
export interface ListOffsetsRequest { topics: ListOffsetsTopic[] }
export interface ListOffsetsPartitionResponse { partition: number; error: WireError; timestamp: number; offset: number; leaderEpoch: number }
export interface ListOffsetsTopicResponse { topic: string; partitions: ListOffsetsPartitionResponse[] }
export interface ListOffsetsResponse { topics: ListOffsetsTopicResponse[] }

export const LATEST_TIMESTAMP = -1;
export const EARLIEST_TIMESTAMP = -2;

export interface ConfigEntry { name: string; value: string }
export interface ReplicaAssignment { partition: number; replicas: number[] }
export interface CreatableTopic { name: string; numPartitions: number; replicationFactor: number; assignments: ReplicaAssignment[]; configs: ConfigEntry[] }
export interface CreateTopicsRequest { topics: CreatableTopic[]; timeoutMs: number; validateOnly: boolean }
export interface CreateTopicResult { name: string; error: WireError; numPartitions: number; replicationFactor: number }
export interface CreateTopicsResponse { topics: CreateTopicResult[] }

export interface DeleteTopicsRequest { names: string[]; timeoutMs: number }
export interface DeleteTopicResult { name: string; error: WireError }
export interface DeleteTopicsResponse { results: DeleteTopicResult[] }

export interface CreatePartitionsTopic { name: string; count: number }
export interface CreatePartitionsRequest { topics: CreatePartitionsTopic[]; timeoutMs: number; validateOnly: boolean }
export interface CreatePartitionsResult { name: string; error: WireError }
export interface CreatePartitionsResponse { results: CreatePartitionsResult[] }

export type ResourceType = 'UNKNOWN_RESOURCE' | 'TOPIC' | 'BROKER';
export interface ConfigResource { type: ResourceType; name: string; keys: string[] }
export interface DescribeConfigsRequest { resources: ConfigResource[] }
export type ConfigSource = 'DEFAULT_CONFIG' | 'STATIC_BROKER_CONFIG' | 'DYNAMIC_TOPIC_CONFIG' | 'DYNAMIC_BROKER_CONFIG';
export interface DescribedConfig { name: string; value: string; readOnly: boolean; isDefault: boolean; source: ConfigSource; sensitive: boolean }
export interface DescribeConfigsResult { type: ResourceType; name: string; error: WireError; configs: DescribedConfig[] }
export interface DescribeConfigsResponse { results: DescribeConfigsResult[] }

export type AlterOp = 'SET' | 'DELETE';
export interface AlterableConfig { name: string; value: string; op: AlterOp }
export interface AlterConfigsResource { type: ResourceType; name: string; configs: AlterableConfig[] }
export interface AlterConfigsRequest { resources: AlterConfigsResource[]; validateOnly: boolean }
export interface AlterConfigsResult { type: ResourceType; name: string; error: WireError }
export interface AlterConfigsResponse { results: AlterConfigsResult[] }

export interface InitProducerIdRequest { transactionalId: string; transactionTimeoutMs: number }
export interface InitProducerIdResponse { error: WireError; producerId: number; producerEpoch: number }

// ---- broker to broker ----

export interface OffsetForLeaderEpochPartition { partition: number; currentLeaderEpoch: number; leaderEpoch: number }
export interface OffsetForLeaderEpochTopic { topic: string; partitions: OffsetForLeaderEpochPartition[] }
export interface OffsetForLeaderEpochRequest { replicaId: number; topics: OffsetForLeaderEpochTopic[] }
export interface OffsetForLeaderEpochPartitionResponse { partition: number; error: WireError; leaderEpoch: number; endOffset: number }
export interface OffsetForLeaderEpochTopicResponse { topic: string; partitions: OffsetForLeaderEpochPartitionResponse[] }
export interface OffsetForLeaderEpochResponse { topics: OffsetForLeaderEpochTopicResponse[] }

export interface PartitionState {
  topic: string; partition: number; controllerEpoch: number; leader: number; leaderEpoch: number;
  isr: number[]; partitionEpoch: number; replicas: number[];
}
export interface LiveBroker { id: number; host: string; port: number; rack: string }
export interface LeaderAndIsrRequest { controllerId: number; controllerEpoch: number; partitionStates: PartitionState[]; liveBrokers: LiveBroker[] }
export interface PartitionError { topic: string; partition: number; error: WireError }
export interface LeaderAndIsrResponse { error: WireError; partitionErrors: PartitionError[] }
export interface TopicPartition { topic: string; partition: number }
export interface StopReplicaRequest { controllerId: number; controllerEpoch: number; deletePartitions: boolean; partitions: TopicPartition[] }
export interface StopReplicaResponse { error: WireError; partitionErrors: PartitionError[] }
export interface UpdateMetadataRequest {
  controllerId: number; controllerEpoch: number; partitionStates: PartitionState[]; liveBrokers: LiveBroker[]; deletedTopics: string[];
}
export interface UpdateMetadataResponse { error: WireError }
export interface ControlledShutdownRequest { brokerId: number }
export interface ControlledShutdownResponse { error: WireError; remainingPartitions: TopicPartition[] }
