// A typed, promise-based stub for one broker's `Broker` service. No retries and no routing here:
// the producer, consumer and admin decide where to send what. Transport failures become
// KafkaErrors as Kafka's clients see them (a dropped connection is NETWORK_EXCEPTION, a missed
// deadline REQUEST_TIMED_OUT), so the retry policy treats every failure one way. Produce and
// Fetch, the hot paths, travel on one request stream each (RequestStream); the rest are unary.

import * as grpc from '@grpc/grpc-js';
import { AbortFanout } from './abort-fanout.js';
import { KafkaError } from './errors.js';
import { BROKER_CHANNEL_OPTIONS, brokerService } from './proto.js';
import { RequestStream } from './request-stream.js';
import type {
  AlterConfigsRequest, AlterConfigsResponse, CreatePartitionsRequest, CreatePartitionsResponse, CreateTopicsRequest,
  CreateTopicsResponse, DeleteTopicsRequest, DeleteTopicsResponse, DescribeConfigsRequest, DescribeConfigsResponse,
  FetchRequest, FetchResponse, InitProducerIdRequest, InitProducerIdResponse, ListOffsetsRequest, ListOffsetsResponse,
  MetadataRequest, MetadataResponse, ProduceRequest, ProduceResponse, StreamRequest, StreamResponse,
} from './wire-types.js';
import type {
  DeleteGroupsRequest, DeleteGroupsResponse, DescribeGroupsRequest, DescribeGroupsResponse, FindCoordinatorRequest,
  FindCoordinatorResponse, GroupLagRequest, GroupLagResponse, HeartbeatRequest, HeartbeatResponse, JoinGroupRequest,
  JoinGroupResponse, LeaveGroupRequest, LeaveGroupResponse, ListGroupsRequest, ListGroupsResponse, OffsetCommitRequest,
  OffsetCommitResponse, OffsetDeleteRequest, OffsetDeleteResponse, OffsetFetchRequest, OffsetFetchResponse,
  SyncGroupRequest, SyncGroupResponse,
} from './group-wire-types.js';

export interface RpcOptions {
  /** The call fails with REQUEST_TIMED_OUT after this long. */
  timeoutMs: number;
  /** Aborting cancels the call; it then fails with NETWORK_EXCEPTION. */
  signal?: AbortSignal;
}

/** The broker API as the client uses it; BrokerRpc speaks it over gRPC. */
export interface BrokerApi {
  metadata(req: MetadataRequest, opts: RpcOptions): Promise<MetadataResponse>;
  produce(req: ProduceRequest, opts: RpcOptions): Promise<ProduceResponse>;
  fetch(req: FetchRequest, opts: RpcOptions): Promise<FetchResponse>;
  listOffsets(req: ListOffsetsRequest, opts: RpcOptions): Promise<ListOffsetsResponse>;
  createTopics(req: CreateTopicsRequest, opts: RpcOptions): Promise<CreateTopicsResponse>;
  deleteTopics(req: DeleteTopicsRequest, opts: RpcOptions): Promise<DeleteTopicsResponse>;
  createPartitions(req: CreatePartitionsRequest, opts: RpcOptions): Promise<CreatePartitionsResponse>;
  describeConfigs(req: DescribeConfigsRequest, opts: RpcOptions): Promise<DescribeConfigsResponse>;
  alterConfigs(req: AlterConfigsRequest, opts: RpcOptions): Promise<AlterConfigsResponse>;
  initProducerId(req: InitProducerIdRequest, opts: RpcOptions): Promise<InitProducerIdResponse>;
  // Consumer groups: every call but findCoordinator goes to the group's coordinator.
  findCoordinator(req: FindCoordinatorRequest, opts: RpcOptions): Promise<FindCoordinatorResponse>;
  joinGroup(req: JoinGroupRequest, opts: RpcOptions): Promise<JoinGroupResponse>;
  syncGroup(req: SyncGroupRequest, opts: RpcOptions): Promise<SyncGroupResponse>;
  heartbeat(req: HeartbeatRequest, opts: RpcOptions): Promise<HeartbeatResponse>;
  leaveGroup(req: LeaveGroupRequest, opts: RpcOptions): Promise<LeaveGroupResponse>;
  offsetCommit(req: OffsetCommitRequest, opts: RpcOptions): Promise<OffsetCommitResponse>;
  offsetFetch(req: OffsetFetchRequest, opts: RpcOptions): Promise<OffsetFetchResponse>;
  offsetDelete(req: OffsetDeleteRequest, opts: RpcOptions): Promise<OffsetDeleteResponse>;
  listGroups(req: ListGroupsRequest, opts: RpcOptions): Promise<ListGroupsResponse>;
  describeGroups(req: DescribeGroupsRequest, opts: RpcOptions): Promise<DescribeGroupsResponse>;
  deleteGroups(req: DeleteGroupsRequest, opts: RpcOptions): Promise<DeleteGroupsResponse>;
  groupLag(req: GroupLagRequest, opts: RpcOptions): Promise<GroupLagResponse>;
  /** Releases the connection; calls still running fail. */
  close(): void;
}

