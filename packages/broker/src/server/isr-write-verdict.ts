// What became of a leader's compare-and-set of an ISR change, judged from the partition state
// znode as read after the write (THE ISR CONTRACT in replica/partition-replica.ts). A pure
// function, so that the one decision that can lose records when it is wrong is tested alone.
//
// Why it is careful: a write whose outcome is unknown (the coordinator timed out, or the member
// died mid-request) may have been applied, or may still be applied later (a Raft entry that a
// new coordinator leader commits). Reporting such a change as rejected when it committed would
// make the leader stop counting an added replica that the controller may then elect. So:
//   - only the znode at expected + 1 holding our state proves the change committed;
//   - the znode still at the expected version proves nothing yet: write the same change again
//     (compare-and-set on the same version: at most one of the writes can land);
//   - once the znode moved past the expected version our write can no longer land, and the
//     znode is the truth: adopt it when it is still our leadership, otherwise leave the change to
//     the controller, which will send this broker the newer state (LeaderAndIsr).

import type { LeaderAndIsr } from '../controller/leader-election-strategies.js';
import type { IsrChangeProposal } from '../replica/index.js';

/** The state znode as read: its version, and its state (null when it could not be decoded). */
export interface IsrStateZnode {
  readonly version: number;
  readonly state: LeaderAndIsr | null;
}

export type IsrWriteVerdict =
  /** The znode is at expected + 1 with our state: report it committed. */
  | { readonly kind: 'committed'; readonly partitionEpoch: number }
  /** The znode is still at the expected version: our write has not landed (yet). Write it again. */
  | { readonly kind: 'unwritten' }
  /**
   * The znode moved on under the same leader and leader epoch: whatever became of our write,
   * this state is the truth for our leadership. Adopt it (becomeLeader with its partition epoch).
   */
  | { readonly kind: 'superseded'; readonly state: LeaderAndIsr; readonly partitionEpoch: number }
  /** Our change certainly did not commit and the znode is not ours to adopt: report it rejected. */
  | { readonly kind: 'rejected'; readonly reason: string }
  /**
   * Our change may have committed before the controller wrote a newer leadership over it: keep it
   * pending (the high watermark keeps counting it) until the controller's LeaderAndIsr settles it.
   */
  | { readonly kind: 'undecided'; readonly reason: string };

/** The proposal's body as the znode holds it. */
function holdsProposal(state: LeaderAndIsr | null, proposal: IsrChangeProposal): boolean {
  return (
    state !== null &&
    state.leader === proposal.leader &&
    state.leaderEpoch === proposal.leaderEpoch &&
    state.controllerEpoch === proposal.controllerEpoch &&
    state.isr.length === proposal.isr.length &&
    state.isr.every((id, i) => id === proposal.isr[i])
  );
}

/**
 * Judges an ISR write from the znode read after it. `znode` null: the znode is gone (the topic
 * is being deleted). `mayHaveLanded`: some attempt of this proposal ended with an unknown outcome
 * (without one, every attempt certainly failed, e.g. BAD_VERSION).
 */
export function judgeIsrWrite(proposal: IsrChangeProposal, znode: IsrStateZnode | null, mayHaveLanded: boolean): IsrWriteVerdict {
  const expected = proposal.expectedPartitionEpoch;
  if (znode === null) return { kind: 'rejected', reason: 'the partition state znode is gone' };
  if (znode.version < expected) {
    // Deleted and created again (a new topic of the same name): our version can never come back.
    return { kind: 'rejected', reason: `the znode is at version ${znode.version}, below the expected ${expected}` };
  }
  if (znode.version === expected) return { kind: 'unwritten' };
  if (znode.version === expected + 1 && holdsProposal(znode.state, proposal)) return { kind: 'committed', partitionEpoch: znode.version };
  const s = znode.state;
  if (s !== null && s.leader === proposal.leader && s.leaderEpoch === proposal.leaderEpoch) {
    return { kind: 'superseded', state: s, partitionEpoch: znode.version };
  }
  const now = s === null ? `version ${znode.version} (undecodable)` : `version ${znode.version}, leader ${s.leader}, leader epoch ${s.leaderEpoch}`;
  // Another write took version expected + 1: ours can never have landed.
  if (!mayHaveLanded || znode.version === expected + 1) return { kind: 'rejected', reason: `the znode moved on: ${now}` };
  return { kind: 'undecided', reason: `the znode moved past our write, which may have landed: ${now}` };
}
