// Deadlines grouped into buckets of `bucketMs` (ZooKeeper's ExpiryQueue): moving a key to a
// new deadline is O(1) plus a heap push when its bucket is new, and polling touches only the
// buckets that are due. A deadline is rounded up to its bucket's end, so keys expire at most
// `bucketMs` late and never early.

class MinHeap {
  private readonly items: number[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): number | undefined {
    return this.items[0];
  }

  push(value: number): void {
    const items = this.items;
    items.push(value);
    let i = items.length - 1;
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (items[up] <= value) break;
      items[i] = items[up];
      i = up;
    }
    items[i] = value;
  }

  pop(): number | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child = right < items.length && items[right] < items[left] ? right : left;
      if (items[child] >= last) break;
      items[i] = items[child];
      i = child;
    }
    items[i] = last;
    return top;
  }

  clear(): void {
    this.items.length = 0;
  }
}

/** Not thread-safe, no clock of its own: the owner passes times in. */
export class ExpiryQueue<K> {
  private readonly bucketOfKey = new Map<K, number>();
  private readonly buckets = new Map<number, Set<K>>();
  /** Bucket times; may hold times of buckets since emptied, skipped when polled. */
  private readonly due = new MinHeap();

  constructor(readonly bucketMs: number) {
    if (!Number.isSafeInteger(bucketMs) || bucketMs <= 0) throw new RangeError(`bucketMs must be a positive integer, got ${bucketMs}`);
  }

  get size(): number {
    return this.bucketOfKey.size;
  }

  /** When the key expires: its deadline rounded up to the bucket. */
  expiryOf(key: K): number | undefined {
    return this.bucketOfKey.get(key);
  }

  /** (Re)schedules `key` to expire at `deadlineMs`. */
  schedule(key: K, deadlineMs: number): void {
    const bucket = Math.ceil(deadlineMs / this.bucketMs) * this.bucketMs;
    const current = this.bucketOfKey.get(key);
    if (current === bucket) return;
    if (current !== undefined) this.removeFromBucket(key, current);
    let keys = this.buckets.get(bucket);
    if (keys === undefined) {
      keys = new Set();
      this.buckets.set(bucket, keys);
      this.due.push(bucket);
      if (this.due.size > 2 * this.buckets.size + 1024) this.rebuildDue();
    }
    keys.add(key);
    this.bucketOfKey.set(key, bucket);
  }

  // Emptied buckets leave their times in the heap; rebuild it when those outnumber live ones.
  private rebuildDue(): void {
    this.due.clear();
    for (const bucket of this.buckets.keys()) this.due.push(bucket);
  }

  remove(key: K): boolean {
    const bucket = this.bucketOfKey.get(key);
    if (bucket === undefined) return false;
    this.removeFromBucket(key, bucket);
    this.bucketOfKey.delete(key);
    return true;
  }

  private removeFromBucket(key: K, bucket: number): void {
    const keys = this.buckets.get(bucket);
    if (keys === undefined) return;
    keys.delete(key);
    if (keys.size === 0) this.buckets.delete(bucket);
  }

  /** Removes and returns up to `max` keys due at `nowMs`, earliest buckets first. */
  poll(nowMs: number, max: number): K[] {
    const expired: K[] = [];
    while (expired.length < max) {
      const bucket = this.due.peek();
      if (bucket === undefined || bucket > nowMs) break;
      const keys = this.buckets.get(bucket);
      if (keys === undefined) {
        this.due.pop();
        continue;
      }
      for (const key of keys) {
        if (expired.length >= max) break;
        expired.push(key);
        keys.delete(key);
        this.bucketOfKey.delete(key);
      }
      if (keys.size === 0) {
        this.buckets.delete(bucket);
        this.due.pop();
      }
    }
    return expired;
  }

  clear(): void {
    this.bucketOfKey.clear();
    this.buckets.clear();
    this.due.clear();
  }
}
