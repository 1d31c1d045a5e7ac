// Preferred-leader imbalance, as Kafka's checkAndTriggerAutoLeaderRebalance: group partitions
// by their preferred replica (first of the assignment); a broker whose share of such partitions
// led by someone else exceeds leader.imbalance.per.broker.percentage gets those partitions moved
// back to it, where the preferred replica can lead (live, not shutting down, in the ISR).

export interface PartitionLeadershipView {
  topic: string;
  partition: number;
  replicas: readonly number[];
  /** -1 when offline; null when the partition has no state yet. */
  leader: number | null;
  isr: readonly number[];
}

export interface BrokerImbalance {
  brokerId: number;
  /** Partitions whose preferred replica is this broker. */
  preferredPartitions: number;
  /** Of those, how many someone else (or no one) leads. */
  notLedByPreferred: number;
  ratio: number;
}

export interface RebalancePlan {
  brokers: BrokerImbalance[];
  /** Partitions to hand back to their preferred replica, in (topic, partition) order. */
  candidates: Array<{ topic: string; partition: number }>;
}

/** Partitions (with a state) not led by their preferred replica: Kafka's PreferredReplicaImbalanceCount. */
export function preferredReplicaImbalanceCount(partitions: Iterable<PartitionLeadershipView>): number {
  let count = 0;
  for (const p of partitions) {
    if (p.leader !== null && p.replicas.length > 0 && p.leader !== p.replicas[0]) count++;
  }
  return count;
}

/**
 * Which partitions an auto rebalance should move. `eligibleBrokers`: live and not shutting down.
 * `imbalancePercentage`: leader.imbalance.per.broker.percentage (a broker is rebalanced when its
 * ratio is strictly above it).
 */
export function planPreferredLeaderRebalance(
  partitions: Iterable<PartitionLeadershipView>,
  eligibleBrokers: ReadonlySet<number>,
  imbalancePercentage: number,
): RebalancePlan {
  const byPreferred = new Map<number, PartitionLeadershipView[]>();
  for (const p of partitions) {
    const preferred = p.replicas[0];
    if (preferred === undefined) continue;
    const list = byPreferred.get(preferred) ?? [];
    list.push(p);
    byPreferred.set(preferred, list);
  }
  const brokers: BrokerImbalance[] = [];
  const candidates: Array<{ topic: string; partition: number }> = [];
  for (const [brokerId, list] of [...byPreferred.entries()].sort((a, b) => a[0] - b[0])) {
    const notLed = list.filter((p) => p.leader !== null && p.leader !== brokerId);
    const ratio = notLed.length / list.length;
    brokers.push({ brokerId, preferredPartitions: list.length, notLedByPreferred: notLed.length, ratio });
    if (ratio <= imbalancePercentage / 100) continue;
    if (!eligibleBrokers.has(brokerId)) continue;
    for (const p of notLed) if (p.isr.includes(brokerId)) candidates.push({ topic: p.topic, partition: p.partition });
  }
  candidates.sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
  return { brokers, candidates };
}
