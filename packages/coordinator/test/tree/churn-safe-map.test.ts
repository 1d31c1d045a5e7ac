import fc from 'fast-check';
import { ChurnSafeMap, ChurnSafeSet } from '../../src/tree/churn-safe-map.js';

describe('ChurnSafeMap', () => {
  test('property: behaves like a Map under any sequence of sets, deletes and clears', () => {
    const operation = fc.oneof(
      { weight: 5, arbitrary: fc.tuple(fc.constant('set' as const), fc.integer({ min: 0, max: 150 }), fc.integer()) },
      { weight: 5, arbitrary: fc.tuple(fc.constant('delete' as const), fc.integer({ min: 0, max: 150 }), fc.constant(0)) },
      { weight: 1, arbitrary: fc.tuple(fc.constant('clear' as const), fc.constant(0), fc.constant(0)) },
    );
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 600 }), (operations) => {
        const subject = new ChurnSafeMap<number, number>();
        const model = new Map<number, number>();
        for (const [op, key, value] of operations) {
          if (op === 'set') {
            subject.set(key, value);
            model.set(key, value);
          } else if (op === 'delete') {
            expect(subject.delete(key)).toBe(model.delete(key));
          } else {
            subject.clear();
            model.clear();
          }
          expect(subject.size).toBe(model.size);
          expect(subject.has(key)).toBe(model.has(key));
          expect(subject.get(key)).toBe(model.get(key));
        }
        const sorted = (entries: Iterable<[number, number]>) => [...entries].sort((a, b) => a[0] - b[0]);
        expect(sorted(subject)).toEqual(sorted(model));
        expect([...subject.keys()].sort((a, b) => a - b)).toEqual([...model.keys()].sort((a, b) => a - b));
        expect([...subject.values()].sort((a, b) => a - b)).toEqual([...model.values()].sort((a, b) => a - b));
      }),
      { seed: 8, numRuns: 200 },
    );
  });

  test('stays correct across compactions: mass deletes, then re-adds of the same keys', () => {
    const subject = new ChurnSafeMap<string, number>();
    for (let i = 0; i < 1000; i++) subject.set(`k${i}`, i);
    for (let i = 0; i < 990; i++) subject.delete(`k${i}`);
    expect(subject.size).toBe(10);
    expect([...subject.keys()]).toHaveLength(10);
    for (let round = 0; round < 10_000; round++) {
      subject.set('hot', round);
      subject.delete('hot');
    }
    subject.set('k5', 5);
    expect(subject.get('k5')).toBe(5);
    expect(subject.get('k995')).toBe(995);
    expect(subject.size).toBe(11);
  });

  test('refuses undefined values, which would read as absent', () => {
    expect(() => new ChurnSafeMap<string, unknown>().set('k', undefined)).toThrow(TypeError);
  });

  test('ChurnSafeSet adds, deletes and iterates like a Set', () => {
    const set = new ChurnSafeSet<string>();
    set.add('a').add('b').add('a');
    expect(set.size).toBe(2);
    expect(set.delete('a')).toBe(true);
    expect(set.delete('a')).toBe(false);
    set.add('a');
    expect([...set].sort()).toEqual(['a', 'b']);
    expect([...set.values()].sort()).toEqual(['a', 'b']);
    set.clear();
    expect(set.size).toBe(0);
    expect(set.has('b')).toBe(false);
  });
});
