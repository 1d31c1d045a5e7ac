// Watches of the clients connected to one node (not replicated). The node feeds it the events
// of every command it applies, in commit order; it answers which watchers get which event.
//
// Modes follow ZooKeeper:
//   data      one-shot, set by getData:          dataChanged, deleted
//   exists    one-shot, set by exists:           created, dataChanged, deleted
//   children  one-shot, set by getChildren:      childrenChanged, deleted
//   persistent           (3.6 addWatch):         every event on the path, stays
//   persistentRecursive  (3.6 addWatch):         created, dataChanged, deleted on the path and
//                                                every descendant (no childrenChanged), stays
// A watcher gets one notification per event, however many of its watches match; the
// notification lists those watches, so the client can call the right callbacks.
//
// Resuming: the manager keeps the last events (EventHistory). A client that reconnects passes
// its watches and the last index it saw; every kept event after that index which matches is
// replayed, so no change is missed across a reconnect, or the client is told to resync (read
// again and re-register) when the history no longer reaches back that far.

import { ChurnSafeMap, ChurnSafeSet } from './churn-safe-map.js';
import { CoordinatorError } from './errors.js';
import { EventHistory } from './event-history.js';
import { pathProblem, invalidPathError, selfAndAncestors } from './paths.js';
import type { WatchEvent, WatchEventType } from './watch-event.js';

export type WatchMode = 'data' | 'exists' | 'children' | 'persistent' | 'persistentRecursive';

export const WATCH_MODES: readonly WatchMode[] = ['data', 'exists', 'children', 'persistent', 'persistentRecursive'];

/** Who receives notifications: a session id, or a connection id. */
export type WatcherId = string | number;

export interface WatchSpec {
  path: string;
  mode: WatchMode;
}

export interface WatchNotification {
  watcherId: WatcherId;
  event: WatchEvent;
  /** The watcher's watches this event fired; one-shot ones among them are now gone. */
  triggered: WatchSpec[];
}

export interface WatchManagerOptions {
  readonly maxWatchesPerWatcher: number;
  readonly maxWatchesTotal: number;
  /** Events kept for resuming watchers. */
  readonly historyCapacity: number;
  /** As the tree's maxPathBytes. */
  readonly maxPathBytes: number;
}

export const DEFAULT_WATCH_MANAGER_OPTIONS: WatchManagerOptions = Object.freeze({
  maxWatchesPerWatcher: 10_000,
  maxWatchesTotal: 1_000_000,
  historyCapacity: 10_000,
  maxPathBytes: 1024,
});

export function isOneShot(mode: WatchMode): boolean {
  return mode === 'data' || mode === 'exists' || mode === 'children';
}

/** Modes of a watch on the event's own path that the event fires. */
const MODES_FIRED_ON_PATH: Readonly<Record<WatchEventType, readonly WatchMode[]>> = {
  created: ['exists', 'persistent'],
  deleted: ['data', 'exists', 'children', 'persistent'],
  dataChanged: ['data', 'exists', 'persistent'],
  childrenChanged: ['children', 'persistent'],
};

function firesRecursive(type: WatchEventType): boolean {
  return type !== 'childrenChanged';
}

function specKey(path: string, mode: WatchMode): string {
  return `${mode}\u0000${path}`;
}

/** Restricts matching to one watcher's watches with these keys (a resume's replay). */
interface ReplayFilter {
  watcherId: WatcherId;
  keys: ReadonlySet<string>;
}

/**
 * One node's watch table and event history. Owned by the node's apply loop (dispatch) and its
 * client handlers (add/remove/resume); single-threaded, no clock.
 */
export class WatchManager {
  readonly options: WatchManagerOptions;
  // Churn-safe: one-shot watches are removed and re-registered on the same keys all the time.
  private readonly watchers = new ChurnSafeMap<WatcherId, ChurnSafeMap<string, WatchSpec>>();
  private readonly byMode = new Map<WatchMode, ChurnSafeMap<string, ChurnSafeSet<WatcherId>>>(
    WATCH_MODES.map((m) => [m, new ChurnSafeMap()]),
  );
  private readonly history: EventHistory;
  private total = 0;

  /** `startIndex`: the tree's lastAppliedIndex when the manager starts. */
  constructor(startIndex = 0, options: Partial<WatchManagerOptions> = {}) {
    const o = { ...DEFAULT_WATCH_MANAGER_OPTIONS, ...options };
    for (const [name, value] of Object.entries(o)) {
      if (!Number.isSafeInteger(value) || value <= 0) {
        throw new CoordinatorError('INVALID_ARGUMENT', { message: `watch manager option ${name} must be a positive integer` });
      }
    }
    this.options = Object.freeze(o);
    this.history = new EventHistory(o.historyCapacity, startIndex);
  }

