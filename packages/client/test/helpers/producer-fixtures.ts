// Small builders shared by the producer tests.

import type { RecordDelivery } from '../../src/producer/producer-batch.js';
import type { RecordMetadata, SerializedRecord } from '../../src/producer/producer-record.js';

export function record(value: string | Buffer | null, key: string | null = null, topic = 't'): SerializedRecord {
  return {
    topic,
    partition: undefined,
    key: key === null ? null : Buffer.from(key),
    value: typeof value === 'string' ? Buffer.from(value) : value,
    headers: [],
    timestamp: undefined,
  };
}

/** A delivery whose outcome the test can read. */
export class Delivery implements RecordDelivery {
  result: RecordMetadata | undefined;
  error: Error | undefined;
  settledCount = 0;
  resolve(meta: RecordMetadata): void {
    this.result = meta;
    this.settledCount++;
  }
  reject(err: Error): void {
    this.error = err;
    this.settledCount++;
  }
}
