// The commands of the replicated znode tree: the payload of the Raft log. A command carries
// everything its outcome depends on (the proposer's clock included), so every replica that
// applies the same commands at the same indexes computes the same tree.

import { CoordinatorError } from './errors.js';
import type { TreeLimits } from './limits.js';
import { invalidPathError, pathProblem } from './paths.js';

export type CreateMode = 'persistent' | 'ephemeral' | 'persistent_sequential' | 'ephemeral_sequential';

export const CREATE_MODES: readonly CreateMode[] = ['persistent', 'ephemeral', 'persistent_sequential', 'ephemeral_sequential'];

export function isEphemeralMode(mode: CreateMode): boolean {
  return mode === 'ephemeral' || mode === 'ephemeral_sequential';
}

export function isSequentialMode(mode: CreateMode): boolean {
  return mode === 'persistent_sequential' || mode === 'ephemeral_sequential';
}

/** `expectedVersion` that matches any version. */
export const ANY_VERSION = -1;
/** `sessionId` of a request made outside any session (admin tools); also "no ephemeral owner". */
export const NO_SESSION = 0;

export interface CheckOp {
  type: 'check';
  path: string;
  expectedVersion: number;
}

export interface CreateOp {
  type: 'create';
  /** For sequential modes, the prefix the 10-digit sequence number is appended to. */
  path: string;
  data: Uint8Array;
  mode: CreateMode;
}

export interface SetDataOp {
  type: 'setData';
  path: string;
  data: Uint8Array;
  /** ANY_VERSION (-1) or the version the znode must have. */
  expectedVersion: number;
}

export interface DeleteOp {
  type: 'delete';
  path: string;
  expectedVersion: number;
}

/** One operation of a multi; create, setData and delete also exist as commands of their own. */
export type MultiOp = CheckOp | CreateOp | SetDataOp | DeleteOp;

interface Timed {
  /** The proposer's wall clock (epoch ms) when it proposed: the only time the tree ever sees. */
  timeMs: number;
}

interface FromSession extends Timed {
  /**
   * The session making the request, or NO_SESSION. A write from a session the tree no longer
   * has fails with SESSION_EXPIRED (so an expired client cannot write after its expiry
   * committed); ephemerals are owned by it.
   */
  sessionId: number;
}

export interface CreateSessionCommand extends Timed {
  type: 'createSession';
  /** A new positive id, or NO_SESSION to have the tree use the command's Raft index as the id. */
  sessionId: number;
  timeoutMs: number;
}

export interface CloseSessionCommand extends Timed {
  type: 'closeSession';
  sessionId: number;
}

export interface ExpireSessionsCommand extends Timed {
  type: 'expireSessions';
  /** Ids the tree no longer has are skipped (they closed while the expiry was in flight). */
  sessionIds: number[];
}

export type CreateCommand = CreateOp & FromSession;
export type SetDataCommand = SetDataOp & FromSession;
export type DeleteCommand = DeleteOp & FromSession;

export interface MultiCommand extends FromSession {
  type: 'multi';
  /** Applied all or nothing, in order. */
  ops: MultiOp[];
}

/** Changes nothing; a barrier (its result means every earlier command is applied). */
export interface NoopCommand extends Timed {
  type: 'noop';
}

export type TreeCommand =
  | CreateSessionCommand
  | CloseSessionCommand
  | ExpireSessionsCommand
  | CreateCommand
  | SetDataCommand
  | DeleteCommand
  | MultiCommand
  | NoopCommand;

export type TreeCommandType = TreeCommand['type'];

function isSafeNonNegative(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isVersion(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= ANY_VERSION;
}

function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}

function opShapeProblem(op: unknown, allowed: ReadonlySet<string>): string | null {
  if (typeof op !== 'object' || op === null) return 'operation is not an object';
  const o = op as Record<string, unknown>;
  if (typeof o.type !== 'string' || !allowed.has(o.type)) return `unknown operation type ${JSON.stringify(o.type)}`;
  if (typeof o.path !== 'string') return `${o.type}: path is not a string`;
  switch (o.type) {
    case 'check':
    case 'delete':
      return isVersion(o.expectedVersion) ? null : `${o.type}: expectedVersion must be an integer >= -1`;
    case 'setData':
      if (!isBytes(o.data)) return 'setData: data is not bytes';
      return isVersion(o.expectedVersion) ? null : 'setData: expectedVersion must be an integer >= -1';
    case 'create':
      if (!isBytes(o.data)) return 'create: data is not bytes';
      return CREATE_MODES.includes(o.mode as CreateMode) ? null : `create: unknown mode ${JSON.stringify(o.mode)}`;
    default:
      return null;
  }
}

const OP_TYPES: ReadonlySet<string> = new Set(['check', 'create', 'setData', 'delete']);
const SINGLE_OP_TYPES: ReadonlySet<string> = new Set(['create', 'setData', 'delete']);

