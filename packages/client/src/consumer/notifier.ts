// Wakes whoever waits for "something changed" (a fetch answered, a reset finished, metadata
// arrived, wakeup() or close()): the consumer's poll() and position() sleep on it with a timeout.

import type { Clock } from '../clock.js';

export class Notifier {
  private waiters: Array<() => void> = [];

  notify(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  /** Resolves at the next notify() or after `timeoutMs`, whichever comes first. */
  wait(clock: Clock, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      let cancel: (() => void) | null = null;
      const done = (): void => {
        cancel?.();
        const i = this.waiters.indexOf(done);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve();
      };
      this.waiters.push(done);
      if (Number.isFinite(timeoutMs)) cancel = clock.setTimer(Math.max(0, timeoutMs), done);
    });
  }
}
