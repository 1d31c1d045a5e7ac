// Partition state changes of the active controller (Kafka's PartitionStateMachine and the ISR
// half of its ReplicaStateMachine): decide a partition's next LeaderAndIsr with a pure strategy,
// write it compare-and-set (fenced), and on a lost compare-and-set re-read the state and decide
// again, so a leader's concurrent ISR change is never overwritten. Every state that changes is
// noted in the event's request batch: LeaderAndIsr to the partition's registered replicas,
// UpdateMetadata to every registered broker.
//
// reconcile() is the idempotent "make it right" pass every controller event ends with: new
// partitions get their first state, partitions without a live leader get one if any replica may
// lead, brokers that are gone leave the ISRs, and partitions with a replica on a failed broker
// get a new leader epoch even where it was not in the ISR. Being derived from the context alone,
// it also finishes work an earlier event left half done.

import type { Logger } from '@samsa/coordinator';
import type { ControllerConfig, ControllerLimits } from './controller-config.js';
import { parsePartitionKey, partitionKey, type ControllerContext, type PartitionView } from './controller-context.js';
import { ControllerMovedError } from './controller-errors.js';
import type { ControllerStore, Fence, StateCreation, StateUpdate } from './controller-store.js';
import {
  bumpLeaderEpoch,
  initialLeaderAndIsr,
  nextLeaderAndIsr,
  offlinePartitionLeaderElection,
  removeReplicasFromIsr,
  type LeaderAndIsr,
} from './leader-election-strategies.js';
import type { ControllerRequestBatch } from './request-batch.js';
import { uncleanLeaderElectionEnabled } from './topic-config.js';
import type { TopicPartitionRef } from './znodes.js';

/** What the state machine needs of an activation. */
export interface ActiveController {
  readonly context: ControllerContext;
  readonly fence: Fence;
  /** False once the controller resigned: no more writes. */
  readonly active: boolean;
}

/** The next state of a partition, or null to leave it as it is. */
export type StateDecision = (view: PartitionView & { state: NonNullable<PartitionView['state']> }) => LeaderAndIsr | null;

export interface UpdateOutcome {
  changed: TopicPartitionRef[];
  /** Still contended after maxStateUpdateAttempts (or their znode vanished). */
  unresolved: TopicPartitionRef[];
}

export class PartitionStateMachine {
  constructor(
    private readonly store: ControllerStore,
    private readonly logger: Logger,
    private readonly config: ControllerConfig,
    private readonly limits: Pick<ControllerLimits, 'maxStateUpdateAttempts'>,
  ) {}

  /** Notes a partition whose state changed: LeaderAndIsr to its registered replicas, UpdateMetadata to all. */
  static noteChanged(ctx: ControllerContext, batch: ControllerRequestBatch, topic: string, partition: number): void {
    const view = ctx.partition(topic, partition);
    if (!view) return;
    batch.addLeaderAndIsr(
      view.replicas.filter((id) => ctx.liveBrokers.has(id)),
      topic,
      partition,
    );
    batch.addUpdateMetadata(ctx.liveBrokers.keys(), [{ topic, partition }]);
  }

  /** Applies `decide` to `partitions` with compare-and-set, re-reading and re-deciding on conflicts. */
  async update(s: ActiveController, batch: ControllerRequestBatch, partitions: readonly TopicPartitionRef[], decide: StateDecision): Promise<UpdateOutcome> {
    const ctx = s.context;
    const changed: TopicPartitionRef[] = [];
    let pending = [...partitions];
    for (let attempt = 0; attempt < this.limits.maxStateUpdateAttempts && pending.length > 0; attempt++) {
      const updates: StateUpdate[] = [];
      for (const tp of pending) {
        const view = ctx.partition(tp.topic, tp.partition);
        if (!view?.state) continue;
        const next = decide(view as Parameters<StateDecision>[0]);
        if (next) updates.push({ topic: tp.topic, partition: tp.partition, state: next, expectedVersion: view.state.version });
      }
      if (updates.length === 0) return { changed, unresolved: [] };
      if (!s.active) throw new ControllerMovedError('the controller resigned');
      const results = await this.store.updatePartitionStates(s.fence, updates);
      const conflicts: TopicPartitionRef[] = [];
      results.forEach((r, i) => {
        const u = updates[i]!;
        if (r.status === 'ok') {
          ctx.setPartitionState(u.topic, u.partition, { ...u.state, version: r.version });
          PartitionStateMachine.noteChanged(ctx, batch, u.topic, u.partition);
          changed.push({ topic: u.topic, partition: u.partition });
        } else if (r.status === 'conflict') {
          conflicts.push({ topic: u.topic, partition: u.partition });
        } else {
          this.logger.warn('partition state znode vanished while the controller updated it', { topic: u.topic, partition: u.partition });
        }
      });
      for (const tp of conflicts) {
        // Someone (a leader changing its ISR) wrote first: learn its state, tell brokers, decide again.
        const fresh = await this.store.readPartitionState(tp.topic, tp.partition);
        ctx.setPartitionState(tp.topic, tp.partition, fresh);
        if (fresh) PartitionStateMachine.noteChanged(ctx, batch, tp.topic, tp.partition);
      }
      pending = conflicts;
    }
    if (pending.length > 0) this.logger.warn('partition states kept changing under the controller', { partitions: pending.slice(0, 20) });
    return { changed, unresolved: pending };
  }

