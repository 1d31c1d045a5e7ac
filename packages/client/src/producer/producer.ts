// The Producer: Kafka's KafkaProducer for samsa. send() places a record in its partition's batch
// and resolves with its offset once the broker acknowledged it; a loop (the adapter around
// ProducerCore) sends ready batches, one request per broker, and feeds the answers back.
//
// Ordering: sends to one topic are appended in call order. A send that must wait (for the topic's
// metadata, or for buffer.memory) holds later sends of the same topic behind it; other topics go
// on. Blocked sends are bounded too: beyond buffer.memory bytes of them, send() fails at once
// with BUFFER_EXHAUSTED rather than queueing without limit.
//
// Lifecycle: constructed idle (no connection until the first send); close() stops new sends,
// sends what is buffered (or fails it after the close timeout) and closes every connection.

import { ClientError } from '../client-error.js';
import { resolveDeps, type ClientDeps, type ResolvedDeps } from '../client-deps.js';
import { ConnectionPool } from '../cluster/connection-pool.js';
import type { PartitionInfo } from '../cluster/metadata-cache.js';
import { MetadataManager } from '../cluster/metadata-manager.js';
import { resolveProducerConfig, type ProducerConfig, type ProducerSettings } from '../config/producer-config.js';
import { INT_MAX } from '../config/config-def.js';
import { KafkaError, kafkaErrorFromWire } from '../protocol/errors.js';
import { RetryPolicy } from '../retry/retry-policy.js';
import { validateTopicName, type TopicPartition } from '../topic-partition.js';
import { BufferPool } from './buffer-pool.js';
import { DefaultPartitioner, type PartitionerView } from './partitioner.js';
import type { RecordDelivery } from './producer-batch.js';
import { ProducerCore, type ProduceSend } from './producer-core.js';
import { ProducerMetrics, type ProducerMetricValues } from './producer-metrics.js';
import { serializeRecord, type ProducerRecord, type RecordMetadata, type SerializedRecord } from './producer-record.js';
import { singleRecordBatchSize } from './record-size.js';

export interface ProducerCloseOptions {
  /** How long to wait for buffered records before failing them; default: no limit. */
  timeoutMs?: number;
}

export class Producer {
  readonly settings: ProducerSettings;
  private readonly deps: ResolvedDeps;
  private readonly pool: ConnectionPool;
  private readonly metadata: MetadataManager;
  private readonly buffer: BufferPool;
  private readonly core: ProducerCore;
  private readonly partitioner: DefaultPartitioner;
  private readonly producerMetrics: ProducerMetrics;
  private readonly abort = new AbortController();
  /** Per topic: the tail of its blocked sends, which later sends of the topic queue behind. */
  private readonly topicTails = new Map<string, Promise<void>>();
  private blockedBytes = 0;
  private loopScheduled = false;
  private cancelTimer: (() => void) | null = null;
  private closing: Promise<void> | null = null;
  private closed = false;

  constructor(config: ProducerConfig, deps: ClientDeps = {}) {
    this.settings = resolveProducerConfig(config);
    this.deps = resolveDeps(deps);
    const s = this.settings;
    const policy = new RetryPolicy({ retries: s.retries, backoffMs: s.retryBackoffMs, backoffMaxMs: s.retryBackoffMaxMs }, this.deps.random);
    this.pool = new ConnectionPool(this.deps.connector);
    this.metadata = new MetadataManager({
      bootstrapServers: s.bootstrapServers,
      pool: this.pool,
      clock: this.deps.clock,
      policy,
      requestTimeoutMs: s.requestTimeoutMs,
      maxAgeMs: s.metadataMaxAgeMs,
      topicIdleMs: s.metadataMaxIdleMs,
      random: this.deps.random,
      logger: this.deps.logger,
    });
    this.buffer = new BufferPool(s.bufferMemory);
    this.producerMetrics = new ProducerMetrics({ windowMs: s.metricsSampleWindowMs, numSamples: s.metricsNumSamples });
    this.core = new ProducerCore({
      settings: s,
      metadata: this.metadata.cache,
      policy,
      pool: this.buffer,
      metrics: this.producerMetrics,
      logger: this.deps.logger,
    });
    this.partitioner = new DefaultPartitioner(this.deps.random, s.partitionerIgnoreKeys);
  }

