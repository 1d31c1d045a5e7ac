// The replicated state machine of the coordinator: a ZooKeeper-like znode tree plus the
// session table. Pure and deterministic: the outcome of apply() depends only on the state, the
// command (which carries the proposer's clock) and the Raft index, so replicas that apply the
// same log compute the same tree, byte for byte in their snapshots. Map and Set iteration order
// can differ after a restore, so everything observable (child lists, snapshots, the order of
// ephemeral deletions and their events) is sorted first.

import {
  checkTreeCommand,
  isEphemeralMode,
  isSequentialMode,
  withFailedOp,
  ANY_VERSION,
  NO_SESSION,
  type CheckOp,
  type CreateOp,
  type DeleteOp,
  type MultiOp,
  type SetDataOp,
  type TreeCommand,
} from './commands.js';
import { ChurnSafeMap, ChurnSafeSet } from './churn-safe-map.js';
import { CoordinatorError } from './errors.js';
import { resolveTreeLimits, type TreeLimits } from './limits.js';
import {
  assertValidPath,
  baseName,
  parentPath,
  pathProblem,
  sequenceSuffix,
  MAX_SEQUENCE,
  ROOT_PATH,
} from './paths.js';
import type { ApplyOutcome, MultiOpResult, Stat, TreeCommandResult } from './results.js';
import { decodeTreeSnapshot, encodeTreeSnapshot, type SnapshotZnode, type TreeState } from './snapshot.js';
import type { WatchEvent } from './watch-event.js';

interface Znode {
  data: Buffer;
  czxid: number;
  mzxid: number;
  pzxid: number;
  ctime: number;
  mtime: number;
  version: number;
  cversion: number;
  ephemeralOwner: number;
  /** Names, not paths. */
  children: ChurnSafeSet<string>;
}

interface SessionEntry {
  timeoutMs: number;
  ephemerals: ChurnSafeSet<string>;
}

export interface SessionInfo {
  sessionId: number;
  timeoutMs: number;
}

export interface SessionDetails extends SessionInfo {
  /** Sorted. */
  ephemeralPaths: string[];
}

export interface ZnodeData {
  /** The tree's own copy: read it, never mutate it. */
  data: Uint8Array;
  stat: Stat;
}

export interface ZnodeChildren {
  /** Child names (not paths), sorted. */
  children: string[];
  stat: Stat;
}

/** Where the command being applied stands: its index, clock and the events so far. */
interface ApplyContext {
  index: number;
  timeMs: number;
  events: WatchEvent[];
}

const EMPTY = Buffer.alloc(0);

function statOf(node: Znode): Stat {
  return {
    czxid: node.czxid,
    mzxid: node.mzxid,
    pzxid: node.pzxid,
    ctime: node.ctime,
    mtime: node.mtime,
    version: node.version,
    cversion: node.cversion,
    ephemeralOwner: node.ephemeralOwner,
    dataLength: node.data.byteLength,
    numChildren: node.children.size,
  };
}

function badVersion(path: string, expected: number, actual: number): CoordinatorError {
  return new CoordinatorError('BAD_VERSION', {
    path,
    message: `znode version is ${actual}, expected ${expected}: ${path}`,
    details: { expectedVersion: expected, actualVersion: actual },
  });
}

/**
 * One replica's copy of the replicated state. Owned by the node's apply loop: only committed
 * commands, in log order, may be applied; reads may happen between applies.
 */
export class DataTree {
  readonly limits: TreeLimits;
  private readonly nodes = new ChurnSafeMap<string, Znode>();
  private readonly sessionTable = new Map<number, SessionEntry>();
  private appliedIndex = 0;
  private dataBytes = 0;
  /** Undo actions of the multi being applied (null outside a multi). */
  private journal: Array<() => void> | null = null;

  constructor(limits: Partial<TreeLimits> = {}) {
    this.limits = resolveTreeLimits(limits);
    this.nodes.set(ROOT_PATH, {
      data: EMPTY,
      czxid: 0,
      mzxid: 0,
      pzxid: 0,
      ctime: 0,
      mtime: 0,
      version: 0,
      cversion: 0,
      ephemeralOwner: NO_SESSION,
      children: new ChurnSafeSet(),
    });
  }

