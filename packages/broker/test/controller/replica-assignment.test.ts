// Replica assignment: Kafka's own test vectors (AdminTest, AdminRackAwareTest), distribution
// properties over seeded random start indexes, and the validation of explicit assignments.
import fc from 'fast-check';
import { KafkaError } from '@samsa/client';
import { seededRandom } from '@samsa/coordinator';
import {
  assignAddedPartitions,
  assignReplicasToBrokers,
  rackAlternatedBrokerList,
  validateReplicaAssignment,
  type BrokerRack,
} from '../../src/controller/replica-assignment.js';

const noRack = (ids: number[]): BrokerRack[] => ids.map((id) => ({ id, rack: null }));
const racked = (m: Record<number, string>): BrokerRack[] => Object.entries(m).map(([id, rack]) => ({ id: Number(id), rack }));
const never = (): number => {
  throw new Error('random must not be used with a fixed start index');
};
const asObject = (a: Map<number, number[]>): Record<number, number[]> => Object.fromEntries(a);

function kafkaError(fn: () => unknown): KafkaError {
  try {
    fn();
  } catch (e) {
    if (e instanceof KafkaError) return e;
    throw e;
  }
  throw new Error('expected a KafkaError');
}

describe('assignReplicasToBrokers (rack-unaware)', () => {
  test("Kafka's AdminTest vector: 5 brokers, 10 partitions, RF 3, start index 0", () => {
    const a = assignReplicasToBrokers(noRack([0, 1, 2, 3, 4]), 10, 3, { random: never, fixedStartIndex: 0 });
    expect(asObject(a)).toEqual({
      0: [0, 1, 2],
      1: [1, 2, 3],
      2: [2, 3, 4],
      3: [3, 4, 0],
      4: [4, 0, 1],
      5: [0, 2, 3],
      6: [1, 3, 4],
      7: [2, 4, 0],
      8: [3, 0, 1],
      9: [4, 1, 2],
    });
  });

  test('broker ids are sorted first, whatever order they come in', () => {
    const a = assignReplicasToBrokers(noRack([4, 2, 0, 3, 1]), 10, 3, { random: never, fixedStartIndex: 0 });
    expect(a.get(0)).toEqual([0, 1, 2]);
    expect(a.get(5)).toEqual([0, 2, 3]);
  });

  test('the start index and first shift come from the injected generator', () => {
    const draws = [0.5, 0.0]; // start index 2 of 4, shift 0
    const a = assignReplicasToBrokers(noRack([10, 11, 12, 13]), 2, 2, { random: () => draws.shift()! });
    expect(asObject(a)).toEqual({ 0: [12, 13], 1: [13, 10] });
  });

  test('the same seed gives the same assignment', () => {
    const brokers = noRack([1, 2, 3, 4, 5, 6]);
    const a = assignReplicasToBrokers(brokers, 12, 3, { random: seededRandom(7) });
    const b = assignReplicasToBrokers(brokers, 12, 3, { random: seededRandom(7) });
    expect(asObject(a)).toEqual(asObject(b));
  });

  test('property: distinct replicas, even leaders and even replicas per broker', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 9 }), fc.integer(), (n, rounds, rfSeed, seed) => {
        const brokers = noRack(Array.from({ length: n }, (_, i) => i * 3 + 1));
        const rf = 1 + (Math.abs(rfSeed) % n);
        const partitions = n * rounds;
        const a = assignReplicasToBrokers(brokers, partitions, rf, { random: seededRandom(seed) });
        expect(a.size).toBe(partitions);
        const leaders = new Map<number, number>();
        const replicas = new Map<number, number>();
        for (const [p, list] of a) {
          expect(p).toBeGreaterThanOrEqual(0);
          expect(list).toHaveLength(rf);
          expect(new Set(list).size).toBe(rf);
          leaders.set(list[0]!, (leaders.get(list[0]!) ?? 0) + 1);
          for (const r of list) replicas.set(r, (replicas.get(r) ?? 0) + 1);
        }
        // A whole number of rounds: every broker leads exactly `rounds` partitions and holds rounds*rf replicas.
        for (const b of brokers) {
          expect(leaders.get(b.id)).toBe(rounds);
          expect(replicas.get(b.id)).toBe(rounds * rf);
        }
      }),
      { seed: 20261125, numRuns: 200 },
    );
  });

  test.each([
    [0, 1, 'INVALID_PARTITIONS'],
    [-3, 1, 'INVALID_PARTITIONS'],
    [1.5, 1, 'INVALID_PARTITIONS'],
    [1, 0, 'INVALID_REPLICATION_FACTOR'],
    [1, -1, 'INVALID_REPLICATION_FACTOR'],
    [1, 4, 'INVALID_REPLICATION_FACTOR'],
  ])('partitions %p, RF %p on 3 brokers → %s', (partitions, rf, type) => {
    expect(kafkaError(() => assignReplicasToBrokers(noRack([1, 2, 3]), partitions, rf, { random: seededRandom(1) })).type).toBe(type);
  });

  test('RF larger than the brokers names both numbers, as Kafka', () => {
    expect(kafkaError(() => assignReplicasToBrokers(noRack([1, 2]), 1, 3, { random: seededRandom(1) })).message).toBe(
      'Replication factor: 3 larger than available brokers: 2.',
    );
  });

  test('a broken generator cannot index outside the broker list', () => {
    for (const bad of [NaN, 1, -0.5, 7]) {
      const a = assignReplicasToBrokers(noRack([1, 2, 3]), 3, 2, { random: () => bad });
      for (const list of a.values()) for (const r of list) expect([1, 2, 3]).toContain(r);
    }
  });

  test('with only some brokers racked, assignment is rack-unaware (RackAwareMode.Safe)', () => {
    const a = assignReplicasToBrokers(
      [
        { id: 0, rack: 'r1' },
        { id: 1, rack: null },
        { id: 2, rack: 'r2' },
      ],
      3,
      2,
      { random: never, fixedStartIndex: 0 },
    );
    expect(asObject(a)).toEqual({ 0: [0, 1], 1: [1, 2], 2: [2, 0] });
  });
});

