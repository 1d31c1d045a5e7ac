// CooperativeStickyAssignor and StickyAssignor on the cases of Kafka's sticky assignor tests: the
// assignments they expect, the cooperative two-phase rule (a moving partition is withheld for one
// rebalance, then assigned), claims from an older generation or claimed twice, and the userData
// formats.

import {
  CooperativeStickyAssignor,
  decodeCooperativeStickyUserData,
  encodeCooperativeStickyUserData,
} from '../../src/consumer/assignors/cooperative-sticky-assignor.js';
import { cooperativeViolations, type MemberSubscription } from '../../src/consumer/assignors/partition-assignor.js';
import { DEFAULT_GENERATION } from '../../src/consumer/assignors/sticky-assignment.js';
import { StickyAssignor, decodeStickyUserData, encodeStickyUserData } from '../../src/consumer/assignors/sticky-assignor.js';
import { member, runAssign, sorted, tp } from './assignor-helpers.js';

const coop = new CooperativeStickyAssignor();

describe('CooperativeStickyAssignor', () => {
  test('is "cooperative-sticky", COOPERATIVE first, and sends its generation as userData', () => {
    const a = new CooperativeStickyAssignor();
    expect(a.name).toBe('cooperative-sticky');
    expect(a.supportedProtocols()).toEqual(['COOPERATIVE', 'EAGER']);
    expect(decodeCooperativeStickyUserData(a.subscriptionUserData())).toBe(DEFAULT_GENERATION);
    a.onAssignment({ partitions: [], userData: null }, 7);
    expect(Buffer.from(a.subscriptionUserData()!).toString('hex')).toBe('00000007');
  });

  test('userData generation: absent is null, unreadable is DEFAULT_GENERATION (Kafka)', () => {
    expect(decodeCooperativeStickyUserData(null)).toBeNull();
    expect(decodeCooperativeStickyUserData(new Uint8Array([1]))).toBe(DEFAULT_GENERATION);
    expect(decodeCooperativeStickyUserData(encodeCooperativeStickyUserData(-5))).toBe(-5);
  });

  test('the generation comes from the subscription (v2+), else from userData', () => {
    expect(coop.memberData(member(['t'], { owned: [tp('t', 0)], generation: 4 }))).toEqual({ partitions: [tp('t', 0)], generation: 4 });
    expect(coop.memberData(member(['t'], { userData: encodeCooperativeStickyUserData(3) }))).toEqual({ partitions: [], generation: 3 });
    expect(coop.memberData(member(['t']))).toEqual({ partitions: [], generation: null });
  });

  test('fresh group, two topics of three, same subscriptions: filled round-robin over sorted partitions', () => {
    const a = runAssign(coop, { topic1: 3, topic2: 3 }, new Map([['consumer1', member(['topic1', 'topic2'])], ['consumer2', member(['topic1', 'topic2'])]]));
    expect(a.get('consumer1')).toEqual([tp('topic1', 0), tp('topic1', 2), tp('topic2', 1)]);
    expect(a.get('consumer2')).toEqual([tp('topic1', 1), tp('topic2', 0), tp('topic2', 2)]);
  });

  test('mixed subscriptions (general algorithm): the topic only one member wants stays with it', () => {
    const a = runAssign(coop, { topic1: 3, topic2: 2 }, new Map([
      ['consumer1', member(['topic1'])],
      ['consumer2', member(['topic1', 'topic2'])],
      ['consumer3', member(['topic1'])],
    ]));
    expect(a.get('consumer1')).toEqual([tp('topic1', 0), tp('topic1', 2)]);
    expect(a.get('consumer2')).toEqual([tp('topic2', 0), tp('topic2', 1)]);
    expect(a.get('consumer3')).toEqual([tp('topic1', 1)]);
  });

  test('a joining member gets a moving partition only in the next rebalance, after its owner revoked it', () => {
    const t = 'topic';
    // consumer1 owns everything; consumer2 joins.
    let subs = new Map([['consumer1', member([t], { owned: [tp(t, 0), tp(t, 1), tp(t, 2)], generation: 1 })], ['consumer2', member([t], { generation: -1 })]]);
    let a = runAssign(coop, { [t]: 3 }, subs);
    expect(a.get('consumer1')).toEqual([tp(t, 0), tp(t, 1)]);
    expect(a.get('consumer2')).toEqual([]); // topic-2 is withheld while consumer1 still owns it
    expect(cooperativeViolations(subs, a)).toEqual([]);
    // consumer1 revoked topic-2 and rejoins; now nobody owns it.
    subs = new Map([['consumer1', member([t], { owned: [tp(t, 0), tp(t, 1)], generation: 2 })], ['consumer2', member([t], { owned: [], generation: 2 })]]);
    a = runAssign(coop, { [t]: 3 }, subs);
    expect(a.get('consumer1')).toEqual([tp(t, 0), tp(t, 1)]);
    expect(a.get('consumer2')).toEqual([tp(t, 2)]);
  });

  test("a leaving member's partitions go to the others at once (nobody has to revoke them)", () => {
    const subs = new Map([['consumer1', member(['t'], { owned: [tp('t', 0), tp('t', 1)], generation: 3 })]]);
    expect(runAssign(coop, { t: 3 }, subs).get('consumer1')).toEqual([tp('t', 0), tp('t', 1), tp('t', 2)]);
  });

  test('a partition claimed by two members of the same generation is owned by neither and withheld this round', () => {
    const subs = new Map([
      ['c1', member(['t'], { owned: [tp('t', 0), tp('t', 1)], generation: 5 })],
      ['c2', member(['t'], { owned: [tp('t', 1), tp('t', 2)], generation: 5 })],
      ['c3', member(['t'], { owned: [], generation: 5 })],
    ]);
    const a = runAssign(coop, { t: 3 }, subs);
    expect(a.get('c1')).toEqual([tp('t', 0)]);
    expect(a.get('c2')).toEqual([tp('t', 2)]);
    expect(a.get('c3')).toEqual([]);
  });

  test('claims from an older generation do not count', () => {
    const subs = new Map([
      ['c1', member(['t'], { owned: [tp('t', 0)], generation: 3 })],
      ['c2', member(['t'], { owned: [tp('t', 0), tp('t', 1)], generation: 2 })],
    ]);
    const a = runAssign(coop, { t: 2 }, subs);
    expect(a.get('c1')).toEqual([tp('t', 0)]);
    expect(a.get('c2')).toEqual([tp('t', 1)]);
  });

  test('claims on topics nobody subscribes to any more, or on partitions that do not exist, are dropped', () => {
    const subs = new Map([['c1', member(['a'], { owned: [tp('gone', 0), tp('a', 9), tp('a', 0)], generation: 1 })]]);
    expect(runAssign(coop, { a: 2 }, subs).get('c1')).toEqual([tp('a', 0), tp('a', 1)]);
  });

  test('a member that changes its subscription gives up what it no longer wants (general algorithm)', () => {
    const subs = new Map<string, MemberSubscription>([
      ['c1', member(['a'], { owned: [tp('a', 0), tp('b', 0)], generation: 2 })],
      ['c2', member(['a', 'b'], { owned: [tp('a', 1)], generation: 2 })],
    ]);
    const a = runAssign(coop, { a: 2, b: 1 }, subs);
    expect(a.get('c1')).toEqual([tp('a', 0)]);
    expect(a.get('c2')).toEqual([tp('a', 1)]); // b-0 withheld: c1 still owns it
    expect(cooperativeViolations(subs, a)).toEqual([]);
  });

  test('with a member subscribed to nothing, nothing is assigned to it', () => {
    const a = runAssign(coop, { t: 2 }, new Map([['a-empty', member([])], ['b', member(['t'])]]));
    expect(a.get('a-empty')).toEqual([]);
    expect(sorted(a.get('b')!)).toEqual([tp('t', 0), tp('t', 1)]);
  });
});

