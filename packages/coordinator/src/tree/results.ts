// What applying a command returns: its result (or typed error) and the watch events it caused.

import type { CoordinatorError } from './errors.js';
import type { WatchEvent } from './watch-event.js';

/** A znode's metadata, as in ZooKeeper (no ACL version: there are no ACLs). */
export interface Stat {
  /** Raft index of the command that created the znode (0 for the root). */
  czxid: number;
  /** Raft index of the last command that changed its data. */
  mzxid: number;
  /** Raft index of the last command that added or removed one of its children. */
  pzxid: number;
  /** Proposer time (epoch ms) of the create. */
  ctime: number;
  /** Proposer time (epoch ms) of the last data change. */
  mtime: number;
  /** Number of data changes. */
  version: number;
  /** Number of child creations and deletions; also the next sequence number. */
  cversion: number;
  /** Owning session of an ephemeral znode, 0 otherwise. */
  ephemeralOwner: number;
  dataLength: number;
  numChildren: number;
}

export type MultiOpResult =
  | { type: 'check'; path: string }
  | { type: 'create'; path: string; stat: Stat }
  | { type: 'setData'; path: string; stat: Stat }
  | { type: 'delete'; path: string };

export type TreeCommandResult =
  | { type: 'createSession'; sessionId: number; timeoutMs: number }
  | { type: 'closeSession'; sessionId: number; deletedPaths: string[] }
  /** Only the sessions that still existed; their ephemerals are deleted in path order. */
  | { type: 'expireSessions'; expiredSessionIds: number[]; deletedPaths: string[] }
  /** `path` is the created path: with the sequence suffix for sequential modes. */
  | { type: 'create'; path: string; stat: Stat }
  | { type: 'setData'; path: string; stat: Stat }
  | { type: 'delete'; path: string }
  | { type: 'multi'; results: MultiOpResult[] }
  | { type: 'noop' }
  /**
   * The command changed nothing. For a multi, `error.details.failedOpIndex` names the first
   * operation that failed.
   */
  | { type: 'error'; error: CoordinatorError };

export interface ApplyOutcome {
  index: number;
  result: TreeCommandResult;
  /** In the order the changes happened; empty when the result is an error. */
  events: WatchEvent[];
}
