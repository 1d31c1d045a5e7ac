// The key hash must place keys exactly where Kafka's Java client (and kafkajs) does: Kafka's own
// UtilsTest vectors, then random keys against kafkajs 2.2.4's independent implementation.

import { createRequire } from 'node:module';
import fc from 'fast-check';
import { murmur2, partitionForKey, toPositive } from '../src/producer/murmur2.js';
import { TEST_SEED } from './helpers/seeded-random.js';

const require = createRequire(import.meta.url);
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2') as (key: Buffer | string) => number;
const createKafkajsPartitioner = require('kafkajs/src/producer/partitioners/default') as () => (args: {
  topic: string;
  partitionMetadata: Array<{ partitionId: number; leader: number }>;
  message: { key?: Buffer | null; partition?: number | null };
}) => number;

describe('murmur2', () => {
  test("matches the vectors of Kafka's UtilsTest.testMurmur2", () => {
    const vectors: Array<[string, number]> = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
      ['', 275646681],
    ];
    for (const [input, expected] of vectors) expect([input, murmur2(Buffer.from(input))]).toEqual([input, expected]);
  });

  test('toPositive clears the sign bit like Java (not Math.abs)', () => {
    expect(toPositive(-790332482)).toBe(-790332482 & 0x7fffffff);
    expect(toPositive(-2147483648)).toBe(0);
    expect(toPositive(123)).toBe(123);
    // Kafka's partition for "foobar" among 50 partitions (seen in other Kafka ports' tests).
    expect(partitionForKey(Buffer.from('foobar'), 50)).toBe(16);
    expect(partitionForKey(Buffer.from('foobar'), 10)).toBe(6);
  });

  test('agrees with kafkajs on random keys of every length (seeded)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), (bytes) => {
        const key = Buffer.from(bytes);
        expect(murmur2(key)).toBe(kafkajsMurmur2(key));
      }),
      { seed: TEST_SEED, numRuns: 2_000 },
    );
  });

  test("places keyed records in the same partition as kafkajs's default partitioner (seeded)", () => {
    const kafkajs = createKafkajsPartitioner();
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.integer({ min: 1, max: 1000 }), (bytes, n) => {
        const key = Buffer.from(bytes);
        const partitionMetadata = Array.from({ length: n }, (_, i) => ({ partitionId: i, leader: 1 }));
        expect(partitionForKey(key, n)).toBe(kafkajs({ topic: 't', partitionMetadata, message: { key } }));
      }),
      { seed: TEST_SEED, numRuns: 1_000 },
    );
  });
});
