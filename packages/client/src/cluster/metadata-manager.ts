// Keeps a MetadataCache fresh: Metadata requests to the least loaded known broker (falling back
// to the bootstrap servers when no known broker answers, Kafka's rebootstrap), one refresh at a
// time (concurrent callers share it), a backoff after failures, max-age refreshes, and the set
// of topics the client uses (forgotten after an idle time). Owned by one Producer, Consumer or
// Admin, which closes it.

import { ClientError } from '../client-error.js';
import { sleep, type Clock } from '../clock.js';
import { silentLogger, type ClientLogger } from '../logger.js';
import type { KafkaError } from '../protocol/errors.js';
import type { MetadataResponse } from '../protocol/wire-types.js';
import type { RetryPolicy } from '../retry/retry-policy.js';
import type { ConnectionPool } from './connection-pool.js';
import { MetadataCache, type RequestedTopics, type TopicInfo } from './metadata-cache.js';

/** Topics one client tracks at most (each costs a little on every Metadata request). */
export const MAX_TRACKED_TOPICS = 10_000;

export interface MetadataManagerOptions {
  bootstrapServers: readonly string[];
  pool: ConnectionPool;
  clock: Clock;
  /** Its backoff spaces failed refreshes (retry.backoff.ms … retry.backoff.max.ms). */
  policy: RetryPolicy;
  requestTimeoutMs: number;
  maxAgeMs: number;
  /** Forget a topic not used for this long (metadata.max.idle.ms); Infinity keeps them. */
  topicIdleMs?: number;
  /** Picks among equally loaded nodes; seeded in tests. */
  random: () => number;
  logger?: ClientLogger;
}

export class MetadataManager {
  readonly cache: MetadataCache;
  private readonly topicLastUsed = new Map<string, number>();
  private refreshing: Promise<void> | null = null;
  private readonly failedAt = new Map<string, number>();
  private readonly abort = new AbortController();
  private readonly logger: ClientLogger;

  constructor(private readonly options: MetadataManagerOptions) {
    this.cache = new MetadataCache(options.maxAgeMs);
    this.logger = options.logger ?? silentLogger;
  }

  /** The topics the client uses; every refresh asks for exactly these. */
  get topics(): string[] {
    return [...this.topicLastUsed.keys()];
  }

  /** Marks `topic` as used now; a topic not seen before makes the next refresh due. */
  touchTopic(topic: string, nowMs: number = this.options.clock.now()): void {
    const isNew = !this.topicLastUsed.has(topic);
    if (isNew && this.topicLastUsed.size >= MAX_TRACKED_TOPICS) {
      this.expireIdleTopics();
      if (this.topicLastUsed.size >= MAX_TRACKED_TOPICS) {
        throw new ClientError('INVALID_ARGUMENT', `this client already uses ${MAX_TRACKED_TOPICS} topics`);
      }
    }
    this.topicLastUsed.set(topic, nowMs);
    if (isNew && !this.cache.topic(topic)) this.cache.requestUpdate();
  }

  /** Replaces the tracked topics (a consumer's assignment). */
  setTopics(topics: Iterable<string>): void {
    const next = new Set(topics);
    if (next.size > MAX_TRACKED_TOPICS) throw new ClientError('INVALID_ARGUMENT', `more than ${MAX_TRACKED_TOPICS} topics`);
    const now = this.options.clock.now();
    for (const t of [...this.topicLastUsed.keys()]) if (!next.has(t)) this.topicLastUsed.delete(t);
    for (const t of next) {
      if (!this.topicLastUsed.has(t)) {
        this.topicLastUsed.set(t, now);
        if (!this.cache.topic(t)) this.cache.requestUpdate();
      }
    }
    this.cache.retainTopics(next);
  }

  /** Forgets topics idle for longer than topicIdleMs. */
  expireIdleTopics(): void {
    const idle = this.options.topicIdleMs ?? Number.POSITIVE_INFINITY;
    if (!Number.isFinite(idle)) return;
    const now = this.options.clock.now();
    let removed = false;
    for (const [t, used] of this.topicLastUsed) {
      if (now - used > idle) {
        this.topicLastUsed.delete(t);
        removed = true;
      }
    }
    if (removed) this.cache.retainTopics(new Set(this.topicLastUsed.keys()));
  }

  requestUpdate(): void {
    this.cache.requestUpdate();
  }

  /** Milliseconds until a refresh is due (0: now). */
  timeToNextUpdate(): number {
    return this.cache.timeToNextUpdate(this.options.clock.now(), this.options.policy.backoffMs(this.cache.failures));
  }

  /**
   * Starts a refresh when one is due and none runs; returns the running refresh, if any. Never
   * rejects: a failed refresh is retried with backoff, and callers only wait on it (a rejecting
   * promise here, left to a `void p.then(…)`, crashed the process as an unhandled rejection).
   */
  maybeRefresh(): Promise<void> | null {
    if (this.refreshing) return this.refreshing.catch(() => {});
    if (this.timeToNextUpdate() > 0) return null;
    return this.refresh().catch(() => {});
  }

