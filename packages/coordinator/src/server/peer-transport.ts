// Raft messages between ensemble members over gRPC (Peer.Deliver). One call in flight per
// peer keeps messages in send order; whatever queues up meanwhile goes out as the next batch,
// so a busy leader sends few, large calls. Raft tolerates loss, so when a peer is down or its
// queue is full, messages are dropped (and counted) rather than buffered without limit.

import * as grpc from '@grpc/grpc-js';
import { encodeMessage } from '../raft/message-codec.js';
import type { Message, NodeId } from '../raft/types.js';
import { CHANNEL_OPTIONS, COORDINATOR_PROTO } from '../client/rpc.js';
import { loadProto, lookup } from '../ops/proto.js';
import type { ProtoError, WireStatus } from '../client/wire-types.js';

/** Snapshots travel whole in one message; this bounds them (and any peer call). */
export const MAX_PEER_MESSAGE_BYTES = 256 << 20;

export const PEER_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  ...CHANNEL_OPTIONS,
  'grpc.max_receive_message_length': MAX_PEER_MESSAGE_BYTES,
  'grpc.max_send_message_length': MAX_PEER_MESSAGE_BYTES,
};

export interface PeerTransportOptions {
  /** Messages waiting for one peer before new ones are dropped. */
  maxQueuedMessages?: number;
  /** Bytes per Deliver call (at least one message is always sent). */
  maxBatchBytes?: number;
  /** Deadline of one Deliver call. */
  deliverTimeoutMs?: number;
  /** Pause after a failed call before the next one, so a dead peer costs no busy loop. */
  retryBackoffMs?: number;
  onDropped?(peer: NodeId, count: number): void;
  onSent?(peer: NodeId, count: number): void;
}

type Unary = (req: unknown, meta: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: unknown) => void) => void;

class PeerLink {
  readonly client: grpc.Client & Record<string, Unary>;
  queue: Buffer[] = [];
  inFlight = false;
  backoffUntil = 0;
  timer: NodeJS.Timeout | null = null;

  constructor(readonly id: NodeId, readonly address: string) {
    const Ctor = lookup<grpc.ServiceClientConstructor>(loadProto(COORDINATOR_PROTO), 'samsa.coordinator.v1.Peer');
    this.client = new Ctor(address, grpc.credentials.createInsecure(), PEER_CHANNEL_OPTIONS) as grpc.Client & Record<string, Unary>;
  }

  unary<Res>(method: string, request: unknown, timeoutMs: number): Promise<Res> {
    return new Promise((resolve, reject) => {
      this.client[method]!.call(this.client, request, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) =>
        err ? reject(err) : resolve(res as Res),
      );
    });
  }
}

/** Owned by one CoordinatorNode; close() at shutdown. */
export class PeerTransport {
  private readonly links = new Map<NodeId, PeerLink>();
  private readonly maxQueued: number;
  private readonly maxBatchBytes: number;
  private readonly deliverTimeoutMs: number;
  private readonly retryBackoffMs: number;
  private closed = false;

  constructor(
    private readonly selfId: NodeId,
    peers: ReadonlyMap<NodeId, string>,
    private readonly options: PeerTransportOptions = {},
  ) {
    for (const [id, address] of peers) if (id !== selfId) this.links.set(id, new PeerLink(id, address));
    this.maxQueued = options.maxQueuedMessages ?? 4096;
    this.maxBatchBytes = options.maxBatchBytes ?? 4 << 20;
    this.deliverTimeoutMs = options.deliverTimeoutMs ?? 5_000;
    this.retryBackoffMs = options.retryBackoffMs ?? 50;
  }

  send(messages: readonly Message[]): void {
    if (this.closed) return;
    const touched = new Set<PeerLink>();
    for (const m of messages) {
      const link = this.links.get(m.to);
      if (!link) continue;
      if (link.queue.length >= this.maxQueued) {
        this.options.onDropped?.(m.to, 1);
        continue;
      }
      link.queue.push(Buffer.from(encodeMessage(m)));
      touched.add(link);
    }
    for (const link of touched) this.pump(link);
  }

  private pump(link: PeerLink): void {
    if (this.closed || link.inFlight || link.queue.length === 0) return;
    const wait = link.backoffUntil - Date.now();
    if (wait > 0) {
      link.timer ??= setTimeout(() => {
        link.timer = null;
        this.pump(link);
      }, wait);
      return;
    }
    let bytes = 0;
    let n = 0;
    while (n < link.queue.length && (n === 0 || bytes + link.queue[n]!.length <= this.maxBatchBytes)) {
      bytes += link.queue[n]!.length;
      n++;
    }
    const batch = link.queue.splice(0, n);
    link.inFlight = true;
    link
      .unary('deliver', { from: this.selfId, messages: batch }, this.deliverTimeoutMs)
      .then(
        () => this.options.onSent?.(link.id, batch.length),
        () => {
          // The peer is down or slow: Raft resends what matters; drop what queued meanwhile too,
          // since it is stale by the time the peer is back.
          this.options.onDropped?.(link.id, batch.length + link.queue.length);
          link.queue = [];
          link.backoffUntil = Date.now() + this.retryBackoffMs;
        },
      )
      .finally(() => {
        link.inFlight = false;
        this.pump(link);
      });
  }

  forward(to: NodeId, command: Uint8Array, timeoutMs: number): Promise<{ error: ProtoError | null; result: Buffer; index: number }> {
    const link = this.mustLink(to);
    return link.unary('forward', { command }, timeoutMs);
  }

  touchSessions(to: NodeId, sessionIds: number[], timeoutMs: number): Promise<{ expired: number[] }> {
    return this.mustLink(to).unary('touchSessions', { sessionIds }, timeoutMs);
  }

  peerStatus(to: NodeId, timeoutMs: number): Promise<WireStatus> {
    return this.mustLink(to).unary('status', {}, timeoutMs);
  }

  private mustLink(id: NodeId): PeerLink {
    const link = this.links.get(id);
    if (!link) throw new Error(`no peer ${id}`);
    return link;
  }

  close(): void {
    this.closed = true;
    for (const link of this.links.values()) {
      if (link.timer) clearTimeout(link.timer);
      link.client.close();
    }
  }
}
