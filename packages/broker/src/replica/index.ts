// The partition-replica core: leader epoch, high watermark, ISR, follower truncation, acks=all
// waits and idempotent-producer state. Pure: no I/O, no timers (see README.md).
export { ReplicaError, type ReplicaErrorCode } from './errors.js';
export * from './replica-config.js';
export * from './leader-epochs.js';
export { type PartitionStateInput, partitionStateProblem } from './partition-state.js';
export * from './follower-progress.js';
export * from './pending-produces.js';
export * from './partition-replica.js';
export * from './producer-state.js';
