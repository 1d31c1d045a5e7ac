// Kafka's purgatory: requests that wait for something (a long-poll fetch for data or the high
// watermark, an acks=all produce for replication) parked under the keys whose change may
// complete them, retried when a key is touched, and expired at their deadline. Bounded: past
// `maxOperations` new ones are refused so a flood of long polls cannot grow memory.

export interface DelayedOperation {
  /** Tries to complete; returns true when done (it must have answered its caller). */
  tryComplete(): boolean;
  /** The deadline passed: answer with what there is. */
  onExpire(): void;
}

interface Parked {
  op: DelayedOperation;
  keys: string[];
  timer: NodeJS.Timeout;
  done: boolean;
}

export class DelayedOperations {
  private readonly byKey = new Map<string, Set<Parked>>();
  private count = 0;

  constructor(readonly maxOperations = 10_000) {}

  get size(): number {
    return this.count;
  }

  /**
   * Completes `op` now if it can; otherwise parks it under `keys` until completed or expired.
   * Returns false (op not parked, caller must answer) when the purgatory is full.
   */
  watch(op: DelayedOperation, keys: string[], timeoutMs: number): boolean {
    if (op.tryComplete()) return true;
    if (this.count >= this.maxOperations) return false;
    const parked: Parked = { op, keys, done: false, timer: setTimeout(() => this.expire(parked), Math.max(0, timeoutMs)) };
    this.count++;
    for (const k of keys) {
      let set = this.byKey.get(k);
      if (!set) this.byKey.set(k, (set = new Set()));
      set.add(parked);
    }
    return true;
  }

  /** Something changed under `key` (new data, HW moved, leadership lost): retry its operations. */
  checkAndComplete(key: string): void {
    const set = this.byKey.get(key);
    if (!set) return;
    for (const parked of [...set]) {
      if (parked.done) continue;
      if (parked.op.tryComplete()) this.finish(parked);
    }
  }

  private expire(parked: Parked): void {
    if (parked.done) return;
    this.finish(parked);
    parked.op.onExpire();
  }

  private finish(parked: Parked): void {
    parked.done = true;
    clearTimeout(parked.timer);
    this.count--;
    for (const k of parked.keys) {
      const set = this.byKey.get(k);
      set?.delete(parked);
      if (set && set.size === 0) this.byKey.delete(k);
    }
  }

  /** Expires everything now (shutdown). */
  expireAll(): void {
    const all = new Set<Parked>();
    for (const set of this.byKey.values()) for (const p of set) all.add(p);
    for (const p of all) this.expire(p);
  }
}
