// The znode codecs accept the documented layout and refuse anything else with CorruptZnodeError.
import { CorruptZnodeError } from '../../src/controller/controller-errors.js';
import {
  decodeBrokerRegistration,
  decodeControllerEpoch,
  decodeIsrChangeNotification,
  decodePartitionState,
  decodeTopicAssignment,
  decodeTopicConfig,
  encodeBrokerRegistration,
  encodeIsrChangeNotification,
  encodePartitionState,
  encodeTopicAssignment,
  encodeTopicConfig,
  partitionStatePath,
} from '../../src/controller/znodes.js';

describe('znode codecs', () => {
  test('round trips of the documented JSON (BROKER-DESIGN.md field names)', () => {
    const reg = { host: '127.0.0.1', port: 9092, rack: 'r1', metricsPort: 9404 };
    const encoded = encodeBrokerRegistration(reg);
    expect(JSON.parse(encoded)).toEqual({ version: 1, host: '127.0.0.1', port: 9092, rack: 'r1', metrics_port: 9404 });
    expect(decodeBrokerRegistration(3, 77, encoded)).toEqual({ id: 3, epoch: 77, ...reg });
    expect(decodeBrokerRegistration(3, 1, '{"version":1,"host":"h","port":1}')).toMatchObject({ rack: null, metricsPort: null });

    const assignment = new Map([
      [1, [2, 3]],
      [0, [1, 2]],
    ]);
    expect(JSON.parse(encodeTopicAssignment(assignment))).toEqual({ version: 1, partitions: { '0': [1, 2], '1': [2, 3] } });
    expect([...decodeTopicAssignment('t', encodeTopicAssignment(assignment))]).toEqual([
      [0, [1, 2]],
      [1, [2, 3]],
    ]);

    const state = { leader: 1, leaderEpoch: 4, isr: [1, 2, 3], controllerEpoch: 2 };
    expect(JSON.parse(encodePartitionState(state))).toEqual({ version: 1, leader: 1, leader_epoch: 4, isr: [1, 2, 3], controller_epoch: 2 });
    expect(decodePartitionState('t', 0, encodePartitionState(state))).toEqual(state);

    expect(decodeTopicConfig('t', encodeTopicConfig({ 'retention.ms': '5' }))).toEqual({ 'retention.ms': '5' });
    const parts = [{ topic: 't', partition: 3 }];
    expect(decodeIsrChangeNotification('/isr_change_notification/isr_change_0000000001', encodeIsrChangeNotification(parts))).toEqual(parts);
    expect(decodeControllerEpoch('12')).toBe(12);
  });

  test.each<[string, () => unknown]>([
    ['not JSON', () => decodeBrokerRegistration(1, 1, '{nope')],
    ['a JSON array', () => decodeBrokerRegistration(1, 1, '[]')],
    ['no version', () => decodeBrokerRegistration(1, 1, '{"host":"h","port":1}')],
    ['no host', () => decodeBrokerRegistration(1, 1, '{"version":1,"port":1}')],
    ['port out of range', () => decodeBrokerRegistration(1, 1, '{"version":1,"host":"h","port":70000}')],
    ['empty rack', () => decodeBrokerRegistration(1, 1, '{"version":1,"host":"h","port":1,"rack":""}')],
    ['partitions missing', () => decodeTopicAssignment('t', '{"version":1}')],
    ['no partitions', () => decodeTopicAssignment('t', '{"version":1,"partitions":{}}')],
    ['partition gap', () => decodeTopicAssignment('t', '{"version":1,"partitions":{"1":[1]}}')],
    ['bad partition id', () => decodeTopicAssignment('t', '{"version":1,"partitions":{"x":[1]}}')],
    ['duplicate replicas', () => decodeTopicAssignment('t', '{"version":1,"partitions":{"0":[1,1]}}')],
    ['empty replicas', () => decodeTopicAssignment('t', '{"version":1,"partitions":{"0":[]}}')],
    ['leader below -1', () => decodePartitionState('t', 0, '{"version":1,"leader":-2,"leader_epoch":0,"isr":[],"controller_epoch":1}')],
    ['isr not a list', () => decodePartitionState('t', 0, '{"version":1,"leader":1,"leader_epoch":0,"isr":"1","controller_epoch":1}')],
    ['fractional epoch', () => decodePartitionState('t', 0, '{"version":1,"leader":1,"leader_epoch":0.5,"isr":[1],"controller_epoch":1}')],
    ['config value not a string', () => decodeTopicConfig('t', '{"version":1,"config":{"a":1}}')],
    ['notification entry', () => decodeIsrChangeNotification('/x', '{"version":1,"partitions":[{"topic":"t"}]}')],
    ['epoch counter', () => decodeControllerEpoch('abc')],
  ])('refuses %s', (_why, fn) => {
    expect(fn).toThrow(CorruptZnodeError);
  });

  test('the error names the znode', () => {
    try {
      decodePartitionState('orders', 2, 'garbage');
    } catch (e) {
      expect((e as CorruptZnodeError).path).toBe(partitionStatePath('orders', 2));
      expect((e as CorruptZnodeError).code).toBe('CORRUPT_ZNODE');
    }
    expect.assertions(2);
  });
});
