// Replica assignment for new topics and added partitions: Kafka's
// AdminUtils.assignReplicasToBrokers, number for number, so an operator's intuition (and Kafka's
// own test vectors) carry over.
//
// Rack-unaware: partition p's first replica is broker (p + start) mod n over the id-sorted list;
// followers are shifted from it by a per-round shift that grows by one every n partitions, so
// followers of one leader spread over the other brokers instead of always being its neighbours.
// Rack-aware (every broker has a rack): the same walk over a rack-alternated broker list, skipping
// a broker whose rack (or itself) already holds a replica while some rack (broker) holds none.
// When only some brokers have a rack, samsa falls back to rack-unaware (Kafka's RackAwareMode.Safe).
// The random start index and shift come from an injected generator, so tests seed it.

import { KafkaError } from '@samsa/client';

export interface BrokerRack {
  id: number;
  rack: string | null;
}

/** partition id → replica broker ids, preferred leader first. */
export type PartitionAssignment = Map<number, number[]>;

export interface AssignOptions {
  /** Uniform in [0, 1): picks the start index and the first shift when they are not fixed. */
  random: () => number;
  /** Index into the (sorted or rack-alternated) broker list of partition startPartitionId's leader. */
  fixedStartIndex?: number;
  /** First partition id to assign (added partitions continue the numbering). */
  startPartitionId?: number;
}

function randomInt(random: () => number, bound: number): number {
  const r = random();
  // A broken generator must not produce an index outside the list.
  if (!(r >= 0 && r < 1)) return 0;
  return Math.floor(r * bound);
}

function replicaIndex(firstReplicaIndex: number, secondReplicaShift: number, index: number, brokerCount: number): number {
  const shift = 1 + ((secondReplicaShift + index) % (brokerCount - 1));
  return (firstReplicaIndex + shift) % brokerCount;
}

/**
 * Brokers ordered so that consecutive entries alternate racks (racks in name order, brokers of a
 * rack in id order): {0:r1, 1:r3, 2:r3, 3:r2, 4:r2, 5:r1} → [0, 3, 1, 5, 4, 2].
 */
export function rackAlternatedBrokerList(brokers: readonly BrokerRack[]): number[] {
  const byRack = new Map<string, number[]>();
  for (const b of brokers) {
    if (b.rack === null) throw new KafkaError('INVALID_REQUEST', `broker ${b.id} has no rack`);
    const list = byRack.get(b.rack) ?? [];
    list.push(b.id);
    byRack.set(b.rack, list);
  }
  const racks = [...byRack.keys()].sort();
  const iterators = racks.map((r) => byRack.get(r)!.sort((a, b) => a - b));
  const positions = racks.map(() => 0);
  const result: number[] = [];
  for (let rackIndex = 0; result.length < brokers.length; rackIndex = (rackIndex + 1) % racks.length) {
    const list = iterators[rackIndex]!;
    if (positions[rackIndex]! < list.length) result.push(list[positions[rackIndex]!++]!);
  }
  return result;
}

function validateCounts(brokerCount: number, partitions: number, replicationFactor: number): void {
  if (!Number.isInteger(partitions) || partitions <= 0) {
    throw new KafkaError('INVALID_PARTITIONS', 'Number of partitions must be larger than 0.');
  }
  if (!Number.isInteger(replicationFactor) || replicationFactor <= 0) {
    throw new KafkaError('INVALID_REPLICATION_FACTOR', 'Replication factor must be larger than 0.');
  }
  if (replicationFactor > brokerCount) {
    throw new KafkaError(
      'INVALID_REPLICATION_FACTOR',
      `Replication factor: ${replicationFactor} larger than available brokers: ${brokerCount}.`,
    );
  }
}

