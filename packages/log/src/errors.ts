// Typed errors of the log. Codes are stable: the broker maps them onto wire error codes,
// tests and operators match on them. Add codes, never renumber or rename one.

export type LogErrorCode =
  | 'CORRUPT_RECORD' // bytes that are not a valid v2 batch: bad length, magic, CRC, varint…
  | 'UNSUPPORTED_COMPRESSION' // a codec bit we recognise but cannot (de)compress here
  | 'RECORD_TOO_LARGE' // a batch over max.message.bytes / segment.bytes
  | 'INVALID_OFFSET' // follower append or truncation that breaks offset monotonicity
  | 'OFFSET_OUT_OF_RANGE' // read below log start or above log end
  | 'INVALID_CONFIG' // a log config value outside its range
  | 'LOG_CLOSED' // use after close()
  | 'LOG_OFFLINE' // an fsync or write failed: the log refuses further I/O (fail-stop)
  | 'CORRUPT_CHECKPOINT' // a checkpoint file that does not parse (bad version, count or line)
  | 'INVALID_ARGUMENT';

export class LogError extends Error {
  constructor(
    readonly code: LogErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'LogError';
  }
}

export class CorruptRecordError extends LogError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CORRUPT_RECORD', message, options);
    this.name = 'CorruptRecordError';
  }
}
