// The __consumer_offsets record codec writes Kafka's exact schemas (checked byte by byte against
// hand-assembled Kafka encodings), reads every version Kafka has written, round-trips what it
// writes, and turns hostile bytes into a BinaryFormatError with a stable code, never a crash or a
// wrong value. partitionForGroup agrees with Kafka's Utils.abs(groupId.hashCode) % n.

import { BinaryFormatError, KafkaBinaryWriter } from '@samsa/client';
import {
  type GroupMetadataValue,
  type OffsetCommitValue,
  decodeGroupMetadataValue,
  decodeOffsetCommitValue,
  decodeOffsetsRecord,
  decodeOffsetsRecordKey,
  encodeGroupMetadataKey,
  encodeGroupMetadataValue,
  encodeOffsetCommitKey,
  encodeOffsetCommitValue,
  encodeOffsetsRecord,
} from '../../src/group/offsets-records.js';
import { javaStringHashCode, partitionForGroup } from '../../src/group/offsets-partition.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

const groupValue: GroupMetadataValue = {
  protocolType: 'consumer',
  generationId: 3,
  protocolName: 'range',
  leaderId: 'm1',
  currentStateTimestampMs: 1_700_000_000_000,
  members: [
    { memberId: 'm1', groupInstanceId: 'i1', clientId: 'c', clientHost: '/h', rebalanceTimeoutMs: 30_000, sessionTimeoutMs: 10_000, subscription: new Uint8Array([1, 2]), assignment: new Uint8Array([3]) },
    { memberId: 'm2', groupInstanceId: null, clientId: 'c', clientHost: '/h', rebalanceTimeoutMs: 45_000, sessionTimeoutMs: 6_000, subscription: new Uint8Array(0), assignment: new Uint8Array(0) },
  ],
};

