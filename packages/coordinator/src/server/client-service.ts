// The Coordinator gRPC service: translates client requests into tree commands and linearizable
// reads on the CoordinatorNode. No rule of the tree lives here; this file only maps shapes,
// errors and streams.

import * as grpc from '@grpc/grpc-js';
import { CoordinatorError } from '../tree/errors.js';
import type { MultiOp, TreeCommand } from '../tree/commands.js';
import type { ApplyOutcome, Stat, TreeCommandResult } from '../tree/results.js';
import { isOneShot, type WatchMode, type WatchNotification, type WatchSpec } from '../tree/watch-manager.js';
import type { WatchEventType } from '../tree/watch-event.js';
import type { Logger } from '../ops/logger.js';
import { errorToWire, modeFromWire, statToWire } from '../client/wire-convert.js';
import { ResponseBatcher } from '../client/correlated-stream.js';
import type {
  WireAddWatch, WireClientRequest, WireClientResponse, WireCreateRequest, WireDeleteRequest, WireEventType, WireOp, WireSetRequest, WireStatus,
  WireWatchEvent,
  WireWatchRequest,
} from '../client/wire-types.js';
import type { CoordinatorNode } from './coordinator-node.js';
import type { CoordinatorMetrics } from './metrics.js';

export interface ClientServiceContext {
  node: CoordinatorNode;
  logger: Logger;
  metrics?: CoordinatorMetrics;
  /** This member's client address, reported in Status. */
  clientAddress: () => string;
  clock?: () => number;
  /** Member statuses for Status (peers' views); may be slow, so it has its own deadline. */
  memberStatuses(): Promise<WireStatus['members']>;
}

/** Bytes a watch stream may have queued towards a slow client before it is cut off (it resumes). */
const MAX_WATCH_STREAM_BACKLOG_BYTES = 16 << 20;
const PROGRESS_INTERVAL_MS = 1_000;
const MAX_KEEPALIVE_SESSIONS_PER_STREAM = 16;
/** Requests one Requests stream may have in progress; beyond, they are refused (not executed). */
const MAX_REQUESTS_PER_STREAM = 4_096;
/** Answers queued towards a slow client before new requests on its stream are refused. */
const MAX_REQUEST_STREAM_BACKLOG_BYTES = 64 << 20;

const EVENT_TO_WIRE: Record<WatchEventType, WireEventType> = {
  created: 'CREATED',
  deleted: 'DELETED',
  dataChanged: 'DATA_CHANGED',
  childrenChanged: 'CHILDREN_CHANGED',
};

function watchMode(add: WireAddWatch): WatchMode {
  if (add.persistent) return add.recursive ? 'persistentRecursive' : 'persistent';
  switch (add.kind) {
    case 'CHILDREN':
      return 'children';
    case 'EXISTS':
      return 'exists';
    case 'DATA':
      return 'data';
    default:
      throw new CoordinatorError('INVALID_ARGUMENT', { message: `unknown watch kind ${JSON.stringify(add.kind)}` });
  }
}

function specKey(path: string, mode: WatchMode): string {
  return `${mode}\u0000${path}`;
}

function resultOrThrow<T extends TreeCommandResult['type']>(outcome: ApplyOutcome, type: T): Extract<TreeCommandResult, { type: T }> {
  const r = outcome.result;
  if (r.type === 'error') throw r.error;
  if (r.type !== type) throw new CoordinatorError('INTERNAL', { message: `expected a ${type} result, got ${r.type}` });
  return r as Extract<TreeCommandResult, { type: T }>;
}

function wireStat(stat: Stat | null | undefined): ReturnType<typeof statToWire> | null {
  return stat ? statToWire(stat) : null;
}

function toMultiOp(op: WireOp & { op?: string }): { op: MultiOp; sessionId: number } {
  const o = op as unknown as Record<string, unknown> & { op?: string };
  switch (o.op) {
    case 'check': {
      const c = o.check as { path: string; version: number };
      return { op: { type: 'check', path: c.path, expectedVersion: c.version }, sessionId: 0 };
    }
    case 'create': {
      const c = o.create as WireCreateRequest;
      return { op: { type: 'create', path: c.path, data: c.data, mode: modeFromWire(c.mode) }, sessionId: c.sessionId };
    }
    case 'set': {
      const c = o.set as WireSetRequest;
      return { op: { type: 'setData', path: c.path, data: c.data, expectedVersion: c.version }, sessionId: 0 };
    }
    case 'delete': {
      const c = o.delete as WireDeleteRequest;
      return { op: { type: 'delete', path: c.path, expectedVersion: c.version }, sessionId: 0 };
    }
    default:
      throw new CoordinatorError('INVALID_ARGUMENT', { message: 'multi op has no operation' });
  }
}