/**
 * Why `value` is not a well-formed TreeCommand (types, integer ranges, enums), or null.
 * Checks no limit: see checkTreeCommand.
 */
export function commandShapeProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return 'command is not an object';
  const c = value as Record<string, unknown>;
  if (!isSafeNonNegative(c.timeMs)) return 'timeMs must be a non-negative integer';
  switch (c.type) {
    case 'createSession':
      if (!isSafeNonNegative(c.sessionId)) return 'createSession: sessionId must be a non-negative integer';
      return isSafeNonNegative(c.timeoutMs) && c.timeoutMs > 0 ? null : 'createSession: timeoutMs must be a positive integer';
    case 'closeSession':
      return isSafeNonNegative(c.sessionId) && c.sessionId > 0 ? null : 'closeSession: sessionId must be a positive integer';
    case 'expireSessions':
      if (!Array.isArray(c.sessionIds)) return 'expireSessions: sessionIds is not an array';
      return c.sessionIds.every((id) => isSafeNonNegative(id) && id > 0)
        ? null
        : 'expireSessions: sessionIds must be positive integers';
    case 'create':
    case 'setData':
    case 'delete':
      if (!isSafeNonNegative(c.sessionId)) return `${c.type}: sessionId must be a non-negative integer`;
      return opShapeProblem(c, SINGLE_OP_TYPES);
    case 'multi': {
      if (!isSafeNonNegative(c.sessionId)) return 'multi: sessionId must be a non-negative integer';
      if (!Array.isArray(c.ops)) return 'multi: ops is not an array';
      for (let i = 0; i < c.ops.length; i++) {
        const problem = opShapeProblem(c.ops[i], OP_TYPES);
        if (problem !== null) return `multi op ${i}: ${problem}`;
      }
      return null;
    }
    case 'noop':
      return null;
    default:
      return `unknown command type ${JSON.stringify(c.type)}`;
  }
}

function opLimitError(op: MultiOp, sessionId: number, limits: TreeLimits): CoordinatorError | null {
  const sequential = op.type === 'create' && isSequentialMode(op.mode);
  const problem = pathProblem(op.path, limits.maxPathBytes, sequential);
  if (problem !== null) return invalidPathError(op.path, problem);
  if ((op.type === 'create' || op.type === 'setData') && op.data.byteLength > limits.maxDataBytes) {
    return new CoordinatorError('DATA_TOO_LARGE', {
      path: op.path,
      message: `znode data of ${op.data.byteLength} bytes exceeds the limit of ${limits.maxDataBytes}: ${op.path}`,
      details: { dataBytes: op.data.byteLength, maxDataBytes: limits.maxDataBytes },
    });
  }
  if (op.type === 'create' && isEphemeralMode(op.mode) && sessionId === NO_SESSION) {
    return new CoordinatorError('INVALID_ARGUMENT', { path: op.path, message: `an ephemeral znode needs a session: ${op.path}` });
  }
  return null;
}

/**
 * The error a command fails with before touching the tree (shape, path syntax, data size,
 * multi size, ephemeral without a session), or null. The tree runs this on apply; a leader
 * runs it before proposing, so bad requests never reach the log.
 */
export function checkTreeCommand(command: unknown, limits: TreeLimits): CoordinatorError | null {
  const shape = commandShapeProblem(command);
  if (shape !== null) return new CoordinatorError('INVALID_ARGUMENT', { message: `invalid command: ${shape}` });
  const c = command as TreeCommand;
  switch (c.type) {
    case 'create':
    case 'setData':
    case 'delete':
      return opLimitError(c, c.sessionId, limits);
    case 'multi': {
      if (c.ops.length > limits.maxMultiOps) {
        return new CoordinatorError('TOO_MANY_OPS', {
          message: `multi has ${c.ops.length} operations, over the limit of ${limits.maxMultiOps}`,
          details: { ops: c.ops.length, maxMultiOps: limits.maxMultiOps },
        });
      }
      for (let i = 0; i < c.ops.length; i++) {
        const error = opLimitError(c.ops[i], c.sessionId, limits);
        if (error !== null) return withFailedOp(error, i);
      }
      return null;
    }
    case 'expireSessions':
      if (c.sessionIds.length > limits.maxSessions) {
        return new CoordinatorError('INVALID_ARGUMENT', {
          message: `expireSessions names ${c.sessionIds.length} sessions, over the limit of ${limits.maxSessions}`,
        });
      }
      return null;
    default:
      return null;
  }
}

/** The same error, marked with the index of the multi operation that failed. */
export function withFailedOp(error: CoordinatorError, failedOpIndex: number): CoordinatorError {
  return new CoordinatorError(error.code, {
    message: `multi op ${failedOpIndex}: ${error.message}`,
    ...(error.path !== undefined ? { path: error.path } : {}),
    details: { ...error.details, failedOpIndex },
  });
}
