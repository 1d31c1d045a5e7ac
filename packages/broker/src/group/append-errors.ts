// What a client sees when writing to __consumer_offsets failed: Kafka's GroupMetadataManager maps
// the append error to a group error, so that the client's reaction is the right one (find the
// coordinator again, or rejoin), never a produce error it would not understand.

import type { KafkaErrorName } from '@samsa/client';

/** The mapping both of Kafka's conversions share; `tooLarge` is where they differ most. */
function appendErrorToGroupError(appendError: KafkaErrorName, tooLarge: KafkaErrorName): KafkaErrorName {
  switch (appendError) {
    case 'UNKNOWN_TOPIC_OR_PARTITION':
    case 'NOT_ENOUGH_REPLICAS':
    case 'NOT_ENOUGH_REPLICAS_AFTER_APPEND':
      return 'COORDINATOR_NOT_AVAILABLE';
    case 'NOT_LEADER_OR_FOLLOWER':
    case 'KAFKA_STORAGE_ERROR':
      return 'NOT_COORDINATOR';
    case 'MESSAGE_TOO_LARGE':
    case 'RECORD_LIST_TOO_LARGE':
    case 'INVALID_FETCH_SIZE':
      return tooLarge;
    default:
      return appendError;
  }
}

/** For a group metadata write (SyncGroup, a static member's rejoin): Kafka's storeGroup mapping. */
export function groupStoreError(appendError: KafkaErrorName): KafkaErrorName {
  // A timed-out group write makes the members rejoin (Kafka answers REBALANCE_IN_PROGRESS).
  if (appendError === 'REQUEST_TIMED_OUT') return 'REBALANCE_IN_PROGRESS';
  return appendErrorToGroupError(appendError, 'UNKNOWN_SERVER_ERROR');
}

/** For an offset commit write: Kafka's maybeConvertOffsetCommitError. */
export function offsetCommitError(appendError: KafkaErrorName): KafkaErrorName {
  return appendErrorToGroupError(appendError, 'INVALID_COMMIT_OFFSET_SIZE');
}
