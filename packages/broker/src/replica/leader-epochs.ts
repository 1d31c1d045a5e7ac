// Leader-epoch arithmetic of replication, as pure functions over the entries of a replica's
// leader-epoch cache (@samsa/log's LeaderEpochFileCache.epochEntries(): epoch → start offset,
// both strictly increasing). Three uses:
// - the leader answers OffsetForLeaderEpoch: where did epoch N end on this replica?
//   (endOffsetForEpoch, identical to LeaderEpochFileCache.endOffsetFor);
// - the follower decides where its log and the leader's stop agreeing (truncationDecision,
//   Kafka's KIP-101 with KIP-279's rule for an epoch the leader does not know);
// - the leader checks a fetch's lastFetchedEpoch (fetchDivergence, KIP-595's check in Fetch).
// A follower truncates by these rules, never to its own high watermark: the high watermark of a
// follower lags the leader's, so cutting there loses records the leader already acknowledged
// (KIP-101, scenario 1).

import { type EpochEndOffset, type EpochEntry, UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET } from '@samsa/log';
import { checkArgument, isInt32, isOffset } from './errors.js';

/** Checks what an adapter hands over as epoch-cache entries: int32 epochs and offsets, both strictly increasing. */
export function checkEpochEntries(entries: readonly EpochEntry[]): void {
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    checkArgument(isInt32(e.epoch) && isOffset(e.startOffset), () => `epoch entry ${i} (${e.epoch}, ${e.startOffset}) is out of range`);
    if (i > 0) {
      const p = entries[i - 1]!;
      checkArgument(
        e.epoch > p.epoch && e.startOffset > p.startOffset,
        () => `epoch entries ${i - 1} (${p.epoch}@${p.startOffset}) and ${i} (${e.epoch}@${e.startOffset}) do not both increase`,
      );
    }
  }
}

/** The latest epoch in the cache, UNDEFINED_EPOCH (-1) when it is empty. */
export function latestEpochOf(entries: readonly EpochEntry[]): number {
  return entries.length === 0 ? UNDEFINED_EPOCH : entries[entries.length - 1]!.epoch;
}

/**
 * OffsetForLeaderEpoch on one replica's cache (Kafka's LeaderEpochFileCache.endOffsetFor): the
 * largest epoch <= `requestedEpoch` and the offset where it ended, which is the start of the
 * next epoch, or `logEndOffset` when the requested epoch is the latest. A requested epoch older
 * than every entry comes back as itself with the first entry's start offset (the records before
 * are gone; the follower may keep nothing from there). [UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET]
 * when the requested epoch is undefined or newer than every entry.
 */
export function endOffsetForEpoch(entries: readonly EpochEntry[], requestedEpoch: number, logEndOffset: number): EpochEndOffset {
  if (requestedEpoch === UNDEFINED_EPOCH || entries.length === 0) return [UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET];
  if (latestEpochOf(entries) === requestedEpoch) return [requestedEpoch, logEndOffset];
  const higher = entries.findIndex((e) => e.epoch > requestedEpoch);
  if (higher < 0) return [UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET];
  const endOffset = entries[higher]!.startOffset;
  return higher === 0 ? [requestedEpoch, endOffset] : [entries[higher - 1]!.epoch, endOffset];
}

/** Where a follower truncates to, and whether that settles it or it must ask the leader again. */
export interface TruncationDecision {
  /** Truncate the log to this offset (exclusive end). May be >= the log end offset: nothing to cut. */
  readonly offset: number;
  /**
   * true: after truncating, fetch from the new log end offset. false (KIP-279): the leader
   * answered an epoch this replica does not have; truncate, then ask again with the latest epoch
   * left in the (trimmed) cache.
   */
  readonly complete: boolean;
  /** Which rule decided, for logs and tests. */
  readonly rule:
    | 'leader-unknown-offset'
    | 'leader-undefined-epoch'
    | 'matching-epoch'
    | 'leader-epoch-unknown-locally'
    | 'leader-epoch-below-local-cache';
}

export interface TruncationInput {
  /** The follower's epoch-cache entries (LeaderEpochFileCache.epochEntries()). */
  readonly localEntries: readonly EpochEntry[];
  readonly localLogEndOffset: number;
  /** The follower's high watermark: where a replica without epochs may safely cut. */
  readonly localHighWatermark: number;
  /** The leader's OffsetForLeaderEpoch answer for the follower's latest epoch. */
  readonly leaderEpoch: number;
  readonly leaderEndOffset: number;
}

