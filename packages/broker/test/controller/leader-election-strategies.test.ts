// Kafka's partition leader election strategies and ISR edits, case by case.
import {
  bumpLeaderEpoch,
  controlledShutdownLeaderElection,
  initialLeaderAndIsr,
  nextLeaderAndIsr,
  offlinePartitionLeaderElection,
  preferredReplicaLeaderElection,
  removeReplicasFromIsr,
  type LeaderAndIsr,
} from '../../src/controller/leader-election-strategies.js';

const live = (...ids: number[]): Set<number> => new Set(ids);

describe('offline partition leader election', () => {
  test.each([
    // assignment, isr, live, unclean → expected
    { assignment: [1, 2, 3], isr: [1, 2, 3], live: [2, 3], unclean: false, expected: { leader: 2, isr: [2, 3], unclean: false } },
    { assignment: [1, 2, 3], isr: [3, 2], live: [2, 3], unclean: false, expected: { leader: 2, isr: [3, 2], unclean: false } },
    { assignment: [3, 1, 2], isr: [1, 2], live: [1, 2, 3], unclean: false, expected: { leader: 1, isr: [1, 2], unclean: false } },
    { assignment: [1, 2, 3], isr: [1], live: [2, 3], unclean: false, expected: null },
    { assignment: [1, 2, 3], isr: [1], live: [3, 2], unclean: true, expected: { leader: 2, isr: [2], unclean: true } },
    { assignment: [1, 2, 3], isr: [], live: [3], unclean: true, expected: { leader: 3, isr: [3], unclean: true } },
    { assignment: [1, 2, 3], isr: [1], live: [], unclean: true, expected: null },
    { assignment: [1, 2], isr: [1, 2, 9], live: [2, 9], unclean: false, expected: { leader: 2, isr: [2, 9], unclean: false } },
  ])('assignment $assignment isr $isr live $live unclean $unclean', ({ assignment, isr, live: l, unclean, expected }) => {
    expect(offlinePartitionLeaderElection({ assignment, isr, liveReplicas: live(...l), uncleanLeaderElectionEnabled: unclean })).toEqual(expected);
  });

  test('a clean choice is preferred to an unclean one even when unclean is allowed', () => {
    expect(offlinePartitionLeaderElection({ assignment: [1, 2, 3], isr: [3], liveReplicas: live(1, 2, 3), uncleanLeaderElectionEnabled: true })).toEqual({
      leader: 3,
      isr: [3],
      unclean: false,
    });
  });
});

describe('preferred replica leader election', () => {
  test.each([
    { assignment: [1, 2, 3], isr: [2, 1], live: [1, 2], expected: { leader: 1, isr: [2, 1] } },
    { assignment: [1, 2, 3], isr: [2, 3], live: [1, 2, 3], expected: null }, // preferred not in ISR
    { assignment: [1, 2, 3], isr: [1, 2], live: [2, 3], expected: null }, // preferred not live
    { assignment: [], isr: [1], live: [1], expected: null },
  ])('assignment $assignment isr $isr live $live', ({ assignment, isr, live: l, expected }) => {
    expect(preferredReplicaLeaderElection({ assignment, isr, liveReplicas: live(...l) })).toEqual(expected);
  });
});

describe('controlled shutdown leader election', () => {
  test.each([
    { assignment: [1, 2, 3], isr: [1, 2, 3], shutting: [1], expected: { leader: 2, isr: [2, 3] } },
    { assignment: [1, 2, 3], isr: [1, 3], shutting: [1], expected: { leader: 3, isr: [3] } },
    { assignment: [1, 2, 3], isr: [1], shutting: [1], expected: null },
    { assignment: [1, 2, 3], isr: [1, 2, 3], shutting: [1, 2], expected: { leader: 3, isr: [3] } },
  ])('assignment $assignment isr $isr shutting down $shutting', ({ assignment, isr, shutting, expected }) => {
    expect(
      controlledShutdownLeaderElection({
        assignment,
        isr,
        liveOrShuttingDownReplicas: live(1, 2, 3),
        shuttingDownBrokers: live(...shutting),
      }),
    ).toEqual(expected);
  });

  test('an ISR member that is not registered cannot take over', () => {
    expect(
      controlledShutdownLeaderElection({ assignment: [1, 2, 3], isr: [1, 2, 3], liveOrShuttingDownReplicas: live(1, 3), shuttingDownBrokers: live(1) }),
    ).toEqual({ leader: 3, isr: [2, 3] });
  });
});

describe('state transitions', () => {
  const state: LeaderAndIsr = { leader: 1, leaderEpoch: 4, isr: [1, 2, 3], controllerEpoch: 2 };

  test('every new leadership bumps the leader epoch and records the controller epoch', () => {
    expect(nextLeaderAndIsr(state, 2, [2, 3], 7)).toEqual({ leader: 2, leaderEpoch: 5, isr: [2, 3], controllerEpoch: 7 });
  });

  test('removing a follower shrinks the ISR and bumps the epoch; the leader stays', () => {
    expect(removeReplicasFromIsr(state, [2], 3)).toEqual({ leader: 1, leaderEpoch: 5, isr: [1, 3], controllerEpoch: 3 });
  });

  test('removing the leader leaves no leader', () => {
    expect(removeReplicasFromIsr(state, [1], 3)).toEqual({ leader: -1, leaderEpoch: 5, isr: [2, 3], controllerEpoch: 3 });
  });

  test('the last ISR member stays in the ISR even when it goes', () => {
    const alone: LeaderAndIsr = { leader: 2, leaderEpoch: 1, isr: [2], controllerEpoch: 1 };
    expect(removeReplicasFromIsr(alone, [2], 1)).toEqual({ leader: -1, leaderEpoch: 2, isr: [2], controllerEpoch: 1 });
    expect(removeReplicasFromIsr(state, [1, 2, 3], 3)).toEqual({ leader: -1, leaderEpoch: 5, isr: [3], controllerEpoch: 3 });
  });

  test('nothing to remove: no change (no epoch bump)', () => {
    expect(removeReplicasFromIsr(state, [9], 3)).toBeNull();
    expect(removeReplicasFromIsr({ leader: -1, leaderEpoch: 3, isr: [2], controllerEpoch: 1 }, [2], 1)).toBeNull();
  });

  test('a replica outside the ISR failed: same leader and ISR under the next leader epoch; without a leader, nothing', () => {
    const without3: LeaderAndIsr = { leader: 1, leaderEpoch: 4, isr: [1, 2], controllerEpoch: 2 };
    expect(bumpLeaderEpoch(without3, 3)).toEqual({ leader: 1, leaderEpoch: 5, isr: [1, 2], controllerEpoch: 3 });
    expect(bumpLeaderEpoch({ leader: -1, leaderEpoch: 3, isr: [2], controllerEpoch: 1 }, 1)).toBeNull();
  });

  test('a new partition: first live replica leads, live replicas are the ISR, epoch 0', () => {
    expect(initialLeaderAndIsr([3, 1, 2], live(1, 2), 5)).toEqual({ leader: 1, leaderEpoch: 0, isr: [1, 2], controllerEpoch: 5 });
    expect(initialLeaderAndIsr([3, 1, 2], live(), 5)).toBeNull();
  });
});
