// The controller: one broker at a time manages partition leadership through the coordination
// service, as Kafka's ZooKeeper-mode KafkaController.
//
// Every broker runs a Controller; each campaigns for /controller (LeaderElection, which bumps
// /controller_epoch in the same multi). The winner activates: it reads the cluster (brokers,
// topics, partition states) into a ControllerContext, watches /brokers/ids, /brokers/topics,
// /admin/delete_topics and /isr_change_notification, tells every broker the full state
// (UpdateMetadata + LeaderAndIsr) and elects leaders where there are none. From then on, watch
// notifications, timers and admin calls become events processed one at a time; each ends with
// reconcile() (new partitions get states, offline partitions leaders, dead brokers leave ISRs)
// and sends the requests the event produced.
//
// Fencing: every write is a multi that first checks the /controller_epoch version this
// controller took over at, and partition state writes are compare-and-set on the state's
// version. A deposed controller's writes fail; it then resigns (and gives up /controller if it
// still holds it, so an election runs again). Requests to brokers carry the controller epoch,
// which brokers check.
//
// Lifecycle: new Controller(options) → start() (campaigns) → stop(). A coordinator session that
// expires ends the Controller for good ('resigned' with reason 'session expired'): the broker
// makes a new client and a new Controller. Events: 'activated' (epoch), 'resigned' (reason),
// 'controllerChange' (LeaderInfo | null: who is controller now).

import { EventEmitter } from 'node:events';
import { randomInt } from 'node:crypto';
import { Registry } from 'prom-client';
import {
  CoordinatorError,
  LeaderElection,
  seededRandom,
  silentLogger,
  type CoordinatorClient,
  type LeaderInfo,
  type Logger,
  type WatchHandle,
  type WatchListener,
} from '@samsa/coordinator';
import { KafkaError, type StopReplicaResponse, type TopicPartition } from '@samsa/client';
import type { BrokerChannel, BrokerEndpoint } from './broker-channel.js';
import { ControllerChannelManager } from './controller-channel-manager.js';
import { systemClock, type ControllerClock, type TimerHandle } from './controller-clock.js';
import {
  resolveControllerConfig,
  resolveControllerLimits,
  type ControllerConfig,
  type ControllerLimits,
} from './controller-config.js';
import { ControllerContext, type PartitionView } from './controller-context.js';
import { ControllerMovedError } from './controller-errors.js';
import { ControllerEventQueue, QueueClosedError, QueueFullError } from './controller-event-queue.js';
import { ControllerMetrics } from './controller-metrics.js';
import { ControllerStore, mapWithConcurrency, type Fence } from './controller-store.js';
import {
  controlledShutdownLeaderElection,
  nextLeaderAndIsr,
  preferredReplicaLeaderElection,
  removeReplicasFromIsr,
} from './leader-election-strategies.js';
import { planPreferredLeaderRebalance, preferredReplicaImbalanceCount, type PartitionLeadershipView } from './leader-imbalance.js';
import { PartitionStateMachine, type ActiveController } from './partition-state-machine.js';
import type { BrokerRack } from './replica-assignment.js';
import { ControllerRequestBatch } from './request-batch.js';
import { planPartitionAddition, planTopicCreation, type CreateTopicSpec } from './topic-admin-plans.js';
import { validateTopicConfig as defaultValidateTopicConfig } from './topic-config.js';
import { TopicDeletionManager } from './topic-deletion-manager.js';
import { ZK, type BrokerRegistration, type TopicPartitionRef } from './znodes.js';

export interface ControllerOptions {
  /** The broker's coordinator session; the controller campaigns and writes with it. */
  client: CoordinatorClient;
  channel: BrokerChannel;
  config: Partial<ControllerConfig> & Pick<ControllerConfig, 'broker.id'>;
  limits?: Partial<ControllerLimits>;
  clock?: ControllerClock;
  logger?: Logger;
  /** Where samsa_controller_* metrics go; a private registry when absent. */
  registry?: Registry;
  /** Uniform in [0, 1), for replica assignment; seeded from crypto when absent. */
  random?: () => number;
  /** Topic config check at creation; defaults to validateTopicConfig (Kafka names, INVALID_CONFIG). */
  validateTopicConfig?: (config: Readonly<Record<string, string>>) => void;
}

export interface CreateTopicOutcome {
  name: string;
  error: KafkaError | null;
  numPartitions: number;
  replicationFactor: number;
  /** partition → replicas, as created (or as it would be, with validateOnly). */
  assignment: Map<number, number[]> | null;
}

export interface TopicOutcome {
  name: string;
  error: KafkaError | null;
}

export interface PreferredElectionOutcome {
  topic: string;
  partition: number;
  error: KafkaError | null;
}

/** One activation: its context, fence, request queues and timers. Dropped on resignation. */
interface Session extends ActiveController {
  readonly epoch: number;
  readonly context: ControllerContext;
  readonly fence: Fence;
  readonly channel: ControllerChannelManager;
  readonly deletion: TopicDeletionManager;
  active: boolean;
  watches: WatchHandle[];
  timers: Set<TimerHandle>;
  needsFullSync: boolean;
  readonly pendingModifiedTopics: Set<string>;
  readonly pendingResyncBrokers: Set<number>;
  retryScheduled: boolean;
}

const notController = (): KafkaError => new KafkaError('NOT_CONTROLLER', 'This broker is not the active controller.');

/** A caller-facing error for anything an admin call ran into. */
function toKafkaError(err: unknown): KafkaError {
  if (err instanceof KafkaError) return err;
  if (err instanceof ControllerMovedError || err instanceof QueueClosedError) return notController();
  if (err instanceof QueueFullError) return new KafkaError('REQUEST_TIMED_OUT', err.message);
  if (err instanceof CoordinatorError && (err.code === 'TIMEOUT' || err.code === 'UNAVAILABLE' || err.code === 'NOT_LEADER')) {
    return new KafkaError('REQUEST_TIMED_OUT', `coordinator: ${err.message}`);
  }
  return new KafkaError('UNKNOWN_SERVER_ERROR', err instanceof Error ? err.message : String(err));
}