/**
 * The follower's truncation decision from the leader's OffsetForLeaderEpoch answer (Kafka's
 * AbstractFetcherThread.getOffsetTruncationState):
 * - the leader does not know the offset (-1): nothing reliable to cut by; keep the log as it is
 *   when this replica has epochs (the next fetch is checked by the leader), else cut to the
 *   high watermark (a replica without epochs has no records past it that it could vouch for);
 * - the leader answered without an epoch (-1, an old protocol): cut to its end offset;
 * - the leader answered epoch E, which this replica also has: the logs agree up to where E ends
 *   on both, so cut to the smaller end offset (KIP-101);
 * - the leader answered epoch E that this replica lacks (the leader never saw our latest epoch
 *   and answered an older one): cut to where our largest epoch below E ends, and ask again,
 *   because divergence may start earlier (KIP-279);
 * - every local epoch is newer than E: cut to the leader's end offset.
 * The offset never exceeds the local log end offset.
 */
export function truncationDecision(input: TruncationInput): TruncationDecision {
  const { localEntries, localLogEndOffset, localHighWatermark, leaderEpoch, leaderEndOffset } = input;
  checkArgument(
    isOffset(localLogEndOffset) && isOffset(localHighWatermark),
    () => `bad local offsets (${localLogEndOffset}, ${localHighWatermark})`,
  );
  checkArgument(
    (leaderEpoch === UNDEFINED_EPOCH || isInt32(leaderEpoch)) && (leaderEndOffset === UNDEFINED_EPOCH_OFFSET || isOffset(leaderEndOffset)),
    () => `bad OffsetForLeaderEpoch answer (${leaderEpoch}, ${leaderEndOffset})`,
  );
  if (leaderEndOffset === UNDEFINED_EPOCH_OFFSET) {
    const offset = localEntries.length > 0 ? localLogEndOffset : Math.min(localHighWatermark, localLogEndOffset);
    return { offset, complete: true, rule: 'leader-unknown-offset' };
  }
  if (leaderEpoch === UNDEFINED_EPOCH) {
    return { offset: Math.min(leaderEndOffset, localLogEndOffset), complete: true, rule: 'leader-undefined-epoch' };
  }
  const [localEpoch, localEndOffset] = endOffsetForEpoch(localEntries, leaderEpoch, localLogEndOffset);
  if (localEndOffset === UNDEFINED_EPOCH_OFFSET) {
    return { offset: Math.min(leaderEndOffset, localLogEndOffset), complete: true, rule: 'leader-epoch-below-local-cache' };
  }
  if (localEpoch !== leaderEpoch) {
    return { offset: Math.min(localEndOffset, localLogEndOffset), complete: false, rule: 'leader-epoch-unknown-locally' };
  }
  return { offset: Math.min(localEndOffset, leaderEndOffset, localLogEndOffset), complete: true, rule: 'matching-epoch' };
}

/** The leader's check of a follower fetch that says which epoch its last record has. */
export type FetchDivergence =
  | { readonly kind: 'consistent' }
  /** Truncate to this before fetching on: `endOffset` is where `epoch` ends on the leader. */
  | { readonly kind: 'diverging'; readonly epoch: number; readonly endOffset: number }
  /** The leader cannot place lastFetchedEpoch (older than its cache): OFFSET_OUT_OF_RANGE. */
  | { readonly kind: 'unknown-epoch' };

/**
 * KIP-595's divergence check in Fetch (Kafka's Partition.fetchRecords): a follower whose last
 * record has epoch `lastFetchedEpoch` and asks from `fetchOffset` agrees with the leader only if
 * the leader also has that epoch and it does not end before `fetchOffset`.
 */
export function fetchDivergence(
  leaderEntries: readonly EpochEntry[],
  leaderLogEndOffset: number,
  lastFetchedEpoch: number,
  fetchOffset: number,
): FetchDivergence {
  if (lastFetchedEpoch === UNDEFINED_EPOCH) return { kind: 'consistent' };
  const [epoch, endOffset] = endOffsetForEpoch(leaderEntries, lastFetchedEpoch, leaderLogEndOffset);
  if (epoch === UNDEFINED_EPOCH || endOffset === UNDEFINED_EPOCH_OFFSET) return { kind: 'unknown-epoch' };
  if (epoch < lastFetchedEpoch || endOffset < fetchOffset) return { kind: 'diverging', epoch, endOffset };
  return { kind: 'consistent' };
}
