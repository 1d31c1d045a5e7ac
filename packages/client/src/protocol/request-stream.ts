// Requests of one API multiplexed on one bidirectional gRPC stream to one broker (ProduceStream,
// FetchStream): each request gets a correlation id, which its response repeats. Per request this
// costs a message on an open HTTP/2 stream instead of a unary call's new stream, headers,
// deadline and status, and the broker sees a producer's requests in the order they were sent.
//
// Failures behave as they would for unary calls on a Kafka connection: a broken stream fails
// every request still waiting on it with the transport's error (NETWORK_EXCEPTION …); a request
// that times out fails with REQUEST_TIMED_OUT and, as Kafka's client disconnects on a request
// timeout, takes the stream down with it (its other requests fail with NETWORK_EXCEPTION and the
// next request opens a new stream). A broker without the stream RPC (UNIMPLEMENTED) gets this
// and every later request as a unary call.

import type * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { AbortFanout } from './abort-fanout.js';
import { KafkaError, kafkaErrorFromWire } from './errors.js';
import type { StreamRequest, StreamResponse } from './wire-types.js';

/** Requests one stream carries at most at a time; producers and fetchers stay far below it. */
export const MAX_STREAM_REQUESTS_IN_FLIGHT = 1024;

export interface StreamRequestOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface RequestStreamOptions<Req, Res> {
  /** host:port, for error messages. */
  address: string;
  /** Opens the bidirectional call. */
  open: () => grpc.ClientDuplexStream<StreamRequest<Req>, StreamResponse<Res>>;
  /** The same request as a unary call (brokers without the stream RPC). */
  unary: (req: Req, opts: StreamRequestOptions) => Promise<Res>;
  /** Maps a gRPC failure to the KafkaError a caller sees. */
  transportError: (err: grpc.ServiceError | Error) => KafkaError;
  abort: AbortFanout;
}

type Call<Req, Res> = grpc.ClientDuplexStream<StreamRequest<Req>, StreamResponse<Res>>;

interface Pending<Req, Res> {
  call: Call<Req, Res>;
  request: Req;
  deadlineMs: number;
  signal: AbortSignal | undefined;
  resolve(res: Res): void;
  reject(err: unknown): void;
  timer: NodeJS.Timeout;
  unwatch: (() => void) | null;
}

/** Owned by a BrokerRpc: opened on the first request, reopened after a break; close() ends it. */
export class RequestStream<Req, Res> {
  private call: Call<Req, Res> | null = null;
  private readonly pending = new Map<number, Pending<Req, Res>>();
  private nextCorrelationId = 1;
  private unsupported = false;
  private closed = false;

  constructor(private readonly o: RequestStreamOptions<Req, Res>) {}

  get inFlight(): number {
    return this.pending.size;
  }

  request(req: Req, opts: StreamRequestOptions): Promise<Res> {
    if (this.unsupported) return this.o.unary(req, opts);
    if (opts.signal?.aborted) return Promise.reject(this.cancelled());
    if (this.closed) return Promise.reject(new KafkaError('NETWORK_EXCEPTION', `connection to broker ${this.o.address} is closed`));
    if (this.pending.size >= MAX_STREAM_REQUESTS_IN_FLIGHT) {
      return Promise.reject(new KafkaError('NETWORK_EXCEPTION', `${MAX_STREAM_REQUESTS_IN_FLIGHT} requests already wait on the stream to broker ${this.o.address}`));
    }
    const call = this.call ?? this.openCall();
    const correlationId = this.nextCorrelationId++;
    return new Promise<Res>((resolve, reject) => {
      const timeoutMs = Math.max(0, opts.timeoutMs);
      const p: Pending<Req, Res> = {
        call, request: req, deadlineMs: Date.now() + timeoutMs, signal: opts.signal, resolve, reject,
        timer: setTimeout(() => this.timedOut(correlationId), timeoutMs),
        unwatch: null,
      };
      if (opts.signal) p.unwatch = this.o.abort.add(opts.signal, () => this.settle(correlationId)?.reject(this.cancelled()));
      this.pending.set(correlationId, p);
      try {
        call.write({ correlationId, request: req });
      } catch (err) {
        this.broken(call, err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  /** Ends the stream; requests still waiting fail with NETWORK_EXCEPTION. */
  close(): void {
    this.closed = true;
    const call = this.call;
    if (call) this.broken(call, new KafkaError('NETWORK_EXCEPTION', `connection to broker ${this.o.address} closed`));
  }

  private cancelled(): KafkaError {
    return new KafkaError('NETWORK_EXCEPTION', `request to broker ${this.o.address} cancelled`);
  }

  private openCall(): Call<Req, Res> {
    const call = this.o.open();
    this.call = call;
    call.on('data', (msg: StreamResponse<Res>) => this.answered(call, msg));
    call.on('error', (err: grpc.ServiceError) => this.broken(call, err));
    // A stream the broker ended without an error (it is shutting down) still leaves requests unanswered.
    call.on('status', (s: grpc.StatusObject) => {
      if (s.code === status.OK) this.broken(call, new KafkaError('NETWORK_EXCEPTION', `broker ${this.o.address} ended the request stream`));
    });
    return call;
  }

  /** Takes a request off the books (timer, abort listener); undefined when it was settled already. */
  private settle(correlationId: number): Pending<Req, Res> | undefined {
    const p = this.pending.get(correlationId);
    if (!p) return undefined;
    this.pending.delete(correlationId);
    clearTimeout(p.timer);
    p.unwatch?.();
    return p;
  }

  private answered(call: Call<Req, Res>, msg: StreamResponse<Res>): void {
    const p = this.pending.get(msg.correlationId);
    if (!p || p.call !== call) return; // timed out or aborted meanwhile: nobody waits for it
    this.settle(msg.correlationId);
    const err = kafkaErrorFromWire(msg.error);
    if (err) p.reject(err);
    else if (!msg.response) p.reject(new KafkaError('UNKNOWN_SERVER_ERROR', `broker ${this.o.address} answered request ${msg.correlationId} without a response`));
    else p.resolve(msg.response);
  }

  private timedOut(correlationId: number): void {
    const p = this.settle(correlationId);
    if (!p) return;
    p.reject(new KafkaError('REQUEST_TIMED_OUT', `request to broker ${this.o.address} timed out`));
    this.broken(p.call, new KafkaError('NETWORK_EXCEPTION', `connection to broker ${this.o.address} dropped after a request timed out`));
  }

  /** The call is over (error, end, timeout or close): fail its requests, or resend them as unary calls. */
  private broken(call: Call<Req, Res>, err: grpc.ServiceError | Error): void {
    if (this.call === call) {
      this.call = null;
      call.cancel();
    }
    const unimplemented = (err as grpc.ServiceError).code === status.UNIMPLEMENTED;
    if (unimplemented) this.unsupported = true;
    const failure = err instanceof KafkaError ? err : this.o.transportError(err);
    for (const [id, p] of [...this.pending]) {
      if (p.call !== call) continue;
      this.settle(id);
      if (unimplemented && !this.closed) {
        // Never reached a handler: safe to send again, within what is left of its time.
        this.o.unary(p.request, { timeoutMs: Math.max(0, p.deadlineMs - Date.now()), signal: p.signal }).then(p.resolve, p.reject);
      } else {
        p.reject(failure);
      }
    }
  }
}
