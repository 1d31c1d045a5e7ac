// Session liveness, kept by each node outside the replicated state: heartbeats arrive at one
// node, and only the leader acts on deadlines (by proposing expireSessions). Every node tracks
// the sessions the tree creates and ends as it applies them, so a node that becomes leader
// already knows them; resetAll() then gives each a fresh timeout, so sessions are not expired
// for the time the election took (ZooKeeper does the same on leader change).

import { CoordinatorError } from './errors.js';
import { ExpiryQueue } from './expiry-queue.js';
import type { SessionInfo } from './data-tree.js';
import type { TreeCommandResult } from './results.js';

export interface SessionTrackerOptions {
  /** Shortest timeout a client gets (ZooKeeper: 2 × tickTime). */
  readonly minSessionTimeoutMs: number;
  /** Longest timeout a client gets (ZooKeeper: 20 × tickTime). */
  readonly maxSessionTimeoutMs: number;
  /** Deadlines are rounded up to this: sessions expire at most this late, never early. */
  readonly expiryBucketMs: number;
  /**
   * After a session is reported expired it stays "expiring" (heartbeats no longer save it);
   * if the tree still has it this much later (the proposal was lost), it is reported again.
   */
  readonly expiryRetryMs: number;
  /** Most sessions one expiredSessions() call returns, bounding an expireSessions command. */
  readonly maxExpiredPerPoll: number;
}

export const DEFAULT_SESSION_TRACKER_OPTIONS: SessionTrackerOptions = Object.freeze({
  minSessionTimeoutMs: 2_000,
  maxSessionTimeoutMs: 60_000,
  expiryBucketMs: 100,
  expiryRetryMs: 2_000,
  maxExpiredPerPoll: 1_000,
});

interface TrackedSession {
  timeoutMs: number;
  expiring: boolean;
}

/**
 * One node's view of session deadlines. Owned by the node's session/apply loop; holds only
 * sessions the tree has (added and removed as commands apply), so the tree's maxSessions
 * bounds it.
 */
export class SessionTracker {
  readonly options: SessionTrackerOptions;
  private readonly sessions = new Map<number, TrackedSession>();
  private readonly deadlines: ExpiryQueue<number>;

  constructor(options: Partial<SessionTrackerOptions> = {}) {
    const o = { ...DEFAULT_SESSION_TRACKER_OPTIONS, ...options };
    for (const [name, value] of Object.entries(o)) {
      if (!Number.isSafeInteger(value) || value <= 0) {
        throw new CoordinatorError('INVALID_ARGUMENT', { message: `session tracker option ${name} must be a positive integer` });
      }
    }
    if (o.minSessionTimeoutMs > o.maxSessionTimeoutMs) {
      throw new CoordinatorError('INVALID_ARGUMENT', { message: 'minSessionTimeoutMs is above maxSessionTimeoutMs' });
    }
    this.options = Object.freeze(o);
    this.deadlines = new ExpiryQueue(o.expiryBucketMs);
  }

  /** The timeout to grant for a requested one: clamped into [min, max]. */
  clampTimeout(requestedMs: number): number {
    if (typeof requestedMs !== 'number' || Number.isNaN(requestedMs)) {
      throw new CoordinatorError('INVALID_ARGUMENT', { message: `session timeout must be a number, got ${String(requestedMs)}` });
    }
    const clamped = Math.min(this.options.maxSessionTimeoutMs, Math.max(this.options.minSessionTimeoutMs, requestedMs));
    return Math.round(clamped);
  }

  get size(): number {
    return this.sessions.size;
  }

  has(sessionId: number): boolean {
    return this.sessions.has(sessionId);
  }

  /** True once the session was reported expired and until it is removed or resetAll(). */
  isExpiring(sessionId: number): boolean {
    return this.sessions.get(sessionId)?.expiring ?? false;
  }

  /** When the session expires unless touched (rounded up to the bucket), if tracked. */
  expiryOf(sessionId: number): number | undefined {
    return this.deadlines.expiryOf(sessionId);
  }

  /** A session the tree created (or already had): its deadline starts now. */
  add(sessionId: number, timeoutMs: number, nowMs: number): void {
    this.sessions.set(sessionId, { timeoutMs, expiring: false });
    this.deadlines.schedule(sessionId, nowMs + timeoutMs);
  }

  /** A session the tree ended. */
  remove(sessionId: number): boolean {
    this.deadlines.remove(sessionId);
    return this.sessions.delete(sessionId);
  }

  /**
   * A heartbeat (or any request) from the session: pushes its deadline out. False when the
   * session is unknown here or already expiring; the client must then not count on it.
   */
  touch(sessionId: number, nowMs: number): boolean {
    const session = this.sessions.get(sessionId);
    if (session === undefined || session.expiring) return false;
    this.deadlines.schedule(sessionId, nowMs + session.timeoutMs);
    return true;
  }

  /**
   * Sessions whose deadline passed, earliest first, at most maxExpiredPerPoll: the leader
   * proposes expireSessions for them. They become expiring and are reported again after
   * expiryRetryMs if the tree still has them then.
   */
  expiredSessions(nowMs: number): number[] {
    const expired = this.deadlines.poll(nowMs, this.options.maxExpiredPerPoll);
    for (const id of expired) {
      const session = this.sessions.get(id);
      if (session === undefined) continue;
      session.expiring = true;
      this.deadlines.schedule(id, nowMs + this.options.expiryRetryMs);
    }
    return expired;
  }

  /** On becoming leader: every session gets a full timeout from now, expiring ones too. */
  resetAll(nowMs: number): void {
    this.deadlines.clear();
    for (const [id, session] of this.sessions) {
      session.expiring = false;
      this.deadlines.schedule(id, nowMs + session.timeoutMs);
    }
  }

  /** Replaces everything with the tree's sessions (after restoring a snapshot), deadlines from now. */
  load(sessions: Iterable<SessionInfo>, nowMs: number): void {
    this.sessions.clear();
    this.deadlines.clear();
    for (const s of sessions) this.add(s.sessionId, s.timeoutMs, nowMs);
  }

  /** Follows the tree: call with each applied command's result. */
  trackApplied(result: TreeCommandResult, nowMs: number): void {
    switch (result.type) {
      case 'createSession':
        this.add(result.sessionId, result.timeoutMs, nowMs);
        break;
      case 'closeSession':
        this.remove(result.sessionId);
        break;
      case 'expireSessions':
        for (const id of result.expiredSessionIds) this.remove(id);
        break;
      default:
        break;
    }
  }
}
