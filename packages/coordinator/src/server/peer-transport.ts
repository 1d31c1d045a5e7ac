// Raft messages between ensemble members over gRPC. Each send() goes out at once as one message
// on a long-lived stream per peer (Peer.DeliverStream), in send order: no waiting for the
// previous batch to be acknowledged, no call per batch. Raft tolerates loss, so when a peer is
// down or too much is buffered towards it, messages are dropped (and counted) rather than
// buffered without limit; a broken stream is reopened by the next send after a short backoff.
//
// A peer without the stream (an older member: UNIMPLEMENTED) gets Peer.Deliver calls, one in
// flight at a time to keep send order, whatever queued meanwhile going out as the next batch.
// Forwarded writes travel the same way (Peer.ForwardStream, else Peer.Forward).
//
// The transport also says when an established connection with a peer broke (its channel left
// READY): a process killed on the same host or LAN has its sockets reset at once, so Raft need
// not wait out an election timeout to suspect its leader (RaftNode.peerConnectionLost). A peer
// never reached (down, partitioned) never was READY and causes no report.

import * as grpc from '@grpc/grpc-js';
import { encodeMessage } from '../raft/message-codec.js';
import type { Message, NodeId } from '../raft/types.js';
import { CHANNEL_OPTIONS, COORDINATOR_PROTO } from '../client/rpc.js';
import { CorrelatedStream } from '../client/correlated-stream.js';
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
  /** Messages waiting for one peer before new ones are dropped (unary fallback). */
  maxQueuedMessages?: number;
  /** Bytes buffered on a peer's stream (not yet taken by the network) before sends are dropped. */
  maxBufferedBytes?: number;
  /** Bytes per Deliver call (at least one message is always sent). */
  maxBatchBytes?: number;
  /** Deadline of one Deliver call. */
  deliverTimeoutMs?: number;
  /** Pause after a failed call before the next one, so a dead peer costs no busy loop. */
  retryBackoffMs?: number;
  onDropped?(peer: NodeId, count: number): void;
  onSent?(peer: NodeId, count: number): void;
  /** An established connection with `peer` broke (each time its channel leaves READY). */
  onConnectionLost?(peer: NodeId): void;
}

type Unary = (req: unknown, meta: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: unknown) => void) => void;
type ClientStreaming = (meta: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: unknown) => void) => grpc.ClientWritableStream<RaftBatch>;

interface RaftBatch {
  from: NodeId;
  messages: Buffer[];
}
interface ForwardResult {
  error: ProtoError | null;
  result: Buffer;
  index: number;
}

class PeerLink {
  readonly client: grpc.Client & Record<string, Unary>;
  /** Unary fallback: messages waiting for the call in flight. */
  queue: Buffer[] = [];
  inFlight = false;
  backoffUntil = 0;
  timer: NodeJS.Timeout | null = null;
  stream: grpc.ClientWritableStream<RaftBatch> | null = null;
  /** The peer answered UNIMPLEMENTED to DeliverStream: use Deliver calls. */
  streamUnsupported = false;
  readonly forwards: CorrelatedStream<{ command: Uint8Array }, ForwardResult>;

  constructor(readonly id: NodeId, readonly address: string) {
    const Ctor = lookup<grpc.ServiceClientConstructor>(loadProto(COORDINATOR_PROTO), 'samsa.coordinator.v1.Peer');
    this.client = new Ctor(address, grpc.credentials.createInsecure(), PEER_CHANNEL_OPTIONS) as grpc.Client & Record<string, Unary>;
    type ForwardDuplex = grpc.ClientDuplexStream<
      { requests: { command: Uint8Array; correlationId: number }[] },
      { responses: (ForwardResult & { correlationId: number })[] }
    >;
    this.forwards = new CorrelatedStream<{ command: Uint8Array }, ForwardResult>(() =>
      (this.client as unknown as { forwardStream(): ForwardDuplex }).forwardStream(),
    );
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
  private readonly maxBufferedBytes: number;
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
    this.maxBufferedBytes = options.maxBufferedBytes ?? 64 << 20;
    this.maxBatchBytes = options.maxBatchBytes ?? 4 << 20;
    this.deliverTimeoutMs = options.deliverTimeoutMs ?? 5_000;
    this.retryBackoffMs = options.retryBackoffMs ?? 50;
    for (const link of this.links.values()) this.watchConnection(link);
  }

  private watchConnection(link: PeerLink): void {
    const channel = link.client.getChannel();
    const state = channel.getConnectivityState(false);
    if (state === grpc.connectivityState.SHUTDOWN) return;
    // No deadline: no timer, nothing keeps the process alive; close() ends the watch (SHUTDOWN).
    channel.watchConnectivityState(state, Infinity, () => {
      if (this.closed) return;
      if (state === grpc.connectivityState.READY) this.options.onConnectionLost?.(link.id);
      this.watchConnection(link);
    });
  }

  send(messages: readonly Message[]): void {
    if (this.closed || messages.length === 0) return;
    const byLink = new Map<PeerLink, Buffer[]>();
    for (const m of messages) {
      const link = this.links.get(m.to);
      if (!link) continue;
      let list = byLink.get(link);
      if (!list) byLink.set(link, (list = []));
      list.push(Buffer.from(encodeMessage(m)));
    }
    for (const [link, batch] of byLink) {
      if (link.streamUnsupported) this.enqueue(link, batch);
      else this.write(link, batch);
    }
  }

  private write(link: PeerLink, batch: Buffer[]): void {
    if (!link.stream) {
      if (Date.now() < link.backoffUntil) {
        this.options.onDropped?.(link.id, batch.length);
        return;
      }
      this.openStream(link);
    }
    const stream = link.stream!;
    if (stream.writableLength > this.maxBufferedBytes) {
      // The peer does not take what we send (hung, or far slower): Raft resends what matters.
      this.options.onDropped?.(link.id, batch.length);
      return;
    }
    stream.write({ from: this.selfId, messages: batch });
    this.options.onSent?.(link.id, batch.length);
  }

  private openStream(link: PeerLink): void {
    const open = link.client['deliverStream'] as unknown as ClientStreaming;
    const stream = open.call(link.client, new grpc.Metadata(), {}, (err) => {
      if (link.stream !== stream) return;
      link.stream = null;
      if (err?.code === grpc.status.UNIMPLEMENTED) {
        link.streamUnsupported = true;
      } else if (!this.closed) {
        // The peer is down or restarting: do not reconnect in a busy loop.
        link.backoffUntil = Date.now() + this.retryBackoffMs;
      }
    });
    link.stream = stream;
  }

  private enqueue(link: PeerLink, batch: Buffer[]): void {
    for (const b of batch) {
      if (link.queue.length >= this.maxQueued) {
        this.options.onDropped?.(link.id, 1);
        continue;
      }
      link.queue.push(b);
    }
    this.pump(link);
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

  forward(to: NodeId, command: Uint8Array, timeoutMs: number): Promise<ForwardResult> {
    const link = this.mustLink(to);
    return link.forwards.request({ command }, timeoutMs, () => link.unary('forward', { command }, timeoutMs));
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
      link.forwards.close();
      if (link.stream) {
        const stream = link.stream;
        link.stream = null;
        stream.end();
      }
      link.client.close();
    }
  }
}
