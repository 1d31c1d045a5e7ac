// The Consumer (Kafka's KafkaConsumer): partitions it is assigned with assign(), or, with
// group.id and subscribe(), partitions its consumer group gives it (group/consumer-coordinator.ts
// runs the membership; each turn of poll() drives it, so rebalance listeners run inside poll()).
// poll() hands out records from long-poll fetches to each partition's leader, following leader
// changes through metadata; positions start from the group's committed offset (or a plugged-in
// CommittedOffsetSource), else from auto.offset.reset.
//
// Lifecycle: no connection until the first poll()/position(); close() commits (auto commit),
// leaves the group (dynamic members), cancels fetches in flight and closes every connection. One
// poll() at a time.

import { ClientError } from '../client-error.js';
import { resolveDeps, type ClientDeps, type ResolvedDeps } from '../client-deps.js';
import { ConnectionPool } from '../cluster/connection-pool.js';
import { MetadataManager } from '../cluster/metadata-manager.js';
import { resolveConsumerConfig, type ConsumerConfig, type ConsumerSettings } from '../config/consumer-config.js';
import { KafkaError } from '../protocol/errors.js';
import { RetryPolicy, classifyError } from '../retry/retry-policy.js';
import { TopicPartitionMap, tpString, validateTopicPartition, type TopicPartition } from '../topic-partition.js';
import type { ConsumerRecord } from './consumer-record.js';
import { Fetcher, type FetchPlan } from './fetcher.js';
import { Notifier } from './notifier.js';
import { OffsetResetter, type ListOffsetsPlan } from './offset-resetter.js';
import { MAX_ASSIGNED_PARTITIONS, SubscriptionState } from './subscription-state.js';
import { ConsumerMetrics } from './consumer-metrics.js';
import type {
  CommitCallback, CommitSyncOptions, ConsumerGroupMetadata, ConsumerMetricValues, ConsumerRebalanceListener, OffsetAndMetadata, OffsetToCommit,
  RunOptions,
} from './consumer-group-types.js';
import { ConsumerCoordinator, type GroupHost } from './group/consumer-coordinator.js';
import { createAssignor } from './group/assignor-factory.js';

export interface CommittedOffset {
  offset: number;
  leaderEpoch?: number;
}

/** Where new partitions start when a group has committed offsets for them. */
export interface CommittedOffsetSource {
  /** One entry per partition, in order; null: nothing committed (auto.offset.reset decides). */
  fetchCommitted(tps: TopicPartition[], signal: AbortSignal): Promise<Array<CommittedOffset | null>>;
}

export interface ConsumerDeps extends ClientDeps {
  committedOffsets?: CommittedOffsetSource;
}

export interface RecordsOptions {
  /** Timeout of each poll() the iterator makes; default 1000 ms. */
  pollTimeoutMs?: number;
}

function validateOffset(offset: unknown): asserts offset is number {
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
    throw new ClientError('INVALID_ARGUMENT', `seek offset must be a non-negative integer, got ${String(offset)}`);
  }
}

function validateTimeout(ms: unknown, what: string): asserts ms is number {
  if (typeof ms !== 'number' || Number.isNaN(ms) || ms < 0) throw new ClientError('INVALID_ARGUMENT', `${what} must be a non-negative number of ms, got ${String(ms)}`);
}

export class Consumer {
  readonly settings: ConsumerSettings;
  private readonly deps: ResolvedDeps;
  private readonly pool: ConnectionPool;
  private readonly metadata: MetadataManager;
  private readonly policy: RetryPolicy;
  private readonly subscriptions: SubscriptionState;
  private readonly fetcher: Fetcher;
  private readonly resetter: OffsetResetter;
  private readonly committedSource: CommittedOffsetSource | undefined;
  private readonly coordinator: ConsumerCoordinator | null;
  private readonly consumerMetrics: ConsumerMetrics;
  private pendingUnsubscribe: Promise<void> | null = null;
  private readonly notifier = new Notifier();
  private readonly abort = new AbortController();
  /** Partitions with no committed offset under auto.offset.reset=none: poll() raises for them. */
  private readonly noOffset = new TopicPartitionMap<true>();
  private readonly resetErrors: Error[] = [];
  private committedInFlight = false;
  private committedRetryAtMs = 0;
  private committedFailures = 0;
  private polling = false;
  private closing = false;
  private wakeupRequested = false;
  private closed = false;

