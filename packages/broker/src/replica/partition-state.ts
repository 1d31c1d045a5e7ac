// The partition state a controller hands a replica (LeaderAndIsr's PartitionState, or the
// /brokers/topics/<t>/partitions/<p>/state znode re-read after a failed compare-and-set), and
// its validation. It arrives from the network, so a bad one is refused with a reason, never
// thrown.

import { isInt32 } from './errors.js';

/** No leader (an offline partition): followers wait. */
export const NO_LEADER = -1;

export interface PartitionStateInput {
  /** The leader's broker id, NO_LEADER (-1) when none. */
  readonly leader: number;
  readonly leaderEpoch: number;
  /** The state znode's version: the expected version of the leader's ISR compare-and-set. */
  readonly partitionEpoch: number;
  /** The epoch of the controller that made this leadership decision (written back with ISR changes). */
  readonly controllerEpoch: number;
  readonly isr: readonly number[];
  /** The assignment: every broker that holds a replica of the partition. */
  readonly replicas: readonly number[];
}

function distinctBrokerIds(ids: unknown): ids is readonly number[] {
  return Array.isArray(ids) && ids.every(isInt32) && new Set(ids).size === ids.length;
}

/**
 * Returns why `state` cannot be applied by broker `self` taking `role`, or null when it can:
 * int32 epochs and ids, distinct ids, ISR ⊆ replicas, this broker among the replicas, and for a
 * leader: itself the leader and in the ISR; for a follower: another broker (or none) leads.
 */
export function partitionStateProblem(state: PartitionStateInput, self: number, role: 'leader' | 'follower'): string | null {
  if (state === null || typeof state !== 'object') return 'partition state is not an object';
  const { leader, leaderEpoch, partitionEpoch, controllerEpoch, isr, replicas } = state;
  if (!isInt32(leaderEpoch) || !isInt32(partitionEpoch) || !isInt32(controllerEpoch)) {
    const epochs = `leader ${String(leaderEpoch)}, partition ${String(partitionEpoch)}, controller ${String(controllerEpoch)}`;
    return `epochs must be int32 >= 0 (${epochs})`;
  }
  if (!distinctBrokerIds(replicas) || replicas.length === 0) {
    return `replicas ${JSON.stringify(replicas)} must be distinct broker ids, at least one`;
  }
  if (!distinctBrokerIds(isr)) return `isr ${JSON.stringify(isr)} must be distinct broker ids`;
  const notAssigned = isr.filter((id) => !replicas.includes(id));
  if (notAssigned.length > 0) return `isr members ${notAssigned.join(',')} are not among the replicas [${replicas.join(',')}]`;
  if (!replicas.includes(self)) return `broker ${self} is not among the replicas [${replicas.join(',')}]`;
  if (role === 'leader') {
    if (leader !== self) return `leader ${String(leader)} is not this broker ${self}`;
    if (!isr.includes(self)) return `the leader ${self} is not in the isr [${isr.join(',')}]`;
  } else {
    if (leader === self) return `broker ${self} cannot follow itself`;
    if (leader !== NO_LEADER && !(isInt32(leader) && replicas.includes(leader))) {
      return `leader ${String(leader)} is not among the replicas [${replicas.join(',')}]`;
    }
    if (leader !== NO_LEADER && !isr.includes(leader)) return `the leader ${leader} is not in the isr [${isr.join(',')}]`;
  }
  return null;
}
