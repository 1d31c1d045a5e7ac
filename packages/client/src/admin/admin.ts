// The Admin client (Kafka's AdminClient): topics, partitions, configs and offsets. Topic
// creation, deletion and partition additions go to the controller named in metadata and are
// retried there on NOT_CONTROLLER after a metadata refresh; other calls go to the least loaded
// broker (broker configs to that broker, offsets to partition leaders). Each call is bounded by
// its timeout (default.api.timeout.ms) through the retry policy; a call succeeds as a whole or
// rejects with the first item's KafkaError, its message naming the topic or resource.
//
// Lifecycle: no connection until the first call; close() closes every connection.

import { ClientError, invalidArgument } from '../client-error.js';
import { resolveDeps, type ClientDeps, type ResolvedDeps } from '../client-deps.js';
import { ConnectionPool } from '../cluster/connection-pool.js';
import { MetadataManager } from '../cluster/metadata-manager.js';
import { INT_MAX } from '../config/config-def.js';
import { resolveAdminConfig, type AdminConfig, type AdminSettings } from '../config/admin-config.js';
import type { BrokerApi } from '../protocol/broker-rpc.js';
import { KafkaError, kafkaErrorFromWire } from '../protocol/errors.js';
import { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, type ResourceType, type WireError } from '../protocol/wire-types.js';
import { RetryPolicy, retryUntil } from '../retry/retry-policy.js';
import { tpString, validatePartition, validateTopicName, type TopicPartition } from '../topic-partition.js';
import { GroupAdmin } from './group-admin.js';
import type {
  DeletedGroup, GroupDescription, GroupLagStatus, GroupListing, GroupOffset, GroupOffsetChange, GroupPartitionLag, ListGroupsOptions,
  ResetOffsetsSpec,
} from './admin-types.js';
import type {
  AdminCallOptions, AlterConfigsSpec, ClusterDescription, ConfigResourceSpec, ConfigResourceType, CreatedTopic, ListOffsetsSpec,
  ListedOffset, NewTopic, ResourceConfigs, TopicDescription, ValidateOnlyOptions,
} from './admin-types.js';

/** Items one admin call may carry at most. */
export const MAX_ADMIN_BATCH = 10_000;

const WIRE_TYPE: Record<ConfigResourceType, ResourceType> = { topic: 'TOPIC', broker: 'BROKER' };

/** One item's outcome in a response: an error, or a result. */
type ItemOutcome<R> = { error: KafkaError } | { result: R };

/** Which item errors an admin call retries. */
type RetryOn = (err: KafkaError) => boolean;

/** Controller operations retry only when they reached a broker that is not (or no longer) the controller. */
const onNotController: RetryOn = (e) => e.type === 'NOT_CONTROLLER';

/**
 * Reads retry what Kafka calls retriable, except an unknown topic: as in Kafka's AdminClient the
 * caller hears of it at once rather than after the whole timeout.
 */
const retriableUnlessUnknown: RetryOn = (e) => e.retriable && e.type !== 'UNKNOWN_TOPIC_OR_PARTITION';

function checkBatch(items: readonly unknown[], what: string): void {
  if (!Array.isArray(items)) throw invalidArgument(`${what} takes an array`);
  if (items.length > MAX_ADMIN_BATCH) throw invalidArgument(`${what}: at most ${MAX_ADMIN_BATCH} items per call`);
}

function checkUnique(keys: string[], what: string): void {
  const seen = new Set<string>();
  for (const k of keys) {
    if (seen.has(k)) throw invalidArgument(`${what}: ${k} appears twice`);
    seen.add(k);
  }
}

function named(err: KafkaError, what: string): KafkaError {
  return new KafkaError(err.type, `${what}: ${err.message}`, { leaderId: err.leaderId, leaderEpoch: err.leaderEpoch, cause: err });
}

function optionalInt(v: unknown, what: string, min: number, max: number): number {
  if (v === undefined) return -1;
  if (typeof v !== 'number' || !Number.isInteger(v) || (v !== -1 && (v < min || v > max))) {
    throw invalidArgument(`${what} must be -1 (broker default) or an integer in [${min}, ${max}], got ${String(v)}`);
  }
  return v;
}

