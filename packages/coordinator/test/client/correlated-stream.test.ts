// CorrelatedStream gives each request its own answer by correlation id (in any order), sends the
// requests of one event-loop turn as one message, gives each request its own
// deadline, fails every unanswered request with the stream's error when the stream breaks (and
// opens a new stream for the next one), and falls back to the unary call when the server does
// not know the stream method — against a real gRPC server on loopback.
import * as grpc from '@grpc/grpc-js';
import { CorrelatedStream, type StreamCallError } from '../../src/client/correlated-stream.js';
import { COORDINATOR_PROTO, peerServiceDefinition } from '../../src/client/rpc.js';
import { loadProto, lookup } from '../../src/ops/proto.js';

interface Req {
  command: Uint8Array;
}
interface Res {
  index: number;
  result: Buffer;
}
type ForwardReq = { correlationId: number; command: Buffer };
type ForwardCall = grpc.ServerDuplexStream<{ requests: ForwardReq[] }, unknown>;

/** Calls `fn` for each request of each batch the server receives. */
function eachRequest(call: ForwardCall, fn: (req: ForwardReq) => void): void {
  call.on('data', (batch: { requests: ForwardReq[] }) => batch.requests.forEach(fn));
}

/** Writes answers the way ResponseBatcher does: a batch of responses per message. */
function answer(call: ForwardCall, ...responses: object[]): void {
  call.write({ responses });
}

async function serve(handlers: grpc.UntypedServiceImplementation): Promise<{ address: string; server: grpc.Server }> {
  const server = new grpc.Server();
  server.addService(peerServiceDefinition(), handlers);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { address: `127.0.0.1:${port}`, server };
}

function peerClient(address: string): grpc.Client & Record<string, (...args: unknown[]) => unknown> {
  const Ctor = lookup<grpc.ServiceClientConstructor>(loadProto(COORDINATOR_PROTO), 'samsa.coordinator.v1.Peer');
  return new Ctor(address, grpc.credentials.createInsecure()) as grpc.Client & Record<string, (...args: unknown[]) => unknown>;
}

function streamOf(client: grpc.Client & Record<string, (...args: unknown[]) => unknown>): CorrelatedStream<Req, Res> {
  return new CorrelatedStream<Req, Res>(() => client.forwardStream!() as never);
}

const noFallback = (): Promise<Res> => Promise.reject(new Error('fallback must not be used'));

