// Topic deletion (Kafka's TopicDeletionManager), one per controller activation. A deletion
// request (/admin/delete_topics/<topic>) queues the topic: brokers are told at once that it is
// gone (UpdateMetadata deleted_topics, so clients stop using it), then every replica gets
// StopReplica(delete). When every replica confirmed, the topic's znodes are deleted. A topic with
// a replica on a broker that is not registered waits ("ineligible") until that broker is back,
// as in Kafka; a failed StopReplica is retried by the next deletion pass.

import type { Logger } from '@samsa/coordinator';
import type { StopReplicaResponse } from '@samsa/client';
import type { ControllerConfig } from './controller-config.js';
import type { ControllerStore } from './controller-store.js';
import type { ActiveController } from './partition-state-machine.js';
import type { ControllerRequestBatch } from './request-batch.js';
import type { TopicPartitionRef } from './znodes.js';

interface DeletionProgress {
  /** `${brokerId}:${partition}` still to confirm. */
  pending: Set<string>;
  failed: boolean;
}

export interface StopReplicaResult {
  brokerId: number;
  partitions: TopicPartitionRef[];
  /** null: never delivered (the broker left, or the queue was dropped). */
  response: StopReplicaResponse | null;
}

/** Bound on results waiting to be processed (each is one StopReplica request's answer). */
const MAX_PENDING_RESULTS = 100_000;

export class TopicDeletionManager {
  private readonly inProgress = new Map<string, DeletionProgress>();
  private readonly results: StopReplicaResult[] = [];

  constructor(
    private readonly store: ControllerStore,
    private readonly logger: Logger,
    private readonly config: ControllerConfig,
  ) {}

  isInProgress(topic: string): boolean {
    return this.inProgress.has(topic);
  }

  /** Reads the deletion requests and queues the topics they name; drops requests for unknown topics. */
  async readRequests(s: ActiveController, batch: ControllerRequestBatch): Promise<void> {
    const ctx = s.context;
    for (const topic of await this.store.readDeleteTopicRequests()) {
      if (!this.config['delete.topic.enable']) {
        this.logger.warn('topic deletion is disabled (delete.topic.enable=false); dropping the request', { topic });
        await this.store.removeTopicDeletionRequest(s.fence, topic);
        continue;
      }
      if (!ctx.hasTopic(topic)) {
        this.logger.info('dropping a deletion request for a topic that does not exist', { topic });
        await this.store.removeTopicDeletionRequest(s.fence, topic);
        continue;
      }
      if (!ctx.topicsToBeDeleted.has(topic)) {
        ctx.topicsToBeDeleted.add(topic);
        batch.addDeletedTopics(ctx.liveBrokers.keys(), [topic]);
        this.logger.info('topic queued for deletion', { topic });
      }
    }
  }

  /** Sends StopReplica(delete) for queued topics not in progress whose replicas are all on registered brokers. */
  startEligible(s: ActiveController, batch: ControllerRequestBatch): string[] {
    const ctx = s.context;
    const started: string[] = [];
    for (const topic of ctx.topicsToBeDeleted) {
      if (this.inProgress.has(topic)) continue;
      const partitions = ctx.partitionsOfTopic(topic);
      const offline = new Set(partitions.flatMap((p) => p.replicas).filter((id) => !ctx.liveBrokers.has(id)));
      if (offline.size > 0) {
        this.logger.debug('topic deletion waits for brokers to come back', { topic, brokers: [...offline] });
        continue;
      }
      const progress: DeletionProgress = { pending: new Set(), failed: false };
      for (const p of partitions) {
        for (const brokerId of p.replicas) {
          progress.pending.add(`${brokerId}:${p.partition}`);
          batch.addStopReplica(brokerId, topic, p.partition, true);
        }
      }
      this.inProgress.set(topic, progress);
      started.push(topic);
    }
    return started;
  }

  /** A StopReplica(delete) answer arrived (from the channel callback, outside the event loop). */
  recordResult(result: StopReplicaResult): void {
    if (this.results.length >= MAX_PENDING_RESULTS) {
      // Cannot happen with bounded broker queues; if it did, mark the topics failed so they are redone.
      for (const tp of result.partitions) {
        const progress = this.inProgress.get(tp.topic);
        if (progress) progress.failed = true;
      }
      return;
    }
    this.results.push(result);
  }

  /**
   * Applies the answers received: topics whose every replica confirmed are deleted from the
   * coordinator and the context; failed ones are dropped from progress (the caller schedules a
   * retry). Returns both lists.
   */
  async processResults(s: ActiveController, batch: ControllerRequestBatch): Promise<{ completed: string[]; failed: string[] }> {
    for (const r of this.results.splice(0)) {
      const byPartition = new Map<string, boolean>();
      const top = r.response?.error;
      for (const pe of r.response?.partitionErrors ?? []) {
        if (pe.error && pe.error.code) byPartition.set(`${pe.topic}\u0000${pe.partition}`, false);
      }
      for (const tp of r.partitions) {
        const progress = this.inProgress.get(tp.topic);
        if (!progress) continue;
        const ok = r.response !== null && !(top && top.code) && byPartition.get(`${tp.topic}\u0000${tp.partition}`) !== false;
        if (ok) progress.pending.delete(`${r.brokerId}:${tp.partition}`);
        else progress.failed = true;
      }
    }
    const completed: string[] = [];
    const failed: string[] = [];
    for (const [topic, progress] of [...this.inProgress]) {
      if (progress.failed) {
        this.inProgress.delete(topic);
        failed.push(topic);
        this.logger.warn('a replica of a topic being deleted did not stop; deletion will be retried', { topic });
      } else if (progress.pending.size === 0) {
        if (!s.active) return { completed, failed };
        await this.store.deleteTopicZnodes(s.fence, topic);
        this.inProgress.delete(topic);
        s.context.removeTopic(topic);
        batch.addDeletedTopics(s.context.liveBrokers.keys(), [topic]);
        completed.push(topic);
        this.logger.info('topic deleted', { topic });
      }
    }
    return { completed, failed };
  }

  /** The topic disappeared some other way (its znode was deleted): stop tracking it. */
  forget(topic: string): void {
    this.inProgress.delete(topic);
  }
}