export class Admin {
  readonly settings: AdminSettings;
  private readonly deps: ResolvedDeps;
  private readonly pool: ConnectionPool;
  private readonly metadata: MetadataManager;
  private readonly policy: RetryPolicy;
  private readonly groups: GroupAdmin;
  private closed = false;

  constructor(config: AdminConfig, deps: ClientDeps = {}) {
    this.settings = resolveAdminConfig(config);
    this.deps = resolveDeps(deps);
    const s = this.settings;
    this.policy = new RetryPolicy({ retries: s.retries, backoffMs: s.retryBackoffMs, backoffMaxMs: s.retryBackoffMaxMs }, this.deps.random);
    this.pool = new ConnectionPool(this.deps.connector);
    this.metadata = new MetadataManager({
      bootstrapServers: s.bootstrapServers,
      pool: this.pool,
      clock: this.deps.clock,
      policy: this.policy,
      requestTimeoutMs: s.requestTimeoutMs,
      maxAgeMs: s.metadataMaxAgeMs,
      random: this.deps.random,
      logger: this.deps.logger,
    });
    this.groups = new GroupAdmin({
      pool: this.pool,
      metadata: this.metadata,
      policy: this.policy,
      clock: this.deps.clock,
      requestTimeoutMs: s.requestTimeoutMs,
      listOffsets: (specs, options) => this.listOffsets(specs, options),
      deadline: (options) => this.deadline(options),
    });
  }

  private deadline(options: AdminCallOptions | undefined): number {
    const t = options?.timeoutMs ?? this.settings.defaultApiTimeoutMs;
    if (typeof t !== 'number' || Number.isNaN(t) || t < 0) throw invalidArgument(`timeoutMs must be a non-negative number, got ${String(t)}`);
    return this.deps.clock.now() + t;
  }

  private ensureOpen(): void {
    if (this.closed) throw new ClientError('CLOSED', 'the admin client is closed');
  }

  private rpc<T>(address: string, fn: (api: BrokerApi, timeoutMs: number, signal: AbortSignal) => Promise<T>): Promise<T> {
    return this.pool.call(address, (api) => fn(api, this.settings.requestTimeoutMs, this.metadata.signal));
  }

  /** Time the broker may take for the operation itself (CreateTopics timeout_ms): what is left, within request.timeout.ms. */
  private operationTimeout(deadlineMs: number): number {
    return Math.max(0, Math.min(this.settings.requestTimeoutMs, deadlineMs - this.deps.clock.now()));
  }

  private async freshMetadata(): Promise<void> {
    if (this.metadata.cache.updateRequested || this.metadata.timeToNextUpdate() === 0) await this.metadata.refresh();
  }

  private async controllerAddress(): Promise<string> {
    await this.freshMetadata();
    const cache = this.metadata.cache;
    const node = cache.controllerId >= 0 ? cache.broker(cache.controllerId) : undefined;
    if (!node) {
      cache.requestUpdate();
      throw new KafkaError('NOT_CONTROLLER', 'no controller is known yet');
    }
    return node.address;
  }

  /**
   * Runs `attempt` for the items still pending until each has a result: items whose error
   * `retryOn` accepts go again after a backoff (and a metadata refresh); any other error ends the
   * call. Failures of the whole request are retried by the retry policy's rules.
   */
  private async perItem<I, R>(
    what: string,
    items: I[],
    key: (item: I) => string,
    describe: (item: I) => string,
    deadlineMs: number,
    retryOn: RetryOn,
    attempt: (pending: I[]) => Promise<Map<string, ItemOutcome<R>>>,
  ): Promise<Map<string, R>> {
    const results = new Map<string, R>();
    let pending = items;
    // An item error that retryOn refuses ends the call as it is: thrown inside the attempt, the
    // retry policy would retry it again whenever Kafka calls it retriable (UNKNOWN_TOPIC_OR_PARTITION).
    let terminal: KafkaError | undefined;
    await retryUntil(
      {
        clock: this.deps.clock,
        policy: this.policy,
        deadlineMs,
        what,
        signal: this.metadata.signal,
        refreshMetadata: async () => {
          this.metadata.requestUpdate();
          await this.metadata.refresh();
        },
      },
      async () => {
        const outcomes = await attempt(pending);
        const again: I[] = [];
        let retryError: KafkaError | undefined;
        for (const item of pending) {
          const o = outcomes.get(key(item));
          if (!o) throw new ClientError('INVALID_RESPONSE', `${what}: the response left out ${describe(item)}`);
          if ('result' in o) {
            results.set(key(item), o.result);
            continue;
          }
          if (!retryOn(o.error)) {
            terminal = named(o.error, describe(item));
            return;
          }
          again.push(item);
          retryError = named(o.error, describe(item));
        }
        pending = again;
        if (retryError) throw retryError;
      },
    );
    if (terminal) throw terminal;
    return results;
  }

