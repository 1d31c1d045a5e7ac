// One hosted partition on this broker: its Log (the bytes), its PartitionReplica (the pure
// replication core: epochs, HW, ISR, acks=all) and its producer state (idempotence). This is
// the adapter that feeds the core with the log's facts and the clock, and turns the log's
// errors into Kafka's. ReplicaManager owns every Partition and drains their outputs.

import { KafkaError } from '@samsa/client';
import {
  LOG_OVERHEAD, LogError, NO_PRODUCER_ID, OFFSET_BATCH_LENGTH, forEachRecord, isCompacted, readBatchHeader, type Log,
} from '@samsa/log';
import {
  PartitionReplica, ProducerStateManager, lastSequenceOf, type PartitionStateInput, type ReplicaOutputs,
  type StateChangeResult,
} from '../replica/index.js';
import type { TopicSettings } from './topic-config.js';

/** Producer state is rebuilt from at most this many trailing bytes of the log on leadership. */
const PRODUCER_STATE_REBUILD_BYTES = 64 << 20;

export interface AppendOutcome {
  baseOffset: number;
  lastOffset: number;
  logAppendTime: number;
  logStartOffset: number;
  /** Set for acks=all while the records wait for the ISR (id of the core's pending produce). */
  pendingId?: number;
}

/** A LogError as the Kafka error a producer or fetcher understands. */
export function kafkaErrorFromLog(err: unknown): KafkaError {
  if (err instanceof KafkaError) return err;
  if (err instanceof LogError) {
    switch (err.code) {
      case 'CORRUPT_RECORD':
        return new KafkaError('CORRUPT_MESSAGE', err.message);
      case 'RECORD_TOO_LARGE':
        return new KafkaError('MESSAGE_TOO_LARGE', err.message);
      case 'UNSUPPORTED_COMPRESSION':
        return new KafkaError('INVALID_RECORD', err.message);
      case 'OFFSET_OUT_OF_RANGE':
        return new KafkaError('OFFSET_OUT_OF_RANGE', err.message);
      case 'INVALID_OFFSET':
      case 'INVALID_ARGUMENT':
        return new KafkaError('INVALID_RECORD', err.message);
      case 'LOG_OFFLINE':
      case 'LOG_CLOSED':
        return new KafkaError('KAFKA_STORAGE_ERROR', err.message);
      default:
        return new KafkaError('UNKNOWN_SERVER_ERROR', err.message);
    }
  }
  return new KafkaError('UNKNOWN_SERVER_ERROR', err instanceof Error ? err.message : String(err));
}

