// Topic-partition identities and the client-side check of topic names (Kafka's Topic.validate).

import { KafkaError } from './protocol/errors.js';
import { invalidArgument } from './client-error.js';
import type { TopicPartition } from './protocol/wire-types.js';

export type { TopicPartition };

/** Kafka's limit: a topic's directory name `<topic>-<partition>` must fit in 255 bytes. */
export const MAX_TOPIC_NAME_LENGTH = 249;
const LEGAL_TOPIC = /^[a-zA-Z0-9._-]+$/;

/** Throws KafkaError INVALID_TOPIC_EXCEPTION unless `topic` is a legal Kafka topic name. */
export function validateTopicName(topic: unknown): asserts topic is string {
  if (typeof topic !== 'string' || topic.length === 0) {
    throw new KafkaError('INVALID_TOPIC_EXCEPTION', 'Topic name must be a non-empty string');
  }
  if (topic === '.' || topic === '..') throw new KafkaError('INVALID_TOPIC_EXCEPTION', `Topic name cannot be "${topic}"`);
  if (topic.length > MAX_TOPIC_NAME_LENGTH) {
    throw new KafkaError('INVALID_TOPIC_EXCEPTION', `Topic name is ${topic.length} characters, more than ${MAX_TOPIC_NAME_LENGTH}`);
  }
  if (!LEGAL_TOPIC.test(topic)) {
    throw new KafkaError('INVALID_TOPIC_EXCEPTION', `Topic name ${JSON.stringify(topic)} has characters other than [a-zA-Z0-9._-]`);
  }
}

export function validatePartition(partition: unknown, what = 'partition'): asserts partition is number {
  if (typeof partition !== 'number' || !Number.isInteger(partition) || partition < 0 || partition > 0x7fff_ffff) {
    throw invalidArgument(`${what} must be an integer in [0, 2^31), got ${String(partition)}`);
  }
}

export function validateTopicPartition(tp: unknown): asserts tp is TopicPartition {
  if (typeof tp !== 'object' || tp === null) throw invalidArgument('a topic-partition must be an object {topic, partition}');
  validateTopicName((tp as TopicPartition).topic);
  validatePartition((tp as TopicPartition).partition);
}

/** A map key for a topic-partition; unambiguous because ':' is illegal in topic names. */
export function tpKey(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

export function tpString(tp: TopicPartition): string {
  return `${tp.topic}-${tp.partition}`;
}

/** A Map keyed by topic-partition that remembers the TopicPartition of each entry. */
export class TopicPartitionMap<V> {
  private readonly entries = new Map<string, { tp: TopicPartition; value: V }>();

  get size(): number {
    return this.entries.size;
  }
  get(tp: TopicPartition): V | undefined {
    return this.entries.get(tpKey(tp.topic, tp.partition))?.value;
  }
  has(tp: TopicPartition): boolean {
    return this.entries.has(tpKey(tp.topic, tp.partition));
  }
  set(tp: TopicPartition, value: V): this {
    this.entries.set(tpKey(tp.topic, tp.partition), { tp: { topic: tp.topic, partition: tp.partition }, value });
    return this;
  }
  delete(tp: TopicPartition): boolean {
    return this.entries.delete(tpKey(tp.topic, tp.partition));
  }
  clear(): void {
    this.entries.clear();
  }
  *[Symbol.iterator](): IterableIterator<[TopicPartition, V]> {
    for (const { tp, value } of this.entries.values()) yield [tp, value];
  }
  keys(): TopicPartition[] {
    return [...this.entries.values()].map((e) => e.tp);
  }
  values(): V[] {
    return [...this.entries.values()].map((e) => e.value);
  }
}
