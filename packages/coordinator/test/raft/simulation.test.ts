// Deterministic simulation of 3- and 5-node Raft clusters (simulator.ts): over a network that
// loses, duplicates, delays and reorders messages and partitions nodes, with crashes that lose
// unpersisted state (and that their peers are told of, as a transport sees a reset — plus such
// notices at random with the peer alive), paused processes, drifting clocks, compaction and leadership transfers,
// every invariant of sim-invariants.ts holds after every event, and once the faults stop a
// leader commits a new proposal and every node applies it within a bound.
//
// A failure prints its seed and the command that reruns it alone, with a trace:
//   SAMSA_SIM_SEED=123 SAMSA_SIM_NODES=5 NODE_OPTIONS="--experimental-vm-modules --disable-warning=ExperimentalWarning" npx jest packages/coordinator/test/raft/simulation
// More seeds (a soak run): SAMSA_SIM_SEEDS=20000 (per cluster size).

import { InvariantViolation, Oracle } from './sim-invariants.js';
import { Simulation, SimulationFailure, type SimulationResult } from './simulator.js';

const CHAOS_TICKS = 300;
// Measured over 5,000 seeds: commit ≤ 250 ticks after healing, catch-up ≤ 250 (the slow cases
// replicate a backlog of hundreds of entries one per message with 1–2 messages in flight).
const COMMIT_TICKS = 500;
const CATCH_UP_TICKS = 1000;

const onlySeed = process.env.SAMSA_SIM_SEED === undefined ? undefined : Number(process.env.SAMSA_SIM_SEED);
const onlyNodes = process.env.SAMSA_SIM_NODES === undefined ? undefined : Number(process.env.SAMSA_SIM_NODES);
const seedsPerSize = Number(process.env.SAMSA_SIM_SEEDS ?? 0);

function simulate(seed: number, nodes: number, trace = false): SimulationResult {
  return new Simulation({ seed, nodes, chaosTicks: CHAOS_TICKS, commitTicks: COMMIT_TICKS, catchUpTicks: CATCH_UP_TICKS, trace }).run();
}

interface Totals {
  runs: number;
  committed: number;
  elections: number;
  snapshotsSent: number;
  crashes: number;
  reads: number;
  leaderLostNotices: number;
  spuriousLeaderLostNotices: number;
  maxCommitTicks: number;
  /** Runs that committed at least 10 entries under faults (not stalled by the fault mix). */
  productive: number;
}

function runSeeds(nodes: number, count: number): Totals {
  const totals: Totals = { runs: 0, committed: 0, elections: 0, snapshotsSent: 0, crashes: 0, reads: 0, leaderLostNotices: 0, spuriousLeaderLostNotices: 0, maxCommitTicks: 0, productive: 0 };
  for (let seed = 1; seed <= count; seed++) {
    const r = simulate(seed, nodes);
    totals.runs++;
    totals.committed += r.committed;
    totals.elections += r.leaders;
    totals.snapshotsSent += r.snapshotsSent;
    totals.crashes += r.crashes;
    totals.reads += r.reads;
    totals.leaderLostNotices += r.leaderLostNotices;
    totals.spuriousLeaderLostNotices += r.spuriousLeaderLostNotices;
    totals.maxCommitTicks = Math.max(totals.maxCommitTicks, r.commitTicks);
    if (r.committed >= 10) totals.productive++;
  }
  return totals;
}

