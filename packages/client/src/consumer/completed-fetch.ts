// The records one fetch returned for one partition, handed out in pieces (max.poll.records) as
// Kafka's CompletedFetch does. A fetch returns whole batches, so the first batch may start below
// the fetch offset: those records are skipped. Control batches advance the position without
// being returned; an empty batch (compaction can leave one) advances it to past its last offset;
// a partial batch at the end (the broker stopped at its byte limit) is left for the next fetch.
// A corrupt batch ends the fetch with KafkaError CORRUPT_MESSAGE, after the records before it.

import { LOG_OVERHEAD, MIN_BATCH_LENGTH, batchSizeAt, decodeBatch, lastOffsetOf, readBatchHeader, type BatchInfo, type DecodedRecord } from '@samsa/log';
import { ClientError } from '../client-error.js';
import { KafkaError } from '../protocol/errors.js';
import { tpString, type TopicPartition } from '../topic-partition.js';
import type { ConsumerRecord } from './consumer-record.js';

interface OpenBatch {
  info: BatchInfo;
  records: DecodedRecord[];
  index: number;
}

export class CompletedFetch {
  /** The offset to fetch next: past every record handed out or skipped. */
  nextFetchOffset: number;
  /** Leader epoch of the last batch read (-1 unknown). */
  lastEpoch = -1;
  private pos = 0;
  private batch: OpenBatch | null = null;
  private sawBatch = false;
  private failure: Error | null = null;
  private consumed = false;

  constructor(
    readonly tp: TopicPartition,
    /** The position the fetch was sent for. */
    readonly fetchOffset: number,
    private readonly buf: Buffer,
    readonly highWatermark: number,
    readonly logStartOffset: number,
  ) {
    this.nextFetchOffset = fetchOffset;
  }

  get isConsumed(): boolean {
    return this.consumed;
  }

  /**
   * Up to `max` records from the position on. Throws the error of a corrupt batch when it is the
   * first thing left to read (earlier records are returned first).
   */
  fetchRecords(max: number): ConsumerRecord[] {
    if (this.failure) throw this.failure;
    const out: ConsumerRecord[] = [];
    while (out.length < max && !this.consumed) {
      const b = this.batch;
      if (b && b.index < b.records.length) {
        const r = b.records[b.index++]!;
        if (r.offset < this.nextFetchOffset) continue;
        if (!b.info.isControl) out.push(this.toConsumerRecord(r, b.info));
        this.nextFetchOffset = r.offset + 1;
        continue;
      }
      if (b) {
        // Compaction can remove a batch's last records; its last offset still moves us past it.
        this.nextFetchOffset = Math.max(this.nextFetchOffset, lastOffsetOf(b.info.header) + 1);
        this.batch = null;
      }
      try {
        this.openNextBatch();
      } catch (err) {
        this.failure = err as Error;
        if (out.length > 0) return out;
        throw this.failure;
      }
    }
    return out;
  }

  private openNextBatch(): void {
    const buf = this.buf;
    while (!this.batch) {
      if (this.pos + LOG_OVERHEAD > buf.length) {
        this.finish();
        return;
      }
      const size = batchSizeAt(buf, this.pos);
      if (size - LOG_OVERHEAD < MIN_BATCH_LENGTH) throw this.corrupt(new Error(`batch length ${size - LOG_OVERHEAD} at byte ${this.pos}`));
      if (this.pos + size > buf.length) {
        this.finish(); // a partial batch at the end: fetched again next time
        return;
      }
      let header;
      try {
        header = readBatchHeader(buf, this.pos);
      } catch (err) {
        throw this.corrupt(err);
      }
      this.sawBatch = true;
      if (header.partitionLeaderEpoch >= 0) this.lastEpoch = header.partitionLeaderEpoch;
      const start = this.pos;
      this.pos += size;
      if (lastOffsetOf(header) < this.nextFetchOffset) continue; // entirely below the position
      try {
        const decoded = decodeBatch(buf, start);
        this.batch = { info: decoded, records: decoded.records, index: 0 };
      } catch (err) {
        this.pos = start;
        throw this.corrupt(err);
      }
    }
  }

  private finish(): void {
    this.consumed = true;
    if (!this.sawBatch && this.buf.length > 0) {
      this.failure = new ClientError(
        'INVALID_RESPONSE',
        `Failed to make progress reading messages at ${tpString(this.tp)}=${this.fetchOffset}: the fetch returned ${this.buf.length} bytes but no complete record batch`,
      );
      this.consumed = false;
      throw this.failure;
    }
  }

  private corrupt(err: unknown): KafkaError {
    return new KafkaError(
      'CORRUPT_MESSAGE',
      `Record batch for partition ${tpString(this.tp)} at offset ${this.nextFetchOffset} is invalid, cause: ${(err as Error).message}. Seek past it to continue.`,
      { cause: err },
    );
  }

  private toConsumerRecord(r: DecodedRecord, info: BatchInfo): ConsumerRecord {
    return {
      topic: this.tp.topic,
      partition: this.tp.partition,
      offset: r.offset,
      timestamp: r.timestamp,
      timestampType: info.timestampType === 'log-append' ? 'LogAppendTime' : 'CreateTime',
      key: r.key,
      value: r.value,
      headers: r.headers,
      leaderEpoch: info.header.partitionLeaderEpoch >= 0 ? info.header.partitionLeaderEpoch : null,
    };
  }
}