function assignRackUnaware(
  brokerIds: readonly number[],
  partitions: number,
  replicationFactor: number,
  options: AssignOptions,
): PartitionAssignment {
  const n = brokerIds.length;
  const fixed = options.fixedStartIndex ?? -1;
  const startIndex = fixed >= 0 ? fixed : randomInt(options.random, n);
  let nextReplicaShift = fixed >= 0 ? fixed : randomInt(options.random, n);
  let partitionId = Math.max(0, options.startPartitionId ?? -1);
  const result: PartitionAssignment = new Map();
  for (let i = 0; i < partitions; i++, partitionId++) {
    if (partitionId > 0 && partitionId % n === 0) nextReplicaShift += 1;
    const first = (partitionId + startIndex) % n;
    const replicas = [brokerIds[first]!];
    for (let j = 0; j < replicationFactor - 1; j++) replicas.push(brokerIds[replicaIndex(first, nextReplicaShift, j, n)]!);
    result.set(partitionId, replicas);
  }
  return result;
}

function assignRackAware(brokers: readonly BrokerRack[], partitions: number, replicationFactor: number, options: AssignOptions): PartitionAssignment {
  const rackOf = new Map(brokers.map((b) => [b.id, b.rack!]));
  const rackCount = new Set(rackOf.values()).size;
  const arranged = rackAlternatedBrokerList(brokers);
  const n = arranged.length;
  const fixed = options.fixedStartIndex ?? -1;
  const startIndex = fixed >= 0 ? fixed : randomInt(options.random, n);
  let nextReplicaShift = fixed >= 0 ? fixed : randomInt(options.random, n);
  let partitionId = Math.max(0, options.startPartitionId ?? -1);
  const result: PartitionAssignment = new Map();
  for (let i = 0; i < partitions; i++, partitionId++) {
    if (partitionId > 0 && partitionId % n === 0) nextReplicaShift += 1;
    const first = (partitionId + startIndex) % n;
    const leader = arranged[first]!;
    const replicas = [leader];
    const racksWithReplicas = new Set([rackOf.get(leader)!]);
    const brokersWithReplicas = new Set([leader]);
    let k = 0;
    for (let r = 0; r < replicationFactor - 1; r++) {
      for (;;) {
        const broker = arranged[replicaIndex(first, nextReplicaShift * rackCount, k, n)]!;
        const rack = rackOf.get(broker)!;
        k++;
        // Skip a broker whose rack already has a replica while another rack has none, and a
        // broker that already has one while another broker has none.
        const rackOk = !racksWithReplicas.has(rack) || racksWithReplicas.size === rackCount;
        const brokerOk = !brokersWithReplicas.has(broker) || brokersWithReplicas.size === n;
        if (rackOk && brokerOk) {
          replicas.push(broker);
          racksWithReplicas.add(rack);
          brokersWithReplicas.add(broker);
          break;
        }
      }
    }
    result.set(partitionId, replicas);
  }
  return result;
}

/**
 * Assigns `partitions` partitions of `replicationFactor` replicas over `brokers` (Kafka's
 * AdminUtils.assignReplicasToBrokers). Throws INVALID_PARTITIONS / INVALID_REPLICATION_FACTOR.
 */
export function assignReplicasToBrokers(
  brokers: readonly BrokerRack[],
  partitions: number,
  replicationFactor: number,
  options: AssignOptions,
): PartitionAssignment {
  validateCounts(brokers.length, partitions, replicationFactor);
  const ids = new Set(brokers.map((b) => b.id));
  if (ids.size !== brokers.length) throw new KafkaError('INVALID_REQUEST', 'duplicate broker ids in the broker list');
  const sorted = [...brokers].sort((a, b) => a.id - b.id);
  if (sorted.every((b) => b.rack !== null)) return assignRackAware(sorted, partitions, replicationFactor, options);
  return assignRackUnaware(
    sorted.map((b) => b.id),
    partitions,
    replicationFactor,
    options,
  );
}