  /** Raft index of the last applied command (0 before any). */
  get lastAppliedIndex(): number {
    return this.appliedIndex;
  }

  /** Znodes in the tree, the root included. */
  get nodeCount(): number {
    return this.nodes.size;
  }

  get sessionCount(): number {
    return this.sessionTable.size;
  }

  /** Data bytes over all znodes. */
  get totalDataBytes(): number {
    return this.dataBytes;
  }

  /**
   * Applies a committed command at Raft index `index`. Never throws for a bad command: the
   * typed error is the result, identical on every replica. Throws (INTERNAL) only when the
   * caller breaks the contract: indexes must increase (gaps are fine, for Raft entries that
   * are not tree commands).
   */
  apply(command: TreeCommand, index: number): ApplyOutcome {
    if (!Number.isSafeInteger(index) || index <= this.appliedIndex) {
      throw new CoordinatorError('INTERNAL', {
        message: `apply at index ${index} after index ${this.appliedIndex}: indexes must increase`,
      });
    }
    const invalid = checkTreeCommand(command, this.limits);
    const ctx: ApplyContext = { index, timeMs: invalid === null ? command.timeMs : 0, events: [] };
    const result: TreeCommandResult = invalid === null ? this.execute(command, ctx) : { type: 'error', error: invalid };
    this.appliedIndex = index;
    return { index, result, events: result.type === 'error' ? [] : ctx.events };
  }

  /**
   * Records that Raft applied `index` without a tree command (a leader's no-op, a membership
   * change), so lastAppliedIndex and snapshots follow the Raft log. Same contract as apply.
   */
  advanceTo(index: number): void {
    if (!Number.isSafeInteger(index) || index <= this.appliedIndex) {
      throw new CoordinatorError('INTERNAL', {
        message: `advance to index ${index} after index ${this.appliedIndex}: indexes must increase`,
      });
    }
    this.appliedIndex = index;
  }

  private execute(command: TreeCommand, ctx: ApplyContext): TreeCommandResult {
    switch (command.type) {
      case 'createSession':
        return this.createSession(command.sessionId === NO_SESSION ? ctx.index : command.sessionId, command.timeoutMs);
      case 'closeSession': {
        if (!this.sessionTable.has(command.sessionId)) return { type: 'error', error: this.sessionExpired(command.sessionId) };
        const deletedPaths = this.endSession(command.sessionId, ctx);
        return { type: 'closeSession', sessionId: command.sessionId, deletedPaths };
      }
      case 'expireSessions': {
        const expiredSessionIds: number[] = [];
        const deletedPaths: string[] = [];
        for (const id of command.sessionIds) {
          if (!this.sessionTable.has(id)) continue; // closed, or named twice
          expiredSessionIds.push(id);
          deletedPaths.push(...this.endSession(id, ctx));
        }
        return { type: 'expireSessions', expiredSessionIds, deletedPaths };
      }
      case 'create':
      case 'setData':
      case 'delete': {
        const sessionError = this.checkSession(command.sessionId);
        if (sessionError !== null) return { type: 'error', error: sessionError };
        const result = this.applyOp(command, command.sessionId, ctx);
        if (result instanceof CoordinatorError) return { type: 'error', error: result };
        // A create/setData/delete op yields the result of the same type; only check differs.
        return result as Exclude<MultiOpResult, { type: 'check' }>;
      }
      case 'multi':
        return this.multi(command.ops, command.sessionId, ctx);
      case 'noop':
        return { type: 'noop' };
    }
  }

  private sessionExpired(sessionId: number): CoordinatorError {
    return new CoordinatorError('SESSION_EXPIRED', {
      message: `session ${sessionId} expired or was closed`,
      details: { sessionId },
    });
  }

  private checkSession(sessionId: number): CoordinatorError | null {
    return sessionId === NO_SESSION || this.sessionTable.has(sessionId) ? null : this.sessionExpired(sessionId);
  }

