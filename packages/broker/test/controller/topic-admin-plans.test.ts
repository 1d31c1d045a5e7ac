// CreateTopics / CreatePartitions validation, in Kafka's order and with Kafka's codes.
import { KafkaError } from '@samsa/client';
import { seededRandom } from '@samsa/coordinator';
import { resolveControllerConfig, DEFAULT_CONTROLLER_LIMITS } from '../../src/controller/controller-config.js';
import { planPartitionAddition, planTopicCreation, type CreateTopicSpec, type TopicPlanInputs } from '../../src/controller/topic-admin-plans.js';
import { validateTopicConfig } from '../../src/controller/topic-config.js';

const brokers = (n: number, rack?: (id: number) => string): TopicPlanInputs['liveBrokers'] =>
  Array.from({ length: n }, (_, i) => ({ id: i + 1, rack: rack ? rack(i + 1) : null }));

function inputs(over: Partial<TopicPlanInputs> = {}): TopicPlanInputs {
  return {
    liveBrokers: brokers(3),
    existingTopics: new Set(['existing', 'dotted.name']),
    config: resolveControllerConfig({ 'broker.id': 1 }),
    limits: DEFAULT_CONTROLLER_LIMITS,
    random: seededRandom(3),
    validateTopicConfig,
    ...over,
  };
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof KafkaError) return e.type;
    throw e;
  }
  return 'none';
}

describe('planTopicCreation', () => {
  test('defaults: num.partitions, and RF 3 on three live brokers (samsa derived default)', () => {
    const plan = planTopicCreation({ name: 'orders' }, inputs());
    expect(plan.numPartitions).toBe(1);
    expect(plan.replicationFactor).toBe(3);
    expect(plan.config).toEqual({});
  });

  test('derived RF is the broker count below three brokers; an explicit default wins', () => {
    expect(planTopicCreation({ name: 't', numPartitions: -1, replicationFactor: -1 }, inputs({ liveBrokers: brokers(2) })).replicationFactor).toBe(2);
    const config = resolveControllerConfig({ 'broker.id': 1, 'default.replication.factor': 1, 'num.partitions': 4 });
    const plan = planTopicCreation({ name: 't' }, inputs({ config }));
    expect([plan.numPartitions, plan.replicationFactor]).toEqual([4, 1]);
  });

  test('explicit assignment is validated and kept', () => {
    const plan = planTopicCreation(
      {
        name: 't',
        numPartitions: -1,
        replicationFactor: -1,
        assignments: [
          { partition: 0, replicas: [3, 1] },
          { partition: 1, replicas: [1, 2] },
        ],
      },
      inputs(),
    );
    expect([...plan.assignment.entries()]).toEqual([
      [0, [3, 1]],
      [1, [1, 2]],
    ]);
    expect(plan.replicationFactor).toBe(2);
  });

  test('configs come as entries or a map and are validated', () => {
    expect(planTopicCreation({ name: 't', configs: [{ name: 'retention.ms', value: '1000' }] }, inputs()).config).toEqual({ 'retention.ms': '1000' });
    expect(planTopicCreation({ name: 't', configs: { 'min.insync.replicas': '2' } }, inputs()).config).toEqual({ 'min.insync.replicas': '2' });
  });

  test.each<[string, CreateTopicSpec, Partial<TopicPlanInputs>, string]>([
    ['bad name', { name: 'a b' }, {}, 'INVALID_TOPIC_EXCEPTION'],
    ['empty name', { name: '' }, {}, 'INVALID_TOPIC_EXCEPTION'],
    ['existing topic', { name: 'existing' }, {}, 'TOPIC_ALREADY_EXISTS'],
    ['colliding name', { name: 'dotted_name' }, {}, 'INVALID_TOPIC_EXCEPTION'],
    ['zero partitions', { name: 't', numPartitions: 0 }, {}, 'INVALID_PARTITIONS'],
    ['negative partitions', { name: 't', numPartitions: -5 }, {}, 'INVALID_PARTITIONS'],
    ['partitions over the limit', { name: 't', numPartitions: DEFAULT_CONTROLLER_LIMITS.maxPartitionsPerTopic + 1 }, {}, 'INVALID_PARTITIONS'],
    ['zero RF', { name: 't', replicationFactor: 0 }, {}, 'INVALID_REPLICATION_FACTOR'],
    ['RF above live brokers', { name: 't', replicationFactor: 4 }, {}, 'INVALID_REPLICATION_FACTOR'],
    ['no live brokers', { name: 't', replicationFactor: 1 }, { liveBrokers: [] }, 'INVALID_REPLICATION_FACTOR'],
    ['assignment with counts', { name: 't', numPartitions: 1, assignments: [{ partition: 0, replicas: [1] }] }, {}, 'INVALID_REQUEST'],
    ['assignment with RF', { name: 't', replicationFactor: 1, assignments: [{ partition: 0, replicas: [1] }] }, {}, 'INVALID_REQUEST'],
    ['assignment of an unknown broker', { name: 't', assignments: [{ partition: 0, replicas: [7] }] }, {}, 'INVALID_REPLICA_ASSIGNMENT'],
    ['assignment with a gap', { name: 't', assignments: [{ partition: 1, replicas: [1] }] }, {}, 'INVALID_REPLICA_ASSIGNMENT'],
    ['unknown config', { name: 't', configs: { 'retention.msec': '1' } }, {}, 'INVALID_CONFIG'],
    ['bad config value', { name: 't', configs: { 'retention.ms': 'soon' } }, {}, 'INVALID_CONFIG'],
    ['bad unclean flag', { name: 't', configs: { 'unclean.leader.election.enable': 'yes' } }, {}, 'INVALID_CONFIG'],
    ['bad min ISR', { name: 't', configs: { 'min.insync.replicas': '0' } }, {}, 'INVALID_CONFIG'],
    ['config given twice', { name: 't', configs: [{ name: 'retention.ms', value: '1' }, { name: 'retention.ms', value: '2' }] }, {}, 'INVALID_CONFIG'],
    ['non-string config value', { name: 't', configs: { 'retention.ms': 5 as unknown as string } }, {}, 'INVALID_CONFIG'],
  ])('%s → %s', (_why, spec, over, type) => {
    expect(errorOf(() => planTopicCreation(spec, inputs(over)))).toBe(type);
  });

  test('garbage specs get typed errors, never a crash', () => {
    for (const spec of [null, undefined, 42, { name: 7 }, { name: 't', assignments: 'x' }, { name: 't', numPartitions: '3' }]) {
      expect(errorOf(() => planTopicCreation(spec as never, inputs()))).toMatch(/^INVALID_/);
    }
  });

  test('rack-aware when every broker has a rack', () => {
    const plan = planTopicCreation({ name: 't', numPartitions: 6, replicationFactor: 2 }, inputs({ liveBrokers: brokers(4, (id) => `r${id % 2}`) }));
    for (const replicas of plan.assignment.values()) expect(new Set(replicas.map((id) => id % 2)).size).toBe(2);
  });
});

