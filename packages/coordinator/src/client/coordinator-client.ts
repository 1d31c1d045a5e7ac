// The client library of the coordination service: one session with the ensemble, kept alive by
// heartbeats on a stream, moved to another member when the one it talks to fails, and watches
// that survive reconnects without missing a change.
//
// Retry rules (why writes are careful): reads are retried anywhere until their deadline. A
// write is retried only when the error proves it was not executed (the member says NOT_LEADER
// or UNAVAILABLE, or no connection was ever made); when the outcome is unknown (the member died
// mid-request) the caller gets TIMEOUT, because blindly re-sending could apply it twice.

import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { CoordinatorError } from '../tree/errors.js';
import type { CreateMode } from '../tree/commands.js';
import type { Stat } from '../tree/results.js';
import { silentLogger, type Logger } from '../ops/logger.js';
import { CoordinatorRpc, type HasError } from './rpc.js';
import { errorFromWire, modeToWire, statFromWire } from './wire-convert.js';
import type { WireAddWatch, WireEventType, WireOp, WireStatus, WireWatchEvent, WireWatchRequest } from './wire-types.js';

export type ClientState = 'connecting' | 'connected' | 'disconnected' | 'expired' | 'closed';

export interface CoordinatorClientOptions {
  /** `host:port,host:port,…` or a list: every member's client address. */
  coordinators: string | string[];
  sessionTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** How long connect() waits for a session. */
  connectTimeoutMs?: number;
  logger?: Logger;
}

export type ZnodeEventType = 'created' | 'deleted' | 'dataChanged' | 'childrenChanged';

export interface ZnodeEvent {
  type: ZnodeEventType;
  path: string;
  /** Commit index of the change. */
  index: number;
}

/** `resync`: events may have been missed (history exhausted); re-read what you watch. */
export type WatchListener = (event: ZnodeEvent | { type: 'resync'; path: string; index: number }) => void;

export interface WatchOptions {
  /** What to watch (ZooKeeper's getData / getChildren / exists watches). Default data. */
  kind?: 'data' | 'children' | 'exists';
  /** Stays after firing (ZooKeeper 3.6 addWatch). Default false: one-shot. */
  persistent?: boolean;
  /** With persistent: every created/changed/deleted znode of the subtree. */
  recursive?: boolean;
}

export interface WatchHandle {
  readonly id: number;
  /** Resolves once the member registered the watch: read after this to never miss a change. */
  readonly ready: Promise<void>;
  remove(): void;
}

export type MultiOpInput =
  | { type: 'check'; path: string; version: number }
  | { type: 'create'; path: string; data?: Uint8Array | string; mode?: CreateMode }
  | { type: 'setData'; path: string; data: Uint8Array | string; version?: number }
  | { type: 'delete'; path: string; version?: number };

export type MultiOpOutput = { path: string; stat: Stat | null };

const WIRE_EVENT: Record<WireEventType, ZnodeEventType> = {
  CREATED: 'created',
  DELETED: 'deleted',
  DATA_CHANGED: 'dataChanged',
  CHILDREN_CHANGED: 'childrenChanged',
};