  /** Refreshes now, or joins the refresh already running. Rejects with the request's error. */
  refresh(): Promise<void> {
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async doRefresh(): Promise<void> {
    this.expireIdleTopics();
    const topics = this.topics;
    try {
      await this.request({ all: false, topics });
    } catch (err) {
      this.logger.debug('metadata refresh failed', { error: err });
      throw err;
    }
  }

  /**
   * One Metadata request for `requested` (e.g. an admin's one-off question), applied to the
   * cache. Counts as the cache's refresh attempt whether it succeeds or not.
   */
  async request(requested: RequestedTopics, node?: string): Promise<MetadataResponse> {
    const { clock, pool } = this.options;
    const address = node ?? this.leastLoadedNode();
    const started = clock.now();
    try {
      const res = await pool.call(address, (api) =>
        api.metadata(
          requested.all ? { topics: [], allTopics: true } : { topics: [...requested.topics], allTopics: false },
          { timeoutMs: this.options.requestTimeoutMs, signal: this.abort.signal },
        ),
      );
      this.failedAt.delete(address);
      this.cache.update(res, clock.now(), requested);
      pool.prune(this.liveAddresses());
      return res;
    } catch (err) {
      this.failedAt.set(address, clock.now());
      this.cache.updateFailed(started);
      throw err;
    }
  }

  /**
   * The node to ask: among known brokers (or the bootstrap servers when none is known or every
   * known one failed since its last success) the one with the fewest calls in flight, skipping
   * nodes that failed most recently; ties broken at random.
   */
  leastLoadedNode(): string {
    const known = this.cache.brokers.map((b) => b.address);
    const usable = known.filter((a) => !this.failedAt.has(a));
    const candidates = usable.length > 0 ? usable : [...new Set([...known, ...this.options.bootstrapServers])];
    const healthy = candidates.filter((a) => !this.failedAt.has(a));
    const pickFrom = healthy.length > 0 ? healthy : this.oldestFailures(candidates);
    const load = (a: string): number => this.options.pool.inFlightCount(a);
    const least = Math.min(...pickFrom.map(load));
    const best = pickFrom.filter((a) => load(a) === least);
    return best[Math.floor(this.options.random() * best.length) % best.length]!;
  }

  private oldestFailures(candidates: string[]): string[] {
    const at = (a: string): number => this.failedAt.get(a) ?? Number.NEGATIVE_INFINITY;
    const oldest = Math.min(...candidates.map(at));
    return candidates.filter((a) => at(a) === oldest);
  }

  /** Records that a call to `address` failed at the transport level (skipped by leastLoadedNode for a while). */
  nodeFailed(address: string): void {
    this.failedAt.set(address, this.options.clock.now());
  }

  /**
   * Resolves with `topic`'s metadata once it is known (with at least partition+1 partitions when
   * `partition` is given), refreshing as needed. Rejects with the topic's KafkaError when it is
   * not retriable (an invalid name), or ClientError METADATA_TIMEOUT at `deadlineMs`.
   */
  async waitForTopic(topic: string, partition: number | undefined, deadlineMs: number): Promise<TopicInfo> {
    const { clock } = this.options;
    this.touchTopic(topic);
    let lastError: unknown;
    for (;;) {
      if (this.abort.signal.aborted) throw new ClientError('CLOSED', 'the client is closed');
      const info = this.cache.topic(topic);
      if (info && info.partitions.length > 0 && (partition === undefined || partition < info.partitions.length)) return info;
      const topicError: KafkaError | undefined = this.cache.topicError(topic);
      if (topicError && !topicError.retriable) throw topicError;
      lastError = topicError ?? lastError;
      const now = clock.now();
      if (now >= deadlineMs) {
        const what = info && partition !== undefined
          ? `Partition ${partition} of topic ${topic} with partition count ${info.partitions.length} is`
          : `Topic ${topic} is`;
        throw new ClientError('METADATA_TIMEOUT', `${what} not present in metadata after waiting until the deadline (max.block.ms)`, {
          cause: lastError,
          details: { topic, partition },
        });
      }
      this.cache.requestUpdate();
      const wait = this.timeToNextUpdate();
      if (wait > 0 && !this.refreshing) {
        await sleep(clock, Math.min(wait, deadlineMs - now), this.abort.signal);
        continue;
      }
      try {
        await this.refresh();
      } catch (err) {
        lastError = err;
      }
    }
  }

  close(): void {
    this.abort.abort();
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Addresses worth keeping connections to: known brokers and the bootstrap servers. */
  liveAddresses(): Set<string> {
    return new Set([...this.cache.brokers.map((b) => b.address), ...this.options.bootstrapServers]);
  }
}
