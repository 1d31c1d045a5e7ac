// Delivery of controller requests: per-broker order, retries with back-off until the broker
// answers or leaves, timeouts, and the bounded queue that falls back to a full resync.
import { silentLogger } from '@samsa/coordinator';
import type { LeaderAndIsrRequest, LeaderAndIsrResponse, UpdateMetadataRequest } from '@samsa/client';
import { ControllerChannelManager, type ControllerResponse } from '../../src/controller/controller-channel-manager.js';
import type { BrokerEndpoint } from '../../src/controller/broker-channel.js';
import type { ControllerRequest } from '../../src/controller/request-batch.js';
import { ManualClock, RecordingChannel, flushMicrotasks } from './helpers.js';

const um = (epoch: number): ControllerRequest => ({
  kind: 'updateMetadata',
  request: { controllerId: 1, controllerEpoch: epoch, partitionStates: [], liveBrokers: [], deletedTopics: [] } satisfies UpdateMetadataRequest,
});
const endpoint = (id: number): BrokerEndpoint => ({ id, host: '127.0.0.1', port: 9000 + id, rack: null });

function setup(limits: Partial<ConstructorParameters<typeof ControllerChannelManager>[0]['limits']> = {}) {
  const clock = new ManualClock();
  const channel = new RecordingChannel();
  const overflows: number[] = [];
  const manager = new ControllerChannelManager({
    channel,
    clock,
    logger: silentLogger,
    limits: { maxQueuedRequestsPerBroker: 10, requestRetryBackoffMs: 100, requestRetryBackoffMaxMs: 400, brokerRequestTimeoutMs: 1_000, ...limits },
    onOverflow: (id) => overflows.push(id),
  });
  return { clock, channel, manager, overflows };
}

describe('ControllerChannelManager', () => {
  test('delivers in order per broker and reports each response', async () => {
    const { channel, manager } = setup();
    manager.addBroker(endpoint(1));
    manager.addBroker(endpoint(2));
    const done: Array<ControllerResponse | null> = [];
    for (let e = 1; e <= 3; e++) manager.send(1, um(e), (r) => done.push(r));
    manager.send(2, um(9));
    await flushMicrotasks();
    expect(channel.of('updateMetadata', 1).map((r) => r.request.controllerEpoch)).toEqual([1, 2, 3]);
    expect(channel.of('updateMetadata', 2)).toHaveLength(1);
    expect(done.map((r) => r?.kind)).toEqual(['updateMetadata', 'updateMetadata', 'updateMetadata']);
  });

  test('an unreachable broker gets the same request again with exponential back-off, capped', async () => {
    const { clock, channel, manager } = setup();
    manager.addBroker(endpoint(1));
    channel.failing.add(1);
    manager.send(1, um(1));
    manager.send(1, um(2));
    await flushMicrotasks();
    expect(channel.attempts).toHaveLength(1);
    const times: number[] = [];
    for (let i = 0; i < 4; i++) {
      const before = channel.attempts.length;
      while (channel.attempts.length === before) await clock.advance(50);
      times.push(clock.now());
    }
    // back-off 100, 200, 400, 400 (cap)
    expect(times).toEqual([100, 300, 700, 1100]);
    expect(channel.attempts.every((a) => a.request.controllerEpoch === 1)).toBe(true);
    channel.failing.delete(1);
    await clock.advance(400);
    expect(channel.of('updateMetadata', 1).map((r) => r.request.controllerEpoch)).toEqual([1, 2]);
  });

  test('a send that never settles times out and is retried', async () => {
    const clock = new ManualClock();
    let calls = 0;
    const hanging = {
      leaderAndIsr: (): Promise<LeaderAndIsrResponse> => {
        calls++;
        return calls === 1 ? new Promise<LeaderAndIsrResponse>(() => {}) : Promise.resolve({ error: null, partitionErrors: [] });
      },
      updateMetadata: () => Promise.reject(new Error('unused')),
      stopReplica: () => Promise.reject(new Error('unused')),
    };
    const manager = new ControllerChannelManager({
      channel: hanging,
      clock,
      logger: silentLogger,
      limits: { maxQueuedRequestsPerBroker: 10, requestRetryBackoffMs: 100, requestRetryBackoffMaxMs: 100, brokerRequestTimeoutMs: 1_000 },
      onOverflow: () => {},
    });
    manager.addBroker(endpoint(1));
    const results: Array<ControllerResponse | null> = [];
    const request: LeaderAndIsrRequest = { controllerId: 1, controllerEpoch: 1, partitionStates: [], liveBrokers: [] };
    manager.send(1, { kind: 'leaderAndIsr', request }, (r) => results.push(r));
    await clock.advance(999);
    expect(calls).toBe(1);
    await clock.advance(101);
    expect(calls).toBe(2);
    expect(results.map((r) => r?.kind)).toEqual(['leaderAndIsr']);
    expect(clock.pending).toBe(0);
  });

  test('a broker that leaves: its queue is dropped (callbacks get null), retries stop, the connection is released', async () => {
    const { clock, channel, manager } = setup();
    manager.addBroker(endpoint(1));
    channel.failing.add(1);
    const results: Array<ControllerResponse | null> = [];
    manager.send(1, um(1), (r) => results.push(r));
    manager.send(1, um(2), (r) => results.push(r));
    await flushMicrotasks();
    manager.removeBroker(1);
    expect(results).toEqual([null, null]);
    expect(channel.disconnected).toEqual([1]);
    await clock.advance(10_000);
    expect(channel.attempts).toHaveLength(1);
    expect(manager.send(1, um(3), (r) => results.push(r))).toBe(false);
    expect(results).toEqual([null, null, null]);
  });

  test('overflow drops the queue and asks for a full resync', async () => {
    const { clock, channel, manager, overflows } = setup({ maxQueuedRequestsPerBroker: 3 });
    manager.addBroker(endpoint(1));
    channel.failing.add(1);
    const results: Array<ControllerResponse | null> = [];
    for (let e = 1; e <= 3; e++) expect(manager.send(1, um(e), (r) => results.push(r))).toBe(true);
    await flushMicrotasks();
    expect(manager.send(1, um(4), (r) => results.push(r))).toBe(false);
    expect(overflows).toEqual([1]);
    // Everything waiting (the head was waiting for its retry) and the refused one are dropped.
    expect(results).toEqual([null, null, null, null]);
    expect(manager.queuedCount(1)).toBe(0);
    channel.failing.delete(1);
    expect(manager.send(1, um(5))).toBe(true);
    // The back-off of the failing broker still applies to what comes next.
    await flushMicrotasks();
    expect(channel.of('updateMetadata', 1)).toEqual([]);
    await clock.advance(100);
    expect(channel.of('updateMetadata', 1).map((r) => r.request.controllerEpoch)).toEqual([5]);
  });

  test('close drops everything', async () => {
    const { clock, channel, manager } = setup();
    manager.addBroker(endpoint(1));
    channel.failing.add(1);
    manager.send(1, um(1));
    await flushMicrotasks();
    manager.close();
    expect(clock.pending).toBe(0);
    expect(manager.send(1, um(2))).toBe(false);
  });
});
