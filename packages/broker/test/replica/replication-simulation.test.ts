// Deterministic simulation of one partition on 3 brokers (sim/replication-sim.ts): the real
// PartitionReplica core over a network that loses, duplicates, delays and reorders messages,
// with process kills, power losses that drop unflushed records, restarts, leadership moves,
// ISR compare-and-sets racing the controller, and acks=all producers. After every tick no
// acknowledged record is lost from a later leader or moved, every replica agrees with every
// other below its high watermark, a leader's high watermark never goes down, and no two
// brokers lead one epoch; after healing, every replica is back in the ISR with the same log.
//
// A failure prints its seed and the command that reruns it alone, with a trace:
//   SAMSA_SIM_SEED=123 NODE_OPTIONS="--experimental-vm-modules --disable-warning=ExperimentalWarning" npx jest packages/broker/test/replica/replication-simulation
// More seeds (a soak run): SAMSA_SIM_SEEDS=20000. Hunting with a deliberate bug:
//   SAMSA_SIM_MUTATION=no-fetch-fencing SAMSA_SIM_SEEDS=3000 … prints the first seed that fails.

import { InvariantViolation, Oracle } from './sim/sim-invariants.js';
import { ReplicationSimulation, type SimMutation, type SimResult, SimulationFailure } from './sim/replication-sim.js';

const CHAOS_TICKS = 1_500;
// The slowest of 12,000 seeds healed in 620 ticks (a follower catching up a long backlog).
const HEAL_TICKS = 2_000;

const onlySeed = process.env.SAMSA_SIM_SEED === undefined ? undefined : Number(process.env.SAMSA_SIM_SEED);
const onlyMutation = process.env.SAMSA_SIM_MUTATION as SimMutation | undefined;
// 1,000 seeds take about 10 s on the 2-core CI machine; 12,000 passed when this was written.
const seedCount = Number(process.env.SAMSA_SIM_SEEDS ?? 0) || 1_000;

function simulate(seed: number, mutation: SimMutation = 'none', trace = false): SimResult {
  return new ReplicationSimulation({ seed, chaosTicks: CHAOS_TICKS, healTicks: HEAL_TICKS, mutation, trace }).run();
}

/** The first seed in [1, limit] whose run fails, with its failure. */
function firstFailure(mutation: SimMutation, limit: number): SimulationFailure | null {
  for (let seed = 1; seed <= limit; seed++) {
    try {
      simulate(seed, mutation);
    } catch (e) {
      if (e instanceof SimulationFailure) return e;
      throw e;
    }
  }
  return null;
}

