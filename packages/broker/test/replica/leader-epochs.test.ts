// Leader-epoch arithmetic: OffsetForLeaderEpoch answers agree with @samsa/log's cache, the
// follower's truncation decisions follow Kafka's rules (KIP-101 scenarios, KIP-279's unknown
// epoch, the -1 cases), and a property: whatever two histories a follower and a leader went
// through, the follower ends its truncation exactly where the two logs stop agreeing.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { type EpochEntry, LeaderEpochFileCache, UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET } from '@samsa/log';
import { ReplicaError } from '../../src/replica/errors.js';
import { checkEpochEntries, endOffsetForEpoch, fetchDivergence, latestEpochOf, truncationDecision } from '../../src/replica/leader-epochs.js';

const SEED = Number(process.env.SAMSA_TEST_SEED ?? 20_261_201);

const entries = (...pairs: [number, number][]): EpochEntry[] => pairs.map(([epoch, startOffset]) => ({ epoch, startOffset }));

/** Epoch-cache entries of a log given as the epoch of each offset (plus an optional epoch started at the end). */
function cacheOf(epochsByOffset: readonly number[], startedAtEnd?: number): EpochEntry[] {
  const out: EpochEntry[] = [];
  epochsByOffset.forEach((epoch, offset) => {
    if (out.length === 0 || out[out.length - 1]!.epoch !== epoch) out.push({ epoch, startOffset: offset });
  });
  if (startedAtEnd !== undefined) out.push({ epoch: startedAtEnd, startOffset: epochsByOffset.length });
  return out;
}

/** LeaderEpochFileCache.truncateFromEnd on plain entries. */
function truncateFromEnd(cache: readonly EpochEntry[], endOffset: number): EpochEntry[] {
  return cache.filter((e) => e.startOffset < endOffset);
}

/**
 * Runs the follower's truncation protocol to its end: ask for the latest local epoch, truncate
 * as decided (and trim the cache at the new end, as Kafka does even when nothing is cut), repeat
 * while the decision is incomplete. Returns the final log end offset and the rounds taken.
 */
function runTruncation(
  follower: { log: number[]; cache: EpochEntry[]; hw: number },
  leader: { log: readonly number[]; cache: readonly EpochEntry[] },
): { logEndOffset: number; rounds: number } {
  let rounds = 0;
  for (;;) {
    rounds++;
    if (rounds > 50) throw new Error('truncation does not terminate');
    const requested = latestEpochOf(follower.cache);
    const [leaderEpoch, leaderEndOffset] = endOffsetForEpoch(leader.cache, requested, leader.log.length);
    const d = truncationDecision({
      localEntries: follower.cache,
      localLogEndOffset: follower.log.length,
      localHighWatermark: follower.hw,
      leaderEpoch,
      leaderEndOffset,
    });
    follower.log.length = Math.min(follower.log.length, d.offset);
    follower.cache = truncateFromEnd(follower.cache, follower.log.length);
    if (d.complete) return { logEndOffset: follower.log.length, rounds };
  }
}

