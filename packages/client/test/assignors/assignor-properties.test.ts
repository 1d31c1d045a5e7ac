// Properties of the assignors over random groups (seeded fast-check; a failure prints its seed and
// shrunk counterexample):
// - validity: only existing partitions of subscribed topics, each to one member at most;
// - coverage: every partition of a subscribed topic is assigned (for cooperative-sticky: once the
//   group has settled, at most two rebalances after a change);
// - balance: RoundRobin and the sticky assignors differ by at most one partition per member when
//   everyone subscribes to the same topics, Range per topic; the sticky assignors never leave a
//   member holding two more than a member that could take one of its partitions;
// - stickiness: cooperative-sticky never hands out a partition its owner still holds, moves the
//   fewest partitions possible when members join or leave a group with equal subscriptions, and
//   moves nothing when nothing changed;
// - members beyond the partition count get nothing.

import fc from 'fast-check';
import { CooperativeStickyAssignor } from '../../src/consumer/assignors/cooperative-sticky-assignor.js';
import { type ConsumerPartitionAssignor, cooperativeViolations, tpKeyOf } from '../../src/consumer/assignors/partition-assignor.js';
import { RangeAssignor } from '../../src/consumer/assignors/range-assignor.js';
import { RoundRobinAssignor } from '../../src/consumer/assignors/round-robin-assignor.js';
import { StickyAssignor, encodeStickyUserData } from '../../src/consumer/assignors/sticky-assignor.js';
import type { TopicPartition } from '../../src/protocol/wire-types.js';
import { TEST_SEED } from '../helpers/seeded-random.js';
import {
  type GroupMember,
  balanceViolations,
  expectFullCoverage,
  member,
  ownerMap,
  rebalanceOnce,
  runAssign,
} from './assignor-helpers.js';

const TOPICS = ['t0', 't1', 't2', 't3'];

interface Scenario {
  partitionCounts: number[];
  memberMasks: number[];
  uniform: boolean;
  changes: { add: number; remove: number; mask: number }[];
}

const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  partitionCounts: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 4 }),
  memberMasks: fc.array(fc.integer({ min: 0, max: 15 }), { minLength: 1, maxLength: 9 }),
  uniform: fc.boolean(),
  changes: fc.array(fc.record({ add: fc.integer({ min: 0, max: 3 }), remove: fc.integer({ min: 0, max: 3 }), mask: fc.integer({ min: 0, max: 15 }) }), {
    minLength: 1,
    maxLength: 3,
  }),
});

function partitionsPerTopicOf(s: Scenario): Record<string, number> {
  return Object.fromEntries(s.partitionCounts.map((n, i) => [TOPICS[i]!, n]));
}

function topicsOf(s: Scenario, mask: number): string[] {
  if (s.uniform) return TOPICS.slice(0, s.partitionCounts.length);
  const topics = TOPICS.filter((_, i) => i < s.partitionCounts.length && (mask & (1 << i)) !== 0);
  return topics.length > 0 ? topics : [TOPICS[0]!];
}

const sizes = (a: ReadonlyMap<string, readonly TopicPartition[]>): number[] => [...a.values()].map((l) => l.length);
const spread = (a: ReadonlyMap<string, readonly TopicPartition[]>): number => Math.max(...sizes(a)) - Math.min(...sizes(a));

function assignmentOf(members: ReadonlyMap<string, GroupMember>): Map<string, TopicPartition[]> {
  return new Map([...members].map(([id, m]) => [id, m.owned]));
}

/**
 * The fewest partitions that must change owner when a group with equal subscriptions goes from the
 * ownership in `before` to `memberIds`: members keep up to their quota, and the (P mod C) members
 * with the most partitions may keep maxQuota.
 */
function minimumMoves(totalPartitions: number, before: ReadonlyMap<string, number>, memberIds: readonly string[]): number {
  const c = memberIds.length;
  const minQuota = Math.floor(totalPartitions / c);
  const maxQuota = Math.ceil(totalPartitions / c);
  const withMax = totalPartitions % c;
  const owned = memberIds.map((id) => before.get(id) ?? 0).sort((a, b) => b - a);
  let kept = 0;
  owned.forEach((o, i) => {
    kept += Math.min(o, i < withMax ? maxQuota : minQuota);
  });
  let ownedBefore = 0;
  for (const n of before.values()) ownedBefore += n;
  return ownedBefore - kept;
}

/** Rebalances until the group settles (full coverage); returns how many rebalances it took. */
function settle(
  assignor: ConsumerPartitionAssignor,
  ppt: Record<string, number>,
  members: Map<string, GroupMember>,
  generation: { n: number },
  cooperative: boolean,
  userDataOf?: (owned: TopicPartition[], generation: number) => Uint8Array | null,
): number {
  for (let round = 1; round <= 3; round++) {
    const { subscriptions, assignment } = rebalanceOnce(assignor, ppt, members, generation.n++, userDataOf);
    if (cooperative) expect(cooperativeViolations(subscriptions, assignment)).toEqual([]);
    const assigned = [...assignment.values()].flat().length;
    const subscribed = new Set([...subscriptions.values()].flatMap((s) => s.topics));
    const expected = Object.entries(ppt).reduce((n, [t, c]) => n + (subscribed.has(t) ? c : 0), 0);
    if (assigned === expected) {
      expectFullCoverage(ppt, subscriptions, assignment);
      return round;
    }
  }
  throw new Error('the group did not settle within 3 rebalances');
}

