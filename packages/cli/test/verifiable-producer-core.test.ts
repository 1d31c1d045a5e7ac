// The pure parts of `samsa verifiable-producer`: Kafka's value and key sequences, the throttle
// that keeps the send rate at or under --throughput (Kafka's ThroughputThrottler), the stable
// error name printed as `exception`, and --producer-property parsing.
import { ClientError, KafkaError } from '@samsa/client';
import { errorName, parseProducerProperties, throttleDelayMs, verifiableKey, verifiableValue } from '../src/commands/verifiable-producer.js';

describe('verifiable-producer core', () => {
  test('values are n, or <prefix>.n; keys are null, or n mod --repeating-keys', () => {
    expect([0, 1, 41].map((n) => verifiableValue(n, undefined))).toEqual(['0', '1', '41']);
    expect([0, 1, 41].map((n) => verifiableValue(n, 7))).toEqual(['7.0', '7.1', '7.41']);
    expect(verifiableKey(5, undefined)).toBeNull();
    expect([0, 1, 2, 3, 4].map((n) => verifiableKey(n, 3))).toEqual(['0', '1', '2', '0', '1']);
  });

  test('the throttle: no wait when unlimited (-1), forever at 0, else the time by which record n is ahead of the rate', () => {
    expect(throttleDelayMs(1_000_000, 0, -1)).toBe(0);
    expect(throttleDelayMs(0, 0, 0)).toBe(Infinity);
    expect(throttleDelayMs(0, 0, 100)).toBe(0); // the first record goes at once
    expect(throttleDelayMs(100, 500, 100)).toBe(500); // 100 records at 100/s are due at 1 s
    expect(throttleDelayMs(100, 1_500, 100)).toBe(0); // behind the rate: no wait
    // Following the delays, n records never go out before (n-1)/rate seconds.
    let now = 0;
    for (let n = 0; n < 1_000; n++) {
      now += throttleDelayMs(n, now, 250);
      expect(now).toBeGreaterThanOrEqual((n * 1000) / 250);
      now += 1; // sending takes a little time
    }
  });

  test('the exception field is the stable error code', () => {
    expect(errorName(new KafkaError('NOT_ENOUGH_REPLICAS', 'x'))).toBe('NOT_ENOUGH_REPLICAS');
    expect(errorName(new ClientError('DELIVERY_TIMEOUT', 'x'))).toBe('DELIVERY_TIMEOUT');
    expect(errorName(new TypeError('x'))).toBe('TypeError');
  });

  test('--producer-property takes key=value (value may hold =), anything else is INVALID_CONFIG', () => {
    expect(parseProducerProperties(['linger.ms=10', 'client.id=a=b'])).toEqual({ 'linger.ms': '10', 'client.id': 'a=b' });
    expect(() => parseProducerProperties(['linger.ms'])).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
    expect(() => parseProducerProperties(['=1'])).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
  });
});