  private createSession(sessionId: number, timeoutMs: number): TreeCommandResult {
    if (this.sessionTable.has(sessionId)) {
      return {
        type: 'error',
        error: new CoordinatorError('SESSION_EXISTS', { message: `session ${sessionId} already exists`, details: { sessionId } }),
      };
    }
    if (this.sessionTable.size >= this.limits.maxSessions) {
      return {
        type: 'error',
        error: new CoordinatorError('QUOTA_EXCEEDED', {
          message: `the tree has ${this.sessionTable.size} sessions, the limit`,
          details: { maxSessions: this.limits.maxSessions },
        }),
      };
    }
    this.sessionTable.set(sessionId, { timeoutMs, ephemerals: new ChurnSafeSet() });
    return { type: 'createSession', sessionId, timeoutMs };
  }

  /** Deletes the session's ephemerals in path order, then the session; returns the paths. */
  private endSession(sessionId: number, ctx: ApplyContext): string[] {
    const session = this.sessionTable.get(sessionId);
    if (session === undefined) return [];
    const paths = [...session.ephemerals].sort();
    for (const path of paths) {
      const node = this.nodes.get(path);
      const parent = this.nodes.get(parentPath(path));
      if (node === undefined || parent === undefined || node.children.size > 0 || node.ephemeralOwner !== sessionId) {
        throw new CoordinatorError('INTERNAL', { path, message: `session ${sessionId} lists a broken ephemeral: ${path}` });
      }
      this.removeNode(path, node, parent, ctx);
    }
    this.sessionTable.delete(sessionId);
    return paths;
  }

  /** All or nothing: on the first failing op, every earlier op is undone. */
  private multi(ops: MultiOp[], sessionId: number, ctx: ApplyContext): TreeCommandResult {
    const sessionError = this.checkSession(sessionId);
    if (sessionError !== null) return { type: 'error', error: sessionError };
    const journal: Array<() => void> = [];
    this.journal = journal;
    const eventsBefore = ctx.events.length;
    const results: MultiOpResult[] = [];
    let failure: CoordinatorError | null = null;
    let completed = false;
    try {
      for (let i = 0; i < ops.length && failure === null; i++) {
        const result = this.applyOp(ops[i], sessionId, ctx);
        if (result instanceof CoordinatorError) failure = withFailedOp(result, i);
        else results.push(result);
      }
      completed = failure === null;
    } finally {
      // Also undone when an op throws (a bug): the tree must not keep half a multi.
      this.journal = null;
      if (!completed) {
        for (let i = journal.length - 1; i >= 0; i--) journal[i]();
        ctx.events.length = eventsBefore;
      }
    }
    return failure === null ? { type: 'multi', results } : { type: 'error', error: failure };
  }

  private applyOp(op: MultiOp, sessionId: number, ctx: ApplyContext): MultiOpResult | CoordinatorError {
    switch (op.type) {
      case 'check':
        return this.check(op);
      case 'create':
        return this.create(op, sessionId, ctx);
      case 'setData':
        return this.setData(op, ctx);
      case 'delete':
        return this.delete(op, ctx);
    }
  }

  private check(op: CheckOp): MultiOpResult | CoordinatorError {
    const node = this.nodes.get(op.path);
    if (node === undefined) return new CoordinatorError('NO_NODE', { path: op.path });
    if (op.expectedVersion !== ANY_VERSION && op.expectedVersion !== node.version) {
      return badVersion(op.path, op.expectedVersion, node.version);
    }
    return { type: 'check', path: op.path };
  }