function expectFormatError(f: () => unknown, code: BinaryFormatError['code']): void {
  let thrown: unknown;
  try {
    f();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(BinaryFormatError);
  expect((thrown as BinaryFormatError).code).toBe(code);
}

describe('Kafka schema bytes', () => {
  test('OffsetCommitKey v1 and GroupMetadataKey v2 are version, then int16-length strings, then int32 partition', () => {
    expect(hex(encodeOffsetCommitKey('g', 't', 1))).toBe('0001' + '000167' + '000174' + '00000001');
    expect(hex(encodeGroupMetadataKey('grp'))).toBe('0002' + '0003677270');
  });

  test('OffsetCommitValue v3 is offset, leader epoch, metadata, commit timestamp; v1 adds the expire timestamp after the commit timestamp', () => {
    const v: OffsetCommitValue = { offset: 5, leaderEpoch: 2, metadata: 'm', commitTimestampMs: 1000, expireTimestampMs: null };
    expect(hex(encodeOffsetCommitValue(v))).toBe('0003' + '0000000000000005' + '00000002' + '00016d' + '00000000000003e8');
    expect(hex(encodeOffsetCommitValue({ ...v, expireTimestampMs: 2000 }, 1))).toBe('0001' + '0000000000000005' + '00016d' + '00000000000003e8' + '00000000000007d0');
    expect(hex(encodeOffsetCommitValue(v, 0))).toBe('0000' + '0000000000000005' + '00016d' + '00000000000003e8');
  });

  test('GroupMetadataValue v3: header, state timestamp, then members with instance id (nullable) and both timeouts', () => {
    const one: GroupMetadataValue = { ...groupValue, members: [groupValue.members[1]!] };
    expect(hex(encodeGroupMetadataValue(one))).toBe(
      '0003' + '0008' + hex(Buffer.from('consumer')) + '00000003' + '0005' + hex(Buffer.from('range')) + '0002' + hex(Buffer.from('m1')) +
        '0000018bcfe56800' + // 1_700_000_000_000
        '00000001' +
        '0002' + hex(Buffer.from('m2')) + 'ffff' + '000163' + '00022f68' + '0000afc8' + '00001770' + '00000000' + '00000000',
    );
  });
});

describe('round trips', () => {
  test('every value version samsa can write reads back to the same value (fields a version lacks come back as their defaults)', () => {
    const v: OffsetCommitValue = { offset: 2 ** 40, leaderEpoch: 7, metadata: 'ünïcode ✓', commitTimestampMs: 1_700_000_000_123, expireTimestampMs: null };
    expect(decodeOffsetCommitValue(encodeOffsetCommitValue(v))).toEqual(v);
    expect(decodeOffsetCommitValue(encodeOffsetCommitValue({ ...v, expireTimestampMs: 99 }, 1))).toEqual({ ...v, leaderEpoch: -1, expireTimestampMs: 99 });
    expect(decodeOffsetCommitValue(encodeOffsetCommitValue(v, 2))).toEqual({ ...v, leaderEpoch: -1 });
    expect(decodeGroupMetadataValue(encodeGroupMetadataValue(groupValue))).toEqual(groupValue);
    const v0 = decodeGroupMetadataValue(encodeGroupMetadataValue(groupValue, 0));
    expect(v0.currentStateTimestampMs).toBeNull();
    expect(v0.members.map((m) => [m.groupInstanceId, m.rebalanceTimeoutMs, m.sessionTimeoutMs])).toEqual([
      [null, 10_000, 10_000], // v0 has one timeout for both, as Kafka reads it
      [null, 6_000, 6_000],
    ]);
    expect(decodeGroupMetadataValue(encodeGroupMetadataValue({ ...groupValue, protocolName: null, leaderId: null, currentStateTimestampMs: null, members: [] }))).toEqual({
      ...groupValue,
      protocolName: null,
      leaderId: null,
      currentStateTimestampMs: null,
      members: [],
    });
  });

  test('whole records (keys, values, tombstones) round-trip through encodeOffsetsRecord / decodeOffsetsRecord', () => {
    const records = [
      { key: { type: 'offset' as const, groupId: 'g', topic: 'orders', partition: 11 }, value: { offset: 9, leaderEpoch: 1, metadata: '', commitTimestampMs: 5, expireTimestampMs: null } },
      { key: { type: 'offset' as const, groupId: 'g', topic: 'orders', partition: 11 }, value: null },
      { key: { type: 'group' as const, groupId: 'g' }, value: groupValue },
      { key: { type: 'group' as const, groupId: 'g' }, value: null },
    ];
    for (const r of records) {
      const e = encodeOffsetsRecord(r);
      expect(decodeOffsetsRecord(e.key, e.value)).toEqual(r);
    }
    // Kafka's v0 offset key has the same layout as v1.
    const v0key = new KafkaBinaryWriter(16).int16(0).string('g').string('t').int32(0).finish();
    expect(decodeOffsetsRecordKey(v0key)).toEqual({ type: 'offset', groupId: 'g', topic: 't', partition: 0 });
  });
});

describe('hostile bytes', () => {
  test('truncation, trailing bytes, unknown versions, negative partitions and absurd counts are typed errors', () => {
    const key = encodeOffsetCommitKey('g', 't', 1);
    expectFormatError(() => decodeOffsetsRecordKey(key.subarray(0, key.length - 1)), 'MALFORMED');
    expectFormatError(() => decodeOffsetsRecordKey(new Uint8Array([...key, 0])), 'MALFORMED');
    expectFormatError(() => decodeOffsetsRecordKey(bytes('0003 0001 67')), 'UNSUPPORTED_VERSION');
    expectFormatError(() => decodeOffsetsRecordKey(bytes('0001 000167 000174 ffffffff')), 'MALFORMED');
    expectFormatError(() => decodeOffsetsRecordKey(new Uint8Array(0)), 'MALFORMED');
    expectFormatError(() => decodeOffsetCommitValue(bytes('0004 0000000000000005')), 'UNSUPPORTED_VERSION');
    const value = encodeGroupMetadataValue(groupValue);
    for (let cut = 0; cut < value.length; cut += 7) expect(() => decodeGroupMetadataValue(value.subarray(0, cut))).toThrow(BinaryFormatError);
    // A member count far beyond the bytes present is refused before anything is allocated.
    const lying = new KafkaBinaryWriter(64).int16(3).string('consumer').int32(1).nullableString(null).nullableString(null).int64(-1).int32(2 ** 31 - 1).finish();
    expect(() => decodeGroupMetadataValue(lying)).toThrow(BinaryFormatError);
    expectFormatError(() => encodeOffsetCommitValue({ offset: 1, leaderEpoch: -1, metadata: '', commitTimestampMs: 0, expireTimestampMs: null }, 9), 'UNSUPPORTED_VERSION');
  });

  test('random bytes never throw anything but BinaryFormatError (seeded)', () => {
    let seed = 12345;
    const rand = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const good = [encodeOffsetCommitKey('g', 't', 1), encodeGroupMetadataKey('g'), encodeGroupMetadataValue(groupValue)];
    for (let i = 0; i < 2_000; i++) {
      const base = good[i % good.length]!;
      const b = new Uint8Array(base);
      const flips = 1 + Math.floor(rand() * 4);
      for (let f = 0; f < flips; f++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
      for (const decode of [(x: Uint8Array) => decodeOffsetsRecordKey(x), (x: Uint8Array) => decodeGroupMetadataValue(x), (x: Uint8Array) => decodeOffsetCommitValue(x)]) {
        try {
          decode(b);
        } catch (e) {
          expect(e).toBeInstanceOf(BinaryFormatError);
        }
      }
    }
  });
});

describe('partitionForGroup', () => {
  test('Java String.hashCode and Kafka’s abs: known values, including the Integer.MIN_VALUE hash', () => {
    expect(javaStringHashCode('')).toBe(0);
    expect(javaStringHashCode('hello')).toBe(99_162_322);
    expect(javaStringHashCode('Aa')).toBe(javaStringHashCode('BB'));
    expect(javaStringHashCode('polygenelubricants')).toBe(-2_147_483_648);
    expect(partitionForGroup('hello', 50)).toBe(22);
    expect(partitionForGroup('polygenelubricants', 50)).toBe(0);
    expect(partitionForGroup('x', 1)).toBe(0);
    expect(() => partitionForGroup('x', 0)).toThrow(RangeError);
  });
});
