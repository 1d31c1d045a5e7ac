// The gRPC stub for one broker: transport failures become the KafkaErrors Kafka clients see
// (a refused connection is NETWORK_EXCEPTION, a missed deadline REQUEST_TIMED_OUT), checked on
// the mapping and on real calls to a port nobody listens on.

import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { BrokerRpc, kafkaErrorFromTransport } from '../src/protocol/broker-rpc.js';
import { KafkaError } from '../src/protocol/errors.js';

function serviceError(code: grpc.status, details = 'x'): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

/** A local port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('BrokerRpc', () => {
  test('gRPC statuses map to Kafka errors with the broker in the message', () => {
    const cases: Array<[grpc.status, string, boolean]> = [
      [grpc.status.DEADLINE_EXCEEDED, 'REQUEST_TIMED_OUT', true],
      [grpc.status.UNAVAILABLE, 'NETWORK_EXCEPTION', true],
      [grpc.status.CANCELLED, 'NETWORK_EXCEPTION', true],
      [grpc.status.RESOURCE_EXHAUSTED, 'MESSAGE_TOO_LARGE', false],
      [grpc.status.UNIMPLEMENTED, 'UNSUPPORTED_VERSION', false],
      [grpc.status.INVALID_ARGUMENT, 'INVALID_REQUEST', false],
      [grpc.status.INTERNAL, 'UNKNOWN_SERVER_ERROR', false],
    ];
    for (const [code, type, retriable] of cases) {
      const err = kafkaErrorFromTransport(serviceError(code, 'boom'), 'h:9092');
      expect([err.type, err.retriable, err.message.includes('h:9092') && err.message.includes('boom')]).toEqual([type, retriable, true]);
    }
  });

  test('a call to a port nobody listens on fails with NETWORK_EXCEPTION', async () => {
    const rpc = new BrokerRpc(`127.0.0.1:${await closedPort()}`);
    try {
      const err = await rpc.metadata({ topics: [], allTopics: false }, { timeoutMs: 10_000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KafkaError);
      expect((err as KafkaError).type).toBe('NETWORK_EXCEPTION');
    } finally {
      rpc.close();
    }
  });

  test('an aborted signal fails the call with NETWORK_EXCEPTION without sending it', async () => {
    const rpc = new BrokerRpc('127.0.0.1:1');
    try {
      const ac = new AbortController();
      ac.abort();
      await expect(rpc.fetch({} as never, { timeoutMs: 1000, signal: ac.signal })).rejects.toMatchObject({ type: 'NETWORK_EXCEPTION' });
    } finally {
      rpc.close();
    }
  });
});
