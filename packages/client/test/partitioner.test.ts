// The default partitioner (KIP-480): keyed records hash to a fixed partition whatever the
// leaders do; keyless records stick to one available partition until a new batch is started
// for it, then move to a different one.

import { DefaultPartitioner, type PartitionerView } from '../src/producer/partitioner.js';
import { partitionForKey } from '../src/producer/murmur2.js';
import { seededRandom } from './helpers/seeded-random.js';

function view(count: number, available: number[] = Array.from({ length: count }, (_, i) => i)): PartitionerView {
  return { partitionCount: () => count, availablePartitions: () => available };
}

describe('DefaultPartitioner', () => {
  test('a keyed record always goes to toPositive(murmur2(key)) % partitions, available or not', () => {
    const p = new DefaultPartitioner(seededRandom());
    for (const k of ['a', 'order-17', 'user:42', '']) {
      const key = Buffer.from(k);
      const expected = partitionForKey(key, 12);
      expect(p.partition('t', key, view(12))).toBe(expected);
      expect(p.partition('t', key, view(12, []))).toBe(expected); // no leaders: still the same partition
      p.onNewBatch('t', view(12), expected);
      expect(p.partition('t', key, view(12))).toBe(expected);
    }
  });

  test('keyless records stick to one partition until a new batch is started for it', () => {
    const p = new DefaultPartitioner(seededRandom());
    const v = view(6);
    const first = p.partition('t', null, v);
    for (let i = 0; i < 20; i++) expect(p.partition('t', null, v)).toBe(first);
    const next = p.onNewBatch('t', v, first);
    expect(next).not.toBe(first);
    for (let i = 0; i < 20; i++) expect(p.partition('t', null, v)).toBe(next);
  });

  test('a new batch on a partition that is no longer the sticky one does not move the sticky partition', () => {
    const p = new DefaultPartitioner(seededRandom());
    const v = view(6);
    const sticky = p.partition('t', null, v);
    const other = (sticky + 1) % 6;
    expect(p.onNewBatch('t', v, other)).toBe(sticky);
    expect(p.partition('t', null, v)).toBe(sticky);
  });

  test('sticky choices fall only on available partitions and spread over them', () => {
    const p = new DefaultPartitioner(seededRandom());
    const v = view(8, [1, 4, 6]);
    const seen = new Set<number>();
    let current = p.partition('t', null, v);
    for (let i = 0; i < 200; i++) {
      expect([1, 4, 6]).toContain(current);
      seen.add(current);
      const next = p.onNewBatch('t', v, current);
      expect(next).not.toBe(current);
      current = next;
    }
    expect([...seen].sort()).toEqual([1, 4, 6]);
  });

  test('with one available partition it stays there; with none it picks any partition', () => {
    const p = new DefaultPartitioner(seededRandom());
    const one = view(5, [3]);
    expect(p.partition('a', null, one)).toBe(3);
    expect(p.onNewBatch('a', one, 3)).toBe(3);
    const none = view(5, []);
    const q = p.partition('b', null, none);
    expect(q).toBeGreaterThanOrEqual(0);
    expect(q).toBeLessThan(5);
  });

  test('topics are independent and partitioner.ignore.keys makes keyed records sticky', () => {
    const p = new DefaultPartitioner(seededRandom(), true);
    const v = view(50);
    const a = p.partition('a', Buffer.from('k1'), v);
    expect(p.partition('a', Buffer.from('k2'), v)).toBe(a);
    expect(p.partition('a', null, v)).toBe(a);
    p.onNewBatch('b', v, p.partition('b', null, v));
    expect(p.partition('a', Buffer.from('k3'), v)).toBe(a);
  });

  test('a sticky partition beyond a shrunken partition count is replaced', () => {
    const p = new DefaultPartitioner(seededRandom());
    const big = view(10, [9]);
    const first = p.partition('t', null, big);
    expect(first).toBe(9);
    const small = view(3);
    const q = p.partition('t', null, small);
    expect(q).toBeLessThan(3);
  });
});