  // ---- topics ----

  /** Creates topics on the controller; resolves with what was created (or validated). */
  async createTopics(topics: NewTopic[], options: ValidateOnlyOptions = {}): Promise<CreatedTopic[]> {
    this.ensureOpen();
    checkBatch(topics, 'createTopics');
    const wire = topics.map((t) => {
      if (typeof t !== 'object' || t === null) throw invalidArgument('createTopics takes {name, numPartitions?, replicationFactor?, configs?} objects');
      validateTopicName(t.name);
      const numPartitions = optionalInt(t.numPartitions, `topic ${t.name}: numPartitions`, 1, INT_MAX);
      const replicationFactor = optionalInt(t.replicationFactor, `topic ${t.name}: replicationFactor`, 1, 0x7fff);
      const assignments = Object.entries(t.replicaAssignment ?? {}).map(([p, replicas]) => {
        const partition = Number(p);
        validatePartition(partition, `topic ${t.name}: replica assignment partition`);
        if (!Array.isArray(replicas) || replicas.length === 0 || !replicas.every((r) => Number.isInteger(r) && r >= 0)) {
          throw invalidArgument(`topic ${t.name}: replicas of partition ${p} must be a non-empty list of broker ids`);
        }
        return { partition, replicas };
      });
      if (assignments.length > 0 && (numPartitions !== -1 || replicationFactor !== -1)) {
        throw invalidArgument(`topic ${t.name}: give either replicaAssignment or numPartitions/replicationFactor, not both`);
      }
      const configs = Object.entries(t.configs ?? {}).map(([name, value]) => {
        if (!['string', 'number', 'boolean'].includes(typeof value)) throw invalidArgument(`topic ${t.name}: config ${name} must be a string, number or boolean`);
        return { name, value: String(value) };
      });
      return { name: t.name, numPartitions, replicationFactor, assignments, configs };
    });
    checkUnique(wire.map((t) => t.name), 'createTopics');
    const deadlineMs = this.deadline(options);
    const byName = new Map(wire.map((t) => [t.name, t]));
    const results = await this.perItem<string, CreatedTopic>(
      'createTopics',
      [...byName.keys()],
      (n) => n,
      (n) => `Topic '${n}'`,
      deadlineMs,
      onNotController,
      async (pending) => {
        const address = await this.controllerAddress();
        const res = await this.rpc(address, (api, timeoutMs, signal) =>
          api.createTopics(
            { topics: pending.map((n) => byName.get(n)!), timeoutMs: this.operationTimeout(deadlineMs), validateOnly: options.validateOnly === true },
            { timeoutMs, signal },
          ),
        );
        return this.outcomes(res.topics, (t) => t.name, (t) => ({ name: t.name, numPartitions: t.numPartitions, replicationFactor: t.replicationFactor }));
      },
    );
    return wire.map((t) => results.get(t.name)!);
  }

  /** Deletes topics through the controller. */
  async deleteTopics(names: string[], options: AdminCallOptions = {}): Promise<void> {
    this.ensureOpen();
    checkBatch(names, 'deleteTopics');
    for (const n of names) validateTopicName(n);
    checkUnique(names, 'deleteTopics');
    const deadlineMs = this.deadline(options);
    await this.perItem<string, true>('deleteTopics', names, (n) => n, (n) => `Topic '${n}'`, deadlineMs, onNotController, async (pending) => {
      const address = await this.controllerAddress();
      const res = await this.rpc(address, (api, timeoutMs, signal) =>
        api.deleteTopics({ names: pending, timeoutMs: this.operationTimeout(deadlineMs) }, { timeoutMs, signal }),
      );
      return this.outcomes(res.results, (r) => r.name, () => true as const);
    });
  }