  /**
   * Sends a record; resolves with where it was written once acknowledged (per `acks`), rejects
   * with the KafkaError or ClientError that stopped it. Bad input rejects at once.
   */
  send(record: ProducerRecord): Promise<RecordMetadata> {
    if (this.closing) return Promise.reject(new ClientError('CLOSED', 'Cannot send after the producer is closed'));
    const fatal = this.core.fatalError;
    if (fatal) return Promise.reject(fatal);
    let r: SerializedRecord;
    let size: number;
    try {
      r = serializeRecord(record);
      size = singleRecordBatchSize(r.key, r.value, r.headers);
      this.checkRecordSize(size);
    } catch (err) {
      return Promise.reject(err);
    }
    let delivery!: RecordDelivery;
    const result = new Promise<RecordMetadata>((resolve, reject) => {
      delivery = { resolve, reject };
    });

    const tail = this.topicTails.get(r.topic);
    if (!tail && this.tryAppendNow(r, delivery) === true) return result;
    if (this.blockedBytes + size > this.settings.bufferMemory) {
      delivery.reject(new ClientError('BUFFER_EXHAUSTED', `${this.blockedBytes} bytes of sends already wait for metadata or buffer space; wait for earlier sends`));
      return result;
    }
    this.blockedBytes += size;
    const deadlineMs = this.deps.clock.now() + this.settings.maxBlockMs;
    const next: Promise<void> = (tail ?? Promise.resolve())
      .then(() => this.appendBlocking(r, delivery, deadlineMs))
      .catch((err: unknown) => delivery.reject(err as Error))
      .finally(() => {
        this.blockedBytes -= size;
        if (this.topicTails.get(r.topic) === next) this.topicTails.delete(r.topic);
      });
    this.topicTails.set(r.topic, next);
    return result;
  }

  private checkRecordSize(size: number): void {
    if (size > this.settings.maxRequestSize) {
      throw new KafkaError(
        'MESSAGE_TOO_LARGE',
        `The message is ${size} bytes when serialized which is larger than ${this.settings.maxRequestSize}, which is the value of the max.request.size configuration.`,
      );
    }
    if (size > this.settings.bufferMemory) {
      throw new KafkaError(
        'MESSAGE_TOO_LARGE',
        `The message is ${size} bytes when serialized which is larger than the total memory buffer you have configured with the buffer.memory configuration.`,
      );
    }
  }

  private view(): PartitionerView {
    return this.metadata.cache;
  }

  /**
   * Places the record now if its metadata is known and no buffer wait is needed: returns true.
   * Otherwise returns the partition that needs a new batch, or null while metadata is missing.
   */
  private tryAppendNow(r: SerializedRecord, delivery: RecordDelivery): true | TopicPartition | null {
    const count = this.metadata.cache.partitionCount(r.topic);
    if (count === undefined || count === 0 || (r.partition !== undefined && r.partition >= count)) return null;
    const now = this.deps.clock.now();
    this.metadata.touchTopic(r.topic, now);
    const timestamp = r.timestamp ?? now;
    const acc = this.core.accumulator;
    let tp = this.choosePartition(r);
    if (acc.tryAppendToOpenBatch(tp, r, timestamp, delivery)) return this.appended();
    tp = this.onNewBatch(r, tp);
    if (acc.tryAppendToOpenBatch(tp, r, timestamp, delivery)) return this.appended();
    const bytes = acc.allocationFor(r);
    if (!this.buffer.tryAllocate(bytes)) return tp;
    acc.appendWithNewBatch(tp, r, timestamp, delivery, bytes, now);
    return this.appended();
  }

  private appended(): true {
    this.wake();
    return true;
  }

  private choosePartition(r: SerializedRecord): TopicPartition {
    const partition = r.partition ?? this.partitioner.partition(r.topic, r.key, this.view());
    return { topic: r.topic, partition };
  }

  /**
   * The record's partition has no open batch with room: a sticky (keyless, unpinned) record
   * moves the topic's sticky partition first (KIP-480), then picks again.
   */
  private onNewBatch(r: SerializedRecord, tp: TopicPartition): TopicPartition {
    const sticky = r.partition === undefined && (r.key === null || this.settings.partitionerIgnoreKeys);
    if (!sticky) return tp;
    this.partitioner.onNewBatch(r.topic, this.view(), tp.partition);
    return this.choosePartition(r);
  }

  /** The slow path: wait for metadata, then for buffer memory, until `deadlineMs` (max.block.ms). */
  private async appendBlocking(r: SerializedRecord, delivery: RecordDelivery, deadlineMs: number): Promise<void> {
    let placed = this.tryAppendNow(r, delivery);
    if (placed === null) {
      this.wake();
      await this.metadata.waitForTopic(r.topic, r.partition, deadlineMs);
      placed = this.tryAppendNow(r, delivery);
      if (placed === null) throw new ClientError('METADATA_TIMEOUT', `Topic ${r.topic} left the metadata while a send waited for it`);
    }
    if (placed === true) return;
    const tp = placed;
    const acc = this.core.accumulator;
    const bytes = acc.allocationFor(r);
    const allocation = this.buffer.allocate(bytes, deadlineMs);
    this.wake(); // the loop expires the wait at its deadline
    await allocation;
    if (this.abort.signal.aborted) {
      this.buffer.release(bytes);
      throw new ClientError('CLOSED', 'Producer closed while send in progress');
    }
    const now = this.deps.clock.now();
    acc.appendWithNewBatch(tp, r, r.timestamp ?? now, delivery, bytes, now);
    this.wake();
  }

  /** Schedules one run of the send loop (coalesced). */
  private wake(): void {
    if (this.loopScheduled || this.abort.signal.aborted) return;
    this.loopScheduled = true;
    queueMicrotask(() => {
      this.loopScheduled = false;
      this.runOnce();
    });
  }

