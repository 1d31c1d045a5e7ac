// The client's retry policy, in one place: which errors are worth retrying, whether metadata
// must be refreshed first, how long to back off (Kafka's exponential backoff with jitter, KIP-580:
// retry.backoff.ms doubling up to retry.backoff.max.ms, ±20%), and when to give up (retries
// exhausted or the caller's deadline). The producer, consumer and admin all decide through it;
// randomness is injected so tests are deterministic.

import { ClientError, type ClientErrorCode } from '../client-error.js';
import { sleep, type Clock } from '../clock.js';
import { KafkaError } from '../protocol/errors.js';

export interface RetrySettings {
  /** Retries after the first attempt (Kafka's `retries`). */
  retries: number;
  /** retry.backoff.ms */
  backoffMs: number;
  /** retry.backoff.max.ms */
  backoffMaxMs: number;
}

/** Kafka's ExponentialBackoff (org.apache.kafka.common.utils.ExponentialBackoff). */
export class ExponentialBackoff {
  private readonly initialMs: number;
  private readonly expMax: number;

  constructor(
    initialMs: number,
    private readonly multiplier: number,
    private readonly maxMs: number,
    private readonly jitter: number,
  ) {
    this.initialMs = Math.min(maxMs, initialMs);
    this.expMax = maxMs > initialMs ? Math.log(maxMs / Math.max(initialMs, 1)) / Math.log(multiplier) : 0;
  }

  /** Backoff before the next try after `attempts` failures (0 = after the first failure); `random` in [0, 1). */
  backoff(attempts: number, random: () => number): number {
    if (this.expMax === 0) return this.initialMs;
    const exp = Math.min(attempts, this.expMax);
    const term = this.initialMs * this.multiplier ** exp;
    const factor = this.jitter > 0 ? 1 - this.jitter + 2 * this.jitter * random() : 1;
    return Math.min(this.maxMs, Math.floor(factor * term));
  }
}

export const BACKOFF_MULTIPLIER = 2;
export const BACKOFF_JITTER = 0.2;

export interface ErrorClass {
  retriable: boolean;
  refreshMetadata: boolean;
}

/**
 * KafkaErrors retry per Kafka's table (protocol/errors.ts); ClientErrors (local misuse,
 * timeouts) and anything unknown do not.
 */
export function classifyError(err: unknown): ErrorClass {
  if (err instanceof KafkaError) return { retriable: err.retriable, refreshMetadata: err.refreshMetadata };
  return { retriable: false, refreshMetadata: false };
}

export type RetryDecision =
  | { retry: true; delayMs: number; refreshMetadata: boolean }
  | { retry: false; reason: 'not-retriable' | 'retries-exhausted' | 'deadline'; refreshMetadata: boolean };

export interface FailureContext {
  /** Failed attempts so far, this one included (1 after the first failure). */
  attempts: number;
  nowMs: number;
  /** Give up rather than retry at or after this time. */
  deadlineMs: number;
  /**
   * Overrides the error's class (the idempotent producer retries some sequence errors that are
   * not retriable in general).
   */
  retriable?: boolean;
}

export class RetryPolicy {
  private readonly backoff: ExponentialBackoff;

  constructor(
    readonly settings: RetrySettings,
    private readonly random: () => number,
  ) {
    this.backoff = new ExponentialBackoff(settings.backoffMs, BACKOFF_MULTIPLIER, settings.backoffMaxMs, BACKOFF_JITTER);
  }

  /** Backoff after `failures` consecutive failures (1 = after the first). */
  backoffMs(failures: number): number {
    return this.backoff.backoff(Math.max(0, failures - 1), this.random);
  }

  onFailure(err: unknown, ctx: FailureContext): RetryDecision {
    const cls = classifyError(err);
    if (!(ctx.retriable ?? cls.retriable)) return { retry: false, reason: 'not-retriable', refreshMetadata: cls.refreshMetadata };
    if (ctx.attempts > this.settings.retries) return { retry: false, reason: 'retries-exhausted', refreshMetadata: cls.refreshMetadata };
    const delayMs = this.backoffMs(ctx.attempts);
    if (ctx.nowMs + delayMs >= ctx.deadlineMs) return { retry: false, reason: 'deadline', refreshMetadata: cls.refreshMetadata };
    return { retry: true, delayMs, refreshMetadata: cls.refreshMetadata };
  }
}

export interface RetryLoopOptions {
  clock: Clock;
  policy: RetryPolicy;
  deadlineMs: number;
  /** What the call is, for the timeout message ("createTopics"). */
  what: string;
  /** Code of the error thrown when the deadline passes. */
  timeoutCode?: ClientErrorCode;
  /** Called before a retry whose error asks for fresh metadata. */
  refreshMetadata?: (err: unknown) => Promise<void>;
  signal?: AbortSignal;
}

/**
 * Runs `attempt` until it succeeds, fails with an error not worth retrying (rethrown as is),
 * or time runs out (ClientError `timeoutCode`, default API_TIMEOUT, caused by the last error).
 */
export async function retryUntil<T>(options: RetryLoopOptions, attempt: (n: number) => Promise<T>): Promise<T> {
  const { clock, policy, deadlineMs, what } = options;
  for (let n = 1; ; n++) {
    if (options.signal?.aborted) throw new ClientError('CLOSED', `${what} aborted: the client is closing`);
    let err: unknown;
    try {
      return await attempt(n);
    } catch (e) {
      err = e;
    }
    const decision = policy.onFailure(err, { attempts: n, nowMs: clock.now(), deadlineMs });
    if (!decision.retry) {
      if (decision.reason === 'not-retriable') throw err;
      throw new ClientError(
        options.timeoutCode ?? 'API_TIMEOUT',
        `${what} ${decision.reason === 'deadline' ? 'timed out' : 'ran out of retries'} after ${n} attempt(s): ${(err as Error)?.message ?? String(err)}`,
        { cause: err, details: { attempts: n } },
      );
    }
    if (decision.refreshMetadata && options.refreshMetadata) {
      try {
        await options.refreshMetadata(err);
      } catch {
        // The next attempt fails again and backs off further; the refresh error is not the answer.
      }
    }
    await sleep(clock, decision.delayMs, options.signal);
  }
}
