// Writes a leader's ISR changes to the coordinator and reports them back to the replica core,
// following THE ISR CONTRACT (replica/partition-replica.ts): compare-and-set on the partition
// state znode (expected version = the proposal's partition epoch), then committed, rejected or
// adopted as the znode says, then an /isr_change_notification for the controller.
//
// A write whose outcome is unknown (coordinator TIMEOUT or UNAVAILABLE, a lost member, a failed
// re-read) leaves the change pending in the core, whose high watermark keeps counting the
// proposed ISR; the znode is re-read, with back-off, until judgeIsrWrite can tell what happened
// (still at the expected version: the same change is written again). Retries last as long as
// the proposal is still the core's pending one, i.e. while this broker leads the partition under
// that leader epoch; a LeaderAndIsr or StopReplica that settles it ends them.
//
// Lifecycle: owned by the ReplicaManager; write() per proposal the core outputs; stop() at
// shutdown ends the retries and waits (bounded) for writes in flight.

import type { CoordinatorClient, Logger } from '@samsa/coordinator';
import { CoordinatorError } from '@samsa/coordinator';
import type { LeaderAndIsr } from '../controller/leader-election-strategies.js';
import { decodePartitionState, encodePartitionState, partitionStatePath } from '../controller/znodes.js';
import type { IsrChangeProposal } from '../replica/index.js';
import type { BrokerMetrics } from './broker-metrics.js';
import { IsrChangeNotifier } from './isr-change-notifier.js';
import { judgeIsrWrite, type IsrStateZnode, type IsrWriteVerdict } from './isr-write-verdict.js';
import type { MetadataCache } from './metadata-cache.js';
import type { Partition } from './partition.js';
import { RetryPause, type RetryPauseLimits } from './retry-pause.js';

export const DEFAULT_ISR_WRITE_RETRY: RetryPauseLimits = { minMs: 50, maxMs: 1_000 };

export interface IsrChangeWriterOptions {
  readonly zk: () => CoordinatorClient;
  readonly metadata: MetadataCache;
  readonly logger: Logger;
  readonly metrics?: BrokerMetrics;
  readonly clock: () => number;
  /** Whether the replica manager still hosts `p` (a write for a dropped partition stops). */
  readonly hosts: (p: Partition) => boolean;
  /** After a write settled (or gave up): act on the replica core's new outputs. */
  readonly afterSettled: (p: Partition) => void;
  readonly retry?: RetryPauseLimits;
}

/** A verdict that ends the writing (an unwritten change is written again). */
type SettledVerdict = Exclude<IsrWriteVerdict, { kind: 'unwritten' }>;

/** One compare-and-set attempt: written, certainly not written, or unknown. */
type CasAttempt =
  | { readonly kind: 'written'; readonly version: number }
  | { readonly kind: 'failed'; readonly error: CoordinatorError }
  | { readonly kind: 'unknown'; readonly error: unknown };

export class IsrChangeWriter {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly pause: RetryPause;
  private readonly notifier: IsrChangeNotifier;
  private stopped = false;

  constructor(private readonly o: IsrChangeWriterOptions) {
    this.pause = new RetryPause(o.retry ?? DEFAULT_ISR_WRITE_RETRY);
    this.notifier = new IsrChangeNotifier({ zk: o.zk, logger: o.logger, pause: this.pause });
  }

  /** ISR writes not yet settled. */
  get writing(): number {
    return this.inFlight.size;
  }

  /** Partitions whose committed ISR change the controller has not been notified of yet. */
  get notificationBacklog(): number {
    return this.notifier.backlog;
  }

  /** Writes `proposal` (the core's pending ISR change of `p`) and reports the outcome to the core. */
  write(p: Partition, proposal: IsrChangeProposal): void {
    const task = this.settle(p, proposal).finally(() => this.inFlight.delete(task));
    this.inFlight.add(task);
  }