if (onlySeed !== undefined) {
  describe(`raft simulation, seed ${onlySeed} only`, () => {
    test.each(onlyNodes !== undefined ? [onlyNodes] : [3, 5])('%i nodes', (nodes) => {
      const result = simulate(onlySeed, nodes, true);
      console.log(JSON.stringify(result));
    });
  });
} else {
  describe('raft simulation', () => {
    // 1,000 + 1,000 seeds take about 15 s on the 2-core CI machine.
    test.each([
      [3, seedsPerSize || 1000],
      [5, seedsPerSize || 1000],
    ])('%i nodes: %i seeds keep every invariant and recover after healing', (nodes, count) => {
      const totals = runSeeds(nodes, count);
      // The runs must actually exercise what they claim to: elections under faults, commits,
      // snapshots sent to lagging followers, crashes and restarts, reads, connection-lost notices.
      expect(totals.runs).toBe(count);
      expect(totals.productive).toBeGreaterThan(count * 0.9);
      expect(totals.elections).toBeGreaterThan(count * 2);
      expect(totals.committed).toBeGreaterThan(count * 20);
      expect(totals.snapshotsSent).toBeGreaterThan(count / 2);
      expect(totals.crashes).toBeGreaterThan(count / 2);
      expect(totals.reads).toBeGreaterThan(count * 5);
      // Crashed leaders' followers are told (about 3–7 per seed), and some notices are spurious.
      expect(totals.leaderLostNotices).toBeGreaterThan(count * 2);
      expect(totals.spuriousLeaderLostNotices).toBeGreaterThan(count / 10);
    }, 300_000);

    test('a seed reproduces its run exactly', () => {
      expect(simulate(42, 5)).toEqual(simulate(42, 5));
    });

    test('a failing run names its seed and how to rerun it', () => {
      // A liveness bound of 0 ticks cannot be met: the run must fail, and say how to repeat it.
      const sim = new Simulation({ seed: 7, nodes: 3, chaosTicks: 50, commitTicks: 0, catchUpTicks: 0 });
      let failure: unknown;
      try {
        sim.run();
      } catch (e) {
        failure = e;
      }
      expect(failure).toBeInstanceOf(SimulationFailure);
      const message = (failure as SimulationFailure).message;
      expect(message).toContain('seed=7 nodes=3');
      expect(message).toContain('Liveness violated');
      expect(message).toContain('SAMSA_SIM_SEED=7 SAMSA_SIM_NODES=3');
    });
  });

  describe('simulation invariant checks', () => {
    test('ElectionSafety: a second leader in a term is a violation', () => {
      const oracle = new Oracle();
      oracle.observeLeader(3, 1);
      oracle.observeLeader(3, 1);
      expect(() => oracle.observeLeader(3, 2)).toThrow(InvariantViolation);
      expect(() => oracle.observeLeader(3, 2)).toThrow(/ElectionSafety/);
    });

    test('LogMatching: one (index, term) with two contents, or two predecessors, is a violation', () => {
      const oracle = new Oracle();
      const entry = (index: number, term: number, value: string) => ({ index, term, type: 'normal' as const, data: new TextEncoder().encode(value) });
      oracle.observeLogEntry(1, entry(5, 2, 'a'), 2);
      oracle.observeLogEntry(2, entry(5, 2, 'a'), 2);
      expect(() => oracle.observeLogEntry(3, entry(5, 2, 'b'), 2)).toThrow(/LogMatching/);
      expect(() => oracle.observeLogEntry(3, entry(5, 2, 'a'), 1)).toThrow(/LogMatching/);
    });

    test('CommittedEntriesNeverChange and StateMachineSafety catch diverging nodes', () => {
      const oracle = new Oracle();
      const entry = (index: number, term: number, value: string) => ({ index, term, type: 'normal' as const, data: new TextEncoder().encode(value) });
      oracle.observeCommitted(1, 1, 1, 'a', 1);
      expect(() => oracle.observeCommitted(2, 1, 2, 'b', 2)).toThrow(/CommittedEntriesNeverChange/);
      const hash = oracle.observeApplied(1, entry(1, 1, 'a'), 0, 0);
      expect(() => oracle.observeApplied(2, entry(1, 1, 'x'), 0, 0)).toThrow(/StateMachineSafety/);
      expect(() => oracle.observeApplied(1, entry(3, 1, 'c'), 1, hash)).toThrow(/StateMachineSafety/);
    });
  });
}