describe('CorrelatedStream', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  test('answers reach their own request, whatever order the server answers in', async () => {
    const calls: ForwardCall[] = [];
    const { address, server } = await serve({
      forwardStream: (call: ForwardCall) => {
        calls.push(call);
        const held: ForwardReq[] = [];
        eachRequest(call, (req) => {
          held.push(req);
          if (held.length === 3) {
            // Answer in reverse order, each with its own command echoed back, one message each.
            for (const r of held.reverse()) answer(call, { correlationId: r.correlationId, result: r.command, index: r.command[0] });
          }
        });
      },
    });
    const client = peerClient(address);
    const stream = streamOf(client);
    cleanups.push(() => (stream.close(), client.close(), server.forceShutdown()));

    const answers = await Promise.all([1, 2, 3].map((n) => stream.request({ command: Buffer.from([n]) }, 5_000, noFallback)));
    expect(answers.map((a) => [a.index, [...a.result]])).toEqual([[1, [1]], [2, [2]], [3, [3]]]);
    expect(calls).toHaveLength(1); // one stream carried all three
    expect(stream.pendingCount).toBe(0);
  });

  test('requests made in one turn of the event loop travel as one message', async () => {
    const batchSizes: number[] = [];
    const { address, server } = await serve({
      forwardStream: (call: ForwardCall) => {
        call.on('data', (batch: { requests: ForwardReq[] }) => {
          batchSizes.push(batch.requests.length);
          answer(call, ...batch.requests.map((r) => ({ correlationId: r.correlationId, result: r.command, index: r.command[0] })));
        });
      },
    });
    const client = peerClient(address);
    const stream = streamOf(client);
    cleanups.push(() => (stream.close(), client.close(), server.forceShutdown()));

    const answers = await Promise.all(Array.from({ length: 20 }, (_, n) => stream.request({ command: Buffer.from([n]) }, 5_000, noFallback)));
    expect(answers.map((a) => a.index)).toEqual(Array.from({ length: 20 }, (_, n) => n));
    expect(batchSizes).toEqual([20]);
  });

  test('a request not answered in time fails with DEADLINE_EXCEEDED; the stream stays usable', async () => {
    const { address, server } = await serve({
      forwardStream: (call: ForwardCall) => {
        eachRequest(call, (req) => {
          if (req.command[0] !== 0) answer(call, { correlationId: req.correlationId, result: req.command, index: 7 });
        });
      },
    });
    const client = peerClient(address);
    const stream = streamOf(client);
    cleanups.push(() => (stream.close(), client.close(), server.forceShutdown()));

    const silent = stream.request({ command: Buffer.from([0]) }, 200, noFallback);
    await expect(silent).rejects.toMatchObject({ code: grpc.status.DEADLINE_EXCEEDED });
    await expect(stream.request({ command: Buffer.from([1]) }, 5_000, noFallback)).resolves.toMatchObject({ index: 7 });
  });

  test('a broken stream fails every unanswered request with its error, and the next request opens a new stream', async () => {
    let opened = 0;
    const { address, server } = await serve({
      forwardStream: (call: ForwardCall) => {
        const n = ++opened;
        eachRequest(call, (req) => {
          if (n === 1 && req.command[0] === 2) {
            call.emit('error', { code: grpc.status.INTERNAL, details: 'boom' }); // kills the first stream
            return;
          }
          if (n > 1) answer(call, { correlationId: req.correlationId, result: req.command, index: n });
        });
      },
    });
    const client = peerClient(address);
    const stream = streamOf(client);
    cleanups.push(() => (stream.close(), client.close(), server.forceShutdown()));

    const first = stream.request({ command: Buffer.from([1]) }, 5_000, noFallback);
    const second = stream.request({ command: Buffer.from([2]) }, 5_000, noFallback);
    const errors = await Promise.all([first, second].map((p) => p.then(() => null, (e: StreamCallError) => e)));
    for (const e of errors) {
      expect(e).not.toBeNull();
      expect(typeof e!.code).toBe('number');
      expect(e!.code).not.toBe(grpc.status.OK);
    }
    await expect(stream.request({ command: Buffer.from([3]) }, 5_000, noFallback)).resolves.toMatchObject({ index: 2 });
    expect(opened).toBe(2);
  });

  test('a server without the stream method gets the fallback (unary) call, for that request and every later one', async () => {
    const { address, server } = await serve({}); // no forwardStream: UNIMPLEMENTED
    const client = peerClient(address);
    const stream = streamOf(client);
    cleanups.push(() => (stream.close(), client.close(), server.forceShutdown()));

    let fallbacks = 0;
    const fallback = (): Promise<Res> => Promise.resolve({ index: ++fallbacks, result: Buffer.alloc(0) });
    await expect(stream.request({ command: Buffer.from([1]) }, 5_000, fallback)).resolves.toMatchObject({ index: 1 });
    expect(stream.usable).toBe(false);
    await expect(stream.request({ command: Buffer.from([2]) }, 5_000, fallback)).resolves.toMatchObject({ index: 2 });
  });

  test('closing lets requests already sent get their answers; later ones take the fallback', async () => {
    let release: () => void = () => {};
    const held: number[] = [];
    const { address, server } = await serve({
      forwardStream: (call: ForwardCall) => {
        release = () => {
          answer(call, ...held.map((id) => ({ correlationId: id, result: Buffer.alloc(0), index: 1 })));
          call.end();
        };
        eachRequest(call, (req) => held.push(req.correlationId));
      },
    });
    const client = peerClient(address);
    const stream = streamOf(client);
    cleanups.push(() => (client.close(), server.forceShutdown()));

    const inFlight = stream.request({ command: Buffer.from([1]) }, 5_000, noFallback);
    for (const deadline = Date.now() + 5_000; held.length === 0 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 5));
    expect(held).toHaveLength(1);
    stream.close();
    const later = stream.request({ command: Buffer.from([2]) }, 5_000, () => Promise.resolve({ index: 2, result: Buffer.alloc(0) }));
    release();
    await expect(inFlight).resolves.toMatchObject({ index: 1 });
    await expect(later).resolves.toMatchObject({ index: 2 });
  });
});