  constructor(config: ConsumerConfig, deps: ConsumerDeps = {}) {
    this.settings = resolveConsumerConfig(config);
    this.deps = resolveDeps(deps);
    const s = this.settings;
    this.policy = new RetryPolicy({ retries: Number.MAX_SAFE_INTEGER, backoffMs: s.retryBackoffMs, backoffMaxMs: s.retryBackoffMaxMs }, this.deps.random);
    this.pool = new ConnectionPool(this.deps.connector);
    this.metadata = new MetadataManager({
      bootstrapServers: s.bootstrapServers,
      pool: this.pool,
      clock: this.deps.clock,
      policy: this.policy,
      requestTimeoutMs: s.requestTimeoutMs,
      maxAgeMs: s.metadataMaxAgeMs,
      random: this.deps.random,
      logger: this.deps.logger,
    });
    this.subscriptions = new SubscriptionState(s.autoOffsetReset);
    this.fetcher = new Fetcher(s, this.subscriptions, this.metadata.cache, this.policy);
    this.resetter = new OffsetResetter(this.subscriptions, this.metadata.cache, this.policy, (err) => {
      if (this.resetErrors.length < 100) this.resetErrors.push(err);
    });
    this.consumerMetrics = new ConsumerMetrics({ windowMs: s.metricsSampleWindowMs, numSamples: s.metricsNumSamples });
    this.coordinator = s.groupId === null ? null : this.createCoordinator(s.groupId);
    const coordinator = this.coordinator;
    this.committedSource =
      deps.committedOffsets ??
      (coordinator ? { fetchCommitted: (tps) => coordinator.fetchCommitted(tps, this.deps.clock.now() + s.defaultApiTimeoutMs) } : undefined);
  }

  private createCoordinator(groupId: string): ConsumerCoordinator {
    const s = this.settings;
    const host: GroupHost = {
      assignment: () => this.subscriptions.assignment(),
      setAssignment: (tps) => this.applyAssignment(tps),
      consumedOffsets: () =>
        this.subscriptions.assignment().flatMap((tp) => {
          const pos = this.subscriptions.position(tp);
          return pos ? [{ topic: tp.topic, partition: tp.partition, offset: pos.offset, leaderEpoch: pos.offsetEpoch }] : [];
        }),
      partitionCounts: async (topics) => {
        const counts = new Map<string, number>();
        if (topics.length === 0) return counts;
        // Topics this consumer tracks are in its metadata already; ask only when one is missing.
        for (const t of topics) {
          const n = this.metadata.cache.topic(t)?.partitions.length ?? 0;
          if (n > 0) counts.set(t, n);
        }
        if (counts.size === topics.length && !this.metadata.cache.updateRequested) return counts;
        counts.clear();
        const res = await this.metadata.request({ all: false, topics });
        for (const t of res.topics ?? []) if (!t.error && t.partitions.length > 0) counts.set(t.name, t.partitions.length);
        return counts;
      },
      pause: (tps) => {
        for (const tp of tps) if (this.subscriptions.isAssigned(tp)) this.subscriptions.pause(tp);
      },
      cachedPartitionCounts: (topics) => {
        const counts = new Map<string, number>();
        for (const t of topics) {
          const n = this.metadata.cache.topic(t)?.partitions.length ?? 0;
          if (n > 0) counts.set(t, n);
        }
        return counts;
      },
      allTopics: async () => {
        const res = await this.metadata.request({ all: true });
        return (res.topics ?? []).filter((t) => !t.error && !t.isInternal).map((t) => t.name);
      },
      wake: () => this.notifier.notify(),
    };
    return new ConsumerCoordinator({
      groupId,
      groupInstanceId: s.groupInstanceId,
      clientId: s.clientId,
      sessionTimeoutMs: s.sessionTimeoutMs,
      heartbeatIntervalMs: s.heartbeatIntervalMs,
      maxPollIntervalMs: s.maxPollIntervalMs,
      autoCommit: s.enableAutoCommit,
      autoCommitIntervalMs: s.autoCommitIntervalMs,
      retryBackoffMs: s.retryBackoffMs,
      requestTimeoutMs: s.requestTimeoutMs,
      defaultApiTimeoutMs: s.defaultApiTimeoutMs,
      metadataMaxAgeMs: s.metadataMaxAgeMs,
      assignors: s.assignmentStrategies.map(createAssignor),
      clock: this.deps.clock,
      pool: this.pool,
      metadata: this.metadata,
      policy: this.policy,
      logger: this.deps.logger,
      metrics: this.consumerMetrics,
      host,
    });
  }

