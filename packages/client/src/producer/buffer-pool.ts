// buffer.memory as an account of bytes: every open batch holds an allocation (batch.size, or
// more for one big record) until it is acknowledged or failed. When the account is empty,
// allocate() waits, first come first served, until memory is released or its deadline
// (max.block.ms) passes. Time enters through expire(nowMs), which the producer's loop calls, so
// the pool itself has no timers.

import { ClientError } from '../client-error.js';

interface Waiter {
  size: number;
  deadlineMs: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class BufferPool {
  private availableBytes: number;
  private readonly waiters: Waiter[] = [];
  private waitingBytes = 0;
  private closedError: Error | null = null;

  /**
   * @param totalBytes buffer.memory
   * @param maxWaitingBytes bytes of allocations allowed to wait at once; beyond, allocate()
   *   fails at once (send() callers that do not await would otherwise queue without limit)
   */
  constructor(
    readonly totalBytes: number,
    private readonly maxWaitingBytes: number = totalBytes,
  ) {
    this.availableBytes = totalBytes;
  }

  get available(): number {
    return this.availableBytes;
  }

  /** Allocations waiting for memory; when > 0, the accumulator sends everything it can (Kafka's "exhausted"). */
  get queued(): number {
    return this.waiters.length;
  }

  /** Takes `size` bytes now if they are free and nobody waits before us. */
  tryAllocate(size: number): boolean {
    this.checkSize(size);
    if (this.waiters.length > 0 || this.availableBytes < size) return false;
    this.availableBytes -= size;
    return true;
  }

  /** Takes `size` bytes, waiting in line until they are free; rejects with BUFFER_EXHAUSTED at `deadlineMs`. */
  allocate(size: number, deadlineMs: number): Promise<void> {
    if (this.closedError) return Promise.reject(this.closedError);
    if (this.tryAllocate(size)) return Promise.resolve();
    if (this.waitingBytes + size > this.maxWaitingBytes) {
      return Promise.reject(
        new ClientError('BUFFER_EXHAUSTED', `buffer.memory is full and ${this.waitingBytes} bytes already wait for it; send() callers must wait for earlier sends`),
      );
    }
    return new Promise((resolve, reject) => {
      this.waiters.push({ size, deadlineMs, resolve, reject });
      this.waitingBytes += size;
    });
  }

  release(size: number): void {
    if (!Number.isFinite(size) || size < 0) throw new Error(`buffer pool: release of ${size} bytes`);
    this.availableBytes += size;
    if (this.availableBytes > this.totalBytes) {
      throw new Error(`buffer pool: ${this.availableBytes} bytes available, more than the ${this.totalBytes} it holds`);
    }
    this.serve();
  }

  /** Fails the waiters whose deadline is at or before `nowMs`. */
  expire(nowMs: number): void {
    for (let i = 0; i < this.waiters.length; ) {
      const w = this.waiters[i]!;
      if (w.deadlineMs <= nowMs) {
        this.waiters.splice(i, 1);
        this.waitingBytes -= w.size;
        w.reject(new ClientError('BUFFER_EXHAUSTED', `Failed to allocate ${w.size} bytes within the configured max blocking time (max.block.ms)`));
      } else {
        i++;
      }
    }
    this.serve();
  }

  /** The earliest waiter deadline, or undefined. */
  nextDeadline(): number | undefined {
    let min: number | undefined;
    for (const w of this.waiters) if (min === undefined || w.deadlineMs < min) min = w.deadlineMs;
    return min;
  }

  /** Rejects every waiter with `err` and every later allocate(). */
  close(err: Error): void {
    this.closedError = err;
    for (const w of this.waiters.splice(0)) w.reject(err);
    this.waitingBytes = 0;
  }

  private serve(): void {
    while (this.waiters.length > 0 && this.waiters[0]!.size <= this.availableBytes) {
      const w = this.waiters.shift()!;
      this.waitingBytes -= w.size;
      this.availableBytes -= w.size;
      w.resolve();
    }
  }

  private checkSize(size: number): void {
    if (!Number.isSafeInteger(size) || size <= 0 || size > this.totalBytes) {
      throw new ClientError('INVALID_ARGUMENT', `cannot allocate ${size} bytes from a buffer of ${this.totalBytes}`);
    }
  }
}
