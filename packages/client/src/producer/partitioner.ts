// Kafka's default partitioner as of KIP-480: a keyed record goes to
// toPositive(murmur2(key)) % numPartitions (over all partitions, available or not, so a key
// never moves while the partition count stays); a keyless record sticks to one partition, picked
// at random among those with a leader, until the accumulator starts a new batch for it
// (onNewBatch), which switches to another partition. One partitioner per producer; randomness
// is injected.

import { partitionForKey, toPositive } from './murmur2.js';

/** What the partitioner needs to know of the cluster. */
export interface PartitionerView {
  partitionCount(topic: string): number | undefined;
  availablePartitions(topic: string): number[];
}

/** Topics whose sticky choice is remembered at most (oldest forgotten first). */
export const MAX_STICKY_TOPICS = 10_000;

export class DefaultPartitioner {
  private readonly sticky = new Map<string, number>();

  constructor(
    private readonly random: () => number,
    private readonly ignoreKeys = false,
  ) {}

  private randomInt(): number {
    return toPositive(Math.floor(this.random() * 0x1_0000_0000));
  }

  /** The partition for a record without an explicit one. `numPartitions` must be > 0. */
  partition(topic: string, key: Uint8Array | null, view: PartitionerView): number {
    const count = view.partitionCount(topic);
    if (count === undefined || count <= 0) throw new Error(`partitioner: no partitions known for topic ${topic}`);
    if (key !== null && !this.ignoreKeys) return partitionForKey(key, count);
    return this.stickyPartition(topic, view, count);
  }

  private stickyPartition(topic: string, view: PartitionerView, count: number): number {
    const current = this.sticky.get(topic);
    if (current !== undefined && current < count) return current;
    return this.nextPartition(topic, view, -1);
  }

  /**
   * The accumulator is about to start a new batch for `prevPartition`: move the topic's sticky
   * partition elsewhere (StickyPartitionCache.nextPartition). Returns the new sticky partition.
   */
  onNewBatch(topic: string, view: PartitionerView, prevPartition: number): number {
    return this.nextPartition(topic, view, prevPartition);
  }

  private nextPartition(topic: string, view: PartitionerView, prevPartition: number): number {
    const old = this.sticky.get(topic);
    if (old !== undefined && old !== prevPartition && old < (view.partitionCount(topic) ?? 0)) return old;
    const available = view.availablePartitions(topic);
    let next: number;
    if (available.length === 0) {
      next = this.randomInt() % (view.partitionCount(topic) ?? 1);
    } else if (available.length === 1) {
      next = available[0]!;
    } else {
      // Uniform over the others, as Kafka's rejection loop is, without its unbounded retries.
      const others = available.filter((p) => p !== old);
      next = others[this.randomInt() % others.length]!;
    }
    if (!this.sticky.has(topic) && this.sticky.size >= MAX_STICKY_TOPICS) {
      this.sticky.delete(this.sticky.keys().next().value!);
    }
    this.sticky.set(topic, next);
    return next;
  }
}