/** Makes the BrokerApi for one `host:port`. The default is BrokerRpc over gRPC. */
export type BrokerConnector = (address: string) => BrokerApi;

/** A gRPC failure as the KafkaError a Kafka client would have seen for it. */
export function kafkaErrorFromTransport(err: grpc.ServiceError | Error, address: string): KafkaError {
  const code = (err as grpc.ServiceError).code;
  const details = (err as grpc.ServiceError).details ?? err.message;
  const where = `broker ${address}: ${details}`;
  switch (code) {
    case grpc.status.DEADLINE_EXCEEDED:
      return new KafkaError('REQUEST_TIMED_OUT', `request to ${where}`, { cause: err });
    case grpc.status.UNAVAILABLE:
    case grpc.status.CANCELLED:
    case grpc.status.ABORTED:
      return new KafkaError('NETWORK_EXCEPTION', `connection to ${where}`, { cause: err });
    case grpc.status.RESOURCE_EXHAUSTED:
      return new KafkaError('MESSAGE_TOO_LARGE', `${where}`, { cause: err });
    case grpc.status.UNIMPLEMENTED:
      return new KafkaError('UNSUPPORTED_VERSION', `${where}`, { cause: err });
    case grpc.status.INVALID_ARGUMENT:
      return new KafkaError('INVALID_REQUEST', `${where}`, { cause: err });
    default:
      return new KafkaError('UNKNOWN_SERVER_ERROR', `${where}`, { cause: err });
  }
}

type UnaryFn = (
  req: unknown,
  meta: grpc.Metadata,
  opts: grpc.CallOptions,
  cb: (err: grpc.ServiceError | null, res: unknown) => void,
) => grpc.ClientUnaryCall;

type StreamFn = (meta?: grpc.Metadata, opts?: grpc.CallOptions) => grpc.ClientDuplexStream<StreamRequest<unknown>, StreamResponse<unknown>>;

/** One gRPC channel to one broker. Owned by a ConnectionPool; close() when done. */
export class BrokerRpc implements BrokerApi {
  private readonly client: grpc.Client & Record<string, UnaryFn>;
  private readonly abort = new AbortFanout();
  private readonly produceStream: RequestStream<ProduceRequest, ProduceResponse>;
  private readonly fetchStream: RequestStream<FetchRequest, FetchResponse>;

  constructor(readonly address: string) {
    const Ctor = brokerService();
    this.client = new Ctor(address, grpc.credentials.createInsecure(), BROKER_CHANNEL_OPTIONS) as grpc.Client & Record<string, UnaryFn>;
    this.produceStream = this.requestStream('ProduceStream', 'Produce');
    this.fetchStream = this.requestStream('FetchStream', 'Fetch');
  }

  private requestStream<Req, Res>(streamMethod: string, unaryMethod: string): RequestStream<Req, Res> {
    return new RequestStream<Req, Res>({
      address: this.address,
      open: () => (this.client as unknown as Record<string, StreamFn>)[streamMethod]!.call(this.client) as grpc.ClientDuplexStream<StreamRequest<Req>, StreamResponse<Res>>,
      unary: (req, opts) => this.unary<Res>(unaryMethod, req, opts),
      transportError: (err) => kafkaErrorFromTransport(err, this.address),
      abort: this.abort,
    });
  }

