// The leader's view of one follower's log: how far it matches, what to send next, and the flow
// control state. Created by a RaftNode when it becomes leader, discarded when it steps down.
//
//   probe:     we do not know where the follower's log matches; send one append at a time and
//              wait for the answer (or the next heartbeat response).
//   replicate: the follower keeps up; stream appends optimistically, at most maxInflight
//              unacknowledged messages.
//   snapshot:  the follower needs entries we compacted; a snapshot is on its way, send nothing
//              until it is acknowledged (or snapshotRetryTicks pass).

import { invariant } from './errors.js';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/** A bounded FIFO of the last indexes of unacknowledged append messages. */
export class Inflights {
  private readonly buffer: number[];
  private start = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.buffer = new Array<number>(capacity);
  }

  get size(): number {
    return this.count;
  }

  full(): boolean {
    return this.count === this.capacity;
  }

  add(lastIndex: number): void {
    invariant(!this.full(), () => 'inflights overflow');
    this.buffer[(this.start + this.count) % this.capacity] = lastIndex;
    this.count++;
  }

  /** Frees every message whose last index is ≤ `index` (they are acknowledged). */
  freeLE(index: number): void {
    while (this.count > 0 && this.buffer[this.start]! <= index) {
      this.start = (this.start + 1) % this.capacity;
      this.count--;
    }
  }

  freeFirstOne(): void {
    if (this.count === 0) return;
    this.start = (this.start + 1) % this.capacity;
    this.count--;
  }

  reset(): void {
    this.start = 0;
    this.count = 0;
  }
}

export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** Probe state: an append is out, wait for its answer before sending another. */
  probeSent = false;
  /** Snapshot state: the index of the snapshot sent. */
  pendingSnapshot = 0;
  /** Snapshot state: ticks since the snapshot was sent. */
  snapshotTicks = 0;
  /** Heard from since the last check-quorum round. */
  recentActive = false;
  readonly inflights: Inflights;

  constructor(next: number, maxInflight: number) {
    this.next = next;
    this.inflights = new Inflights(maxInflight);
  }

  becomeProbe(): void {
    // After a snapshot, the follower most likely has it: probe right after it.
    this.next = this.state === 'snapshot' ? Math.max(this.match + 1, this.pendingSnapshot + 1) : this.match + 1;
    this.state = 'probe';
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.inflights.reset();
  }

  becomeReplicate(): void {
    this.state = 'replicate';
    this.next = this.match + 1;
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.inflights.reset();
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.state = 'snapshot';
    this.pendingSnapshot = snapshotIndex;
    this.snapshotTicks = 0;
    this.probeSent = false;
    this.inflights.reset();
  }

  /** An acknowledgement up to `index`; true if it moved the match forward. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    if (this.next < index + 1) this.next = index + 1;
    return updated;
  }

  /** Replicate state: entries up to `lastIndex` were sent. */
  sentEntries(lastIndex: number): void {
    this.next = lastIndex + 1;
    this.inflights.add(lastIndex);
  }

  /**
   * A rejection of the append with prevIndex `rejected`; `matchHint` is where the follower's
   * log may match. False if the rejection is stale (an answer to an older message).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }
}
