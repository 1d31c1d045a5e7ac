// One broker process: its coordinator session and registration, its logs, replicas and
// fetchers, its controller candidacy, and its gRPC and HTTP surfaces. `samsa broker start` is a
// thin shell around this.
//
// Start: coordinator session → cluster id → logs opened (recovery after a crash) → gRPC
// listening → registration (/brokers/ids/<id>, ephemeral; an id a live broker holds is refused)
// → controller candidate → serving. Stop (SIGTERM): controlled shutdown (the controller moves
// leadership to other ISR members first), then replicas, fetchers, controller and session end,
// logs close cleanly. A kill -9 skips all that; recovery runs at the next start.

import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { brokerInternalService, brokerService, MAX_BROKER_MESSAGE_BYTES } from '@samsa/client';
import {
  CoordinatorClient, CoordinatorError, GrpcHealth, OpsHttpServer, createLogger, createNodeRegistry, type Logger,
} from '@samsa/coordinator';
import type { Registry } from 'prom-client';
import { Controller } from '../controller/controller.js';
import { brokerPath, decodeTopicConfig, encodeBrokerRegistration, topicConfigPath, ZK } from '../controller/znodes.js';
import { resolveBrokerConfig, type BrokerConfig } from './broker-config.js';
import { BrokerInternalRpc, GrpcBrokerChannel } from './broker-internal-rpc.js';
import { BrokerMetrics } from './broker-metrics.js';
import { brokerServiceHandlers } from './broker-service.js';
import { LogCleanerManager } from './log-cleaner-manager.js';
import { LogManager } from './log-manager.js';
import { MetadataCache } from './metadata-cache.js';
import { ProducerIdManager } from './producer-id-manager.js';
import { ReplicaFetcherManager } from './replica-fetcher.js';
import { ReplicaManager } from './replica-manager.js';
import { resolveTopicSettings, type TopicSettings } from './topic-config.js';
import { GroupManager } from '../group/group-manager.js';
import { CONSUMER_OFFSETS_TOPIC } from '../group/offsets-partition.js';
import { BurrowEvaluator } from '../lag/burrow-evaluator.js';
import { LogEndOffsetSampler, OffsetsTopicCreator, ReplicaOffsetsLog } from './group-coordinator-wiring.js';
import { GroupMetrics } from './group-metrics.js';

export interface BrokerServerOptions {
  config: Parameters<typeof resolveBrokerConfig>[0];
  logger?: Logger;
  /** Called once when the broker cannot go on (e.g. its id is held by a live broker). */
  onFatal?: (err: unknown) => void;
}

const CLUSTER_ID_PATH = '/cluster/id';

function hostPort(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  return { host: listen.slice(0, i), port: Number(listen.slice(i + 1)) };
}

export class BrokerServer {
  readonly config: BrokerConfig;
  readonly registry: Registry;
  readonly metadata = new MetadataCache();
  private readonly logger: Logger;
  private zk!: CoordinatorClient;
  private logs!: LogManager;
  replicas!: ReplicaManager;
  private fetchers!: ReplicaFetcherManager;
  private controller: Controller | null = null;
  private readonly channel = new GrpcBrokerChannel();
  private readonly grpcServer: grpc.Server;
  private readonly health = new GrpcHealth();
  private http: OpsHttpServer | null = null;
  private metrics!: BrokerMetrics;
  groups: GroupManager | null = null;
  private lagSampler: LogEndOffsetSampler | null = null;
  /** Compaction of cleanup.policy=compact logs (null with log.cleaner.enable=false). */
  cleaner: LogCleanerManager | null = null;
  private clusterId = '';
  private registered = false;
  private port = 0;
  private stopping: Promise<void> | null = null;
  private healthTimer: NodeJS.Timeout | null = null;
  private endStreams: () => void = () => {};