describe('rack-aware assignment', () => {
  const rackMap = { 0: 'rack1', 1: 'rack3', 2: 'rack3', 3: 'rack2', 4: 'rack2', 5: 'rack1' };

  test("Kafka's rack-alternated broker lists", () => {
    expect(rackAlternatedBrokerList(racked(rackMap))).toEqual([0, 3, 1, 5, 4, 2]);
    const { 5: _dropped, ...without5 } = rackMap;
    expect(rackAlternatedBrokerList(racked(without5))).toEqual([0, 3, 1, 4, 2]);
  });

  test("Kafka's AdminRackAwareTest vector: 6 brokers on 3 racks, 7 partitions, RF 3", () => {
    const a = assignReplicasToBrokers(racked(rackMap), 7, 3, { random: never, fixedStartIndex: 0, startPartitionId: 0 });
    expect(asObject(a)).toEqual({
      0: [0, 3, 1],
      1: [3, 1, 5],
      2: [1, 5, 4],
      3: [5, 4, 2],
      4: [4, 2, 0],
      5: [2, 0, 3],
      6: [0, 4, 2],
    });
  });

  test('property: every partition spans min(RF, racks) racks; leaders even over brokers of equal racks', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 4 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 6 }), fc.integer(), (racks, perRack, rounds, seed) => {
        const brokers: BrokerRack[] = [];
        for (let r = 0; r < racks; r++) for (let i = 0; i < perRack; i++) brokers.push({ id: r * 10 + i, rack: `rack-${r}` });
        const n = brokers.length;
        const rf = Math.min(n, 3);
        const a = assignReplicasToBrokers(brokers, n * rounds, rf, { random: seededRandom(seed) });
        const rackOf = new Map(brokers.map((b) => [b.id, b.rack]));
        const leaders = new Map<number, number>();
        for (const list of a.values()) {
          expect(new Set(list).size).toBe(rf);
          expect(new Set(list.map((id) => rackOf.get(id))).size).toBe(Math.min(rf, racks));
          leaders.set(list[0]!, (leaders.get(list[0]!) ?? 0) + 1);
        }
        for (const b of brokers) expect(leaders.get(b.id)).toBe(rounds);
      }),
      { seed: 11, numRuns: 150 },
    );
  });
});