  private unary<Res>(method: string, request: unknown, opts: RpcOptions): Promise<Res> {
    return new Promise((resolve, reject) => {
      if (opts.signal?.aborted) {
        reject(new KafkaError('NETWORK_EXCEPTION', `request to broker ${this.address} cancelled`));
        return;
      }
      let unwatch: (() => void) | null = null;
      const call = this.client[method]!.call(
        this.client,
        request,
        new grpc.Metadata(),
        { deadline: Date.now() + Math.max(0, opts.timeoutMs) },
        (err, res) => {
          unwatch?.();
          if (err) reject(kafkaErrorFromTransport(err, this.address));
          else resolve(res as Res);
        },
      );
      if (opts.signal) unwatch = this.abort.add(opts.signal, () => call.cancel());
    });
  }

  metadata(req: MetadataRequest, opts: RpcOptions) {
    return this.unary<MetadataResponse>('Metadata', req, opts);
  }
  produce(req: ProduceRequest, opts: RpcOptions) {
    return this.produceStream.request(req, opts);
  }
  fetch(req: FetchRequest, opts: RpcOptions) {
    return this.fetchStream.request(req, opts);
  }
  listOffsets(req: ListOffsetsRequest, opts: RpcOptions) {
    return this.unary<ListOffsetsResponse>('ListOffsets', req, opts);
  }
  createTopics(req: CreateTopicsRequest, opts: RpcOptions) {
    return this.unary<CreateTopicsResponse>('CreateTopics', req, opts);
  }
  deleteTopics(req: DeleteTopicsRequest, opts: RpcOptions) {
    return this.unary<DeleteTopicsResponse>('DeleteTopics', req, opts);
  }
  createPartitions(req: CreatePartitionsRequest, opts: RpcOptions) {
    return this.unary<CreatePartitionsResponse>('CreatePartitions', req, opts);
  }
  describeConfigs(req: DescribeConfigsRequest, opts: RpcOptions) {
    return this.unary<DescribeConfigsResponse>('DescribeConfigs', req, opts);
  }
  alterConfigs(req: AlterConfigsRequest, opts: RpcOptions) {
    return this.unary<AlterConfigsResponse>('AlterConfigs', req, opts);
  }
  initProducerId(req: InitProducerIdRequest, opts: RpcOptions) {
    return this.unary<InitProducerIdResponse>('InitProducerId', req, opts);
  }
  findCoordinator(req: FindCoordinatorRequest, opts: RpcOptions) {
    return this.unary<FindCoordinatorResponse>('FindCoordinator', req, opts);
  }
  joinGroup(req: JoinGroupRequest, opts: RpcOptions) {
    return this.unary<JoinGroupResponse>('JoinGroup', req, opts);
  }
  syncGroup(req: SyncGroupRequest, opts: RpcOptions) {
    return this.unary<SyncGroupResponse>('SyncGroup', req, opts);
  }
  heartbeat(req: HeartbeatRequest, opts: RpcOptions) {
    return this.unary<HeartbeatResponse>('Heartbeat', req, opts);
  }
  leaveGroup(req: LeaveGroupRequest, opts: RpcOptions) {
    return this.unary<LeaveGroupResponse>('LeaveGroup', req, opts);
  }
  offsetCommit(req: OffsetCommitRequest, opts: RpcOptions) {
    return this.unary<OffsetCommitResponse>('OffsetCommit', req, opts);
  }
  offsetFetch(req: OffsetFetchRequest, opts: RpcOptions) {
    return this.unary<OffsetFetchResponse>('OffsetFetch', req, opts);
  }
  offsetDelete(req: OffsetDeleteRequest, opts: RpcOptions) {
    return this.unary<OffsetDeleteResponse>('OffsetDelete', req, opts);
  }
  listGroups(req: ListGroupsRequest, opts: RpcOptions) {
    return this.unary<ListGroupsResponse>('ListGroups', req, opts);
  }
  describeGroups(req: DescribeGroupsRequest, opts: RpcOptions) {
    return this.unary<DescribeGroupsResponse>('DescribeGroups', req, opts);
  }
  deleteGroups(req: DeleteGroupsRequest, opts: RpcOptions) {
    return this.unary<DeleteGroupsResponse>('DeleteGroups', req, opts);
  }
  groupLag(req: GroupLagRequest, opts: RpcOptions) {
    return this.unary<GroupLagResponse>('GroupLag', req, opts);
  }

  close(): void {
    this.produceStream.close();
    this.fetchStream.close();
    this.client.close();
  }
}

export const grpcConnector: BrokerConnector = (address) => new BrokerRpc(address);
