// The client's view of the cluster: brokers, the controller, and per topic its partitions with
// leader, leader epoch, replicas and ISR. Pure: updated from Metadata responses and error hints,
// asked when the next refresh is due. Like Kafka's Metadata (KIP-320), partition metadata with
// an older leader epoch than the cached one is ignored, so a stale broker cannot move a leader
// backwards.

import { KafkaError, kafkaErrorFromWire } from '../protocol/errors.js';
import type { MetadataResponse } from '../protocol/wire-types.js';

export interface BrokerNode {
  id: number;
  host: string;
  port: number;
  rack: string;
  /** host:port as a connection address (IPv6 hosts bracketed). */
  address: string;
}

export interface PartitionInfo {
  topic: string;
  partition: number;
  /** -1 when no leader is known. */
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  offlineReplicas: number[];
  error: KafkaError | null;
}

export interface TopicInfo {
  name: string;
  isInternal: boolean;
  /** Indexed by partition id. */
  partitions: PartitionInfo[];
}

export interface LeaderAndEpoch {
  leader: number;
  leaderEpoch: number;
}

export function brokerAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Which topics a Metadata request asked for: the response is authoritative for these only. */
export type RequestedTopics = { all: true } | { all: false; topics: readonly string[] };

export class MetadataCache {
  private readonly brokerById = new Map<number, BrokerNode>();
  private readonly topicByName = new Map<string, TopicInfo>();
  private readonly topicErrorByName = new Map<string, KafkaError>();
  private _controllerId = -1;
  private _clusterId = '';
  private lastSuccessMs = Number.NEGATIVE_INFINITY;
  private lastAttemptMs = Number.NEGATIVE_INFINITY;
  private needUpdate = true;
  private _failures = 0;
  private _updates = 0;

  constructor(private readonly maxAgeMs: number) {}

  get controllerId(): number {
    return this._controllerId;
  }
  get clusterId(): string {
    return this._clusterId;
  }
  get brokers(): BrokerNode[] {
    return [...this.brokerById.values()];
  }
  /** Consecutive failed refreshes (drives the refresh backoff). */
  get failures(): number {
    return this._failures;
  }
  /** Successful updates so far; a waiter compares it to see that a refresh happened. */
  get updateCount(): number {
    return this._updates;
  }
  get updateRequested(): boolean {
    return this.needUpdate;
  }

  broker(id: number): BrokerNode | undefined {
    return this.brokerById.get(id);
  }

  topic(name: string): TopicInfo | undefined {
    return this.topicByName.get(name);
  }

  topicNames(): string[] {
    return [...this.topicByName.keys()];
  }

  /** The last error a Metadata response gave for `name` (cleared when the topic shows up). */
  topicError(name: string): KafkaError | undefined {
    return this.topicErrorByName.get(name);
  }

  partitionCount(topic: string): number | undefined {
    return this.topicByName.get(topic)?.partitions.length;
  }

  partition(topic: string, partition: number): PartitionInfo | undefined {
    return this.topicByName.get(topic)?.partitions[partition];
  }

  /** The leader of a partition with a known, live address; undefined otherwise. */
  leaderFor(topic: string, partition: number): LeaderAndEpoch | undefined {
    const p = this.partition(topic, partition);
    if (!p || p.leader < 0 || !this.brokerById.has(p.leader)) return undefined;
    return { leader: p.leader, leaderEpoch: p.leaderEpoch };
  }

  /** Partitions of `topic` that have a leader (Kafka's availablePartitionsForTopic). */
  availablePartitions(topic: string): number[] {
    const t = this.topicByName.get(topic);
    if (!t) return [];
    return t.partitions.filter((p) => p.leader >= 0 && this.brokerById.has(p.leader)).map((p) => p.partition);
  }

  requestUpdate(): void {
    this.needUpdate = true;
  }

  /**
   * Milliseconds until the next refresh should start: 0 when due. A requested update waits out
   * the backoff after a failed or recent refresh; otherwise the cache refreshes at max age.
   */
  timeToNextUpdate(nowMs: number, backoffMs: number): number {
    const expireIn = this.needUpdate ? 0 : Math.max(0, this.lastSuccessMs + this.maxAgeMs - nowMs);
    const backoffIn = Math.max(0, this.lastAttemptMs + backoffMs - nowMs);
    return Math.max(expireIn, backoffIn);
  }

  /** A refresh started at nowMs failed (no response). */
  updateFailed(nowMs: number): void {
    this.lastAttemptMs = nowMs;
    this._failures++;
  }

