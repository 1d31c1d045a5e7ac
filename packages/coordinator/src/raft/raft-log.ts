// The in-memory Raft log of one node: the entries after the latest snapshot, which of them are
// persisted, the commit and applied indexes, and a snapshot received from the leader that is
// not yet persisted.
//
// Owned by one RaftNode for its whole life. The whole uncompacted log is held in memory; the
// application bounds it by compacting (RaftNode.compact) regularly.
//
//   snapshotIndex        firstIndex          unstableFrom            lastIndex
//        |  compacted  |   persisted entries   |  entries to persist   |
//
// Invariants (checked where established, relied on everywhere):
//   snapshotIndex ≤ applied ≤ committed ≤ lastIndex  (applied may trail the snapshot index only
//   while a received snapshot is pending restore), firstIndex ≤ unstableFrom ≤ lastIndex + 1,
//   entries contiguous, terms non-decreasing.

import { invariant } from './errors.js';
import type { Entry, Snapshot } from './types.js';

/** Bytes counted per entry on top of its data, for message and Ready size limits. */
export const ENTRY_OVERHEAD_BYTES = 24;

export function entryBytes(e: Entry): number {
  return e.data.length + ENTRY_OVERHEAD_BYTES;
}

export class RaftLog {
  private snapIndex: number;
  private snapTerm: number;
  private entries: Entry[];
  /** First index that is not yet persisted (handed out in a Ready and advanced). */
  private unstableFrom: number;
  private pendingSnap: Snapshot | null = null;
  committed: number;
  applied: number;

  constructor(snapshot: { index: number; term: number } | null, entries: readonly Entry[], committed: number, applied: number) {
    this.snapIndex = snapshot?.index ?? 0;
    this.snapTerm = snapshot?.term ?? 0;
    this.entries = [...entries];
    this.unstableFrom = this.lastIndex() + 1;
    this.committed = committed;
    this.applied = applied;
  }

  get snapshotIndex(): number {
    return this.snapIndex;
  }

  firstIndex(): number {
    return this.snapIndex + 1;
  }

  lastIndex(): number {
    return this.snapIndex + this.entries.length;
  }

  lastTerm(): number {
    return this.entries.length === 0 ? this.snapTerm : this.entries[this.entries.length - 1]!.term;
  }

  /** Term of the entry at `index`; undefined if compacted away or beyond the end. */
  term(index: number): number | undefined {
    if (index === this.snapIndex) return this.snapTerm;
    if (index < this.snapIndex || index > this.lastIndex()) return undefined;
    return this.entries[index - this.snapIndex - 1]!.term;
  }

