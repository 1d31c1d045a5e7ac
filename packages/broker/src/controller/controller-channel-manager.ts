// Delivery of controller requests (Kafka's ControllerChannelManager): one FIFO queue per live
// broker, one request in flight per broker so a broker sees them in the order the controller
// decided them, each send bounded by a timeout and re-sent with exponential back-off until the
// broker answers or leaves. Queues are bounded: a broker that falls maxQueuedRequestsPerBroker
// behind has its queue dropped and the controller resends it the whole current state instead
// (requests carry full partition states with epochs, so a full resync replaces any backlog).
//
// Lifecycle: one manager per controller activation; close() on resignation drops everything.

import type { Logger } from '@samsa/coordinator';
import type { LeaderAndIsrResponse, StopReplicaResponse, UpdateMetadataResponse, WireKafkaError } from '@samsa/client';
import type { BrokerChannel, BrokerEndpoint } from './broker-channel.js';
import type { ControllerClock, TimerHandle } from './controller-clock.js';
import type { ControllerLimits } from './controller-config.js';
import type { ControllerRequest } from './request-batch.js';

export type ControllerResponse =
  | { kind: 'leaderAndIsr'; response: LeaderAndIsrResponse }
  | { kind: 'updateMetadata'; response: UpdateMetadataResponse }
  | { kind: 'stopReplica'; response: StopReplicaResponse };

/** Called once per request: with the response, or null when it was dropped (broker left, queue reset, controller resigned). */
export type DeliveryCallback = (response: ControllerResponse | null) => void;

interface QueuedRequest {
  payload: ControllerRequest;
  onDone: DeliveryCallback | undefined;
}

interface BrokerQueue {
  endpoint: BrokerEndpoint;
  items: QueuedRequest[];
  inFlight: boolean;
  closed: boolean;
  backoffMs: number;
  retryTimer: TimerHandle | null;
}

export interface ChannelManagerOptions {
  channel: BrokerChannel;
  clock: ControllerClock;
  logger: Logger;
  limits: Pick<ControllerLimits, 'maxQueuedRequestsPerBroker' | 'requestRetryBackoffMs' | 'requestRetryBackoffMaxMs' | 'brokerRequestTimeoutMs'>;
  /** A broker's queue overflowed and was dropped: the owner must resend it the full state. */
  onOverflow(brokerId: number): void;
}

class SendTimeoutError extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
  }
}

export class ControllerChannelManager {
  private readonly queues = new Map<number, BrokerQueue>();
  private closed = false;

  constructor(private readonly options: ChannelManagerOptions) {}

  /** Starts (or, with a new endpoint, restarts) the queue of a broker that registered. */
  addBroker(endpoint: BrokerEndpoint): void {
    if (this.closed) return;
    const existing = this.queues.get(endpoint.id);
    if (existing) {
      const e = existing.endpoint;
      if (e.host === endpoint.host && e.port === endpoint.port && e.rack === endpoint.rack) return;
      // A broker that moved: what is queued was meant for it, so keep the requests, send them there.
      existing.endpoint = { ...endpoint };
      return;
    }
    this.queues.set(endpoint.id, {
      endpoint: { ...endpoint },
      items: [],
      inFlight: false,
      closed: false,
      backoffMs: this.options.limits.requestRetryBackoffMs,
      retryTimer: null,
    });
  }

  hasBroker(id: number): boolean {
    return this.queues.has(id);
  }

  /** The broker left: drop its queue (callbacks get null) and its connection. */
  removeBroker(id: number): void {
    const q = this.queues.get(id);
    if (!q) return;
    this.queues.delete(id);
    this.closeQueue(q);
    this.options.channel.disconnect?.(id);
  }

  /** Drops what is queued for a broker (callbacks get null); the request in flight may still land. */
  resetQueue(id: number): void {
    const q = this.queues.get(id);
    if (!q) return;
    const dropped = q.items.splice(q.inFlight ? 1 : 0);
    for (const item of dropped) item.onDone?.(null);
  }

  queuedCount(id: number): number {
    return this.queues.get(id)?.items.length ?? 0;
  }

