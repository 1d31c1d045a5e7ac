// The last N watch events a node applied, with their Raft indexes: a client that reconnects
// saying "the last index I saw is X" is replayed every event after X, or told that the history
// no longer reaches back that far. A ring buffer, so memory is bounded by `capacity`.

import type { WatchEvent } from './watch-event.js';

/** Owned by one WatchManager; fed in commit order. */
export class EventHistory {
  private readonly ring: Array<WatchEvent | undefined>;
  private start = 0;
  private count = 0;
  private last: number;
  private droppedThrough: number;

  /** `startIndex`: the index the node's tree was at when history began (nothing before is known). */
  constructor(
    readonly capacity: number,
    startIndex = 0,
  ) {
    if (!Number.isSafeInteger(capacity) || capacity <= 0) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.ring = new Array(capacity);
    this.last = startIndex;
    this.droppedThrough = startIndex;
  }

  /** Index of the last command recorded (whether or not it caused events). */
  get lastIndex(): number {
    return this.last;
  }

  /** Events at or below this index may be gone; every event after it is kept. */
  get droppedThroughIndex(): number {
    return this.droppedThrough;
  }

  get size(): number {
    return this.count;
  }

  /** Records the events of the command applied at `index`; indexes must increase. */
  record(index: number, events: readonly WatchEvent[]): void {
    if (!Number.isSafeInteger(index) || index <= this.last) {
      throw new RangeError(`event history: index ${index} is not after ${this.last}`);
    }
    for (const event of events) {
      if (this.count === this.capacity) {
        const evicted = this.ring[this.start] as WatchEvent;
        this.droppedThrough = evicted.index;
        this.ring[this.start] = undefined;
        this.start = (this.start + 1) % this.capacity;
        this.count--;
      }
      this.ring[(this.start + this.count) % this.capacity] = event;
      this.count++;
    }
    this.last = index;
  }

  /** Forgets everything: the node jumped to `index` (a snapshot was installed). */
  reset(index: number): void {
    this.ring.fill(undefined);
    this.start = 0;
    this.count = 0;
    this.last = index;
    this.droppedThrough = index;
  }

  private at(position: number): WatchEvent {
    return this.ring[(this.start + position) % this.capacity] as WatchEvent;
  }

  /** Every event with an index above `index`, oldest first; null when some may be gone. */
  eventsAfter(index: number): WatchEvent[] | null {
    if (index < this.droppedThrough) return null;
    let low = 0;
    let high = this.count;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.at(mid).index <= index) low = mid + 1;
      else high = mid;
    }
    const events: WatchEvent[] = [];
    for (let p = low; p < this.count; p++) events.push(this.at(p));
    return events;
  }
}