  private requireGroup(what: string): ConsumerCoordinator {
    if (!this.coordinator) {
      throw new KafkaError('INVALID_GROUP_ID', `To use ${what} you must set group.id in the consumer config`);
    }
    return this.coordinator;
  }

  private ensureOpen(): void {
    if (this.closed) throw new ClientError('CLOSED', 'This consumer has already been closed.');
  }

  /** Replaces the assignment; an empty list unassigns everything. Kept partitions keep their position. */
  assign(partitions: readonly TopicPartition[]): void {
    this.ensureOpen();
    if (!Array.isArray(partitions)) throw new ClientError('INVALID_ARGUMENT', 'assign() takes an array of {topic, partition}');
    for (const tp of partitions) validateTopicPartition(tp);
    if (this.coordinator?.subscribed) {
      throw new ClientError('ILLEGAL_STATE', 'Subscription to topics, partitions and pattern are mutually exclusive: unsubscribe() first');
    }
    this.applyAssignment(partitions);
  }

  /**
   * Joins the consumer group (group.id) for `topics`, or every topic matching a RegExp; the group
   * assigns partitions, and `listener` hears of every change from inside poll(). Replaces an
   * earlier subscription.
   */
  subscribe(topics: string[] | RegExp, listener: ConsumerRebalanceListener = {}): void {
    this.ensureOpen();
    const coordinator = this.requireGroup('subscribe()');
    if (!(topics instanceof RegExp)) {
      if (!Array.isArray(topics)) throw new ClientError('INVALID_ARGUMENT', 'subscribe() takes an array of topic names or a RegExp');
      for (const t of topics) validateTopicPartition({ topic: t, partition: 0 });
      if (topics.length === 0) {
        this.unsubscribe();
        return;
      }
    }
    if (typeof listener !== 'object' || listener === null) throw new ClientError('INVALID_ARGUMENT', 'the rebalance listener must be an object');
    if (!coordinator.subscribed && this.subscriptions.assignment().length > 0) {
      throw new ClientError('ILLEGAL_STATE', 'Subscription to topics, partitions and pattern are mutually exclusive: assign([]) first');
    }
    coordinator.subscribe(topics, listener);
    this.metadata.setTopics(new Set([...coordinator.subscription(), ...this.subscriptions.assignment().map((tp) => tp.topic)]));
    this.notifier.notify();
  }

  /** Topics of the current subscription ([] when assigned by hand or not subscribed). */
  subscription(): string[] {
    return this.coordinator?.subscribed ? this.coordinator.subscription() : [];
  }

