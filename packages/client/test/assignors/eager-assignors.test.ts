// Range and RoundRobin give the assignments Kafka's RangeAssignorTest / RoundRobinAssignorTest
// expect (member order: static members by group.instance.id first, then member id), and the
// leader step refuses an assignment that breaks the rules.

import {
  AssignorError,
  type ConsumerPartitionAssignor,
  type MemberSubscription,
  assignPartitions,
  checkAssignment,
  compareMembers,
} from '../../src/consumer/assignors/partition-assignor.js';
import { RangeAssignor } from '../../src/consumer/assignors/range-assignor.js';
import { RoundRobinAssignor } from '../../src/consumer/assignors/round-robin-assignor.js';
import { member, runAssign, tp } from './assignor-helpers.js';

const range = new RangeAssignor();
const roundRobin = new RoundRobinAssignor();

describe('RangeAssignor', () => {
  test('is "range", EAGER only, without userData', () => {
    expect(range.name).toBe('range');
    expect(range.supportedProtocols()).toEqual(['EAGER']);
    expect(range.subscriptionUserData()).toBeNull();
  });

  test('one consumer, one topic: everything; an unknown topic: nothing', () => {
    expect(runAssign(range, { t: 3 }, new Map([['c1', member(['t'])]]))).toEqual(new Map([['c1', [tp('t', 0), tp('t', 1), tp('t', 2)]]]));
    expect(runAssign(range, {}, new Map([['c1', member(['nope'])]]))).toEqual(new Map([['c1', []]]));
  });

  test('two consumers, three partitions: the first gets the extra one', () => {
    const a = runAssign(range, { t: 3 }, new Map([['consumer2', member(['t'])], ['consumer1', member(['t'])]]));
    expect(a.get('consumer1')).toEqual([tp('t', 0), tp('t', 1)]);
    expect(a.get('consumer2')).toEqual([tp('t', 2)]);
  });

  test('two topics of three: ranges per topic, so the first member gets both extras', () => {
    const a = runAssign(range, { t1: 3, t2: 3 }, new Map([['c1', member(['t1', 't2'])], ['c2', member(['t1', 't2'])]]));
    expect(a.get('c1')).toEqual([tp('t1', 0), tp('t1', 1), tp('t2', 0), tp('t2', 1)]);
    expect(a.get('c2')).toEqual([tp('t1', 2), tp('t2', 2)]);
  });

  test('mixed subscriptions: each topic is split among its own subscribers', () => {
    const a = runAssign(range, { t1: 3, t2: 2 }, new Map([['c1', member(['t1'])], ['c2', member(['t1', 't2'])], ['c3', member(['t1'])]]));
    expect(a.get('c1')).toEqual([tp('t1', 0)]);
    expect(a.get('c2')).toEqual([tp('t1', 1), tp('t2', 0), tp('t2', 1)]);
    expect(a.get('c3')).toEqual([tp('t1', 2)]);
  });

  test('static members are ordered by group.instance.id, before dynamic members, whatever their member ids', () => {
    const subs = new Map([
      ['a-dynamic', member(['t'])],
      ['z-1', member(['t'], { instanceId: 'instance-1' })],
      ['b-2', member(['t'], { instanceId: 'instance-2' })],
    ]);
    const a = runAssign(range, { t: 3 }, subs);
    expect(a.get('z-1')).toEqual([tp('t', 0)]);
    expect(a.get('b-2')).toEqual([tp('t', 1)]);
    expect(a.get('a-dynamic')).toEqual([tp('t', 2)]);
  });
});