  /** Ends retries now; waits up to `waitMs` for writes in flight to settle. */
  async stop(waitMs: number): Promise<void> {
    this.stopped = true;
    this.pause.stop();
    this.notifier.stop();
    if (this.inFlight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, waitMs);
    });
    await Promise.race([Promise.allSettled([...this.inFlight]), deadline]);
    clearTimeout(timer);
  }

  private async settle(p: Partition, proposal: IsrChangeProposal): Promise<void> {
    try {
      const verdict = await this.writeUntilKnown(p, proposal);
      if (verdict !== null) this.report(p, proposal, verdict);
    } catch (e) {
      // The core refused what the znode says (an invariant): nothing here can repair that.
      this.o.logger.error('ISR change could not be reported to the partition', { topic: p.topic, partition: p.partition, error: e });
    } finally {
      this.o.afterSettled(p);
    }
  }

  /** While the proposal is the core's pending change of a hosted partition. */
  private stillPending(p: Partition, proposal: IsrChangeProposal): boolean {
    return !this.stopped && this.o.hosts(p) && p.replica.state().pendingIsrChange?.id === proposal.id;
  }

  /**
   * Compare-and-set until the znode tells what became of the change. null: the proposal is no
   * longer this broker's to settle (a LeaderAndIsr, StopReplica or shutdown came first).
   */
  private async writeUntilKnown(p: Partition, proposal: IsrChangeProposal): Promise<SettledVerdict | null> {
    const path = partitionStatePath(p.topic, p.partition);
    const body = encodePartitionState({
      leader: proposal.leader, leaderEpoch: proposal.leaderEpoch, isr: [...proposal.isr], controllerEpoch: proposal.controllerEpoch,
    });
    let mayHaveLanded = false;
    for (let rewrites = 0; ; ) {
      const attempt = await this.compareAndSet(path, body, proposal.expectedPartitionEpoch);
      if (attempt.kind === 'written') return { kind: 'committed', partitionEpoch: attempt.version };
      if (attempt.kind === 'unknown') {
        mayHaveLanded = true;
        this.o.logger.warn('ISR change write has an unknown outcome; re-reading the partition state', {
          topic: p.topic, partition: p.partition, isr: proposal.isr, error: attempt.error,
        });
      }
      const read = await this.rereadWhilePending(p, proposal);
      if (read === 'abandoned') return null;
      const verdict = judgeIsrWrite(proposal, read.znode, mayHaveLanded);
      if (verdict.kind !== 'unwritten') return verdict;
      // Still at the expected version: write the same change again (at most one write can land).
      await this.pause.after(++rewrites);
      if (!this.stillPending(p, proposal)) return null;
    }
  }

  private async compareAndSet(path: string, body: string, expectedVersion: number): Promise<CasAttempt> {
    try {
      return { kind: 'written', version: (await this.o.zk().set(path, body, expectedVersion)).version };
    } catch (e) {
      // Only these prove the write was not applied; anything else (TIMEOUT, UNAVAILABLE,
      // SESSION_EXPIRED, a transport error) may have been, or may still be.
      if (e instanceof CoordinatorError && (e.code === 'BAD_VERSION' || e.code === 'NO_NODE')) return { kind: 'failed', error: e };
      return { kind: 'unknown', error: e };
    }
  }

  /** Reads the state znode, retrying failed reads with back-off as long as the proposal is pending. */
  private async rereadWhilePending(p: Partition, proposal: IsrChangeProposal): Promise<{ readonly znode: IsrStateZnode | null } | 'abandoned'> {
    for (let failures = 0; ; ) {
      if (!this.stillPending(p, proposal)) return 'abandoned';
      try {
        return { znode: await this.readState(p) };
      } catch (e) {
        this.o.logger.warn('re-reading the partition state failed; will retry', { topic: p.topic, partition: p.partition, error: e });
      }
      await this.pause.after(++failures);
    }
  }

  /** The state znode now; null: it is gone. Throws when the read fails. */
  private async readState(p: Partition): Promise<IsrStateZnode | null> {
    const path = partitionStatePath(p.topic, p.partition);
    let got: { data: Buffer; stat: { version: number } };
    try {
      got = await this.o.zk().get(path);
    } catch (e) {
      if (e instanceof CoordinatorError && e.code === 'NO_NODE') return null;
      throw e;
    }
    let state: LeaderAndIsr | null = null;
    try {
      state = decodePartitionState(p.topic, p.partition, got.data);
    } catch (e) {
      this.o.logger.error('partition state znode is corrupt', { topic: p.topic, partition: p.partition, error: e });
    }
    return { version: got.stat.version, state };
  }

  /** Tells the core what the znode said (see IsrWriteVerdict). */
  private report(p: Partition, proposal: IsrChangeProposal, verdict: SettledVerdict): void {
    const where = { topic: p.topic, partition: p.partition };
    switch (verdict.kind) {
      case 'committed':
        this.onCommitted(p, proposal, verdict.partitionEpoch);
        return;
      case 'superseded':
        // Only while it is still our pending change: a LeaderAndIsr may have come meanwhile.
        if (this.stillPending(p, proposal)) this.adopt(p, verdict.state, verdict.partitionEpoch);
        return;
      case 'rejected':
        this.o.logger.info('ISR change rejected', { ...where, isr: proposal.isr, kind: proposal.kind, reason: verdict.reason });
        p.replica.onIsrChangeRejected(proposal.id, this.o.clock());
        return;
      case 'undecided':
        this.o.logger.warn('ISR change left pending until the controller sends the partition state', { ...where, reason: verdict.reason });
        return;
    }
  }

  private onCommitted(p: Partition, proposal: IsrChangeProposal, partitionEpoch: number): void {
    // false: a LeaderAndIsr settled the proposal meanwhile; the znode changed all the same.
    if (p.replica.onIsrChangeCommitted(proposal.id, partitionEpoch, this.o.clock())) {
      this.o.metrics?.isrChange(proposal.kind);
      this.o.logger.info('ISR changed', { topic: p.topic, partition: p.partition, isr: proposal.isr, kind: proposal.kind });
      const known = this.o.metadata.partition(p.topic, p.partition);
      if (known) this.o.metadata.updatePartitions([{ ...known, isr: [...proposal.isr], partitionEpoch }]);
    }
    this.notifier.notify({ topic: p.topic, partition: p.partition });
  }

  /** The znode moved on under our leadership and leader epoch: it is the truth (same leader epoch, newer partition epoch). */
  private adopt(p: Partition, state: LeaderAndIsr, partitionEpoch: number): void {
    const view = p.replica.state();
    const r = p.makeLeader({ ...state, partitionEpoch, replicas: view.replicas });
    this.o.logger.info('ISR change superseded; adopted the partition state', {
      topic: p.topic, partition: p.partition, isr: state.isr, partitionEpoch, result: r.kind,
    });
    if (r.kind === 'rejected') throw r.error;
    const known = this.o.metadata.partition(p.topic, p.partition);
    if (known && known.leaderEpoch === state.leaderEpoch) this.o.metadata.updatePartitions([{ ...known, isr: [...state.isr], partitionEpoch }]);
  }
}