/**
 * Assignment for the partitions added to a topic so that it has `newTotal` (Kafka's
 * AdminZkClient.createNewPartitionsAssignment): same replication factor, continuing the
 * numbering, starting at the broker that leads partition 0 so the round-robin carries on.
 */
export function assignAddedPartitions(
  existing: PartitionAssignment,
  newTotal: number,
  brokers: readonly BrokerRack[],
  random: () => number,
): PartitionAssignment {
  const partition0 = existing.get(0);
  if (!partition0 || partition0.length === 0) {
    throw new KafkaError('INVALID_REPLICA_ASSIGNMENT', 'the existing assignment has no partition 0');
  }
  const toAdd = newTotal - existing.size;
  if (!Number.isInteger(newTotal) || toAdd <= 0) {
    throw new KafkaError(
      'INVALID_PARTITIONS',
      `Topic currently has ${existing.size} partitions, which is higher than or equal to the requested ${String(newTotal)}.`,
    );
  }
  const sortedIds = [...brokers].sort((a, b) => a.id - b.id).map((b) => b.id);
  const startIndex = Math.max(0, sortedIds.findIndex((id) => id >= partition0[0]!));
  return assignReplicasToBrokers(brokers, toAdd, partition0.length, {
    random,
    fixedStartIndex: startIndex,
    startPartitionId: existing.size,
  });
}

/**
 * Checks an explicit assignment (Kafka's validateReplicaAssignment): partitions numbered 0..n-1
 * (or `firstPartitionId`.. for added ones), each with at least one replica, no duplicates, the
 * same replication factor everywhere (`expectedReplicationFactor` when given), and only known
 * brokers. Throws INVALID_REPLICA_ASSIGNMENT; returns the assignment as a map.
 */
export function validateReplicaAssignment(
  entries: ReadonlyArray<{ partition: unknown; replicas: unknown }>,
  knownBrokers: ReadonlySet<number>,
  options: { firstPartitionId?: number; expectedReplicationFactor?: number } = {},
): PartitionAssignment {
  const bad = (why: string): never => {
    throw new KafkaError('INVALID_REPLICA_ASSIGNMENT', why);
  };
  if (!Array.isArray(entries) || entries.length === 0) bad('The replica assignment is empty.');
  const first = options.firstPartitionId ?? 0;
  const result: PartitionAssignment = new Map();
  let replicationFactor = options.expectedReplicationFactor ?? -1;
  for (const entry of entries) {
    const p = entry?.partition;
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 0) bad(`Partition id ${String(p)} is not a non-negative integer.`);
    const partition = p as number;
    if (result.has(partition)) bad(`Partition ${partition} is assigned twice.`);
    const replicas = entry.replicas;
    if (!Array.isArray(replicas) || replicas.length === 0) bad(`Partition ${partition} has no replicas.`);
    const list = replicas as unknown[];
    if (!list.every((r) => typeof r === 'number' && Number.isInteger(r) && r >= 0)) {
      bad(`Partition ${partition} has a replica that is not a broker id: ${JSON.stringify(list)}.`);
    }
    const ids = list as number[];
    if (new Set(ids).size !== ids.length) bad(`Duplicate replica assignment found for partition ${partition}: ${JSON.stringify(ids)}.`);
    if (replicationFactor === -1) replicationFactor = ids.length;
    else if (ids.length !== replicationFactor) {
      bad(`Inconsistent replication factor: partition ${partition} has ${ids.length} replicas, expected ${replicationFactor}.`);
    }
    const unknown = ids.filter((id) => !knownBrokers.has(id));
    if (unknown.length > 0) bad(`Unknown broker(s) in replica assignment of partition ${partition}: ${unknown.join(', ')}.`);
    result.set(partition, [...ids]);
  }
  for (let i = 0; i < result.size; i++) {
    if (!result.has(first + i)) bad(`Partitions should be a consecutive integer sequence starting at ${first}; ${first + i} is missing.`);
  }
  return new Map([...result.entries()].sort((a, b) => a[0] - b[0]));
}