  private constructor(config: BrokerConfig, logger: Logger, private readonly onFatal?: (err: unknown) => void) {
    this.config = config;
    this.logger = logger;
    this.registry = createNodeRegistry({ role: 'broker', node_id: String(config['broker.id']) });
    this.grpcServer = new grpc.Server({
      'grpc.max_receive_message_length': MAX_BROKER_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_BROKER_MESSAGE_BYTES,
    });
  }

  static async start(options: BrokerServerOptions): Promise<BrokerServer> {
    const config = resolveBrokerConfig(options.config);
    const logger = options.logger ?? createLogger({ component: 'broker', node: config['broker.id'] });
    const server = new BrokerServer(config, logger, options.onFatal);
    try {
      await server.startUp();
    } catch (err) {
      await server.stop(false).catch(() => {});
      throw err;
    }
    return server;
  }

  get brokerId(): number {
    return this.config['broker.id'];
  }
  get listenPort(): number {
    return this.port;
  }
  get metricsPort(): number | null {
    return this.http?.port ?? null;
  }
  get isRegistered(): boolean {
    return this.registered;
  }

  private async connectCoordinator(): Promise<CoordinatorClient> {
    const zk = await CoordinatorClient.connect({
      coordinators: this.config.coordinators,
      sessionTimeoutMs: this.config['coordinator.session.timeout.ms'],
      requestTimeoutMs: 10_000,
      connectTimeoutMs: 60_000,
      logger: this.logger.child({ component: 'coordinator-client' }),
    });
    zk.on('expired', () => void this.onSessionExpired());
    return zk;
  }

