// Configuration of one Raft node, with defaults and validation. Time is counted in ticks: the
// adapter calls tick() every tickMs (e.g. 100 ms), so electionTicks 10 = a 1 s election timeout.

import { RaftError } from './errors.js';
import type { NodeId, PersistedState } from './types.js';

export interface RaftConfig {
  /** This node. Must be one of `peers`. */
  readonly id: NodeId;
  /** Every voting member, this node included. Fixed membership: 1, 3 or 5 nodes typically. */
  readonly peers: readonly NodeId[];
  /** Uniform random number in [0, 1). Inject a seeded generator (random.ts); never Math.random in tests. */
  readonly random: () => number;
  /** State loaded by the storage adapter; omit for a brand-new node. */
  readonly storage?: PersistedState;
  /**
   * The index the application's state machine already reflects at start (default: the
   * snapshot index, i.e. the application restored the persisted snapshot and nothing more).
   */
  readonly applied?: number;
  /** Followers campaign after a random timeout in [electionTicks, 2·electionTicks). Default 10. */
  readonly electionTicks?: number;
  /** Leader heartbeat interval. Default 1. Must be < electionTicks. */
  readonly heartbeatTicks?: number;
  /** Pre-vote (Raft thesis §9.6): a node cut off from the majority cannot inflate terms. Default true. */
  readonly preVote?: boolean;
  /**
   * Check-quorum: a leader that has not heard from a quorum within an election timeout steps
   * down, and a follower that heard from a live leader within an election timeout ignores
   * (pre-)vote requests (leader lease). Default true.
   */
  readonly checkQuorum?: boolean;
  /** Unacknowledged append messages per follower in the replicate state. Default 64. */
  readonly maxInflightAppends?: number;
  /** Entry bytes per append message (at least one entry is always sent). Default 1 MiB. */
  readonly maxAppendBytes?: number;
  /** Largest accepted proposal. Default 1 MiB. */
  readonly maxProposalBytes?: number;
  /** Proposal bytes a leader holds uncommitted before refusing more. Default 64 MiB. */
  readonly maxUncommittedBytes?: number;
  /** Entry bytes per Ready's committedEntries (at least one entry). Default 16 MiB. */
  readonly maxCommittedBytesPerReady?: number;
  /** Read requests waiting for confirmation on a leader. Default 4096. */
  readonly maxPendingReads?: number;
  /** A follower in the snapshot state that has not acknowledged within this many ticks is probed again. Default 3·electionTicks. */
  readonly snapshotRetryTicks?: number;
}

export type ResolvedRaftConfig = Required<Omit<RaftConfig, 'storage' | 'applied'>> & {
  readonly storage: PersistedState | undefined;
  readonly applied: number | undefined;
};

/** Longest requestCtx accepted by readIndex (it travels in messages). */
export const MAX_REQUEST_CTX_LENGTH = 256;

function positiveInt(name: string, value: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new RaftError('INVALID_CONFIG', `${name} must be an integer in [1, ${max}], got ${String(value)}`);
  }
  return value;
}

export function resolveRaftConfig(config: RaftConfig): ResolvedRaftConfig {
  if (config === null || typeof config !== 'object') throw new RaftError('INVALID_CONFIG', 'config must be an object');
  positiveInt('id', config.id);
  if (!Array.isArray(config.peers) || config.peers.length === 0) {
    throw new RaftError('INVALID_CONFIG', 'peers must be a non-empty array of node ids');
  }
  for (const p of config.peers) positiveInt('peer id', p);
  if (new Set(config.peers).size !== config.peers.length) throw new RaftError('INVALID_CONFIG', 'peers contains duplicates');
  if (!config.peers.includes(config.id)) throw new RaftError('INVALID_CONFIG', `id ${config.id} is not in peers`);
  if (typeof config.random !== 'function') throw new RaftError('INVALID_CONFIG', 'random must be a function returning [0, 1)');
  const electionTicks = positiveInt('electionTicks', config.electionTicks ?? 10, 1_000_000);
  const heartbeatTicks = positiveInt('heartbeatTicks', config.heartbeatTicks ?? 1, 1_000_000);
  if (heartbeatTicks >= electionTicks) {
    throw new RaftError('INVALID_CONFIG', `heartbeatTicks (${heartbeatTicks}) must be < electionTicks (${electionTicks})`);
  }
  const flag = (name: string, v: boolean | undefined): boolean => {
    if (v !== undefined && typeof v !== 'boolean') throw new RaftError('INVALID_CONFIG', `${name} must be a boolean`);
    return v ?? true;
  };
  if (config.applied !== undefined && (!Number.isSafeInteger(config.applied) || config.applied < 0)) {
    throw new RaftError('INVALID_CONFIG', `applied must be a non-negative integer, got ${String(config.applied)}`);
  }
  return {
    id: config.id,
    peers: [...config.peers].sort((a, b) => a - b),
    random: config.random,
    storage: config.storage,
    applied: config.applied,
    electionTicks,
    heartbeatTicks,
    preVote: flag('preVote', config.preVote),
    checkQuorum: flag('checkQuorum', config.checkQuorum),
    maxInflightAppends: positiveInt('maxInflightAppends', config.maxInflightAppends ?? 64, 1 << 16),
    maxAppendBytes: positiveInt('maxAppendBytes', config.maxAppendBytes ?? 1 << 20),
    maxProposalBytes: positiveInt('maxProposalBytes', config.maxProposalBytes ?? 1 << 20),
    maxUncommittedBytes: positiveInt('maxUncommittedBytes', config.maxUncommittedBytes ?? 64 << 20),
    maxCommittedBytesPerReady: positiveInt('maxCommittedBytesPerReady', config.maxCommittedBytesPerReady ?? 16 << 20),
    maxPendingReads: positiveInt('maxPendingReads', config.maxPendingReads ?? 4096),
    snapshotRetryTicks: positiveInt('snapshotRetryTicks', config.snapshotRetryTicks ?? 3 * electionTicks),
  };
}