  /**
   * Queues a request. False when the broker is unknown or its queue overflowed (then the queue
   * is dropped and onOverflow called); the callback has been called with null in both cases.
   */
  send(brokerId: number, payload: ControllerRequest, onDone?: DeliveryCallback): boolean {
    const q = this.queues.get(brokerId);
    if (!q || this.closed) {
      onDone?.(null);
      return false;
    }
    if (q.items.length >= this.options.limits.maxQueuedRequestsPerBroker) {
      this.options.logger.warn('controller request queue overflowed: dropping it for a full resync', {
        brokerId,
        queued: q.items.length,
      });
      this.resetQueue(brokerId);
      onDone?.(null);
      this.options.onOverflow(brokerId);
      return false;
    }
    q.items.push({ payload, onDone });
    this.pump(q);
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const [id, q] of this.queues) {
      this.closeQueue(q);
      this.options.channel.disconnect?.(id);
    }
    this.queues.clear();
  }

  private closeQueue(q: BrokerQueue): void {
    q.closed = true;
    if (q.retryTimer !== null) this.options.clock.clearTimeout(q.retryTimer);
    q.retryTimer = null;
    const items = q.items.splice(0);
    for (const item of items) item.onDone?.(null);
  }

  private pump(q: BrokerQueue): void {
    if (q.closed || q.inFlight || q.retryTimer !== null || q.items.length === 0) return;
    const head = q.items[0]!;
    q.inFlight = true;
    void this.dispatch(q.endpoint, head.payload).then(
      (response) => {
        q.inFlight = false;
        if (q.closed) return;
        if (q.items[0] === head) q.items.shift();
        q.backoffMs = this.options.limits.requestRetryBackoffMs;
        this.logResponseError(q.endpoint.id, response);
        head.onDone?.(response);
        this.pump(q);
      },
      (err: unknown) => {
        q.inFlight = false;
        if (q.closed) return;
        if (q.items[0] !== head) {
          // The queue was reset while this was in flight; carry on with what is there now.
          this.pump(q);
          return;
        }
        const wait = q.backoffMs;
        q.backoffMs = Math.min(q.backoffMs * 2, this.options.limits.requestRetryBackoffMaxMs);
        this.options.logger.debug('controller request not delivered; retrying', {
          brokerId: q.endpoint.id,
          kind: head.payload.kind,
          retryInMs: wait,
          error: err,
        });
        q.retryTimer = this.options.clock.setTimeout(() => {
          q.retryTimer = null;
          this.pump(q);
        }, wait);
      },
    );
  }

  private async dispatch(broker: BrokerEndpoint, payload: ControllerRequest): Promise<ControllerResponse> {
    const { channel, clock } = this.options;
    const timeoutMs = this.options.limits.brokerRequestTimeoutMs;
    let timer: TimerHandle | null = null;
    const timeout = new Promise<never>((_, reject) => {
      timer = clock.setTimeout(() => reject(new SendTimeoutError(timeoutMs)), timeoutMs);
    });
    const endpoint = { ...broker };
    try {
      switch (payload.kind) {
        case 'leaderAndIsr':
          return { kind: 'leaderAndIsr', response: await Promise.race([channel.leaderAndIsr(endpoint, payload.request), timeout]) };
        case 'updateMetadata':
          return { kind: 'updateMetadata', response: await Promise.race([channel.updateMetadata(endpoint, payload.request), timeout]) };
        case 'stopReplica':
          return { kind: 'stopReplica', response: await Promise.race([channel.stopReplica(endpoint, payload.request), timeout]) };
        default:
          throw new Error(`unknown controller request ${String((payload as { kind?: unknown }).kind)}`);
      }
    } finally {
      if (timer !== null) clock.clearTimeout(timer);
    }
  }

  private logResponseError(brokerId: number, r: ControllerResponse): void {
    const top: WireKafkaError | null | undefined = r.response?.error;
    if (top && top.code) {
      this.options.logger.warn('broker refused a controller request', { brokerId, kind: r.kind, error: top.name, message: top.message });
    }
  }
}
