// What this broker knows of the cluster: live brokers, the controller, every partition's
// leader, epoch, replicas and ISR — kept current by the controller's UpdateMetadata and
// LeaderAndIsr requests (fenced by controller epoch), and served by the Metadata API.

import { KafkaError, kafkaErrorToWire, type LiveBroker, type PartitionMetadata, type PartitionState, type TopicMetadata } from '@samsa/client';

export const INTERNAL_TOPICS = new Set(['__consumer_offsets']);

export class MetadataCache {
  private _controllerId = -1;
  private _controllerEpoch = -1;
  private brokers = new Map<number, LiveBroker>();
  private readonly topics = new Map<string, Map<number, PartitionState>>();

  get controllerId(): number {
    return this._controllerId;
  }
  get controllerEpoch(): number {
    return this._controllerEpoch;
  }

  /**
   * Accepts a request from controller `controllerId` at `controllerEpoch`, or throws
   * STALE_CONTROLLER_EPOCH for one older than the newest controller seen (a deposed controller).
   */
  fence(controllerId: number, controllerEpoch: number): void {
    if (controllerEpoch < this._controllerEpoch) {
      throw new KafkaError('STALE_CONTROLLER_EPOCH', `controller epoch ${controllerEpoch} is older than ${this._controllerEpoch}`);
    }
    this._controllerEpoch = controllerEpoch;
    this._controllerId = controllerId;
  }

  setLiveBrokers(brokers: LiveBroker[]): void {
    this.brokers = new Map(brokers.map((b) => [b.id, b]));
  }

  updatePartitions(states: PartitionState[]): void {
    for (const s of states) {
      let parts = this.topics.get(s.topic);
      if (!parts) this.topics.set(s.topic, (parts = new Map()));
      const current = parts.get(s.partition);
      // Never go back in leader epoch: requests from the same controller can arrive reordered.
      if (current && current.leaderEpoch > s.leaderEpoch) continue;
      parts.set(s.partition, { ...s, isr: [...s.isr], replicas: [...s.replicas] });
    }
  }

  deleteTopics(topics: string[]): void {
    for (const t of topics) this.topics.delete(t);
  }

  liveBrokers(): LiveBroker[] {
    return [...this.brokers.values()].sort((a, b) => a.id - b.id);
  }

  broker(id: number): LiveBroker | undefined {
    return this.brokers.get(id);
  }

  partition(topic: string, partition: number): PartitionState | undefined {
    return this.topics.get(topic)?.get(partition);
  }

  partitionCount(topic: string): number {
    return this.topics.get(topic)?.size ?? 0;
  }

  topicNames(): string[] {
    return [...this.topics.keys()].sort();
  }

  hasTopic(topic: string): boolean {
    return this.topics.has(topic);
  }

  allPartitions(): PartitionState[] {
    const out: PartitionState[] = [];
    for (const parts of this.topics.values()) out.push(...parts.values());
    return out;
  }

  /** The Metadata API's view of `names` (all topics when undefined). */
  topicMetadata(names?: string[]): TopicMetadata[] {
    const list = names ?? this.topicNames();
    return list.map((name): TopicMetadata => {
      const parts = this.topics.get(name);
      if (!parts) {
        return { name, isInternal: INTERNAL_TOPICS.has(name), partitions: [], error: kafkaErrorToWire(new KafkaError('UNKNOWN_TOPIC_OR_PARTITION', `unknown topic ${name}`)) };
      }
      const partitions = [...parts.values()]
        .sort((a, b) => a.partition - b.partition)
        .map((s): PartitionMetadata => {
          const offline = s.replicas.filter((r) => !this.brokers.has(r));
          const leaderAlive = s.leader >= 0 && this.brokers.has(s.leader);
          return {
            partition: s.partition,
            leader: leaderAlive ? s.leader : -1,
            leaderEpoch: s.leaderEpoch,
            replicas: s.replicas,
            isr: s.isr,
            offlineReplicas: offline,
            error: leaderAlive ? null : kafkaErrorToWire(new KafkaError('LEADER_NOT_AVAILABLE')),
          };
        });
      return { name, isInternal: INTERNAL_TOPICS.has(name), partitions, error: null };
    });
  }
}
