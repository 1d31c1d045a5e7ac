// The data the Raft core consumes and produces. Everything here is a plain object: messages
// survive JSON serialization when the transport base64-encodes the Uint8Array fields
// (message-codec.ts does exactly that), and the persisted state is what the storage adapter
// writes and reads back.

/** A cluster member. Positive integer, fixed by configuration. */
export type NodeId = number;

/**
 * 'normal' carries application data; 'noop' is the empty entry a new leader appends to commit
 * an entry of its own term (Raft §5.4.2, §8). The application skips noops but counts them as
 * applied.
 */
export type EntryType = 'normal' | 'noop';

/** One log entry. Immutable once created: the core shares entry objects between log and messages. */
export interface Entry {
  readonly index: number;
  readonly term: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/** What must be durable before any message of the same Ready leaves the node. */
export interface HardState {
  readonly term: number;
  /** The candidate voted for in `term`, or null. */
  readonly vote: NodeId | null;
  readonly commit: number;
}

/** An application snapshot covering every entry up to and including `index`. */
export interface Snapshot {
  readonly index: number;
  /** Term of the entry at `index`. */
  readonly term: number;
  /** Opaque application state. Sent whole in one message: the transport must allow its size. */
  readonly data: Uint8Array;
}

export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader';

/** Volatile state, reported in a Ready when it changes. Never persisted. */
export interface SoftState {
  readonly role: Role;
  readonly leaderId: NodeId | null;
  readonly term: number;
}

/** A linearizable read may be served once the application has applied `index`. */
export interface ReadState {
  readonly index: number;
  readonly requestCtx: string;
}

/**
 * What the storage adapter loaded at start: the last hard state, the latest snapshot (null when
 * the log was never compacted: entries then start at index 1) and every persisted entry after
 * the snapshot, contiguous. A fresh node passes EMPTY_PERSISTED_STATE.
 */
export interface PersistedState {
  readonly hardState: HardState;
  readonly snapshot: Snapshot | null;
  readonly entries: readonly Entry[];
}

export const EMPTY_HARD_STATE: HardState = Object.freeze({ term: 0, vote: null, commit: 0 });
export const EMPTY_PERSISTED_STATE: PersistedState = Object.freeze({
  hardState: EMPTY_HARD_STATE,
  snapshot: null,
  entries: Object.freeze([]) as readonly Entry[],
});

// ---- messages -------------------------------------------------------------------------------

interface MessageHeader {
  readonly from: NodeId;
  readonly to: NodeId;
  /** The sender's current term (for a pre-vote request: the term it would campaign in). */
  readonly term: number;
}

/** Leader → follower: entries following (prevIndex, prevTerm), and the leader's commit index. */
export interface AppendMessage extends MessageHeader {
  readonly type: 'append';
  readonly prevIndex: number;
  readonly prevTerm: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
}

/**
 * Follower → leader. Accepted: `index` is the follower's last index matching the leader's log.
 * Rejected: `index` is the rejected prevIndex, and (`hintIndex`, `hintTerm`) the follower's
 * last entry that could match — the leader jumps back over whole terms (fast backtracking).
 * Also sent, with reject false and index 0, by a node with a higher term to a stale leader.
 */
export interface AppendResponseMessage extends MessageHeader {
  readonly type: 'appendResponse';
  readonly index: number;
  readonly reject: boolean;
  readonly hintIndex: number;
  readonly hintTerm: number;
}

/** Candidate → all. `transfer` marks an election started by leadership transfer (bypasses leases). */
export interface VoteMessage extends MessageHeader {
  readonly type: 'vote' | 'preVote';
  readonly lastIndex: number;
  readonly lastTerm: number;
  readonly transfer: boolean;
}

export interface VoteResponseMessage extends MessageHeader {
  readonly type: 'voteResponse' | 'preVoteResponse';
  readonly reject: boolean;
}

/**
 * Leader → follower. `commit` is min(follower's match, leader commit), so a follower never
 * commits what it may not have. `readSeq` (0 = none) identifies a ReadIndex round to confirm.
 */
export interface HeartbeatMessage extends MessageHeader {
  readonly type: 'heartbeat';
  readonly commit: number;
  readonly readSeq: number;
}

export interface HeartbeatResponseMessage extends MessageHeader {
  readonly type: 'heartbeatResponse';
  readonly readSeq: number;
}

/** Leader → follower behind the leader's compacted log: the whole snapshot in one message. */
export interface SnapshotMessage extends MessageHeader {
  readonly type: 'snapshot';
  readonly snapshot: Snapshot;
}

/** Leader → transfer target whose log is up to date: campaign now, skipping pre-vote. */
export interface TimeoutNowMessage extends MessageHeader {
  readonly type: 'timeoutNow';
}

/** Follower → leader: a forwarded readIndex call. */
export interface ReadIndexMessage extends MessageHeader {
  readonly type: 'readIndex';
  readonly requestCtx: string;
}

/** Leader → follower: the confirmed read index for a forwarded request. */
export interface ReadIndexResponseMessage extends MessageHeader {
  readonly type: 'readIndexResponse';
  readonly requestCtx: string;
  readonly index: number;
}

export type Message =
  | AppendMessage
  | AppendResponseMessage
  | VoteMessage
  | VoteResponseMessage
  | HeartbeatMessage
  | HeartbeatResponseMessage
  | SnapshotMessage
  | TimeoutNowMessage
  | ReadIndexMessage
  | ReadIndexResponseMessage;

export type MessageType = Message['type'];

export const MESSAGE_TYPES: readonly MessageType[] = Object.freeze([
  'append',
  'appendResponse',
  'vote',
  'preVote',
  'voteResponse',
  'preVoteResponse',
  'heartbeat',
  'heartbeatResponse',
  'snapshot',
  'timeoutNow',
  'readIndex',
  'readIndexResponse',
]);

// ---- the batch the adapter drains -----------------------------------------------------------

/**
 * One batch of work for the adapter, drained in this order (see RaftNode for the contract):
 *
 *  0. optionally, send the first `earlyMessages` of `messages` at once;
 *  1. persist, atomically and durably (fsync) — `snapshot` (replaces the stored snapshot and
 *     deletes every stored entry), then `entries` (delete stored entries with index ≥
 *     entries[0].index, then append), then `hardState`;
 *  2. send `messages` (those not sent in step 0);
 *  3. apply — restore the state machine from `snapshot`, then apply `committedEntries` in
 *     order; hand out `readStates`; fail `droppedReads`;
 *  4. call `advance(ready)`.
 */
export interface Ready {
  /** Role, leader or term changed since the last Ready; null if not. Informational. */
  readonly softState: SoftState | null;
  /** Changed since the last Ready; null if not. */
  readonly hardState: HardState | null;
  /** A snapshot received from the leader, to persist and then restore; null if none. */
  readonly snapshot: Snapshot | null;
  /** Entries to persist; may overwrite a conflicting suffix of the stored log. */
  readonly entries: readonly Entry[];
  readonly messages: readonly Message[];
  /** Entries to apply, contiguous, each already committed (and persisted by step 1 at the latest). */
  readonly committedEntries: readonly Entry[];
  readonly readStates: readonly ReadState[];
  /** Read requests this node accepted but can no longer answer (it lost leadership): fail them. */
  readonly droppedReads: readonly string[];
  /** False when only the commit index changed in the hard state: the write may skip the fsync. */
  readonly mustSync: boolean;
  /**
   * How many of `messages` (a prefix) may be sent before step 1 completes: a leader's appends,
   * heartbeats and snapshots, when this Ready changes neither term nor vote. They promise nothing
   * about this node's disk — a leader counts its own copy of an entry towards commit only once
   * advance() reports it persisted (Raft thesis §10.2.1) — so sending them first overlaps the
   * leader's fsync with its followers'. The rest must wait for the persist.
   */
  readonly earlyMessages: number;
}
