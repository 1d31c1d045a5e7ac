// Topic name rules, as Kafka's org.apache.kafka.common.internals.Topic: ASCII letters, digits,
// '.', '_' and '-', at most 249 characters (a partition directory `<topic>-<partition>` must
// still fit in a 255-byte file name), and never "." or "..". Because metric names turn '.'
// into '_', two topics that differ only there would collide; Kafka refuses the second one.

import { KafkaError } from '@samsa/client';

export const MAX_TOPIC_NAME_LENGTH = 249;

const LEGAL = /^[a-zA-Z0-9._-]+$/;

/** Throws INVALID_TOPIC_EXCEPTION naming the broken rule; returns the name when it is legal. */
export function validateTopicName(name: unknown): string {
  if (typeof name !== 'string') throw new KafkaError('INVALID_TOPIC_EXCEPTION', 'Topic name must be a string.');
  if (name.length === 0) throw new KafkaError('INVALID_TOPIC_EXCEPTION', 'Topic name is illegal, it can\'t be empty.');
  if (name === '.' || name === '..') throw new KafkaError('INVALID_TOPIC_EXCEPTION', 'Topic name cannot be "." or "..".');
  if (name.length > MAX_TOPIC_NAME_LENGTH) {
    throw new KafkaError(
      'INVALID_TOPIC_EXCEPTION',
      `Topic name is illegal, it can't be longer than ${MAX_TOPIC_NAME_LENGTH} characters, topic name: ${name.slice(0, 64)}…`,
    );
  }
  if (!LEGAL.test(name)) {
    throw new KafkaError(
      'INVALID_TOPIC_EXCEPTION',
      `Topic name ${JSON.stringify(name)} is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'.`,
    );
  }
  return name;
}

export function hasCollisionChars(name: string): boolean {
  return name.includes('.') || name.includes('_');
}

/** The form two colliding names share: '.' replaced by '_'. */
export function unifyCollisionChars(name: string): string {
  return name.replaceAll('.', '_');
}

/** The existing topic `name` would collide with, if any (Kafka: InvalidTopicException). */
export function findCollidingTopic(name: string, existing: Iterable<string>): string | null {
  if (!hasCollisionChars(name)) return null;
  const unified = unifyCollisionChars(name);
  for (const other of existing) {
    if (other !== name && unifyCollisionChars(other) === unified) return other;
  }
  return null;
}
