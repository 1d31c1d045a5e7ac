// The leader's queue of ReadIndex requests (Raft thesis §6.4). Each request records the commit
// index when it arrived and gets a sequence number that rides on a heartbeat round; once a
// quorum answered that round, the leader was still leader when the request arrived, so the
// request — and every earlier one — may be served at its recorded index.
//
// Owned by a RaftNode while it is leader; cleared (requests dropped) when it steps down.

export interface PendingRead {
  readonly seq: number;
  readonly index: number;
  readonly requestCtx: string;
  /** The node that asked: the leader itself or a follower that forwarded the request. */
  readonly from: number;
  readonly acks: Set<number>;
}

export class ReadIndexQueue {
  private readonly queue: PendingRead[] = [];
  private nextSeq = 1;

  get size(): number {
    return this.queue.length;
  }

  /** The round of the newest pending request (0 if none): periodic heartbeats carry it, so a lost round is retried. */
  lastSeq(): number {
    return this.queue.length === 0 ? 0 : this.queue[this.queue.length - 1]!.seq;
  }

  add(index: number, requestCtx: string, from: number): PendingRead {
    const read: PendingRead = { seq: this.nextSeq++, index, requestCtx, from, acks: new Set() };
    this.queue.push(read);
    return read;
  }

  /** Records that `node` answered the heartbeat round `seq`; returns the acks of that round. */
  ack(node: number, seq: number): Set<number> | undefined {
    const read = this.find(seq);
    if (read === undefined) return undefined;
    read.acks.add(node);
    return read.acks;
  }

  /** Removes and returns every request up to and including round `seq`. */
  release(seq: number): PendingRead[] {
    let n = 0;
    while (n < this.queue.length && this.queue[n]!.seq <= seq) n++;
    return this.queue.splice(0, n);
  }

  /** Removes everything (leadership lost). */
  clear(): PendingRead[] {
    return this.queue.splice(0, this.queue.length);
  }

  private find(seq: number): PendingRead | undefined {
    // Rounds are sequential and short-lived; the queue is small and sorted by seq.
    for (const r of this.queue) {
      if (r.seq === seq) return r;
      if (r.seq > seq) return undefined;
    }
    return undefined;
  }
}