  /**
   * Applies a Metadata response. Brokers and controller are replaced; topics named in
   * `requested` (all of them when all=true) are replaced, removed when absent or unknown, and
   * other cached topics are kept.
   */
  update(res: MetadataResponse, nowMs: number, requested: RequestedTopics): void {
    this.brokerById.clear();
    for (const b of res.brokers ?? []) {
      if (!b || !Number.isInteger(b.id) || b.id < 0 || typeof b.host !== 'string' || !Number.isInteger(b.port)) continue;
      this.brokerById.set(b.id, { id: b.id, host: b.host, port: b.port, rack: b.rack ?? '', address: brokerAddress(b.host, b.port) });
    }
    this._controllerId = Number.isInteger(res.controllerId) ? res.controllerId : -1;
    this._clusterId = res.clusterId ?? '';

    const seen = new Set<string>();
    for (const t of res.topics ?? []) {
      if (!t || typeof t.name !== 'string') continue;
      seen.add(t.name);
      const topicError = kafkaErrorFromWire(t.error);
      if (topicError) {
        this.topicErrorByName.set(t.name, topicError);
        this.topicByName.delete(t.name);
        continue;
      }
      this.topicErrorByName.delete(t.name);
      this.topicByName.set(t.name, this.mergeTopic(t.name, t.isInternal === true, t.partitions ?? []));
    }
    const stale = requested.all ? [...this.topicByName.keys()] : requested.topics;
    for (const name of stale) {
      if (!seen.has(name)) {
        this.topicByName.delete(name);
        this.topicErrorByName.set(name, new KafkaError('UNKNOWN_TOPIC_OR_PARTITION', `Topic ${name} is not in the cluster metadata`));
      }
    }
    this.lastSuccessMs = nowMs;
    this.lastAttemptMs = nowMs;
    this.needUpdate = false;
    this._failures = 0;
    this._updates++;
  }

  private mergeTopic(name: string, isInternal: boolean, wire: MetadataResponse['topics'][number]['partitions']): TopicInfo {
    const cached = this.topicByName.get(name);
    const byId = new Map<number, PartitionInfo>();
    for (const p of wire) {
      // Ids are dense (0..n-1), so one at or past the count is a broker bug; it could also size an array.
      if (!p || !Number.isInteger(p.partition) || p.partition < 0 || p.partition >= wire.length) continue;
      const fresh: PartitionInfo = {
        topic: name,
        partition: p.partition,
        leader: Number.isInteger(p.leader) ? p.leader : -1,
        leaderEpoch: Number.isInteger(p.leaderEpoch) ? p.leaderEpoch : -1,
        replicas: p.replicas ?? [],
        isr: p.isr ?? [],
        offlineReplicas: p.offlineReplicas ?? [],
        error: kafkaErrorFromWire(p.error),
      };
      const old = cached?.partitions[p.partition];
      byId.set(p.partition, old && fresh.leaderEpoch >= 0 && old.leaderEpoch > fresh.leaderEpoch ? old : fresh);
    }
    // A gap (a missing id) would be a broker bug too, filled as leaderless.
    const count = byId.size === 0 ? 0 : Math.max(...byId.keys()) + 1;
    const partitions: PartitionInfo[] = [];
    for (let i = 0; i < count; i++) {
      partitions.push(
        byId.get(i) ?? { topic: name, partition: i, leader: -1, leaderEpoch: -1, replicas: [], isr: [], offlineReplicas: [], error: new KafkaError('LEADER_NOT_AVAILABLE') },
      );
    }
    return { name, isInternal, partitions };
  }

  /**
   * A leader hint from an error (NOT_LEADER_OR_FOLLOWER / FENCED_LEADER_EPOCH carry the leader
   * the broker knows): taken when its epoch is newer than the cached one. Returns whether it
   * changed the cache.
   */
  applyLeaderHint(topic: string, partition: number, leaderId: number, leaderEpoch: number): boolean {
    const p = this.partition(topic, partition);
    if (!p || leaderId < 0 || leaderEpoch < 0 || leaderEpoch <= p.leaderEpoch || !this.brokerById.has(leaderId)) return false;
    p.leader = leaderId;
    p.leaderEpoch = leaderEpoch;
    p.error = null;
    return true;
  }

  /** Drops cached topics not in `keep` (topics the client stopped using). */
  retainTopics(keep: ReadonlySet<string>): void {
    for (const name of [...this.topicByName.keys()]) if (!keep.has(name)) this.topicByName.delete(name);
    for (const name of [...this.topicErrorByName.keys()]) if (!keep.has(name)) this.topicErrorByName.delete(name);
  }
}
