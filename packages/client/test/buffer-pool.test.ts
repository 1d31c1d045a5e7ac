// buffer.memory: allocations wait first come first served, are served as memory comes back,
// fail with BUFFER_EXHAUSTED at their deadline (max.block.ms), and the waiting line is bounded.

import { ClientError } from '../src/client-error.js';
import { BufferPool } from '../src/producer/buffer-pool.js';
import { settle } from './helpers/manual-clock.js';

describe('BufferPool', () => {
  test('allocates while memory lasts, then makes callers wait in order until memory is released', async () => {
    const pool = new BufferPool(100);
    expect(pool.tryAllocate(60)).toBe(true);
    expect(pool.tryAllocate(50)).toBe(false);
    const order: string[] = [];
    const a = pool.allocate(50, 1_000).then(() => order.push('a'));
    const b = pool.allocate(10, 1_000).then(() => order.push('b'));
    // b would fit now, but a is first in line.
    expect(pool.tryAllocate(10)).toBe(false);
    await settle();
    expect(order).toEqual([]);
    expect(pool.queued).toBe(2);
    pool.release(60);
    await Promise.all([a, b]);
    expect(order).toEqual(['a', 'b']);
    expect(pool.available).toBe(40);
  });

  test('a wait that reaches its deadline fails with BUFFER_EXHAUSTED; later waiters move up', async () => {
    const pool = new BufferPool(100);
    expect(pool.tryAllocate(100)).toBe(true);
    const first = pool.allocate(80, 500).catch((e: unknown) => e);
    const second = pool.allocate(20, 2_000);
    expect(pool.nextDeadline()).toBe(500);
    pool.expire(499);
    expect(pool.queued).toBe(2);
    pool.expire(500);
    const err = (await first) as ClientError;
    expect(err).toBeInstanceOf(ClientError);
    expect(err.code).toBe('BUFFER_EXHAUSTED');
    pool.release(20);
    await second;
    expect(pool.queued).toBe(0);
  });

  test('waiting bytes are bounded: beyond the bound allocate fails at once', async () => {
    const pool = new BufferPool(100, 150);
    pool.tryAllocate(100);
    const w1 = pool.allocate(100, 1e9);
    await expect(pool.allocate(60, 1e9)).rejects.toMatchObject({ code: 'BUFFER_EXHAUSTED' });
    pool.release(100);
    await w1;
  });

  test('sizes beyond the pool are refused and close() fails every waiter', async () => {
    const pool = new BufferPool(100);
    expect(() => pool.tryAllocate(101)).toThrow(ClientError);
    expect(() => pool.tryAllocate(0)).toThrow(ClientError);
    pool.tryAllocate(100);
    const w = pool.allocate(10, 1e9);
    const closed = new ClientError('CLOSED', 'closing');
    pool.close(closed);
    await expect(w).rejects.toBe(closed);
    await expect(pool.allocate(1, 1e9)).rejects.toBe(closed);
  });

  test('releasing more than was taken is a bug and throws', () => {
    const pool = new BufferPool(100);
    expect(() => pool.release(1)).toThrow(/more than/);
  });
});