describe('assignAddedPartitions', () => {
  test('continues the numbering and the round-robin from partition 0’s leader, keeping RF', () => {
    const existing = assignReplicasToBrokers(noRack([0, 1, 2, 3, 4]), 3, 3, { random: never, fixedStartIndex: 0 });
    const added = assignAddedPartitions(existing, 10, noRack([0, 1, 2, 3, 4]), never);
    // Same as assigning 10 partitions at once from start index 0.
    const whole = assignReplicasToBrokers(noRack([0, 1, 2, 3, 4]), 10, 3, { random: never, fixedStartIndex: 0 });
    expect([...added.keys()]).toEqual([3, 4, 5, 6, 7, 8, 9]);
    for (const [p, list] of added) expect(list).toEqual(whole.get(p));
  });

  test('refuses a count that does not grow, and an RF the live brokers cannot hold', () => {
    const existing = new Map([
      [0, [1, 2]],
      [1, [2, 1]],
    ]);
    expect(kafkaError(() => assignAddedPartitions(existing, 2, noRack([1, 2]), never)).type).toBe('INVALID_PARTITIONS');
    expect(kafkaError(() => assignAddedPartitions(existing, 1, noRack([1, 2]), never)).type).toBe('INVALID_PARTITIONS');
    expect(kafkaError(() => assignAddedPartitions(existing, 3, noRack([1]), never)).type).toBe('INVALID_REPLICATION_FACTOR');
  });
});

describe('validateReplicaAssignment', () => {
  const known = new Set([1, 2, 3]);

  test('accepts a consecutive, consistent assignment of known brokers, in partition order', () => {
    const a = validateReplicaAssignment(
      [
        { partition: 1, replicas: [2, 3] },
        { partition: 0, replicas: [1, 2] },
      ],
      known,
    );
    expect([...a.entries()]).toEqual([
      [0, [1, 2]],
      [1, [2, 3]],
    ]);
  });

  test.each([
    ['empty', []],
    ['partitions not starting at 0', [{ partition: 1, replicas: [1] }]],
    ['a gap', [{ partition: 0, replicas: [1] }, { partition: 2, replicas: [2] }]],
    ['a partition twice', [{ partition: 0, replicas: [1] }, { partition: 0, replicas: [2] }]],
    ['a negative partition', [{ partition: -1, replicas: [1] }]],
    ['a non-integer partition', [{ partition: 0.5, replicas: [1] }]],
    ['no replicas', [{ partition: 0, replicas: [] }]],
    ['duplicate replicas', [{ partition: 0, replicas: [1, 1] }]],
    ['inconsistent replication factor', [{ partition: 0, replicas: [1, 2] }, { partition: 1, replicas: [3] }]],
    ['an unknown broker', [{ partition: 0, replicas: [1, 9] }]],
    ['a replica that is not a number', [{ partition: 0, replicas: ['1'] }]],
    ['replicas that are not a list', [{ partition: 0, replicas: 1 }]],
  ])('refuses %s with INVALID_REPLICA_ASSIGNMENT', (_why, entries) => {
    expect(kafkaError(() => validateReplicaAssignment(entries as never, known)).type).toBe('INVALID_REPLICA_ASSIGNMENT');
  });
});
