// The Burrow-style lag evaluator as its rules read: one scenario per partition status, the two false
// alarms it must not raise, the group status as the worst of its partitions, its bounds, its typed
// errors, and a seeded property test over random commit/LEO histories.

import fc from 'fast-check';
import {
  BurrowEvaluator,
  LagEvaluatorError,
  type PartitionLagEvaluation,
  type PartitionLagStatus,
} from '../../src/lag/burrow-evaluator.js';

const WINDOW = 300_000;
const SEC = 1_000;

/** A small script: time moves forward only through `at`, and every call uses the current time. */
class Scenario {
  readonly lag = new BurrowEvaluator({ windowMs: WINDOW });
  now = 1_000_000;
  at(ms: number): this {
    this.now = ms;
    return this;
  }
  after(ms: number): this {
    this.now += ms;
    return this;
  }
  produced(leo: number, topic = 't', partition = 0): this {
    this.lag.recordLogEndOffset(topic, partition, leo, this.now);
    return this;
  }
  committed(offset: number, group = 'g', topic = 't', partition = 0): this {
    this.lag.recordCommit(group, topic, partition, offset, this.now);
    return this;
  }
  partition(group = 'g', topic = 't', partition = 0): PartitionLagEvaluation {
    const p = this.lag.evaluate(group, this.now).partitions.find((x) => x.topic === topic && x.partition === partition);
    if (p === undefined) throw new Error(`no ${topic}-${partition} in ${group}`);
    return p;
  }
  status(group = 'g', topic = 't', partition = 0): PartitionLagStatus {
    return this.partition(group, topic, partition).status;
  }
}

describe('partition statuses', () => {
  test('a lag unknown at commit time is not "caught up": commits that arrive before any log end offset is known, then stall, are STALL once the LEO is known', () => {
    const s = new Scenario();
    s.committed(40).after(5 * SEC).committed(40).after(5 * SEC).produced(100);
    expect(s.partition()).toMatchObject({ lag: 60, status: 'STALL' });
  });

  test('a stale log end offset below the committed offset is not taken for "caught up" either: a consumer falling behind is WARN', () => {
    const s = new Scenario();
    s.produced(100).after(SEC).committed(150); // the LEO sample is older than this commit
    s.after(5 * SEC).produced(300).committed(200).after(5 * SEC).produced(500).committed(250).after(SEC).produced(700);
    expect(s.partition()).toMatchObject({ lag: 450, status: 'WARN' });
  });

  test('OK: a consumer that commits what was produced, every 5 s, is OK with lag 0', () => {
    const s = new Scenario();
    for (let i = 1; i <= 20; i++) s.after(5 * SEC).produced(i * 100).committed(i * 100);
    expect(s.partition()).toEqual({
      topic: 't',
      partition: 0,
      committedOffset: 2000,
      logEndOffset: 2000,
      lag: 0,
      status: 'OK',
      commitTimestampMs: s.now,
    });
  });

  test('OK: a consumer behind but catching up (lag shrinking at each commit) is OK', () => {
    const s = new Scenario().produced(10_000);
    for (let i = 1; i <= 10; i++) s.after(5 * SEC).produced(10_000 + i * 10).committed(i * 900);
    expect(s.partition().lag).toBe(10_100 - 9_000);
    expect(s.status()).toBe('OK');
  });

  test('OK: a consumer keeping pace with a steady producer at a constant lag is OK (Burrow would warn)', () => {
    const s = new Scenario();
    for (let i = 1; i <= 20; i++) s.after(5 * SEC).produced(i * 100 + 50).committed(i * 100);
    expect(s.partition().lag).toBe(50);
    expect(s.status()).toBe('OK');
  });

  test('WARN: a consumer that commits advancing offsets while its lag grows at every commit is falling behind', () => {
    const s = new Scenario();
    for (let i = 1; i <= 10; i++) s.after(5 * SEC).produced(i * 200).committed(i * 100);
    expect(s.partition().lag).toBe(1000);
    expect(s.status()).toBe('WARN');
  });

  test('WARN turns OK once the lag goes down at one point in the window', () => {
    const s = new Scenario();
    for (let i = 1; i <= 10; i++) s.after(5 * SEC).produced(i * 200).committed(i * 100);
    s.after(5 * SEC).committed(1900);
    expect(s.status()).toBe('OK');
  });

  test('STALL: a consumer that keeps committing the same offset while records wait is stalled', () => {
    const s = new Scenario().produced(500);
    for (let i = 0; i < 6; i++) s.after(5 * SEC).committed(100);
    expect(s.partition()).toMatchObject({ committedOffset: 100, logEndOffset: 500, lag: 400, status: 'STALL' });
  });

  test('STOP: a consumer with lag that has not committed for longer than the window is stopped', () => {
    const s = new Scenario().produced(500);
    s.after(5 * SEC).committed(100).after(5 * SEC).committed(200);
    s.after(WINDOW);
    expect(s.status()).toBe('OK'); // silent for exactly the window: not yet
    s.after(1);
    expect(s.status()).toBe('STOP');
  });

  test('REWIND: a committed offset that goes backwards is a rewind while it is in the window', () => {
    const s = new Scenario().produced(1_000);
    s.after(5 * SEC).committed(800).after(5 * SEC).committed(900).after(5 * SEC).committed(300);
    expect(s.partition()).toMatchObject({ committedOffset: 300, lag: 700, status: 'REWIND' });
    // The consumer moves on from 300; the rewind stays visible for one window, then ages out.
    for (let o = 400; o <= 900; o += 100) s.after(5 * SEC).committed(o);
    expect(s.status()).toBe('REWIND');
    s.after(WINDOW - 35 * SEC).committed(950);
    expect(s.status()).toBe('REWIND');
    s.after(10 * SEC).committed(960);
    expect(s.status()).not.toBe('REWIND');
  });

  test('a rewind from a caught-up position is flagged (Burrow calls it OK because the window saw lag 0)', () => {
    const s = new Scenario().produced(1_000);
    s.after(5 * SEC).committed(1_000).after(5 * SEC).committed(0);
    expect(s.status()).toBe('REWIND');
  });

  test('a rewind that is caught up again is OK: being caught up now wins', () => {
    const s = new Scenario().produced(1_000);
    s.after(5 * SEC).committed(900).after(5 * SEC).committed(0).after(5 * SEC).committed(1_000);
    expect(s.status()).toBe('OK');
  });
});