describe('StickyAssignor (eager)', () => {
  test('userData V1 round-trips; V0 (no generation) and garbage are understood as Kafka does', () => {
    const enc = encodeStickyUserData([tp('a', 1), tp('b', 0), tp('a', 3)], 6);
    expect(decodeStickyUserData(enc)).toEqual({ partitions: [tp('a', 1), tp('a', 3), tp('b', 0)], generation: 6 });
    expect(decodeStickyUserData(enc.subarray(0, enc.length - 4))).toEqual({ partitions: [tp('a', 1), tp('a', 3), tp('b', 0)], generation: null });
    expect(decodeStickyUserData(new Uint8Array([0, 0, 0, 9, 1]))).toEqual({ partitions: [], generation: null });
    expect(decodeStickyUserData(null)).toEqual({ partitions: [], generation: null });
  });

  test('remembers its assignment and hands it to the leader in its next subscription', () => {
    const a = new StickyAssignor();
    expect(a.subscriptionUserData()).toBeNull();
    a.onAssignment({ partitions: [tp('t', 2)], userData: null }, 4);
    expect(decodeStickyUserData(a.subscriptionUserData())).toEqual({ partitions: [tp('t', 2)], generation: 4 });
  });

  test('keeps previous owners (from userData) and moves only what balance needs, in one rebalance', () => {
    const subs = new Map([
      ['c1', member(['t'], { userData: encodeStickyUserData([tp('t', 0), tp('t', 1), tp('t', 2)], 1) })],
      ['c2', member(['t'])],
    ]);
    const a = runAssign(new StickyAssignor(), { t: 3 }, subs);
    expect(a.get('c1')).toEqual([tp('t', 0), tp('t', 1)]);
    expect(a.get('c2')).toEqual([tp('t', 2)]); // eager: given at once
  });
});
