// The follower side of replication (Kafka's ReplicaFetcherManager and fetcher threads): one
// loop per leader broker, fetching every partition this broker follows from that leader in one
// long-poll Fetch, after truncating each by leader epoch (OffsetForLeaderEpoch) whenever its
// leader epoch changed. The decisions are the replica core's (THE FOLLOWER CONTRACT); this file
// only does the I/O they ask for.

import { BrokerRpc, KafkaError, kafkaErrorFromWire, type FetchRequest, type OffsetForLeaderEpochRequest } from '@samsa/client';
import type { Logger } from '@samsa/coordinator';
import type { FollowerStep } from '../replica/index.js';
import type { BrokerConfig } from './broker-config.js';
import { BrokerInternalRpc } from './broker-internal-rpc.js';
import type { BrokerMetrics } from './broker-metrics.js';
import type { MetadataCache } from './metadata-cache.js';
import type { Partition } from './partition.js';
import type { ReplicaManager } from './replica-manager.js';

export interface FetcherOptions {
  brokerId: number;
  config: BrokerConfig;
  replicas: ReplicaManager;
  metadata: MetadataCache;
  logger: Logger;
  metrics?: BrokerMetrics;
  clock?: () => number;
}

type StepOf<K extends FollowerStep['kind']> = Extract<FollowerStep, { kind: K }>;

/** One leader's partitions, fetched by one loop. */
class FetcherLoop {
  readonly partitions = new Map<string, Partition>();
  private running = true;
  private wakeUp: (() => void) | null = null;
  private fetchRpc: BrokerRpc | null = null;
  private internalRpc: BrokerInternalRpc | null = null;
  private address = '';
  /**
   * The long-poll fetch under way and the partitions it carries. A partition that joins this
   * loop (a leader change made us its follower) must not wait out that poll (up to
   * replica.fetch.wait.max.ms): until it fetches, the new leader cannot advance its high
   * watermark, so acks=all writes after a failover would stall for that long.
   */
  private inFlight: { readonly abort: AbortController; readonly keys: ReadonlySet<string> } | null = null;
  /** The in-flight fetch was cancelled on purpose, to start again with new partitions: no back-off. */
  private restartRequested = false;
  readonly done: Promise<void>;

  constructor(
    readonly leaderId: number,
    private readonly o: FetcherOptions,
  ) {
    this.done = this.run();
  }

  wake(): void {
    this.wakeUp?.();
    const fetching = this.inFlight;
    if (fetching && [...this.partitions.keys()].some((key) => !fetching.keys.has(key))) {
      this.restartRequested = true;
      fetching.abort.abort();
    }
  }