  /** Creates the first state of partitions that have none, where a replica is online. */
  async initializeNewPartitions(s: ActiveController, batch: ControllerRequestBatch): Promise<TopicPartitionRef[]> {
    const ctx = s.context;
    const online = ctx.onlineBrokerIds();
    const creations: StateCreation[] = [];
    for (const view of ctx.allPartitions()) {
      if (view.state !== null || ctx.isQueuedForDeletion(view.topic)) continue;
      const state = initialLeaderAndIsr(view.replicas, online, ctx.epoch);
      if (state) creations.push({ topic: view.topic, partition: view.partition, state });
    }
    if (creations.length === 0) return [];
    if (!s.active) throw new ControllerMovedError('the controller resigned');
    const results = await this.store.createPartitionStates(s.fence, creations);
    const created: TopicPartitionRef[] = [];
    for (const [i, r] of results.entries()) {
      const c = creations[i]!;
      if (r.status === 'ok') {
        ctx.setPartitionState(c.topic, c.partition, { ...c.state, version: r.version });
        created.push({ topic: c.topic, partition: c.partition });
      } else {
        ctx.setPartitionState(c.topic, c.partition, await this.store.readPartitionState(c.topic, c.partition));
      }
      PartitionStateMachine.noteChanged(ctx, batch, c.topic, c.partition);
    }
    return created;
  }

  /**
   * Offline partitions get a leader (offline election, unclean where the topic or the broker
   * default allows it); brokers that are no longer registered leave the ISRs; partitions with a
   * replica on a failed broker (ctx.partitionsToFence) get a new leader epoch in any case.
   */
  async electOfflineAndShrinkIsrs(s: ActiveController, batch: ControllerRequestBatch): Promise<UpdateOutcome> {
    const ctx = s.context;
    this.forgetUnfenceable(ctx);
    const targets: TopicPartitionRef[] = [];
    const offlineTopics = new Set<string>();
    for (const view of ctx.allPartitions()) {
      if (!view.state || ctx.isQueuedForDeletion(view.topic)) continue;
      const offline = ctx.isOffline(view);
      if (offline) offlineTopics.add(view.topic);
      const gone = [...view.state.isr, view.state.leader].some((id) => id >= 0 && !ctx.liveBrokers.has(id));
      if (offline || gone || ctx.partitionsToFence.has(partitionKey(view.topic, view.partition))) {
        targets.push({ topic: view.topic, partition: view.partition });
      }
    }
    if (targets.length === 0) return { changed: [], unresolved: [] };
    const unclean = new Map<string, boolean>();
    for (const topic of offlineTopics) {
      unclean.set(topic, uncleanLeaderElectionEnabled(await this.store.readTopicConfig(topic), this.config['unclean.leader.election.enable']));
    }
    const online = ctx.onlineBrokerIds();
    const outcome = await this.update(s, batch, targets, (view) => {
      const st = view.state;
      if (ctx.isOffline(view)) {
        const elected = offlinePartitionLeaderElection({
          assignment: view.replicas,
          isr: st.isr,
          liveReplicas: online,
          uncleanLeaderElectionEnabled: unclean.get(view.topic) ?? false,
        });
        if (elected) {
          if (elected.unclean) {
            this.logger.warn('unclean leader election: committed records may be lost', {
              topic: view.topic,
              partition: view.partition,
              leader: elected.leader,
              previousIsr: st.isr,
            });
          }
          return nextLeaderAndIsr(st, elected.leader, elected.isr, ctx.epoch);
        }
      }
      const gone = [...st.isr, st.leader].filter((id) => id >= 0 && !ctx.liveBrokers.has(id));
      const shrunk = removeReplicasFromIsr(st, gone, ctx.epoch);
      if (shrunk !== null || !ctx.partitionsToFence.has(partitionKey(view.topic, view.partition))) return shrunk;
      return bumpLeaderEpoch(st, ctx.epoch);
    });
    // Fenced now (or nothing to fence); contended ones are tried again by the next reconcile. An
    // update that throws leaves every key: the retry may bump some epochs twice, which is harmless.
    const unresolved = new Set(outcome.unresolved.map((tp) => partitionKey(tp.topic, tp.partition)));
    for (const tp of targets) {
      const key = partitionKey(tp.topic, tp.partition);
      if (!unresolved.has(key)) ctx.partitionsToFence.delete(key);
    }
    for (const tp of outcome.changed) {
      const st = ctx.partition(tp.topic, tp.partition)?.state;
      if (st && st.leader < 0) this.logger.warn('partition is offline: no eligible replica can lead', { ...tp, isr: st.isr });
    }
    return outcome;
  }

  /** Partitions to fence that vanished, lost their state or are being deleted: nothing to fence. */
  private forgetUnfenceable(ctx: ControllerContext): void {
    for (const key of [...ctx.partitionsToFence]) {
      const { topic, partition } = parsePartitionKey(key);
      if (!ctx.partition(topic, partition)?.state || ctx.isQueuedForDeletion(topic)) ctx.partitionsToFence.delete(key);
    }
  }

  async reconcile(s: ActiveController, batch: ControllerRequestBatch): Promise<void> {
    await this.initializeNewPartitions(s, batch);
    await this.electOfflineAndShrinkIsrs(s, batch);
  }
}