describe('RoundRobinAssignor', () => {
  test('is "roundrobin", EAGER only', () => {
    expect(roundRobin.name).toBe('roundrobin');
    expect(roundRobin.supportedProtocols()).toEqual(['EAGER']);
  });

  test('two topics of three, two consumers: dealt alternately over the sorted partitions', () => {
    const a = runAssign(roundRobin, { t1: 3, t2: 3 }, new Map([['c1', member(['t1', 't2'])], ['c2', member(['t1', 't2'])]]));
    expect(a.get('c1')).toEqual([tp('t1', 0), tp('t1', 2), tp('t2', 1)]);
    expect(a.get('c2')).toEqual([tp('t1', 1), tp('t2', 0), tp('t2', 2)]);
  });

  test('mixed subscriptions: a member that does not subscribe is skipped', () => {
    const a = runAssign(roundRobin, { topic1: 3, topic2: 2 }, new Map([
      ['consumer1', member(['topic1'])],
      ['consumer2', member(['topic1', 'topic2'])],
      ['consumer3', member(['topic1'])],
    ]));
    expect(a.get('consumer1')).toEqual([tp('topic1', 0)]);
    expect(a.get('consumer2')).toEqual([tp('topic1', 1), tp('topic2', 0), tp('topic2', 1)]);
    expect(a.get('consumer3')).toEqual([tp('topic1', 2)]);
  });

  test('static members first, by instance id', () => {
    const a = runAssign(roundRobin, { t: 4 }, new Map([
      ['m-a', member(['t'])],
      ['m-b', member(['t'], { instanceId: 'z' })],
      ['m-c', member(['t'], { instanceId: 'y' })],
    ]));
    expect(a.get('m-c')).toEqual([tp('t', 0), tp('t', 3)]);
    expect(a.get('m-b')).toEqual([tp('t', 1)]);
    expect(a.get('m-a')).toEqual([tp('t', 2)]);
  });
});

describe('member order and the leader step', () => {
  test('compareMembers: static by instance id, then dynamic by member id (UTF-16 order, as Java)', () => {
    const list = [
      { memberId: 'b', groupInstanceId: null },
      { memberId: 'x', groupInstanceId: 'B' },
      { memberId: 'a', groupInstanceId: null },
      { memberId: 'y', groupInstanceId: 'A' },
      { memberId: 'Z', groupInstanceId: null },
    ];
    expect(list.sort(compareMembers).map((m) => m.memberId)).toEqual(['y', 'x', 'Z', 'a', 'b']);
  });

  test('assignPartitions skips topics without metadata or partitions and gives every member an entry', () => {
    const seen: string[] = [];
    const spy: ConsumerPartitionAssignor = {
      name: 'spy',
      supportedProtocols: () => ['EAGER'],
      subscriptionUserData: () => null,
      onAssignment: () => {},
      assign: (ppt) => {
        seen.push(...[...ppt].map(([t, n]) => `${t}=${n}`));
        return new Map();
      },
    };
    const out = assignPartitions(spy, (t) => ({ a: 2, zero: 0 })[t], new Map([['m1', member(['a', 'zero', 'unknown'])], ['m2', member([])]]));
    expect(seen).toEqual(['a=2']);
    expect(out).toEqual(new Map([['m1', { partitions: [], userData: null }], ['m2', { partitions: [], userData: null }]]));
  });

  test('checkAssignment refuses duplicates, unknown partitions, unsubscribed topics and unknown members', () => {
    const subs = new Map<string, MemberSubscription>([['m1', member(['a'])], ['m2', member(['a', 'b'])]]);
    const ppt = new Map([['a', 2], ['b', 1]]);
    const bad: Array<Map<string, ReturnType<typeof tp>[]>> = [
      new Map([['m1', [tp('a', 0)]], ['m2', [tp('a', 0)]]]),
      new Map([['m1', [tp('a', 2)]]]),
      new Map([['m1', [tp('b', 0)]]]),
      new Map([['m3', [tp('a', 1)]]]),
    ];
    for (const a of bad) expect(() => checkAssignment(ppt, subs, a, 'x')).toThrow(AssignorError);
    expect(() => checkAssignment(ppt, subs, new Map([['m1', [tp('a', 0)]], ['m2', [tp('a', 1), tp('b', 0)]]]), 'x')).not.toThrow();
  });
});