export function coordinatorServiceHandlers(ctx: ClientServiceContext): grpc.UntypedServiceImplementation {
  const { node, logger, metrics } = ctx;
  const clock = ctx.clock ?? Date.now;
  let watcherSeq = 0;

  /** Runs one request: metrics, typed errors in-band, never a rejection. */
  function run<Req, Res extends object>(op: string, fn: (req: Req) => Promise<Res>, req: Req): Promise<Res | { error: unknown }> {
    const started = performance.now();
    metrics?.requests.inc({ op });
    return fn(req)
      .catch((err: unknown) => {
        const wire = errorToWire(err);
        metrics?.requestErrors.inc({ op, code: wire.code });
        if (wire.code === 'INTERNAL') logger.error('request failed', { op, error: err, stack: (err as Error)?.stack });
        return { error: wire };
      })
      .finally(() => metrics?.requestDuration.observe({ op }, (performance.now() - started) / 1000));
  }

  /** The requests that may also come on the Requests stream, by their oneof name. */
  const streamable = new Map<string, (req: never) => Promise<object>>();

  /** Wraps a request handler as a unary gRPC handler, and makes it available on the stream. */
  function unary<Req, Res extends object>(op: string, fn: (req: Req) => Promise<Res>, onStream = true): grpc.handleUnaryCall<Req, Res | { error: unknown }> {
    if (onStream) streamable.set(op, fn as (req: never) => Promise<object>);
    return (call, callback) => {
      void run(op, fn, call.request).then((res) => callback(null, res));
    };
  }

  const write = async (command: TreeCommand): Promise<ApplyOutcome> => node.propose(command);

  return {
    openSession: unary('openSession', async (req: { timeoutMs: number }) => {
      const timeoutMs = node.sessions.clampTimeout(req.timeoutMs || 10_000);
      const outcome = await write({ type: 'createSession', sessionId: 0, timeoutMs, timeMs: clock() });
      const r = resultOrThrow(outcome, 'createSession');
      return { sessionId: r.sessionId, timeoutMs: r.timeoutMs };
    }, false),

    closeSession: unary('closeSession', async (req: { sessionId: number }) => {
      resultOrThrow(await write({ type: 'closeSession', sessionId: req.sessionId, timeMs: clock() }), 'closeSession');
      return {};
    }, false),

    create: unary('create', async (req: WireCreateRequest) => {
      const outcome = await write({
        type: 'create', path: req.path, data: req.data, mode: modeFromWire(req.mode), sessionId: req.sessionId, timeMs: clock(),
      });
      const r = resultOrThrow(outcome, 'create');
      return { path: r.path, stat: wireStat(r.stat) };
    }),

    set: unary('set', async (req: WireSetRequest) => {
      const outcome = await write({
        type: 'setData', path: req.path, data: req.data, expectedVersion: req.version, sessionId: 0, timeMs: clock(),
      });
      return { stat: wireStat(resultOrThrow(outcome, 'setData').stat) };
    }),

    delete: unary('delete', async (req: WireDeleteRequest) => {
      resultOrThrow(await write({ type: 'delete', path: req.path, expectedVersion: req.version, sessionId: 0, timeMs: clock() }), 'delete');
      return {};
    }),

    multi: unary('multi', async (req: { ops: WireOp[] }) => {
      const converted = (req.ops ?? []).map(toMultiOp);
      const sessionId = converted.find((c) => c.sessionId)?.sessionId ?? 0;
      const outcome = await write({ type: 'multi', ops: converted.map((c) => c.op), sessionId, timeMs: clock() });
      const r = resultOrThrow(outcome, 'multi');
      return { results: r.results.map((x) => ({ path: x.path, stat: 'stat' in x ? wireStat(x.stat) : null })) };
    }),

    get: unary('get', async (req: { path: string }) => {
      await node.linearizableRead();
      const z = node.data.get(req.path);
      return { data: Buffer.from(z.data), stat: wireStat(z.stat) };
    }),

    exists: unary('exists', async (req: { path: string }) => {
      await node.linearizableRead();
      const stat = node.data.exists(req.path);
      return { exists: stat !== null, stat: wireStat(stat) };
    }),

    children: unary('children', async (req: { path: string }) => {
      await node.linearizableRead();
      const c = node.data.children(req.path);
      return { children: c.children, stat: wireStat(c.stat) };
    }),

    requests: (call: grpc.ServerDuplexStream<{ requests: WireClientRequest[] }, { responses: WireClientResponse[] }>) => {
      const out = new ResponseBatcher<WireClientResponse>(call);
      call.on('data', (batch: { requests: WireClientRequest[] }) => {
        for (const req of batch.requests ?? []) {
          const correlationId = req.correlationId;
          const op = req.request;
          const fn = op ? streamable.get(op) : undefined;
          const payload = op ? (req as unknown as Record<string, unknown>)[op] : undefined;
          if (!op || !fn || payload === undefined) {
            out.answer({ correlationId, error: errorToWire(new CoordinatorError('INVALID_ARGUMENT', { message: `unknown request ${JSON.stringify(op)}` })) });
            continue;
          }
          if (out.inProgress >= MAX_REQUESTS_PER_STREAM || out.backlogBytes > MAX_REQUEST_STREAM_BACKLOG_BYTES) {
            // Not executed: the client may send it again (or elsewhere).
            out.answer({ correlationId, error: errorToWire(new CoordinatorError('UNAVAILABLE', { message: 'too many requests in flight on this stream' })) });
            continue;
          }
          out.track(run(op, fn as (req: unknown) => Promise<object>, payload).then((res) => ({ correlationId, error: null, [op]: res })));
        }
      });
    },

    status: (_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<WireStatus>) => {
      const self: WireStatus = {
        id: node.id, role: node.currentRole, term: node.term, commitIndex: node.commitIndex, appliedIndex: node.applied,
        leaderId: node.leaderId ?? 0, sessions: node.sessionCount, znodes: node.znodeCount, members: [],
        address: ctx.clientAddress(),
      };
      ctx
        .memberStatuses()
        .then((members) => callback(null, { ...self, members }))
        .catch(() => callback(null, self));
    },

    keepAlive: (call: grpc.ServerDuplexStream<{ sessionId: number }, unknown>) => {
      const seen = new Set<number>();
      call.on('data', (req: { sessionId: number }) => {
        metrics?.requests.inc({ op: 'keepAlive' });
        if (!seen.has(req.sessionId)) {
          if (seen.size >= MAX_KEEPALIVE_SESSIONS_PER_STREAM) {
            call.write({ sessionId: req.sessionId, error: errorToWire(new CoordinatorError('INVALID_ARGUMENT', { message: 'too many sessions on one keep-alive stream' })) });
            return;
          }
          seen.add(req.sessionId);
        }
        const state = node.touchSession(req.sessionId);
        if (state === 'ok') {
          const timeoutMs = node.data.session(req.sessionId)?.timeoutMs ?? 0;
          call.write({ sessionId: req.sessionId, timeoutMs });
        } else {
          const code = state === 'unknown' ? 'UNKNOWN_SESSION' : 'SESSION_EXPIRED';
          metrics?.requestErrors.inc({ op: 'keepAlive', code });
          call.write({ sessionId: req.sessionId, error: errorToWire(new CoordinatorError(code, { details: { sessionId: req.sessionId } })) });
        }
      });
      call.on('end', () => call.end());
      call.on('error', () => {});
    },

    watch: (call: grpc.ServerDuplexStream<WireWatchRequest, Partial<WireWatchEvent>>) => {
      const watcherId = `watch-${++watcherSeq}`;
      /** Which client watch ids stand behind each (path, mode) registered for this stream. */
      const idsBySpec = new Map<string, Set<number>>();
      const specById = new Map<number, WatchSpec>();
      let lastSentIndex = 0;
      let closed = false;

      const send = (ev: Partial<WireWatchEvent>): void => {
        if (closed) return;
        if (call.writableLength > MAX_WATCH_STREAM_BACKLOG_BYTES) {
          logger.warn('watch stream too far behind; closing it (the client resumes)', { watcherId });
          close();
          call.destroy(new Error('watch stream backlog limit reached'));
          return;
        }
        call.write(ev);
        if (ev.index && ev.index > lastSentIndex) lastSentIndex = ev.index;
      };

      const remember = (id: number, spec: WatchSpec): void => {
        const key = specKey(spec.path, spec.mode);
        let ids = idsBySpec.get(key);
        if (!ids) idsBySpec.set(key, (ids = new Set()));
        ids.add(id);
        specById.set(id, spec);
      };

      const notify = (notes: WatchNotification[]): void => {
        for (const n of notes) {
          for (const spec of n.triggered) {
            const key = specKey(spec.path, spec.mode);
            const ids = idsBySpec.get(key);
            if (!ids) continue;
            for (const id of ids) send({ watchId: id, type: EVENT_TO_WIRE[n.event.type], path: n.event.path, index: n.event.index });
            if (isOneShot(spec.mode)) {
              idsBySpec.delete(key);
              for (const id of ids) specById.delete(id);
            }
          }
        }
      };

      node.registerSink(watcherId, notify);
      const progress = setInterval(() => {
        const index = node.watches.lastIndex;
        if (index > lastSentIndex) send({ progress: true, index });
      }, PROGRESS_INTERVAL_MS);

      const close = (): void => {
        if (closed) return;
        closed = true;
        clearInterval(progress);
        node.unregisterSink(watcherId);
      };

      const resume = async (afterIndex: number, adds: WireAddWatch[]): Promise<void> => {
        const specs = adds.map((a) => ({ id: a.watchId, spec: { path: a.path, mode: watchMode(a) } }));
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            node.waitApplied(afterIndex),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new CoordinatorError('UNAVAILABLE', { message: 'member is behind the client' })), 5_000);
            }),
          ]);
        } finally {
          clearTimeout(timer);
        }
        let notes: WatchNotification[];
        try {
          notes = node.watches.resume(watcherId, specs.map((s) => s.spec), afterIndex);
        } catch (err) {
          if (!(err instanceof CoordinatorError && err.code === 'RESYNC_REQUIRED')) throw err;
          // Events are gone: tell the client to re-read, and keep its persistent watches going from now.
          send({ error: errorToWire(err), index: node.watches.lastIndex });
          const persistent = specs.filter((s) => !isOneShot(s.spec.mode));
          for (const s of persistent) {
            node.watches.addWatch(watcherId, s.spec.path, s.spec.mode);
            remember(s.id, s.spec);
          }
          send({ added: true, watchId: 0, index: node.watches.lastIndex });
          return;
        }
        for (const s of specs) remember(s.id, s.spec);
        // Replayed events first, then the acknowledgement: it tells the client that everything
        // up to this member's applied index has now come down the stream.
        notify(notes);
        send({ added: true, watchId: 0, index: node.watches.lastIndex });
      };

      call.on('data', (req: WireWatchRequest) => {
        void (async () => {
          try {
            if (req.add) {
              const spec = { path: req.add.path, mode: watchMode(req.add) };
              node.watches.addWatch(watcherId, spec.path, spec.mode);
              remember(req.add.watchId, spec);
              send({ added: true, watchId: req.add.watchId, index: node.watches.lastIndex });
            } else if (req.remove) {
              const spec = specById.get(req.remove.watchId);
              if (!spec) return;
              specById.delete(req.remove.watchId);
              const key = specKey(spec.path, spec.mode);
              const ids = idsBySpec.get(key);
              ids?.delete(req.remove.watchId);
              if (ids && ids.size === 0) {
                idsBySpec.delete(key);
                node.watches.removeWatch(watcherId, spec.path, spec.mode);
              }
            } else if (req.resume) {
              await resume(req.resume.afterIndex, req.resume.watches ?? []);
            }
            metrics?.watches.set(node.watches.watchCount());
          } catch (err) {
            send({ watchId: req.add?.watchId ?? 0, error: errorToWire(err), index: node.watches.lastIndex });
          }
        })();
      });
      call.on('end', () => {
        close();
        call.end();
      });
      call.on('cancelled', close);
      call.on('error', close);
      call.on('close', close);
    },
  };
}
