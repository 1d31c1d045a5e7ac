// Produce and Fetch on request streams, against a real gRPC server on a local port whose
// stream handlers the test scripts: answers are matched by correlation id in any order; a
// request-level error rejects only its request; a timeout fails its request with
// REQUEST_TIMED_OUT and takes the stream down (the next request opens a new one); a stream the
// broker ends, or a closed connection, fails what waits on it; a broker without the stream RPC
// is sent unary calls; one abort listener serves every call that shares a signal.

import { getEventListeners } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { BrokerRpc } from '../src/protocol/broker-rpc.js';
import { KafkaError, kafkaErrorToWire } from '../src/protocol/errors.js';
import { brokerService } from '../src/protocol/proto.js';
import type { ProduceRequest, ProduceResponse, StreamRequest, StreamResponse } from '../src/protocol/wire-types.js';

type ProduceCall = grpc.ServerDuplexStream<StreamRequest<ProduceRequest>, StreamResponse<ProduceResponse>>;

/** What the test broker saw: each stream opened and each request on it, in arrival order. */
interface Seen {
  streams: ProduceCall[];
  requests: Array<{ call: ProduceCall; correlationId: number; request: ProduceRequest }>;
  unary: ProduceRequest[];
}

function produceRequest(topic: string): ProduceRequest {
  return { acks: -1, timeoutMs: 1000, topics: [{ topic, partitions: [{ partition: 0, records: Buffer.from(topic) }] }] };
}

function answer(topic: string, baseOffset: number): ProduceResponse {
  return { topics: [{ topic, partitions: [{ partition: 0, error: null, baseOffset, logAppendTime: -1, logStartOffset: 0 }] }] };
}

async function startBroker(withStreams: boolean): Promise<{ address: string; seen: Seen; stop(): Promise<void> }> {
  const seen: Seen = { streams: [], requests: [], unary: [] };
  const server = new grpc.Server();
  const handlers: grpc.UntypedServiceImplementation = {
    Produce: (call: grpc.ServerUnaryCall<ProduceRequest, ProduceResponse>, cb: grpc.sendUnaryData<ProduceResponse>) => {
      seen.unary.push(call.request);
      cb(null, answer(call.request.topics[0]!.topic, 7));
    },
  };
  if (withStreams) {
    handlers.ProduceStream = (call: ProduceCall) => {
      seen.streams.push(call);
      call.on('data', (msg: StreamRequest<ProduceRequest>) => seen.requests.push({ call, correlationId: msg.correlationId, request: msg.request }));
      call.on('error', () => {});
    };
  }
  server.addService(brokerService().service, handlers);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    address: `127.0.0.1:${port}`,
    seen,
    stop: () => new Promise<void>((resolve) => {
      server.forceShutdown();
      resolve();
    }),
  };
}

