// judgeIsrWrite: what became of a leader's compare-and-set of an ISR change, from the state
// znode read after it. Broker 1 leads under leader epoch 4 and proposes to add broker 3 to the
// ISR [1, 2], expecting the znode at version 7.

import type { IsrChangeProposal } from '../../src/replica/index.js';
import { judgeIsrWrite, type IsrStateZnode } from '../../src/server/isr-write-verdict.js';

const expand: IsrChangeProposal = {
  id: 1, kind: 'expand', changed: [3], leader: 1, leaderEpoch: 4, controllerEpoch: 2, isr: [1, 2, 3], expectedPartitionEpoch: 7,
};
const znode = (version: number, state: Partial<NonNullable<IsrStateZnode['state']>> | null = {}): IsrStateZnode => ({
  version,
  state: state === null ? null : { leader: 1, leaderEpoch: 4, controllerEpoch: 2, isr: [1, 2], ...state },
});

describe('judgeIsrWrite', () => {
  test('the znode at expected + 1 with our state: committed, whether or not an attempt had an unknown outcome', () => {
    for (const mayHaveLanded of [false, true]) {
      expect(judgeIsrWrite(expand, znode(8, { isr: [1, 2, 3] }), mayHaveLanded)).toEqual({ kind: 'committed', partitionEpoch: 8 });
    }
  });

  test('the znode still at the expected version: not written yet (it may still land), so write it again — never rejected', () => {
    for (const mayHaveLanded of [false, true]) expect(judgeIsrWrite(expand, znode(7), mayHaveLanded)).toEqual({ kind: 'unwritten' });
  });

  test('our ISR at expected + 1 but another leader epoch, controller epoch or ISR order is not our write', () => {
    const notOurs = [{ isr: [1, 3, 2] }, { isr: [1, 2, 3], controllerEpoch: 3 }];
    for (const s of notOurs) expect(judgeIsrWrite(expand, znode(8, s), true).kind).toBe('superseded');
    expect(judgeIsrWrite(expand, znode(8, { isr: [1, 2, 3], leaderEpoch: 5 }), true).kind).toBe('rejected');
  });

  test('moved on under our leader and leader epoch: superseded, adopt the znode (whatever became of our write)', () => {
    const later = { isr: [1, 2, 3], leaderEpoch: 4 };
    for (const mayHaveLanded of [false, true]) {
      expect(judgeIsrWrite(expand, znode(9, later), mayHaveLanded)).toEqual({
        kind: 'superseded', partitionEpoch: 9, state: { leader: 1, leaderEpoch: 4, controllerEpoch: 2, isr: [1, 2, 3] },
      });
    }
    expect(judgeIsrWrite(expand, znode(8, { isr: [1] }), false)).toMatchObject({ kind: 'superseded', partitionEpoch: 8 });
  });

  test('a new leadership at expected + 1: someone else took our version, so ours certainly did not commit: rejected', () => {
    for (const mayHaveLanded of [false, true]) {
      expect(judgeIsrWrite(expand, znode(8, { leaderEpoch: 5, isr: [1] }), mayHaveLanded).kind).toBe('rejected');
      expect(judgeIsrWrite(expand, znode(8, { leader: 2, leaderEpoch: 5, isr: [2] }), mayHaveLanded).kind).toBe('rejected');
    }
  });

  test('a new leadership past expected + 1: rejected only when every attempt certainly failed, else undecided (left to the controller)', () => {
    // Our expansion may be version 8 and the controller's new leader epoch version 9, elected from it.
    const electedFromOurs = znode(9, { leader: 3, leaderEpoch: 5, isr: [3] });
    expect(judgeIsrWrite(expand, electedFromOurs, false).kind).toBe('rejected');
    expect(judgeIsrWrite(expand, electedFromOurs, true).kind).toBe('undecided');
  });

  test('an undecodable znode is never ours, and never adopted', () => {
    expect(judgeIsrWrite(expand, znode(8, null), true).kind).toBe('rejected');
    expect(judgeIsrWrite(expand, znode(9, null), true).kind).toBe('undecided');
    expect(judgeIsrWrite(expand, znode(9, null), false).kind).toBe('rejected');
    expect(judgeIsrWrite(expand, znode(7, null), true).kind).toBe('unwritten');
  });

  test('the znode gone, or below the expected version (the topic was deleted, perhaps created again): rejected', () => {
    expect(judgeIsrWrite(expand, null, true)).toMatchObject({ kind: 'rejected', reason: expect.stringMatching(/gone/) });
    expect(judgeIsrWrite(expand, znode(0, { isr: [1, 2, 3] }), true)).toMatchObject({ kind: 'rejected', reason: expect.stringMatching(/below/) });
  });
});