  /** Leaves the group: revokes the assignment (listener), sends LeaveGroup (dynamic members), and forgets the subscription. */
  unsubscribe(): void {
    this.ensureOpen();
    if (!this.coordinator?.subscribed) {
      this.applyAssignment([]);
      return;
    }
    const coordinator = this.coordinator;
    const previous = this.pendingUnsubscribe ?? Promise.resolve();
    this.pendingUnsubscribe = previous.then(() => coordinator.unsubscribe()).finally(() => {
      this.pendingUnsubscribe = null;
      this.notifier.notify();
    });
  }

  private applyAssignment(partitions: readonly TopicPartition[]): void {
    this.subscriptions.assign(partitions);
    // A group member tracks its whole subscription, so it sees partition counts change even for
    // topics it has no partition of.
    this.metadata.setTopics(new Set([...partitions.map((tp) => tp.topic), ...(this.coordinator?.subscribed ? this.coordinator.subscription() : [])]));
    this.fetcher.onAssignmentChange();
    for (const tp of this.noOffset.keys()) if (!this.subscriptions.isAssigned(tp)) this.noOffset.delete(tp);
    this.notifier.notify();
  }

  assignment(): TopicPartition[] {
    return this.subscriptions.assignment();
  }

  /** The next poll() fetches `tp` from `offset`. */
  seek(tp: TopicPartition, offset: number): void {
    this.ensureOpen();
    validateTopicPartition(tp);
    validateOffset(offset);
    this.subscriptions.seek(tp, offset);
    this.noOffset.delete(tp);
    this.notifier.notify();
  }

  /** Starts `partitions` (default: all assigned) at their log start offset, evaluated lazily. */
  seekToBeginning(partitions?: readonly TopicPartition[]): void {
    this.requestResets(partitions, 'earliest');
  }

  /** Starts `partitions` (default: all assigned) at their high watermark, evaluated lazily. */
  seekToEnd(partitions?: readonly TopicPartition[]): void {
    this.requestResets(partitions, 'latest');
  }

  private requestResets(partitions: readonly TopicPartition[] | undefined, strategy: 'earliest' | 'latest'): void {
    this.ensureOpen();
    const tps = partitions ?? this.subscriptions.assignment();
    for (const tp of tps) validateTopicPartition(tp);
    for (const tp of tps) {
      this.subscriptions.requestReset(tp, strategy);
      this.noOffset.delete(tp);
    }
    this.notifier.notify();
  }

  pause(partitions: readonly TopicPartition[]): void {
    this.ensureOpen();
    for (const tp of partitions) this.subscriptions.pause(tp);
  }

  resume(partitions: readonly TopicPartition[]): void {
    this.ensureOpen();
    for (const tp of partitions) this.subscriptions.resume(tp);
    this.notifier.notify();
  }

  paused(): TopicPartition[] {
    return this.subscriptions.paused();
  }

  /** High watermark minus position as of the last fetch (Kafka's currentLag); undefined until known. */
  currentLag(tp: TopicPartition): number | undefined {
    return this.subscriptions.lag(tp);
  }

  /**
   * The offset of the next record poll() would return for `tp`, resolving it (committed offset
   * or reset) if needed, within `timeoutMs` (default.api.timeout.ms).
   */
  async position(tp: TopicPartition, options: { timeoutMs?: number } = {}): Promise<number> {
    this.ensureOpen();
    validateTopicPartition(tp);
    const timeoutMs = options.timeoutMs ?? this.settings.defaultApiTimeoutMs;
    validateTimeout(timeoutMs, 'timeoutMs');
    const { clock } = this.deps;
    const deadline = clock.now() + timeoutMs;
    for (;;) {
      this.ensureOpen();
      const pos = this.subscriptions.position(tp);
      if (pos) return pos.offset;
      if (this.noOffset.has(tp)) throw this.noOffsetError([tp]);
      this.drive();
      const now = clock.now();
      if (now >= deadline) {
        throw new ClientError('API_TIMEOUT', `Timeout of ${timeoutMs}ms expired before the position for partition ${tpString(tp)} could be determined`);
      }
      await this.notifier.wait(clock, this.waitMs(deadline));
    }
  }

