// The ConsumerProtocol bytes must be Kafka's: known encodings by hand from the schema, agreement
// with kafkajs 2.2.4 (an independent implementation) on v0, every version round-trips, a newer
// version reads as its known prefix, and garbage of any shape fails with a typed BinaryFormatError
// (never another exception, never an unbounded allocation).

import { createRequire } from 'node:module';
import fc from 'fast-check';
import {
  CONSUMER_SUBSCRIPTION_VERSION_MAX,
  type ConsumerSubscription,
  decodeAssignment,
  decodeSubscribedTopics,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
  NO_GENERATION,
  subscription,
} from '../../src/consumer/assignors/consumer-protocol.js';
import { BinaryFormatError, KafkaBinaryReader, KafkaBinaryWriter } from '../../src/consumer/assignors/kafka-binary.js';
import { TEST_SEED } from '../helpers/seeded-random.js';

const require = createRequire(import.meta.url);
const { AssignerProtocol } = require('kafkajs') as {
  AssignerProtocol: {
    MemberMetadata: {
      encode(m: { version: number; topics: string[]; userData: Buffer }): Buffer;
      decode(b: Buffer): { version: number; topics: string[]; userData: Buffer } | null;
    };
    MemberAssignment: {
      encode(a: { version: number; assignment: Record<string, number[]>; userData: Buffer }): Buffer;
      decode(b: Buffer): { version: number; assignment: Record<string, number[]>; userData: Buffer } | null;
    };
  };
};

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

function expectFormatError(fn: () => unknown, code: BinaryFormatError['code']): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(BinaryFormatError);
    expect((e as BinaryFormatError).code).toBe(code);
    return;
  }
  throw new Error('expected a BinaryFormatError');
}

describe('subscription encoding', () => {
  test('v0 is version, topics, nullable userData (hand-encoded from the schema)', () => {
    expect(hex(encodeSubscription(subscription(['foo']), 0))).toBe('0000' + '00000001' + '0003666f6f' + 'ffffffff');
  });

  test('v3 appends ownedPartitions grouped by topic, the generation and the rack', () => {
    const sub = subscription(['a', 'b'], {
      userData: new Uint8Array([7]),
      ownedPartitions: [
        { topic: 'a', partition: 1 },
        { topic: 'b', partition: 0 },
        { topic: 'a', partition: 4 },
      ],
      generationId: 9,
      rackId: 'r1',
    });
    expect(hex(encodeSubscription(sub, 3))).toBe(
      '0003' +
        '00000002' + '000161' + '000162' + // topics
        '00000001' + '07' + // userData
        '00000002' + '000161' + '00000002' + '00000001' + '00000004' + '000162' + '00000001' + '00000000' + // owned
        '00000009' + // generation
        '00027231', // rack
    );
    expect(decodeSubscription(encodeSubscription(sub, 3))).toEqual({
      ...sub,
      ownedPartitions: [
        { topic: 'a', partition: 1 },
        { topic: 'a', partition: 4 },
        { topic: 'b', partition: 0 },
      ],
    });
  });

  test('older versions decode with defaults for the fields they lack', () => {
    const sub = subscription(['t'], { ownedPartitions: [{ topic: 't', partition: 0 }], generationId: 3, rackId: 'r' });
    expect(decodeSubscription(encodeSubscription(sub, 0))).toEqual(subscription(['t']));
    expect(decodeSubscription(encodeSubscription(sub, 1))).toEqual(subscription(['t'], { ownedPartitions: sub.ownedPartitions }));
    expect(decodeSubscription(encodeSubscription(sub, 2))).toEqual({ ...sub, rackId: null });
    expect(decodeSubscription(encodeSubscription(sub, 3))).toEqual(sub);
  });

  test('a newer version is read as its v3 prefix (trailing fields ignored), as Kafka does', () => {
    const v3 = encodeSubscription(subscription(['t'], { generationId: 2 }), 3);
    const v4 = new Uint8Array([...v3, 0xde, 0xad]);
    v4[1] = 4;
    expect(decodeSubscription(v4)).toEqual(subscription(['t'], { generationId: 2 }));
    // The same trailing bytes after a version we know are corruption.
    expectFormatError(() => decodeSubscription(new Uint8Array([...v3, 0xde, 0xad])), 'MALFORMED');
  });

  test('agrees with kafkajs on v0 both ways', () => {
    const ours = encodeSubscription(subscription(['foo', 'bar'], { userData: new Uint8Array([1, 2]) }), 0);
    const theirs = AssignerProtocol.MemberMetadata.encode({ version: 0, topics: ['foo', 'bar'], userData: Buffer.from([1, 2]) });
    expect(hex(ours)).toBe(theirs.toString('hex'));
    expect(AssignerProtocol.MemberMetadata.decode(Buffer.from(ours))).toEqual({ version: 0, topics: ['foo', 'bar'], userData: Buffer.from([1, 2]) });
  });

  test('decodeSubscribedTopics reads only the v0 prefix, whatever follows', () => {
    const sub = subscription(['x', 'y'], { ownedPartitions: [{ topic: 'x', partition: 3 }], generationId: 1 });
    expect(decodeSubscribedTopics(encodeSubscription(sub, 3))).toEqual(['x', 'y']);
    const future = encodeSubscription(sub, 3);
    future[1] = 99;
    expect(decodeSubscribedTopics(future)).toEqual(['x', 'y']);
  });

  test('round-trips every version (property, seeded)', () => {
    const tp = fc.record({ topic: fc.string({ minLength: 1, maxLength: 8 }), partition: fc.integer({ min: 0, max: 1000 }) });
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 12 }), { maxLength: 6 }),
        fc.option(fc.uint8Array({ maxLength: 16 }), { nil: null }),
        fc.array(tp, { maxLength: 8 }),
        fc.integer({ min: -1, max: 1_000_000 }),
        fc.option(fc.string({ maxLength: 6 }), { nil: null }),
        fc.integer({ min: 0, max: CONSUMER_SUBSCRIPTION_VERSION_MAX }),
        (topics, userData, owned, generationId, rackId, version) => {
          const sub: ConsumerSubscription = { topics, userData, ownedPartitions: owned, generationId, rackId };
          const decoded = decodeSubscription(encodeSubscription(sub, version));
          expect(decoded.topics).toEqual(topics);
          expect(decoded.userData).toEqual(userData);
          // Grouped by topic on the wire: same multiset, per-topic order kept.
          const perTopic = (l: readonly { topic: string; partition: number }[], t: string): number[] => l.filter((x) => x.topic === t).map((x) => x.partition);
          if (version >= 1) for (const t of new Set(owned.map((x) => x.topic))) expect(perTopic(decoded.ownedPartitions, t)).toEqual(perTopic(owned, t));
          else expect(decoded.ownedPartitions).toEqual([]);
          expect(decoded.generationId).toBe(version >= 2 ? generationId : NO_GENERATION);
          expect(decoded.rackId).toBe(version >= 3 ? rackId : null);
        },
      ),
      { seed: TEST_SEED, numRuns: 300 },
    );
  });
});