describe('planPartitionAddition', () => {
  const existing = new Map([
    [0, [1, 2]],
    [1, [2, 3]],
  ]);
  const base = { liveBrokers: brokers(3), queuedForDeletion: false, limits: DEFAULT_CONTROLLER_LIMITS, random: seededRandom(1) };

  test('adds partitions with the topic’s RF', () => {
    const added = planPartitionAddition('t', 4, existing, base);
    expect([...added.keys()]).toEqual([2, 3]);
    for (const r of added.values()) expect(r).toHaveLength(2);
  });

  test.each<[string, unknown, Partial<typeof base>, boolean, string]>([
    ['unknown topic', 3, {}, false, 'UNKNOWN_TOPIC_OR_PARTITION'],
    ['queued for deletion', 3, { queuedForDeletion: true }, true, 'INVALID_TOPIC_EXCEPTION'],
    ['same count', 2, {}, true, 'INVALID_PARTITIONS'],
    ['fewer', 1, {}, true, 'INVALID_PARTITIONS'],
    ['not a number', '5', {}, true, 'INVALID_PARTITIONS'],
    ['over the limit', DEFAULT_CONTROLLER_LIMITS.maxPartitionsPerTopic + 1, {}, true, 'INVALID_PARTITIONS'],
    ['RF above live brokers', 3, { liveBrokers: brokers(1) }, true, 'INVALID_REPLICATION_FACTOR'],
  ])('%s → %s', (_why, count, over, exists, type) => {
    expect(errorOf(() => planPartitionAddition('t', count, exists ? existing : undefined, { ...base, ...over }))).toBe(type);
  });
});
