// Time for the controller's adapters (request retries, the periodic leader rebalance, event
// retries). Injected so tests control it; the decision logic itself never reads time.

/** Whatever setTimeout returned; only ever passed back to clearTimeout. */
export type TimerHandle = unknown;

export interface ControllerClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemClock: ControllerClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
