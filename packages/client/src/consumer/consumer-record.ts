// A record as poll() hands it to the application.

import type { RecordHeader } from '@samsa/log';

export interface ConsumerRecord {
  topic: string;
  partition: number;
  offset: number;
  /** Epoch ms: the producer's create time, or the broker's append time (see timestampType). */
  timestamp: number;
  timestampType: 'CreateTime' | 'LogAppendTime';
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
  /** Leader epoch of the batch the record was written in, when known. */
  leaderEpoch: number | null;
}
