// What the group manager needs from the rest of the broker, as small adapters:
// - OffsetsLogAccess over the ReplicaManager: the local leader's log of an __consumer_offsets
//   partition, and appends through the ordinary acks=all produce path (the high watermark must
//   pass the batch before it counts);
// - OffsetsTopicCreator: __consumer_offsets is created on demand (the first FindCoordinator, as
//   Kafka does) through the active controller — here if this broker is it, else by CreateTopics
//   on the controller broker; one attempt at a time, spaced;
// - LogEndOffsetSampler: log end offsets (high watermarks, what consumers can reach) of the
//   partitions groups committed for — read locally where this broker leads, else one ListOffsets
//   per leader broker, bounded in partitions and time.

import { BrokerRpc, KafkaError, LATEST_TIMESTAMP, type KafkaErrorName } from '@samsa/client';
import type { Logger } from '@samsa/coordinator';
import type { Controller } from '../controller/controller.js';
import type { OffsetsLogAccess } from '../group/group-manager.js';
import { CONSUMER_OFFSETS_TOPIC } from '../group/offsets-partition.js';
import type { TopicPartitionRef } from '../group/offset-store.js';
import { effectiveReplicationFactor, type BrokerConfig } from './broker-config.js';
import type { MetadataCache } from './metadata-cache.js';
import type { ReplicaManager } from './replica-manager.js';

export class ReplicaOffsetsLog implements OffsetsLogAccess {
  constructor(private readonly replicas: ReplicaManager) {}

  leader(partition: number) {
    const p = this.replicas.get(CONSUMER_OFFSETS_TOPIC, partition);
    if (!p || !p.replica.isLeader) return null;
    return { log: p.log, leaderEpoch: p.replica.state().leaderEpoch };
  }

  async append(partition: number, batch: Buffer, timeoutMs: number): Promise<{ error: KafkaErrorName | null; baseOffset: number }> {
    const res = await this.replicas.produce(
      { acks: -1, timeoutMs, topics: [{ topic: CONSUMER_OFFSETS_TOPIC, partitions: [{ partition, records: batch }] }] },
      { internalTopicsAllowed: true },
    );
    const r = res.topics[0]?.partitions[0];
    if (!r) return { error: 'UNKNOWN_SERVER_ERROR', baseOffset: -1 };
    return { error: (r.error?.name as KafkaErrorName | undefined) ?? null, baseOffset: r.baseOffset };
  }
}

/** Spacing of creation attempts (a FindCoordinator storm asks once). */
const CREATE_RETRY_MS = 1_000;

export class OffsetsTopicCreator {
  private inFlight = false;
  private lastAttempt = -Infinity;

  constructor(
    private readonly o: {
      config: BrokerConfig;
      metadata: MetadataCache;
      controller: () => Controller | null;
      logger: Logger;
    },
  ) {}

  /**
   * Topic configs, Kafka's: compacted (the log cleaner keeps the latest record per group and
   * partition key, so a coordinator's load replays live state, not the whole commit history),
   * with offsets.topic.segment.bytes (100 MiB) segments so closed segments come to be cleaned.
   * Offsets expire through their own retention (tombstones), not by segment age.
   */
  topicConfigs(): { name: string; value: string }[] {
    return [
      { name: 'cleanup.policy', value: 'compact' },
      { name: 'segment.bytes', value: String(this.o.config['offsets.topic.segment.bytes']) },
    ];
  }

  replicationFactor(): number {
    const rf = this.o.config['offsets.topic.replication.factor'];
    if (rf > 0) return rf;
    return effectiveReplicationFactor({ ...this.o.config, 'default.replication.factor': -1 }, this.o.metadata.liveBrokers().length);
  }

  /** Starts creating __consumer_offsets unless it exists or an attempt is under way. */
  ensure(): void {
    if (this.o.metadata.hasTopic(CONSUMER_OFFSETS_TOPIC) || this.inFlight) return;
    const now = performance.now();
    if (now - this.lastAttempt < CREATE_RETRY_MS) return;
    this.lastAttempt = now;
    this.inFlight = true;
    void this.create()
      .catch((e) => this.o.logger.warn('creating __consumer_offsets failed; the next FindCoordinator retries', { error: e }))
      .finally(() => {
        this.inFlight = false;
      });
  }