  private create(op: CreateOp, sessionId: number, ctx: ApplyContext): MultiOpResult | CoordinatorError {
    const sequential = isSequentialMode(op.mode);
    if (!sequential && op.path === ROOT_PATH) return new CoordinatorError('NODE_EXISTS', { path: op.path });
    // A sequential prefix may end in '/', so take the parent of prefix + one suffix character.
    const parentP = parentPath(sequential ? `${op.path}0` : op.path);
    const parent = this.nodes.get(parentP);
    if (parent === undefined) {
      return new CoordinatorError('NO_NODE', { path: op.path, message: `parent znode does not exist: ${parentP}` });
    }
    if (parent.ephemeralOwner !== NO_SESSION) {
      return new CoordinatorError('NO_CHILDREN_FOR_EPHEMERALS', {
        path: op.path,
        message: `parent ${parentP} is ephemeral and cannot have children: ${op.path}`,
      });
    }
    let path = op.path;
    if (sequential) {
      if (parent.cversion > MAX_SEQUENCE) {
        return new CoordinatorError('SEQUENCE_OVERFLOW', { path: op.path, message: `sequence of ${parentP} is exhausted` });
      }
      path = op.path + sequenceSuffix(parent.cversion);
    }
    if (this.nodes.has(path)) return new CoordinatorError('NODE_EXISTS', { path });
    if (parent.children.size >= this.limits.maxChildren) {
      return new CoordinatorError('TOO_MANY_CHILDREN', {
        path,
        message: `${parentP} has ${parent.children.size} children, the limit: ${path}`,
        details: { maxChildren: this.limits.maxChildren },
      });
    }
    const quotaError = this.checkQuota(path, 1, op.data.byteLength);
    if (quotaError !== null) return quotaError;
    const node: Znode = {
      data: Buffer.from(op.data), // a copy: the command's bytes may be a view of a larger buffer
      czxid: ctx.index,
      mzxid: ctx.index,
      pzxid: ctx.index,
      ctime: ctx.timeMs,
      mtime: ctx.timeMs,
      version: 0,
      cversion: 0,
      ephemeralOwner: isEphemeralMode(op.mode) ? sessionId : NO_SESSION,
      children: new ChurnSafeSet(),
    };
    this.addNode(path, node, parent, ctx);
    return { type: 'create', path, stat: statOf(node) };
  }

  private setData(op: SetDataOp, ctx: ApplyContext): MultiOpResult | CoordinatorError {
    const node = this.nodes.get(op.path);
    if (node === undefined) return new CoordinatorError('NO_NODE', { path: op.path });
    if (op.expectedVersion !== ANY_VERSION && op.expectedVersion !== node.version) {
      return badVersion(op.path, op.expectedVersion, node.version);
    }
    const quotaError = this.checkQuota(op.path, 0, op.data.byteLength - node.data.byteLength);
    if (quotaError !== null) return quotaError;
    const before = { data: node.data, version: node.version, mzxid: node.mzxid, mtime: node.mtime };
    const data = Buffer.from(op.data);
    this.dataBytes += data.byteLength - before.data.byteLength;
    node.data = data;
    node.version++;
    node.mzxid = ctx.index;
    node.mtime = ctx.timeMs;
    this.journal?.push(() => {
      this.dataBytes -= data.byteLength - before.data.byteLength;
      Object.assign(node, before);
    });
    ctx.events.push({ type: 'dataChanged', path: op.path, index: ctx.index });
    return { type: 'setData', path: op.path, stat: statOf(node) };
  }

  private delete(op: DeleteOp, ctx: ApplyContext): MultiOpResult | CoordinatorError {
    if (op.path === ROOT_PATH) {
      return new CoordinatorError('INVALID_ARGUMENT', { path: op.path, message: 'the root znode cannot be deleted' });
    }
    const node = this.nodes.get(op.path);
    if (node === undefined) return new CoordinatorError('NO_NODE', { path: op.path });
    if (op.expectedVersion !== ANY_VERSION && op.expectedVersion !== node.version) {
      return badVersion(op.path, op.expectedVersion, node.version);
    }
    if (node.children.size > 0) return new CoordinatorError('NOT_EMPTY', { path: op.path, details: { numChildren: node.children.size } });
    const parent = this.nodes.get(parentPath(op.path));
    if (parent === undefined) throw new CoordinatorError('INTERNAL', { path: op.path, message: `znode without parent: ${op.path}` });
    this.removeNode(op.path, node, parent, ctx);
    return { type: 'delete', path: op.path };
  }

  private checkQuota(path: string, addedNodes: number, addedBytes: number): CoordinatorError | null {
    if (this.nodes.size + addedNodes > this.limits.maxNodes) {
      return new CoordinatorError('QUOTA_EXCEEDED', {
        path,
        message: `the tree holds ${this.nodes.size} znodes, the limit: ${path}`,
        details: { maxNodes: this.limits.maxNodes },
      });
    }
    if (this.dataBytes + addedBytes > this.limits.maxTotalDataBytes) {
      return new CoordinatorError('QUOTA_EXCEEDED', {
        path,
        message: `the tree would hold ${this.dataBytes + addedBytes} data bytes, over the limit of ${this.limits.maxTotalDataBytes}: ${path}`,
        details: { maxTotalDataBytes: this.limits.maxTotalDataBytes },
      });
    }
    return null;
  }

