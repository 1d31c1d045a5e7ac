// Controller settings: Kafka defaults, derived replication factor, typed refusals.
import { KafkaError } from '@samsa/client';
import {
  DEFAULT_CONTROLLER_CONFIG,
  effectiveDefaultReplicationFactor,
  resolveControllerConfig,
  resolveControllerLimits,
} from '../../src/controller/controller-config.js';

describe('controller config', () => {
  test("Kafka's defaults", () => {
    const c = resolveControllerConfig({ 'broker.id': 3 });
    expect(c).toEqual({ 'broker.id': 3, ...DEFAULT_CONTROLLER_CONFIG });
    expect(c['leader.imbalance.check.interval.ms']).toBe(300_000);
    expect(c['leader.imbalance.per.broker.percentage']).toBe(10);
    expect(c['unclean.leader.election.enable']).toBe(false);
  });

  test('derived default.replication.factor: 3 with >= 3 brokers, else the broker count', () => {
    const c = resolveControllerConfig({ 'broker.id': 1 });
    expect([0, 1, 2, 3, 7].map((n) => effectiveDefaultReplicationFactor(c, n))).toEqual([1, 1, 2, 3, 3]);
    expect(effectiveDefaultReplicationFactor(resolveControllerConfig({ 'broker.id': 1, 'default.replication.factor': 2 }), 5)).toBe(2);
  });

  test.each<[string, Record<string, unknown>]>([
    ['broker.id', { 'broker.id': -1 }],
    ['num.partitions', { 'broker.id': 1, 'num.partitions': 0 }],
    ['default.replication.factor', { 'broker.id': 1, 'default.replication.factor': 0 }],
    ['leader.imbalance.per.broker.percentage', { 'broker.id': 1, 'leader.imbalance.per.broker.percentage': 101 }],
    ['leader.imbalance.check.interval.ms', { 'broker.id': 1, 'leader.imbalance.check.interval.ms': 0 }],
    ['unclean.leader.election.enable', { 'broker.id': 1, 'unclean.leader.election.enable': 'true' }],
  ])('refuses a bad %s with INVALID_CONFIG', (name, input) => {
    expect(() => resolveControllerConfig(input as never)).toThrow(expect.objectContaining({ type: 'INVALID_CONFIG', message: expect.stringContaining(name) }));
  });

  test('limits must be positive integers', () => {
    expect(() => resolveControllerLimits({ maxQueuedRequestsPerBroker: 0 })).toThrow(KafkaError);
    expect(() => resolveControllerLimits({ requestRetryBackoffMs: 500, requestRetryBackoffMaxMs: 100 })).toThrow(KafkaError);
    expect(resolveControllerLimits({ maxQueuedRequestsPerBroker: 5 }).maxQueuedRequestsPerBroker).toBe(5);
  });
});
