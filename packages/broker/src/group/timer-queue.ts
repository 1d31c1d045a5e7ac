// The deadlines of one group (session timeouts, the join and sync timeouts), in the shape of
// Kafka's purgatory timers but pure: schedule/cancel by key, and popDue(now) hands back the
// earliest deadline that has passed. A binary heap with lazy deletion keeps every operation
// O(log n); stale heap entries are skipped on pop and compacted away when they outnumber the live
// ones, so the heap stays within a constant factor of the number of keys.
//
// Order: by deadline, then by the order in which the deadlines were scheduled — a pure function of
// the inputs, so a replayed run fires timers in the same order.

interface Entry<K> {
  readonly key: K;
  readonly deadlineMs: number;
  readonly seq: number;
}

export class TimerQueue<K> {
  private heap: Entry<K>[] = [];
  private readonly live = new Map<K, Entry<K>>();
  private seq = 0;

  get size(): number {
    return this.live.size;
  }

  /** Sets (or moves) the deadline of `key`. */
  schedule(key: K, deadlineMs: number): void {
    const entry = { key, deadlineMs, seq: this.seq++ };
    this.live.set(key, entry);
    this.push(entry);
    if (this.heap.length > 2 * this.live.size + 32) this.compact();
  }

  cancel(key: K): void {
    this.live.delete(key);
  }

  has(key: K): boolean {
    return this.live.has(key);
  }

  deadlineOf(key: K): number | undefined {
    return this.live.get(key)?.deadlineMs;
  }

  /** The earliest live deadline, or null when nothing is scheduled. */
  nextDeadlineMs(): number | null {
    this.dropStale();
    return this.heap.length === 0 ? null : this.heap[0]!.deadlineMs;
  }

  /** Removes and returns the earliest entry whose deadline is ≤ nowMs, or null. */
  popDue(nowMs: number): { key: K; deadlineMs: number } | null {
    this.dropStale();
    const top = this.heap[0];
    if (top === undefined || top.deadlineMs > nowMs) return null;
    this.pop();
    this.live.delete(top.key);
    return { key: top.key, deadlineMs: top.deadlineMs };
  }

  private isLive(e: Entry<K>): boolean {
    return this.live.get(e.key) === e;
  }

  private dropStale(): void {
    while (this.heap.length > 0 && !this.isLive(this.heap[0]!)) this.pop();
  }

  private compact(): void {
    this.heap = [...this.live.values()].sort((a, b) => this.compare(a, b));
  }

  private compare(a: Entry<K>, b: Entry<K>): number {
    return a.deadlineMs - b.deadlineMs || a.seq - b.seq;
  }

  private push(e: Entry<K>): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.compare(h[parent]!, h[i]!) <= 0) break;
      [h[parent], h[i]] = [h[i]!, h[parent]!];
      i = parent;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let smallest = i;
      if (l < h.length && this.compare(h[l]!, h[smallest]!) < 0) smallest = l;
      if (r < h.length && this.compare(h[r]!, h[smallest]!) < 0) smallest = r;
      if (smallest === i) break;
      [h[smallest], h[i]] = [h[i]!, h[smallest]!];
      i = smallest;
    }
  }
}