/** Lifecycle: created when the broker first hosts the partition; stop() when it no longer does. */
export class Partition {
  readonly key: string;
  readonly replica: PartitionReplica;
  producers: ProducerStateManager;
  settings: TopicSettings;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly log: Log,
    brokerId: number,
    highWatermark: number | undefined,
    settings: TopicSettings,
    replicaLagTimeMaxMs: number,
    private readonly now: () => number,
  ) {
    this.key = `${topic}-${partition}`;
    this.settings = settings;
    this.replica = new PartitionReplica({
      brokerId,
      name: this.key,
      logStartOffset: log.logStartOffset,
      logEndOffset: log.logEndOffset,
      highWatermark,
      nowMs: now(),
      config: { minInsyncReplicas: settings.minInsyncReplicas, replicaLagTimeMaxMs },
    });
    this.producers = new ProducerStateManager();
  }

  get highWatermark(): number {
    return this.replica.state().highWatermark;
  }

  updateSettings(settings: TopicSettings): void {
    this.settings = settings;
    this.log.updateConfig(settings.log);
    this.replica.updateConfig({ minInsyncReplicas: settings.minInsyncReplicas });
  }

  makeLeader(state: PartitionStateInput): StateChangeResult {
    const r = this.replica.becomeLeader(state, this.now());
    if (r.kind === 'applied' && r.isNewLeaderEpoch) {
      if (r.assignEpochStart) this.log.assignEpochStartOffset(r.assignEpochStart.epoch, r.assignEpochStart.startOffset);
      this.rebuildProducerState();
    }
    return r;
  }

  makeFollower(state: PartitionStateInput): StateChangeResult {
    return this.replica.becomeFollower(state, this.now());
  }

  /**
   * Kafka rebuilds producer state from snapshots plus the log tail; samsa replays the batch
   * headers of the log's tail (up to PRODUCER_STATE_REBUILD_BYTES), which covers every batch a
   * producer may still retry (delivery.timeout.ms is minutes; the tail is far more).
   */
  private rebuildProducerState(): void {
    const producers = new ProducerStateManager();
    let offset = this.tailStartOffset();
    while (offset < this.log.logEndOffset) {
      const r = this.log.read(offset, 8 << 20);
      if (r.batchCount === 0) break;
      let pos = 0;
      while (pos + LOG_OVERHEAD <= r.records.length) {
        const size = r.records.readInt32BE(pos + OFFSET_BATCH_LENGTH) + LOG_OVERHEAD;
        if (pos + size > r.records.length) break;
        const h = readBatchHeader(r.records, pos);
        if (h.producerId !== NO_PRODUCER_ID) producers.replay(h);
        pos += size;
      }
      offset = r.nextOffset;
    }
    this.producers = producers;
  }

  private tailStartOffset(): number {
    const bases = this.log.segmentBaseOffsets();
    let bytesFromEnd = 0;
    const sizes = this.log.size;
    // Segments are roughly equal in size but the active one is partial: start at the newest
    // segment whose start lies within the budget of the end.
    const avg = bases.length > 0 ? sizes / bases.length : 0;
    let start = this.log.logStartOffset;
    for (let i = bases.length - 1; i >= 0; i--) {
      bytesFromEnd += avg;
      if (bytesFromEnd > PRODUCER_STATE_REBUILD_BYTES) break;
      start = Math.max(bases[i]!, this.log.logStartOffset);
    }
    return start;
  }

  /**
   * The leader's append of a producer's records: idempotence checks, then the log (offsets
   * assigned, leader epoch stamped), then the core learns the new log end offset.
   */
  appendAsLeader(records: Buffer, requiredAcks: number): AppendOutcome {
    const refused = this.replica.checkProduce(requiredAcks);
    if (refused) throw refused;
    const state = this.replica.state();
    // Idempotent batches: a retry of one already in the log is answered with its offsets.
    const batches: { pos: number }[] = [];
    let pos = 0;
    // A compacted topic keeps the latest record per key: a record without a key has no place
    // in it, and Kafka refuses it at produce time (INVALID_RECORD) rather than let the cleaner drop it.
    const compacted = isCompacted(this.log.config);
    try {
      while (pos < records.length) {
        const h = readBatchHeader(records, pos);
        if (compacted) {
          forEachRecord(records, pos, (r) => {
            if (r.key === null) throw new KafkaError('INVALID_RECORD', `${this.key}: compacted topic partition does not accept a record without a key (offset delta ${r.offset - h.baseOffset})`);
          });
        }
        if (h.producerId !== NO_PRODUCER_ID) {
          const firstSeq = h.baseSequence;
          const lastSeq = lastSequenceOf(h.baseSequence, h.lastOffsetDelta);
          const check = this.producers.check(h.producerId, h.producerEpoch, firstSeq, lastSeq);
          if (check.kind === 'rejected') throw check.error;
          if (check.kind === 'duplicate') {
            if (pos === 0 && h.batchLength + LOG_OVERHEAD === records.length) {
              return { baseOffset: check.firstOffset, lastOffset: check.lastOffset, logAppendTime: -1, logStartOffset: this.log.logStartOffset };
            }
            throw new KafkaError('DUPLICATE_SEQUENCE_NUMBER', `${this.key}: a duplicate batch among several in one request`);
          }
          batches.push({ pos });
        }
        pos += h.batchLength + LOG_OVERHEAD;
      }
    } catch (err) {
      throw kafkaErrorFromLog(err);
    }
    let result;
    try {
      result = this.log.append(records, { assignOffsets: true, leaderEpoch: state.leaderEpoch });
    } catch (err) {
      throw kafkaErrorFromLog(err);
    }
    // The base offsets are now the assigned ones: record each batch as it is in the log.
    for (const b of batches) this.producers.replay(readBatchHeader(records, b.pos));
    this.replica.onAppend(this.log.logEndOffset, this.now());
    return { baseOffset: result.baseOffset, lastOffset: result.lastOffset, logAppendTime: result.logAppendTime, logStartOffset: result.logStartOffset };
  }

  /** A follower's append of the leader's bytes, offsets as they are. */
  appendAsFollower(records: Buffer): void {
    try {
      this.log.append(records, { assignOffsets: false });
    } catch (err) {
      throw kafkaErrorFromLog(err);
    }
    this.replica.onAppend(this.log.logEndOffset, this.now());
  }

  takeOutputs(): ReplicaOutputs {
    return this.replica.takeOutputs();
  }
}
