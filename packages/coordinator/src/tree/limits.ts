// Bounds of the replicated znode tree. They take part in deciding whether a command succeeds,
// so every replica of an ensemble must run with the same values (a replica with a smaller
// maxDataBytes would reject a write the others applied, and the trees would diverge).

import { CoordinatorError } from './errors.js';

export interface TreeLimits {
  /** Largest data of one znode. ZooKeeper's jute.maxbuffer default. */
  readonly maxDataBytes: number;
  /** Most children under one znode. */
  readonly maxChildren: number;
  /** Longest path, in UTF-8 bytes (sequential suffix included). */
  readonly maxPathBytes: number;
  /** Most operations in one multi. */
  readonly maxMultiOps: number;
  /** Most znodes in the tree, root included. */
  readonly maxNodes: number;
  /** Most data bytes over all znodes. Bounds memory and snapshot size. */
  readonly maxTotalDataBytes: number;
  /** Most open sessions. */
  readonly maxSessions: number;
}

export const DEFAULT_TREE_LIMITS: TreeLimits = Object.freeze({
  maxDataBytes: 1024 * 1024,
  maxChildren: 100_000,
  maxPathBytes: 1024,
  maxMultiOps: 1000,
  maxNodes: 1_000_000,
  maxTotalDataBytes: 512 * 1024 * 1024,
  maxSessions: 100_000,
});

/** Defaults overridden by `overrides`; every value must be a positive safe integer. */
export function resolveTreeLimits(overrides: Partial<TreeLimits> = {}): TreeLimits {
  const limits = { ...DEFAULT_TREE_LIMITS, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new CoordinatorError('INVALID_ARGUMENT', { message: `tree limit ${name} must be a positive integer, got ${String(value)}` });
    }
  }
  return Object.freeze(limits);
}
