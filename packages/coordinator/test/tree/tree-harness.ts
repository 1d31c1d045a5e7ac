// A DataTree driven like a Raft apply loop: each command gets the next index and a clock that
// advances 1 s per command, with short helpers for the common commands.

import type { CreateMode, MultiOp, TreeCommand } from '../../src/tree/commands.js';
import { DataTree } from '../../src/tree/data-tree.js';
import type { CoordinatorErrorCode } from '../../src/tree/errors.js';
import type { TreeLimits } from '../../src/tree/limits.js';
import type { ApplyOutcome, TreeCommandResult } from '../../src/tree/results.js';

export const START_TIME_MS = 1_700_000_000_000;

/** A command without its clock (the harness adds it); distributes over the union. */
export type UntimedCommand = TreeCommand extends infer C ? (C extends TreeCommand ? Omit<C, 'timeMs'> & { timeMs?: number } : never) : never;

export class TreeHarness {
  readonly tree: DataTree;
  index = 0;

  constructor(limits: Partial<TreeLimits> = {}) {
    this.tree = new DataTree(limits);
  }

  get timeMs(): number {
    return START_TIME_MS + this.index * 1000;
  }

  apply(command: UntimedCommand): ApplyOutcome {
    this.index++;
    return this.tree.apply({ timeMs: this.timeMs, ...command } as TreeCommand, this.index);
  }

  /** The result, which must be of the given type. */
  ok<T extends TreeCommandResult['type']>(type: T, command: UntimedCommand): Extract<TreeCommandResult, { type: T }> {
    const { result } = this.apply(command);
    if (result.type !== type) {
      throw new Error(`expected ${type}, got ${result.type === 'error' ? `${result.error.code}: ${result.error.message}` : result.type}`);
    }
    return result as Extract<TreeCommandResult, { type: T }>;
  }

  /** The error code of a command that must fail. */
  errorCode(command: UntimedCommand): CoordinatorErrorCode {
    const { result, events } = this.apply(command);
    if (result.type !== 'error') throw new Error(`expected an error, got ${result.type}`);
    if (events.length > 0) throw new Error('a failed command produced events');
    return result.error.code;
  }

  session(sessionId: number, timeoutMs = 6000): number {
    return this.ok('createSession', { type: 'createSession', sessionId, timeoutMs }).sessionId;
  }

  create(path: string, data: string | Uint8Array = '', mode: CreateMode = 'persistent', sessionId = 0): string {
    return this.ok('create', { type: 'create', path, data: bytesOf(data), mode, sessionId }).path;
  }

  multi(ops: MultiOp[], sessionId = 0): ApplyOutcome {
    return this.apply({ type: 'multi', ops, sessionId });
  }
}

export function bytesOf(data: string | Uint8Array): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}