describe('false alarms it does not raise', () => {
  test('an idle topic with a caught-up consumer that stopped committing long ago is OK, not STOP', () => {
    const s = new Scenario().produced(100);
    s.after(5 * SEC).committed(100);
    s.after(10 * WINDOW);
    expect(s.partition()).toMatchObject({ lag: 0, status: 'OK' });
  });

  test('an idle topic with a caught-up consumer that keeps committing the same offset is OK, not STALL', () => {
    const s = new Scenario().produced(100);
    for (let i = 0; i < 20; i++) s.after(5 * SEC).committed(100);
    expect(s.status()).toBe('OK');
  });

  test('records arriving on an idle topic whose consumer was quiet are not a STOP until the window has passed since they arrived', () => {
    const s = new Scenario().produced(100);
    s.after(5 * SEC).committed(100);
    s.after(2 * WINDOW).produced(101);
    expect(s.partition()).toMatchObject({ lag: 1, status: 'OK' });
    s.after(WINDOW / 2);
    expect(s.status()).toBe('OK');
    s.after(WINDOW / 2 + 1);
    expect(s.status()).toBe('STOP');
  });

  test('nor a STALL when the repeated commits were made while caught up', () => {
    const s = new Scenario().produced(100);
    for (let i = 0; i < 10; i++) s.after(5 * SEC).committed(100);
    s.after(1 * SEC).produced(150);
    expect(s.partition()).toMatchObject({ lag: 50, status: 'OK' });
  });

  test('lag comes from the current log end offset: a consumer that stopped while producers continue shows growing lag, then STOP after the window', () => {
    const s = new Scenario();
    for (let i = 1; i <= 10; i++) s.after(5 * SEC).produced(i * 100).committed(i * 100);
    // The consumer dies caught up; the producer keeps writing 100 records every 5 s, so the lag
    // starts 5 s later and the partition is STOP once it has been behind, silent, for the window.
    let leo = 1_000;
    const lags: number[] = [];
    for (let t = 5 * SEC; t <= WINDOW + 15 * SEC; t += 5 * SEC) {
      leo += 100;
      s.after(5 * SEC).produced(leo);
      lags.push(s.partition().lag);
      expect([t, s.status()]).toEqual([t, t - 5 * SEC <= WINDOW ? 'OK' : 'STOP']);
    }
    expect(lags[0]).toBe(100);
    expect(lags.at(-1)).toBe(leo - 1_000);
    expect(s.partition().committedOffset).toBe(1_000);
  });
});

