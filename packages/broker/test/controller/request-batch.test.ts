// The request batch: per broker, LeaderAndIsr then UpdateMetadata then StopReplica, final states, split at the limit.
import type { PartitionState } from '@samsa/client';
import { ControllerRequestBatch, type BuildInputs } from '../../src/controller/request-batch.js';

const state = (topic: string, partition: number, leaderEpoch = 0): PartitionState => ({
  topic,
  partition,
  controllerEpoch: 3,
  leader: 1,
  leaderEpoch,
  isr: [1, 2],
  partitionEpoch: 0,
  replicas: [1, 2],
});

function inputs(states: Map<string, PartitionState>, max = 100): BuildInputs {
  return {
    controllerId: 9,
    controllerEpoch: 3,
    liveBrokers: [{ id: 1, host: 'h', port: 1, rack: '' }],
    stateOf: (t, p) => states.get(`${t}-${p}`) ?? null,
    allPartitionKeys: () => [...states.values()].map((s) => ({ topic: s.topic, partition: s.partition })),
    maxPartitionsPerRequest: max,
  };
}

describe('ControllerRequestBatch', () => {
  test('orders requests per broker and carries controller id and epoch', () => {
    const states = new Map([['t-0', state('t', 0)]]);
    const b = new ControllerRequestBatch();
    expect(b.isEmpty).toBe(true);
    b.addStopReplica(2, 't', 0, false);
    b.addUpdateMetadata([1, 2], [{ topic: 't', partition: 0 }]);
    b.addLeaderAndIsr([2], 't', 0);
    const out = b.build(inputs(states));
    expect(out.map((r) => [r.brokerId, r.payload.kind])).toEqual([
      [1, 'updateMetadata'],
      [2, 'leaderAndIsr'],
      [2, 'updateMetadata'],
      [2, 'stopReplica'],
    ]);
    for (const r of out) {
      expect(r.payload.request.controllerId).toBe(9);
      expect(r.payload.request.controllerEpoch).toBe(3);
    }
    expect(out[3]!.partitions).toEqual([{ topic: 't', partition: 0 }]);
  });

  test('a partition noted twice is sent once, in the state it has when the batch is built', () => {
    const states = new Map([['t-0', state('t', 0, 1)]]);
    const b = new ControllerRequestBatch();
    b.addLeaderAndIsr([1], 't', 0);
    states.set('t-0', state('t', 0, 2));
    b.addLeaderAndIsr([1], 't', 0);
    const [r] = b.build(inputs(states));
    expect(r!.payload.kind).toBe('leaderAndIsr');
    if (r!.payload.kind === 'leaderAndIsr') expect(r!.payload.request.partitionStates.map((s) => s.leaderEpoch)).toEqual([2]);
  });

  test('partitions without a state are left out; an UpdateMetadata with none still goes (live brokers changed)', () => {
    const b = new ControllerRequestBatch();
    b.addLeaderAndIsr([1], 'gone', 0);
    b.addUpdateMetadata([1]);
    b.addDeletedTopics([1], ['old']);
    const out = b.build(inputs(new Map()));
    expect(out.map((r) => r.payload.kind)).toEqual(['updateMetadata']);
    if (out[0]!.payload.kind === 'updateMetadata') {
      expect(out[0]!.payload.request.partitionStates).toEqual([]);
      expect(out[0]!.payload.request.deletedTopics).toEqual(['old']);
      expect(out[0]!.payload.request.liveBrokers).toHaveLength(1);
    }
  });

  test('full UpdateMetadata carries every partition, split at maxPartitionsPerRequest', () => {
    const states = new Map(Array.from({ length: 5 }, (_, i) => [`t-${i}`, state('t', i)] as const));
    const b = new ControllerRequestBatch();
    b.addFullUpdateMetadata([1]);
    b.addDeletedTopics([1], ['x']);
    const out = b.build(inputs(states, 2));
    expect(out).toHaveLength(3);
    const sizes = out.map((r) => (r.payload.kind === 'updateMetadata' ? r.payload.request.partitionStates.length : -1));
    expect(sizes).toEqual([2, 2, 1]);
    const deleted = out.map((r) => (r.payload.kind === 'updateMetadata' ? r.payload.request.deletedTopics : []));
    expect(deleted).toEqual([['x'], [], []]);
  });

  test('StopReplica with and without deletion are separate requests', () => {
    const b = new ControllerRequestBatch();
    b.addStopReplica(1, 'a', 0, true);
    b.addStopReplica(1, 'b', 0, false);
    b.addStopReplica(1, 'a', 1, true);
    const out = b.build(inputs(new Map()));
    const flags = out.map((r) => (r.payload.kind === 'stopReplica' ? [r.payload.request.deletePartitions, r.payload.request.partitions.length] : null));
    expect(flags).toEqual([
      [true, 2],
      [false, 1],
    ]);
  });
});
