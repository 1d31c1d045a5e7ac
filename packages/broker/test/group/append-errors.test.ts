// A failed write to __consumer_offsets reaches the client as the group error Kafka gives for it
// (GroupMetadataManager's storeGroup and maybeConvertOffsetCommitError), so the client reacts
// rightly: find the coordinator again, rejoin, or give up on an oversized commit.
import { groupStoreError, offsetCommitError } from '../../src/group/append-errors.js';

describe('append error → group error', () => {
  test.each([
    ['UNKNOWN_TOPIC_OR_PARTITION', 'COORDINATOR_NOT_AVAILABLE', 'COORDINATOR_NOT_AVAILABLE'],
    ['NOT_ENOUGH_REPLICAS', 'COORDINATOR_NOT_AVAILABLE', 'COORDINATOR_NOT_AVAILABLE'],
    ['NOT_ENOUGH_REPLICAS_AFTER_APPEND', 'COORDINATOR_NOT_AVAILABLE', 'COORDINATOR_NOT_AVAILABLE'],
    ['NOT_LEADER_OR_FOLLOWER', 'NOT_COORDINATOR', 'NOT_COORDINATOR'],
    ['KAFKA_STORAGE_ERROR', 'NOT_COORDINATOR', 'NOT_COORDINATOR'],
    ['REQUEST_TIMED_OUT', 'REBALANCE_IN_PROGRESS', 'REQUEST_TIMED_OUT'],
    ['MESSAGE_TOO_LARGE', 'UNKNOWN_SERVER_ERROR', 'INVALID_COMMIT_OFFSET_SIZE'],
    ['RECORD_LIST_TOO_LARGE', 'UNKNOWN_SERVER_ERROR', 'INVALID_COMMIT_OFFSET_SIZE'],
    ['INVALID_FETCH_SIZE', 'UNKNOWN_SERVER_ERROR', 'INVALID_COMMIT_OFFSET_SIZE'],
    ['CORRUPT_MESSAGE', 'CORRUPT_MESSAGE', 'CORRUPT_MESSAGE'],
  ] as const)('%s: a group write fails with %s, an offset commit with %s', (append, group, commit) => {
    expect(groupStoreError(append)).toBe(group);
    expect(offsetCommitError(append)).toBe(commit);
  });
});
