// The preferred-leader imbalance check (leader.imbalance.per.broker.percentage).
import { planPreferredLeaderRebalance, preferredReplicaImbalanceCount, type PartitionLeadershipView } from '../../src/controller/leader-imbalance.js';

const p = (topic: string, partition: number, replicas: number[], leader: number | null, isr = replicas): PartitionLeadershipView => ({
  topic,
  partition,
  replicas,
  leader,
  isr,
});

describe('preferred leader imbalance', () => {
  test('counts partitions with a state whose leader is not the preferred replica (offline ones included)', () => {
    expect(
      preferredReplicaImbalanceCount([p('t', 0, [1, 2], 1), p('t', 1, [2, 1], 1), p('t', 2, [3, 1], -1), p('t', 3, [1, 2], null)]),
    ).toBe(2);
  });

  test('a broker above the threshold gets back the partitions it can lead; one at or below it does not', () => {
    // Broker 1 prefers 10 partitions and leads 8: 20% > 10%. Broker 2 prefers 10 and leads 9: 10%, not above.
    const parts: PartitionLeadershipView[] = [];
    for (let i = 0; i < 10; i++) parts.push(p('a', i, [1, 2], i < 8 ? 1 : 2));
    for (let i = 0; i < 10; i++) parts.push(p('b', i, [2, 1], i < 9 ? 2 : 1));
    const plan = planPreferredLeaderRebalance(parts, new Set([1, 2]), 10);
    expect(plan.candidates).toEqual([
      { topic: 'a', partition: 8 },
      { topic: 'a', partition: 9 },
    ]);
    expect(plan.brokers).toEqual([
      { brokerId: 1, preferredPartitions: 10, notLedByPreferred: 2, ratio: 0.2 },
      { brokerId: 2, preferredPartitions: 10, notLedByPreferred: 1, ratio: 0.1 },
    ]);
  });

  test('partitions whose preferred replica is not in the ISR, or whose broker is not eligible, are left alone', () => {
    const parts = [p('t', 0, [1, 2], 2, [2]), p('t', 1, [1, 2], 2, [2, 1]), p('u', 0, [3, 2], 2, [2, 3])];
    expect(planPreferredLeaderRebalance(parts, new Set([1, 2]), 10).candidates).toEqual([{ topic: 't', partition: 1 }]);
  });

  test('0% rebalances any imbalance; 100% never does', () => {
    const parts = [p('t', 0, [1, 2], 2), ...Array.from({ length: 20 }, (_, i) => p('t', i + 1, [1, 2], 1))];
    expect(planPreferredLeaderRebalance(parts, new Set([1, 2]), 0).candidates).toEqual([{ topic: 't', partition: 0 }]);
    expect(planPreferredLeaderRebalance(parts, new Set([1, 2]), 100).candidates).toEqual([]);
  });
});