describe('assignment encoding', () => {
  test('hand-encoded v0 and agreement with kafkajs', () => {
    const a = { partitions: [{ topic: 'foo', partition: 0 }, { topic: 'foo', partition: 2 }, { topic: 'bar', partition: 1 }], userData: new Uint8Array([9]) };
    const ours = encodeAssignment(a, 0);
    expect(hex(ours)).toBe('0000' + '00000002' + '0003666f6f' + '00000002' + '00000000' + '00000002' + '0003626172' + '00000001' + '00000001' + '00000001' + '09');
    expect(hex(ours)).toBe(AssignerProtocol.MemberAssignment.encode({ version: 0, assignment: { foo: [0, 2], bar: [1] }, userData: Buffer.from([9]) }).toString('hex'));
    expect(decodeAssignment(ours)).toEqual(a);
    const theirs = AssignerProtocol.MemberAssignment.encode({ version: 0, assignment: { t: [5, 1] }, userData: Buffer.alloc(0) });
    expect(decodeAssignment(new Uint8Array(theirs))).toEqual({ partitions: [{ topic: 't', partition: 5 }, { topic: 't', partition: 1 }], userData: new Uint8Array(0) });
  });

  test('empty bytes are an empty assignment (what the coordinator gives members the leader left out)', () => {
    expect(decodeAssignment(new Uint8Array(0))).toEqual({ partitions: [], userData: null });
  });

  test('versions 0–3 share one layout; an unknown version to encode is refused', () => {
    const a = { partitions: [{ topic: 't', partition: 1 }], userData: null };
    for (const v of [0, 1, 2, 3]) expect(decodeAssignment(encodeAssignment(a, v))).toEqual(a);
    expectFormatError(() => encodeAssignment(a, 4), 'UNSUPPORTED_VERSION');
    expectFormatError(() => encodeSubscription(subscription([]), -1), 'UNSUPPORTED_VERSION');
  });
});

