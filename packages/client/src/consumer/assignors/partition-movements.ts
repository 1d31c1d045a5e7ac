// The sticky assignor's record of partitions moved during one assignment (Kafka's
// AbstractStickyAssignor.PartitionMovements). When the balancing step wants to move a partition
// from A to B while another partition of the same topic was already moved from B to A, it moves that
// one back instead: the net effect on balance is the same and fewer partitions change owner.

import type { TopicPartition } from '../../protocol/wire-types.js';
import { tpKeyOf } from './partition-assignor.js';

interface ConsumerPair {
  readonly src: string;
  readonly dst: string;
}

function pairKey(src: string, dst: string): string {
  return `${src}\u0000${dst}`;
}

export class PartitionMovements {
  /** topic → (src,dst) → the partitions of that topic that made that move (insertion ordered). */
  private readonly byTopic = new Map<string, Map<string, Map<string, TopicPartition>>>();
  /** partition key → its net move so far. */
  private readonly moves = new Map<string, ConsumerPair>();

  private removeRecord(tp: TopicPartition): ConsumerPair {
    const key = tpKeyOf(tp);
    const pair = this.moves.get(key)!;
    this.moves.delete(key);
    const forTopic = this.byTopic.get(tp.topic)!;
    const k = pairKey(pair.src, pair.dst);
    const set = forTopic.get(k)!;
    set.delete(key);
    if (set.size === 0) forTopic.delete(k);
    if (forTopic.size === 0) this.byTopic.delete(tp.topic);
    return pair;
  }

  private addRecord(tp: TopicPartition, pair: ConsumerPair): void {
    const key = tpKeyOf(tp);
    this.moves.set(key, pair);
    let forTopic = this.byTopic.get(tp.topic);
    if (!forTopic) this.byTopic.set(tp.topic, (forTopic = new Map()));
    const k = pairKey(pair.src, pair.dst);
    let set = forTopic.get(k);
    if (!set) forTopic.set(k, (set = new Map()));
    set.set(key, tp);
  }

  movePartition(tp: TopicPartition, oldConsumer: string, newConsumer: string): void {
    if (this.moves.has(tpKeyOf(tp))) {
      // It moved before: record the net move, or none if it goes back where it started.
      const existing = this.removeRecord(tp);
      if (existing.src !== newConsumer) this.addRecord(tp, { src: existing.src, dst: newConsumer });
    } else {
      this.addRecord(tp, { src: oldConsumer, dst: newConsumer });
    }
  }

  /** The partition to move from `oldConsumer` to `newConsumer` in place of `tp` (see the header). */
  actualPartitionToMove(tp: TopicPartition, oldConsumer: string, newConsumer: string): TopicPartition {
    const forTopic = this.byTopic.get(tp.topic);
    if (!forTopic) return tp;
    let src = oldConsumer;
    const previous = this.moves.get(tpKeyOf(tp));
    if (previous) src = previous.src;
    const reverse = forTopic.get(pairKey(newConsumer, src));
    if (!reverse) return tp;
    return reverse.values().next().value!;
  }
}
