// Request/response over one long-lived bidirectional gRPC stream, matched by correlation id: the
// cheap way to make many small calls (a stream message costs a fraction of a unary call: no new
// HTTP/2 stream, no headers, no deadline bookkeeping in gRPC). The requests made in one turn of
// the event loop travel as one stream message ({ requests: [...] }), and the server answers
// likewise ({ responses: [...] }, see ResponseBatcher), so a burst of small requests costs a
// few gRPC messages, not one each.
//
// Each request gets its own deadline; when it passes, the request fails with DEADLINE_EXCEEDED
// (its outcome unknown, as for a unary call). When the stream breaks, every unanswered request
// fails with the stream's error, so callers classify it exactly as a failed unary call (e.g.
// UNAVAILABLE "No connection established" means nothing was sent). The next request opens a new
// stream. A server without the method (UNIMPLEMENTED) never executed anything, so those
// requests, and every later one, go through `fallback` (the unary call) instead. The server
// ends its side once the client has half-closed and every request is answered.

import * as grpc from '@grpc/grpc-js';

/** What a unary call's failure looks like, so callers need no second error path. */
export type StreamCallError = Error & { code: grpc.status; details: string };

function callError(code: grpc.status, details: string): StreamCallError {
  return Object.assign(new Error(`${code} ${grpc.status[code]}: ${details}`), { code, details });
}

interface Pending<Res> {
  resolve(res: Res): void;
  reject(err: unknown): void;
  timer: NodeJS.Timeout;
  retry: () => Promise<Res>;
}

export interface CorrelatedStreamOptions {
  /** Requests waiting for an answer on the stream; beyond this, requests take the fallback. */
  maxPending?: number;
}

type Duplex<Req, Res> = grpc.ClientDuplexStream<{ requests: (Req & { correlationId: number })[] }, { responses: (Res & { correlationId: number })[] }>;

/** Owned by one connection wrapper (CoordinatorRpc, a peer link); close() with it. */
export class CorrelatedStream<Req extends object, Res extends object> {
  private stream: Duplex<Req, Res> | null = null;
  private readonly pending = new Map<number, Pending<Res>>();
  private nextId = 1;
  private outbox: (Req & { correlationId: number })[] = [];
  private flushScheduled = false;
  private unsupported = false;
  private closed = false;
  private readonly maxPending: number;

  constructor(
    private readonly open: () => Duplex<Req, Res>,
    options: CorrelatedStreamOptions = {},
  ) {
    this.maxPending = options.maxPending ?? 10_000;
  }

  /** False once the server answered UNIMPLEMENTED: use the unary call directly. */
  get usable(): boolean {
    return !this.unsupported && !this.closed;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Sends `request`; `fallback` makes the same request as a unary call if the stream cannot. */
  request(request: Req, timeoutMs: number, fallback: () => Promise<Res>): Promise<Res> {
    if (!this.usable || this.pending.size >= this.maxPending) return fallback();
    if (!this.stream) this.connect();
    const correlationId = this.nextId++;
    return new Promise<Res>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.pending.delete(correlationId)) reject(callError(grpc.status.DEADLINE_EXCEEDED, `no answer within ${timeoutMs} ms`));
      }, Math.max(0, timeoutMs));
      this.pending.set(correlationId, { resolve, reject, timer, retry: fallback });
      this.outbox.push({ ...request, correlationId });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const requests = this.outbox;
    this.outbox = [];
    // A stream that broke meanwhile failed these requests already (their ids are gone).
    const live = requests.filter((r) => this.pending.has(r.correlationId));
    if (live.length === 0 || !this.stream) return;
    this.stream.write({ requests: live });
  }

  private connect(): Duplex<Req, Res> {
    const stream = this.open();
    this.stream = stream;
    stream.on('data', (batch: { responses: (Res & { correlationId: number })[] }) => {
      for (const res of batch.responses ?? []) {
        const p = this.pending.get(res.correlationId);
        if (!p) continue; // answered after its deadline
        this.pending.delete(res.correlationId);
        clearTimeout(p.timer);
        p.resolve(res);
      }
    });
    const broken = (err: Partial<StreamCallError> | null): void => {
      if (this.stream !== stream) return;
      this.stream = null;
      const error = err && typeof err.code === 'number' ? (err as StreamCallError) : callError(grpc.status.UNAVAILABLE, 'stream ended');
      if (error.code === grpc.status.UNIMPLEMENTED) this.unsupported = true;
      const failed = [...this.pending.values()];
      this.pending.clear();
      for (const p of failed) {
        clearTimeout(p.timer);
        if (error.code === grpc.status.UNIMPLEMENTED) p.retry().then(p.resolve, p.reject);
        else p.reject(error);
      }
    };
    stream.on('error', (err: StreamCallError) => broken(err));
    stream.on('end', () => broken(null));
    return stream;
  }

  /**
   * Half-closes the stream, as closing a gRPC client leaves its calls running: requests already
   * sent still get their answers (or their deadline); later ones take the fallback.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.flush();
    this.stream?.end();
  }
}

/**
 * The server side of a CorrelatedStream: answers finished in one turn of the event loop go out
 * as one message. Counts what is in progress, so the handler can bound it and end the stream
 * once the client has half-closed and everything is answered.
 */
export class ResponseBatcher<Res extends { correlationId: number }> {
  private outbox: Res[] = [];
  private flushScheduled = false;
  private ended = false;
  inProgress = 0;

  constructor(private readonly call: grpc.ServerDuplexStream<unknown, { responses: Res[] }>) {
    call.on('end', () => {
      this.ended = true;
      this.maybeEnd();
    });
    call.on('error', () => {});
  }

  /** Bytes written but not yet taken by the network: a slow client's backlog. */
  get backlogBytes(): number {
    return this.call.writableLength;
  }

  /** An answer to a request that was never counted as in progress (refused at once). */
  answer(res: Res): void {
    this.outbox.push(res);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Counts a request in progress until `answer` settles. */
  track(answer: Promise<Res>): void {
    this.inProgress++;
    void answer.then((res) => {
      this.inProgress--;
      this.answer(res);
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const responses = this.outbox;
    this.outbox = [];
    if (responses.length > 0 && !this.call.cancelled && this.call.writable) this.call.write({ responses });
    this.maybeEnd();
  }

  private maybeEnd(): void {
    if (this.ended && this.inProgress === 0 && this.outbox.length === 0 && this.call.writable) this.call.end();
  }
}
