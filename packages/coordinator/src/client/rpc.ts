// A typed, promise-based stub for one coordinator member's client port. No retries and no
// failover here: CoordinatorClient decides where to send what.
//
// Reads and writes go as messages on one Requests stream per member (a fraction of a unary
// call's cost, see CorrelatedStream), with the same outcomes as the unary calls: an answer, an
// in-band error, or a gRPC-shaped error (DEADLINE_EXCEEDED, UNAVAILABLE, ...) when the stream
// failed. A member without the stream gets the unary calls.

import * as grpc from '@grpc/grpc-js';
import { loadProto, lookup } from '../ops/proto.js';
import { CorrelatedStream } from './correlated-stream.js';
import type {
  WireClientRequest, WireClientResponse, WireCreateRequest, WireDeleteRequest, ProtoError, WireOp, WireOpResult, WireSetRequest,
  WireStat, WireStatus, WireStreamOp, WireWatchEvent, WireWatchRequest,
} from './wire-types.js';

export const COORDINATOR_PROTO = 'samsa/coordinator/v1/coordinator.proto';

/** gRPC limits shared by both ends: a znode is at most 1 MiB, so 4 MiB covers any request. */
export const MAX_MESSAGE_BYTES = 4 << 20;

export function coordinatorServiceDefinition(): grpc.ServiceDefinition {
  return lookup<grpc.ServiceClientConstructor>(loadProto(COORDINATOR_PROTO), 'samsa.coordinator.v1.Coordinator').service;
}

export function peerServiceDefinition(): grpc.ServiceDefinition {
  return lookup<grpc.ServiceClientConstructor>(loadProto(COORDINATOR_PROTO), 'samsa.coordinator.v1.Peer').service;
}

export const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
  'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 1_000,
};

export interface HasError {
  error: ProtoError | null;
}

type UnaryFn = (req: unknown, meta: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: unknown) => void) => void;

/** Owned by CoordinatorClient (or a one-shot tool); close() when done. */
export class CoordinatorRpc {
  private readonly client: grpc.Client & Record<string, UnaryFn>;
  private readonly requests: CorrelatedStream<Omit<WireClientRequest, 'correlationId'>, WireClientResponse>;

  constructor(readonly address: string) {
    const Ctor = lookup<grpc.ServiceClientConstructor>(loadProto(COORDINATOR_PROTO), 'samsa.coordinator.v1.Coordinator');
    this.client = new Ctor(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS) as grpc.Client & Record<string, UnaryFn>;
    type RequestsDuplex = grpc.ClientDuplexStream<{ requests: WireClientRequest[] }, { responses: WireClientResponse[] }>;
    this.requests = new CorrelatedStream<Omit<WireClientRequest, 'correlationId'>, WireClientResponse>(() => (this.client as unknown as { requests(): RequestsDuplex }).requests());
  }

  /** `method` on the Requests stream, or as a unary call where the member has no stream. */
  private request<Res>(method: WireStreamOp, request: unknown, timeoutMs: number): Promise<Res> {
    return this.requests
      .request({ [method]: request }, timeoutMs, () => this.unary<Res>(method, request, timeoutMs).then((res) => ({ correlationId: 0, error: null, [method]: res })))
      .then((res) => (res.error && res.error.code ? ({ error: res.error } as Res) : (res[method] as Res)));
  }

  private unary<Res>(method: string, request: unknown, timeoutMs: number): Promise<Res> {
    return new Promise((resolve, reject) => {
      this.client[method]!.call(
        this.client,
        request,
        new grpc.Metadata(),
        { deadline: Date.now() + timeoutMs },
        (err, res) => (err ? reject(err) : resolve(res as Res)),
      );
    });
  }

  openSession(timeoutMs: number, deadlineMs: number) {
    return this.unary<HasError & { sessionId: number; timeoutMs: number }>('openSession', { timeoutMs }, deadlineMs);
  }
  closeSession(sessionId: number, deadlineMs: number) {
    return this.unary<HasError>('closeSession', { sessionId }, deadlineMs);
  }
  create(req: WireCreateRequest, deadlineMs: number) {
    return this.request<HasError & { path: string; stat: WireStat | null }>('create', req, deadlineMs);
  }
  get(path: string, deadlineMs: number) {
    return this.request<HasError & { data: Buffer; stat: WireStat | null }>('get', { path }, deadlineMs);
  }
  set(req: WireSetRequest, deadlineMs: number) {
    return this.request<HasError & { stat: WireStat | null }>('set', req, deadlineMs);
  }
  delete(req: WireDeleteRequest, deadlineMs: number) {
    return this.request<HasError>('delete', req, deadlineMs);
  }
  exists(path: string, deadlineMs: number) {
    return this.request<HasError & { exists: boolean; stat: WireStat | null }>('exists', { path }, deadlineMs);
  }
  children(path: string, deadlineMs: number) {
    return this.request<HasError & { children: string[]; stat: WireStat | null }>('children', { path }, deadlineMs);
  }
  multi(ops: WireOp[], deadlineMs: number) {
    return this.request<HasError & { results: WireOpResult[] }>('multi', { ops }, deadlineMs);
  }
  status(deadlineMs: number) {
    return this.unary<WireStatus>('status', {}, deadlineMs);
  }

  keepAlive(): grpc.ClientDuplexStream<{ sessionId: number }, HasError & { sessionId: number; timeoutMs: number }> {
    return (this.client as unknown as { keepAlive(): grpc.ClientDuplexStream<{ sessionId: number }, HasError & { sessionId: number; timeoutMs: number }> }).keepAlive();
  }

  watch(): grpc.ClientDuplexStream<WireWatchRequest, WireWatchEvent> {
    return (this.client as unknown as { watch(): grpc.ClientDuplexStream<WireWatchRequest, WireWatchEvent> }).watch();
  }

  close(): void {
    this.requests.close();
    this.client.close();
  }
}
