// How the controller reaches brokers. The broker implements BrokerChannel over gRPC
// (BrokerInternal.LeaderAndIsr / UpdateMetadata / StopReplica); tests use a recording in-memory
// one. The controller never calls it directly: ControllerChannelManager queues, orders, times out
// and retries every send.

import type {
  LeaderAndIsrRequest,
  LeaderAndIsrResponse,
  StopReplicaRequest,
  StopReplicaResponse,
  UpdateMetadataRequest,
  UpdateMetadataResponse,
} from '@samsa/client';

/** Where a broker listens, from its registration (/brokers/ids/<id>). */
export interface BrokerEndpoint {
  id: number;
  host: string;
  port: number;
  rack: string | null;
}

/**
 * Sends one controller request to one broker. A promise that rejects (or does not settle within
 * the controller's brokerRequestTimeoutMs) counts as not delivered: the controller sends the
 * same request again after a back-off, for as long as the broker stays registered. A response
 * (even one carrying an error) counts as delivered. Requests carry the controller id and epoch;
 * brokers refuse a stale epoch with STALE_CONTROLLER_EPOCH.
 */
export interface BrokerChannel {
  leaderAndIsr(broker: BrokerEndpoint, request: LeaderAndIsrRequest): Promise<LeaderAndIsrResponse>;
  updateMetadata(broker: BrokerEndpoint, request: UpdateMetadataRequest): Promise<UpdateMetadataResponse>;
  stopReplica(broker: BrokerEndpoint, request: StopReplicaRequest): Promise<StopReplicaResponse>;
  /** The controller no longer talks to this broker (it left, or the controller resigned): release its connection. */
  disconnect?(brokerId: number): void;
}
