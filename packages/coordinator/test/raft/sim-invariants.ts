// The cluster-wide facts a simulation checks Raft against. Each check has a name (it appears in
// the failure message) and is fed by the simulator as events happen; each fact is checked where
// it is established and again where it is relied on.
//
//   ElectionSafety               at most one leader per term, ever
//   MonotonicTerm                a node's term never decreases (in memory per incarnation, on
//                                disk across restarts)
//   MonotonicCommit              likewise for the commit index
//   LogMatching                  an (index, term) pair names one entry, whose predecessor has
//                                one term — so logs that share an entry share the prefix
//   LeaderCompleteness           a leader's log holds every entry committed in an earlier term
//   CommittedEntriesNeverChange  once committed at an index, always the same entry there, on
//                                every node, in memory, on disk and in snapshots
//   StateMachineSafety           every node applies the same entry at the same index, in order,
//                                so applied sequences are prefixes of each other
//   ReadIndexLinearizable        a read point is ≥ every commit that happened before the read
//                                was asked for

import type { Entry } from '../../src/raft/index.js';

export class InvariantViolation extends Error {
  constructor(
    readonly invariant: string,
    detail: string,
  ) {
    super(`${invariant} violated: ${detail}`);
    this.name = 'InvariantViolation';
  }
}

export function check(invariant: string, condition: boolean, detail: () => string): void {
  if (!condition) throw new InvariantViolation(invariant, detail());
}

const decoder = new TextDecoder();

/** The identity of an entry's content: noop entries of different terms differ by (index, term) anyway. */
export function entryKey(e: Entry): string {
  return e.type === 'noop' ? '<noop>' : decoder.decode(e.data);
}

/** Folds one applied entry into a running hash of the applied sequence (FNV-1a style). */
export function chainHash(prev: number, key: string): number {
  let h = prev ^ 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

interface CommittedFact {
  term: number;
  key: string | null; // null when first seen only through a snapshot
  /** The lowest term at which some node was seen to hold this index committed. */
  observedTerm: number;
}

/** Cluster-wide memory of what has been committed, applied and elected. */
export class Oracle {
  readonly leaders = new Map<number, number>();
  private readonly identities = new Map<string, { key: string; prevTerm: number }>();
  private readonly committed: (CommittedFact | undefined)[] = [];
  maxCommitted = 0;
  private readonly appliedKeys: string[] = [];
  /** hashAt[i]: the state machine hash after applying index i. */
  private readonly hashAt: number[] = [0];

  observeLeader(term: number, id: number): boolean {
    const known = this.leaders.get(term);
    check('ElectionSafety', known === undefined || known === id, () => `term ${term} has leaders ${known} and ${id}`);
    if (known === undefined) {
      this.leaders.set(term, id);
      return true;
    }
    return false;
  }

  /** An entry stored in some log, preceded there by an entry of term prevTerm. */
  observeLogEntry(node: number, e: Entry, prevTerm: number): void {
    const id = `${e.index}/${e.term}`;
    const key = entryKey(e);
    const known = this.identities.get(id);
    if (known === undefined) {
      this.identities.set(id, { key, prevTerm });
      return;
    }
    check('LogMatching', known.key === key && known.prevTerm === prevTerm, () =>
      `node ${node} holds entry ${id} = ${key} after term ${prevTerm}; elsewhere it is ${known.key} after term ${known.prevTerm}`,
    );
  }

  /** Node `node`, at term `observedTerm`, holds index `index` committed with this term (and key if known). */
  observeCommitted(node: number, index: number, term: number, key: string | null, observedTerm: number): void {
    const known = this.committed[index];
    if (known === undefined) {
      this.committed[index] = { term, key, observedTerm };
      if (index > this.maxCommitted) this.maxCommitted = index;
      return;
    }
    check('CommittedEntriesNeverChange', known.term === term && (known.key === null || key === null || known.key === key), () =>
      `node ${node} has ${index}/${term} = ${key} committed; it was committed as ${index}/${known.term} = ${known.key}`,
    );
    if (known.key === null) known.key = key;
    if (observedTerm < known.observedTerm) known.observedTerm = observedTerm;
  }

  committedAt(index: number): CommittedFact | undefined {
    return this.committed[index];
  }

  /** Node applied `e` right after `prevApplied` with its state hash `prevHash`; returns the new hash. */
  observeApplied(node: number, e: Entry, prevApplied: number, prevHash: number): number {
    check('StateMachineSafety', e.index === prevApplied + 1, () => `node ${node} applied ${e.index} after ${prevApplied}`);
    const key = entryKey(e);
    const known = this.appliedKeys[e.index];
    if (known === undefined) this.appliedKeys[e.index] = key;
    else check('StateMachineSafety', known === key, () => `node ${node} applied ${key} at ${e.index}; another node applied ${known}`);
    const fact = this.committed[e.index];
    check('CommittedEntriesNeverChange', fact !== undefined && fact.term === e.term, () =>
      `node ${node} applied ${e.index}/${e.term} but the committed entry there is ${fact ? `${e.index}/${fact.term}` : 'unknown'}`,
    );
    const hash = chainHash(prevHash, key);
    const knownHash = this.hashAt[e.index];
    if (knownHash === undefined) this.hashAt[e.index] = hash;
    else check('StateMachineSafety', knownHash === hash, () => `node ${node} state after ${e.index} differs from another node's`);
    return hash;
  }

  /** A snapshot restored or taken at `index` with this state hash. */
  observeSnapshotState(node: number, index: number, hash: number): void {
    const known = this.hashAt[index];
    if (known === undefined) this.hashAt[index] = hash;
    else check('StateMachineSafety', known === hash, () => `node ${node} snapshot at ${index} holds a state no node applied`);
  }
}