  /** Index of the last command dispatched. */
  get lastIndex(): number {
    return this.history.lastIndex;
  }

  /** A client that last saw an index below this must resync. */
  get oldestResumableIndex(): number {
    return this.history.droppedThroughIndex;
  }

  watchCount(watcherId?: WatcherId): number {
    return watcherId === undefined ? this.total : (this.watchers.get(watcherId)?.size ?? 0);
  }

  watchesOf(watcherId: WatcherId): WatchSpec[] {
    return [...(this.watchers.get(watcherId)?.values() ?? [])].map((s) => ({ ...s }));
  }

  /** Registers a watch effective from the last dispatched index on. Idempotent. */
  addWatch(watcherId: WatcherId, path: string, mode: WatchMode): void {
    this.register(watcherId, [{ path, mode }]);
  }

  /**
   * A (re)connecting watcher: registers `watches` and replays every kept event after
   * `lastSeenIndex` that matches one of them, consuming one-shot watches as they fire. Watches
   * the watcher already had here are kept and not replayed (they saw those events live).
   * Throws UNAVAILABLE (retriable) when this node has not yet applied `lastSeenIndex`,
   * RESYNC_REQUIRED when events after it may be gone (nothing is registered then), and
   * TOO_MANY_WATCHES / INVALID_PATH / INVALID_ARGUMENT for bad watches.
   */
  resume(watcherId: WatcherId, watches: readonly WatchSpec[], lastSeenIndex: number): WatchNotification[] {
    if (!Number.isSafeInteger(lastSeenIndex) || lastSeenIndex < 0) {
      throw new CoordinatorError('INVALID_ARGUMENT', { message: `lastSeenIndex must be a non-negative integer, got ${lastSeenIndex}` });
    }
    this.checkSpecs(watches);
    if (lastSeenIndex > this.history.lastIndex) {
      throw new CoordinatorError('UNAVAILABLE', {
        message: `this node has applied up to index ${this.history.lastIndex}, behind the client's ${lastSeenIndex}`,
        details: { lastIndex: this.history.lastIndex, lastSeenIndex },
      });
    }
    const missed = this.history.eventsAfter(lastSeenIndex);
    if (missed === null) {
      throw new CoordinatorError('RESYNC_REQUIRED', {
        message: `watch history starts after index ${this.history.droppedThroughIndex}, the client last saw ${lastSeenIndex}`,
        details: { oldestResumableIndex: this.history.droppedThroughIndex, lastSeenIndex },
      });
    }
    const added = this.register(watcherId, watches);
    const notifications: WatchNotification[] = [];
    if (added.size === 0) return notifications;
    for (const event of missed) {
      const triggered = this.match(event, { watcherId, keys: added }).get(watcherId);
      if (triggered !== undefined) notifications.push({ watcherId, event, triggered });
    }
    return notifications;
  }

  private checkSpecs(watches: readonly WatchSpec[]): void {
    for (const spec of watches) {
      if (typeof spec !== 'object' || spec === null || !WATCH_MODES.includes(spec.mode)) {
        throw new CoordinatorError('INVALID_ARGUMENT', { message: `unknown watch mode ${JSON.stringify(spec?.mode)}` });
      }
      const problem = pathProblem(spec.path, this.options.maxPathBytes);
      if (problem !== null) throw invalidPathError(spec.path, problem);
    }
  }

  /** Adds the specs not yet present, all or none; returns the keys it added. */
  private register(watcherId: WatcherId, watches: readonly WatchSpec[]): Set<string> {
    this.checkSpecs(watches);
    const existing = this.watchers.get(watcherId);
    const fresh = new Map<string, WatchSpec>();
    for (const { path, mode } of watches) {
      const key = specKey(path, mode);
      if (existing?.has(key) !== true) fresh.set(key, { path, mode });
    }
    const count = existing?.size ?? 0;
    if (count + fresh.size > this.options.maxWatchesPerWatcher) {
      throw new CoordinatorError('TOO_MANY_WATCHES', {
        message: `watcher ${watcherId} would have ${count + fresh.size} watches, over the limit of ${this.options.maxWatchesPerWatcher}`,
        details: { maxWatchesPerWatcher: this.options.maxWatchesPerWatcher },
      });
    }
    if (this.total + fresh.size > this.options.maxWatchesTotal) {
      throw new CoordinatorError('TOO_MANY_WATCHES', {
        message: `this node would hold ${this.total + fresh.size} watches, over the limit of ${this.options.maxWatchesTotal}`,
        details: { maxWatchesTotal: this.options.maxWatchesTotal },
      });
    }
    if (fresh.size === 0) return new Set();
    let own = existing;
    if (own === undefined) {
      own = new ChurnSafeMap();
      this.watchers.set(watcherId, own);
    }
    for (const [key, spec] of fresh) {
      own.set(key, spec);
      const paths = this.byMode.get(spec.mode) as ChurnSafeMap<string, ChurnSafeSet<WatcherId>>;
      let ids = paths.get(spec.path);
      if (ids === undefined) {
        ids = new ChurnSafeSet();
        paths.set(spec.path, ids);
      }
      ids.add(watcherId);
    }
    this.total += fresh.size;
    return new Set(fresh.keys());
  }