  private async startUp(): Promise<void> {
    const id = this.brokerId;
    this.metrics = new BrokerMetrics(this.registry, () => this.replicas ?? null);
    // Logs first: recovery after a crash is synchronous and may take a while, and no session
    // should be ticking (and expiring) meanwhile.
    this.logs = new LogManager({
      dir: this.config['log.dirs'],
      logger: this.logger.child({ component: 'logs' }),
      defaultConfig: resolveTopicSettings(this.config, 1, {}).log,
    });
    this.logs.open();
    this.zk = await this.connectCoordinator();
    this.clusterId = await this.ensureClusterId();

    this.replicas = new ReplicaManager({
      brokerId: id, config: this.config, logManager: this.logs, metadata: this.metadata, zk: () => this.zk,
      topicSettings: (topic, rf) => this.topicSettings(topic, rf), logger: this.logger, metrics: this.metrics,
    });
    this.fetchers = new ReplicaFetcherManager({
      brokerId: id, config: this.config, replicas: this.replicas, metadata: this.metadata, logger: this.logger, metrics: this.metrics,
    });
    this.replicas.onFollowerChange = (p, leaderId) => this.fetchers.assign(p, leaderId);
    this.groups = this.createGroupManager();
    const groups = this.groups;
    this.replicas.onLeadershipChange = (p, isLeader, leaderEpoch) => {
      if (p.topic === CONSUMER_OFFSETS_TOPIC) groups.onLeadershipChange(p.partition, isLeader, leaderEpoch);
    };

    const handlers = brokerServiceHandlers({
      brokerId: id, config: this.config, clusterId: () => this.clusterId, metadata: this.metadata, replicas: this.replicas,
      controller: () => this.controller, zk: () => this.zk, producerIds: new ProducerIdManager(() => this.zk, id),
      logger: this.logger, metrics: this.metrics, onTopicConfigChanged: (t) => void this.reloadTopicConfig(t),
      groups: this.groups,
      offsetsTopic: new OffsetsTopicCreator({ config: this.config, metadata: this.metadata, controller: () => this.controller, logger: this.logger }),
    });
    this.endStreams = handlers.endStreams;
    this.grpcServer.addService(brokerService().service, handlers.broker);
    this.grpcServer.addService(brokerInternalService().service, handlers.internal);
    this.health.addTo(this.grpcServer);
    this.port = await new Promise<number>((resolve, reject) =>
      this.grpcServer.bindAsync(this.config.listeners, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
    );

    if (this.config['metrics.port'] >= 0) {
      this.http = await OpsHttpServer.start({
        host: this.config['metrics.host'],
        port: this.config['metrics.port'],
        registry: this.registry,
        healthy: () => ({ ok: this.stopping === null, detail: { id } }),
        ready: () => this.readiness(),
      });
    }

    await this.watchTopicConfigs();
    await this.register();
    this.replicas.start();
    if (this.config['log.cleaner.enable']) {
      const replicas = this.replicas;
      this.cleaner = new LogCleanerManager({
        logs: this.logs, dir: this.config['log.dirs'], logger: this.logger.child({ component: 'log-cleaner' }), registry: this.registry,
        highWatermark: (t, p) => replicas.get(t, p)?.highWatermark,
        backoffMs: this.config['log.cleaner.backoff.ms'], dedupeBufferBytes: this.config['log.cleaner.dedupe.buffer.size'],
      });
      this.cleaner.start();
    }
    this.groups.start();
    await this.startController();
    this.healthTimer = setInterval(() => this.health.set('', this.readiness().ok ? 'SERVING' : 'NOT_SERVING'), 250);
    this.logger.info('broker started', { id, listen: `${hostPort(this.config.listeners).host}:${this.port}`, metricsPort: this.metricsPort, clusterId: this.clusterId });
  }

  private createGroupManager(): GroupManager {
    const c = this.config;
    this.lagSampler = new LogEndOffsetSampler({ brokerId: this.brokerId, replicas: this.replicas, metadata: this.metadata, logger: this.logger });
    const sampler = this.lagSampler;
    let manager: GroupManager | null = null;
    const metrics = new GroupMetrics(this.registry, () => manager);
    manager = new GroupManager(
      {
        log: new ReplicaOffsetsLog(this.replicas),
        logger: this.logger,
        partitionExists: (topic, partition) => this.metadata.partition(topic, partition) !== undefined,
        // offsets.topic.num.partitions itself, as Kafka: the metadata cache may know only some
        // partitions of the topic for a moment (LeaderAndIsr before UpdateMetadata), and a count
        // taken from it would put a group on the wrong partition.
        offsetsTopicPartitions: () => null,
        logEndOffsets: (tps) => sampler.sample(tps),
        localLogEndOffset: (topic, partition) => {
          const local = this.replicas.get(topic, partition);
          return local?.replica.isLeader ? local.highWatermark : undefined;
        },
        lag: new BurrowEvaluator({ windowMs: c['group.lag.evaluation.window.ms'] }),
        events: metrics,
      },
      {
        group: {
          groupMinSessionTimeoutMs: c['group.min.session.timeout.ms'],
          groupMaxSessionTimeoutMs: c['group.max.session.timeout.ms'],
          groupInitialRebalanceDelayMs: c['group.initial.rebalance.delay.ms'],
          groupMaxSize: c['group.max.size'],
        },
        offsets: {
          offsetsTopicNumPartitions: c['offsets.topic.num.partitions'],
          offsetsRetentionMs: c['offsets.retention.minutes'] * 60_000,
          offsetsRetentionCheckIntervalMs: c['offsets.retention.check.interval.ms'],
          offsetMetadataMaxBytes: c['offset.metadata.max.bytes'],
        },
        offsetsCommitTimeoutMs: c['offsets.commit.timeout.ms'],
      },
    );
    return manager;
  }

  private readiness(): { ok: boolean; detail: Record<string, unknown> } {
    const ok = this.stopping === null && this.registered && this.zk?.state === 'connected' && this.metadata.liveBrokers().some((b) => b.id === this.brokerId);
    return { ok, detail: { id: this.brokerId, registered: this.registered, controller: this.metadata.controllerId, coordinator: this.zk?.state } };
  }

  private async ensureClusterId(): Promise<string> {
    for (;;) {
      try {
        const { data } = await this.zk.get(CLUSTER_ID_PATH);
        return (JSON.parse(data.toString()) as { id: string }).id;
      } catch (err) {
        if (!(err instanceof CoordinatorError && err.code === 'NO_NODE')) throw err;
      }
      try {
        await this.zk.ensurePath('/cluster');
        await this.zk.create(CLUSTER_ID_PATH, JSON.stringify({ version: '1', id: randomBytes(16).toString('base64url') }));
      } catch (err) {
        if (!(err instanceof CoordinatorError && err.code === 'NODE_EXISTS')) throw err;
      }
    }
  }

  /**
   * Registers /brokers/ids/<id>. A znode left by this broker's previous incarnation (a crash)
   * goes when that session expires, so NODE_EXISTS is retried for a session timeout and a
   * half; if it is still there, a live broker holds the id and this one refuses to start.
   */
  private async register(): Promise<void> {
    const { host } = hostPort(this.config.listeners);
    const body = encodeBrokerRegistration({ host, port: this.port, rack: this.config['broker.rack'], metricsPort: this.metricsPort });
    await this.zk.ensurePath(ZK.brokerIds);
    const deadline = Date.now() + this.config['coordinator.session.timeout.ms'] * 1.5 + 2_000;
    for (;;) {
      try {
        await this.zk.create(brokerPath(this.brokerId), body, { mode: 'ephemeral' });
        this.registered = true;
        this.logger.info('registered', { path: brokerPath(this.brokerId), sessionId: this.zk.sessionId });
        return;
      } catch (err) {
        if (!(err instanceof CoordinatorError && err.code === 'NODE_EXISTS')) throw err;
        if (Date.now() > deadline) {
          throw new Error(`broker id ${this.brokerId} is already registered by a live broker (${brokerPath(this.brokerId)} exists); refusing to start`);
        }
        this.logger.info('broker id still registered (a previous session?); waiting for it to expire', { id: this.brokerId });
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  private async startController(): Promise<void> {
    this.controller = new Controller({
      client: this.zk,
      channel: this.channel,
      config: {
        'broker.id': this.brokerId,
        'num.partitions': this.config['num.partitions'],
        'default.replication.factor': this.config['default.replication.factor'],
        'unclean.leader.election.enable': this.config['unclean.leader.election.enable'],
        'auto.leader.rebalance.enable': this.config['auto.leader.rebalance.enable'],
        'leader.imbalance.per.broker.percentage': this.config['leader.imbalance.per.broker.percentage'],
        'leader.imbalance.check.interval.ms': this.config['leader.imbalance.check.interval.seconds'] * 1000,
      },
      registry: this.registry,
      logger: this.logger.child({ component: 'controller' }),
    });
    await this.controller.start();
  }

  /** Our session expired (e.g. a long pause): start over with a new session, re-register, campaign again. */
  private async onSessionExpired(): Promise<void> {
    if (this.stopping) return;
    this.logger.warn('coordinator session expired; re-registering with a new session');
    this.registered = false;
    try {
      await this.controller?.stop().catch(() => {});
      this.controller = null;
      this.zk = await this.connectCoordinator();
      await this.watchTopicConfigs();
      await this.register();
      await this.startController();
    } catch (err) {
      this.logger.error('could not recover from session expiry', { error: err });
      this.onFatal?.(err);
    }
  }

  private async topicSettings(topic: string, replicationFactor: number): Promise<TopicSettings> {
    let overrides: Record<string, string> = {};
    try {
      overrides = decodeTopicConfig(topic, (await this.zk.get(topicConfigPath(topic))).data);
    } catch (err) {
      if (!(err instanceof CoordinatorError && err.code === 'NO_NODE')) throw err;
    }
    return resolveTopicSettings(this.config, replicationFactor, overrides);
  }

  private async reloadTopicConfig(topic: string): Promise<void> {
    const parts = [...this.replicas.partitions.values()].filter((p) => p.topic === topic);
    if (parts.length === 0) return;
    try {
      const settings = await this.topicSettings(topic, parts[0]!.replica.state().replicas.length || 1);
      for (const p of parts) p.updateSettings(settings);
      this.logger.info('topic config applied', { topic });
    } catch (err) {
      this.logger.warn('topic config reload failed', { topic, error: err });
    }
  }

  /** Every broker follows /config/topics, so a config change reaches its partitions. */
  private async watchTopicConfigs(): Promise<void> {
    await this.zk.ensurePath(ZK.configTopics);
    const prefix = `${ZK.configTopics}/`;
    const h = this.zk.watch(ZK.configTopics, { persistent: true, recursive: true }, (ev) => {
      if (ev.type === 'resync') {
        for (const t of new Set([...this.replicas.partitions.values()].map((p) => p.topic))) void this.reloadTopicConfig(t);
        return;
      }
      if (ev.path.startsWith(prefix)) void this.reloadTopicConfig(ev.path.slice(prefix.length));
    });
    await h.ready;
  }

  /** Asks the controller to move leadership away, a few times (Kafka's controlled shutdown). */
  private async controlledShutdown(): Promise<void> {
    const tries = this.config['controlled.shutdown.max.retries'];
    for (let attempt = 1; attempt <= tries; attempt++) {
      if (this.replicas.ledPartitions().length === 0) return;
      try {
        let remaining: unknown[];
        if (this.controller?.isActive) {
          remaining = await this.controller.controlledShutdown(this.brokerId);
        } else {
          const controllerId = this.controller?.activeControllerId ?? this.metadata.controllerId;
          const b = this.metadata.broker(controllerId);
          if (!b) throw new Error('no controller known');
          const rpc = new BrokerInternalRpc(`${b.host}:${b.port}`);
          try {
            const res = await rpc.controlledShutdown({ brokerId: this.brokerId }, 15_000);
            if (res.error && res.error.code) throw new Error(`${res.error.name}: ${res.error.message}`);
            remaining = res.remainingPartitions;
          } finally {
            rpc.close();
          }
        }
        this.logger.info('controlled shutdown', { attempt, remaining: remaining.length });
        if (remaining.length === 0) {
          // Wait (bounded) for the LeaderAndIsr that makes this broker a follower everywhere.
          const deadline = Date.now() + 5_000;
          while (this.replicas.ledPartitions().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
          return;
        }
      } catch (err) {
        this.logger.warn('controlled shutdown attempt failed', { attempt, error: err });
      }
      await new Promise((r) => setTimeout(r, Math.min(this.config['controlled.shutdown.retry.backoff.ms'], 1_000)));
    }
  }

  stop(controlled = true): Promise<void> {
    this.stopping ??= (async () => {
      if (this.healthTimer) clearInterval(this.healthTimer);
      this.health.set('', 'NOT_SERVING');
      if (controlled && this.config['controlled.shutdown.enable'] && this.replicas && this.registered) {
        await this.controlledShutdown().catch((err) => this.logger.warn('controlled shutdown failed', { error: err }));
      }
      await this.fetchers?.shutdown();
      await this.cleaner?.stop();
      this.groups?.stop();
      this.lagSampler?.close();
      await this.replicas?.shutdown();
      await this.controller?.stop().catch(() => {});
      this.channel.close();
      await this.zk?.close().catch(() => {});
      this.endStreams();
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          this.grpcServer.forceShutdown();
          resolve();
        }, 2_000);
        this.grpcServer.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      this.health.close();
      if (this.logs && this.replicas) this.logs.close(this.replicas.highWatermarks());
      await this.http?.close();
      this.logger.info('broker stopped', { id: this.brokerId });
    })();
    return this.stopping;
  }
}