describe('hostile input', () => {
  test('truncation at every byte is MALFORMED', () => {
    const full = encodeSubscription(subscription(['topic'], { userData: new Uint8Array([1, 2, 3]), ownedPartitions: [{ topic: 'topic', partition: 2 }], generationId: 4, rackId: 'r' }), 3);
    for (let n = 0; n < full.length; n++) expectFormatError(() => decodeSubscription(full.subarray(0, n)), 'MALFORMED');
    const assignment = encodeAssignment({ partitions: [{ topic: 'topic', partition: 2 }], userData: new Uint8Array([5]) });
    for (let n = 1; n < assignment.length; n++) expectFormatError(() => decodeAssignment(assignment.subarray(0, n)), 'MALFORMED');
  });

  test('forged counts and lengths are refused before anything is allocated', () => {
    // 2^31-1 topics in a 10-byte message.
    expectFormatError(() => decodeSubscription(bytes('0000 7fffffff 0000 0000')), 'LIMIT_EXCEEDED');
    expectFormatError(() => decodeSubscription(bytes('0000 00000100 0000')), 'MALFORMED');
    expectFormatError(() => decodeSubscription(bytes('0000 ffffff00')), 'MALFORMED');
    expectFormatError(() => decodeSubscription(bytes('0000 00000000 7fffffff')), 'LIMIT_EXCEEDED');
    expectFormatError(() => decodeSubscription(bytes('0000 00000001 fff0')), 'MALFORMED');
    expectFormatError(() => decodeSubscription(bytes('ffff 00000000 ffffffff')), 'UNSUPPORTED_VERSION');
    expectFormatError(() => decodeAssignment(bytes('0000 00000001 000174 00000001 ffffffff ffffffff')), 'MALFORMED'); // partition -1
    expectFormatError(() => decodeSubscription(bytes('0000 00000001 0002 c328 ffffffff')), 'MALFORMED'); // invalid UTF-8
  });

  test('limits are the caller’s', () => {
    const sub = encodeSubscription(subscription(['a', 'b', 'c']));
    expectFormatError(() => decodeSubscription(sub, { maxTopics: 2, maxPartitions: 10, maxUserDataBytes: 10 }), 'LIMIT_EXCEEDED');
    const withData = encodeSubscription(subscription(['a'], { userData: new Uint8Array(11) }));
    expectFormatError(() => decodeSubscription(withData, { maxTopics: 2, maxPartitions: 10, maxUserDataBytes: 10 }), 'LIMIT_EXCEEDED');
    const big = encodeAssignment({ partitions: Array.from({ length: 11 }, (_, p) => ({ topic: 't', partition: p })), userData: null });
    expectFormatError(() => decodeAssignment(big, { maxTopics: 2, maxPartitions: 10, maxUserDataBytes: 10 }), 'LIMIT_EXCEEDED');
  });

  test('random bytes never throw anything but BinaryFormatError (property, seeded)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        for (const decode of [decodeSubscription, decodeAssignment, decodeSubscribedTopics]) {
          try {
            decode(b);
          } catch (e) {
            expect(e).toBeInstanceOf(BinaryFormatError);
          }
        }
      }),
      { seed: TEST_SEED, numRuns: 2_000 },
    );
  });
});

describe('KafkaBinaryWriter / KafkaBinaryReader', () => {
  test('primitives round-trip and grow the buffer', () => {
    const w = new KafkaBinaryWriter(1);
    w.int16(-2).int32(-70_000).int64(Number.MAX_SAFE_INTEGER).int64(-5).string('é').nullableString(null).nullableBytes(null).bytes(new Uint8Array(100));
    const r = new KafkaBinaryReader(w.finish());
    expect([r.int16(), r.int32(), r.int64(), r.int64(), r.string(), r.nullableString(), r.nullableBytes('b', 10)]).toEqual([
      -2, -70_000, Number.MAX_SAFE_INTEGER, -5, 'é', null, null,
    ]);
    expect(r.bytes('b', 100)).toHaveLength(100);
    r.expectEnd();
  });

  test('int64 beyond the safe range and over-long strings are refused', () => {
    expectFormatError(() => new KafkaBinaryReader(bytes('7fffffffffffffff')).int64(), 'MALFORMED');
    expectFormatError(() => new KafkaBinaryWriter().int64(2 ** 60), 'MALFORMED');
    expectFormatError(() => new KafkaBinaryWriter().string('x'.repeat(0x8000)), 'LIMIT_EXCEEDED');
  });
});