function toBuffer(data: Uint8Array | string | undefined): Buffer {
  if (data === undefined) return Buffer.alloc(0);
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

export function parseAddresses(coordinators: string | string[]): string[] {
  const list = (Array.isArray(coordinators) ? coordinators : coordinators.split(','))
    .map((a) => a.trim())
    .filter((a) => a.length > 0);
  if (list.length === 0) throw new CoordinatorError('INVALID_ARGUMENT', { message: 'no coordinator addresses given' });
  for (const a of list) {
    if (!/^[^\s:]+:\d{1,5}$/.test(a) && !/^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(a)) {
      throw new CoordinatorError('INVALID_ARGUMENT', { message: `bad coordinator address ${JSON.stringify(a)} (want host:port)` });
    }
  }
  return list;
}

/** The request never reached a member, so it is safe to send it again elsewhere. */
function notSent(err: grpc.ServiceError): boolean {
  return err.code === grpc.status.UNAVAILABLE && /No connection established|ECONNREFUSED|failed to connect/i.test(err.details ?? '');
}

function isServiceError(err: unknown): err is grpc.ServiceError {
  return typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'number' && 'details' in err;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Longest pause between retries. Retries wait out an election (0.5–1 s by default), so the pause
 * bounds how late after the new leader a write gets through: at 500 ms it added up to half a
 * second to failover; a retry costs the member one cheap refusal.
 */
const MAX_RETRY_BACKOFF_MS = 100;

interface ClientWatch {
  spec: WireAddWatch;
  listener: WatchListener;
  oneShot: boolean;
  acked: boolean;
  resolveReady: () => void;
}

/**
 * One session with the ensemble. Create with CoordinatorClient.connect(); close() ends the
 * session (its ephemeral znodes go at once). After 'expired' the object is dead: make a new one.
 * Events: 'connected' (sessionId), 'disconnected', 'expired', 'closed'.
 */
export class CoordinatorClient extends EventEmitter {
  readonly addresses: string[];
  readonly requestTimeoutMs: number;
  private readonly rpcs: CoordinatorRpc[];
  private current = 0;
  private _state: ClientState = 'connecting';
  private _sessionId = 0;
  private _sessionTimeoutMs: number;
  private readonly logger: Logger;

  private keepAliveStream: grpc.ClientDuplexStream<{ sessionId: number }, HasError & { sessionId: number; timeoutMs: number }> | null = null;
  private keepAliveTimer: NodeJS.Timeout | null = null;
  private lastAckAt = 0;

  private watchStream: grpc.ClientDuplexStream<WireWatchRequest, WireWatchEvent> | null = null;
  private watchReopenTimer: NodeJS.Timeout | null = null;
  private readonly watches = new Map<number, ClientWatch>();
  private nextWatchId = 1;
  /** Highest commit index whose events were all delivered: where a resumed stream starts. */
  private completeIndex = 0;
  private deliveringIndex = 0;
  /** Events already handed out at deliveringIndex (watch id, type, path). */
  private readonly deliveredAtIndex = new Set<string>();

  private constructor(options: CoordinatorClientOptions) {
    super();
    this.addresses = parseAddresses(options.coordinators);
    this.rpcs = this.addresses.map((a) => new CoordinatorRpc(a));
    this.current = Math.floor(Math.random() * this.addresses.length);
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this._sessionTimeoutMs = options.sessionTimeoutMs ?? 10_000;
    this.logger = options.logger ?? silentLogger;
  }

  static async connect(options: CoordinatorClientOptions): Promise<CoordinatorClient> {
    const client = new CoordinatorClient(options);
    try {
      await client.openSession(options.connectTimeoutMs ?? 15_000);
    } catch (err) {
      client.shutdown();
      throw err;
    }
    return client;
  }

  get state(): ClientState {
    return this._state;
  }
  get sessionId(): number {
    return this._sessionId;
  }
  get sessionTimeoutMs(): number {
    return this._sessionTimeoutMs;
  }
  /** The member this client currently talks to. */
  get currentAddress(): string {
    return this.addresses[this.current]!;
  }

  private rotate(): void {
    this.current = (this.current + 1) % this.rpcs.length;
  }

  private async openSession(timeoutMs: number): Promise<void> {
    const res = await this.call('openSession', (rpc, ms) => rpc.openSession(this._sessionTimeoutMs, ms), { retryUnknown: false, timeoutMs });
    this._sessionId = res.sessionId;
    this._sessionTimeoutMs = res.timeoutMs;
    this.lastAckAt = Date.now();
    this.setState('connected');
    this.startKeepAlive();
  }

  private setState(state: ClientState): void {
    if (this._state === state) return;
    const was = this._state;
    this._state = state;
    this.logger.info('coordinator client state', { from: was, to: state, sessionId: this._sessionId, member: this.currentAddress });
    if (state === 'connected') this.emit('connected', this._sessionId);
    else if (state === 'disconnected') this.emit('disconnected');
    else if (state === 'expired') this.emit('expired');
    else if (state === 'closed') this.emit('closed');
  }

  private assertUsable(): void {
    if (this._state === 'expired') throw new CoordinatorError('SESSION_EXPIRED', { details: { sessionId: this._sessionId } });
    if (this._state === 'closed') throw new CoordinatorError('SESSION_EXPIRED', { message: 'client is closed' });
  }

  /**
   * Sends a request to the current member, moving to others while the error allows (see the
   * retry rules above) until the deadline.
   */
  private async call<R extends HasError>(
    op: string,
    send: (rpc: CoordinatorRpc, remainingMs: number) => Promise<R>,
    options: { retryUnknown: boolean; timeoutMs?: number },
  ): Promise<R> {
    const deadline = Date.now() + (options.timeoutMs ?? this.requestTimeoutMs);
    let backoff = 25;
    let lastError: unknown = null;
    for (;;) {
      if (this._state === 'closed') throw new CoordinatorError('SESSION_EXPIRED', { message: 'client is closed' });
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        if (lastError instanceof CoordinatorError) throw lastError;
        throw new CoordinatorError('TIMEOUT', { message: `${op} timed out: ${lastError instanceof Error ? lastError.message : 'no member answered'}` });
      }
      const rpc = this.rpcs[this.current]!;
      let res: R;
      try {
        res = await send(rpc, Math.min(remaining, this.requestTimeoutMs));
      } catch (err) {
        if (!isServiceError(err)) throw err;
        lastError = err;
        if (options.retryUnknown || notSent(err)) {
          this.rotate();
          await sleep(Math.min(backoff, Math.max(0, deadline - Date.now())));
          backoff = Math.min(backoff * 2, MAX_RETRY_BACKOFF_MS);
          continue;
        }
        throw new CoordinatorError('TIMEOUT', {
          message: `${op} to ${rpc.address} failed with its outcome unknown: ${err.details || err.message}`,
        });
      }
      if (res.error && res.error.code) {
        const e = errorFromWire(res.error);
        if (e.code === 'NOT_LEADER' || e.code === 'UNAVAILABLE' || e.code === 'UNKNOWN_SESSION') {
          lastError = e;
          await sleep(Math.min(backoff, Math.max(0, deadline - Date.now())));
          backoff = Math.min(backoff * 2, MAX_RETRY_BACKOFF_MS);
          if (e.code === 'UNAVAILABLE') this.rotate();
          continue;
        }
        throw e;
      }
      return res;
    }
  }

  // ---- session keep-alive ------------------------------------------------------------------

  private startKeepAlive(): void {
    const interval = Math.max(50, Math.floor(this._sessionTimeoutMs / 3));
    this.keepAliveTimer = setInterval(() => this.heartbeat(), interval);
    this.openKeepAliveStream();
  }

  private openKeepAliveStream(): void {
    if (this._state === 'closed' || this._state === 'expired') return;
    const stream = this.rpcs[this.current]!.keepAlive();
    this.keepAliveStream = stream;
    stream.on('data', (res: HasError & { sessionId: number; timeoutMs: number }) => {
      if (res.error && res.error.code) {
        const e = errorFromWire(res.error);
        if (e.code === 'SESSION_EXPIRED') {
          this.expire();
          return;
        }
        return; // UNKNOWN_SESSION (member behind) or UNAVAILABLE: keep beating, the timer moves on if needed
      }
      this.lastAckAt = Date.now();
      if (this._state === 'disconnected' || this._state === 'connecting') this.setState('connected');
    });
    const lost = (): void => {
      if (this.keepAliveStream !== stream) return;
      this.keepAliveStream = null;
    };
    stream.on('error', lost);
    stream.on('end', lost);
    stream.write({ sessionId: this._sessionId });
  }

  private heartbeat(): void {
    if (this._state === 'closed' || this._state === 'expired') return;
    const sinceAck = Date.now() - this.lastAckAt;
    // No answer for a third of the timeout, or no stream: try the next member, well before the
    // session could expire (ZooKeeper clients switch at 2/3; we keep more margin).
    if (!this.keepAliveStream || sinceAck > this._sessionTimeoutMs / 2) {
      if (this._state === 'connected' && sinceAck > this._sessionTimeoutMs / 2) this.setState('disconnected');
      this.keepAliveStream?.cancel();
      this.keepAliveStream = null;
      if (sinceAck > this._sessionTimeoutMs / 2) this.rotate();
      this.openKeepAliveStream();
      this.reopenWatchStream();
      return;
    }
    this.keepAliveStream.write({ sessionId: this._sessionId });
  }

  private expire(): void {
    if (this._state === 'expired' || this._state === 'closed') return;
    this.setState('expired');
    this.shutdown();
  }

  // ---- znode operations ----------------------------------------------------------------------

  async create(path: string, data?: Uint8Array | string, options: { mode?: CreateMode } = {}): Promise<{ path: string; stat: Stat }> {
    this.assertUsable();
    const req = { path, data: toBuffer(data), mode: modeToWire(options.mode ?? 'persistent'), sessionId: this._sessionId };
    const res = await this.call('create', (rpc, ms) => rpc.create(req, ms), { retryUnknown: false });
    return { path: res.path, stat: statFromWire(res.stat) };
  }

  async get(path: string): Promise<{ data: Buffer; stat: Stat }> {
    this.assertUsable();
    const res = await this.call('get', (rpc, ms) => rpc.get(path, ms), { retryUnknown: true });
    return { data: res.data, stat: statFromWire(res.stat) };
  }

  async set(path: string, data: Uint8Array | string, version = -1): Promise<Stat> {
    this.assertUsable();
    const req = { path, data: toBuffer(data), version };
    const res = await this.call('set', (rpc, ms) => rpc.set(req, ms), { retryUnknown: false });
    return statFromWire(res.stat);
  }

  async delete(path: string, version = -1): Promise<void> {
    this.assertUsable();
    await this.call('delete', (rpc, ms) => rpc.delete({ path, version }, ms), { retryUnknown: false });
  }

  async exists(path: string): Promise<Stat | null> {
    this.assertUsable();
    const res = await this.call('exists', (rpc, ms) => rpc.exists(path, ms), { retryUnknown: true });
    return res.exists ? statFromWire(res.stat) : null;
  }

  async children(path: string): Promise<{ children: string[]; stat: Stat }> {
    this.assertUsable();
    const res = await this.call('children', (rpc, ms) => rpc.children(path, ms), { retryUnknown: true });
    return { children: res.children, stat: statFromWire(res.stat) };
  }

  /** All or nothing; a failure throws the first failing op's error with details.failedOpIndex. */
  async multi(ops: MultiOpInput[]): Promise<MultiOpOutput[]> {
    this.assertUsable();
    const wire: WireOp[] = ops.map((op) => {
      switch (op.type) {
        case 'check':
          return { check: { path: op.path, version: op.version } };
        case 'create':
          return { create: { path: op.path, data: toBuffer(op.data), mode: modeToWire(op.mode ?? 'persistent'), sessionId: this._sessionId } };
        case 'setData':
          return { set: { path: op.path, data: toBuffer(op.data), version: op.version ?? -1 } };
        case 'delete':
          return { delete: { path: op.path, version: op.version ?? -1 } };
      }
    });
    const res = await this.call('multi', (rpc, ms) => rpc.multi(wire, ms), { retryUnknown: false });
    return res.results.map((r) => ({ path: r.path, stat: r.stat ? statFromWire(r.stat) : null }));
  }

  /** Creates `path` and any missing parents as persistent znodes; existing ones are fine. */
  async ensurePath(path: string, data?: Uint8Array | string): Promise<void> {
    const parts = path.split('/').filter(Boolean);
    let prefix = '';
    for (let i = 0; i < parts.length; i++) {
      prefix += '/' + parts[i];
      if (await this.exists(prefix)) continue;
      try {
        await this.create(prefix, i === parts.length - 1 ? data : undefined);
      } catch (err) {
        if (!(err instanceof CoordinatorError && err.code === 'NODE_EXISTS')) throw err;
      }
    }
  }

  /** The status of the member this client talks to (or of `address`). */
  async memberStatus(address?: string, timeoutMs = 2_000): Promise<WireStatus> {
    const rpc = address ? new CoordinatorRpc(address) : this.rpcs[this.current]!;
    try {
      return await rpc.status(timeoutMs);
    } finally {
      if (address) rpc.close();
    }
  }

  // ---- watches -----------------------------------------------------------------------------

  watch(path: string, options: WatchOptions, listener: WatchListener): WatchHandle {
    this.assertUsable();
    const id = this.nextWatchId++;
    const persistent = options.persistent ?? false;
    const spec: WireAddWatch = {
      watchId: id,
      path,
      kind: (options.kind ?? 'data').toUpperCase() as WireAddWatch['kind'],
      persistent,
      recursive: persistent && (options.recursive ?? false),
    };
    let resolveReady!: () => void;
    const ready = new Promise<void>((r) => (resolveReady = r));
    this.watches.set(id, { spec, listener, oneShot: !persistent, acked: false, resolveReady });
    if (this.watchStream) this.watchStream.write({ add: spec });
    else this.reopenWatchStream();
    return {
      id,
      ready,
      remove: () => {
        if (this.watches.delete(id)) this.watchStream?.write({ remove: { watchId: id } });
      },
    };
  }

  private reopenWatchStream(): void {
    if (this._state === 'closed' || this._state === 'expired') return;
    if (this.watchStream) {
      const old = this.watchStream;
      this.watchStream = null;
      old.cancel();
    }
    if (this.watches.size === 0) return;
    const stream = this.rpcs[this.current]!.watch();
    this.watchStream = stream;
    stream.on('data', (ev: WireWatchEvent) => this.onWatchEvent(ev));
    const lost = (): void => {
      if (this.watchStream !== stream) return;
      this.watchStream = null;
      if (this._state === 'closed' || this._state === 'expired' || this.watchReopenTimer) return;
      this.watchReopenTimer = setTimeout(() => {
        this.watchReopenTimer = null;
        if (!this.watchStream) this.reopenWatchStream();
      }, 200);
    };
    stream.on('error', lost);
    stream.on('end', lost);
    // Watches registered on an earlier stream resume from the last index delivered completely
    // (the member replays what they missed); watches never registered yet are simply added.
    const registered = [...this.watches.values()].filter((w) => w.acked);
    const fresh = [...this.watches.values()].filter((w) => !w.acked);
    if (registered.length > 0) stream.write({ resume: { afterIndex: this.completeIndex, watches: registered.map((w) => w.spec) } });
    for (const w of fresh) stream.write({ add: w.spec });
  }

  private onWatchEvent(ev: WireWatchEvent): void {
    if (ev.added) {
      if (ev.watchId) {
        const w = this.watches.get(ev.watchId);
        if (w && !w.acked) {
          w.acked = true;
          w.resolveReady();
        }
      }
      // Everything up to the index the member registered at has already come down this stream.
      if (ev.index > this.deliveringIndex) {
        this.deliveredAtIndex.clear();
        this.deliveringIndex = ev.index;
      }
      this.completeIndex = Math.max(this.completeIndex, ev.index);
      return;
    }
    if (ev.progress) {
      if (ev.index > this.deliveringIndex) this.deliveredAtIndex.clear();
      this.completeIndex = Math.max(this.completeIndex, ev.index);
      this.deliveringIndex = Math.max(this.deliveringIndex, ev.index);
      return;
    }
    if (ev.error && ev.error.code) {
      // RESYNC_REQUIRED: the member cannot replay from where we were; everything watched must be re-read.
      this.completeIndex = ev.index;
      this.deliveringIndex = ev.index;
      this.deliveredAtIndex.clear();
      for (const w of this.watches.values()) w.listener({ type: 'resync', path: w.spec.path, index: ev.index });
      for (const [id, w] of this.watches) if (w.oneShot) this.watches.delete(id);
      return;
    }
    // A resumed stream replays from the last index delivered completely, so events of the
    // index that was being delivered when the old stream broke may come again: drop those.
    const key = `${ev.watchId}\u0000${ev.type}\u0000${ev.path}`;
    if (ev.index < this.deliveringIndex) return;
    if (ev.index === this.deliveringIndex) {
      if (this.deliveredAtIndex.has(key)) return;
    } else {
      this.completeIndex = this.deliveringIndex;
      this.deliveringIndex = ev.index;
      this.deliveredAtIndex.clear();
    }
    if (this.deliveredAtIndex.size < 100_000) this.deliveredAtIndex.add(key);
    const w = this.watches.get(ev.watchId);
    if (!w) return;
    if (w.oneShot) this.watches.delete(ev.watchId);
    try {
      w.listener({ type: WIRE_EVENT[ev.type], path: ev.path, index: ev.index });
    } catch (err) {
      this.logger.error('watch listener threw', { path: ev.path, error: err });
    }
  }

  // ---- shutdown ----------------------------------------------------------------------------

  private shutdown(): void {
    if (this.keepAliveTimer) clearInterval(this.keepAliveTimer);
    if (this.watchReopenTimer) clearTimeout(this.watchReopenTimer);
    this.keepAliveTimer = null;
    this.watchReopenTimer = null;
    const ka = this.keepAliveStream;
    const ws = this.watchStream;
    this.keepAliveStream = null;
    this.watchStream = null;
    ka?.cancel();
    ws?.cancel();
    for (const rpc of this.rpcs) rpc.close();
  }

  /** Ends the session (its ephemeral znodes are deleted now) and releases connections. */
  async close(): Promise<void> {
    if (this._state === 'closed') return;
    if (this._state !== 'expired' && this._sessionId) {
      const ka = this.keepAliveTimer;
      if (ka) clearInterval(ka);
      this.keepAliveTimer = null;
      try {
        await this.call('closeSession', (rpc, ms) => rpc.closeSession(this._sessionId, ms), { retryUnknown: true, timeoutMs: 5_000 });
      } catch (err) {
        this.logger.warn('closeSession failed; the session will expire instead', { error: err });
      }
    }
    this.shutdown();
    this.setState('closed');
    this.removeAllListeners();
  }
}
