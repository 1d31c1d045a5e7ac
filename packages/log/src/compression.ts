// Compression of the records section of a v2 batch. gzip is built into Node; snappy, lz4 and
// zstd are recognised (their attribute bits decode) but refused with a clear error until a
// dependency for them is chosen.

import { constants as bufferConstants } from 'node:buffer';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { CompressionType } from './batch-header.js';
import { CorruptRecordError, LogError } from './errors.js';

/**
 * Default cap on the inflated size of one batch's records. A hostile 1 KiB gzip stream can
 * claim gigabytes; inflation stops at this limit instead of exhausting memory.
 */
export const DEFAULT_MAX_UNCOMPRESSED_BYTES = 64 * 1024 * 1024;

export const SUPPORTED_COMPRESSION: readonly CompressionType[] = ['none', 'gzip'];

export function unsupportedCompression(type: CompressionType): LogError {
  return new LogError(
    'UNSUPPORTED_COMPRESSION',
    `${type} compression is not supported by samsa yet (supported: ${SUPPORTED_COMPRESSION.join(', ')})`,
  );
}

export function compressRecords(type: CompressionType, records: Buffer): Buffer {
  switch (type) {
    case 'none':
      return records;
    case 'gzip':
      return gzipSync(records);
    default:
      throw unsupportedCompression(type);
  }
}

/**
 * Inflates the records section `data` of a batch compressed with `type`. Throws
 * CorruptRecordError for a damaged stream and LogError RECORD_TOO_LARGE past
 * `maxUncompressedBytes`.
 */
export function decompressRecords(type: CompressionType, data: Buffer, maxUncompressedBytes: number): Buffer {
  switch (type) {
    case 'none':
      return data;
    case 'gzip':
      try {
        return gunzipSync(data, { maxOutputLength: maxUncompressedBytes });
      } catch (err) {
        if ((err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') {
          throw new LogError(
            'RECORD_TOO_LARGE',
            `gzip records inflate past the limit of ${maxUncompressedBytes} bytes`,
            { cause: err },
          );
        }
        throw new CorruptRecordError(`invalid gzip records: ${(err as Error).message}`, { cause: err });
      }
    default:
      throw unsupportedCompression(type);
  }
}

export function checkMaxUncompressedBytes(n: number): void {
  if (!Number.isSafeInteger(n) || n < 1 || n > bufferConstants.MAX_LENGTH) {
    throw new LogError('INVALID_ARGUMENT', `maxUncompressedBytes must be an integer in [1, ${bufferConstants.MAX_LENGTH}], got ${n}`);
  }
}
