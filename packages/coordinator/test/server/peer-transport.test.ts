// PeerTransport sends each batch of Raft messages at once on one stream per peer, in send order,
// and falls back to one Deliver call at a time (still in order) when the peer has no stream
// method; forwarded writes take the ForwardStream and fall back to Forward the same way. It
// reports an established connection that breaks (what a killed leader's followers see), and
// nothing for a peer it never reached.
import * as grpc from '@grpc/grpc-js';
import { peerServiceDefinition } from '../../src/client/rpc.js';
import { decodeMessage } from '../../src/raft/message-codec.js';
import type { Message } from '../../src/raft/types.js';
import { PeerTransport } from '../../src/server/peer-transport.js';

async function serve(handlers: grpc.UntypedServiceImplementation): Promise<{ address: string; server: grpc.Server }> {
  const server = new grpc.Server();
  server.addService(peerServiceDefinition(), handlers);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { address: `127.0.0.1:${port}`, server };
}

async function waitFor(cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

function heartbeat(commit: number): Message {
  return { type: 'heartbeat', from: 1, to: 2, term: 1, commit, readSeq: 0 };
}

type Batch = { from: number; messages: Buffer[] };

describe('PeerTransport', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  test('batches go out on one stream, at once and in send order', async () => {
    const received: number[] = [];
    let streams = 0;
    let unary = 0;
    const { address, server } = await serve({
      deliverStream: (call: grpc.ServerReadableStream<Batch, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        streams++;
        call.on('data', (b: Batch) => {
          for (const m of b.messages) received.push((decodeMessage(m.toString('utf8')) as { commit: number }).commit);
        });
        call.on('end', () => cb(null, {}));
      },
      deliver: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => {
        unary++;
        cb(null, {});
      },
    });
    const transport = new PeerTransport(1, new Map([[1, '127.0.0.1:1'], [2, address]]));
    cleanups.push(() => (transport.close(), server.forceShutdown()));

    for (let i = 1; i <= 50; i++) transport.send([heartbeat(i), heartbeat(1000 + i)]);
    await waitFor(() => received.length === 100);
    expect(received).toEqual(Array.from({ length: 50 }, (_, i) => [i + 1, 1001 + i]).flat());
    expect(streams).toBe(1);
    expect(unary).toBe(0);
  });

  test('a peer without DeliverStream gets Deliver calls, still in send order', async () => {
    const received: number[] = [];
    const { address, server } = await serve({
      deliver: (call: grpc.ServerUnaryCall<Batch, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        for (const m of call.request.messages) received.push((decodeMessage(m.toString('utf8')) as { commit: number }).commit);
        cb(null, {});
      },
    });
    const transport = new PeerTransport(1, new Map([[1, '127.0.0.1:1'], [2, address]]));
    cleanups.push(() => (transport.close(), server.forceShutdown()));

    transport.send([heartbeat(1)]); // lost while the transport learns the peer has no stream
    await waitFor(() => (transport as unknown as { links: Map<number, { streamUnsupported: boolean }> }).links.get(2)!.streamUnsupported);
    for (let i = 2; i <= 40; i++) transport.send([heartbeat(i)]);
    await waitFor(() => received.length === 39);
    expect(received).toEqual(Array.from({ length: 39 }, (_, i) => i + 2));
  });

  test('forwarded writes use ForwardStream, or Forward on a peer without it', async () => {
    const withStream = await serve({
      forwardStream: (call: grpc.ServerDuplexStream<{ requests: { correlationId: number; command: Buffer }[] }, unknown>) => {
        call.on('data', (batch: { requests: { correlationId: number; command: Buffer }[] }) =>
          call.write({ responses: batch.requests.map((r) => ({ correlationId: r.correlationId, result: r.command, index: 1 })) }),
        );
      },
    });
    const unaryOnly = await serve({
      forward: (call: grpc.ServerUnaryCall<{ command: Buffer }, unknown>, cb: grpc.sendUnaryData<unknown>) => cb(null, { result: call.request.command, index: 2 }),
    });
    const transport = new PeerTransport(1, new Map([[1, '127.0.0.1:1'], [2, withStream.address], [3, unaryOnly.address]]));
    cleanups.push(() => (transport.close(), withStream.server.forceShutdown(), unaryOnly.server.forceShutdown()));

    const a = await transport.forward(2, Buffer.from('a'), 5_000);
    const b = await transport.forward(3, Buffer.from('b'), 5_000);
    expect([a.index, Buffer.from(a.result).toString(), b.index, Buffer.from(b.result).toString()]).toEqual([1, 'a', 2, 'b']);
  });

  test('an established connection that breaks is reported; a peer never reached is not', async () => {
    let received = 0;
    const { address, server } = await serve({
      deliverStream: (call: grpc.ServerReadableStream<Batch, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        call.on('data', (b: Batch) => (received += b.messages.length));
        call.on('end', () => cb(null, {}));
      },
    });
    const lost: number[] = [];
    const dropped = new Map<number, number>();
    // Peer 3 listens nowhere (port 1): every attempt to reach it fails.
    const transport = new PeerTransport(1, new Map([[1, '127.0.0.1:1'], [2, address], [3, '127.0.0.1:1']]), {
      retryBackoffMs: 10,
      onConnectionLost: (peer) => lost.push(peer),
      onDropped: (peer, n) => dropped.set(peer, (dropped.get(peer) ?? 0) + n),
    });
    cleanups.push(() => (transport.close(), server.forceShutdown()));
    const toBoth = (commit: number): Message[] => [heartbeat(commit), { ...heartbeat(commit), to: 3 }];

    let commit = 0;
    const sendUntil = async (cond: () => boolean): Promise<void> => {
      const deadline = Date.now() + 5_000;
      while (!cond()) {
        if (Date.now() > deadline) throw new Error('condition not met in time');
        transport.send(toBoth(++commit));
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    // Connected to peer 2; several failed attempts on peer 3 (dropped during their backoffs).
    await sendUntil(() => received > 0 && (dropped.get(3) ?? 0) >= 5);
    expect(lost).toEqual([]);

    server.forceShutdown(); // peer 2's process goes away: its connection breaks
    await sendUntil(() => lost.length > 0);
    expect(lost).toEqual([2]);
  });
});
