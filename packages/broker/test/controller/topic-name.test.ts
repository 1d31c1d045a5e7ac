// Topic name rules and collisions, as Kafka's Topic.validate / hasCollision.
import { KafkaError } from '@samsa/client';
import { findCollidingTopic, MAX_TOPIC_NAME_LENGTH, validateTopicName } from '../../src/controller/topic-name.js';

describe('validateTopicName', () => {
  test.each(['a', 'orders', 'Orders.v2', 'a_b-c.d', '__consumer_offsets', '...', 'x'.repeat(MAX_TOPIC_NAME_LENGTH), '0'])('accepts %j', (name) => {
    expect(validateTopicName(name)).toBe(name);
  });

  test.each([
    ['', "can't be empty"],
    ['.', '"." or ".."'],
    ['..', '"." or ".."'],
    ['x'.repeat(MAX_TOPIC_NAME_LENGTH + 1), 'longer than 249'],
    ['has space', 'illegal'],
    ['slash/topic', 'illegal'],
    ['tab\t', 'illegal'],
    ['ünïcödé', 'illegal'],
    ['a\u0000b', 'illegal'],
  ])('refuses %j with INVALID_TOPIC_EXCEPTION', (name, why) => {
    const err = (() => {
      try {
        validateTopicName(name);
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(KafkaError);
    expect((err as KafkaError).type).toBe('INVALID_TOPIC_EXCEPTION');
    expect((err as KafkaError).message).toContain(why);
  });

  test.each([null, undefined, 42, {}, ['a']])('refuses a non-string %j', (name) => {
    expect(() => validateTopicName(name)).toThrow(expect.objectContaining({ type: 'INVALID_TOPIC_EXCEPTION' }));
  });
});

describe('findCollidingTopic', () => {
  test('names that differ only by . and _ collide; identical names and plain names do not', () => {
    expect(findCollidingTopic('a.b', ['a_b', 'c'])).toBe('a_b');
    expect(findCollidingTopic('a_b', ['x', 'a.b'])).toBe('a.b');
    expect(findCollidingTopic('a.b', ['a.b'])).toBeNull();
    expect(findCollidingTopic('ab', ['a_b', 'a.b'])).toBeNull();
    expect(findCollidingTopic('a-b', ['a_b'])).toBeNull();
  });
});
