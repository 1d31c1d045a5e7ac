// The gRPC surfaces of a broker: the public Broker service and the broker-to-broker
// BrokerInternal service. Handlers only translate shapes and errors and call the replica
// manager, the controller, the metadata cache or the coordinator; a handler never throws at
// gRPC (a bug answers INTERNAL and is logged), and the number of requests in progress is bounded.

import * as grpc from '@grpc/grpc-js';
import {
  KafkaError, kafkaErrorToWire, type AlterConfigsRequest, type AlterConfigsResponse, type ControlledShutdownRequest,
  type CreatePartitionsRequest, type CreateTopicsRequest, type DeleteTopicsRequest, type DescribeConfigsRequest,
  type DescribeConfigsResponse, type DescribedConfig, type FetchRequest, type InitProducerIdRequest, type LeaderAndIsrRequest,
  type ListOffsetsRequest, type MetadataRequest, type MetadataResponse, type OffsetForLeaderEpochRequest, type ProduceRequest,
  type StopReplicaRequest, type UpdateMetadataRequest,
} from '@samsa/client';
import { CoordinatorError, type CoordinatorClient, type Logger } from '@samsa/coordinator';
import type { Controller } from '../controller/controller.js';
import { decodeTopicConfig, encodeTopicConfig, topicConfigPath } from '../controller/znodes.js';
import { validateTopicConfig } from '../controller/topic-config.js';
import type { BrokerConfig } from './broker-config.js';
import type { BrokerMetrics } from './broker-metrics.js';
import type { MetadataCache } from './metadata-cache.js';
import type { ProducerIdManager } from './producer-id-manager.js';
import type { ReplicaManager } from './replica-manager.js';
import { RequestStreams } from './request-streams.js';
import type { GroupManager } from '../group/group-manager.js';
import type { OffsetsTopicCreator } from './group-coordinator-wiring.js';
import { groupHandlers } from './group-handlers.js';
import { topicDefaults } from './topic-config.js';

export interface BrokerServiceContext {
  brokerId: number;
  config: BrokerConfig;
  clusterId: () => string;
  metadata: MetadataCache;
  replicas: ReplicaManager;
  controller: () => Controller | null;
  zk: () => CoordinatorClient;
  producerIds: ProducerIdManager;
  logger: Logger;
  metrics?: BrokerMetrics;
  /** Called after AlterConfigs changed a topic's config here, so local partitions pick it up now. */
  onTopicConfigChanged?: (topic: string) => void;
  /** The group coordinator (consumer groups); without it the group RPCs answer COORDINATOR_NOT_AVAILABLE. */
  groups?: GroupManager | null;
  offsetsTopic?: OffsetsTopicCreator | null;
}

const notController = (): ReturnType<typeof kafkaErrorToWire> =>
  kafkaErrorToWire(new KafkaError('NOT_CONTROLLER', 'This broker is not the active controller.'));

function wireError(e: unknown): ReturnType<typeof kafkaErrorToWire> {
  if (e instanceof CoordinatorError) {
    const retriable = e.code === 'TIMEOUT' || e.code === 'UNAVAILABLE' || e.code === 'NOT_LEADER';
    return kafkaErrorToWire(new KafkaError(retriable ? 'REQUEST_TIMED_OUT' : 'UNKNOWN_SERVER_ERROR', `coordinator: ${e.message}`));
  }
  return kafkaErrorToWire(e);
}

/** Counts the errors a response carries, for samsa_broker_request_errors_total. */
function countErrors(api: string, response: unknown, metrics: BrokerMetrics | undefined): void {
  if (!metrics) return;
  const visit = (v: unknown, depth: number): void => {
    if (depth > 4 || v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) {
      for (const x of v) visit(x, depth + 1);
      return;
    }
    const o = v as Record<string, unknown>;
    const e = o.error as { code?: number; name?: string } | null | undefined;
    if (e && e.code) metrics.requestErrors.inc({ api, error: e.name ?? String(e.code) });
    for (const [k, x] of Object.entries(o)) if (k !== 'error' && k !== 'records' && typeof x === 'object') visit(x, depth + 1);
  };
  visit(response, 0);
}