function sortPartitions<T extends TopicPartitionRef>(list: T[]): T[] {
  return list.sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
}

export class Controller extends EventEmitter {
  readonly config: ControllerConfig;
  readonly limits: ControllerLimits;
  private readonly client: CoordinatorClient;
  private readonly channel: BrokerChannel;
  private readonly clock: ControllerClock;
  private readonly logger: Logger;
  private readonly metrics: ControllerMetrics;
  private readonly random: () => number;
  private readonly validateTopicConfig: (config: Readonly<Record<string, string>>) => void;
  private readonly store: ControllerStore;
  private readonly partitions: PartitionStateMachine;
  private readonly queue: ControllerEventQueue;
  private election: LeaderElection | null = null;
  private session: Session | null = null;
  /** Bumped by every activation attempt and resignation: an activation that sees it move aborts. */
  private generation = 0;
  private electedEpoch = 0;
  private stopped = false;
  private activationRetry: TimerHandle | null = null;
  private electionRestart: TimerHandle | null = null;
  private _activeControllerId = -1;
  private readonly topicRemovalWaiters = new Map<string, Set<() => void>>();
  /** The session is gone (expired, or the broker closed its client): this Controller is done. */
  private readonly onClientExpired = (): void => {
    this.resign('session expired');
    this.stopped = true;
    this.queue.close();
  };