  /**
   * Records fetched for the assigned, unpaused partitions: returns as soon as there are some (at
   * most max.poll.records), or [] after `timeoutMs`. Raises errors that need the application:
   * OFFSET_OUT_OF_RANGE under auto.offset.reset=none, NO_OFFSET_FOR_PARTITION, CORRUPT_MESSAGE.
   */
  async poll(timeoutMs: number): Promise<ConsumerRecord[]> {
    this.ensureOpen();
    validateTimeout(timeoutMs, 'poll timeout');
    if (this.polling) throw new ClientError('ILLEGAL_STATE', 'poll() is already running on this consumer');
    if (this.subscriptions.assignment().length === 0 && !this.coordinator?.subscribed && !this.pendingUnsubscribe) {
      throw new ClientError('ILLEGAL_STATE', 'Consumer is not subscribed to any topics or assigned any partitions');
    }
    this.polling = true;
    const { clock } = this.deps;
    const deadline = clock.now() + timeoutMs;
    try {
      if (this.pendingUnsubscribe) await this.pendingUnsubscribe;
      for (;;) {
        if (this.closed) return [];
        if (this.coordinator) await this.coordinator.poll(clock.now());
        if (this.closed) return [];
        this.raisePendingErrors();
        this.drive();
        const records = this.fetcher.collect(this.settings.maxPollRecords);
        if (records.length > 0) {
          this.drive(); // fetch the next data while the application works on these
          this.consumerMetrics.recordsConsumed(records.length, records.reduce((n, r) => n + (r.key?.length ?? 0) + (r.value?.length ?? 0), 0), clock.now());
          return records;
        }
        if (this.wakeupRequested) {
          this.wakeupRequested = false;
          return [];
        }
        if (clock.now() >= deadline) return [];
        await this.notifier.wait(clock, this.waitMs(deadline));
      }
    } finally {
      this.polling = false;
    }
  }

  // ---- consumer groups ----

  /**
   * Commits `offsets` (default: the position of every assigned partition) to the group and waits
   * for the coordinator: rejects with ClientError COMMIT_FAILED when the group has moved on
   * (this member's generation is over), KafkaError REBALANCE_IN_PROGRESS during a rebalance
   * (poll() completes it), API_TIMEOUT after `timeoutMs` (default.api.timeout.ms). Commits leave
   * in call order, after every earlier commitAsync.
   */
  async commitSync(offsets?: OffsetToCommit[], options: CommitSyncOptions = {}): Promise<void> {
    this.ensureOpen();
    const coordinator = this.requireGroup('commitSync()');
    const timeoutMs = options.timeoutMs ?? this.settings.defaultApiTimeoutMs;
    validateTimeout(timeoutMs, 'commitSync timeoutMs');
    const list = this.offsetsToCommit(offsets);
    await coordinator.commitSync(list, this.deps.clock.now() + timeoutMs);
  }

  /** Like commitSync without waiting: `callback` hears the outcome. Commits never overtake each other. */
  commitAsync(offsets?: OffsetToCommit[], callback?: CommitCallback): void {
    this.ensureOpen();
    const coordinator = this.requireGroup('commitAsync()');
    if (callback !== undefined && typeof callback !== 'function') throw new ClientError('INVALID_ARGUMENT', 'the commitAsync callback must be a function');
    coordinator.commitAsync(this.offsetsToCommit(offsets), callback);
  }

