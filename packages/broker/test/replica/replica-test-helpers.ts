// Shared set-up for the PartitionReplica unit tests: a replica on broker 1 of replicas [1, 2, 3].

import type { KafkaError } from '@samsa/client';
import type { EpochEntry } from '@samsa/log';
import { PartitionReplica, type PartitionReplicaOptions, type StateChangeResult } from '../../src/replica/partition-replica.js';
import type { PartitionStateInput } from '../../src/replica/partition-state.js';

export const LAG_MS = 10_000;

export function state(overrides: Partial<PartitionStateInput> = {}): PartitionStateInput {
  return { leader: 1, leaderEpoch: 1, partitionEpoch: 0, controllerEpoch: 1, isr: [1, 2, 3], replicas: [1, 2, 3], ...overrides };
}

export function replica(overrides: Partial<PartitionReplicaOptions> = {}): PartitionReplica {
  return new PartitionReplica({
    brokerId: 1,
    name: 't-0',
    logStartOffset: 0,
    logEndOffset: 0,
    nowMs: 0,
    config: { replicaLagTimeMaxMs: LAG_MS, minInsyncReplicas: 2, maxPendingProduces: 4 },
    ...overrides,
  });
}

/** A leader of epoch 1 over replicas [1, 2, 3] with the given ISR, log end offset `leo`. */
export function leader(isr: number[] = [1, 2, 3], leo = 0, options: Partial<PartitionReplicaOptions> = {}): PartitionReplica {
  const r = replica({ logEndOffset: leo, highWatermark: 0, ...options });
  expectApplied(r.becomeLeader(state({ isr }), 0));
  r.takeOutputs();
  return r;
}

export function expectApplied(result: StateChangeResult): Extract<StateChangeResult, { kind: 'applied' }> {
  if (result.kind !== 'applied') throw new Error(`expected applied, got ${JSON.stringify(result)}`);
  return result;
}

export function expectRejected(result: StateChangeResult, type: string): KafkaError {
  if (result.kind !== 'rejected') throw new Error(`expected rejected ${type}, got ${result.kind}`);
  expect(result.error.type).toBe(type);
  return result.error;
}

/** A follower fetch under epoch 1 (unless given). */
export function fetch(r: PartitionReplica, replicaId: number, fetchOffset: number, nowMs: number, currentLeaderEpoch = 1) {
  return r.onFollowerFetch(replicaId, { fetchOffset, currentLeaderEpoch, logStartOffset: 0 }, nowMs);
}

export const epochs = (...pairs: [number, number][]): EpochEntry[] => pairs.map(([epoch, startOffset]) => ({ epoch, startOffset }));