describe('group status', () => {
  test('the group is the worst of its partitions: OK, then WARN, then ERR for STOP, STALL or REWIND', () => {
    const s = new Scenario();
    // p0 healthy, p1 falling behind.
    for (let i = 1; i <= 10; i++) {
      s.after(5 * SEC).produced(i * 100, 't', 0).committed(i * 100, 'g', 't', 0);
      s.produced(i * 200, 't', 1).committed(i * 100, 'g', 't', 1);
    }
    let r = s.lag.evaluate('g', s.now);
    expect(r.partitions.map((p) => [p.partition, p.status])).toEqual([
      [0, 'OK'],
      [1, 'WARN'],
    ]);
    expect(r).toMatchObject({ status: 'WARN', maxLag: 1000, totalLag: 1000 });

    // A third partition on another topic rewinds: the group is ERR.
    s.produced(50, 'u', 0).committed(40, 'g', 'u', 0).after(1).committed(10, 'g', 'u', 0);
    r = s.lag.evaluate('g', s.now);
    expect(r.status).toBe('ERR');
    expect(r.partitions.map((p) => `${p.topic}-${p.partition}:${p.status}`)).toEqual(['t-0:OK', 't-1:WARN', 'u-0:REWIND']);
    expect(r.totalLag).toBe(1000 + 40);
  });

  test.each([
    ['STALL', (s: Scenario) => s.produced(9, 't', 3).committed(1, 'g', 't', 3).after(5 * SEC).committed(1, 'g', 't', 3)],
    ['STOP', (s: Scenario) => s.produced(9, 't', 3).committed(1, 'g', 't', 3).after(WINDOW + 1)],
  ])('one %s partition among OK ones makes the group ERR', (status, spoil) => {
    const s = new Scenario().produced(5).committed(5);
    spoil(s);
    s.produced(5).committed(5);
    const r = s.lag.evaluate('g', s.now);
    expect(r.partitions.map((p) => p.status)).toEqual(['OK', status]);
    expect(r.status).toBe('ERR');
  });

  test('an unknown group evaluates to OK with no partitions; groups() lists only groups that committed', () => {
    const s = new Scenario().produced(5).committed(5, 'b').committed(5, 'a');
    expect(s.lag.evaluate('nobody', s.now)).toEqual({ status: 'OK', maxLag: 0, totalLag: 0, partitions: [] });
    expect(s.lag.groups()).toEqual(['a', 'b']);
  });

  test('a partition with a commit but no known log end offset reports LEO -1, lag 0, OK', () => {
    const s = new Scenario().committed(7);
    expect(s.partition()).toMatchObject({ committedOffset: 7, logEndOffset: -1, lag: 0, status: 'OK' });
  });

  test('a commit above the known log end offset (a stale LEO) has lag 0, never negative', () => {
    const s = new Scenario().produced(10).committed(25);
    expect(s.partition()).toMatchObject({ lag: 0, status: 'OK' });
  });

  test('forgetPartition and forgetGroup drop what they name and nothing else', () => {
    const s = new Scenario().produced(5).committed(5, 'a').committed(5, 'a', 't', 1).committed(5, 'b');
    s.lag.forgetPartition('a', 't', 1);
    expect(s.lag.evaluate('a', s.now).partitions.map((p) => p.partition)).toEqual([0]);
    s.lag.forgetGroup('a');
    expect(s.lag.groups()).toEqual(['b']);
    expect(s.lag.stats().trackedGroupPartitions).toBe(1);
    s.lag.forgetPartition('b', 't', 0);
    expect(s.lag.groups()).toEqual([]);
    expect(s.lag.stats().trackedGroupPartitions).toBe(0);
  });
});