  private addNode(path: string, node: Znode, parent: Znode, ctx: ApplyContext): void {
    const name = baseName(path);
    const parentBefore = { cversion: parent.cversion, pzxid: parent.pzxid };
    const owner = node.ephemeralOwner === NO_SESSION ? undefined : this.sessionTable.get(node.ephemeralOwner);
    this.nodes.set(path, node);
    parent.children.add(name);
    parent.cversion++;
    parent.pzxid = ctx.index;
    this.dataBytes += node.data.byteLength;
    owner?.ephemerals.add(path);
    this.journal?.push(() => {
      owner?.ephemerals.delete(path);
      this.dataBytes -= node.data.byteLength;
      Object.assign(parent, parentBefore);
      parent.children.delete(name);
      this.nodes.delete(path);
    });
    ctx.events.push({ type: 'created', path, index: ctx.index });
    ctx.events.push({ type: 'childrenChanged', path: parentPath(path), index: ctx.index });
  }

  private removeNode(path: string, node: Znode, parent: Znode, ctx: ApplyContext): void {
    const name = baseName(path);
    const parentBefore = { cversion: parent.cversion, pzxid: parent.pzxid };
    const owner = node.ephemeralOwner === NO_SESSION ? undefined : this.sessionTable.get(node.ephemeralOwner);
    this.nodes.delete(path);
    parent.children.delete(name);
    parent.cversion++;
    parent.pzxid = ctx.index;
    this.dataBytes -= node.data.byteLength;
    owner?.ephemerals.delete(path);
    this.journal?.push(() => {
      owner?.ephemerals.add(path);
      this.dataBytes += node.data.byteLength;
      Object.assign(parent, parentBefore);
      parent.children.add(name);
      this.nodes.set(path, node);
    });
    ctx.events.push({ type: 'deleted', path, index: ctx.index });
    ctx.events.push({ type: 'childrenChanged', path: parentPath(path), index: ctx.index });
  }

  // ---- reads: throw INVALID_PATH for a bad path and NO_NODE where the znode must exist ----

  private lookup(path: string): Znode {
    assertValidPath(path, this.limits.maxPathBytes);
    const node = this.nodes.get(path);
    if (node === undefined) throw new CoordinatorError('NO_NODE', { path });
    return node;
  }

  get(path: string): ZnodeData {
    const node = this.lookup(path);
    return { data: node.data, stat: statOf(node) };
  }

  /** The znode's stat, or null when it does not exist. */
  exists(path: string): Stat | null {
    assertValidPath(path, this.limits.maxPathBytes);
    const node = this.nodes.get(path);
    return node === undefined ? null : statOf(node);
  }

  children(path: string): ZnodeChildren {
    const node = this.lookup(path);
    return { children: [...node.children].sort(), stat: statOf(node) };
  }

  /** The open session, or null when the tree does not have it (never had, closed, expired). */
  session(sessionId: number): SessionDetails | null {
    const entry = this.sessionTable.get(sessionId);
    if (entry === undefined) return null;
    return { sessionId, timeoutMs: entry.timeoutMs, ephemeralPaths: [...entry.ephemerals].sort() };
  }

  /** Every open session, by id. */
  sessions(): SessionInfo[] {
    return [...this.sessionTable]
      .map(([sessionId, entry]) => ({ sessionId, timeoutMs: entry.timeoutMs }))
      .sort((a, b) => a.sessionId - b.sessionId);
  }

  // ---- snapshots ----

  /** The whole replicated state, canonical (sorted); data arrays are shared, not copied. */
  exportState(): TreeState {
    const paths = [...this.nodes.keys()].sort();
    const znodes: SnapshotZnode[] = paths.map((path) => {
      const n = this.nodes.get(path) as Znode;
      return {
        path,
        data: n.data,
        czxid: n.czxid,
        mzxid: n.mzxid,
        pzxid: n.pzxid,
        ctime: n.ctime,
        mtime: n.mtime,
        version: n.version,
        cversion: n.cversion,
        ephemeralOwner: n.ephemeralOwner,
      };
    });
    return { lastAppliedIndex: this.appliedIndex, znodes, sessions: this.sessions() };
  }

