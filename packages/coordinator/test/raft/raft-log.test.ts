// RaftLog: the follower's append rules (Raft §5.3), fast-backtracking hints, commit rules,
// compaction and snapshot restore, and the persisted/unstable bookkeeping behind Ready.

import { RaftError } from '../../src/raft/errors.js';
import { RaftLog } from '../../src/raft/raft-log.js';
import type { Entry } from '../../src/raft/types.js';

const enc = new TextEncoder();

function e(index: number, term: number, value = `${index}/${term}`): Entry {
  return { index, term, type: 'normal', data: enc.encode(value) };
}

/** A log holding entries with the given terms from index 1, all persisted. */
function logOf(terms: number[], committed = 0): RaftLog {
  return new RaftLog(null, terms.map((t, i) => e(i + 1, t)), committed, 0);
}

function terms(log: RaftLog): number[] {
  const out: number[] = [];
  for (let i = log.firstIndex(); i <= log.lastIndex(); i++) out.push(log.term(i)!);
  return out;
}

describe('RaftLog', () => {
  test('maybeAppend accepts only after a matching (prevIndex, prevTerm)', () => {
    const log = logOf([1, 1, 2]);
    expect(log.maybeAppend(3, 1, 0, [e(4, 2)])).toBeUndefined(); // term at 3 is 2
    expect(log.maybeAppend(4, 2, 0, [e(5, 2)])).toBeUndefined(); // nothing at 4
    expect(log.maybeAppend(3, 2, 0, [e(4, 2)])).toBe(4);
    expect(terms(log)).toEqual([1, 1, 2, 2]);
  });

  test('maybeAppend replaces a conflicting suffix and keeps a matching one', () => {
    const log = logOf([1, 1, 2, 2, 2]);
    // Entries already present (same terms) change nothing, even if the message is shorter.
    expect(log.maybeAppend(1, 1, 0, [e(2, 1), e(3, 2)])).toBe(3);
    expect(terms(log)).toEqual([1, 1, 2, 2, 2]);
    // A conflict at 3 drops 3..5 and appends the leader's entries.
    expect(log.maybeAppend(2, 1, 0, [e(3, 3), e(4, 3)])).toBe(4);
    expect(terms(log)).toEqual([1, 1, 3, 3]);
    expect(log.unstableEntries().map((x) => x.index)).toEqual([3, 4]);
  });

  test('a follower commits at most up to the last entry the leader vouched for', () => {
    // Entries 2..3 are stale, from an old term; the leader sends only entry 2 (which matches)
    // with commit 3: committing 3 would commit an entry the leader never sent.
    const log = logOf([1, 1, 1]);
    expect(log.maybeAppend(1, 1, 3, [e(2, 1)])).toBe(2);
    expect(log.committed).toBe(2);
  });

  test('truncating a committed entry is an invariant violation, not a silent overwrite', () => {
    const log = logOf([1, 1, 2], 3);
    expect(() => log.maybeAppend(1, 1, 3, [e(2, 1), e(3, 3)])).toThrow(RaftError);
    expect(() => log.append([e(3, 4)])).toThrow(/truncating committed entries/);
    expect(terms(log)).toEqual([1, 1, 2]);
  });

  test('findConflictByTerm returns the last index whose term is ≤ the given term', () => {
    const log = logOf([1, 1, 2, 2, 4, 4, 4]);
    expect(log.findConflictByTerm(7, 3)).toEqual({ index: 4, term: 2 });
    expect(log.findConflictByTerm(7, 4)).toEqual({ index: 7, term: 4 });
    expect(log.findConflictByTerm(3, 1)).toEqual({ index: 2, term: 1 });
    expect(log.findConflictByTerm(7, 0)).toEqual({ index: 0, term: 0 });
    // Beyond the end: starts from the last entry.
    expect(log.findConflictByTerm(20, 2)).toEqual({ index: 4, term: 2 });
  });

  test('findConflictByTerm reports a compacted index with term 0 (unknown)', () => {
    const log = new RaftLog({ index: 5, term: 3 }, [e(6, 3), e(7, 5)], 5, 5);
    expect(log.findConflictByTerm(7, 4)).toEqual({ index: 6, term: 3 });
    expect(log.findConflictByTerm(7, 3)).toEqual({ index: 6, term: 3 });
    // The snapshot's own index has a known term (3 > 2); below it nothing is known.
    expect(log.findConflictByTerm(7, 2)).toEqual({ index: 4, term: 0 });
  });

  test('maybeCommit only commits an entry of the given (current) term', () => {
    const log = logOf([1, 1, 2]);
    expect(log.maybeCommit(2, 2)).toBe(false);
    expect(log.committed).toBe(0);
    expect(log.maybeCommit(3, 2)).toBe(true);
    expect(log.committed).toBe(3);
  });

  test('commitTo beyond the last index means a lost log: invariant violation', () => {
    const log = logOf([1]);
    expect(() => log.commitTo(2)).toThrow(/beyond last index/);
  });

  test('compact drops entries up to an applied index and keeps their term', () => {
    const log = logOf([1, 1, 2, 2], 4);
    log.appliedTo(3);
    log.compact(3);
    expect(log.snapshotIndex).toBe(3);
    expect(log.firstIndex()).toBe(4);
    expect(log.term(3)).toBe(2);
    expect(log.term(2)).toBeUndefined();
    expect(log.entriesFrom(3, 1 << 20)).toBeUndefined(); // compacted: send a snapshot
    expect(log.entriesFrom(4, 1 << 20)!.map((x) => x.index)).toEqual([4]);
    expect(() => log.compact(4)).toThrow(RaftError); // not applied yet
  });

  test('restore replaces the whole log with a snapshot that must be persisted', () => {
    const log = logOf([1, 1, 1], 1);
    log.restore({ index: 10, term: 3, data: new Uint8Array([1]) });
    expect(log.lastIndex()).toBe(10);
    expect(log.lastTerm()).toBe(3);
    expect(log.committed).toBe(10);
    expect(log.pendingSnapshot?.index).toBe(10);
    expect(log.unstableEntries()).toEqual([]);
    expect(log.hasNextCommitted()).toBe(false); // the snapshot itself carries 1..10
    log.stableSnapshotTo(10);
    expect(log.pendingSnapshot).toBeNull();
  });

  test('stableTo ignores an acknowledgement for entries replaced in the meantime', () => {
    const log = logOf([1]);
    log.append([e(2, 1), e(3, 1)]);
    const handedOut = log.unstableEntries();
    expect(handedOut.map((x) => x.index)).toEqual([2, 3]);
    // Before the adapter acknowledges, a new leader replaces 3.
    log.append([e(3, 2)]);
    log.stableTo(3, 1);
    expect(log.unstableEntries().map((x) => `${x.index}/${x.term}`)).toEqual(['2/1', '3/2']);
    log.stableTo(3, 2);
    expect(log.unstableEntries()).toEqual([]);
  });

  test('entriesFrom and nextCommitted respect byte limits but always return one entry', () => {
    const big = (i: number): Entry => ({ index: i, term: 1, type: 'normal', data: new Uint8Array(100) });
    const log = new RaftLog(null, [big(1), big(2), big(3)], 3, 0);
    expect(log.entriesFrom(1, 1)!.length).toBe(1);
    expect(log.entriesFrom(1, 300)!.length).toBe(2);
    expect(log.nextCommitted(1).map((x) => x.index)).toEqual([1]);
    log.appliedTo(1);
    expect(log.nextCommitted(1 << 20).map((x) => x.index)).toEqual([2, 3]);
  });

  test('isUpToDate compares last term first, then length (§5.4.1)', () => {
    const log = logOf([1, 2, 2]);
    expect(log.isUpToDate(1, 3)).toBe(true);
    expect(log.isUpToDate(3, 2)).toBe(true);
    expect(log.isUpToDate(2, 2)).toBe(false);
    expect(log.isUpToDate(10, 1)).toBe(false);
  });
});