  /** Raises topics' partition counts to the given totals, through the controller. */
  async createPartitions(newTotals: Record<string, number>, options: ValidateOnlyOptions = {}): Promise<void> {
    this.ensureOpen();
    if (typeof newTotals !== 'object' || newTotals === null) throw invalidArgument('createPartitions takes {topic: newTotalCount}');
    const entries = Object.entries(newTotals);
    checkBatch(entries, 'createPartitions');
    for (const [name, count] of entries) {
      validateTopicName(name);
      if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > INT_MAX) {
        throw invalidArgument(`topic ${name}: the new partition count must be a positive integer, got ${String(count)}`);
      }
    }
    const deadlineMs = this.deadline(options);
    await this.perItem<string, true>('createPartitions', entries.map(([n]) => n), (n) => n, (n) => `Topic '${n}'`, deadlineMs, onNotController, async (pending) => {
      const address = await this.controllerAddress();
      const res = await this.rpc(address, (api, timeoutMs, signal) =>
        api.createPartitions(
          { topics: pending.map((name) => ({ name, count: newTotals[name]! })), timeoutMs: this.operationTimeout(deadlineMs), validateOnly: options.validateOnly === true },
          { timeoutMs, signal },
        ),
      );
      return this.outcomes(res.results, (r) => r.name, () => true as const);
    });
  }

  /** Topic names, sorted; internal topics only with listInternal. */
  async listTopics(options: AdminCallOptions & { listInternal?: boolean } = {}): Promise<string[]> {
    this.ensureOpen();
    const deadlineMs = this.deadline(options);
    const res = await this.retrying('listTopics', deadlineMs, () => this.metadata.request({ all: true }));
    this.metadata.cache.retainTopics(new Set());
    return res.topics
      .filter((t) => !kafkaErrorFromWire(t.error) && (options.listInternal || !t.isInternal))
      .map((t) => t.name)
      .sort();
  }

  /** Partitions with leader, replicas, ISR, offline replicas and under-replication, per topic. */
  async describeTopics(names: string[], options: AdminCallOptions = {}): Promise<TopicDescription[]> {
    this.ensureOpen();
    checkBatch(names, 'describeTopics');
    for (const n of names) validateTopicName(n);
    const deadlineMs = this.deadline(options);
    const res = await this.retrying('describeTopics', deadlineMs, () => this.metadata.request({ all: false, topics: names }));
    this.metadata.cache.retainTopics(new Set());
    const byName = new Map(res.topics.map((t) => [t.name, t]));
    return names.map((name) => {
      const t = byName.get(name);
      const err = t ? kafkaErrorFromWire(t.error) : new KafkaError('UNKNOWN_TOPIC_OR_PARTITION');
      if (err || !t) throw named(err ?? new KafkaError('UNKNOWN_TOPIC_OR_PARTITION'), `Topic '${name}'`);
      return {
        name,
        internal: t.isInternal,
        partitions: [...t.partitions]
          .sort((a, b) => a.partition - b.partition)
          .map((p) => ({
            partition: p.partition,
            leader: p.leader,
            leaderEpoch: p.leaderEpoch,
            replicas: [...p.replicas],
            isr: [...p.isr],
            offlineReplicas: [...p.offlineReplicas],
            underReplicated: p.isr.length < p.replicas.length,
          })),
      };
    });
  }

  /** Brokers, controller and cluster id. */
  async describeCluster(options: AdminCallOptions = {}): Promise<ClusterDescription> {
    this.ensureOpen();
    const deadlineMs = this.deadline(options);
    await this.retrying('describeCluster', deadlineMs, () => this.metadata.request({ all: false, topics: [] }));
    const c = this.metadata.cache;
    return {
      clusterId: c.clusterId,
      controllerId: c.controllerId,
      brokers: c.brokers.map((b) => ({ id: b.id, host: b.host, port: b.port, rack: b.rack === '' ? null : b.rack })).sort((a, b) => a.id - b.id),
    };
  }

  // ---- configs ----

  private resourceAddress(type: ConfigResourceType, name: string): string {
    if (type === 'topic') return this.metadata.leastLoadedNode();
    const node = this.metadata.cache.broker(Number(name));
    if (!node) {
      this.metadata.requestUpdate();
      throw new KafkaError('BROKER_NOT_AVAILABLE', `broker ${name} is not in the cluster metadata`);
    }
    return node.address;
  }

  private checkResource(type: unknown, name: unknown): asserts type is ConfigResourceType {
    if (type !== 'topic' && type !== 'broker') throw invalidArgument(`config resource type must be 'topic' or 'broker', got ${String(type)}`);
    if (type === 'topic') validateTopicName(name);
    else if (typeof name !== 'string' || !/^\d{1,10}$/.test(name)) throw invalidArgument(`a broker config resource is named by the broker id, got ${String(name)}`);
  }

  /** Effective configs of topics or brokers (with each entry's source). */
  async describeConfigs(resources: ConfigResourceSpec[], options: AdminCallOptions = {}): Promise<ResourceConfigs[]> {
    this.ensureOpen();
    checkBatch(resources, 'describeConfigs');
    for (const r of resources) {
      this.checkResource(r?.type, r?.name);
      if (r.keys !== undefined && (!Array.isArray(r.keys) || !r.keys.every((k) => typeof k === 'string'))) throw invalidArgument('config keys must be strings');
    }
    const key = (r: { type: ConfigResourceType; name: string }) => `${r.type}:${r.name}`;
    checkUnique(resources.map(key), 'describeConfigs');
    const deadlineMs = this.deadline(options);
    const results = await this.perItem<ConfigResourceSpec, ResourceConfigs>(
      'describeConfigs', resources, key, (r) => `${r.type} '${r.name}'`, deadlineMs, retriableUnlessUnknown,
      async (pending) => {
        await this.freshMetadata();
        const out = new Map<string, ItemOutcome<ResourceConfigs>>();
        for (const [address, group] of this.groupBy(pending, (r) => this.resourceAddress(r.type, r.name))) {
          const res = await this.rpc(address, (api, timeoutMs, signal) =>
            api.describeConfigs({ resources: group.map((r) => ({ type: WIRE_TYPE[r.type], name: r.name, keys: r.keys ?? [] })) }, { timeoutMs, signal }),
          );
          for (const r of res.results ?? []) {
            const type: ConfigResourceType = r.type === 'BROKER' ? 'broker' : 'topic';
            const err = kafkaErrorFromWire(r.error);
            out.set(`${type}:${r.name}`, err ? { error: err } : {
              result: { type, name: r.name, configs: (r.configs ?? []).map((c) => ({ name: c.name, value: c.value, readOnly: c.readOnly, isDefault: c.isDefault, source: c.source, sensitive: c.sensitive })) },
            });
          }
        }
        return out;
      },
    );
    return resources.map((r) => results.get(key(r))!);
  }

  /** Incremental config changes (Kafka's incrementalAlterConfigs): SET or DELETE per key. */
  async alterConfigs(changes: AlterConfigsSpec[], options: ValidateOnlyOptions = {}): Promise<void> {
    this.ensureOpen();
    checkBatch(changes, 'alterConfigs');
    for (const c of changes) {
      this.checkResource(c?.type, c?.name);
      if (!Array.isArray(c.ops) || c.ops.length === 0) throw invalidArgument(`${c.type} '${c.name}': give at least one config op`);
      for (const op of c.ops) {
        if (typeof op?.name !== 'string' || op.name === '') throw invalidArgument(`${c.type} '${c.name}': a config op needs a name`);
        if (op.op === 'SET') {
          if (typeof op.value !== 'string') throw invalidArgument(`${c.type} '${c.name}': SET ${op.name} needs a string value`);
        } else if (op.op !== 'DELETE') {
          throw invalidArgument(`${c.type} '${c.name}': op must be SET or DELETE, got ${String((op as { op: unknown }).op)}`);
        }
      }
      checkUnique(c.ops.map((o) => o.name), `${c.type} '${c.name}'`);
    }
    const key = (r: { type: ConfigResourceType; name: string }) => `${r.type}:${r.name}`;
    checkUnique(changes.map(key), 'alterConfigs');
    const deadlineMs = this.deadline(options);
    await this.perItem<AlterConfigsSpec, true>('alterConfigs', changes, key, (r) => `${r.type} '${r.name}'`, deadlineMs, onNotController, async (pending) => {
      await this.freshMetadata();
      const out = new Map<string, ItemOutcome<true>>();
      for (const [address, group] of this.groupBy(pending, (r) => this.resourceAddress(r.type, r.name))) {
        const res = await this.rpc(address, (api, timeoutMs, signal) =>
          api.alterConfigs(
            {
              resources: group.map((r) => ({
                type: WIRE_TYPE[r.type],
                name: r.name,
                configs: r.ops.map((o) => ({ name: o.name, value: o.op === 'SET' ? o.value : '', op: o.op })),
              })),
              validateOnly: options.validateOnly === true,
            },
            { timeoutMs, signal },
          ),
        );
        for (const r of res.results ?? []) {
          const err = kafkaErrorFromWire(r.error);
          out.set(`${r.type === 'BROKER' ? 'broker' : 'topic'}:${r.name}`, err ? { error: err } : { result: true });
        }
      }
      return out;
    });
  }

  // ---- offsets ----

  /** Offsets by spec from each partition's leader: earliest, latest, or by timestamp. */
  async listOffsets(requests: ListOffsetsSpec[], options: AdminCallOptions = {}): Promise<ListedOffset[]> {
    this.ensureOpen();
    checkBatch(requests, 'listOffsets');
    const timestampOf = (r: ListOffsetsSpec): number => {
      if (r.spec === 'earliest') return EARLIEST_TIMESTAMP;
      if (r.spec === 'latest') return LATEST_TIMESTAMP;
      const ts = (r.spec as { timestamp?: unknown })?.timestamp;
      if (typeof ts !== 'number' || !Number.isSafeInteger(ts) || ts < 0) {
        throw invalidArgument(`${tpString(r)}: spec must be 'earliest', 'latest' or {timestamp: ms >= 0}`);
      }
      return ts;
    };
    for (const r of requests) {
      validateTopicName(r?.topic);
      validatePartition(r.partition);
      timestampOf(r);
    }
    const key = (r: TopicPartition) => tpString(r);
    checkUnique(requests.map(key), 'listOffsets');
    const deadlineMs = this.deadline(options);
    const topics = [...new Set(requests.map((r) => r.topic))];
    const results = await this.perItem<ListOffsetsSpec, ListedOffset>('listOffsets', requests, key, (r) => `Partition ${key(r)}`, deadlineMs, retriableUnlessUnknown, async (pending) => {
      await this.metadata.request({ all: false, topics });
      const cache = this.metadata.cache;
      const out = new Map<string, ItemOutcome<ListedOffset>>();
      const routable: ListOffsetsSpec[] = [];
      for (const r of pending) {
        const topicError = cache.topicError(r.topic);
        if (topicError) out.set(key(r), { error: topicError });
        else if (!cache.partition(r.topic, r.partition)) out.set(key(r), { error: new KafkaError('UNKNOWN_TOPIC_OR_PARTITION', `no partition ${r.partition} in topic ${r.topic}`) });
        else if (!cache.leaderFor(r.topic, r.partition)) out.set(key(r), { error: new KafkaError('LEADER_NOT_AVAILABLE') });
        else routable.push(r);
      }
      for (const [address, group] of this.groupBy(routable, (r) => cache.broker(cache.leaderFor(r.topic, r.partition)!.leader)!.address)) {
        const wantTopics = new Map<string, ListOffsetsSpec[]>();
        for (const r of group) wantTopics.set(r.topic, [...(wantTopics.get(r.topic) ?? []), r]);
        let res;
        try {
          res = await this.rpc(address, (api, timeoutMs, signal) =>
            api.listOffsets(
              {
                topics: [...wantTopics].map(([topic, rs]) => ({
                  topic,
                  partitions: rs.map((r) => ({ partition: r.partition, timestamp: timestampOf(r), currentLeaderEpoch: cache.leaderFor(r.topic, r.partition)!.leaderEpoch })),
                })),
              },
              { timeoutMs, signal },
            ),
          );
        } catch (err) {
          if (!(err instanceof KafkaError)) throw err;
          for (const r of group) out.set(key(r), { error: err });
          continue;
        }
        for (const t of res.topics ?? []) {
          for (const p of t.partitions ?? []) {
            const err = kafkaErrorFromWire(p.error);
            out.set(tpString({ topic: t.topic, partition: p.partition }), err ? { error: err } : {
              result: { topic: t.topic, partition: p.partition, offset: p.offset, timestamp: p.timestamp, leaderEpoch: p.leaderEpoch },
            });
          }
        }
      }
      return out;
    });
    return requests.map((r) => results.get(key(r))!);
  }

  // ---- consumer groups (group-admin.ts) ----

  /** Every group of the cluster (each broker lists those it coordinates), optionally only in some states. */
  async listGroups(options: ListGroupsOptions = {}): Promise<GroupListing[]> {
    this.ensureOpen();
    return this.groups.listGroups(options);
  }

  /** State, assignor, coordinator and members (with their decoded assignments) of each group. */
  async describeGroups(groupIds: string[], options: AdminCallOptions = {}): Promise<GroupDescription[]> {
    this.ensureOpen();
    return this.groups.describeGroups(groupIds, options);
  }

  /** Deletes groups without members; each result names Kafka's error (NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND) or null. */
  async deleteGroups(groupIds: string[], options: AdminCallOptions = {}): Promise<DeletedGroup[]> {
    this.ensureOpen();
    return this.groups.deleteGroups(groupIds, options);
  }

  /** The group's committed offsets. */
  async listGroupOffsets(groupId: string, options: AdminCallOptions = {}): Promise<GroupOffset[]> {
    this.ensureOpen();
    return this.groups.listGroupOffsets(groupId, options);
  }

  /** Per-partition lag computed here: log end offset (ListOffsets latest) minus committed offset. */
  async groupLag(groupId: string, options: AdminCallOptions = {}): Promise<GroupPartitionLag[]> {
    this.ensureOpen();
    return this.groups.groupLag(groupId, options);
  }

  /** The coordinators' Burrow-style lag evaluation (status per group and partition). */
  async describeGroupLag(groupIds: string[], options: AdminCallOptions = {}): Promise<GroupLagStatus[]> {
    this.ensureOpen();
    return this.groups.describeGroupLag(groupIds, options);
  }

  /** kafka-consumer-groups.sh --reset-offsets; refused (KafkaError NON_EMPTY_GROUP) unless the group is Empty or Dead. */
  async resetGroupOffsets(groupId: string, spec: ResetOffsetsSpec, options: AdminCallOptions = {}): Promise<GroupOffsetChange[]> {
    this.ensureOpen();
    return this.groups.resetGroupOffsets(groupId, spec, options);
  }

  /** Commits the given offsets for an inactive group. */
  async alterGroupOffsets(groupId: string, offsets: GroupOffsetChange[], options: AdminCallOptions = {}): Promise<void> {
    this.ensureOpen();
    return this.groups.alterGroupOffsets(groupId, offsets, options);
  }

  /** Deletes the group's committed offsets of partitions it no longer subscribes to. */
  async deleteGroupOffsets(groupId: string, tps: TopicPartition[], options: AdminCallOptions = {}): Promise<void> {
    this.ensureOpen();
    return this.groups.deleteGroupOffsets(groupId, tps, options);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.metadata.close();
    this.pool.close();
  }

  // ---- helpers ----

  private retrying<T>(what: string, deadlineMs: number, fn: () => Promise<T>): Promise<T> {
    return retryUntil({ clock: this.deps.clock, policy: this.policy, deadlineMs, what, signal: this.metadata.signal }, fn);
  }

  private outcomes<W extends { error: WireError }, R>(items: W[] | undefined, name: (w: W) => string, result: (w: W) => R): Map<string, ItemOutcome<R>> {
    const out = new Map<string, ItemOutcome<R>>();
    for (const w of items ?? []) {
      const err = kafkaErrorFromWire(w.error);
      out.set(name(w), err ? { error: err } : { result: result(w) });
    }
    return out;
  }

  private groupBy<T>(items: T[], keyOf: (item: T) => string): Map<string, T[]> {
    const m = new Map<string, T[]>();
    for (const item of items) {
      const k = keyOf(item);
      m.set(k, [...(m.get(k) ?? []), item]);
    }
    return m;
  }
}

