// Settings of one partition replica, under Kafka's names where Kafka has one. Topic configs
// (min.insync.replicas) can change at run time: PartitionReplica.updateConfig.

import { ReplicaError } from './errors.js';

export interface ReplicaConfig {
  /** replica.lag.time.max.ms: a follower not caught up for longer leaves the ISR. Kafka default 30000. */
  readonly replicaLagTimeMaxMs: number;
  /** min.insync.replicas of the topic: acks=all needs at least this many in the ISR. Kafka default 1. */
  readonly minInsyncReplicas: number;
  /** acks=all produce requests that may wait for replication at once; more are refused. */
  readonly maxPendingProduces: number;
}

export const DEFAULT_REPLICA_CONFIG: ReplicaConfig = Object.freeze({
  replicaLagTimeMaxMs: 30_000,
  minInsyncReplicas: 1,
  maxPendingProduces: 1_000,
});

function checkInt(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ReplicaError('INVALID_CONFIG', `${name} must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

/** Fills defaults and checks ranges; throws ReplicaError INVALID_CONFIG. */
export function resolveReplicaConfig(config: Partial<ReplicaConfig> = {}): ReplicaConfig {
  const c = { ...DEFAULT_REPLICA_CONFIG, ...config };
  return Object.freeze({
    replicaLagTimeMaxMs: checkInt('replica.lag.time.max.ms', c.replicaLagTimeMaxMs, 1, 2 ** 31 - 1),
    minInsyncReplicas: checkInt('min.insync.replicas', c.minInsyncReplicas, 1, 2 ** 31 - 1),
    maxPendingProduces: checkInt('maxPendingProduces', c.maxPendingProduces, 1, 1_000_000),
  });
}