  private offsetsToCommit(offsets: OffsetToCommit[] | undefined): OffsetToCommit[] {
    if (offsets === undefined) {
      return this.subscriptions.assignment().flatMap((tp) => {
        const pos = this.subscriptions.position(tp);
        return pos ? [{ topic: tp.topic, partition: tp.partition, offset: pos.offset }] : [];
      });
    }
    if (!Array.isArray(offsets)) throw new ClientError('INVALID_ARGUMENT', 'offsets must be an array of {topic, partition, offset, metadata?}');
    if (offsets.length > MAX_ASSIGNED_PARTITIONS) throw new ClientError('INVALID_ARGUMENT', `at most ${MAX_ASSIGNED_PARTITIONS} offsets per commit`);
    const seen = new TopicPartitionMap<true>();
    return offsets.map((o) => {
      validateTopicPartition(o);
      validateOffset(o.offset);
      if (o.metadata !== undefined && (typeof o.metadata !== 'string' || o.metadata.length > 4096)) {
        throw new ClientError('INVALID_ARGUMENT', `${tpString(o)}: commit metadata must be a string of at most 4096 characters`);
      }
      if (seen.has(o)) throw new ClientError('INVALID_ARGUMENT', `${tpString(o)} appears twice in one commit`);
      seen.set(o, true);
      return { topic: o.topic, partition: o.partition, offset: o.offset, ...(o.metadata === undefined ? {} : { metadata: o.metadata }) };
    });
  }

  /** The group's committed offsets of `tps` (null where none), in order. */
  async committed(tps: TopicPartition[], options: { timeoutMs?: number } = {}): Promise<Array<OffsetAndMetadata | null>> {
    this.ensureOpen();
    const coordinator = this.requireGroup('committed()');
    if (!Array.isArray(tps)) throw new ClientError('INVALID_ARGUMENT', 'committed() takes an array of {topic, partition}');
    for (const tp of tps) validateTopicPartition(tp);
    const timeoutMs = options.timeoutMs ?? this.settings.defaultApiTimeoutMs;
    validateTimeout(timeoutMs, 'timeoutMs');
    const found = await coordinator.fetchCommitted(tps, this.deps.clock.now() + timeoutMs);
    return found.map((c) => (c ? { offset: c.offset, metadata: c.metadata } : null));
  }

  /** The group, generation and member id commits are fenced by (Kafka's groupMetadata()). */
  groupMetadata(): ConsumerGroupMetadata {
    return this.requireGroup('groupMetadata()').groupMetadata();
  }

  /** Kafka's consumer metrics (records-consumed-rate, fetch-latency-avg, commit-latency-avg, sync-time-avg, assigned-partitions, records-lag-max, …). */
  metrics(): ConsumerMetricValues {
    const assignment = this.subscriptions.assignment();
    let maxLag = Number.NaN;
    for (const tp of assignment) {
      const lag = this.subscriptions.lag(tp);
      if (lag !== undefined && !(lag <= maxLag)) maxLag = lag;
    }
    return this.consumerMetrics.snapshot(this.deps.clock.now(), { assignedPartitions: assignment.length, maxLag });
  }