if (onlySeed !== undefined) {
  describe(`replication simulation, seed ${onlySeed} only`, () => {
    test('run', () => {
      const result = simulate(onlySeed, onlyMutation ?? 'none', true);
      console.log(JSON.stringify(result));
    });
  });
} else if (onlyMutation !== undefined) {
  describe(`hunting with the mutation ${onlyMutation}`, () => {
    test(`some seed in 1..${seedCount} fails`, () => {
      const failure = firstFailure(onlyMutation, seedCount);
      console.log(failure === null ? 'no seed failed' : failure.message.split('\n')[0]);
      expect(failure).not.toBeNull();
    }, 600_000);
  });
} else {
  describe('replication simulation', () => {
    test(`${seedCount} seeds keep every invariant and heal`, () => {
      const totals = { acked: 0, committed: 0, leaderElections: 0, crashes: 0, lossyCrashes: 0, truncations: 0, isrShrinks: 0, isrExpansions: 0, rejectedIsrChanges: 0 };
      for (let seed = 1; seed <= seedCount; seed++) {
        const r = simulate(seed);
        totals.acked += r.acked;
        totals.committed += r.committed;
        totals.leaderElections += r.leaderElections;
        totals.crashes += r.crashes;
        totals.lossyCrashes += r.lossyCrashes;
        totals.truncations += r.truncations;
        totals.isrShrinks += r.isrShrinks;
        totals.isrExpansions += r.isrExpansions;
        totals.rejectedIsrChanges += r.rejectedIsrChanges;
      }
      // The runs must exercise what they claim to.
      // (500 seeds: 238,000 acknowledged records, 6,800 elections, 8,700 crashes of which 2,900
      // power losses, 3,200 truncations, 6,400 ISR shrinks, 10,300 expansions, 670 rejected writes.)
      expect(totals.acked).toBeGreaterThan(seedCount * 200);
      expect(totals.leaderElections).toBeGreaterThan(seedCount * 6);
      expect(totals.crashes).toBeGreaterThan(seedCount * 8);
      expect(totals.lossyCrashes).toBeGreaterThan(seedCount * 2);
      expect(totals.truncations).toBeGreaterThan(seedCount * 3);
      expect(totals.isrShrinks).toBeGreaterThan(seedCount * 6);
      expect(totals.isrExpansions).toBeGreaterThan(seedCount * 10);
      expect(totals.rejectedIsrChanges).toBeGreaterThan(seedCount / 2);
    }, 120_000);

    test('a seed reproduces its run exactly', () => {
      expect(simulate(42)).toEqual(simulate(42));
    });

    test('a failing run names its seed and how to rerun it', () => {
      const sim = new ReplicationSimulation({ seed: 7, chaosTicks: 100, healTicks: 0 });
      let failure: unknown;
      try {
        sim.run();
      } catch (e) {
        failure = e;
      }
      expect(failure).toBeInstanceOf(SimulationFailure);
      const message = (failure as SimulationFailure).message;
      expect(message).toContain('seed=7');
      expect(message).toContain('Liveness violated');
      expect(message).toContain('SAMSA_SIM_SEED=7 ');
    });
  });

  describe('the simulation catches classic replication bugs', () => {
    // Each bug is played by the simulation's adapter side. Bugs in the core itself (an ISR member
    // left out of the HW, no maximal ISR, a shrink applied before it is written, no check of the
    // epoch start on expansion, acks one offset early, a rejected write applied) were tried by
    // editing partition-replica.ts: each failed within the first 1,300 seeds (see README.md).
    test.each<[SimMutation, RegExp]>([
      ['truncate-to-high-watermark', /AcknowledgedRecordsSurvive|CommittedPrefixAgreement|HighWatermarkBackedByIsr/],
      ['skip-truncation', /CommittedPrefixAgreement|AcknowledgedRecordsSurvive|HighWatermarkBackedByIsr|follower append/],
    ])('%s fails within the first 60 seeds', (mutation, expected) => {
      const failure = firstFailure(mutation, 60);
      expect(failure).not.toBeNull();
      expect(failure!.message).toMatch(expected);
    });

    // The seeds below were found by hunting (see the header); if the simulation changes, hunt again.
    test('no-fetch-fencing: a fetch from an earlier epoch of a re-elected leader moves its HW past a follower', () => {
      expect(() => simulate(1249, 'no-fetch-fencing')).toThrow(/HighWatermarkBackedByIsr|CommittedPrefixAgreement|AcknowledgedRecordsSurvive/);
      expect(() => simulate(1249)).not.toThrow();
    });

    test('no-epoch-bump-for-non-isr-failure: a fetch from before a power loss adds the broker to the ISR without its records (KIP-903)', () => {
      expect(() => simulate(8151, 'no-epoch-bump-for-non-isr-failure')).toThrow(/CommittedPrefixAgreement|AcknowledgedRecordsSurvive|HighWatermarkBackedByIsr/);
      expect(() => simulate(8151)).not.toThrow();
    });
  });

  describe('simulation invariant checks', () => {
    test('OneLeaderPerEpoch: a second leader in an epoch is a violation', () => {
      const oracle = new Oracle();
      oracle.observeLeader(1, 3);
      oracle.observeLeader(1, 3);
      expect(() => oracle.observeLeader(2, 3)).toThrow(InvariantViolation);
    });

    test('AcknowledgedRecordsSurvive, CommittedPrefixAgreement, LeaderHighWatermarkMonotonic, HighWatermarkBackedByIsr catch what they name', () => {
      const log = (values: string[]) => ({ logEndOffset: values.length, valueAt: (o: number) => values[o] });
      const oracle = new Oracle();
      oracle.recordAck({ offset: 1, value: 'b', ackEpoch: 2, ackedBy: 1, tick: 0 });
      oracle.checkLeaderHoldsAcked(2, 3, log(['a', 'b']), 'test');
      expect(() => oracle.checkLeaderHoldsAcked(2, 3, log(['a', 'x']), 'test')).toThrow(/AcknowledgedRecordsSurvive/);
      oracle.checkLeaderHoldsAcked(2, 2, log(['a']), 'test'); // the acking epoch itself: not a later leader
      oracle.observeHighWatermark(1, 2, true, log(['a', 'b']));
      expect(() => oracle.observeHighWatermark(2, 2, false, log(['a', 'c']))).toThrow(/CommittedPrefixAgreement/);
      expect(() => oracle.observeHighWatermark(1, 1, true, log(['a', 'b']))).toThrow(/LeaderHighWatermarkMonotonic/);
      oracle.checkHighWatermarkBacked(1, 0, 2, log(['a', 'b']), [{ id: 2, log: log(['a', 'b', 'c']) }]);
      expect(() => oracle.checkHighWatermarkBacked(1, 0, 2, log(['a', 'b']), [{ id: 2, log: log(['a']) }])).toThrow(/HighWatermarkBackedByIsr/);
    });
  });
}