describe.each([
  ['cooperative-sticky', () => new CooperativeStickyAssignor(), true],
  ['sticky', () => new StickyAssignor(), false],
])('%s over random groups', (_name, make, cooperative) => {
  const userDataOf = cooperative ? undefined : (owned: TopicPartition[], gen: number) => encodeStickyUserData(owned, gen);

  test('settles with full coverage and balance; cooperative rule every round; no moves without change; minimum moves on join/leave', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const assignor = make();
        const ppt = partitionsPerTopicOf(s);
        const totalPartitions = s.partitionCounts.reduce((a, b) => a + b, 0);
        const members = new Map<string, GroupMember>();
        let nextId = 0;
        const id = (): string => `member-${String(nextId++).padStart(3, '0')}`;
        for (const mask of s.memberMasks) members.set(id(), { topics: topicsOf(s, mask), owned: [] });
        const generation = { n: 1 };

        const rounds = settle(assignor, ppt, members, generation, cooperative, userDataOf);
        expect(rounds).toBe(1); // nobody owned anything: nothing to revoke first
        for (const change of s.changes) {
          // Nothing changes: nothing moves.
          const stable = new Map([...members].map(([k, m]) => [k, [...m.owned]]));
          settle(assignor, ppt, members, generation, cooperative, userDataOf);
          expect(assignmentOf(members)).toEqual(stable);

          // Members leave and join.
          const before = new Map([...members].map(([k, m]) => [k, m.owned.length]));
          const ownersBefore = ownerMap(members);
          const leaving = [...members.keys()].slice(0, Math.min(change.remove, members.size - 1));
          for (const k of leaving) members.delete(k);
          for (let i = 0; i < change.add; i++) members.set(id(), { topics: topicsOf(s, change.mask), owned: [] });
          const settleRounds = settle(assignor, ppt, members, generation, cooperative, userDataOf);
          expect(settleRounds).toBeLessThanOrEqual(cooperative ? 2 : 1);

          const final = assignmentOf(members);
          const subscriptions = new Map([...members].map(([k, m]) => [k, member(m.topics)]));
          expect(balanceViolations(subscriptions, final)).toEqual([]);
          if (s.uniform) {
            expect(spread(final)).toBeLessThanOrEqual(1);
            const ownersAfter = ownerMap(members);
            let moved = 0;
            for (const [key, owner] of ownersBefore) if (ownersAfter.get(key) !== owner) moved++;
            expect(moved).toBe(minimumMoves(totalPartitions, before, [...members.keys()]));
          }
        }
      }),
      { seed: TEST_SEED, numRuns: 150 },
    );
  });
});

describe.each([
  ['range', () => new RangeAssignor()],
  ['roundrobin', () => new RoundRobinAssignor()],
])('%s over random groups', (name, make) => {
  test('every partition of a subscribed topic exactly once, to a subscriber; balanced as Kafka guarantees', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const ppt = partitionsPerTopicOf(s);
        const subscriptions = new Map(s.memberMasks.map((mask, i) => [`m${i}`, member(topicsOf(s, mask))]));
        const a = runAssign(make(), ppt, subscriptions); // runAssign checks validity
        expectFullCoverage(ppt, subscriptions, a);
        if (name === 'range') {
          for (const topic of Object.keys(ppt)) {
            const subscribers = [...subscriptions].filter(([, sub]) => sub.topics.includes(topic)).map(([m]) => m);
            const counts = subscribers.map((m) => a.get(m)!.filter((x) => x.topic === topic).length);
            if (counts.length > 0) expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
          }
        } else if (s.uniform) {
          expect(spread(a)).toBeLessThanOrEqual(1);
        }
        // The same input gives the same assignment.
        expect(runAssign(make(), ppt, subscriptions)).toEqual(a);
      }),
      { seed: TEST_SEED, numRuns: 300 },
    );
  });
});

describe('members beyond the partition count get nothing', () => {
  test.each([
    ['range', () => new RangeAssignor()],
    ['roundrobin', () => new RoundRobinAssignor()],
    ['sticky', () => new StickyAssignor()],
    ['cooperative-sticky', () => new CooperativeStickyAssignor()],
  ])('%s: 10 members, 4 partitions → 4 members with one each, 6 idle', (_name, make) => {
    const subs = new Map(Array.from({ length: 10 }, (_, i) => [`c${i}`, member(['t'])]));
    const a = runAssign(make(), { t: 4 }, subs);
    expect(sizes(a).sort()).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 1, 1]);
    expect(new Set([...a.values()].flat().map(tpKeyOf)).size).toBe(4);
  });
});

describe('the issue 5 benchmark scenario', () => {
  test('a 10th consumer joins 9 on 30 partitions: only 3 partitions change owner, the other 27 never stop', () => {
    const assignor = new CooperativeStickyAssignor();
    const members = new Map<string, GroupMember>(Array.from({ length: 9 }, (_, i) => [`c${i}`, { topics: ['t'], owned: [] }]));
    const generation = { n: 1 };
    settle(assignor, { t: 30 }, members, generation, true);
    const before = ownerMap(members);
    members.set('c9', { topics: ['t'], owned: [] });
    // First rebalance: nobody gains a partition someone else still owns; 27 stay where they are.
    const first = rebalanceOnce(assignor, { t: 30 }, members, generation.n++);
    expect(cooperativeViolations(first.subscriptions, first.assignment)).toEqual([]);
    const kept = [...ownerMap(members)].filter(([k, owner]) => before.get(k) === owner).length;
    expect(kept).toBe(27);
    settle(assignor, { t: 30 }, members, generation, true);
    expect(sizes(assignmentOf(members))).toEqual(Array(10).fill(3));
    const moved = [...ownerMap(members)].filter(([k, owner]) => before.get(k) !== owner).length;
    expect(moved).toBe(3);
  });
});
