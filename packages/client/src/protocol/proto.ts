// The broker protocol's gRPC definitions, loaded from the repository's proto/ folder (the same
// relative path works from src/ and dist/).

import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export const BROKER_PROTO_DIR = fileURLToPath(new URL('../../../../proto/', import.meta.url));
export const BROKER_PROTO = 'samsa/broker/v1/broker.proto';

/** Records of one produce or fetch call; the broker's max.message.bytes bounds batches inside. */
export const MAX_BROKER_MESSAGE_BYTES = 64 << 20;

let loaded: grpc.GrpcObject | null = null;

export function brokerProto(): grpc.GrpcObject {
  loaded ??= grpc.loadPackageDefinition(
    protoLoader.loadSync(BROKER_PROTO, { includeDirs: [BROKER_PROTO_DIR], longs: Number, enums: String, defaults: true, oneofs: true }),
  );
  return loaded;
}

function service(name: 'Broker' | 'BrokerInternal'): grpc.ServiceClientConstructor {
  const v1 = (((brokerProto().samsa as grpc.GrpcObject).broker as grpc.GrpcObject).v1 as grpc.GrpcObject);
  return v1[name] as grpc.ServiceClientConstructor;
}

export const brokerService = (): grpc.ServiceClientConstructor => service('Broker');
export const brokerInternalService = (): grpc.ServiceClientConstructor => service('BrokerInternal');

/**
 * HTTP/2 flow-control window the client grants a broker (per stream and per connection). The
 * default 64 KiB would make a broker stop every 64 KiB of a fetch response until this process's
 * event loop acknowledged it, throttling one request stream to 64 KiB per round trip.
 */
export const BROKER_FLOW_CONTROL_WINDOW_BYTES = 8 << 20;

export const BROKER_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': MAX_BROKER_MESSAGE_BYTES,
  'grpc.max_send_message_length': MAX_BROKER_MESSAGE_BYTES,
  'grpc-node.flow_control_window': BROKER_FLOW_CONTROL_WINDOW_BYTES,
  // Channelz keeps per-call statistics nobody here reads; it costs on every call.
  'grpc.enable_channelz': 0,
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 1_000,
};
