// The broker's request streams, served by a real gRPC server on a local port to the client's
// BrokerRpc: requests reach the handler in the order they were sent (a producer's appends keep
// its order) and are answered as each finishes; a failing handler answers only its own request
// with UNKNOWN_SERVER_ERROR; a stream has at most MAX_REQUESTS_IN_PROGRESS_PER_STREAM requests in
// progress (the rest wait, unread); at shutdown streams answer what they took, then end, and new
// streams are refused.

import * as grpc from '@grpc/grpc-js';
import { BrokerRpc, brokerService, type ProduceRequest, type ProduceResponse } from '@samsa/client';
import { silentLogger } from '@samsa/coordinator';
import { MAX_REQUESTS_IN_PROGRESS_PER_STREAM, RequestStreams } from '../../src/server/request-streams.js';

interface Held {
  request: ProduceRequest;
  resolve(res: ProduceResponse): void;
  reject(err: unknown): void;
}

const request = (topic: string): ProduceRequest => ({ acks: 1, timeoutMs: 1_000, topics: [{ topic, partitions: [] }] });
const response = (topic: string): ProduceResponse => ({ topics: [{ topic, partitions: [] }] });

/** A broker whose Produce handler holds every request until the test settles it. */
async function startBroker(): Promise<{ address: string; held: Held[]; streams: RequestStreams; stop(): void }> {
  const held: Held[] = [];
  const streams = new RequestStreams({ logger: silentLogger });
  const server = new grpc.Server();
  server.addService(brokerService().service, {
    ProduceStream: streams.handler('Produce', (req: ProduceRequest) =>
      new Promise<ProduceResponse>((resolve, reject) => held.push({ request: req, resolve, reject }))),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { address: `127.0.0.1:${port}`, held, streams, stop: () => server.forceShutdown() };
}

async function until(what: string, cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const topicOf = (r: { topics: Array<{ topic: string }> }): string => r.topics[0]!.topic;

describe('RequestStreams', () => {
  test('requests reach the handler in sending order and are answered in finishing order; a failure answers only its request', async () => {
    const broker = await startBroker();
    const rpc = new BrokerRpc(broker.address);
    try {
      const names = Array.from({ length: 10 }, (_, i) => `t${i}`);
      const calls = names.map((n) => rpc.produce(request(n), { timeoutMs: 5_000 }));
      await until('ten requests', () => broker.held.length === 10);
      expect(broker.held.map((h) => topicOf(h.request))).toEqual(names);
      const finished: string[] = [];
      calls.forEach((c, i) => void c.then(() => finished.push(names[i]!), () => finished.push(`${names[i]!}!`)));
      for (const i of [9, 3, 0, 5, 1, 2, 4, 6, 8]) {
        broker.held[i]!.resolve(response(names[i]!));
        await until(`answer ${i}`, () => finished.length > 0 && finished.at(-1) === names[i]);
      }
      broker.held[7]!.reject(new Error('a bug'));
      await expect(calls[7]).rejects.toMatchObject({ type: 'UNKNOWN_SERVER_ERROR' });
      expect(finished).toEqual(['t9', 't3', 't0', 't5', 't1', 't2', 't4', 't6', 't8', 't7!']);
      expect(broker.streams.inProgress).toBe(0);
    } finally {
      rpc.close();
      broker.stop();
    }
  });

  test(`a stream has at most ${MAX_REQUESTS_IN_PROGRESS_PER_STREAM} requests in progress; the rest are taken as those finish`, async () => {
    const broker = await startBroker();
    const rpc = new BrokerRpc(broker.address);
    try {
      const total = MAX_REQUESTS_IN_PROGRESS_PER_STREAM + 40;
      const calls = Array.from({ length: total }, (_, i) => rpc.produce(request(`t${i}`), { timeoutMs: 10_000 }));
      await until('a full stream', () => broker.held.length === MAX_REQUESTS_IN_PROGRESS_PER_STREAM);
      await new Promise((r) => setTimeout(r, 100));
      expect(broker.held).toHaveLength(MAX_REQUESTS_IN_PROGRESS_PER_STREAM);
      expect(broker.streams.inProgress).toBe(MAX_REQUESTS_IN_PROGRESS_PER_STREAM);
      let answered = 0;
      while (answered < total) {
        await until('more requests', () => broker.held.length > answered);
        const h = broker.held[answered++]!;
        h.resolve(response(topicOf(h.request)));
      }
      const results = await Promise.all(calls);
      expect(results.map(topicOf)).toEqual(Array.from({ length: total }, (_, i) => `t${i}`));
      expect(broker.held.map((h) => topicOf(h.request))).toEqual(Array.from({ length: total }, (_, i) => `t${i}`));
    } finally {
      rpc.close();
      broker.stop();
    }
  });

  test('endAll: streams answer the requests they took, then end; new streams are refused', async () => {
    const broker = await startBroker();
    const rpc = new BrokerRpc(broker.address);
    try {
      const taken = rpc.produce(request('taken'), { timeoutMs: 5_000 });
      await until('the request', () => broker.held.length === 1);
      broker.streams.endAll();
      expect(broker.streams.openStreams).toBe(1);
      broker.held[0]!.resolve(response('taken'));
      expect(topicOf(await taken)).toBe('taken');
      await until('the stream to end', () => broker.streams.openStreams === 0);
      await expect(rpc.produce(request('refused'), { timeoutMs: 5_000 })).rejects.toMatchObject({ type: 'NETWORK_EXCEPTION' });
      expect(broker.held).toHaveLength(1);
    } finally {
      rpc.close();
      broker.stop();
    }
  });
});