async function until(what: string, cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const topicsOf = (seen: Seen): string[] => seen.requests.map((r) => r.request.topics[0]!.topic);

describe('BrokerRpc request streams', () => {
  test('requests travel in order on one stream and are matched to answers given in any order', async () => {
    const broker = await startBroker(true);
    const rpc = new BrokerRpc(broker.address);
    try {
      const a = rpc.produce(produceRequest('a'), { timeoutMs: 5_000 });
      const b = rpc.produce(produceRequest('b'), { timeoutMs: 5_000 });
      const c = rpc.produce(produceRequest('c'), { timeoutMs: 5_000 });
      await until('three requests', () => broker.seen.requests.length === 3);
      expect(topicsOf(broker.seen)).toEqual(['a', 'b', 'c']);
      expect(broker.seen.streams).toHaveLength(1);
      const [ra, rb, rc] = broker.seen.requests;
      rc!.call.write({ correlationId: rc!.correlationId, response: answer('c', 30), error: null });
      ra!.call.write({ correlationId: ra!.correlationId, response: answer('a', 10), error: null });
      rb!.call.write({ correlationId: rb!.correlationId, response: null, error: kafkaErrorToWire(new KafkaError('NOT_ENOUGH_REPLICAS')) });
      expect((await a).topics[0]!.partitions[0]!.baseOffset).toBe(10);
      expect((await c).topics[0]!.partitions[0]!.baseOffset).toBe(30);
      await expect(b).rejects.toMatchObject({ type: 'NOT_ENOUGH_REPLICAS' });
      expect(broker.seen.unary).toHaveLength(0);
    } finally {
      rpc.close();
      await broker.stop();
    }
  });

  test('a timed-out request fails with REQUEST_TIMED_OUT, takes its stream down, and the next request opens a new one', async () => {
    const broker = await startBroker(true);
    const rpc = new BrokerRpc(broker.address);
    try {
      const slow = rpc.produce(produceRequest('slow'), { timeoutMs: 5_000 });
      const doomed = rpc.produce(produceRequest('doomed'), { timeoutMs: 50 });
      await expect(doomed).rejects.toMatchObject({ type: 'REQUEST_TIMED_OUT' });
      await expect(slow).rejects.toMatchObject({ type: 'NETWORK_EXCEPTION' });
      const next = rpc.produce(produceRequest('next'), { timeoutMs: 5_000 });
      await until('a second stream', () => broker.seen.streams.length === 2 && broker.seen.requests.length === 3);
      const r = broker.seen.requests[2]!;
      expect(r.call).toBe(broker.seen.streams[1]);
      r.call.write({ correlationId: r.correlationId, response: answer('next', 3), error: null });
      expect((await next).topics[0]!.partitions[0]!.baseOffset).toBe(3);
    } finally {
      rpc.close();
      await broker.stop();
    }
  });

  test('a stream the broker ends fails its waiting requests with NETWORK_EXCEPTION; close() fails the rest', async () => {
    const broker = await startBroker(true);
    const rpc = new BrokerRpc(broker.address);
    try {
      const first = rpc.produce(produceRequest('first'), { timeoutMs: 5_000 });
      await until('the request', () => broker.seen.requests.length === 1);
      broker.seen.streams[0]!.end();
      await expect(first).rejects.toMatchObject({ type: 'NETWORK_EXCEPTION' });
      const second = rpc.produce(produceRequest('second'), { timeoutMs: 5_000 });
      await until('the second request', () => broker.seen.requests.length === 2);
      rpc.close();
      await expect(second).rejects.toMatchObject({ type: 'NETWORK_EXCEPTION' });
      await expect(rpc.produce(produceRequest('late'), { timeoutMs: 5_000 })).rejects.toMatchObject({ type: 'NETWORK_EXCEPTION' });
    } finally {
      rpc.close();
      await broker.stop();
    }
  });

  test('a broker without the stream RPC gets the waiting and every later request as unary calls', async () => {
    const broker = await startBroker(false);
    const rpc = new BrokerRpc(broker.address);
    try {
      const [a, b] = await Promise.all([
        rpc.produce(produceRequest('a'), { timeoutMs: 5_000 }),
        rpc.produce(produceRequest('b'), { timeoutMs: 5_000 }),
      ]);
      expect([a.topics[0]!.topic, b.topics[0]!.topic]).toEqual(['a', 'b']);
      await rpc.produce(produceRequest('c'), { timeoutMs: 5_000 });
      expect(broker.seen.unary.map((r) => r.topics[0]!.topic).sort()).toEqual(['a', 'b', 'c']);
    } finally {
      rpc.close();
      await broker.stop();
    }
  });

  test('calls sharing a signal add one abort listener; aborting fails them with NETWORK_EXCEPTION and removes it', async () => {
    const broker = await startBroker(true);
    const rpc = new BrokerRpc(broker.address);
    try {
      const ac = new AbortController();
      const calls = Array.from({ length: 20 }, (_, i) => rpc.produce(produceRequest(`t${i}`), { timeoutMs: 5_000, signal: ac.signal }));
      const metadataCall = rpc.metadata({ topics: [], allTopics: false }, { timeoutMs: 5_000, signal: ac.signal });
      expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1);
      await until('twenty requests', () => broker.seen.requests.length === 20);
      const r = broker.seen.requests[0]!;
      r.call.write({ correlationId: r.correlationId, response: answer('t0', 0), error: null });
      await calls[0];
      ac.abort();
      for (const c of calls.slice(1)) await expect(c).rejects.toMatchObject({ type: 'NETWORK_EXCEPTION' });
      await expect(metadataCall).rejects.toBeInstanceOf(KafkaError);
      expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);

      const done = new AbortController();
      const one = rpc.produce(produceRequest('x'), { timeoutMs: 5_000, signal: done.signal });
      await until('the request', () => broker.seen.requests.length === 21);
      const rx = broker.seen.requests[20]!;
      rx.call.write({ correlationId: rx.correlationId, response: answer('x', 1), error: null });
      await one;
      expect(getEventListeners(done.signal, 'abort')).toHaveLength(0);
    } finally {
      rpc.close();
      await broker.stop();
    }
  });
});
