// gRPC stubs for broker-to-broker traffic: the controller's requests (LeaderAndIsr,
// UpdateMetadata, StopReplica), OffsetForLeaderEpoch for truncation and ControlledShutdown to
// the controller. Replica fetches use the public Broker.Fetch (with a replica id), through the
// client library's BrokerRpc.

import * as grpc from '@grpc/grpc-js';
import {
  BROKER_CHANNEL_OPTIONS, brokerInternalService, kafkaErrorFromTransport, type ControlledShutdownRequest,
  type ControlledShutdownResponse, type LeaderAndIsrRequest, type LeaderAndIsrResponse, type OffsetForLeaderEpochRequest,
  type OffsetForLeaderEpochResponse, type StopReplicaRequest, type StopReplicaResponse, type UpdateMetadataRequest,
  type UpdateMetadataResponse,
} from '@samsa/client';
import type { BrokerChannel, BrokerEndpoint } from '../controller/broker-channel.js';

type UnaryFn = (req: unknown, meta: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: unknown) => void) => void;

/** One channel to one broker's BrokerInternal service. */
export class BrokerInternalRpc {
  private readonly client: grpc.Client & Record<string, UnaryFn>;

  constructor(readonly address: string) {
    const Ctor = brokerInternalService();
    this.client = new Ctor(address, grpc.credentials.createInsecure(), BROKER_CHANNEL_OPTIONS) as grpc.Client & Record<string, UnaryFn>;
  }

  private unary<Res>(method: string, request: unknown, timeoutMs: number): Promise<Res> {
    return new Promise((resolve, reject) => {
      this.client[method]!.call(this.client, request, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) =>
        err ? reject(kafkaErrorFromTransport(err, this.address)) : resolve(res as Res),
      );
    });
  }

  offsetForLeaderEpoch(req: OffsetForLeaderEpochRequest, timeoutMs: number): Promise<OffsetForLeaderEpochResponse> {
    return this.unary('OffsetForLeaderEpoch', req, timeoutMs);
  }
  leaderAndIsr(req: LeaderAndIsrRequest, timeoutMs: number): Promise<LeaderAndIsrResponse> {
    return this.unary('LeaderAndIsr', req, timeoutMs);
  }
  updateMetadata(req: UpdateMetadataRequest, timeoutMs: number): Promise<UpdateMetadataResponse> {
    return this.unary('UpdateMetadata', req, timeoutMs);
  }
  stopReplica(req: StopReplicaRequest, timeoutMs: number): Promise<StopReplicaResponse> {
    return this.unary('StopReplica', req, timeoutMs);
  }
  controlledShutdown(req: ControlledShutdownRequest, timeoutMs: number): Promise<ControlledShutdownResponse> {
    return this.unary('ControlledShutdown', req, timeoutMs);
  }

  close(): void {
    this.client.close();
  }
}

/** The controller's BrokerChannel over gRPC: one channel per broker, reused. */
export class GrpcBrokerChannel implements BrokerChannel {
  private readonly channels = new Map<number, BrokerInternalRpc>();

  constructor(private readonly timeoutMs = 30_000) {}

  private channel(b: BrokerEndpoint): BrokerInternalRpc {
    const address = `${b.host}:${b.port}`;
    let ch = this.channels.get(b.id);
    if (ch && ch.address !== address) {
      ch.close();
      ch = undefined;
    }
    if (!ch) {
      ch = new BrokerInternalRpc(address);
      this.channels.set(b.id, ch);
    }
    return ch;
  }

  leaderAndIsr(broker: BrokerEndpoint, request: LeaderAndIsrRequest): Promise<LeaderAndIsrResponse> {
    return this.channel(broker).leaderAndIsr(request, this.timeoutMs);
  }
  updateMetadata(broker: BrokerEndpoint, request: UpdateMetadataRequest): Promise<UpdateMetadataResponse> {
    return this.channel(broker).updateMetadata(request, this.timeoutMs);
  }
  stopReplica(broker: BrokerEndpoint, request: StopReplicaRequest): Promise<StopReplicaResponse> {
    return this.channel(broker).stopReplica(request, this.timeoutMs);
  }
  disconnect(brokerId: number): void {
    this.channels.get(brokerId)?.close();
    this.channels.delete(brokerId);
  }
  close(): void {
    for (const ch of this.channels.values()) ch.close();
    this.channels.clear();
  }
}
