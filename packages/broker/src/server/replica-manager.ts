// Every partition replica this broker hosts, and the requests that touch them: the
// controller's LeaderAndIsr and StopReplica, Produce, Fetch (consumers and followers),
// ListOffsets and OffsetForLeaderEpoch. After each input it drains the replicas' outputs: high
// watermark moves wake long-poll fetches, ISR changes are written to the coordinator with
// compare-and-set, finished acks=all produces are answered. Kafka's ReplicaManager.

import {
  KafkaError, kafkaErrorToWire, type FetchPartitionResponse, type FetchRequest, type FetchResponse,
  type LeaderAndIsrRequest, type LeaderAndIsrResponse, type ListOffsetsRequest, type ListOffsetsResponse,
  type OffsetForLeaderEpochRequest, type OffsetForLeaderEpochResponse, type PartitionError, type PartitionState,
  type ProduceRequest, type ProduceResponse, type StopReplicaRequest, type StopReplicaResponse,
} from '@samsa/client';
import type { CoordinatorClient, Logger } from '@samsa/coordinator';
import { BATCH_HEADER_SIZE, readBatchHeader } from '@samsa/log';
import type { BrokerConfig } from './broker-config.js';
import { DelayedOperations } from './delayed-operations.js';
import { IsrChangeWriter } from './isr-change-writer.js';
import type { RetryPauseLimits } from './retry-pause.js';
import type { LogManager } from './log-manager.js';
import { INTERNAL_TOPICS, type MetadataCache } from './metadata-cache.js';
import { kafkaErrorFromLog, Partition } from './partition.js';
import type { TopicSettings } from './topic-config.js';
import type { BrokerMetrics } from './broker-metrics.js';

export interface ReplicaManagerOptions {
  brokerId: number;
  config: BrokerConfig;
  logManager: LogManager;
  metadata: MetadataCache;
  /** The broker's current coordinator session. */
  zk: () => CoordinatorClient;
  /** A topic's effective settings (broker defaults + /config/topics/<topic>). */
  topicSettings: (topic: string, replicationFactor: number) => Promise<TopicSettings>;
  logger: Logger;
  metrics?: BrokerMetrics;
  clock?: () => number;
  /** Back-off between retries of ISR writes and notifications (default 50 ms doubling to 1 s). */
  isrWriteRetry?: RetryPauseLimits;
}

const EARLIEST = -2;
const LATEST = -1;
const TICK_MS = 250;
/** How long an idempotent batch ahead of its predecessor waits for it (see appendInSequence). */
const SEQUENCE_GAP_WAIT_MS = 500;
/** Kafka's max.in.flight for idempotence: a gap wider than this many batches is a real error. */
const SEQUENCE_GAP_MAX_BATCHES = 5;

function err(e: unknown): ReturnType<typeof kafkaErrorToWire> {
  return kafkaErrorToWire(kafkaErrorFromLog(e));
}

/** Owned by the broker: start() after the logs are open, shutdown() before they close. */
export class ReplicaManager {
  readonly partitions = new Map<string, Partition>();
  readonly fetchPurgatory = new DelayedOperations(10_000);
  /** Follower partitions' fetching is driven from here; set by the broker (ReplicaFetcherManager). */
  onFollowerChange: ((p: Partition, leaderId: number | null) => void) | null = null;
  /** A replica became leader or follower (applied), or was stopped (isLeader false); the group coordinator follows __consumer_offsets. */
  onLeadershipChange: ((p: Partition, isLeader: boolean, leaderEpoch: number) => void) | null = null;
  private readonly produceWaiters = new Map<string, (error: KafkaError | null) => void>();
  private readonly isrWriter: IsrChangeWriter;
  private readonly sequenceWaiters = new Map<string, Set<{ resolve(): void; timer: NodeJS.Timeout }>>();
  private tickTimer: NodeJS.Timeout | null = null;
  private checkpointTimer: NodeJS.Timeout | null = null;
  private retentionTimer: NodeJS.Timeout | null = null;
  private readonly clock: () => number;
  private stopped = false;

