// Errors of the partition-replica core. Two kinds, kept apart on purpose:
// - refusals that a client or a peer broker must see (not the leader, a fenced epoch, too few
//   in-sync replicas, an out-of-order sequence…) are *results* carrying a KafkaError from
//   @samsa/client, so the protocol adapter puts Kafka's own code on the wire;
// - ReplicaError is thrown for misuse by the adapter (an offset that goes backwards, a
//   non-integer time) and for a broken invariant, which means this replica's state can no longer
//   be trusted: the adapter takes the partition offline, it never retries.
// Codes are stable: add codes, never rename one.

import { KafkaError, type KafkaErrorName } from '@samsa/client';

export type ReplicaErrorCode =
  | 'INVALID_ARGUMENT' // an adapter call with a value out of range (negative offset, NaN time, unknown id)
  | 'INVALID_CONFIG' // a ReplicaConfig / ProducerStateConfig value out of range
  | 'INVARIANT_VIOLATION'; // the core's own state broke a replication invariant: stop the replica

export class ReplicaError extends Error {
  constructor(
    readonly code: ReplicaErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ReplicaError';
  }
}

export function invariant(condition: boolean, message: () => string): asserts condition {
  if (!condition) throw new ReplicaError('INVARIANT_VIOLATION', message());
}

export function checkArgument(condition: boolean, message: () => string): asserts condition {
  if (!condition) throw new ReplicaError('INVALID_ARGUMENT', message());
}

/** A non-negative safe integer (offsets, times). */
export function isOffset(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** A non-negative int32 (broker ids, epochs, sequence numbers). */
export function isInt32(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0x7fff_ffff;
}

export function checkOffset(name: string, v: number): void {
  checkArgument(isOffset(v), () => `${name} ${String(v)} is not a non-negative safe integer`);
}

export function checkTime(name: string, v: number): void {
  checkArgument(typeof v === 'number' && Number.isSafeInteger(v), () => `${name} ${String(v)} is not an integer time in ms`);
}

/** A KafkaError with the leader hint the receiver needs to find the right broker. */
export function kafkaError(type: KafkaErrorName, message: string, leaderId = -1, leaderEpoch = -1): KafkaError {
  return new KafkaError(type, message, { leaderId, leaderEpoch });
}