describe('endOffsetForEpoch (OffsetForLeaderEpoch on the leader)', () => {
  test('answers like Kafka: latest epoch ends at the log end, others where the next starts', () => {
    const cache = entries([1, 0], [3, 100], [6, 250]);
    expect(endOffsetForEpoch(cache, 6, 300)).toEqual([6, 300]);
    expect(endOffsetForEpoch(cache, 3, 300)).toEqual([3, 250]);
    expect(endOffsetForEpoch(cache, 4, 300)).toEqual([3, 250]); // unknown: the largest epoch below
    expect(endOffsetForEpoch(cache, 0, 300)).toEqual([0, 0]); // older than all: itself, first start
    expect(endOffsetForEpoch(cache, 7, 300)).toEqual([UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET]);
    expect(endOffsetForEpoch(cache, UNDEFINED_EPOCH, 300)).toEqual([UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET]);
    expect(endOffsetForEpoch([], 2, 300)).toEqual([UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET]);
  });

  test('agrees with @samsa/log LeaderEpochFileCache.endOffsetFor on random caches', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-replica-epochs-'));
    try {
      fc.assert(
        fc.property(
          fc.uniqueArray(fc.integer({ min: 0, max: 40 }), { maxLength: 8 }),
          fc.uniqueArray(fc.integer({ min: 0, max: 1000 }), { maxLength: 8 }),
          fc.integer({ min: -1, max: 45 }),
          fc.integer({ min: 0, max: 200 }),
          (epochs, offsets, requested, extra) => {
            const n = Math.min(epochs.length, offsets.length);
            const es = epochs.slice(0, n).sort((a, b) => a - b);
            const os_ = offsets.slice(0, n).sort((a, b) => a - b);
            const plain = es.map((epoch, i) => ({ epoch, startOffset: os_[i]! }));
            fs.rmSync(path.join(dir, 'leader-epoch-checkpoint'), { force: true });
            const cache = LeaderEpochFileCache.open(dir);
            for (const e of plain) cache.assign(e.epoch, e.startOffset);
            expect(cache.epochEntries()).toEqual(plain);
            const leo = (plain[plain.length - 1]?.startOffset ?? 0) + extra;
            expect(endOffsetForEpoch(plain, requested, leo)).toEqual([...cache.endOffsetFor(requested, leo)]);
          },
        ),
        { seed: SEED, numRuns: 300 },
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('checkEpochEntries refuses entries that do not both increase', () => {
    expect(() => checkEpochEntries(entries([1, 0], [2, 5]))).not.toThrow();
    expect(() => checkEpochEntries(entries([1, 5], [2, 5]))).toThrow(ReplicaError);
    expect(() => checkEpochEntries(entries([2, 0], [1, 5]))).toThrow(/do not both increase/);
    expect(() => checkEpochEntries(entries([-1, 0]))).toThrow(/out of range/);
  });
});

describe('truncationDecision (the follower after OffsetForLeaderEpoch)', () => {
  test('KIP-101 "follower with extra uncommitted entries": cut where the shared epoch ends on the leader', () => {
    // Leader A of epoch 0 wrote 0..11 and follower B copied them all; C (in the ISR) had 0..9
    // and the HW was 8 when A died. C leads epoch 1 from offset 10 and appends. B still holds
    // 10 and 11 of epoch 0, which C never had: they must go, and only they.
    const d = truncationDecision({
      localEntries: entries([0, 0]),
      localLogEndOffset: 12,
      localHighWatermark: 8,
      leaderEpoch: 0,
      leaderEndOffset: 10, // epoch 0 ends at 10 on C: epoch 1 starts there
    });
    expect(d).toEqual({ offset: 10, complete: true, rule: 'matching-epoch' });
  });

  test('KIP-101 scenario 1: a follower whose high watermark lags keeps what the leader acknowledged', () => {
    // Follower B has m1, m2 (offsets 0, 1), HW 1 (it had not heard the leader's HW 2 yet). It
    // restarts. Truncating to its HW would drop m2, which the leader A acknowledged; if A then
    // dies and B leads, m2 is lost. By epoch, B keeps both.
    const d = truncationDecision({ localEntries: entries([0, 0]), localLogEndOffset: 2, localHighWatermark: 1, leaderEpoch: 0, leaderEndOffset: 2 });
    expect(d.offset).toBe(2);
    expect(d.complete).toBe(true);
  });

  test('KIP-101 scenario 2 "leader epoch divergence after unclean shutdown": the replicas diverge at offset 1', () => {
    // A and B both crash; A had m1, m2 in epoch 0 (offsets 0, 1), B only m1. B restarts first,
    // leads in epoch 1 and writes m3 at offset 1. A comes back holding m2 at offset 1.
    const a = { log: [0, 0], cache: entries([0, 0]), hw: 2 };
    const b = { log: [0, 1], cache: entries([0, 0], [1, 1]) };
    expect(runTruncation(a, b)).toEqual({ logEndOffset: 1, rounds: 1 });
  });

  test('KIP-279: the leader does not know our latest epoch and answers an older one; we ask again until the epochs match', () => {
    // Follower epochs 0@0, 2@5, 4@8, LEO 12; leader epochs 0@0, 1@5, 3@7, 5@9, LEO 14.
    const follower = { log: [0, 0, 0, 0, 0, 2, 2, 2, 4, 4, 4, 4], cache: entries([0, 0], [2, 5], [4, 8]), hw: 3 };
    const leader = { log: [0, 0, 0, 0, 0, 1, 1, 3, 3, 5, 5, 5, 5, 5], cache: entries([0, 0], [1, 5], [3, 7], [5, 9]) };
    // First round by hand: asked 4, the leader answers (3, 9); epoch 3 is unknown here, so cut
    // where our largest epoch <= 3 (epoch 2) ends: 8, and ask again.
    expect(endOffsetForEpoch(leader.cache, 4, 14)).toEqual([3, 9]);
    expect(truncationDecision({ localEntries: follower.cache, localLogEndOffset: 12, localHighWatermark: 3, leaderEpoch: 3, leaderEndOffset: 9 })).toEqual({
      offset: 8,
      complete: false,
      rule: 'leader-epoch-unknown-locally',
    });
    expect(runTruncation(follower, leader)).toEqual({ logEndOffset: 5, rounds: 3 });
  });

  test('an epoch entry without records left by a brief leadership must be trimmed, or the question repeats', () => {
    // This replica led epoch 5 at offset 10 without writing, then follows a leader of epoch 6
    // that never saw epoch 5 (it had epoch 4 from 8).
    const leader = { log: [3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4], cache: entries([3, 0], [4, 8], [6, 12]) };
    const follower = { log: [3, 3, 3, 3, 3, 3, 3, 3, 3, 3], cache: entries([3, 0], [5, 10]), hw: 6 };
    const first = truncationDecision({ localEntries: follower.cache, localLogEndOffset: 10, localHighWatermark: 6, leaderEpoch: 4, leaderEndOffset: 12 });
    expect(first).toEqual({ offset: 10, complete: false, rule: 'leader-epoch-unknown-locally' }); // nothing to cut but the entry
    expect(runTruncation(follower, leader)).toEqual({ logEndOffset: 8, rounds: 2 });
  });

  test('the -1 answers: unknown end offset keeps the log (with epochs) or cuts to the HW (without); no epoch cuts to the offset', () => {
    const base = { localLogEndOffset: 20, localHighWatermark: 12 };
    expect(truncationDecision({ ...base, localEntries: entries([2, 0]), leaderEpoch: UNDEFINED_EPOCH, leaderEndOffset: UNDEFINED_EPOCH_OFFSET })).toEqual({
      offset: 20,
      complete: true,
      rule: 'leader-unknown-offset',
    });
    expect(truncationDecision({ ...base, localEntries: [], leaderEpoch: 4, leaderEndOffset: UNDEFINED_EPOCH_OFFSET }).offset).toBe(12);
    expect(truncationDecision({ ...base, localEntries: entries([2, 0]), leaderEpoch: UNDEFINED_EPOCH, leaderEndOffset: 15 })).toEqual({
      offset: 15,
      complete: true,
      rule: 'leader-undefined-epoch',
    });
    expect(truncationDecision({ ...base, localEntries: entries([2, 0]), leaderEpoch: UNDEFINED_EPOCH, leaderEndOffset: 25 }).offset).toBe(20);
  });

  test('a leader epoch older than every local entry: cut to the smaller of where the local log starts and the leader end', () => {
    // This log starts at 5 (retention) in epoch 3; the leader's answer is epoch 2 ending at 6.
    const d = truncationDecision({ localEntries: entries([3, 5], [4, 8]), localLogEndOffset: 10, localHighWatermark: 9, leaderEpoch: 2, leaderEndOffset: 6 });
    expect(d).toEqual({ offset: 5, complete: true, rule: 'matching-epoch' });
    const none = truncationDecision({ localEntries: [], localLogEndOffset: 0, localHighWatermark: 0, leaderEpoch: 2, leaderEndOffset: 6 });
    expect(none).toEqual({ offset: 0, complete: true, rule: 'leader-epoch-below-local-cache' });
  });

  test('never cuts above the local log end, and refuses garbage answers', () => {
    const d = truncationDecision({ localEntries: entries([1, 0]), localLogEndOffset: 7, localHighWatermark: 7, leaderEpoch: 1, leaderEndOffset: 100 });
    expect(d.offset).toBe(7);
    expect(() => truncationDecision({ localEntries: [], localLogEndOffset: 7, localHighWatermark: 7, leaderEpoch: -5, leaderEndOffset: 3 })).toThrow(ReplicaError);
    expect(() => truncationDecision({ localEntries: [], localLogEndOffset: 7, localHighWatermark: 7, leaderEpoch: 1, leaderEndOffset: 1.5 })).toThrow(/OffsetForLeaderEpoch answer/);
  });

  test('property: after the protocol the follower log is exactly the longest prefix it shares with the leader', () => {
    // Realistic histories: a shared prefix, then each side's own suffix. Each epoch's records
    // come from one leader, so the suffixes use disjoint epochs, except that one side may
    // continue the prefix's last epoch (the old leader's uncommitted tail). The current leader
    // holds the highest epoch, possibly started at its log end without records.
    const history = fc.record({
      prefix: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 12 }),
      followerSuffix: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 8 }),
      leaderSuffix: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 8 }),
      continuer: fc.constantFrom('none', 'follower', 'leader'),
      parity: fc.boolean(),
      emptyCurrentEpoch: fc.boolean(),
    });
    fc.assert(
      fc.property(history, (h) => {
        const prefix: number[] = [];
        let e = 0;
        for (const step of h.prefix) prefix.push((e += step));
        const lastE = prefix.length > 0 ? prefix[prefix.length - 1]! : -1;
        // Epochs above lastE alternate between the sides (disjoint); `parity` decides who gets odd ones.
        const suffix = (steps: number[], odd: boolean, continues: boolean): number[] => {
          const out: number[] = [];
          let cur = lastE + 1;
          if (cur % 2 !== (odd ? 1 : 0)) cur++;
          steps.forEach((step, i) => {
            if (i === 0 && continues && lastE >= 0) {
              out.push(lastE);
              return;
            }
            if (out.length > 0 && out[out.length - 1] === cur && step >= 2) cur += 2; // a new epoch of this side
            out.push(cur);
          });
          return out;
        };
        const fSuffix = suffix(h.followerSuffix, h.parity, h.continuer === 'follower');
        const lSuffix = suffix(h.leaderSuffix, !h.parity, h.continuer === 'leader');
        const followerLog = [...prefix, ...fSuffix];
        const leaderLog = [...prefix, ...lSuffix];
        const leaderCurrent = Math.max(-1, ...followerLog, ...leaderLog) + 1;
        if (!h.emptyCurrentEpoch) leaderLog.push(leaderCurrent); // it wrote in its epoch already
        const leaderCache = cacheOf(leaderLog, h.emptyCurrentEpoch ? leaderCurrent : undefined);
        const follower = { log: followerLog.slice(), cache: cacheOf(followerLog), hw: 0 };
        if (follower.cache.length === 0) return; // nothing to truncate: the core cuts to the HW without asking
        let common = 0;
        while (common < followerLog.length && common < leaderLog.length && followerLog[common] === leaderLog[common]) common++;
        const { logEndOffset, rounds } = runTruncation(follower, { log: leaderLog, cache: leaderCache });
        expect(logEndOffset).toBe(common);
        expect(rounds).toBeLessThanOrEqual(cacheOf(followerLog).length + 1);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });
});

describe('fetchDivergence (the leader checks lastFetchedEpoch)', () => {
  const leader = entries([1, 0], [3, 10], [5, 20]);
  test('consistent when the epoch is known and reaches the fetch offset', () => {
    expect(fetchDivergence(leader, 25, 5, 22)).toEqual({ kind: 'consistent' });
    expect(fetchDivergence(leader, 25, 3, 10)).toEqual({ kind: 'consistent' });
    expect(fetchDivergence(leader, 25, 3, 20)).toEqual({ kind: 'consistent' }); // epoch 3 ends at 20 here too
    expect(fetchDivergence(leader, 25, UNDEFINED_EPOCH, 3)).toEqual({ kind: 'consistent' });
  });
  test('diverging when the epoch ends earlier here or is unknown here', () => {
    expect(fetchDivergence(leader, 25, 1, 12)).toEqual({ kind: 'diverging', epoch: 1, endOffset: 10 });
    expect(fetchDivergence(leader, 25, 4, 15)).toEqual({ kind: 'diverging', epoch: 3, endOffset: 20 });
    expect(fetchDivergence(leader, 25, 7, 15)).toEqual({ kind: 'unknown-epoch' });
  });
});
