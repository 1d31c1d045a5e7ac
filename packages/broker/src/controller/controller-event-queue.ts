// The controller's single line of work (Kafka's ControllerEventManager): events run one at a
// time, in order, so an event sees the context exactly as the previous one left it even though
// each awaits the coordinator.
//
// Two kinds of entries, both bounded:
// - triggers (watch notifications, timers): keyed and coalesced. A trigger whose key is already
//   waiting is not queued again; its handler re-reads what it is about, so one run serves all.
//   The keys are a fixed, small set, which bounds them.
// - requests (admin calls): queued up to maxQueuedRequests, each with its own result; past the
//   limit they are refused with QueueFullError.

export class QueueFullError extends Error {
  readonly code = 'QUEUE_FULL';
  constructor(limit: number) {
    super(`the controller has ${limit} requests waiting`);
    this.name = 'QueueFullError';
  }
}

export class QueueClosedError extends Error {
  readonly code = 'QUEUE_CLOSED';
  constructor() {
    super('the controller event queue is closed');
    this.name = 'QueueClosedError';
  }
}

interface Entry {
  name: string;
  triggerKey: string | null;
  run: () => Promise<void>;
  drop: () => void;
}

export interface EventQueueHooks {
  /** Before an event runs (metrics). */
  onEvent?(name: string): void;
  /** A trigger's handler threw (requests hand their error to the caller instead). */
  onTriggerError?(name: string, err: unknown): void;
}

export class ControllerEventQueue {
  private readonly entries: Entry[] = [];
  private readonly waitingTriggers = new Set<string>();
  private requestCount = 0;
  private running = false;
  private closed = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly maxQueuedRequests: number,
    private readonly hooks: EventQueueHooks = {},
  ) {}

  get size(): number {
    return this.entries.length;
  }

  /** Queues `handler` under `key` unless that key is already waiting. */
  trigger(key: string, handler: () => Promise<void>): void {
    if (this.closed || this.waitingTriggers.has(key)) return;
    this.waitingTriggers.add(key);
    this.entries.push({
      name: key,
      triggerKey: key,
      run: async () => {
        try {
          await handler();
        } catch (err) {
          this.hooks.onTriggerError?.(key, err);
        }
      },
      drop: () => {},
    });
    this.drain();
  }

  /** Queues a request and resolves with its result; QueueFullError / QueueClosedError otherwise. */
  request<T>(name: string, handler: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new QueueClosedError());
    if (this.requestCount >= this.maxQueuedRequests) return Promise.reject(new QueueFullError(this.maxQueuedRequests));
    this.requestCount++;
    return new Promise<T>((resolve, reject) => {
      this.entries.push({
        name,
        triggerKey: null,
        run: async () => {
          try {
            resolve(await handler());
          } catch (err) {
            reject(err);
          }
        },
        drop: () => reject(new QueueClosedError()),
      });
      this.drain();
    });
  }

  /** Resolves once nothing is queued or running. */
  whenIdle(): Promise<void> {
    if (!this.running && this.entries.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Refuses new entries and rejects the waiting requests; the running one finishes. */
  close(): void {
    this.closed = true;
    const dropped = this.entries.splice(0);
    this.waitingTriggers.clear();
    this.requestCount = 0;
    for (const e of dropped) e.drop();
    if (!this.running) this.notifyIdle();
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private drain(): void {
    if (this.running) return;
    this.running = true;
    void (async () => {
      for (let e = this.entries.shift(); e; e = this.entries.shift()) {
        if (e.triggerKey !== null) this.waitingTriggers.delete(e.triggerKey);
        else this.requestCount--;
        this.hooks.onEvent?.(e.name);
        await e.run();
      }
      this.running = false;
      this.notifyIdle();
    })();
  }
}