  /**
   * Polls and hands records to `eachMessage` one by one (or each poll's records to `eachBatch`),
   * until `signal` aborts or the consumer closes. The next poll (which commits, with auto commit)
   * starts only when the handler has finished the previous records, so every record is processed
   * at least once. A handler's error seeks back to the first record not processed and ends run()
   * with it.
   */
  async run(options: RunOptions): Promise<void> {
    this.ensureOpen();
    const { eachMessage, eachBatch, signal } = options ?? {};
    if (typeof eachMessage !== 'function' && typeof eachBatch !== 'function') {
      throw new ClientError('INVALID_ARGUMENT', 'run() needs an eachMessage or eachBatch handler');
    }
    const pollTimeoutMs = options.pollTimeoutMs ?? 1000;
    validateTimeout(pollTimeoutMs, 'pollTimeoutMs');
    const onAbort = (): void => this.wakeup();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      while (!this.closed && !this.closing && !signal?.aborted) {
        const records = await this.poll(pollTimeoutMs);
        if (records.length === 0) continue;
        let done = 0;
        try {
          if (typeof eachMessage === 'function') {
            for (const r of records) {
              if (signal?.aborted || this.closed) break;
              await eachMessage(r);
              done++;
            }
          } else {
            await eachBatch!(records);
            done = records.length;
          }
        } finally {
          if (done < records.length) this.seekBackTo(records.slice(done));
        }
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Positions back to the first of `left` per partition (records handed out but not processed). */
  private seekBackTo(left: ConsumerRecord[]): void {
    if (this.closed) return;
    const firstLeft = new TopicPartitionMap<number>();
    for (const r of left) {
      const tp = { topic: r.topic, partition: r.partition };
      if (!firstLeft.has(tp)) firstLeft.set(tp, r.offset);
    }
    for (const [tp, offset] of firstLeft) if (this.subscriptions.isAssigned(tp)) this.subscriptions.seek(tp, offset);
  }

  /** Makes a running poll() (or the next one) return at once. */
  wakeup(): void {
    this.wakeupRequested = true;
    this.notifier.notify();
  }

  /**
   * The records of successive polls, one by one, until close() or the loop breaks. Leaving the
   * loop early seeks back to the first record not handed out, so position() stays exact.
   */
  async *records(options: RecordsOptions = {}): AsyncGenerator<ConsumerRecord, void, undefined> {
    const timeout = options.pollTimeoutMs ?? 1000;
    validateTimeout(timeout, 'pollTimeoutMs');
    let batch: ConsumerRecord[] = [];
    let next = 0;
    try {
      while (!this.closed) {
        batch = await this.poll(timeout);
        for (next = 0; next < batch.length; ) yield batch[next++]!;
      }
    } finally {
      if (!this.closed && next < batch.length) {
        const firstLeft = new TopicPartitionMap<number>();
        for (const r of batch.slice(next)) {
          const tp = { topic: r.topic, partition: r.partition };
          if (!firstLeft.has(tp)) firstLeft.set(tp, r.offset);
        }
        for (const [tp, offset] of firstLeft) if (this.subscriptions.isAssigned(tp)) this.subscriptions.seek(tp, offset);
      }
    }
  }

  [Symbol.asyncIterator](): AsyncGenerator<ConsumerRecord, void, undefined> {
    return this.records();
  }

  /** Cancels fetches in flight, ends a running poll() with [], and closes every connection. */
  async close(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.closed || this.closing) return;
    this.closing = true;
    const timeoutMs = options.timeoutMs ?? this.settings.defaultApiTimeoutMs;
    validateTimeout(timeoutMs, 'close timeoutMs');
    try {
      if (this.pendingUnsubscribe) await this.pendingUnsubscribe.catch(() => undefined);
      await this.coordinator?.close(this.deps.clock.now() + timeoutMs);
    } catch (err) {
      this.deps.logger.warn('closing the group membership failed', { error: err });
    }
    this.closed = true;
    this.abort.abort();
    this.metadata.close();
    this.notifier.notify();
    this.pool.close();
  }

  private noOffsetError(tps: TopicPartition[]): ClientError {
    return new ClientError('NO_OFFSET_FOR_PARTITION', `Undefined offset with no reset policy for partitions: ${tps.map(tpString).join(', ')}`, {
      details: { partitions: tps },
    });
  }

  private raisePendingErrors(): void {
    const err = this.resetErrors.shift() ?? this.fetcher.takeError();
    if (err) throw err;
    const missing = this.noOffset.keys().filter((tp) => this.subscriptions.isAssigned(tp) && !this.subscriptions.position(tp));
    if (missing.length > 0) throw this.noOffsetError(missing);
  }

  /** How long to sleep: until the deadline, or sooner when a backoff ends or metadata is due. */
  private waitMs(deadline: number): number {
    const now = this.deps.clock.now();
    let at = Math.min(deadline, this.subscriptions.nextResetRetryMs(), this.fetcher.nextRetryMs());
    if (this.committedRetryAtMs > now) at = Math.min(at, this.committedRetryAtMs);
    if (this.metadata.cache.updateRequested) at = Math.min(at, now + this.metadata.timeToNextUpdate());
    if (this.coordinator) at = Math.min(at, this.coordinator.nextWakeMs());
    return Math.max(0, at - now);
  }

  /** Starts whatever I/O is due: metadata, committed offsets, resets, fetches. Never waits. */
  private drive(): void {
    if (this.closed) return;
    const now = this.deps.clock.now();
    if (this.metadata.cache.updateRequested || this.metadata.timeToNextUpdate() === 0) {
      const refresh = this.metadata.maybeRefresh();
      if (refresh) void refresh.then(() => this.notifier.notify());
    }
    this.initPositions(now);
    for (const plan of this.resetter.prepare(now)) this.sendListOffsets(plan);
    for (const plan of this.fetcher.prepareFetches(now)) this.sendFetch(plan);
  }

  /** Partitions without a position: committed offsets first (when a source is plugged in), else the reset policy. */
  private initPositions(now: number): void {
    const missing = this.subscriptions.partitionsWithoutPosition().filter((tp) => !this.noOffset.has(tp));
    if (missing.length === 0) return;
    if (this.committedSource) {
      if (this.committedInFlight || now < this.committedRetryAtMs) return;
      this.committedInFlight = true;
      this.committedSource
        .fetchCommitted(missing, this.abort.signal)
        .then(
          (offsets) => {
            this.committedFailures = 0;
            missing.forEach((tp, i) => {
              if (!this.subscriptions.isAssigned(tp) || this.subscriptions.position(tp) || this.subscriptions.pendingReset(tp)) return;
              const c = offsets[i];
              if (c && Number.isSafeInteger(c.offset) && c.offset >= 0) this.subscriptions.seek(tp, c.offset, c.leaderEpoch ?? -1);
              else this.applyDefaultReset(tp);
            });
          },
          (err: unknown) => {
            this.committedFailures++;
            this.committedRetryAtMs = this.deps.clock.now() + this.policy.backoffMs(this.committedFailures);
            if (!classifyError(err).retriable && this.resetErrors.length < 100) this.resetErrors.push(err as Error);
          },
        )
        .finally(() => {
          this.committedInFlight = false;
          this.notifier.notify();
        });
      return;
    }
    for (const tp of missing) this.applyDefaultReset(tp);
  }

  private applyDefaultReset(tp: TopicPartition): void {
    const strategy = this.subscriptions.defaultReset;
    if (strategy === 'none') this.noOffset.set(tp, true);
    else this.subscriptions.requestReset(tp, strategy);
  }

  private sendFetch(plan: FetchPlan): void {
    const { clock } = this.deps;
    const started = clock.now();
    this.pool
      .call(plan.address, (api) => api.fetch(plan.request, { timeoutMs: this.settings.requestTimeoutMs, signal: this.abort.signal }))
      .then(
        (response) => {
          const now = clock.now();
          this.consumerMetrics.fetchCompleted(now - started, now);
          this.fetcher.onFetchOutcome(plan, { response }, now);
        },
        (error: unknown) => {
          if (error instanceof KafkaError && error.type === 'NETWORK_EXCEPTION') this.metadata.nodeFailed(plan.address);
          this.fetcher.onFetchOutcome(plan, { error }, clock.now());
        },
      )
      .finally(() => this.notifier.notify());
  }

  private sendListOffsets(plan: ListOffsetsPlan): void {
    const { clock } = this.deps;
    this.pool
      .call(plan.address, (api) => api.listOffsets(plan.request, { timeoutMs: this.settings.requestTimeoutMs, signal: this.abort.signal }))
      .then(
        (response) => this.resetter.onOutcome(plan, { response }, clock.now()),
        (error: unknown) => this.resetter.onOutcome(plan, { error }, clock.now()),
      )
      .finally(() => this.notifier.notify());
  }
}