  stop(): void {
    this.running = false;
    this.wakeUp?.();
    this.inFlight?.abort.abort();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wakeUp = null;
        resolve();
      }, ms);
      this.wakeUp = () => {
        clearTimeout(t);
        this.wakeUp = null;
        resolve();
      };
    });
  }

  private connect(): boolean {
    const b = this.o.metadata.broker(this.leaderId);
    if (!b) return false;
    const address = `${b.host}:${b.port}`;
    if (address !== this.address) {
      this.fetchRpc?.close();
      this.internalRpc?.close();
      this.fetchRpc = new BrokerRpc(address);
      this.internalRpc = new BrokerInternalRpc(address);
      this.address = address;
    }
    return true;
  }

  private async run(): Promise<void> {
    const backoffMs = Math.min(this.o.config['replica.fetch.backoff.ms'], 1_000);
    while (this.running) {
      if (this.partitions.size === 0 || !this.connect()) {
        await this.sleep(200);
        continue;
      }
      try {
        const worked = await this.round();
        if (!worked) await this.sleep(100);
      } catch (e) {
        if (!this.running) break;
        if (this.restartRequested) {
          this.restartRequested = false;
          continue;
        }
        this.o.logger.debug('replica fetch failed; backing off', { leader: this.leaderId, error: e });
        await this.sleep(backoffMs);
      }
    }
    this.fetchRpc?.close();
    this.internalRpc?.close();
  }

  /** One pass over the partitions: truncate, ask epochs, fetch. Returns whether anything was done. */
  private async round(): Promise<boolean> {
    const now = this.o.clock ?? Date.now;
    const asks: { p: Partition; step: StepOf<'offset-for-leader-epoch'> }[] = [];
    const fetches: { p: Partition; step: StepOf<'fetch'> }[] = [];
    let worked = false;
    for (const p of this.partitions.values()) {
      const step = p.replica.nextFollowerStep(p.log.leaderEpochCache.epochEntries());
      if (!step) continue;
      if (step.kind === 'offset-for-leader-epoch') asks.push({ p, step });
      else if (step.kind === 'fetch') fetches.push({ p, step });
      else {
        if (step.kind === 'truncate') {
          if (step.offset < p.log.logEndOffset) p.log.truncateTo(step.offset);
          p.log.leaderEpochCache.truncateFromEnd(p.log.logEndOffset);
        } else {
          p.log.truncateFullyAndStartAt(step.startOffset);
        }
        this.o.logger.info('truncated follower log', { topic: p.topic, partition: p.partition, to: p.log.logEndOffset, step: step.kind });
        p.replica.onTruncated(p.log.logEndOffset, p.log.logStartOffset, now());
        this.o.replicas.drain(p);
        worked = true;
      }
    }
    if (asks.length > 0) {
      await this.askEpochs(asks);
      return true;
    }
    if (fetches.length > 0) {
      await this.fetch(fetches);
      return true;
    }
    return worked;
  }

  private async askEpochs(asks: { p: Partition; step: StepOf<'offset-for-leader-epoch'> }[]): Promise<void> {
    const byTopic = new Map<string, { partition: number; currentLeaderEpoch: number; leaderEpoch: number }[]>();
    for (const { p, step } of asks) {
      let list = byTopic.get(p.topic);
      if (!list) byTopic.set(p.topic, (list = []));
      list.push({ partition: p.partition, currentLeaderEpoch: step.currentLeaderEpoch, leaderEpoch: step.requestedEpoch });
    }
    const req: OffsetForLeaderEpochRequest = { replicaId: this.o.brokerId, topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })) };
    const res = await this.internalRpc!.offsetForLeaderEpoch(req, 10_000);
    const answers = new Map<string, { leaderEpoch: number; endOffset: number } | KafkaError>();
    for (const t of res.topics) {
      for (const pr of t.partitions) {
        answers.set(`${t.topic}-${pr.partition}`, kafkaErrorFromWire(pr.error) ?? { leaderEpoch: pr.leaderEpoch, endOffset: pr.endOffset });
      }
    }
    for (const { p, step } of asks) {
      const answer = answers.get(p.key) ?? new KafkaError('UNKNOWN_SERVER_ERROR', 'no answer for the partition');
      const decision = p.replica.onOffsetForLeaderEpochAnswer(step.currentLeaderEpoch, step.requestedEpoch, answer, p.log.leaderEpochCache.epochEntries());
      if (decision) this.o.logger.info('truncation decided by leader epoch', { topic: p.topic, partition: p.partition, ...decision });
    }
  }

  private async fetch(fetches: { p: Partition; step: StepOf<'fetch'> }[]): Promise<void> {
    const byTopic = new Map<string, FetchRequest['topics'][number]['partitions']>();
    for (const { p, step } of fetches) {
      let list = byTopic.get(p.topic);
      if (!list) byTopic.set(p.topic, (list = []));
      list.push({
        partition: p.partition, fetchOffset: step.fetchOffset, partitionMaxBytes: this.o.config['replica.fetch.max.bytes'],
        currentLeaderEpoch: step.currentLeaderEpoch, logStartOffset: step.logStartOffset, lastFetchedEpoch: step.lastFetchedEpoch,
      });
    }
    const maxWaitMs = this.o.config['replica.fetch.wait.max.ms'];
    const req: FetchRequest = {
      replicaId: this.o.brokerId, maxWaitMs, minBytes: this.o.config['replica.fetch.min.bytes'], maxBytes: 16 << 20,
      topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })), replicaEpoch: -1,
    };
    const inFlight = { abort: new AbortController(), keys: new Set(fetches.map((f) => f.p.key)) };
    this.inFlight = inFlight;
    this.restartRequested = false;
    let res;
    try {
      res = await this.fetchRpc!.fetch(req, { timeoutMs: maxWaitMs + 10_000, signal: inFlight.abort.signal });
    } finally {
      this.inFlight = null;
    }
    const top = kafkaErrorFromWire(res.error);
    if (top) throw top;
    const now = this.o.clock ?? Date.now;
    const sent = new Map(fetches.map((f) => [f.p.key, f]));
    for (const t of res.topics) {
      for (const pr of t.partitions) {
        const f = sent.get(`${t.topic}-${pr.partition}`);
        if (!f) continue;
        const { p, step } = f;
        const error = kafkaErrorFromWire(pr.error);
        if (error) {
          p.replica.onFetchError(step.currentLeaderEpoch, step.fetchOffset, error, pr.logStartOffset);
        } else if (p.replica.acceptsFetchResponse(step.currentLeaderEpoch, step.fetchOffset)) {
          if (pr.records.length > 0) p.appendAsFollower(pr.records);
          p.replica.onLeaderHighWatermark(pr.highWatermark, now());
          this.o.metrics?.followerLag.set(p.key, Math.max(0, pr.logEndOffset - p.log.logEndOffset));
        }
        this.o.replicas.drain(p);
      }
    }
  }
}

/** Owned by the broker: assign() partitions as LeaderAndIsr makes them followers; shutdown() at stop. */
export class ReplicaFetcherManager {
  private readonly loops = new Map<number, FetcherLoop>();
  private readonly leaderOf = new Map<string, number>();

  constructor(private readonly o: FetcherOptions) {}

  /** Follow `leaderId` for `p`, or stop fetching it (null: it leads, or it stopped). */
  assign(p: Partition, leaderId: number | null): void {
    const current = this.leaderOf.get(p.key);
    if (current !== undefined && current !== leaderId) {
      const loop = this.loops.get(current);
      loop?.partitions.delete(p.key);
      this.leaderOf.delete(p.key);
      this.o.metrics?.followerLag.delete(p.key);
    }
    if (leaderId === null || leaderId < 0) return;
    let loop = this.loops.get(leaderId);
    if (!loop) {
      loop = new FetcherLoop(leaderId, this.o);
      this.loops.set(leaderId, loop);
    }
    loop.partitions.set(p.key, p);
    this.leaderOf.set(p.key, leaderId);
    loop.wake();
  }

  async shutdown(): Promise<void> {
    for (const loop of this.loops.values()) loop.stop();
    await Promise.all([...this.loops.values()].map((l) => l.done));
    this.loops.clear();
  }
}
