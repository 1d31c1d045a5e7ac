// Errors raised by the client itself, not by a broker: bad configuration or arguments, use of a
// closed client, and local time limits (max.block.ms, delivery.timeout.ms,
// default.api.timeout.ms). A broker's error is always a KafkaError with Kafka's name; these
// codes are stable in the same way (add codes, never rename one).

export type ClientErrorCode =
  | 'INVALID_CONFIG' // an unknown config key or a value outside its range
  | 'INVALID_ARGUMENT' // a bad argument to a method (record, offset, partition, option)
  | 'CLOSED' // the producer/consumer/admin was closed (or closed with records still pending)
  | 'ILLEGAL_STATE' // a call that the object's state forbids (e.g. two concurrent polls)
  | 'NOT_ASSIGNED' // a consumer operation on a partition that is not assigned
  | 'NO_OFFSET_FOR_PARTITION' // no position and auto.offset.reset=none
  | 'BUFFER_EXHAUSTED' // buffer.memory stayed full for max.block.ms (or too many blocked sends)
  | 'METADATA_TIMEOUT' // a topic/partition did not appear in metadata within max.block.ms
  | 'DELIVERY_TIMEOUT' // a record was not acknowledged within delivery.timeout.ms
  | 'API_TIMEOUT' // an admin/consumer call did not complete within its timeout
  | 'PRODUCER_FATAL' // the producer hit an error it cannot recover from; close it
  | 'INVALID_RESPONSE' // a broker response that contradicts its request (a broker bug)
  | 'COMMIT_FAILED'; // the group refused a commit: this member's generation is over (Kafka's CommitFailedException)

export class ClientError extends Error {
  readonly code: ClientErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ClientErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ClientError';
    this.code = code;
    this.details = options.details ?? {};
  }
}

export function invalidConfig(message: string): ClientError {
  return new ClientError('INVALID_CONFIG', message);
}

export function invalidArgument(message: string): ClientError {
  return new ClientError('INVALID_ARGUMENT', message);
}
