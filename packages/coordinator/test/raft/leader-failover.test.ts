// How long a cluster is without a leader after its leader crashes, in ticks: with the followers
// told that their connection to the leader broke (peerConnectionLost, what a transport sees when
// a process dies) a new leader is elected within 1 + 2·rank ticks — the first survivor by id
// wins at its first tick, or, when its log is behind, the next one two ticks later — instead of
// after an election timeout (10–19 ticks here). Survivors never campaign in the same tick, so
// the vote is not split.

import { ScenarioCluster } from './scenario-cluster.js';

const ELECTION_TICKS = 10;

/**
 * Ticks (of the survivors, messages delivered at once) from the crash of `leader` until another
 * node leads. With `laggard`, that node missed the last committed entry, so it cannot win.
 */
function ticksWithoutLeader(size: number, leader: number, opts: { notify: boolean; laggard?: number; seed: number }): number {
  const ids = Array.from({ length: size }, (_, i) => i + 1);
  const survivors = ids.filter((id) => id !== leader);
  const cluster = new ScenarioCluster(size, { electionTicks: ELECTION_TICKS }, opts.seed);
  cluster.campaign(leader);
  cluster.stabilize();
  if (opts.laggard !== undefined) cluster.cut(leader, opts.laggard);
  expect(cluster.propose(leader, 'x')).toMatch(/^appended/);
  cluster.elapse(ids, 2);
  expect(cluster.node(leader).isLeader).toBe(true);
  cluster.heal();
  cluster.crash(leader);
  if (opts.notify) for (const id of survivors) cluster.connectionLost(id, leader);
  for (let t = 1; t <= 10 * ELECTION_TICKS; t++) {
    cluster.elapse(survivors, 1);
    const leaders = survivors.filter((id) => cluster.node(id).isLeader);
    if (leaders.length > 0) {
      expect(leaders).not.toContain(opts.laggard);
      return t;
    }
  }
  throw new Error(`no leader within ${10 * ELECTION_TICKS} ticks`);
}

describe('leader failover in ticks', () => {
  test.each([3, 5])('%i nodes: told of the broken connection, the first survivor by id leads after 1 tick', (size) => {
    for (let seed = 1; seed <= 20; seed++) {
      for (let leader = 1; leader <= size; leader++) {
        expect(ticksWithoutLeader(size, leader, { notify: true, seed })).toBe(1);
        expect(ticksWithoutLeader(size, leader, { notify: false, seed })).toBeGreaterThanOrEqual(ELECTION_TICKS);
      }
    }
  });

  test.each([3, 5])('%i nodes: when the first survivor cannot win (its log is behind), the second leads after 3 ticks', (size) => {
    for (let seed = 1; seed <= 20; seed++) {
      for (let leader = 1; leader <= size; leader++) {
        const first = leader === 1 ? 2 : 1;
        expect(ticksWithoutLeader(size, leader, { notify: true, laggard: first, seed })).toBe(3);
      }
    }
  });
});
