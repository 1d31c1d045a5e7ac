// Typed errors of the Raft core. Codes are stable: adapters and tests match on them. Add codes,
// never rename one.
//
// Two kinds of failure, kept apart on purpose:
// - refusals of a request (not the leader, a limit reached) are *results*, see RaftRefusalCode:
//   they are normal operation and the caller decides to redirect or retry;
// - RaftError is thrown for bad input (garbage message, invalid config or persisted state,
//   misuse of the Ready protocol) and for a broken invariant, which means this node's state can
//   no longer be trusted: the adapter must stop the node, never retry.

export type RaftErrorCode =
  | 'INVALID_CONFIG' // a config value outside its range
  | 'INVALID_PERSISTED_STATE' // the state handed over at restart is inconsistent
  | 'INVALID_MESSAGE' // a message that is malformed, not for this node or from a non-member
  | 'INVALID_ARGUMENT' // a bad argument to a method (index out of range, unknown node…)
  | 'READY_PROTOCOL' // ready() while a Ready is outstanding, advance() with the wrong Ready
  | 'INVARIANT_VIOLATION'; // the core's own state broke a Raft invariant: stop the node

export class RaftError extends Error {
  constructor(
    readonly code: RaftErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RaftError';
  }
}

/** Why a propose/readIndex/transfer request was not accepted. */
export type RaftRefusalCode =
  | 'NOT_LEADER' // carries the leader this node knows (null if none): redirect there
  | 'PROPOSAL_TOO_LARGE' // one entry over maxProposalBytes: never retry as is
  | 'UNCOMMITTED_LIMIT' // maxUncommittedBytes of proposals wait for commit: retry later
  | 'TRANSFER_IN_PROGRESS' // the leader is handing over: retry on the new leader
  | 'READ_LIMIT'; // maxPendingReads reads wait for confirmation: retry later

export function invariant(condition: boolean, message: () => string): asserts condition {
  if (!condition) throw new RaftError('INVARIANT_VIOLATION', message());
}