  /** The state as snapshot bytes (see snapshot.ts for the format). */
  snapshot(): Buffer {
    return encodeTreeSnapshot(this.exportState());
  }

  /** A tree from snapshot bytes. Throws CORRUPT_DATA or UNSUPPORTED_VERSION. */
  static restore(bytes: Uint8Array, limits: Partial<TreeLimits> = {}): DataTree {
    return DataTree.fromState(decodeTreeSnapshot(bytes), limits);
  }

  /**
   * A tree from a state, checked to be one: valid unique paths, parents before children, no
   * child under an ephemeral, every ephemeral owned by a listed session. Throws CORRUPT_DATA.
   * The limits are not enforced on what is restored (they may have been lowered since), only
   * on later commands.
   */
  static fromState(state: TreeState, limits: Partial<TreeLimits> = {}): DataTree {
    const corrupt = (message: string) => new CoordinatorError('CORRUPT_DATA', { message: `invalid tree state: ${message}` });
    const tree = new DataTree(limits);
    if (!Number.isSafeInteger(state.lastAppliedIndex) || state.lastAppliedIndex < 0) throw corrupt('bad lastAppliedIndex');
    for (const s of state.sessions) {
      if (!Number.isSafeInteger(s.sessionId) || s.sessionId <= 0) throw corrupt(`bad session id ${s.sessionId}`);
      if (!Number.isSafeInteger(s.timeoutMs) || s.timeoutMs <= 0) throw corrupt(`bad timeout of session ${s.sessionId}`);
      if (tree.sessionTable.has(s.sessionId)) throw corrupt(`session ${s.sessionId} listed twice`);
      tree.sessionTable.set(s.sessionId, { timeoutMs: s.timeoutMs, ephemerals: new ChurnSafeSet() });
    }
    if (state.znodes.length === 0 || state.znodes[0].path !== ROOT_PATH) throw corrupt('the root is not the first znode');
    for (let i = 0; i < state.znodes.length; i++) {
      const z = state.znodes[i];
      const isRoot = i === 0;
      if (!isRoot) {
        const problem = pathProblem(z.path, Number.MAX_SAFE_INTEGER);
        if (problem !== null) throw corrupt(`${problem}: ${JSON.stringify(z.path.slice(0, 256))}`);
        if (tree.nodes.has(z.path)) throw corrupt(`znode listed twice: ${z.path}`);
      }
      for (const field of ['czxid', 'mzxid', 'pzxid', 'ctime', 'mtime', 'version', 'cversion', 'ephemeralOwner'] as const) {
        if (!Number.isSafeInteger(z[field]) || z[field] < 0) throw corrupt(`bad ${field} of ${z.path}`);
      }
      if (!(z.data instanceof Uint8Array)) throw corrupt(`data of ${z.path} is not bytes`);
      const node: Znode = {
        data: Buffer.isBuffer(z.data) ? z.data : Buffer.from(z.data),
        czxid: z.czxid,
        mzxid: z.mzxid,
        pzxid: z.pzxid,
        ctime: z.ctime,
        mtime: z.mtime,
        version: z.version,
        cversion: z.cversion,
        ephemeralOwner: z.ephemeralOwner,
        children: new ChurnSafeSet(),
      };
      if (isRoot) {
        if (node.ephemeralOwner !== NO_SESSION) throw corrupt('the root is ephemeral');
        tree.nodes.set(ROOT_PATH, node);
      } else {
        const parent = tree.nodes.get(parentPath(z.path));
        if (parent === undefined) throw corrupt(`znode before its parent: ${z.path}`);
        if (parent.ephemeralOwner !== NO_SESSION) throw corrupt(`child of an ephemeral: ${z.path}`);
        if (node.ephemeralOwner !== NO_SESSION) {
          const owner = tree.sessionTable.get(node.ephemeralOwner);
          if (owner === undefined) throw corrupt(`ephemeral of an unknown session: ${z.path}`);
          owner.ephemerals.add(z.path);
        }
        parent.children.add(baseName(z.path));
        tree.nodes.set(z.path, node);
      }
      tree.dataBytes += node.data.byteLength;
    }
    tree.appliedIndex = state.lastAppliedIndex;
    return tree;
  }
}

