// The Consumer, consuming partitions it is assigned (Kafka's KafkaConsumer with assign()).
// poll() hands out records from long-poll fetches to each partition's leader, following leader
// changes through metadata; positions start from a committed offset when a CommittedOffsetSource
// is plugged in, else from auto.offset.reset.
//
// For the consumer-group layer (a later issue), the hooks are: assign() to apply a new
// assignment (positions of kept partitions survive), a CommittedOffsetSource to start new
// partitions at committed offsets, position() to read what to commit, pause()/resume(), and
// wakeup() to make a running poll() return early (e.g. for a rebalance).
//
// Lifecycle: no connection until the first poll()/position(); close() cancels fetches in flight
// and closes every connection. One poll() at a time.

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
import { SubscriptionState } from './subscription-state.js';

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
  private readonly notifier = new Notifier();
  private readonly abort = new AbortController();
  /** Partitions with no committed offset under auto.offset.reset=none: poll() raises for them. */
  private readonly noOffset = new TopicPartitionMap<true>();
  private readonly resetErrors: Error[] = [];
  private committedInFlight = false;
  private committedRetryAtMs = 0;
  private committedFailures = 0;
  private polling = false;
  private wakeupRequested = false;
  private closed = false;

  constructor(config: ConsumerConfig, deps: ConsumerDeps = {}) {
    this.settings = resolveConsumerConfig(config);
    this.deps = resolveDeps(deps);
    this.committedSource = deps.committedOffsets;
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
  }

  private ensureOpen(): void {
    if (this.closed) throw new ClientError('CLOSED', 'This consumer has already been closed.');
  }

  /** Replaces the assignment; an empty list unassigns everything. Kept partitions keep their position. */
  assign(partitions: readonly TopicPartition[]): void {
    this.ensureOpen();
    if (!Array.isArray(partitions)) throw new ClientError('INVALID_ARGUMENT', 'assign() takes an array of {topic, partition}');
    for (const tp of partitions) validateTopicPartition(tp);
    this.subscriptions.assign(partitions);
    this.metadata.setTopics(new Set(partitions.map((tp) => tp.topic)));
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
    if (this.subscriptions.assignment().length === 0) {
      throw new ClientError('ILLEGAL_STATE', 'Consumer is not assigned any partitions');
    }
    this.polling = true;
    const { clock } = this.deps;
    const deadline = clock.now() + timeoutMs;
    try {
      for (;;) {
        if (this.closed) return [];
        this.raisePendingErrors();
        this.drive();
        const records = this.fetcher.collect(this.settings.maxPollRecords);
        if (records.length > 0) {
          this.drive(); // fetch the next data while the application works on these
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
  async close(): Promise<void> {
    if (this.closed) return;
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
    this.pool
      .call(plan.address, (api) => api.fetch(plan.request, { timeoutMs: this.settings.requestTimeoutMs, signal: this.abort.signal }))
      .then(
        (response) => this.fetcher.onFetchOutcome(plan, { response }, clock.now()),
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
