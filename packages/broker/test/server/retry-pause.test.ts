// RetryPause: back-off doubling from minMs to maxMs; stop() ends every pause at once.
import { RetryPause } from '../../src/server/retry-pause.js';

describe('RetryPause', () => {
  test('doubles from minMs per retry and stays at maxMs', () => {
    const pause = new RetryPause({ minMs: 50, maxMs: 1_000 });
    expect([1, 2, 3, 4, 5, 6, 100].map((n) => pause.delayMs(n))).toEqual([50, 100, 200, 400, 800, 1_000, 1_000]);
    expect(pause.delayMs(0)).toBe(50);
  });

  test('refuses limits that make no sense', () => {
    expect(() => new RetryPause({ minMs: 10, maxMs: 5 })).toThrow(RangeError);
    expect(() => new RetryPause({ minMs: -1, maxMs: 5 })).toThrow(RangeError);
    expect(() => new RetryPause({ minMs: Number.NaN, maxMs: 5 })).toThrow(RangeError);
  });

  test('stop() ends pauses under way and every later one at once', async () => {
    const pause = new RetryPause({ minMs: 60_000, maxMs: 60_000 });
    const pending = pause.after(1);
    pause.stop();
    await pending;
    await pause.after(5);
  });
});
