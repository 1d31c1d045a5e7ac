import fc from 'fast-check';
import { ExpiryQueue } from '../../src/tree/expiry-queue.js';
import { isCoordinatorError } from '../../src/tree/errors.js';
import { SessionTracker } from '../../src/tree/session-tracker.js';

describe('ExpiryQueue', () => {
  test('rounds deadlines up to the bucket: never early, at most one bucket late', () => {
    const q = new ExpiryQueue<string>(100);
    q.schedule('a', 1001);
    expect(q.expiryOf('a')).toBe(1100);
    expect(q.poll(1099, 10)).toEqual([]);
    expect(q.poll(1100, 10)).toEqual(['a']);
    expect(q.size).toBe(0);
  });

  test('rescheduling moves a key; removed keys never expire; poll is bounded and earliest first', () => {
    const q = new ExpiryQueue<number>(10);
    for (let i = 0; i < 5; i++) q.schedule(i, 100 + i * 10);
    q.schedule(0, 500);
    expect(q.remove(3)).toBe(true);
    expect(q.remove(3)).toBe(false);
    expect(q.poll(1000, 2)).toEqual([1, 2]);
    expect(q.poll(1000, 10)).toEqual([4, 0]);
    expect(q.poll(10_000, 10)).toEqual([]);
  });

  test('property: poll returns exactly the keys whose latest deadline has passed', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 5000 }), fc.boolean()), { maxLength: 200 }),
        fc.integer({ min: 0, max: 6000 }),
        (operations, now) => {
          const q = new ExpiryQueue<number>(50);
          const model = new Map<number, number>();
          for (const [key, deadline, remove] of operations) {
            if (remove) {
              q.remove(key);
              model.delete(key);
            } else {
              q.schedule(key, deadline);
              model.set(key, Math.ceil(deadline / 50) * 50);
            }
          }
          const due = [...model].filter(([, at]) => at <= now).map(([k]) => k);
          expect(q.poll(now, 1000).sort((a, b) => a - b)).toEqual(due.sort((a, b) => a - b));
          expect(q.size).toBe(model.size - due.length);
        },
      ),
      { seed: 5, numRuns: 300 },
    );
  });

  test('the heap of bucket times stays bounded under constant rescheduling', () => {
    const q = new ExpiryQueue<number>(1);
    for (let t = 0; t < 50_000; t++) q.schedule(t % 3, t + 1000);
    // Only live buckets plus bounded slack remain; everything still expires.
    expect(q.poll(1_000_000, 10).sort()).toEqual([0, 1, 2]);
  });
});

describe('SessionTracker', () => {
  const options = { minSessionTimeoutMs: 2000, maxSessionTimeoutMs: 20_000, expiryBucketMs: 100, expiryRetryMs: 1000 };

  test('clamps requested timeouts into [min, max] and refuses non-numbers', () => {
    const t = new SessionTracker(options);
    expect(t.clampTimeout(10)).toBe(2000);
    expect(t.clampTimeout(6000)).toBe(6000);
    expect(t.clampTimeout(1e9)).toBe(20_000);
    expect(t.clampTimeout(-5)).toBe(2000);
    expect(t.clampTimeout(Number.POSITIVE_INFINITY)).toBe(20_000);
    let caught: unknown;
    try {
      t.clampTimeout(Number.NaN);
    } catch (err) {
      caught = err;
    }
    expect(isCoordinatorError(caught, 'INVALID_ARGUMENT')).toBe(true);
  });

  test('refuses inconsistent options', () => {
    expect(() => new SessionTracker({ minSessionTimeoutMs: 5000, maxSessionTimeoutMs: 1000 })).toThrow('minSessionTimeoutMs');
    expect(() => new SessionTracker({ expiryBucketMs: 0 })).toThrow('expiryBucketMs');
  });

  test('a session that heartbeats stays; one that stops expires after its timeout, not before', () => {
    const t = new SessionTracker(options);
    t.add(1, 3000, 0);
    t.add(2, 3000, 0);
    for (let now = 1000; now <= 10_000; now += 1000) {
      expect(t.touch(1, now)).toBe(true);
      const expired = t.expiredSessions(now);
      if (now < 3000) expect(expired).toEqual([]);
      if (now === 3000) expect(expired).toEqual([2]);
      if (now > 3000) expect(expired).not.toContain(1);
    }
  });

  test('an expired session is expiring: heartbeats no longer save it, and it is reported again if still there', () => {
    const t = new SessionTracker(options);
    t.add(7, 2000, 0);
    expect(t.expiredSessions(2000)).toEqual([7]);
    expect(t.isExpiring(7)).toBe(true);
    expect(t.touch(7, 2100)).toBe(false);
    expect(t.expiredSessions(2900)).toEqual([]);
    expect(t.expiredSessions(3000)).toEqual([7]); // the expireSessions proposal was lost: retry
    t.trackApplied({ type: 'expireSessions', expiredSessionIds: [7], deletedPaths: [] }, 3100);
    expect(t.has(7)).toBe(false);
    expect(t.expiredSessions(100_000)).toEqual([]);
  });

  test('a new leader gives every session a full timeout from now, expiring ones included', () => {
    const t = new SessionTracker(options);
    t.add(1, 5000, 0);
    t.add(2, 2000, 0);
    expect(t.expiredSessions(2000)).toEqual([2]);
    t.resetAll(60_000); // the election took a minute
    expect(t.isExpiring(2)).toBe(false);
    expect(t.touch(2, 60_000)).toBe(true);
    expect(t.expiredSessions(61_900)).toEqual([]);
    expect(t.expiredSessions(62_000)).toEqual([2]);
    // 2 is reported again at its retry time (63 000), since the tree has not dropped it yet.
    expect(t.expiredSessions(65_000)).toEqual([2, 1]);
  });

  test('follows the tree: created sessions are tracked, closed and expired ones dropped, errors ignored', () => {
    const t = new SessionTracker(options);
    t.trackApplied({ type: 'createSession', sessionId: 3, timeoutMs: 4000 }, 100);
    t.trackApplied({ type: 'createSession', sessionId: 4, timeoutMs: 4000 }, 100);
    expect(t.expiryOf(3)).toBe(4100);
    t.trackApplied({ type: 'closeSession', sessionId: 3, deletedPaths: [] }, 200);
    t.trackApplied({ type: 'noop' }, 200);
    expect(t.has(3)).toBe(false);
    expect(t.size).toBe(1);
    expect(t.touch(3, 300)).toBe(false);
    t.load([{ sessionId: 9, timeoutMs: 2000 }], 1000);
    expect(t.has(4)).toBe(false);
    expect(t.expiryOf(9)).toBe(3000);
  });

  test('expiredSessions returns at most maxExpiredPerPoll ids per call', () => {
    const t = new SessionTracker({ ...options, maxExpiredPerPoll: 3 });
    for (let id = 1; id <= 7; id++) t.add(id, 2000, 0);
    expect(t.expiredSessions(5000)).toHaveLength(3);
    expect(t.expiredSessions(5000)).toHaveLength(3);
    expect(t.expiredSessions(5000)).toHaveLength(1);
  });
});