export interface BrokerServiceHandlers {
  broker: grpc.UntypedServiceImplementation;
  internal: grpc.UntypedServiceImplementation;
  /** Shutdown: request streams take no more requests and end once theirs are answered. */
  endStreams(): void;
}

export function brokerServiceHandlers(ctx: BrokerServiceContext): BrokerServiceHandlers {
  const { metadata, replicas, logger, metrics } = ctx;
  let inFlight = 0;
  const maxInFlight = ctx.config['queued.max.requests'];
  const streams = new RequestStreams({ logger, metrics, onResponse: (api, res) => countErrors(api, res, metrics) });

  function unary<Req, Res>(api: string, fn: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res> | Res): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      if (inFlight + streams.inProgress >= maxInFlight) {
        callback({ code: grpc.status.UNAVAILABLE, details: `broker ${ctx.brokerId} has ${inFlight} requests in progress (queued.max.requests)` });
        return;
      }
      inFlight++;
      metrics?.requests.inc({ api });
      const started = performance.now();
      Promise.resolve()
        .then(() => fn(call.request, call))
        .then(
          (res) => {
            countErrors(api, res, metrics);
            callback(null, res);
          },
          (e: unknown) => {
            logger.error('request failed', { api, error: e, stack: (e as Error)?.stack });
            metrics?.requestErrors.inc({ api, error: 'INTERNAL' });
            callback({ code: grpc.status.INTERNAL, details: e instanceof Error ? e.message : String(e) });
          },
        )
        .finally(() => {
          inFlight--;
          metrics?.requestDuration.observe({ api }, (performance.now() - started) / 1000);
        });
    };
  }

  const metadataResponse = (req: MetadataRequest): MetadataResponse => {
    const names = req.topics.length > 0 ? req.topics : req.allTopics ? undefined : [];
    return {
      brokers: metadata.liveBrokers().map((b) => ({ id: b.id, host: b.host, port: b.port, rack: b.rack })),
      controllerId: ctx.controller()?.activeControllerId ?? metadata.controllerId,
      clusterId: ctx.clusterId(),
      topics: metadata.topicMetadata(names),
    };
  };

  /** After the controller created topics, wait (bounded) until this broker's metadata shows them led. */
  const awaitTopics = async (names: string[], timeoutMs: number): Promise<void> => {
    const deadline = Date.now() + Math.min(Math.max(timeoutMs, 0), 30_000);
    while (Date.now() < deadline) {
      const ready = names.every((n) => {
        const parts = metadata.topicMetadata([n])[0]!;
        return !parts.error && parts.partitions.length > 0 && parts.partitions.every((p) => p.leader >= 0);
      });
      if (ready) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  const readTopicConfig = async (topic: string): Promise<{ config: Record<string, string>; version: number }> => {
    try {
      const { data, stat } = await ctx.zk().get(topicConfigPath(topic));
      return { config: decodeTopicConfig(topic, data), version: stat.version };
    } catch (e) {
      if (e instanceof CoordinatorError && e.code === 'NO_NODE') return { config: {}, version: -1 };
      throw e;
    }
  };

  const broker: grpc.UntypedServiceImplementation = {
    Metadata: unary('Metadata', (req: MetadataRequest) => metadataResponse(req)),

    Produce: unary('Produce', (req: ProduceRequest) => replicas.produce(req)),

    Fetch: unary('Fetch', (req: FetchRequest) => replicas.fetch(req)),

    ProduceStream: streams.handler('Produce', (req: ProduceRequest) => replicas.produce(req)),

    FetchStream: streams.handler('Fetch', (req: FetchRequest) => replicas.fetch(req)),

    ListOffsets: unary('ListOffsets', (req: ListOffsetsRequest) => replicas.listOffsets(req)),

    CreateTopics: unary('CreateTopics', async (req: CreateTopicsRequest) => {
      const controller = ctx.controller();
      if (!controller?.isActive) {
        return { topics: req.topics.map((t) => ({ name: t.name, error: notController(), numPartitions: -1, replicationFactor: -1 })) };
      }
      const outcomes = await controller.createTopics(
        req.topics.map((t) => ({
          name: t.name,
          numPartitions: t.numPartitions > 0 ? t.numPartitions : undefined,
          replicationFactor: t.replicationFactor > 0 ? t.replicationFactor : undefined,
          assignments: t.assignments.length > 0 ? t.assignments : undefined,
          configs: t.configs,
        })),
        { validateOnly: req.validateOnly },
      );
      if (!req.validateOnly) await awaitTopics(outcomes.filter((o) => !o.error).map((o) => o.name), req.timeoutMs || 30_000);
      return {
        topics: outcomes.map((o) => ({
          name: o.name, error: o.error ? kafkaErrorToWire(o.error) : null, numPartitions: o.numPartitions, replicationFactor: o.replicationFactor,
        })),
      };
    }),

    DeleteTopics: unary('DeleteTopics', async (req: DeleteTopicsRequest) => {
      const controller = ctx.controller();
      if (!controller?.isActive) return { results: req.names.map((name) => ({ name, error: notController() })) };
      const outcomes = await controller.deleteTopics(req.names, { timeoutMs: req.timeoutMs || 30_000 });
      return { results: outcomes.map((o) => ({ name: o.name, error: o.error ? kafkaErrorToWire(o.error) : null })) };
    }),

    CreatePartitions: unary('CreatePartitions', async (req: CreatePartitionsRequest) => {
      const controller = ctx.controller();
      if (!controller?.isActive) return { results: req.topics.map((t) => ({ name: t.name, error: notController() })) };
      const outcomes = await controller.createPartitions(req.topics, { validateOnly: req.validateOnly });
      return { results: outcomes.map((o) => ({ name: o.name, error: o.error ? kafkaErrorToWire(o.error) : null })) };
    }),

    DescribeConfigs: unary('DescribeConfigs', async (req: DescribeConfigsRequest): Promise<DescribeConfigsResponse> => {
      const results = await Promise.all(
        req.resources.map(async (r) => {
          const base = { type: r.type, name: r.name };
          try {
            let configs: DescribedConfig[];
            if (r.type === 'TOPIC') {
              if (!metadata.hasTopic(r.name)) throw new KafkaError('UNKNOWN_TOPIC_OR_PARTITION', `unknown topic ${r.name}`);
              const { config } = await readTopicConfig(r.name);
              const defaults = topicDefaults(ctx.config, metadata.partition(r.name, 0)?.replicas.length ?? 1);
              configs = Object.entries({ ...defaults, ...config }).map(([name, value]) => ({
                name, value, readOnly: false, isDefault: !(name in config), source: name in config ? 'DYNAMIC_TOPIC_CONFIG' : 'DEFAULT_CONFIG', sensitive: false,
              }));
            } else if (r.type === 'BROKER') {
              if (r.name !== '' && r.name !== String(ctx.brokerId)) throw new KafkaError('INVALID_REQUEST', `this is broker ${ctx.brokerId}, not ${r.name}`);
              configs = Object.entries(ctx.config).map(([name, value]) => ({
                name, value: value === null ? '' : String(value), readOnly: true, isDefault: false, source: 'STATIC_BROKER_CONFIG', sensitive: false,
              }));
            } else {
              throw new KafkaError('INVALID_REQUEST', `unsupported resource type ${r.type}`);
            }
            if (r.keys.length > 0) configs = configs.filter((c) => r.keys.includes(c.name));
            return { ...base, error: null, configs: configs.sort((a, b) => a.name.localeCompare(b.name)) };
          } catch (e) {
            return { ...base, error: wireError(e), configs: [] };
          }
        }),
      );
      return { results };
    }),

    AlterConfigs: unary('AlterConfigs', async (req: AlterConfigsRequest): Promise<AlterConfigsResponse> => {
      const results = await Promise.all(
        req.resources.map(async (r) => {
          const base = { type: r.type, name: r.name };
          try {
            if (r.type !== 'TOPIC') throw new KafkaError('INVALID_REQUEST', 'only topic configs can be altered at run time');
            if (!metadata.hasTopic(r.name)) throw new KafkaError('UNKNOWN_TOPIC_OR_PARTITION', `unknown topic ${r.name}`);
            // Kafka's incremental alter: read, apply SET/DELETE, validate, compare-and-set.
            for (let attempt = 0; attempt < 5; attempt++) {
              const { config, version } = await readTopicConfig(r.name);
              const next = { ...config };
              for (const c of r.configs) {
                if (c.op === 'DELETE') delete next[c.name];
                else next[c.name] = c.value;
              }
              validateTopicConfig(next);
              if (req.validateOnly) return { ...base, error: null };
              try {
                if (version < 0) await ctx.zk().create(topicConfigPath(r.name), encodeTopicConfig(next));
                else await ctx.zk().set(topicConfigPath(r.name), encodeTopicConfig(next), version);
              } catch (e) {
                if (e instanceof CoordinatorError && (e.code === 'BAD_VERSION' || e.code === 'NODE_EXISTS')) continue;
                throw e;
              }
              ctx.onTopicConfigChanged?.(r.name);
              return { ...base, error: null };
            }
            throw new KafkaError('REQUEST_TIMED_OUT', `config of ${r.name} kept changing; try again`);
          } catch (e) {
            return { ...base, error: wireError(e) };
          }
        }),
      );
      return { results };
    }),

    ...groupHandlers({ groups: ctx.groups ?? null, offsetsTopic: ctx.offsetsTopic ?? null, metadata }, unary),

    InitProducerId: unary('InitProducerId', async (req: InitProducerIdRequest) => {
      if (req.transactionalId) {
        return { error: kafkaErrorToWire(new KafkaError('INVALID_REQUEST', 'transactions are not supported; use an idempotent producer')), producerId: -1, producerEpoch: -1 };
      }
      try {
        return { error: null, producerId: await ctx.producerIds.nextProducerId(), producerEpoch: 0 };
      } catch (e) {
        return { error: wireError(e), producerId: -1, producerEpoch: -1 };
      }
    }),
  };

  const internal: grpc.UntypedServiceImplementation = {
    OffsetForLeaderEpoch: unary('OffsetForLeaderEpoch', (req: OffsetForLeaderEpochRequest) => replicas.offsetForLeaderEpoch(req)),

    LeaderAndIsr: unary('LeaderAndIsr', async (req: LeaderAndIsrRequest) => {
      try {
        return await replicas.leaderAndIsr(req);
      } catch (e) {
        return { error: wireError(e), partitionErrors: [] };
      }
    }),

    UpdateMetadata: unary('UpdateMetadata', (req: UpdateMetadataRequest) => {
      try {
        metadata.fence(req.controllerId, req.controllerEpoch);
        if (req.liveBrokers.length > 0) metadata.setLiveBrokers(req.liveBrokers);
        metadata.updatePartitions(req.partitionStates);
        metadata.deleteTopics(req.deletedTopics);
        ctx.groups?.onTopicsDeleted(req.deletedTopics);
        return { error: null };
      } catch (e) {
        return { error: wireError(e) };
      }
    }),

    StopReplica: unary('StopReplica', (req: StopReplicaRequest) => {
      try {
        return replicas.stopReplica(req);
      } catch (e) {
        return { error: wireError(e), partitionErrors: [] };
      }
    }),

    ControlledShutdown: unary('ControlledShutdown', async (req: ControlledShutdownRequest) => {
      const controller = ctx.controller();
      if (!controller?.isActive) return { error: notController(), remainingPartitions: [] };
      try {
        const remaining = await controller.controlledShutdown(req.brokerId);
        return { error: null, remainingPartitions: remaining };
      } catch (e) {
        return { error: wireError(e), remainingPartitions: [] };
      }
    }),
  };

  return { broker, internal, endStreams: () => streams.endAll() };
}