  removeWatch(watcherId: WatcherId, path: string, mode: WatchMode): boolean {
    const own = this.watchers.get(watcherId);
    const key = specKey(path, mode);
    if (own?.has(key) !== true) return false;
    own.delete(key);
    if (own.size === 0) this.watchers.delete(watcherId);
    const paths = this.byMode.get(mode) as ChurnSafeMap<string, ChurnSafeSet<WatcherId>>;
    const ids = paths.get(path);
    ids?.delete(watcherId);
    if (ids?.size === 0) paths.delete(path);
    this.total--;
    return true;
  }

  /** Drops every watch of the watcher (session ended, stream closed); returns how many. */
  removeWatcher(watcherId: WatcherId): number {
    const own = this.watchers.get(watcherId);
    if (own === undefined) return 0;
    const specs = [...own.values()];
    for (const spec of specs) this.removeWatch(watcherId, spec.path, spec.mode);
    return specs.length;
  }

  /**
   * The watches each watcher has that `event` fires (with `only`: just that watcher's watches
   * among `only.keys`); fired one-shot watches are removed.
   */
  private match(event: WatchEvent, only?: ReplayFilter): Map<WatcherId, WatchSpec[]> {
    const fired = new Map<WatcherId, WatchSpec[]>();
    const fire = (id: WatcherId, spec: WatchSpec) => {
      const list = fired.get(id);
      if (list === undefined) fired.set(id, [spec]);
      else list.push(spec);
    };
    const collect = (path: string, mode: WatchMode) => {
      const ids = this.byMode.get(mode)?.get(path);
      if (ids === undefined) return;
      if (only === undefined) {
        for (const id of ids) fire(id, { path, mode });
      } else if (ids.has(only.watcherId) && only.keys.has(specKey(path, mode))) {
        fire(only.watcherId, { path, mode });
      }
    };
    for (const mode of MODES_FIRED_ON_PATH[event.type]) collect(event.path, mode);
    if (firesRecursive(event.type)) {
      for (const ancestor of selfAndAncestors(event.path)) collect(ancestor, 'persistentRecursive');
    }
    for (const [id, specs] of fired) {
      for (const spec of specs) if (isOneShot(spec.mode)) this.removeWatch(id, spec.path, spec.mode);
    }
    return fired;
  }

  /**
   * Feeds the events of the command applied at `index` (an ApplyOutcome fits); returns the
   * notifications in event order. Call once per applied command, in commit order, also when
   * it caused no events, so the history knows how far it reaches.
   */
  dispatch(outcome: { index: number; events: readonly WatchEvent[] }): WatchNotification[] {
    if (!Number.isSafeInteger(outcome.index) || outcome.index <= this.history.lastIndex) {
      throw new CoordinatorError('INTERNAL', {
        message: `watch dispatch at index ${outcome.index} after index ${this.history.lastIndex}: indexes must increase`,
      });
    }
    this.history.record(outcome.index, outcome.events);
    const notifications: WatchNotification[] = [];
    if (this.total === 0) return notifications;
    for (const event of outcome.events) {
      for (const [watcherId, triggered] of this.match(event)) notifications.push({ watcherId, event, triggered });
    }
    return notifications;
  }

  /**
   * The node's tree jumped to `index` (a snapshot was installed): events in between are
   * unknown, so every watch is dropped and the history restarts at `index`. Returns the
   * watchers that had watches; tell each of them to resync (RESYNC_REQUIRED).
   */
  reset(index: number): WatcherId[] {
    const affected = [...this.watchers.keys()];
    this.watchers.clear();
    for (const paths of this.byMode.values()) paths.clear();
    this.total = 0;
    this.history.reset(index);
    return affected;
  }
}
