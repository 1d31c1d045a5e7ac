// The leader's view of one follower of a partition (Kafka's Replica / ReplicaState): how far its
// log reaches, when it last fetched, and when it was last caught up. Lifecycle: owned by a
// PartitionReplica while it leads; reset when a new leader epoch starts (what a follower said
// to an earlier leader proves nothing about its log now), dropped when the leader steps down.

/** A follower log end offset the leader has not heard yet. */
export const UNKNOWN_OFFSET = -1;

export interface FollowerProgressView {
  readonly replicaId: number;
  /** The follower's log end offset: the offset of its latest fetch. -1 until it fetches. */
  readonly logEndOffset: number;
  readonly logStartOffset: number;
  readonly lastFetchTimeMs: number;
  /** The last time the follower was known to hold every record the leader had (Kafka's lastCaughtUpTimeMs). */
  readonly lastCaughtUpTimeMs: number;
}

export class FollowerProgress implements FollowerProgressView {
  logEndOffset = UNKNOWN_OFFSET;
  logStartOffset = UNKNOWN_OFFSET;
  lastFetchTimeMs = 0;
  lastCaughtUpTimeMs: number;
  /** The leader's log end offset at the follower's previous fetch. */
  private lastFetchLeaderLogEndOffset = UNKNOWN_OFFSET;

  /**
   * A follower in the ISR when this leader epoch starts counts as caught up now: it gets a
   * whole replica.lag.time.max.ms to fetch before it may be removed. One outside gets 0.
   */
  constructor(
    readonly replicaId: number,
    nowMs: number,
    inIsr: boolean,
  ) {
    this.lastCaughtUpTimeMs = inIsr ? nowMs : 0;
  }

  /**
   * A fetch from `fetchOffset` at `nowMs`, when the leader's log ended at `leaderLogEndOffset`:
   * the follower holds everything below `fetchOffset`. It is caught up now if that is the
   * leader's whole log, and it was caught up at its previous fetch if it now has everything
   * the leader had back then (Kafka's Replica.updateFetchState).
   */
  onFetch(fetchOffset: number, logStartOffset: number, nowMs: number, leaderLogEndOffset: number): void {
    if (fetchOffset >= leaderLogEndOffset) {
      this.lastCaughtUpTimeMs = Math.max(this.lastCaughtUpTimeMs, nowMs);
    } else if (fetchOffset >= this.lastFetchLeaderLogEndOffset) {
      this.lastCaughtUpTimeMs = Math.max(this.lastCaughtUpTimeMs, this.lastFetchTimeMs);
    }
    this.logEndOffset = fetchOffset;
    this.logStartOffset = logStartOffset;
    this.lastFetchLeaderLogEndOffset = leaderLogEndOffset;
    this.lastFetchTimeMs = nowMs;
  }

  /** Kafka's ReplicaState.isCaughtUp: at the leader's end now, or caught up within the lag time. */
  isCaughtUp(leaderLogEndOffset: number, nowMs: number, replicaLagTimeMaxMs: number): boolean {
    return this.logEndOffset === leaderLogEndOffset || nowMs - this.lastCaughtUpTimeMs <= replicaLagTimeMaxMs;
  }

  view(): FollowerProgressView {
    return {
      replicaId: this.replicaId,
      logEndOffset: this.logEndOffset,
      logStartOffset: this.logStartOffset,
      lastFetchTimeMs: this.lastFetchTimeMs,
      lastCaughtUpTimeMs: this.lastCaughtUpTimeMs,
    };
  }
}