  entryAt(index: number): Entry | undefined {
    if (index <= this.snapIndex || index > this.lastIndex()) return undefined;
    return this.entries[index - this.snapIndex - 1];
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** Raft §5.4.1: is a log ending at (lastIndex, lastTerm) at least as up to date as ours? */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Entries [from, lastIndex], at most maxBytes of them (at least one). Undefined if `from` was
   * compacted away (the caller sends a snapshot instead).
   */
  entriesFrom(from: number, maxBytes: number): Entry[] | undefined {
    if (from <= this.snapIndex) return undefined;
    return this.slice(from, this.lastIndex() + 1, maxBytes);
  }

  /** Entries [lo, hi) capped at maxBytes, never fewer than one when lo < hi. */
  private slice(lo: number, hi: number, maxBytes: number): Entry[] {
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = lo; i < hi; i++) {
      const e = this.entries[i - this.snapIndex - 1]!;
      bytes += entryBytes(e);
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  /**
   * Leader's (and follower's) append: `ents` are contiguous and ents[0].index ≤ lastIndex + 1.
   * A suffix from ents[0].index is replaced, which must never touch a committed entry.
   */
  append(ents: readonly Entry[]): void {
    if (ents.length === 0) return;
    const first = ents[0]!.index;
    invariant(first > this.committed, () => `truncating committed entries: append at ${first}, committed ${this.committed}`);
    invariant(first <= this.lastIndex() + 1, () => `gap in log: append at ${first}, last ${this.lastIndex()}`);
    invariant(first > this.snapIndex, () => `append at ${first} below snapshot ${this.snapIndex}`);
    this.entries.length = first - this.snapIndex - 1;
    for (const e of ents) this.entries.push(e);
    if (first < this.unstableFrom) this.unstableFrom = first;
  }

  /**
   * A follower's append (Raft §5.3): if our log matches (prevIndex, prevTerm), drop the first
   * conflicting suffix, append what is new, and commit up to min(leaderCommit, last new).
   * Returns the last index known to match the leader, or undefined on mismatch.
   */
  maybeAppend(prevIndex: number, prevTerm: number, leaderCommit: number, ents: readonly Entry[]): number | undefined {
    if (!this.matchTerm(prevIndex, prevTerm)) return undefined;
    const lastNew = prevIndex + ents.length;
    const conflict = this.findConflict(ents);
    if (conflict !== 0) {
      invariant(conflict > this.committed, () => `entry ${conflict} conflicts with a committed entry (committed ${this.committed})`);
      this.append(ents.slice(conflict - prevIndex - 1));
    }
    this.commitTo(Math.min(leaderCommit, lastNew));
    return lastNew;
  }

  /** Index of the first entry of `ents` whose term differs from ours (or that we lack); 0 if none. */
  private findConflict(ents: readonly Entry[]): number {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * The largest index ≤ `index` whose term is ≤ `term`, and its term — the last place two logs
   * could match given a mismatch at `index` with the other log's term `term`. A compacted index
   * is returned with term 0 (unknown: it may match).
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (let i = Math.min(index, this.lastIndex()); i > 0; i--) {
      const t = this.term(i);
      if (t === undefined) return { index: i, term: 0 };
      if (t <= term) return { index: i, term: t };
    }
    return { index: 0, term: 0 };
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    invariant(index <= this.lastIndex(), () => `commit ${index} beyond last index ${this.lastIndex()}: log lost or corrupt`);
    this.committed = index;
  }

  /** Leader commit rule (Raft §5.4.2): only an entry of the current term is committed by counting. */
  maybeCommit(index: number, term: number): boolean {
    if (index > this.committed && this.term(index) === term) {
      this.commitTo(index);
      return true;
    }
    return false;
  }

  /** A snapshot from the leader replaces the whole log. */
  restore(snapshot: Snapshot): void {
    invariant(snapshot.index > this.committed, () => `restoring snapshot ${snapshot.index} at or below commit ${this.committed}`);
    this.snapIndex = snapshot.index;
    this.snapTerm = snapshot.term;
    this.entries = [];
    this.unstableFrom = snapshot.index + 1;
    this.committed = snapshot.index;
    this.pendingSnap = snapshot;
  }

  /** Drops entries up to and including `index`, which an application snapshot now covers. */
  compact(index: number): void {
    invariant(index > this.snapIndex && index <= this.applied, () => `compact ${index} outside (${this.snapIndex}, ${this.applied}]`);
    const term = this.term(index)!;
    this.entries = this.entries.slice(index - this.snapIndex);
    this.snapIndex = index;
    this.snapTerm = term;
  }

  // ---- Ready bookkeeping ----

  get pendingSnapshot(): Snapshot | null {
    return this.pendingSnap;
  }

  /** The last index known to be persisted (handed out in a Ready and advanced). */
  lastStableIndex(): number {
    return this.unstableFrom - 1;
  }

  hasUnstableEntries(): boolean {
    return this.unstableFrom <= this.lastIndex();
  }

  unstableEntries(): Entry[] {
    if (this.unstableFrom > this.lastIndex()) return [];
    return this.entries.slice(this.unstableFrom - this.snapIndex - 1);
  }

  /**
   * The entries up to (index, term) are persisted — unless they were replaced meanwhile (a
   * different term at `index` then; Log Matching guarantees that check suffices).
   */
  stableTo(index: number, term: number): void {
    if (index >= this.unstableFrom && this.term(index) === term) this.unstableFrom = index + 1;
  }

  stableSnapshotTo(index: number): void {
    if (this.pendingSnap !== null && this.pendingSnap.index === index) this.pendingSnap = null;
  }

  /** Committed entries not yet handed to the application, at most maxBytes (at least one). */
  nextCommitted(maxBytes: number): Entry[] {
    if (!this.hasNextCommitted()) return [];
    return this.slice(this.firstUnapplied(), this.committed + 1, maxBytes);
  }

  hasNextCommitted(): boolean {
    return this.firstUnapplied() <= this.committed;
  }

  /** After a snapshot restore, applied trails the snapshot until the snapshot is applied. */
  private firstUnapplied(): number {
    return (this.applied > this.snapIndex ? this.applied : this.snapIndex) + 1;
  }

  appliedTo(index: number): void {
    invariant(index <= this.committed, () => `applied ${index} beyond commit ${this.committed}`);
    if (index > this.applied) this.applied = index;
  }
}
