// The acks=all waiting list: requests finish in offset order as the HW passes them, expire by
// deadline whatever their offset, and leave all at once when leadership is lost.

import { PendingProduces } from '../../src/replica/pending-produces.js';

describe('PendingProduces', () => {
  test('takeReplicated returns the requests the HW covers, in offset order, even when added out of order', () => {
    const p = new PendingProduces();
    p.add({ id: 1, requiredOffset: 10, deadlineMs: 100 });
    p.add({ id: 2, requiredOffset: 30, deadlineMs: 100 });
    p.add({ id: 3, requiredOffset: 20, deadlineMs: 100 });
    expect(p.takeReplicated(9)).toEqual([]);
    expect(p.takeReplicated(25).map((r) => r.id)).toEqual([1, 3]);
    expect(p.size).toBe(1);
    expect(p.takeReplicated(30).map((r) => r.id)).toEqual([2]);
  });

  test('takeExpired returns the requests whose deadline has come, and only those', () => {
    const p = new PendingProduces();
    p.add({ id: 1, requiredOffset: 10, deadlineMs: 500 });
    p.add({ id: 2, requiredOffset: 20, deadlineMs: 200 });
    p.add({ id: 3, requiredOffset: 30, deadlineMs: 900 });
    expect(p.takeExpired(199)).toEqual([]);
    expect(p.takeExpired(500).map((r) => r.id)).toEqual([1, 2]);
    expect(p.takeAll().map((r) => r.id)).toEqual([3]);
    expect(p.size).toBe(0);
    expect(p.takeExpired(10_000)).toEqual([]);
  });
});
