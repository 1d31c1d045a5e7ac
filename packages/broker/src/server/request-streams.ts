// The broker's side of the request streams (ProduceStream, FetchStream in broker.proto): each
// message on a stream is one request, handled the moment it arrives — so a stream's produce
// requests are appended in the order they were sent — and answered with its correlation id when
// done, in whatever order requests finish (an acks=all produce or a long-poll fetch may finish
// after a later request). Bounded: a stream has at most MAX_REQUESTS_IN_PROGRESS_PER_STREAM
// requests in progress (beyond it the broker stops reading the stream, and HTTP/2 flow control
// holds the client back), and at most MAX_OPEN_STREAMS streams are open.

import * as grpc from '@grpc/grpc-js';
import { KafkaError, kafkaErrorToWire, type StreamRequest, type StreamResponse } from '@samsa/client';
import type { Logger } from '@samsa/coordinator';
import type { BrokerMetrics } from './broker-metrics.js';

export const MAX_REQUESTS_IN_PROGRESS_PER_STREAM = 64;
export const MAX_OPEN_STREAMS = 4096;

type StreamCall<Req, Res> = grpc.ServerDuplexStream<StreamRequest<Req>, StreamResponse<Res>>;

export interface RequestStreamsOptions {
  logger: Logger;
  metrics?: BrokerMetrics;
  /** Called with each answered request's response, for error counting. */
  onResponse?: (api: string, response: unknown) => void;
}

interface OpenStream {
  /** No more requests are taken; the stream ends once those in progress are answered. */
  drain(): void;
}

/** Owned by the broker's service handlers; endAll() at shutdown lets every stream finish. */
export class RequestStreams {
  private readonly open = new Set<OpenStream>();
  private requestsInProgress = 0;
  private ending = false;

  constructor(private readonly o: RequestStreamsOptions) {}

  /** Requests in progress over all streams (they count against queued.max.requests). */
  get inProgress(): number {
    return this.requestsInProgress;
  }

  get openStreams(): number {
    return this.open.size;
  }

  /** A bidirectional-stream handler that runs `fn` for each request on the stream. */
  handler<Req, Res>(api: string, fn: (req: Req) => Promise<Res> | Res): grpc.handleBidiStreamingCall<StreamRequest<Req>, StreamResponse<Res>> {
    return (call) => this.serve(api, fn, call);
  }

  /** Shutdown: every stream stops taking requests and ends when its requests are answered. */
  endAll(): void {
    this.ending = true;
    for (const s of [...this.open]) s.drain();
  }

  private serve<Req, Res>(api: string, fn: (req: Req) => Promise<Res> | Res, call: StreamCall<Req, Res>): void {
    if (this.ending || this.open.size >= MAX_OPEN_STREAMS) {
      const why = this.ending ? 'is shutting down' : `has ${this.open.size} request streams open`;
      call.emit('error', { code: grpc.status.UNAVAILABLE, details: `broker ${why}` });
      return;
    }
    let inProgress = 0;
    let draining = false;
    let closed = false;
    const stream: OpenStream = {
      drain: () => {
        draining = true;
        maybeEnd();
      },
    };
    this.open.add(stream);
    const close = (): void => {
      if (closed) return;
      closed = true;
      this.open.delete(stream);
    };
    const maybeEnd = (): void => {
      if (!draining || inProgress > 0 || closed) return;
      close();
      call.end();
    };
    const reply = (msg: StreamResponse<Res>): void => {
      if (closed || call.cancelled) return;
      call.write(msg);
    };
    call.on('data', (msg: StreamRequest<Req>) => {
      if (draining || closed) return; // the client fails it when the stream ends
      const correlationId = msg.correlationId;
      if (!msg.request) {
        reply({ correlationId, response: null, error: kafkaErrorToWire(new KafkaError('INVALID_REQUEST', `${api} stream message ${correlationId} carries no request`)) });
        return;
      }
      inProgress++;
      this.requestsInProgress++;
      if (inProgress >= MAX_REQUESTS_IN_PROGRESS_PER_STREAM) call.pause();
      this.o.metrics?.requests.inc({ api });
      const started = performance.now();
      let result: Promise<Res> | Res;
      try {
        result = fn(msg.request);
      } catch (e) {
        result = Promise.reject(e);
      }
      Promise.resolve(result)
        .then(
          (response) => {
            this.o.onResponse?.(api, response);
            reply({ correlationId, response, error: null });
          },
          (e: unknown) => {
            this.o.logger.error('request failed', { api, error: e, stack: (e as Error)?.stack });
            this.o.metrics?.requestErrors.inc({ api, error: 'INTERNAL' });
            reply({ correlationId, response: null, error: kafkaErrorToWire(new KafkaError('UNKNOWN_SERVER_ERROR', e instanceof Error ? e.message : String(e))) });
          },
        )
        .finally(() => {
          inProgress--;
          this.requestsInProgress--;
          this.o.metrics?.requestDuration.observe({ api }, (performance.now() - started) / 1000);
          if (call.isPaused() && inProgress < MAX_REQUESTS_IN_PROGRESS_PER_STREAM / 2) call.resume();
          maybeEnd();
        });
    });
    call.on('end', () => stream.drain());
    call.on('cancelled', close);
    call.on('error', close);
    call.on('close', close);
  }
}
