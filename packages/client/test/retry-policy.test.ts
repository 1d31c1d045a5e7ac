// The retry policy: Kafka's exponential backoff with jitter, which errors are retried, and the
// limits (retries, deadline); and the generic retry loop on a manual clock.

import { ClientError } from '../src/client-error.js';
import { KafkaError } from '../src/protocol/errors.js';
import { ExponentialBackoff, RetryPolicy, classifyError, retryUntil } from '../src/retry/retry-policy.js';
import { ManualClock, settle } from './helpers/manual-clock.js';
import { seededRandom } from './helpers/seeded-random.js';

describe('ExponentialBackoff (KIP-580)', () => {
  test('doubles from retry.backoff.ms up to retry.backoff.max.ms without jitter', () => {
    const b = new ExponentialBackoff(100, 2, 1000, 0);
    expect([0, 1, 2, 3, 4, 5, 10].map((n) => b.backoff(n, () => 0.5))).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
  });

  test('jitter stays within ±20% and never exceeds the maximum', () => {
    const b = new ExponentialBackoff(100, 2, 1000, 0.2);
    const random = seededRandom();
    for (let attempt = 0; attempt < 8; attempt++) {
      for (let i = 0; i < 200; i++) {
        const v = b.backoff(attempt, random);
        const term = Math.min(100 * 2 ** attempt, 1000);
        expect(v).toBeGreaterThanOrEqual(Math.floor(term * 0.8));
        expect(v).toBeLessThanOrEqual(Math.min(1000, Math.ceil(term * 1.2)));
      }
    }
  });

  test('a maximum below the initial backoff gives a constant backoff', () => {
    const b = new ExponentialBackoff(500, 2, 100, 0.2);
    expect(b.backoff(0, Math.random)).toBe(100);
    expect(b.backoff(7, Math.random)).toBe(100);
  });
});

describe('RetryPolicy', () => {
  const policy = (retries = 3): RetryPolicy => new RetryPolicy({ retries, backoffMs: 100, backoffMaxMs: 1000 }, () => 0.5);

  test('classifies Kafka errors by their table and local errors as final', () => {
    expect(classifyError(new KafkaError('NOT_LEADER_OR_FOLLOWER'))).toEqual({ retriable: true, refreshMetadata: true });
    expect(classifyError(new KafkaError('NOT_ENOUGH_REPLICAS'))).toEqual({ retriable: true, refreshMetadata: false });
    expect(classifyError(new KafkaError('MESSAGE_TOO_LARGE'))).toEqual({ retriable: false, refreshMetadata: false });
    expect(classifyError(new ClientError('INVALID_ARGUMENT', 'x'))).toEqual({ retriable: false, refreshMetadata: false });
    expect(classifyError(new TypeError('x'))).toEqual({ retriable: false, refreshMetadata: false });
  });

  test('retries a retriable error with growing backoff until retries run out', () => {
    const p = policy(3);
    const err = new KafkaError('REQUEST_TIMED_OUT');
    const delays = [1, 2, 3].map((attempts) => p.onFailure(err, { attempts, nowMs: 0, deadlineMs: 1e9 }));
    expect(delays).toEqual([
      { retry: true, delayMs: 100, refreshMetadata: false },
      { retry: true, delayMs: 200, refreshMetadata: false },
      { retry: true, delayMs: 400, refreshMetadata: false },
    ]);
    expect(p.onFailure(err, { attempts: 4, nowMs: 0, deadlineMs: 1e9 })).toEqual({ retry: false, reason: 'retries-exhausted', refreshMetadata: false });
  });

  test('gives up when the backoff would end at or past the deadline', () => {
    const p = policy(100);
    const err = new KafkaError('LEADER_NOT_AVAILABLE');
    expect(p.onFailure(err, { attempts: 1, nowMs: 900, deadlineMs: 1000 })).toEqual({ retry: false, reason: 'deadline', refreshMetadata: true });
    expect(p.onFailure(err, { attempts: 1, nowMs: 899, deadlineMs: 1000 })).toEqual({ retry: true, delayMs: 100, refreshMetadata: true });
  });

  test('an explicit retriable flag overrides the error class both ways', () => {
    const p = policy();
    expect(p.onFailure(new KafkaError('OUT_OF_ORDER_SEQUENCE_NUMBER'), { attempts: 1, nowMs: 0, deadlineMs: 1e9, retriable: true }).retry).toBe(true);
    expect(p.onFailure(new KafkaError('REQUEST_TIMED_OUT'), { attempts: 1, nowMs: 0, deadlineMs: 1e9, retriable: false })).toMatchObject({ retry: false, reason: 'not-retriable' });
  });
});

describe('retryUntil', () => {
  test('retries through retriable errors, refreshing metadata when asked, and returns the result', async () => {
    const clock = new ManualClock();
    const policy = new RetryPolicy({ retries: 10, backoffMs: 100, backoffMaxMs: 1000 }, () => 0.5);
    const errors = [new KafkaError('NOT_CONTROLLER'), new KafkaError('REQUEST_TIMED_OUT')];
    let refreshes = 0;
    const attempts: number[] = [];
    const done = retryUntil(
      { clock, policy, deadlineMs: clock.now() + 10_000, what: 'test', refreshMetadata: async () => { refreshes++; } },
      async (n) => {
        attempts.push(n);
        const e = errors.shift();
        if (e) throw e;
        return 'ok';
      },
    );
    await settle();
    expect(attempts).toEqual([1]);
    clock.advance(100);
    await settle();
    expect(attempts).toEqual([1, 2]);
    clock.advance(199);
    await settle();
    expect(attempts).toEqual([1, 2]);
    clock.advance(1);
    await expect(done).resolves.toBe('ok');
    expect(attempts).toEqual([1, 2, 3]);
    expect(refreshes).toBe(1); // NOT_CONTROLLER asks for fresh metadata, REQUEST_TIMED_OUT does not
  });

  test('rethrows an error that is not retriable as it is', async () => {
    const clock = new ManualClock();
    const policy = new RetryPolicy({ retries: 10, backoffMs: 100, backoffMaxMs: 1000 }, () => 0.5);
    const err = new KafkaError('TOPIC_ALREADY_EXISTS');
    await expect(retryUntil({ clock, policy, deadlineMs: clock.now() + 1000, what: 'x' }, async () => { throw err; })).rejects.toBe(err);
  });

  test('fails with API_TIMEOUT caused by the last error when the deadline comes', async () => {
    const clock = new ManualClock();
    const policy = new RetryPolicy({ retries: 100, backoffMs: 100, backoffMaxMs: 100 }, () => 0.5);
    const last = new KafkaError('LEADER_NOT_AVAILABLE');
    const done = retryUntil({ clock, policy, deadlineMs: clock.now() + 250, what: 'describeTopics' }, async () => { throw last; });
    const caught = done.catch((e: unknown) => e);
    await settle();
    clock.advance(100);
    await settle();
    clock.advance(100);
    const err = (await caught) as ClientError;
    expect(err).toBeInstanceOf(ClientError);
    expect(err.code).toBe('API_TIMEOUT');
    expect(err.cause).toBe(last);
    expect(err.details).toEqual({ attempts: 3 });
  });
});
