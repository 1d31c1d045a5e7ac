// Partition leader election strategies and ISR edits, as Kafka's PartitionLeaderElectionAlgorithms
// and the controller's LeaderAndIsr updates. Pure functions of the assignment, the ISR and who is
// alive: the controller calls them with its context and writes the result with compare-and-set.
//
// "Live" below means registered and not shutting down (Kafka's isReplicaOnline), except where
// a strategy says otherwise.

/** What a partition state znode holds (without its version). */
export interface LeaderAndIsr {
  /** -1: no leader (offline). */
  leader: number;
  leaderEpoch: number;
  isr: number[];
  controllerEpoch: number;
}

export const NO_LEADER = -1;

export interface ElectionResult {
  leader: number;
  isr: number[];
}

export interface OfflineElectionResult extends ElectionResult {
  /** The leader was not in the ISR: committed records may be lost. */
  unclean: boolean;
}

/**
 * Offline partition (the leader died, or a new controller found no live leader): the first
 * replica in assignment order that is live and in the ISR; the ISR keeps its live members.
 * With unclean election allowed and no live ISR member: the first live replica, ISR = [leader].
 * null: no eligible replica (the partition stays offline).
 */
export function offlinePartitionLeaderElection(args: {
  assignment: readonly number[];
  isr: readonly number[];
  liveReplicas: ReadonlySet<number>;
  uncleanLeaderElectionEnabled: boolean;
}): OfflineElectionResult | null {
  const { assignment, isr, liveReplicas } = args;
  const clean = assignment.find((id) => liveReplicas.has(id) && isr.includes(id));
  if (clean !== undefined) return { leader: clean, isr: isr.filter((id) => liveReplicas.has(id)), unclean: false };
  if (!args.uncleanLeaderElectionEnabled) return null;
  const unclean = assignment.find((id) => liveReplicas.has(id));
  if (unclean === undefined) return null;
  return { leader: unclean, isr: [unclean], unclean: true };
}

/**
 * Preferred replica: the first replica of the assignment, if it is live and in the ISR. The ISR
 * is unchanged. null: the preferred replica cannot lead now.
 */
export function preferredReplicaLeaderElection(args: {
  assignment: readonly number[];
  isr: readonly number[];
  liveReplicas: ReadonlySet<number>;
}): ElectionResult | null {
  const preferred = args.assignment[0];
  if (preferred === undefined || !args.liveReplicas.has(preferred) || !args.isr.includes(preferred)) return null;
  return { leader: preferred, isr: [...args.isr] };
}

/**
 * Controlled shutdown: the first replica in assignment order that is live (shutting-down brokers
 * count as live here), in the ISR and not shutting down; the ISR drops the shutting-down brokers.
 * null: no other ISR member can take over.
 */
export function controlledShutdownLeaderElection(args: {
  assignment: readonly number[];
  isr: readonly number[];
  liveOrShuttingDownReplicas: ReadonlySet<number>;
  shuttingDownBrokers: ReadonlySet<number>;
}): ElectionResult | null {
  const { assignment, isr, liveOrShuttingDownReplicas, shuttingDownBrokers } = args;
  const leader = assignment.find((id) => liveOrShuttingDownReplicas.has(id) && isr.includes(id) && !shuttingDownBrokers.has(id));
  if (leader === undefined) return null;
  return { leader, isr: isr.filter((id) => !shuttingDownBrokers.has(id)) };
}

/** The state after a leadership change or ISR edit: the leader epoch moves on by one. */
export function nextLeaderAndIsr(current: LeaderAndIsr, leader: number, isr: readonly number[], controllerEpoch: number): LeaderAndIsr {
  return { leader, leaderEpoch: current.leaderEpoch + 1, isr: [...isr], controllerEpoch };
}

/**
 * Takes `replicas` out of the ISR because their brokers died or are shutting down (Kafka's
 * removeReplicasFromIsr): if one of them led, the partition has no leader now. When that would
 * empty the ISR, its last member stays, so a later clean election knows who has every committed
 * record (removing one replica at a time, Kafka keeps the last one; removing several at once,
 * samsa keeps the last of them in ISR order). null: nothing to change.
 */
export function removeReplicasFromIsr(current: LeaderAndIsr, replicas: Iterable<number>, controllerEpoch: number): LeaderAndIsr | null {
  const gone = new Set(replicas);
  const leader = gone.has(current.leader) ? NO_LEADER : current.leader;
  let isr = current.isr.filter((id) => !gone.has(id));
  if (isr.length === 0 && current.isr.length > 0) isr = [current.isr[current.isr.length - 1]!];
  if (leader === current.leader && isr.length === current.isr.length) return null;
  return nextLeaderAndIsr(current, leader, isr, controllerEpoch);
}

/**
 * The same leader and ISR under the next leader epoch, for a partition with a replica on a
 * broker that failed outside the ISR (Kafka's KIP-903 race, closed here without broker epochs in
 * Fetch): a fetch that broker sent just before it lost power can reach the leader after the
 * restart, still under the current epoch, and get it added to the ISR without the records it
 * lost. A new epoch fences that fetch, and the restarted broker truncates by epoch first.
 * null: no leader (nothing to fence; the next election moves the epoch on anyway).
 */
export function bumpLeaderEpoch(current: LeaderAndIsr, controllerEpoch: number): LeaderAndIsr | null {
  if (current.leader === NO_LEADER) return null;
  return nextLeaderAndIsr(current, current.leader, current.isr, controllerEpoch);
}

/**
 * A new partition's first state: the first live replica leads, the live replicas are the ISR,
 * leader epoch 0. null: no replica is live (the partition waits for one).
 */
export function initialLeaderAndIsr(assignment: readonly number[], liveReplicas: ReadonlySet<number>, controllerEpoch: number): LeaderAndIsr | null {
  const live = assignment.filter((id) => liveReplicas.has(id));
  if (live.length === 0) return null;
  return { leader: live[0]!, leaderEpoch: 0, isr: live, controllerEpoch };
}
