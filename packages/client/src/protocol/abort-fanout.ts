// One 'abort' listener per AbortSignal for any number of calls that share it. A producer or
// consumer passes one signal to every request it makes; a listener per call would pile up on
// that signal (Node warns "MaxListenersExceededWarning … 11 abort listeners" past 10 calls in
// flight) and cost an add and a remove per request.

/** Owned by one connection (BrokerRpc); calls register their cancel and unregister when settled. */
export class AbortFanout {
  private readonly bySignal = new Map<AbortSignal, { cancels: Set<() => void>; onAbort: () => void }>();

  /** Runs `cancel` if `signal` aborts before the returned unregister function is called. */
  add(signal: AbortSignal, cancel: () => void): () => void {
    let entry = this.bySignal.get(signal);
    if (!entry) {
      const cancels = new Set<() => void>();
      const onAbort = (): void => {
        this.bySignal.delete(signal);
        for (const c of cancels) c();
        cancels.clear();
      };
      entry = { cancels, onAbort };
      this.bySignal.set(signal, entry);
      signal.addEventListener('abort', onAbort, { once: true });
    }
    const { cancels } = entry;
    cancels.add(cancel);
    return () => {
      if (!cancels.delete(cancel) || cancels.size > 0) return;
      const current = this.bySignal.get(signal);
      if (current?.cancels !== cancels) return;
      this.bySignal.delete(signal);
      signal.removeEventListener('abort', current.onAbort);
    };
  }

  /** Signals listened to now (for tests: it returns to 0 when no call is in flight). */
  get size(): number {
    return this.bySignal.size;
  }
}
