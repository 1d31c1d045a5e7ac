// Back-off pauses between retries of coordinator writes: doubling from minMs up to maxMs, and
// all cut short by stop(), so a shutting-down broker does not wait out a back-off.
//
// Lifecycle: one per owner (the IsrChangeWriter); stop() once, after which every pause ends at
// once. At most one pause per retrying task is outstanding.

export interface RetryPauseLimits {
  readonly minMs: number;
  readonly maxMs: number;
}

export class RetryPause {
  private readonly sleepers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private stopped = false;

  constructor(readonly limits: RetryPauseLimits) {
    if (!(limits.minMs >= 0 && limits.maxMs >= limits.minMs)) {
      throw new RangeError(`retry pause limits: need 0 <= minMs <= maxMs, got ${limits.minMs} and ${limits.maxMs}`);
    }
  }

  /** The pause before retry number `attempt` (1 = the first retry). */
  delayMs(attempt: number): number {
    const doublings = Math.min(Math.max(0, Math.floor(attempt) - 1), 30);
    return Math.min(this.limits.minMs * 2 ** doublings, this.limits.maxMs);
  }

  /** Waits delayMs(attempt), or less if stop() is called meanwhile. */
  after(attempt: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const sleeper = {
        resolve,
        timer: setTimeout(() => {
          this.sleepers.delete(sleeper);
          resolve();
        }, this.delayMs(attempt)),
      };
      this.sleepers.add(sleeper);
    });
  }

  stop(): void {
    this.stopped = true;
    for (const s of this.sleepers) {
      clearTimeout(s.timer);
      s.resolve();
    }
    this.sleepers.clear();
  }
}