describe('bounds', () => {
  test('a group committing every 10 ms keeps at most maxSamplesPerPartition + 1 samples, and still sees a STALL', () => {
    const lag = new BurrowEvaluator({ windowMs: 10_000, maxSamplesPerPartition: 10 });
    lag.recordLogEndOffset('t', 0, 1_000, 0);
    for (let t = 1; t <= 30_000; t += 10) lag.recordCommit('g', 't', 0, 7, t);
    const internal = (lag as unknown as { commits: Map<string, Map<string, { samples: unknown[] }>> }).commits;
    const samples = [...internal.get('g')!.values()][0]!.samples;
    expect(samples.length).toBeLessThanOrEqual(11);
    expect(samples.length).toBeGreaterThanOrEqual(9);
    expect(lag.evaluate('g', 30_000).partitions[0]!.status).toBe('STALL');
  });

  test('the LEO history of a partition written every millisecond stays bounded and still times a STOP', () => {
    const lag = new BurrowEvaluator({ windowMs: 10_000, maxSamplesPerPartition: 10 });
    lag.recordLogEndOffset('t', 0, 0, 0);
    lag.recordCommit('g', 't', 0, 0, 0);
    for (let t = 1; t <= 25_000; t++) lag.recordLogEndOffset('t', 0, t, t);
    const history = (lag as unknown as { logEndOffsets: Map<string, unknown[]> }).logEndOffsets.get('t\u00000')!;
    expect(history.length).toBeLessThanOrEqual(11);
    expect(lag.evaluate('g', 25_000).partitions[0]).toMatchObject({ lag: 25_000, status: 'STOP' });
  });

  test('past maxPartitions, commits and LEOs for new partitions are refused and counted; tracked ones keep working; forgetting frees room', () => {
    const lag = new BurrowEvaluator({ maxPartitions: 2 });
    lag.recordCommit('g', 't', 0, 1, 0);
    lag.recordCommit('h', 't', 0, 1, 0);
    lag.recordCommit('g', 't', 1, 1, 0);
    lag.recordLogEndOffset('t', 0, 5, 0);
    lag.recordLogEndOffset('t', 1, 5, 0);
    lag.recordLogEndOffset('t', 2, 5, 0);
    lag.recordCommit('g', 't', 0, 2, 1);
    expect(lag.stats()).toEqual({ trackedGroupPartitions: 2, trackedLogEndOffsets: 2, refusedCommits: 1, refusedLogEndOffsets: 1 });
    expect(lag.evaluate('g', 1).partitions.map((p) => [p.partition, p.committedOffset, p.lag])).toEqual([[0, 2, 3]]);
    lag.forgetGroup('h');
    lag.recordCommit('g', 't', 1, 1, 2);
    expect(lag.evaluate('g', 2).partitions.map((p) => p.partition)).toEqual([0, 1]);
  });
});

describe('bad input', () => {
  function code(f: () => unknown): string {
    try {
      f();
    } catch (e) {
      if (e instanceof LagEvaluatorError) return e.code;
      throw e;
    }
    return 'none';
  }

  test('bad offsets, partitions, ids and times get typed errors with stable codes and change nothing', () => {
    const lag = new BurrowEvaluator();
    lag.recordLogEndOffset('t', 0, 10, 100);
    lag.recordCommit('g', 't', 0, 5, 100);
    const before = JSON.stringify(lag.evaluate('g', 100));
    expect(code(() => lag.recordCommit('g', 't', 0, -1, 100))).toBe('INVALID_OFFSET');
    expect(code(() => lag.recordCommit('g', 't', 0, 1.5, 100))).toBe('INVALID_OFFSET');
    expect(code(() => lag.recordCommit('g', 't', 0, Number.NaN, 100))).toBe('INVALID_OFFSET');
    expect(code(() => lag.recordLogEndOffset('t', 0, 2 ** 53, 100))).toBe('INVALID_OFFSET');
    expect(code(() => lag.recordCommit('g', 't', -1, 5, 100))).toBe('INVALID_ARGUMENT');
    expect(code(() => lag.recordCommit('g', 't', 0.5, 5, 100))).toBe('INVALID_ARGUMENT');
    expect(code(() => lag.recordCommit('', 't', 0, 5, 100))).toBe('INVALID_ARGUMENT');
    expect(code(() => lag.recordLogEndOffset('', 0, 5, 100))).toBe('INVALID_ARGUMENT');
    expect(code(() => lag.recordCommit('g', 't', 0, 5, 99))).toBe('TIME_WENT_BACKWARDS');
    expect(code(() => lag.recordLogEndOffset('t', 0, 50, 99))).toBe('TIME_WENT_BACKWARDS');
    expect(code(() => lag.evaluate('g', 99))).toBe('TIME_WENT_BACKWARDS');
    expect(code(() => lag.evaluate('g', 1.5))).toBe('INVALID_TIME');
    expect(code(() => lag.evaluate('g', -1))).toBe('INVALID_TIME');
    expect(JSON.stringify(lag.evaluate('g', 100))).toBe(before);
  });

  test('bad configs are refused with INVALID_CONFIG', () => {
    expect(code(() => new BurrowEvaluator({ windowMs: 0 }))).toBe('INVALID_CONFIG');
    expect(code(() => new BurrowEvaluator({ windowMs: 1.5e3 + 0.5 }))).toBe('INVALID_CONFIG');
    expect(code(() => new BurrowEvaluator({ maxSamplesPerPartition: 1 }))).toBe('INVALID_CONFIG');
    expect(code(() => new BurrowEvaluator({ maxPartitions: 0 }))).toBe('INVALID_CONFIG');
  });
});

