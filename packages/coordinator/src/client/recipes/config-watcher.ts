// Config watching: the current data of a znode, and an event whenever it changes, appears or
// goes away. Used for /config/topics/<topic> and /config/brokers/<id>.

import { EventEmitter } from 'node:events';
import { CoordinatorError } from '../../tree/errors.js';
import type { CoordinatorClient, WatchHandle } from '../coordinator-client.js';

/** Events: 'change' (Buffer | null). Lifecycle: start(), then stop(). */
export class ConfigWatcher extends EventEmitter {
  private watch: WatchHandle | null = null;
  private value: Buffer | null = null;

  constructor(
    private readonly client: CoordinatorClient,
    readonly path: string,
  ) {
    super();
  }

  get current(): Buffer | null {
    return this.value;
  }

  /** Registers the watch first, then reads, so no change between the two is missed. */
  async start(): Promise<Buffer | null> {
    this.watch = this.client.watch(this.path, { kind: 'exists', persistent: true }, () => void this.reload());
    await this.watch.ready;
    return this.reload();
  }

  private async reload(): Promise<Buffer | null> {
    let next: Buffer | null;
    try {
      next = (await this.client.get(this.path)).data;
    } catch (err) {
      if (!(err instanceof CoordinatorError && err.code === 'NO_NODE')) {
        this.emit('error', err);
        return this.value;
      }
      next = null;
    }
    const changed = next === null ? this.value !== null : this.value === null || !next.equals(this.value);
    this.value = next;
    if (changed) this.emit('change', next);
    return next;
  }

  stop(): void {
    this.watch?.remove();
    this.watch = null;
  }
}
