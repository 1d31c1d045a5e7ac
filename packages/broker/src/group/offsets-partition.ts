// Which __consumer_offsets partition holds a group: Kafka's
// Utils.abs(groupId.hashCode) % offsets.topic.num.partitions, with Java's String.hashCode, so a
// group lands on the same partition number as in Kafka (and tools that compute it agree).

export const CONSUMER_OFFSETS_TOPIC = '__consumer_offsets';

/**
 * Java's String.hashCode: s[0]·31^(n−1) + … + s[n−1] over UTF-16 code units, in 32-bit
 * two's-complement arithmetic.
 */
export function javaStringHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/** Kafka's Utils.abs: Math.abs, except Integer.MIN_VALUE (whose negation overflows) maps to 0. */
export function kafkaAbs(n: number): number {
  return n === -2147483648 ? 0 : Math.abs(n);
}

export function partitionForGroup(groupId: string, offsetsTopicPartitions: number): number {
  if (!Number.isInteger(offsetsTopicPartitions) || offsetsTopicPartitions < 1) {
    throw new RangeError(`offsets.topic.num.partitions must be a positive integer, got ${String(offsetsTopicPartitions)}`);
  }
  return kafkaAbs(javaStringHashCode(groupId)) % offsetsTopicPartitions;
}