  private async create(): Promise<void> {
    const spec = {
      name: CONSUMER_OFFSETS_TOPIC,
      numPartitions: this.o.config['offsets.topic.num.partitions'],
      replicationFactor: this.replicationFactor(),
      assignments: [],
      configs: this.topicConfigs(),
    };
    const controller = this.o.controller();
    let error: { name: string; message: string } | null = null;
    if (controller?.isActive) {
      const [outcome] = await controller.createTopics([{ name: spec.name, numPartitions: spec.numPartitions, replicationFactor: spec.replicationFactor, configs: spec.configs }]);
      error = outcome?.error ? { name: outcome.error.type, message: outcome.error.message } : null;
    } else {
      const b = this.o.metadata.broker(controller?.activeControllerId ?? this.o.metadata.controllerId);
      if (!b) throw new KafkaError('COORDINATOR_NOT_AVAILABLE', 'no controller known yet');
      const rpc = new BrokerRpc(`${b.host}:${b.port}`);
      try {
        const res = await rpc.createTopics({ topics: [spec], timeoutMs: 10_000, validateOnly: false }, { timeoutMs: 15_000 });
        const r = res.topics[0];
        error = r?.error ? { name: r.error.name, message: r.error.message } : null;
      } finally {
        rpc.close();
      }
    }
    if (error && error.name !== 'TOPIC_ALREADY_EXISTS') throw new Error(`${error.name}: ${error.message}`);
    if (!error) this.o.logger.info('__consumer_offsets created', { partitions: spec.numPartitions, replicationFactor: spec.replicationFactor });
  }
}

/** Partitions sampled per call at most (beyond: the rest on the next sample). */
const MAX_SAMPLED_PARTITIONS = 10_000;
const LIST_OFFSETS_TIMEOUT_MS = 2_000;

export class LogEndOffsetSampler {
  private readonly rpcs = new Map<number, BrokerRpc>();
  private cursor = 0;

  constructor(
    private readonly o: { brokerId: number; replicas: ReplicaManager; metadata: MetadataCache; logger: Logger },
  ) {}

  async sample(partitions: readonly TopicPartitionRef[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    let list = partitions;
    if (list.length > MAX_SAMPLED_PARTITIONS) {
      const start = this.cursor % list.length;
      list = [...list.slice(start), ...list.slice(0, start)].slice(0, MAX_SAMPLED_PARTITIONS);
      this.cursor = start + MAX_SAMPLED_PARTITIONS;
    }
    const remote = new Map<number, TopicPartitionRef[]>();
    for (const tp of list) {
      const local = this.o.replicas.get(tp.topic, tp.partition);
      if (local?.replica.isLeader) {
        out.set(`${tp.topic}\u0000${tp.partition}`, local.highWatermark);
        continue;
      }
      const leader = this.o.metadata.partition(tp.topic, tp.partition)?.leader ?? -1;
      if (leader < 0 || leader === this.o.brokerId) continue;
      let l = remote.get(leader);
      if (!l) remote.set(leader, (l = []));
      l.push(tp);
    }
    await Promise.all(
      [...remote].map(async ([brokerId, tps]) => {
        const rpc = this.rpc(brokerId);
        if (!rpc) return;
        const byTopic = new Map<string, number[]>();
        for (const tp of tps) {
          let ps = byTopic.get(tp.topic);
          if (!ps) byTopic.set(tp.topic, (ps = []));
          ps.push(tp.partition);
        }
        try {
          const res = await rpc.listOffsets(
            { topics: [...byTopic].map(([topic, ps]) => ({ topic, partitions: ps.map((partition) => ({ partition, timestamp: LATEST_TIMESTAMP, currentLeaderEpoch: -1 })) })) },
            { timeoutMs: LIST_OFFSETS_TIMEOUT_MS },
          );
          for (const t of res.topics) for (const p of t.partitions) if (!p.error && p.offset >= 0) out.set(`${t.topic}\u0000${p.partition}`, p.offset);
        } catch (e) {
          this.o.logger.debug('ListOffsets for lag failed', { brokerId, error: e instanceof Error ? e.message : String(e) });
        }
      }),
    );
    return out;
  }

  private rpc(brokerId: number): BrokerRpc | null {
    const b = this.o.metadata.broker(brokerId);
    if (!b) return null;
    const address = `${b.host}:${b.port}`;
    let rpc = this.rpcs.get(brokerId);
    if (rpc && rpc.address !== address) {
      rpc.close();
      rpc = undefined;
    }
    if (!rpc) this.rpcs.set(brokerId, (rpc = new BrokerRpc(address)));
    return rpc;
  }

  close(): void {
    for (const r of this.rpcs.values()) r.close();
    this.rpcs.clear();
  }
}
