// The sticky assignor's "sortedCurrentSubscriptions": consumers ordered by how many partitions
// they hold now, then by member id (Kafka keeps a TreeSet with a comparator over the live
// assignment). The order reads the live sizes, so the contract is Kafka's: remove a consumer
// before its assignment changes and add it back after.

import { compareStrings } from './partition-assignor.js';

export class SortedConsumers {
  private readonly order: string[] = [];

  constructor(private readonly sizeOf: (consumer: string) => number) {}

  private compare(a: string, b: string): number {
    return this.sizeOf(a) - this.sizeOf(b) || compareStrings(a, b);
  }

  /** Index of `consumer`, or of where it would go (binary search under the current sizes). */
  private search(consumer: string): { index: number; found: boolean } {
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = this.compare(this.order[mid]!, consumer);
      if (c === 0) return { index: mid, found: true };
      if (c < 0) lo = mid + 1;
      else hi = mid;
    }
    return { index: lo, found: false };
  }

  add(consumer: string): void {
    const { index, found } = this.search(consumer);
    if (!found) this.order.splice(index, 0, consumer);
  }

  remove(consumer: string): void {
    const { index, found } = this.search(consumer);
    if (found) this.order.splice(index, 1);
  }

  get size(): number {
    return this.order.length;
  }

  first(): string | undefined {
    return this.order[0];
  }

  last(): string | undefined {
    return this.order[this.order.length - 1];
  }

  /** A snapshot in ascending order (safe to iterate while the set changes). */
  toArray(): string[] {
    return [...this.order];
  }

  /** The first consumer in ascending order that satisfies `accept`. */
  find(accept: (consumer: string) => boolean): string | undefined {
    return this.order.find(accept);
  }
}