  constructor(private readonly o: ReplicaManagerOptions) {
    this.clock = o.clock ?? Date.now;
    this.isrWriter = new IsrChangeWriter({
      zk: o.zk, metadata: o.metadata, logger: o.logger, metrics: o.metrics, clock: this.clock, retry: o.isrWriteRetry,
      hosts: (p) => !this.stopped && this.partitions.get(p.key) === p,
      afterSettled: (p) => this.drain(p),
    });
  }

  /** ISR writes not yet settled, and committed changes the controller is still to be notified of. */
  isrWriteBacklog(): { writing: number; notifications: number } {
    return { writing: this.isrWriter.writing, notifications: this.isrWriter.notificationBacklog };
  }

  start(): void {
    this.tickTimer = setInterval(() => this.tick(), TICK_MS);
    this.checkpointTimer = setInterval(() => this.checkpoint(), this.o.config['replica.high.watermark.checkpoint.interval.ms']);
    this.retentionTimer = setInterval(() => this.o.logManager.applyRetention((t, p) => this.get(t, p)?.highWatermark), this.o.config['log.retention.check.interval.ms']);
  }

  get(topic: string, partition: number): Partition | undefined {
    return this.partitions.get(`${topic}-${partition}`);
  }

  highWatermarks(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [key, p] of this.partitions) out.set(key, p.highWatermark);
    return out;
  }

  leaderCount(): number {
    let n = 0;
    for (const p of this.partitions.values()) if (p.replica.isLeader) n++;
    return n;
  }

  private checkpoint(): void {
    try {
      this.o.logManager.checkpoint(this.highWatermarks());
    } catch (e) {
      this.o.logger.error('checkpoint failed', { error: e });
    }
  }

  private tick(): void {
    const now = this.clock();
    for (const p of this.partitions.values()) {
      if (!p.replica.isLeader) continue;
      p.replica.tick(now);
      this.drain(p);
    }
    this.o.logManager.maybeFlushAll();
  }

  // ---- outputs ------------------------------------------------------------------------------

  /** Acts on what the replica core asks for. Call after every input to a partition's replica. */
  drain(p: Partition): void {
    if (!p.replica.hasOutputs()) return;
    const out = p.takeOutputs();
    if (out.highWatermark !== null) this.fetchPurgatory.checkAndComplete(p.key);
    for (const c of out.completedProduces) {
      const waiter = this.produceWaiters.get(`${p.key}#${c.id}`);
      if (waiter) {
        this.produceWaiters.delete(`${p.key}#${c.id}`);
        waiter(c.error);
      }
    }
    if (out.isrChange) this.isrWriter.write(p, out.isrChange);
  }

  // ---- controller requests ------------------------------------------------------------------

  async leaderAndIsr(req: LeaderAndIsrRequest): Promise<LeaderAndIsrResponse> {
    this.o.metadata.fence(req.controllerId, req.controllerEpoch);
    const partitionErrors: PartitionError[] = [];
    for (const s of req.partitionStates) {
      try {
        if (!s.replicas.includes(this.o.brokerId)) continue;
        await this.applyPartitionState(s);
      } catch (e) {
        this.o.logger.warn('LeaderAndIsr partition failed', { topic: s.topic, partition: s.partition, error: e });
        partitionErrors.push({ topic: s.topic, partition: s.partition, error: err(e) });
      }
    }
    this.o.metadata.updatePartitions(req.partitionStates);
    if (req.liveBrokers.length > 0) this.o.metadata.setLiveBrokers(req.liveBrokers);
    return { error: null, partitionErrors };
  }

  private async applyPartitionState(s: PartitionState): Promise<void> {
    let p = this.get(s.topic, s.partition);
    if (!p) {
      const settings = await this.o.topicSettings(s.topic, s.replicas.length);
      const log = this.o.logManager.getOrCreate(s.topic, s.partition, settings.log);
      p = new Partition(
        s.topic, s.partition, log, this.o.brokerId, this.o.logManager.checkpointedHighWatermark(s.topic, s.partition), settings,
        this.o.config['replica.lag.time.max.ms'], this.clock,
      );
      this.partitions.set(p.key, p);
    }
    const input = { leader: s.leader, leaderEpoch: s.leaderEpoch, partitionEpoch: s.partitionEpoch, controllerEpoch: s.controllerEpoch, isr: s.isr, replicas: s.replicas };
    const result = s.leader === this.o.brokerId ? p.makeLeader(input) : p.makeFollower(input);
    if (result.kind === 'rejected') throw result.error;
    if (result.kind === 'applied') {
      this.o.logger.info(s.leader === this.o.brokerId ? 'became leader' : 'became follower', {
        topic: s.topic, partition: s.partition, leader: s.leader, leaderEpoch: s.leaderEpoch, isr: s.isr,
      });
      this.onFollowerChange?.(p, s.leader === this.o.brokerId ? null : s.leader);
      this.onLeadershipChange?.(p, s.leader === this.o.brokerId, s.leaderEpoch);
    }
    this.drain(p);
    this.fetchPurgatory.checkAndComplete(p.key);
  }

  stopReplica(req: StopReplicaRequest): StopReplicaResponse {
    this.o.metadata.fence(req.controllerId, req.controllerEpoch);
    const partitionErrors: PartitionError[] = [];
    for (const tp of req.partitions) {
      const p = this.get(tp.topic, tp.partition);
      try {
        if (p) {
          p.replica.stop(this.clock());
          this.drain(p);
          this.onFollowerChange?.(p, null);
          this.onLeadershipChange?.(p, false, -1);
          this.fetchPurgatory.checkAndComplete(p.key);
          if (req.deletePartitions) this.partitions.delete(p.key);
        }
        if (req.deletePartitions) this.o.logManager.delete(tp.topic, tp.partition);
      } catch (e) {
        partitionErrors.push({ topic: tp.topic, partition: tp.partition, error: err(e) });
      }
    }
    return { error: null, partitionErrors };
  }

  // ---- produce ------------------------------------------------------------------------------

  private notLeader(topic: string, partition: number): KafkaError {
    const state = this.o.metadata.partition(topic, partition);
    if (!state && !this.get(topic, partition)) return new KafkaError('UNKNOWN_TOPIC_OR_PARTITION', `unknown partition ${topic}-${partition}`);
    return new KafkaError('NOT_LEADER_OR_FOLLOWER', `broker ${this.o.brokerId} does not lead ${topic}-${partition}`, {
      leaderId: state?.leader ?? -1, leaderEpoch: state?.leaderEpoch ?? -1,
    });
  }

  /**
   * Clients may not write internal topics (Kafka's internalTopicsAllowed): a forged record in
   * __consumer_offsets would become a group's committed offset at the next load. The group
   * coordinator appends with `internalTopicsAllowed`.
   */
  async produce(req: ProduceRequest, options: { internalTopicsAllowed?: boolean } = {}): Promise<ProduceResponse> {
    if (!options.internalTopicsAllowed && req.topics.some((t) => INTERNAL_TOPICS.has(t.topic))) {
      const e = kafkaErrorToWire(new KafkaError('INVALID_TOPIC_EXCEPTION', 'internal topics cannot be written by clients'));
      return { topics: req.topics.map((t) => ({ topic: t.topic, partitions: t.partitions.map((pp) => ({ partition: pp.partition, error: INTERNAL_TOPICS.has(t.topic) ? e : kafkaErrorToWire(new KafkaError('INVALID_REQUEST', 'the request also writes an internal topic')), baseOffset: -1, logAppendTime: -1, logStartOffset: -1 })) })) };
    }
    if (req.acks !== 0 && req.acks !== 1 && req.acks !== -1) {
      const e = kafkaErrorToWire(new KafkaError('INVALID_REQUIRED_ACKS', `acks must be -1, 0 or 1, got ${req.acks}`));
      return { topics: req.topics.map((t) => ({ topic: t.topic, partitions: t.partitions.map((pp) => ({ partition: pp.partition, error: e, baseOffset: -1, logAppendTime: -1, logStartOffset: -1 })) })) };
    }
    const timeoutMs = Math.max(0, Math.min(req.timeoutMs || this.o.config['request.timeout.ms'], 300_000));
    const topics = await Promise.all(
      req.topics.map(async (t) => ({
        topic: t.topic,
        partitions: await Promise.all(
          t.partitions.map(async (pp) => {
            const started = performance.now();
            try {
              const r = await this.produceToPartition(t.topic, pp.partition, pp.records, req.acks, timeoutMs);
              this.o.metrics?.bytesIn(t.topic, pp.records.length, r.lastOffset - r.baseOffset + 1);
              return { partition: pp.partition, error: null, baseOffset: r.baseOffset, logAppendTime: r.logAppendTime, logStartOffset: r.logStartOffset };
            } catch (e) {
              this.o.metrics?.produceError(t.topic);
              return { partition: pp.partition, error: err(e), baseOffset: -1, logAppendTime: -1, logStartOffset: -1 };
            } finally {
              this.o.metrics?.partitionProduceLatency((performance.now() - started) / 1000);
            }
          }),
        ),
      })),
    );
    return { topics };
  }

  private async produceToPartition(topic: string, partition: number, records: Buffer, acks: number, timeoutMs: number) {
    const p = this.get(topic, partition);
    if (!p || !p.replica.isLeader) throw this.notLeader(topic, partition);
    if (!Buffer.isBuffer(records) || records.length === 0) throw new KafkaError('CORRUPT_MESSAGE', 'no record batches in the request');
    const outcome = await this.appendInSequence(p, records, acks, timeoutMs);
    this.fetchPurgatory.checkAndComplete(p.key);
    if (acks !== -1) {
      this.drain(p);
      return outcome;
    }
    const now = this.clock();
    const wait = p.replica.awaitReplication(outcome.lastOffset + 1, now + timeoutMs, now);
    if (wait.kind === 'done') {
      this.drain(p);
      if (wait.error) throw wait.error;
      return outcome;
    }
    const error = await new Promise<KafkaError | null>((resolve) => {
      this.produceWaiters.set(`${p.key}#${wait.id}`, resolve);
      this.drain(p);
    });
    if (error) throw error;
    return outcome;
  }

  /**
   * Appends, letting an idempotent batch that arrived ahead of its predecessor wait for it.
   * Produce requests travel on separate HTTP/2 streams, which may be delivered out of order
   * (a big request finishes arriving after a small one sent later), unlike Kafka's single TCP
   * stream; a gap in a producer's sequence is therefore first waited on (bounded) before it is
   * answered OUT_OF_ORDER_SEQUENCE_NUMBER.
   */
  private async appendInSequence(p: Partition, records: Buffer, acks: number, timeoutMs: number): Promise<import('./partition.js').AppendOutcome> {
    const deadline = this.clock() + Math.min(timeoutMs, SEQUENCE_GAP_WAIT_MS);
    for (;;) {
      try {
        const outcome = p.appendAsLeader(records, acks);
        this.wakeSequenceWaiters(p.key);
        return outcome;
      } catch (e) {
        if (!(e instanceof KafkaError && e.type === 'OUT_OF_ORDER_SEQUENCE_NUMBER') || !this.isSequenceGap(p, records)) throw e;
        const left = deadline - this.clock();
        if (left <= 0) throw e;
        await this.waitForSequence(p.key, left);
        if (!p.replica.isLeader) throw this.notLeader(p.topic, p.partition);
      }
    }
  }

  private isSequenceGap(p: Partition, records: Buffer): boolean {
    if (records.length < BATCH_HEADER_SIZE) return false;
    const h = readBatchHeader(records, 0);
    const entry = p.producers.get(h.producerId);
    if (!entry || entry.producerEpoch !== h.producerEpoch) return false;
    return h.baseSequence > entry.lastSeq + 1 && h.baseSequence - entry.lastSeq <= SEQUENCE_GAP_MAX_BATCHES * 100_000;
  }

  private waitForSequence(key: string, ms: number): Promise<void> {
    if (this.sequenceWaiters.size >= 10_000) return Promise.resolve();
    return new Promise((resolve) => {
      const entry = { resolve, timer: setTimeout(() => this.settleSequenceWaiter(key, entry), ms) };
      let list = this.sequenceWaiters.get(key);
      if (!list) this.sequenceWaiters.set(key, (list = new Set()));
      list.add(entry);
    });
  }

  private settleSequenceWaiter(key: string, entry: { resolve(): void; timer: NodeJS.Timeout }): void {
    clearTimeout(entry.timer);
    const list = this.sequenceWaiters.get(key);
    list?.delete(entry);
    if (list && list.size === 0) this.sequenceWaiters.delete(key);
    entry.resolve();
  }

  private wakeSequenceWaiters(key: string): void {
    const list = this.sequenceWaiters.get(key);
    if (!list) return;
    for (const entry of [...list]) this.settleSequenceWaiter(key, entry);
  }

  // ---- fetch --------------------------------------------------------------------------------

  /**
   * Consumers read up to the high watermark; followers (replicaId >= 0) up to the log end, and
   * each follower fetch tells the leader how far that follower is (it may move the HW and the
   * ISR). Long poll: waits up to maxWaitMs for minBytes.
   */
  fetch(req: FetchRequest): Promise<FetchResponse> {
    const isFollower = req.replicaId >= 0;
    const maxBytes = Math.max(1, Math.min(req.maxBytes || 52_428_800, 64 << 20) - 1024);
    const wanted = req.topics.flatMap((t) => t.partitions.map((fp) => ({ topic: t.topic, fp })));
    if (wanted.length > 10_000) {
      return Promise.resolve({ error: kafkaErrorToWire(new KafkaError('INVALID_REQUEST', 'more than 10000 partitions in one fetch')), topics: [] });
    }
    const now = this.clock();
    // A follower's fetch offset is news for the leader once per request, not per retry of the read.
    const early = new Map<number, FetchPartitionResponse>();
    if (isFollower) {
      wanted.forEach(({ topic, fp }, i) => {
        const p = this.get(topic, fp.partition);
        if (!p) {
          early.set(i, this.errorResponse(fp.partition, this.notLeader(topic, fp.partition)));
          return;
        }
        const r = p.replica.onFollowerFetch(req.replicaId, { fetchOffset: fp.fetchOffset, currentLeaderEpoch: fp.currentLeaderEpoch, logStartOffset: fp.logStartOffset }, now);
        this.drain(p);
        if (!r.ok) early.set(i, { ...this.errorResponse(fp.partition, r.error), logStartOffset: r.logStartOffset, logEndOffset: r.logEndOffset });
      });
    }
    const read = (): { responses: FetchPartitionResponse[]; bytes: number; hasError: boolean } => {
      let remaining = maxBytes;
      let bytes = 0;
      let hasError = false;
      const responses = wanted.map(({ topic, fp }, i) => {
        const pre = early.get(i);
        if (pre) {
          hasError = true;
          return pre;
        }
        const r = this.readPartition(topic, fp.partition, fp.fetchOffset, fp.currentLeaderEpoch, Math.min(fp.partitionMaxBytes || 1_048_576, remaining), isFollower);
        if (r.error) hasError = true;
        remaining = Math.max(0, remaining - r.records.length);
        bytes += r.records.length;
        return r;
      });
      return { responses, bytes, hasError };
    };
    const respond = (r: ReturnType<typeof read>): FetchResponse => {
      const topics = new Map<string, FetchPartitionResponse[]>();
      wanted.forEach(({ topic }, i) => {
        let list = topics.get(topic);
        if (!list) topics.set(topic, (list = []));
        list.push(r.responses[i]!);
        if (!isFollower) this.o.metrics?.bytesOut(topic, r.responses[i]!.records.length);
      });
      return { error: null, topics: [...topics].map(([topic, partitions]) => ({ topic, partitions })) };
    };
    const first = read();
    const minBytes = Math.max(0, req.minBytes);
    const maxWaitMs = Math.max(0, Math.min(req.maxWaitMs, 60_000));
    if (first.bytes >= minBytes || first.hasError || maxWaitMs === 0 || first.bytes > 0 || this.stopped) {
      return Promise.resolve(respond(first));
    }
    return new Promise<FetchResponse>((resolve) => {
      const keys = [...new Set(wanted.map(({ topic, fp }) => `${topic}-${fp.partition}`))];
      const parked = this.fetchPurgatory.watch(
        {
          tryComplete: () => {
            if (this.stopped) {
              resolve(respond(read()));
              return true;
            }
            const available = wanted.some(({ topic, fp }) => {
              const p = this.get(topic, fp.partition);
              if (!p || !p.replica.isLeader) return true;
              const upTo = isFollower ? p.log.logEndOffset : p.highWatermark;
              return upTo > fp.fetchOffset;
            });
            if (!available) return false;
            const r = read();
            if (r.bytes < minBytes && !r.hasError) return false;
            resolve(respond(r));
            return true;
          },
          onExpire: () => resolve(respond(read())),
        },
        keys,
        maxWaitMs,
      );
      if (!parked) resolve(respond(first));
    });
  }

  private errorResponse(partition: number, e: KafkaError): FetchPartitionResponse {
    return { partition, error: kafkaErrorToWire(e), highWatermark: -1, logStartOffset: -1, logEndOffset: -1, records: Buffer.alloc(0), divergingEpoch: null };
  }

  private readPartition(topic: string, partition: number, fetchOffset: number, currentLeaderEpoch: number, maxBytes: number, isFollower: boolean): FetchPartitionResponse {
    const p = this.get(topic, partition);
    if (!p || !p.replica.isLeader) return this.errorResponse(partition, this.notLeader(topic, partition));
    const view = p.replica.state();
    if (!isFollower && currentLeaderEpoch >= 0) {
      if (currentLeaderEpoch < view.leaderEpoch) {
        return this.errorResponse(partition, new KafkaError('FENCED_LEADER_EPOCH', `${p.key}: epoch ${currentLeaderEpoch} < ${view.leaderEpoch}`, { leaderId: view.leaderId, leaderEpoch: view.leaderEpoch }));
      }
      if (currentLeaderEpoch > view.leaderEpoch) {
        return this.errorResponse(partition, new KafkaError('UNKNOWN_LEADER_EPOCH', `${p.key}: epoch ${currentLeaderEpoch} > ${view.leaderEpoch}`));
      }
    }
    const hw = view.highWatermark;
    const leo = p.log.logEndOffset;
    const lso = p.log.logStartOffset;
    const base = { partition, error: null, highWatermark: hw, logStartOffset: lso, logEndOffset: leo, divergingEpoch: null };
    if (fetchOffset < lso || fetchOffset > leo) {
      return { ...this.errorResponse(partition, new KafkaError('OFFSET_OUT_OF_RANGE', `${p.key}: offset ${fetchOffset} is outside [${lso}, ${leo}]`)), highWatermark: hw, logStartOffset: lso, logEndOffset: leo };
    }
    const upTo = isFollower ? leo : hw;
    if (fetchOffset >= upTo || maxBytes <= 0) return { ...base, records: Buffer.alloc(0) };
    try {
      const r = p.log.read(fetchOffset, maxBytes, upTo);
      return { ...base, records: r.records };
    } catch (e) {
      return { ...this.errorResponse(partition, kafkaErrorFromLog(e)), highWatermark: hw, logStartOffset: lso, logEndOffset: leo };
    }
  }

  // ---- offsets ------------------------------------------------------------------------------

  listOffsets(req: ListOffsetsRequest): ListOffsetsResponse {
    return {
      topics: req.topics.map((t) => ({
        topic: t.topic,
        partitions: t.partitions.map((lp) => {
          const none = { partition: lp.partition, timestamp: -1, offset: -1, leaderEpoch: -1 };
          const p = this.get(t.topic, lp.partition);
          if (!p || !p.replica.isLeader) return { ...none, error: kafkaErrorToWire(this.notLeader(t.topic, lp.partition)) };
          const view = p.replica.state();
          if (lp.currentLeaderEpoch >= 0 && lp.currentLeaderEpoch !== view.leaderEpoch) {
            const type = lp.currentLeaderEpoch < view.leaderEpoch ? 'FENCED_LEADER_EPOCH' : 'UNKNOWN_LEADER_EPOCH';
            return { ...none, error: kafkaErrorToWire(new KafkaError(type)) };
          }
          try {
            if (lp.timestamp === EARLIEST) return { ...none, offset: p.log.logStartOffset, leaderEpoch: view.leaderEpoch, error: null };
            if (lp.timestamp === LATEST) return { ...none, offset: view.highWatermark, leaderEpoch: view.leaderEpoch, error: null };
            if (lp.timestamp < 0) return { ...none, error: kafkaErrorToWire(new KafkaError('INVALID_REQUEST', `timestamp ${lp.timestamp}`)) };
            const found = p.log.offsetForTimestamp(lp.timestamp, view.highWatermark);
            if (!found) return { ...none, error: null };
            return { partition: lp.partition, timestamp: found.timestamp, offset: found.offset, leaderEpoch: found.leaderEpoch ?? -1, error: null };
          } catch (e) {
            return { ...none, error: err(e) };
          }
        }),
      })),
    };
  }

  offsetForLeaderEpoch(req: OffsetForLeaderEpochRequest): OffsetForLeaderEpochResponse {
    return {
      topics: req.topics.map((t) => ({
        topic: t.topic,
        partitions: t.partitions.map((op) => {
          const p = this.get(t.topic, op.partition);
          if (!p || !p.replica.isLeader) {
            return { partition: op.partition, error: kafkaErrorToWire(this.notLeader(t.topic, op.partition)), leaderEpoch: -1, endOffset: -1 };
          }
          const r = p.replica.answerOffsetForLeaderEpoch(op.currentLeaderEpoch, op.leaderEpoch, p.log.leaderEpochCache.epochEntries());
          if (!r.ok) return { partition: op.partition, error: kafkaErrorToWire(r.error), leaderEpoch: -1, endOffset: -1 };
          return { partition: op.partition, error: null, leaderEpoch: r.leaderEpoch, endOffset: r.endOffset };
        }),
      })),
    };
  }

  /** Partitions this broker leads (for controlled shutdown and metrics). */
  ledPartitions(): Partition[] {
    return [...this.partitions.values()].filter((p) => p.replica.isLeader);
  }

  async shutdown(): Promise<void> {
    this.stopped = true;
    for (const t of [this.tickTimer, this.checkpointTimer, this.retentionTimer]) if (t) clearInterval(t);
    this.fetchPurgatory.expireAll();
    const now = this.clock();
    for (const p of this.partitions.values()) {
      try {
        p.replica.stop(now);
        this.drain(p);
      } catch {
        // stopping anyway
      }
    }
    for (const key of [...this.sequenceWaiters.keys()]) this.wakeSequenceWaiters(key);
    for (const [key, waiter] of this.produceWaiters) {
      this.produceWaiters.delete(key);
      waiter(new KafkaError('NOT_LEADER_OR_FOLLOWER', 'broker shutting down'));
    }
    // Let ISR writes in flight settle (bounded); their retries end now.
    await this.isrWriter.stop(2_000);
  }
}