  constructor(options: ControllerOptions) {
    super();
    this.config = resolveControllerConfig(options.config);
    this.limits = resolveControllerLimits(options.limits);
    this.client = options.client;
    this.channel = options.channel;
    this.clock = options.clock ?? systemClock;
    this.logger = (options.logger ?? silentLogger).child({ component: 'controller', brokerId: this.config['broker.id'] });
    this.metrics = new ControllerMetrics(options.registry ?? new Registry());
    this.random = options.random ?? seededRandom(randomInt(0x7fffffff));
    this.validateTopicConfig = options.validateTopicConfig ?? defaultValidateTopicConfig;
    this.store = new ControllerStore(this.client, this.logger, this.limits);
    this.partitions = new PartitionStateMachine(this.store, this.logger, this.config, this.limits);
    this.queue = new ControllerEventQueue(this.limits.maxQueuedAdminRequests, {
      onEvent: (name) => this.metrics.event(name),
      onTriggerError: (name, err) => this.logger.error('controller event failed', { event: name, error: err }),
    });
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  get isActive(): boolean {
    return this.session !== null;
  }

  /** The controller epoch while active, -1 otherwise. */
  get epoch(): number {
    return this.session?.epoch ?? -1;
  }

  /** The broker that is controller as last seen (this one or another), -1 when unknown. */
  get activeControllerId(): number {
    return this._activeControllerId;
  }

  /** Starts campaigning; resolves once the first campaign round is done (elected or not). */
  async start(): Promise<void> {
    if (this.election) throw new Error('Controller.start() called twice');
    this.client.on('expired', this.onClientExpired);
    this.client.on('closed', this.onClientExpired);
    this.election = this.createElection();
    await this.election.start();
  }

  private createElection(): LeaderElection {
    const election = new LeaderElection(this.client, { path: ZK.controller, epochPath: ZK.controllerEpoch, candidateId: this.config['broker.id'] });
    election.on('elected', (epoch: number) => {
      if (this.election !== election) return;
      this.electedEpoch = epoch;
      this.queue.trigger('ControllerChange', () => this.activateOrRetry());
    });
    election.on('revoked', () => {
      if (this.election === election) this.resign('leadership revoked');
    });
    election.on('leader', (info: LeaderInfo | null) => {
      if (this.election !== election) return;
      this._activeControllerId = info?.id ?? -1;
      this.emit('controllerChange', info);
    });
    election.on('error', (err: unknown) => {
      this.logger.error('controller election failed', { error: err });
      this.scheduleElectionRestart(election);
    });
    return election;
  }

  /**
   * A campaign that failed (a coordinator error while /controller was free) is not retried by
   * LeaderElection itself, and nobody might campaign again: start a fresh one after a back-off.
   * A candidate that leads keeps leading; it has nothing to redo.
   */
  private scheduleElectionRestart(failed: LeaderElection): void {
    if (this.stopped || this.election !== failed || failed.isLeader || this.electionRestart !== null) return;
    this.electionRestart = this.clock.setTimeout(() => {
      this.electionRestart = null;
      if (this.stopped || this.election !== failed || failed.isLeader) return;
      const next = this.createElection();
      this.election = next;
      void (async () => {
        await failed.stop().catch(() => {});
        try {
          await next.start();
        } catch (err) {
          this.logger.error('controller election failed to restart', { error: err });
          this.scheduleElectionRestart(next);
        }
      })();
    }, this.limits.eventRetryBackoffMs);
  }

  /** Resigns (gives /controller up if held) and stops; waits for the running event to end. */
  async stop(): Promise<void> {
    if (this.stopped && !this.election) return;
    this.stopped = true;
    this.client.off('expired', this.onClientExpired);
    this.client.off('closed', this.onClientExpired);
    this.resign('stopped');
    if (this.activationRetry !== null) this.clock.clearTimeout(this.activationRetry);
    if (this.electionRestart !== null) this.clock.clearTimeout(this.electionRestart);
    this.activationRetry = null;
    this.electionRestart = null;
    this.queue.close();
    await this.queue.whenIdle();
    const election = this.election;
    this.election = null;
    if (election && this.client.state !== 'expired' && this.client.state !== 'closed') await election.stop();
    for (const waiters of this.topicRemovalWaiters.values()) for (const w of waiters) w();
    this.topicRemovalWaiters.clear();
  }

  /** Resolves once no controller event is queued or running (tests, graceful shutdown). */
  whenIdle(): Promise<void> {
    return this.queue.whenIdle();
  }

  private resign(reason: string): void {
    this.generation++;
    const s = this.session;
    if (!s) return;
    this.session = null;
    s.active = false;
    for (const w of s.watches) w.remove();
    for (const t of s.timers) this.clock.clearTimeout(t);
    s.timers.clear();
    s.channel.close();
    this.metrics.setActive(false);
    this.logger.info('controller resigned', { epoch: s.epoch, reason });
    this.emit('resigned', reason);
  }

  /** Activation that failed on a coordinator error is tried again while this broker holds /controller. */
  private async activateOrRetry(): Promise<void> {
    try {
      await this.activate();
    } catch (err) {
      this.logger.error('controller activation failed; retrying', { error: err });
      if (this.stopped || this.activationRetry !== null) return;
      this.activationRetry = this.clock.setTimeout(() => {
        this.activationRetry = null;
        if (!this.stopped) this.queue.trigger('ControllerChange', () => this.activateOrRetry());
      }, this.limits.eventRetryBackoffMs);
    }
  }

  private async activate(): Promise<void> {
    const election = this.election;
    const epoch = this.electedEpoch;
    if (this.stopped || !election || !election.isLeader || election.epoch !== epoch) return;
    if (this.session?.epoch === epoch) return;
    this.resign('re-elected');
    const generation = ++this.generation;
    const onCounter = await this.store.readControllerEpoch();
    if (onCounter.epoch !== epoch) {
      // Someone moved the epoch past ours: we cannot fence our writes. Let a fresh election run.
      this.logger.warn('controller epoch moved on before activation; giving up /controller', { epoch, current: onCounter.epoch });
      await this.store.releaseControllerZnode();
      return;
    }
    await this.store.ensureLayout();
    const context = new ControllerContext(epoch, onCounter.version);
    const s: Session = {
      epoch,
      context,
      fence: { epochZkVersion: onCounter.version },
      channel: new ControllerChannelManager({
        channel: this.channel,
        clock: this.clock,
        logger: this.logger,
        limits: this.limits,
        onOverflow: (brokerId) => {
          s.pendingResyncBrokers.add(brokerId);
          this.trigger('BrokerResync', async () => {});
        },
      }),
      deletion: new TopicDeletionManager(this.store, this.logger, this.config),
      active: true,
      watches: [],
      timers: new Set(),
      needsFullSync: true,
      pendingModifiedTopics: new Set(),
      pendingResyncBrokers: new Set(),
      retryScheduled: false,
    };
    const abandon = (): void => {
      s.active = false;
      for (const w of s.watches) w.remove();
      s.channel.close();
    };
    try {
      // Watches first, then reads: a change between the two is never missed (its event re-reads).
      s.watches.push(this.client.watch(ZK.brokerIds, { persistent: true, recursive: true }, () => this.trigger('BrokerChange', (x, b) => this.onBrokerChange(x, b))));
      s.watches.push(this.client.watch(ZK.brokerTopics, { persistent: true, recursive: true }, (e) => this.onTopicsEvent(s, e)));
      s.watches.push(this.client.watch(ZK.deleteTopics, { kind: 'children', persistent: true }, () => this.trigger('TopicDeletion', (x, b) => this.onTopicDeletion(x, b))));
      s.watches.push(
        this.client.watch(ZK.isrChangeNotification, { kind: 'children', persistent: true }, () =>
          this.trigger('IsrChangeNotification', (x, b) => this.onIsrChangeNotification(x, b)),
        ),
      );
      await Promise.all(s.watches.map((w) => w.ready));
      // Notifications written before now are covered by reading every state below.
      await this.store.deleteIsrChangeNotifications(s.fence, await this.store.readIsrChangeNotificationNames());
      await this.loadContext(s);
    } catch (err) {
      abandon();
      if (err instanceof ControllerMovedError) {
        await this.store.releaseControllerZnode();
        return;
      }
      throw err;
    }
    if (generation !== this.generation || this.stopped) {
      abandon();
      return;
    }
    this.session = s;
    this.metrics.setActive(true);
    this.logger.info('controller activated', { epoch, brokers: [...context.liveBrokers.keys()], topics: context.topicNames().length });
    this.emit('activated', epoch);
    try {
      await this.runInSession(s, 'Activate', async (batch) => {
        await s.deletion.readRequests(s, batch);
        await this.deletionPass(s, batch);
      });
    } catch {
      // runInSession already acted: resigned if fenced, otherwise a resync is scheduled.
    }
    this.scheduleRebalance(s);
  }

  private async loadContext(s: Session): Promise<void> {
    const ctx = s.context;
    for (const b of (await this.store.readBrokers()).values()) {
      ctx.liveBrokers.set(b.id, b);
      s.channel.addBroker(endpointOf(b));
    }
    const names = await this.store.readTopicNames();
    const topics = await mapWithConcurrency(names, this.limits.maxConcurrentReads, async (t) => ({ t, topic: await this.store.readTopic(t) }));
    const wanted: Array<{ topic: string; partitions: number[] }> = [];
    for (const { t, topic } of topics) {
      if (!topic) continue;
      ctx.addPartitions(t, topic.assignment, topic.version);
      wanted.push({ topic: t, partitions: [...topic.assignment.keys()] });
    }
    for (const { topic, partition, state } of await this.store.readPartitionStatesOf(wanted)) ctx.setPartitionState(topic, partition, state);
  }

  // ---- events ------------------------------------------------------------------------------

  /** Queues a coalesced event for the current activation. */
  private trigger(name: string, handler: (s: Session, batch: ControllerRequestBatch) => Promise<void>): void {
    this.queue.trigger(name, async () => {
      const s = this.session;
      if (!s) return;
      await this.runInSession(s, name, (batch) => handler(s, batch));
    });
  }

  /** Queues an admin request; `inactive` answers it when this broker is not the controller. */
  private request<T>(name: string, inactive: () => T, handler: (s: Session, batch: ControllerRequestBatch) => Promise<T>): Promise<T> {
    return this.queue
      .request(name, async () => {
        const s = this.session;
        if (!s) return inactive();
        try {
          return await this.runInSession(s, name, (batch) => handler(s, batch));
        } catch (err) {
          if (err instanceof ControllerMovedError) return inactive();
          throw err;
        }
      })
      .catch((err: unknown) => {
        if (err instanceof QueueClosedError) return inactive();
        throw err;
      });
  }

  /**
   * Runs one event: the handler, then reconcile, then sends what they produced. A fenced write
   * makes the controller resign (ControllerMovedError); any other failure marks the activation
   * for a full resync and retries the watch events after a back-off (every handler re-reads, so
   * that is safe). A failure of reconcile alone does not fail the event: its retry is scheduled.
   */
  private async runInSession<T>(s: Session, name: string, handler: (batch: ControllerRequestBatch) => Promise<T>): Promise<T> {
    const batch = new ControllerRequestBatch();
    try {
      let result: T;
      try {
        result = await handler(batch);
      } catch (err) {
        throw await this.eventFailed(s, name, err);
      }
      try {
        await this.partitions.reconcile(s, batch);
      } catch (err) {
        const e = await this.eventFailed(s, name, err);
        if (e instanceof ControllerMovedError) throw e;
      }
      return result;
    } finally {
      this.flush(s, batch);
      if (s.active) this.updateGauges(s);
    }
  }

  /** Handles an event's failure; returns the error to rethrow (ControllerMovedError when fenced). */
  private async eventFailed(s: Session, name: string, err: unknown): Promise<unknown> {
    if (err instanceof ControllerMovedError || (err instanceof CoordinatorError && err.code === 'SESSION_EXPIRED')) {
      await this.onFenced(s, name);
      return err instanceof ControllerMovedError ? err : new ControllerMovedError('coordinator session expired');
    }
    this.logger.error('controller event failed; will resync', { event: name, error: err });
    s.needsFullSync = true;
    this.scheduleRetry(s);
    return err;
  }

  private async onFenced(s: Session, event: string): Promise<void> {
    if (this.session !== s) return;
    this.logger.warn('a controller write was fenced: another controller took over', { epoch: s.epoch, event });
    this.resign('fenced');
    try {
      await this.store.releaseControllerZnode();
    } catch (err) {
      this.logger.warn('could not give /controller up', { error: err });
    }
  }

  private scheduleRetry(s: Session): void {
    if (s.retryScheduled || !s.active) return;
    s.retryScheduled = true;
    this.setSessionTimer(s, this.limits.eventRetryBackoffMs, () => {
      s.retryScheduled = false;
      for (const t of s.context.topicNames()) s.pendingModifiedTopics.add(t);
      this.trigger('BrokerChange', (x, b) => this.onBrokerChange(x, b));
      this.trigger('TopicChange', (x, b) => this.onTopicChange(x, b));
      this.trigger('PartitionModifications', (x, b) => this.onPartitionModifications(x, b));
      this.trigger('TopicDeletion', (x, b) => this.onTopicDeletion(x, b));
      this.trigger('IsrChangeNotification', (x, b) => this.onIsrChangeNotification(x, b));
    });
  }

  private setSessionTimer(s: Session, ms: number, fn: () => void): TimerHandle {
    const handle = this.clock.setTimeout(() => {
      s.timers.delete(handle);
      if (s.active) fn();
    }, ms);
    s.timers.add(handle);
    return handle;
  }

  /** Sends the batch (and a full resync where one is owed) through the activation's queues. */
  private flush(s: Session, batch: ControllerRequestBatch): void {
    if (!s.active) return;
    const ctx = s.context;
    const withState = (view: PartitionView): boolean => view.state !== null;
    if (s.needsFullSync) {
      s.needsFullSync = false;
      batch.addFullUpdateMetadata(ctx.liveBrokers.keys());
      for (const view of ctx.allPartitions()) {
        if (withState(view)) batch.addLeaderAndIsr(view.replicas.filter((id) => ctx.liveBrokers.has(id)), view.topic, view.partition);
      }
    }
    for (const id of s.pendingResyncBrokers) {
      if (!ctx.liveBrokers.has(id)) continue;
      batch.addFullUpdateMetadata([id]);
      for (const view of ctx.partitionsOnBroker(id)) if (withState(view)) batch.addLeaderAndIsr([id], view.topic, view.partition);
    }
    s.pendingResyncBrokers.clear();
    if (batch.isEmpty) return;
    const requests = batch.build({
      controllerId: this.config['broker.id'],
      controllerEpoch: s.epoch,
      liveBrokers: ctx.liveBrokersWire(),
      stateOf: (t, p) => ctx.partitionStateWire(t, p),
      allPartitionKeys: () => [...ctx.allPartitions()].filter(withState),
      maxPartitionsPerRequest: this.limits.maxPartitionsPerRequest,
    });
    for (const r of requests) {
      if (r.payload.kind === 'stopReplica' && r.payload.request.deletePartitions) {
        const partitions = r.partitions ?? [];
        s.channel.send(r.brokerId, r.payload, (res) => {
          s.deletion.recordResult({
            brokerId: r.brokerId,
            partitions,
            response: res && res.kind === 'stopReplica' ? (res.response as StopReplicaResponse) : null,
          });
          if (s.active) this.trigger('TopicDeletionProgress', (x, b) => this.onTopicDeletionProgress(x, b));
        });
      } else {
        s.channel.send(r.brokerId, r.payload);
      }
    }
  }

  private updateGauges(s: Session): void {
    const ctx = s.context;
    const views = this.leadershipViews(ctx);
    this.metrics.setPartitionGauges(ctx.offlinePartitionCount(), preferredReplicaImbalanceCount(views));
  }

  private leadershipViews(ctx: ControllerContext): PartitionLeadershipView[] {
    const views: PartitionLeadershipView[] = [];
    for (const p of ctx.allPartitions()) {
      if (ctx.isQueuedForDeletion(p.topic)) continue;
      views.push({ topic: p.topic, partition: p.partition, replicas: p.replicas, leader: p.state?.leader ?? null, isr: p.state?.isr ?? [] });
    }
    return views;
  }

  // ---- watch handlers ----------------------------------------------------------------------

  private onTopicsEvent(s: Session, e: Parameters<WatchListener>[0]): void {
    if (!s.active) return;
    if (e.type === 'resync') {
      for (const t of s.context.topicNames()) s.pendingModifiedTopics.add(t);
      this.trigger('TopicChange', (x, b) => this.onTopicChange(x, b));
      this.trigger('PartitionModifications', (x, b) => this.onPartitionModifications(x, b));
      return;
    }
    const prefix = ZK.brokerTopics + '/';
    if (!e.path.startsWith(prefix)) return;
    const rest = e.path.slice(prefix.length);
    if (rest.length === 0 || rest.includes('/')) return; // partition states and their parents
    if (e.type === 'dataChanged') {
      s.pendingModifiedTopics.add(rest);
      this.trigger('PartitionModifications', (x, b) => this.onPartitionModifications(x, b));
    } else {
      this.trigger('TopicChange', (x, b) => this.onTopicChange(x, b));
    }
  }

  /** Brokers registered, gone, or re-registered (same id, new epoch = a restart). */
  private async onBrokerChange(s: Session, batch: ControllerRequestBatch): Promise<void> {
    const ctx = s.context;
    const current = await this.store.readBrokers();
    const dead = [...ctx.liveBrokers.keys()].filter((id) => !current.has(id)).sort((a, b) => a - b);
    const added = [...current.keys()].filter((id) => !ctx.liveBrokers.has(id)).sort((a, b) => a - b);
    const bounced: BrokerRegistration[] = [];
    const moved: BrokerRegistration[] = [];
    for (const [id, reg] of current) {
      const known = ctx.liveBrokers.get(id);
      if (!known) continue;
      if (known.epoch !== reg.epoch) bounced.push(known);
      else if (known.host !== reg.host || known.port !== reg.port || known.rack !== reg.rack) moved.push(reg);
    }
    if (dead.length + added.length + bounced.length + moved.length === 0) return;
    this.logger.info('brokers changed', { dead, added, bounced: bounced.map((b) => b.id), moved: moved.map((b) => b.id) });

    // Failure first: dead and restarted brokers lose their leaderships and ISR places, and every
    // partition they hold a replica of gets a new leader epoch (see bumpLeaderEpoch).
    for (const id of dead) {
      ctx.liveBrokers.delete(id);
      ctx.shuttingDownBrokers.delete(id);
      ctx.noteBrokerFailure(id);
      s.channel.removeBroker(id);
    }
    for (const old of bounced) {
      ctx.liveBrokers.delete(old.id);
      ctx.shuttingDownBrokers.delete(old.id);
      ctx.noteBrokerFailure(old.id);
      s.channel.removeBroker(old.id);
    }
    if (dead.length + bounced.length > 0) {
      try {
        await this.partitions.electOfflineAndShrinkIsrs(s, batch);
      } catch (err) {
        // Put restarted brokers back as they were, so the retry sees the restart again.
        for (const old of bounced) ctx.liveBrokers.set(old.id, old);
        throw err;
      }
    }

    // Then startup: new and restarted brokers learn everything and their replicas' states.
    const started = [...added, ...bounced.map((b) => b.id)];
    for (const id of started) {
      const reg = current.get(id)!;
      ctx.liveBrokers.set(id, reg);
      s.channel.addBroker(endpointOf(reg));
    }
    for (const reg of moved) {
      ctx.liveBrokers.set(reg.id, reg);
      s.channel.addBroker(endpointOf(reg));
    }
    batch.addUpdateMetadata([...ctx.liveBrokers.keys()].filter((id) => !started.includes(id)));
    if (started.length > 0) {
      batch.addFullUpdateMetadata(started);
      for (const id of started) {
        for (const view of ctx.partitionsOnBroker(id)) if (view.state) batch.addLeaderAndIsr([id], view.topic, view.partition);
      }
      // Topic deletions waiting for these brokers can go on.
      await this.deletionPass(s, batch);
    }
  }

  /** Topics created or deleted (/brokers/topics children). */
  private async onTopicChange(s: Session, batch: ControllerRequestBatch): Promise<void> {
    const ctx = s.context;
    const names = new Set(await this.store.readTopicNames());
    for (const t of ctx.topicNames()) {
      if (names.has(t)) continue;
      ctx.removeTopic(t);
      s.deletion.forget(t);
      batch.addDeletedTopics(ctx.liveBrokers.keys(), [t]);
      this.notifyTopicRemoved(t);
    }
    const fresh = [...names].filter((t) => !ctx.hasTopic(t));
    const loaded = await mapWithConcurrency(fresh, this.limits.maxConcurrentReads, async (t) => ({ t, topic: await this.store.readTopic(t) }));
    for (const { t, topic } of loaded) {
      if (!topic) continue;
      ctx.addPartitions(t, topic.assignment, topic.version);
      // States may exist already (a previous controller created them before it died).
      const states = await this.store.readPartitionStates(t, [...topic.assignment.keys()]);
      for (const [p, st] of states) {
        ctx.setPartitionState(t, p, st);
        PartitionStateMachine.noteChanged(ctx, batch, t, p);
      }
      this.logger.info('new topic', { topic: t, partitions: topic.assignment.size });
    }
  }

  /** Partitions added to existing topics (their /brokers/topics/<topic> data changed). */
  private async onPartitionModifications(s: Session, _batch: ControllerRequestBatch): Promise<void> {
    const ctx = s.context;
    const topics = [...s.pendingModifiedTopics];
    s.pendingModifiedTopics.clear();
    for (const t of topics) {
      if (!ctx.hasTopic(t)) continue;
      const topic = await this.store.readTopic(t);
      if (!topic) continue;
      if (ctx.isQueuedForDeletion(t)) {
        this.logger.warn('ignoring a partition change of a topic being deleted', { topic: t });
        continue;
      }
      const known = ctx.assignment(t)!;
      for (const [p, replicas] of known) {
        const now = topic.assignment.get(p);
        if (!now || now.join(',') !== replicas.join(',')) {
          this.logger.warn('ignoring a change of existing replicas (reassignment is not supported)', { topic: t, partition: p });
        }
      }
      const added = ctx.addPartitions(t, topic.assignment, topic.version);
      if (added.length > 0) this.logger.info('partitions added', { topic: t, partitions: added.map((a) => a.partition) });
    }
  }

  /** Leaders changed ISRs: refresh those states and tell every broker. */
  private async onIsrChangeNotification(s: Session, batch: ControllerRequestBatch): Promise<void> {
    const ctx = s.context;
    const max = this.limits.maxIsrNotificationsPerEvent;
    const { names, partitions } = await this.store.readIsrChangeNotifications(max);
    if (names.length === 0) return;
    const seen = new Set<string>();
    const known = partitions.filter((tp) => {
      const key = `${tp.topic}\u0000${tp.partition}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return ctx.partition(tp.topic, tp.partition) !== undefined && !ctx.isQueuedForDeletion(tp.topic);
    });
    const states = await mapWithConcurrency(known, this.limits.maxConcurrentReads, (tp) => this.store.readPartitionState(tp.topic, tp.partition));
    known.forEach((tp, i) => ctx.setPartitionState(tp.topic, tp.partition, states[i] ?? null));
    batch.addUpdateMetadata(ctx.liveBrokers.keys(), known);
    await this.store.deleteIsrChangeNotifications(s.fence, names);
    if (names.length >= max) this.trigger('IsrChangeNotification', (x, b) => this.onIsrChangeNotification(x, b));
  }

  private async onTopicDeletion(s: Session, batch: ControllerRequestBatch): Promise<void> {
    await s.deletion.readRequests(s, batch);
    await this.deletionPass(s, batch);
  }

  private async onTopicDeletionProgress(s: Session, batch: ControllerRequestBatch): Promise<void> {
    await this.deletionPass(s, batch);
  }

  /** Starts eligible deletions and finishes confirmed ones; failed ones are retried after a back-off. */
  private async deletionPass(s: Session, batch: ControllerRequestBatch): Promise<void> {
    s.deletion.startEligible(s, batch);
    const { completed, failed } = await s.deletion.processResults(s, batch);
    for (const t of completed) this.notifyTopicRemoved(t);
    if (failed.length > 0) {
      this.setSessionTimer(s, this.limits.eventRetryBackoffMs, () => this.trigger('TopicDeletion', (x, b) => this.onTopicDeletion(x, b)));
    }
  }

  private notifyTopicRemoved(topic: string): void {
    const waiters = this.topicRemovalWaiters.get(topic);
    if (!waiters) return;
    this.topicRemovalWaiters.delete(topic);
    for (const w of waiters) w();
  }

  private scheduleRebalance(s: Session): void {
    if (!this.config['auto.leader.rebalance.enable'] || !s.active) return;
    this.setSessionTimer(s, this.config['leader.imbalance.check.interval.ms'], () => {
      this.trigger('AutoLeaderRebalance', async (x, b) => {
        try {
          await this.autoRebalance(x, b);
        } finally {
          this.scheduleRebalance(x);
        }
      });
    });
  }

  private async autoRebalance(s: Session, batch: ControllerRequestBatch): Promise<void> {
    const ctx = s.context;
    const plan = planPreferredLeaderRebalance(this.leadershipViews(ctx), ctx.onlineBrokerIds(), this.config['leader.imbalance.per.broker.percentage']);
    if (plan.candidates.length === 0) return;
    this.logger.info('auto leader rebalance', { partitions: plan.candidates.length });
    await this.electPreferred(s, batch, plan.candidates);
  }

  private async electPreferred(s: Session, batch: ControllerRequestBatch, partitions: TopicPartitionRef[]): Promise<void> {
    const ctx = s.context;
    const online = ctx.onlineBrokerIds();
    await this.partitions.update(s, batch, partitions, (view) => {
      if (view.state.leader === view.replicas[0]) return null;
      const r = preferredReplicaLeaderElection({ assignment: view.replicas, isr: view.state.isr, liveReplicas: online });
      return r ? nextLeaderAndIsr(view.state, r.leader, r.isr, ctx.epoch) : null;
    });
  }

  // ---- admin API ---------------------------------------------------------------------------

  /**
   * CreateTopics: validates each topic (Kafka's checks and codes), assigns replicas, writes
   * /config/topics/<t> and /brokers/topics/<t> in one fenced multi, then processes the new topics
   * at once: when this resolves, their partition states exist and LeaderAndIsr is on its way.
   * Results are per topic; NOT_CONTROLLER everywhere when this broker is not the controller.
   */
  createTopics(topics: readonly CreateTopicSpec[], options: { validateOnly?: boolean } = {}): Promise<CreateTopicOutcome[]> {
    const fail = (error: KafkaError): CreateTopicOutcome[] =>
      topics.map((t) => ({ name: typeof t?.name === 'string' ? t.name : '', error, numPartitions: -1, replicationFactor: -1, assignment: null }));
    if (!Array.isArray(topics)) return Promise.resolve([]);
    if (topics.length > this.limits.maxTopicsPerRequest) {
      return Promise.resolve(fail(new KafkaError('INVALID_REQUEST', `more than ${this.limits.maxTopicsPerRequest} topics in one request`)));
    }
    return this.request(
      'CreateTopics',
      () => fail(notController()),
      async (s, batch) => {
        const ctx = s.context;
        const counts = new Map<unknown, number>();
        for (const t of topics) counts.set(t?.name, (counts.get(t?.name) ?? 0) + 1);
        const existing = new Set(ctx.topicNames());
        const brokers: BrokerRack[] = [...ctx.liveBrokers.values()].map((b) => ({ id: b.id, rack: b.rack }));
        const results: CreateTopicOutcome[] = [];
        let wrote = false;
        for (const spec of topics) {
          const name = typeof spec?.name === 'string' ? spec.name : '';
          try {
            if ((counts.get(spec?.name) ?? 0) > 1) throw new KafkaError('INVALID_REQUEST', `Topic '${name}' appears more than once in the request.`);
            const plan = planTopicCreation(spec, {
              liveBrokers: brokers,
              existingTopics: existing,
              config: this.config,
              limits: this.limits,
              random: this.random,
              validateTopicConfig: this.validateTopicConfig,
            });
            if (!options.validateOnly) {
              if (!s.active) throw new ControllerMovedError('the controller resigned');
              await this.store.createTopic(s.fence, plan.name, plan.assignment, plan.config);
              wrote = true;
              this.logger.info('topic created', { topic: plan.name, partitions: plan.numPartitions, replicationFactor: plan.replicationFactor });
            }
            existing.add(plan.name);
            results.push({ name, error: null, numPartitions: plan.numPartitions, replicationFactor: plan.replicationFactor, assignment: plan.assignment });
          } catch (err) {
            if (err instanceof ControllerMovedError) throw err;
            results.push({ name, error: toKafkaError(err), numPartitions: -1, replicationFactor: -1, assignment: null });
          }
        }
        if (wrote) {
          // Process the new topics now, so their states exist when the caller hears back. If
          // that fails, the topics are written all the same: the watch-driven retry finishes.
          try {
            await this.onTopicChange(s, batch);
          } catch (err) {
            const e = await this.eventFailed(s, 'CreateTopics', err);
            if (e instanceof ControllerMovedError) throw e;
          }
        }
        return results;
      },
    ).catch((err: unknown) => fail(toKafkaError(err)));
  }

  /**
   * DeleteTopics: queues each existing topic for deletion (/admin/delete_topics/<t>). With
   * timeoutMs > 0, waits until the controller has deleted it (REQUEST_TIMED_OUT otherwise).
   */
  async deleteTopics(names: readonly string[], options: { timeoutMs?: number } = {}): Promise<TopicOutcome[]> {
    const fail = (error: KafkaError): TopicOutcome[] => names.map((name) => ({ name: String(name), error }));
    if (!Array.isArray(names)) return [];
    if (names.length > this.limits.maxTopicsPerRequest) {
      return fail(new KafkaError('INVALID_REQUEST', `more than ${this.limits.maxTopicsPerRequest} topics in one request`));
    }
    const queued = await this.request(
      'DeleteTopics',
      () => fail(notController()),
      async (s) => {
        const results: TopicOutcome[] = [];
        for (const name of names) {
          try {
            if (typeof name !== 'string' || !s.context.hasTopic(name)) {
              throw new KafkaError('UNKNOWN_TOPIC_OR_PARTITION', `Topic '${String(name)}' does not exist.`);
            }
            if (!this.config['delete.topic.enable']) throw new KafkaError('POLICY_VIOLATION', 'Topic deletion is disabled (delete.topic.enable=false).');
            if (!s.active) throw new ControllerMovedError('the controller resigned');
            await this.store.requestTopicDeletion(s.fence, name);
            results.push({ name, error: null });
          } catch (err) {
            if (err instanceof ControllerMovedError) throw err;
            results.push({ name: String(name), error: toKafkaError(err) });
          }
        }
        return results;
      },
    ).catch((err: unknown) => fail(toKafkaError(err)));
    const timeoutMs = options.timeoutMs ?? 0;
    if (timeoutMs <= 0) return queued;
    return Promise.all(
      queued.map(async (r) => {
        if (r.error) return r;
        const gone = await this.waitForTopicRemoval(r.name, timeoutMs);
        return gone ? r : { name: r.name, error: new KafkaError('REQUEST_TIMED_OUT', `Topic '${r.name}' is not deleted yet.`) };
      }),
    );
  }

  private waitForTopicRemoval(topic: string, timeoutMs: number): Promise<boolean> {
    if (!this.session?.context.hasTopic(topic)) return Promise.resolve(true);
    return new Promise((resolve) => {
      let waiters = this.topicRemovalWaiters.get(topic);
      if (!waiters) this.topicRemovalWaiters.set(topic, (waiters = new Set()));
      const done = (): void => {
        this.clock.clearTimeout(timer);
        resolve(true);
      };
      const timer = this.clock.setTimeout(() => {
        waiters.delete(done);
        resolve(false);
      }, timeoutMs);
      waiters.add(done);
    });
  }

  /**
   * CreatePartitions: raises each topic's partition count to `count` (Kafka's assignment for
   * added partitions), compare-and-set on the topic znode; the new partitions' states exist when
   * this resolves.
   */
  async createPartitions(topics: ReadonlyArray<{ name: string; count: number }>, options: { validateOnly?: boolean } = {}): Promise<TopicOutcome[]> {
    const fail = (error: KafkaError): TopicOutcome[] => topics.map((t) => ({ name: String(t?.name), error }));
    if (!Array.isArray(topics)) return [];
    if (topics.length > this.limits.maxTopicsPerRequest) {
      return fail(new KafkaError('INVALID_REQUEST', `more than ${this.limits.maxTopicsPerRequest} topics in one request`));
    }
    return this.request(
      'CreatePartitions',
      () => fail(notController()),
      async (s) => {
        const ctx = s.context;
        const brokers: BrokerRack[] = [...ctx.liveBrokers.values()].map((b) => ({ id: b.id, rack: b.rack }));
        const counts = new Map<unknown, number>();
        for (const t of topics) counts.set(t?.name, (counts.get(t?.name) ?? 0) + 1);
        const results: TopicOutcome[] = [];
        for (const t of topics) {
          const name = String(t?.name);
          try {
            if ((counts.get(t?.name) ?? 0) > 1) throw new KafkaError('INVALID_REQUEST', `Topic '${name}' appears more than once in the request.`);
            const existing = typeof t?.name === 'string' ? ctx.assignment(t.name) : undefined;
            const added = planPartitionAddition(name, t?.count, existing, {
              liveBrokers: brokers,
              queuedForDeletion: ctx.isQueuedForDeletion(name),
              limits: this.limits,
              random: this.random,
            });
            if (!options.validateOnly) {
              if (!s.active) throw new ControllerMovedError('the controller resigned');
              const full = new Map([...existing!, ...added]);
              const version = ctx.topicVersion(name) ?? -1;
              try {
                const newVersion = await this.store.setTopicAssignment(s.fence, name, full, version);
                ctx.addPartitions(name, full, newVersion);
              } catch (err) {
                if (err instanceof CoordinatorError && err.code === 'BAD_VERSION') {
                  throw new KafkaError('REQUEST_TIMED_OUT', `Topic '${name}' changed meanwhile; retry.`);
                }
                throw err;
              }
              this.logger.info('partitions added', { topic: name, count: full.size });
            }
            results.push({ name, error: null });
          } catch (err) {
            if (err instanceof ControllerMovedError) throw err;
            results.push({ name, error: toKafkaError(err) });
          }
        }
        return results;
      },
    ).catch((err: unknown) => fail(toKafkaError(err)));
  }

  /**
   * Preferred leader election on demand (Kafka's ElectLeaders PREFERRED): all partitions when
   * `partitions` is absent. Per partition: null (now led by its preferred replica),
   * ELECTION_NOT_NEEDED, PREFERRED_LEADER_NOT_AVAILABLE or UNKNOWN_TOPIC_OR_PARTITION.
   */
  async electPreferredLeaders(partitions?: readonly TopicPartition[]): Promise<PreferredElectionOutcome[]> {
    const list = partitions ? [...partitions] : null;
    const failAll = (error: KafkaError): PreferredElectionOutcome[] => (list ?? []).map((p) => ({ topic: String(p?.topic), partition: Number(p?.partition), error }));
    return this.request(
      'ElectPreferredLeaders',
      () => failAll(notController()),
      async (s, batch) => {
        const ctx = s.context;
        const targets: TopicPartitionRef[] =
          list?.map((p) => ({ topic: String(p?.topic), partition: Number(p?.partition) })) ??
          [...ctx.allPartitions()].filter((v) => v.state && !ctx.isQueuedForDeletion(v.topic)).map((v) => ({ topic: v.topic, partition: v.partition }));
        const results = new Map<string, PreferredElectionOutcome>();
        const eligible: TopicPartitionRef[] = [];
        const online = ctx.onlineBrokerIds();
        for (const tp of targets) {
          const key = `${tp.topic}\u0000${tp.partition}`;
          const view = ctx.partition(tp.topic, tp.partition);
          let error: KafkaError | null = null;
          if (!view || ctx.isQueuedForDeletion(tp.topic)) {
            error = new KafkaError('UNKNOWN_TOPIC_OR_PARTITION', `Partition ${tp.topic}-${tp.partition} does not exist.`);
          } else if (!view.state) {
            error = new KafkaError('PREFERRED_LEADER_NOT_AVAILABLE', `Partition ${tp.topic}-${tp.partition} has no state yet.`);
          } else if (view.state.leader === view.replicas[0]) {
            error = new KafkaError('ELECTION_NOT_NEEDED', `Partition ${tp.topic}-${tp.partition} is already led by its preferred replica.`);
          } else if (!preferredReplicaLeaderElection({ assignment: view.replicas, isr: view.state.isr, liveReplicas: online })) {
            error = new KafkaError(
              'PREFERRED_LEADER_NOT_AVAILABLE',
              `Preferred replica ${view.replicas[0]} of ${tp.topic}-${tp.partition} is not live or not in the ISR.`,
            );
          } else {
            eligible.push(tp);
          }
          results.set(key, { topic: tp.topic, partition: tp.partition, error });
        }
        await this.electPreferred(s, batch, eligible);
        for (const tp of eligible) {
          const view = ctx.partition(tp.topic, tp.partition);
          const ok = view?.state?.leader === view?.replicas[0];
          results.set(`${tp.topic}\u0000${tp.partition}`, {
            ...tp,
            error: ok ? null : new KafkaError('PREFERRED_LEADER_NOT_AVAILABLE', `Preferred leader election for ${tp.topic}-${tp.partition} did not succeed.`),
          });
        }
        return sortPartitions([...results.values()]);
      },
    ).catch((err: unknown) => failAll(toKafkaError(err)));
  }

  /**
   * Controlled shutdown of `brokerId` (Kafka's doControlledShutdown): leadership of every
   * replicated partition it leads moves to another ISR member, it leaves the ISRs it follows in
   * (and gets StopReplica for them), and it is no longer elected. Returns the partitions it
   * still leads (no other ISR member could take over): the broker retries, then shuts down
   * anyway after controlled.shutdown.max.retries. Throws NOT_CONTROLLER / BROKER_NOT_AVAILABLE.
   */
  async controlledShutdown(brokerId: number): Promise<TopicPartitionRef[]> {
    const outcome = await this.request<TopicPartitionRef[] | KafkaError>(
      'ControlledShutdown',
      () => notController(),
      async (s, batch) => {
        const ctx = s.context;
        if (!ctx.liveBrokers.has(brokerId)) return new KafkaError('BROKER_NOT_AVAILABLE', `Broker ${String(brokerId)} is not registered.`);
        ctx.shuttingDownBrokers.add(brokerId);
        this.logger.info('controlled shutdown', { brokerId });
        const acting = ctx
          .partitionsOnBroker(brokerId)
          .filter((p) => p.replicas.length > 1 && p.state !== null && !ctx.isQueuedForDeletion(p.topic));
        const led = acting.filter((p) => p.state!.leader === brokerId).map((p) => ({ topic: p.topic, partition: p.partition }));
        const followed = acting.filter((p) => p.state!.leader !== brokerId).map((p) => ({ topic: p.topic, partition: p.partition }));
        const registered = ctx.liveOrShuttingDownBrokerIds();
        await this.partitions.update(s, batch, led, (view) => {
          if (view.state.leader !== brokerId) return null;
          const r = controlledShutdownLeaderElection({
            assignment: view.replicas,
            isr: view.state.isr,
            liveOrShuttingDownReplicas: registered,
            shuttingDownBrokers: ctx.shuttingDownBrokers,
          });
          return r ? nextLeaderAndIsr(view.state, r.leader, r.isr, ctx.epoch) : null;
        });
        for (const tp of followed) batch.addStopReplica(brokerId, tp.topic, tp.partition, false);
        await this.partitions.update(s, batch, followed, (view) =>
          view.state.leader === brokerId ? null : removeReplicasFromIsr(view.state, [brokerId], ctx.epoch),
        );
        return sortPartitions(
          ctx
            .partitionsLedBy(brokerId)
            .filter((p) => p.replicas.length > 1)
            .map((p) => ({ topic: p.topic, partition: p.partition })),
        );
      },
    ).catch((err: unknown) => toKafkaError(err));
    if (outcome instanceof KafkaError) throw outcome;
    return outcome;
  }
}

function endpointOf(b: BrokerRegistration): BrokerEndpoint {
  return { id: b.id, host: b.host, port: b.port, rack: b.rack };
}
