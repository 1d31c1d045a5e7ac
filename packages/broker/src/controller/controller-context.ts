// The active controller's view of the cluster (Kafka's ControllerContext): live brokers, topics
// with their assignments, partition states with their znode versions, brokers shutting down and
// topics queued for deletion. Built from the coordinator when a controller takes over, kept up
// to date by the controller's events, dropped when it resigns. No I/O: one owner, one thread.

import type { LiveBroker, PartitionState } from '@samsa/client';
import type { LeaderAndIsr } from './leader-election-strategies.js';
import type { PartitionAssignment } from './replica-assignment.js';
import type { BrokerRegistration, TopicPartitionRef } from './znodes.js';

export interface PartitionStateRecord extends LeaderAndIsr {
  /** The state znode's version: the partition epoch, the compare-and-set token. */
  version: number;
}

export interface PartitionView {
  topic: string;
  partition: number;
  replicas: number[];
  /** null: the state znode does not exist yet (a new partition). */
  state: PartitionStateRecord | null;
}

export class ControllerContext {
  readonly liveBrokers = new Map<number, BrokerRegistration>();
  readonly shuttingDownBrokers = new Set<number>();
  /** topic → partition → view. */
  private readonly topics = new Map<string, Map<number, PartitionView>>();
  /** topic → version of /brokers/topics/<topic> (compare-and-set when partitions are added). */
  private readonly topicVersions = new Map<string, number>();
  readonly topicsToBeDeleted = new Set<string>();
  /**
   * Partitions (partitionKey) with a replica on a broker that failed, whose leader epoch has not
   * moved on since: the partition state machine bumps it (bumpLeaderEpoch), then drops the key.
   */
  readonly partitionsToFence = new Set<string>();

  constructor(
    readonly epoch: number,
    /** Version of /controller_epoch: every write is fenced on it. */
    readonly epochZkVersion: number,
  ) {}

  // ---- brokers -----------------------------------------------------------------------------

  /** Registered and not shutting down: may lead, may be elected. */
  isBrokerOnline(id: number): boolean {
    return this.liveBrokers.has(id) && !this.shuttingDownBrokers.has(id);
  }

  onlineBrokerIds(): Set<number> {
    return new Set([...this.liveBrokers.keys()].filter((id) => !this.shuttingDownBrokers.has(id)));
  }

  liveOrShuttingDownBrokerIds(): Set<number> {
    return new Set(this.liveBrokers.keys());
  }

  liveBrokersWire(): LiveBroker[] {
    return [...this.liveBrokers.values()]
      .sort((a, b) => a.id - b.id)
      .map((b) => ({ id: b.id, host: b.host, port: b.port, rack: b.rack ?? '' }));
  }

  /** A broker failed (or restarted): every partition it holds a replica of is to get a new leader epoch. */
  noteBrokerFailure(brokerId: number): void {
    for (const p of this.partitionsOnBroker(brokerId)) if (p.state !== null) this.partitionsToFence.add(partitionKey(p.topic, p.partition));
  }

  // ---- topics and partitions -----------------------------------------------------------------

  topicNames(): string[] {
    return [...this.topics.keys()];
  }

  hasTopic(topic: string): boolean {
    return this.topics.has(topic);
  }

  topicVersion(topic: string): number | undefined {
    return this.topicVersions.get(topic);
  }

  assignment(topic: string): PartitionAssignment | undefined {
    const partitions = this.topics.get(topic);
    if (!partitions) return undefined;
    return new Map([...partitions.values()].map((p) => [p.partition, [...p.replicas]]));
  }

  partitionCount(topic: string): number {
    return this.topics.get(topic)?.size ?? 0;
  }

  /** Adds a topic, or the partitions of `assignment` it does not have yet; returns those added. */
  addPartitions(topic: string, assignment: PartitionAssignment, topicVersion: number): TopicPartitionRef[] {
    let partitions = this.topics.get(topic);
    if (!partitions) {
      partitions = new Map();
      this.topics.set(topic, partitions);
    }
    this.topicVersions.set(topic, topicVersion);
    const added: TopicPartitionRef[] = [];
    for (const [partition, replicas] of assignment) {
      if (partitions.has(partition)) continue;
      partitions.set(partition, { topic, partition, replicas: [...replicas], state: null });
      added.push({ topic, partition });
    }
    return added;
  }

  removeTopic(topic: string): void {
    for (const p of this.topics.get(topic)?.keys() ?? []) this.partitionsToFence.delete(partitionKey(topic, p));
    this.topics.delete(topic);
    this.topicVersions.delete(topic);
    this.topicsToBeDeleted.delete(topic);
  }

  partition(topic: string, partition: number): PartitionView | undefined {
    return this.topics.get(topic)?.get(partition);
  }

  setPartitionState(topic: string, partition: number, state: PartitionStateRecord | null): void {
    const view = this.topics.get(topic)?.get(partition);
    if (view) view.state = state === null ? null : { ...state, isr: [...state.isr] };
  }

  *allPartitions(): IterableIterator<PartitionView> {
    for (const partitions of this.topics.values()) yield* partitions.values();
  }

  partitionsOfTopic(topic: string): PartitionView[] {
    return [...(this.topics.get(topic)?.values() ?? [])];
  }

  partitionsOnBroker(brokerId: number): PartitionView[] {
    return [...this.allPartitions()].filter((p) => p.replicas.includes(brokerId));
  }

  partitionsLedBy(brokerId: number): PartitionView[] {
    return [...this.allPartitions()].filter((p) => p.state?.leader === brokerId);
  }

  isQueuedForDeletion(topic: string): boolean {
    return this.topicsToBeDeleted.has(topic);
  }

  /** Has a state but no leader that is online (Kafka: OfflinePartition), topics being deleted aside. */
  isOffline(p: PartitionView): boolean {
    if (p.state === null || this.isQueuedForDeletion(p.topic)) return false;
    return p.state.leader < 0 || !this.liveBrokers.has(p.state.leader);
  }

  offlinePartitionCount(): number {
    let n = 0;
    for (const p of this.allPartitions()) if (this.isOffline(p)) n++;
    return n;
  }

  /** The partition as brokers are told in LeaderAndIsr / UpdateMetadata; null when it has no state. */
  partitionStateWire(topic: string, partition: number): PartitionState | null {
    const view = this.partition(topic, partition);
    if (!view?.state) return null;
    const s = view.state;
    return {
      topic,
      partition,
      controllerEpoch: s.controllerEpoch,
      leader: s.leader,
      leaderEpoch: s.leaderEpoch,
      isr: [...s.isr],
      partitionEpoch: s.version,
      replicas: [...view.replicas],
    };
  }
}

export function partitionKey(topic: string, partition: number): string {
  // A topic name never contains a NUL, so the key is unambiguous.
  return `${topic}\u0000${partition}`;
}

export function parsePartitionKey(key: string): TopicPartitionRef {
  const i = key.lastIndexOf('\u0000');
  return { topic: key.slice(0, i), partition: Number(key.slice(i + 1)) };
}
