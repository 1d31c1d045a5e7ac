// Tells the controller which partitions' ISRs this broker changed: one persistent sequential
// znode under /isr_change_notification listing them (the controller re-reads those states and
// sends UpdateMetadata to every broker). Kafka's isrChangeSet + propagateIsrChanges.
//
// A notification is only news, never the change itself: the ISR change committed with its
// compare-and-set before it got here, so a failed notification is retried (backing off), never
// turned into a rejected change. Partitions waiting are kept once each (at most one entry per
// hosted partition) and sent together, up to MAX_PARTITIONS_PER_NOTIFICATION per znode. A
// notification whose outcome was unknown may be written twice; the controller reads both and
// dedups.
//
// Lifecycle: owned by the IsrChangeWriter; stop() ends the retries (what is still waiting is
// dropped: a new controller reads every state anyway, and the next change notifies again).

import type { CoordinatorClient, Logger } from '@samsa/coordinator';
import { encodeIsrChangeNotification, ISR_CHANGE_PREFIX, ZK, type TopicPartitionRef } from '../controller/znodes.js';
import type { RetryPause } from './retry-pause.js';

/** Keeps a notification znode far below the coordinator's data size limit. */
export const MAX_PARTITIONS_PER_NOTIFICATION = 1_000;

export interface IsrChangeNotifierOptions {
  readonly zk: () => CoordinatorClient;
  readonly logger: Logger;
  readonly pause: RetryPause;
}

export class IsrChangeNotifier {
  private readonly waiting = new Map<string, TopicPartitionRef>();
  private sending = false;
  /** Partitions of the notification being written. */
  private writing = 0;
  private stopped = false;

  constructor(private readonly o: IsrChangeNotifierOptions) {}

  /** Partitions waiting to be notified, or being notified now (for tests and metrics). */
  get backlog(): number {
    return this.waiting.size + this.writing;
  }

  notify(tp: TopicPartitionRef): void {
    if (this.stopped) return;
    this.waiting.set(`${tp.topic}\u0000${tp.partition}`, { topic: tp.topic, partition: tp.partition });
    if (!this.sending) void this.sendWaiting();
  }

  stop(): void {
    this.stopped = true;
    this.waiting.clear();
  }

  private async sendWaiting(): Promise<void> {
    this.sending = true;
    let failures = 0;
    try {
      while (this.waiting.size > 0 && !this.stopped) {
        const batch = [...this.waiting].slice(0, MAX_PARTITIONS_PER_NOTIFICATION);
        for (const [key] of batch) this.waiting.delete(key);
        this.writing = batch.length;
        const error = await this.write(batch.map(([, tp]) => tp)).then(() => null, (e: unknown) => e ?? 'failed');
        this.writing = 0;
        if (error === null) {
          failures = 0;
          continue;
        }
        // Put them back (a newer notify of the same partition may already be waiting).
        for (const [key, tp] of batch) if (!this.waiting.has(key)) this.waiting.set(key, tp);
        failures++;
        this.o.logger.warn('ISR change notification failed; will retry', { partitions: batch.length, attempt: failures, error });
        await this.o.pause.after(failures);
      }
    } finally {
      // No await between the loop's last check and here: a notify() meanwhile starts a new loop.
      this.sending = false;
    }
  }

  private async write(partitions: readonly TopicPartitionRef[]): Promise<void> {
    const zk = this.o.zk();
    await zk.ensurePath(ZK.isrChangeNotification);
    await zk.create(`${ZK.isrChangeNotification}/${ISR_CHANGE_PREFIX}`, encodeIsrChangeNotification(partitions), {
      mode: 'persistent_sequential',
    });
  }
}
