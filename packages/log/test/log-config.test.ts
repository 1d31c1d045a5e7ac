// LogConfig: Kafka's names and defaults, validation with INVALID_CONFIG.

import { DEFAULT_LOG_CONFIG, NEVER, createLogConfig, isLogConfigKey } from '../src/log-config.js';
import { expectLogError } from './log-test-helpers.js';

describe('LogConfig', () => {
  test('defaults are Kafka\'s', () => {
    expect(DEFAULT_LOG_CONFIG).toEqual({
      'segment.bytes': 1073741824,
      'segment.ms': 604800000,
      'segment.index.bytes': 10485760,
      'index.interval.bytes': 4096,
      'retention.ms': 604800000,
      'retention.bytes': -1,
      'max.message.bytes': 1048588,
      'flush.messages': NEVER,
      'flush.ms': NEVER,
      'message.timestamp.type': 'CreateTime',
      'cleanup.policy': 'delete',
      'min.cleanable.dirty.ratio': 0.5,
      'delete.retention.ms': 86400000,
      'min.compaction.lag.ms': 0,
    });
  });

  test('cleanup.policy takes Kafka\'s list syntax in either order; the dirty ratio is a number in [0, 1]', () => {
    expect(createLogConfig({ 'cleanup.policy': 'delete, compact' })['cleanup.policy']).toBe('compact,delete');
    expect(createLogConfig({ 'cleanup.policy': 'compact' })['cleanup.policy']).toBe('compact');
    expect(createLogConfig({ 'min.cleanable.dirty.ratio': '0.25' })['min.cleanable.dirty.ratio']).toBe(0.25);
    expectLogError(() => createLogConfig({ 'cleanup.policy': 'shred' }), 'INVALID_CONFIG');
    expectLogError(() => createLogConfig({ 'cleanup.policy': '' }), 'INVALID_CONFIG');
    expectLogError(() => createLogConfig({ 'min.cleanable.dirty.ratio': '1.5' }), 'INVALID_CONFIG');
    expectLogError(() => createLogConfig({ 'delete.retention.ms': -1 }), 'INVALID_CONFIG');
  });

  test('accepts numbers and the decimal strings an admin API sends; Long.MAX_VALUE means never', () => {
    const c = createLogConfig({ 'segment.bytes': '1048576', 'retention.ms': -1, 'flush.ms': '9223372036854775807', 'message.timestamp.type': 'LogAppendTime' });
    expect(c['segment.bytes']).toBe(1048576);
    expect(c['retention.ms']).toBe(-1);
    expect(c['flush.ms']).toBe(NEVER);
    expect(c['message.timestamp.type']).toBe('LogAppendTime');
    expect(Object.isFrozen(c)).toBe(true);
    expect(createLogConfig({ 'retention.bytes': 5 }, c)['segment.bytes']).toBe(1048576);
  });

  test.each([
    ['segment.bytes', 10],
    ['segment.bytes', 2 ** 31],
    ['segment.ms', 0],
    ['segment.index.bytes', 8],
    ['index.interval.bytes', -1],
    ['retention.ms', -2],
    ['retention.bytes', 1.5],
    ['max.message.bytes', 'lots'],
    ['flush.messages', 0],
    ['message.timestamp.type', 'WallClock'],
    ['retention.ms', null],
    ['retention.ms', '12ms'],
  ])('%s = %p is INVALID_CONFIG', (key, value) => {
    expectLogError(() => createLogConfig({ [key]: value }), 'INVALID_CONFIG');
  });

  test('unknown keys are rejected, not ignored', () => {
    expectLogError(() => createLogConfig({ 'retention.msec': 5 }), 'INVALID_CONFIG');
    expect(isLogConfigKey('min.insync.replicas')).toBe(false);
    expect(isLogConfigKey('cleanup.policy')).toBe(true);
    expect(isLogConfigKey('retention.ms')).toBe(true);
  });
});