  private runOnce(): void {
    if (this.abort.signal.aborted) return;
    this.cancelTimer?.();
    this.cancelTimer = null;
    const { clock } = this.deps;
    const now = clock.now();
    this.buffer.expire(now);
    const poll = this.core.poll(now);
    for (const send of poll.sends) this.dispatch(send);
    if (poll.initProducerId) this.initProducerId();
    let delay = poll.nextPollDelayMs;
    const poolDeadline = this.buffer.nextDeadline();
    if (poolDeadline !== undefined) delay = Math.min(delay, poolDeadline - now);
    if (this.core.hasPendingWork() && this.metadata.cache.updateRequested) {
      const refresh = this.metadata.maybeRefresh();
      if (refresh) void refresh.then(() => this.wake());
      else delay = Math.min(delay, this.metadata.timeToNextUpdate());
    }
    if (Number.isFinite(delay)) this.cancelTimer = clock.setTimer(Math.max(0, delay), () => this.wake());
  }

  private dispatch(send: ProduceSend): void {
    const { clock } = this.deps;
    this.pool
      .call(send.address, (api) => api.produce(send.request, { timeoutMs: this.settings.requestTimeoutMs, signal: this.abort.signal }))
      .then(
        (response) => this.core.onProduceOutcome(send, { response }, clock.now()),
        (error: unknown) => {
          if (error instanceof KafkaError && error.type === 'NETWORK_EXCEPTION') this.metadata.nodeFailed(send.address);
          this.core.onProduceOutcome(send, { error }, clock.now());
        },
      )
      .finally(() => this.wake());
  }

  private initProducerId(): void {
    const { clock } = this.deps;
    const address = this.metadata.leastLoadedNode();
    this.pool
      .call(address, (api) => api.initProducerId({ transactionalId: '', transactionTimeoutMs: INT_MAX }, { timeoutMs: this.settings.requestTimeoutMs, signal: this.abort.signal }))
      .then(
        (res) => {
          const err = kafkaErrorFromWire(res.error);
          this.core.onInitProducerIdOutcome(err ? { error: err } : { producerId: res.producerId, producerEpoch: res.producerEpoch }, clock.now());
        },
        (error: unknown) => {
          this.metadata.nodeFailed(address);
          this.core.onInitProducerIdOutcome({ error }, clock.now());
        },
      )
      .finally(() => this.wake());
  }

  /**
   * Resolves once every send() made before the call has settled: blocked sends have been placed
   * (or failed), then every batch then incomplete is acknowledged or failed.
   */
  private async settleEarlierSends(): Promise<void> {
    await Promise.allSettled([...this.topicTails.values()]);
    await Promise.all(this.core.accumulator.incompleteBatches().map((b) => b.whenDone()));
  }

  /**
   * Makes every buffered record sendable at once and resolves when every send() made before the
   * call has settled (succeeded or failed; flush itself does not reject for failed records).
   */
  async flush(): Promise<void> {
    this.core.accumulator.beginFlush();
    this.wake();
    try {
      await this.settleEarlierSends();
    } finally {
      this.core.accumulator.endFlush();
    }
  }

  /**
   * Stops accepting sends, sends everything buffered and waits for it (up to `timeoutMs`, after
   * which what is left fails with ClientError CLOSED), then closes all connections.
   */
  close(options: ProducerCloseOptions = {}): Promise<void> {
    this.closing ??= this.doClose(options.timeoutMs ?? Number.POSITIVE_INFINITY);
    return this.closing;
  }

  private async doClose(timeoutMs: number): Promise<void> {
    const { clock } = this.deps;
    this.core.accumulator.beginClose();
    this.wake();
    let cancel = (): void => {};
    const timedOut = new Promise<void>((resolve) => {
      if (Number.isFinite(timeoutMs)) cancel = clock.setTimer(Math.max(0, timeoutMs), resolve);
    });
    await Promise.race([this.settleEarlierSends(), timedOut]);
    cancel();
    const forced = new ClientError('CLOSED', 'Producer is closed forcefully: records still pending were failed');
    this.core.failAll(forced, clock.now());
    this.buffer.close(forced);
    this.metadata.close();
    this.abort.abort();
    this.cancelTimer?.();
    this.cancelTimer = null;
    await Promise.allSettled([...this.topicTails.values()]);
    this.pool.close();
    this.closed = true;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The partitions of `topic` as metadata shows them (waits up to max.block.ms). */
  async partitionsFor(topic: string): Promise<PartitionInfo[]> {
    if (this.closing) throw new ClientError('CLOSED', 'the producer is closed');
    validateTopicName(topic);
    const info = await this.metadata.waitForTopic(topic, undefined, this.deps.clock.now() + this.settings.maxBlockMs);
    return info.partitions.map((p) => ({ ...p, replicas: [...p.replicas], isr: [...p.isr], offlineReplicas: [...p.offlineReplicas] }));
  }

  /** Kafka's producer metrics by name (rates per second, averages over the sample windows). */
  metrics(): ProducerMetricValues {
    return this.producerMetrics.snapshot(this.deps.clock.now(), {
      bufferAvailable: this.buffer.available,
      bufferTotal: this.buffer.totalBytes,
      waiting: this.buffer.queued,
      inFlight: this.core.requestsInFlight,
    });
  }
}
