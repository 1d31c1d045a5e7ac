// Flow control on the leader: the bounded window of in-flight appends and the per-follower
// probe/replicate/snapshot state machine, including stale and out-of-order answers.

import { RaftError } from '../../src/raft/errors.js';
import { Inflights, Progress } from '../../src/raft/progress.js';

describe('Inflights', () => {
  test('is a bounded FIFO: full at capacity, overflow is an invariant violation', () => {
    const inflights = new Inflights(3);
    inflights.add(5);
    inflights.add(7);
    inflights.add(9);
    expect(inflights.full()).toBe(true);
    expect(() => inflights.add(11)).toThrow(RaftError);
  });

  test('freeLE releases every message acknowledged by an index, across the ring boundary', () => {
    const inflights = new Inflights(3);
    for (const i of [1, 2, 3]) inflights.add(i);
    inflights.freeLE(2);
    expect(inflights.size).toBe(1);
    inflights.add(4);
    inflights.add(5); // wraps around
    expect(inflights.full()).toBe(true);
    inflights.freeLE(4);
    expect(inflights.size).toBe(1);
    inflights.freeLE(100);
    expect(inflights.size).toBe(0);
    inflights.freeFirstOne(); // harmless when empty
    expect(inflights.size).toBe(0);
  });
});

describe('Progress', () => {
  test('probe: one append at a time, resumed by an answer', () => {
    const pr = new Progress(11, 4);
    expect(pr.state).toBe('probe');
    expect(pr.isPaused()).toBe(false);
    pr.probeSent = true;
    expect(pr.isPaused()).toBe(true);
    expect(pr.maybeUpdate(10)).toBe(true);
    expect(pr.isPaused()).toBe(false);
    expect(pr.match).toBe(10);
  });

  test('probe: a rejection moves next back to the hint, never below match + 1', () => {
    const pr = new Progress(11, 4);
    pr.match = 3;
    // Stale rejection (not for the probe at next - 1 = 10): ignored.
    expect(pr.maybeDecrTo(8, 2)).toBe(false);
    expect(pr.maybeDecrTo(10, 6)).toBe(true);
    expect(pr.next).toBe(7);
    pr.next = 7;
    expect(pr.maybeDecrTo(6, 0)).toBe(true);
    expect(pr.next).toBe(4); // match + 1
  });

  test('replicate: optimistic next, window bounded by inflights, rejection falls back to match + 1', () => {
    const pr = new Progress(6, 2);
    pr.match = 5;
    pr.becomeReplicate();
    pr.sentEntries(7);
    pr.sentEntries(9);
    expect(pr.next).toBe(10);
    expect(pr.isPaused()).toBe(true);
    expect(pr.maybeUpdate(7)).toBe(true);
    pr.inflights.freeLE(7);
    expect(pr.isPaused()).toBe(false);
    // A rejection at or below match is stale; above it, restart from match + 1.
    expect(pr.maybeDecrTo(7, 0)).toBe(false);
    expect(pr.maybeDecrTo(9, 0)).toBe(true);
    expect(pr.next).toBe(8);
  });

  test('snapshot: paused until acknowledged; probing resumes right after the snapshot', () => {
    const pr = new Progress(3, 4);
    pr.match = 2;
    pr.becomeSnapshot(50);
    expect(pr.isPaused()).toBe(true);
    pr.becomeProbe();
    expect(pr.state).toBe('probe');
    expect(pr.next).toBe(51);
  });
});