describe('properties (seeded)', () => {
  type Step = { kind: 'commit' | 'leo' | 'eval'; partition: number; value: number; dtMs: number };
  const step = fc.record({
    kind: fc.constantFrom<'commit' | 'leo' | 'eval'>('commit', 'leo', 'eval'),
    partition: fc.integer({ min: 0, max: 2 }),
    value: fc.integer({ min: 0, max: 10_000 }),
    dtMs: fc.integer({ min: 0, max: 120_000 }),
  });

  test('over random histories: lag is never negative, lag 0 means OK, lag = max(0, LEO - committed), REWIND exactly when behind after a backwards commit in the window, never STOP within a window of a commit, group status is the worst partition, bounds hold', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 200 }), (steps: Step[]) => {
        const lag = new BurrowEvaluator({ windowMs: 60_000, maxSamplesPerPartition: 5 });
        const committed = new Map<number, number>();
        const committedAt = new Map<number, number>();
        const lastRewindAt = new Map<number, number>();
        const leo = new Map<number, number>();
        let now = 0;
        for (const s of steps) {
          now += s.dtMs;
          if (s.kind === 'commit') {
            lag.recordCommit('g', 't', s.partition, s.value, now);
            if (committed.has(s.partition) && s.value < committed.get(s.partition)!) lastRewindAt.set(s.partition, now);
            committed.set(s.partition, s.value);
            committedAt.set(s.partition, now);
          } else if (s.kind === 'leo') {
            lag.recordLogEndOffset('t', s.partition, s.value, now);
            leo.set(s.partition, s.value);
          }
          const r = lag.evaluate('g', now);
          expect(r.partitions.map((p) => p.partition)).toEqual([...committed.keys()].sort());
          let worst = 'OK';
          for (const p of r.partitions) {
            expect(p.lag).toBeGreaterThanOrEqual(0);
            expect(p.committedOffset).toBe(committed.get(p.partition));
            expect(p.logEndOffset).toBe(leo.get(p.partition) ?? -1);
            expect(p.lag).toBe(leo.has(p.partition) ? Math.max(0, leo.get(p.partition)! - p.committedOffset) : 0);
            if (p.lag === 0) expect(p.status).toBe('OK');
            // REWIND exactly when behind and a commit went backwards within the window.
            const rewound = p.lag > 0 && now - (lastRewindAt.get(p.partition) ?? -Infinity) < 60_000;
            expect([p.partition, p.status === 'REWIND']).toEqual([p.partition, rewound]);
            // Never STOP while the last commit is within the window.
            if (p.status === 'STOP') expect(now - committedAt.get(p.partition)!).toBeGreaterThan(60_000);
            expect(p.commitTimestampMs).toBe(committedAt.get(p.partition));
            if (p.status === 'WARN' && worst === 'OK') worst = 'WARN';
            if (p.status === 'STALL' || p.status === 'STOP' || p.status === 'REWIND') worst = 'ERR';
          }
          expect(r.status).toBe(worst);
          expect(r.maxLag).toBe(Math.max(0, ...r.partitions.map((p) => p.lag)));
          expect(r.totalLag).toBe(r.partitions.reduce((a, p) => a + p.lag, 0));
        }
        const internal = lag as unknown as { commits: Map<string, Map<string, { samples: unknown[] }>>; logEndOffsets: Map<string, unknown[]> };
        for (const t of internal.commits.get('g')?.values() ?? []) expect(t.samples.length).toBeLessThanOrEqual(6);
        for (const h of internal.logEndOffsets.values()) expect(h.length).toBeLessThanOrEqual(6);
      }),
      { seed: 0x5a45a, numRuns: 300 },
    );
  });

  test('a consumer that commits every record produced, whatever the timing, is always OK', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 1, max: 200_000 })), { minLength: 1, maxLength: 100 }), (batches) => {
        const lag = new BurrowEvaluator();
        let now = 0;
        let leo = 0;
        for (const [records, dtMs] of batches) {
          now += dtMs;
          leo += records;
          lag.recordLogEndOffset('t', 0, leo, now);
          lag.recordCommit('g', 't', 0, leo, now);
          expect(lag.evaluate('g', now).status).toBe('OK');
        }
      }),
      { seed: 42, numRuns: 200 },
    );
  });
});
