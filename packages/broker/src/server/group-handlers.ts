// gRPC handlers of the consumer-group RPCs (FindCoordinator, JoinGroup, SyncGroup, Heartbeat,
// LeaveGroup, OffsetCommit/Fetch/Delete, ListGroups, DescribeGroups, DeleteGroups, GroupLag). They
// only translate between broker.proto's shapes and the GroupManager's (Kafka's nullable strings are
// '' on the wire), bound the sizes of lists, and put Kafka errors in-band; every rule is in the
// group manager and its cores.

import type * as grpc from '@grpc/grpc-js';
import {
  KafkaError, kafkaErrorToWire, type DescribeGroupsRequest, type DeleteGroupsRequest, type FindCoordinatorRequest,
  type FindCoordinatorResponse, type GroupLagRequest, type HeartbeatRequest, type JoinGroupRequest, type KafkaErrorName,
  type LeaveGroupRequest, type ListGroupsRequest, type OffsetCommitRequest, type OffsetDeleteRequest, type OffsetFetchRequest,
  type SyncGroupRequest, type WireError,
} from '@samsa/client';
import type { GroupManager } from '../group/group-manager.js';
import { GROUP_STATES, type GroupState } from '../group/group-types.js';
import { CONSUMER_OFFSETS_TOPIC } from '../group/offsets-partition.js';
import type { PartitionResult, TopicPartitionRef } from '../group/offset-store.js';
import type { OffsetsTopicCreator } from './group-coordinator-wiring.js';
import type { MetadataCache } from './metadata-cache.js';

export interface GroupHandlerContext {
  groups: GroupManager | null;
  offsetsTopic: OffsetsTopicCreator | null;
  metadata: MetadataCache;
}

type Unary = <Req, Res>(api: string, fn: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res> | Res) => grpc.handleUnaryCall<Req, Res>;

/** Partitions in one OffsetCommit/OffsetFetch/OffsetDelete, and groups in one DescribeGroups/DeleteGroups/GroupLag. */
const MAX_PARTITIONS_PER_REQUEST = 100_000;
const MAX_GROUPS_PER_REQUEST = 10_000;

function wire(error: KafkaErrorName | null): WireError {
  return error === null ? null : kafkaErrorToWire(new KafkaError(error));
}

const nullable = (s: unknown): string | null => (typeof s === 'string' && s.length > 0 ? s : null);

/** Kafka's clientHost: '/' + the peer's address without its port. */
export function clientHostOf(peer: string): string {
  let host = peer.replace(/^ipv[46]:/, '');
  const bracket = host.match(/^\[(.*)\](:\d+)?$/);
  if (bracket) host = bracket[1]!;
  else if (/^[^:]+:\d+$/.test(host)) host = host.slice(0, host.lastIndexOf(':'));
  return `/${host}`;
}

/** Groups per-partition results back under their topics, in first-seen order. */
function byTopic<P>(items: readonly { topic: string }[], toPartition: (i: number) => P): { topic: string; partitions: P[] }[] {
  const out = new Map<string, P[]>();
  items.forEach((it, i) => {
    let l = out.get(it.topic);
    if (!l) out.set(it.topic, (l = []));
    l.push(toPartition(i));
  });
  return [...out].map(([topic, partitions]) => ({ topic, partitions }));
}

function flattenTopics(topics: unknown): TopicPartitionRef[] | null {
  if (!Array.isArray(topics)) return [];
  const out: TopicPartitionRef[] = [];
  for (const t of topics as { topic?: unknown; partitions?: unknown }[]) {
    if (!Array.isArray(t?.partitions)) continue;
    for (const partition of t.partitions as unknown[]) {
      if (out.length >= MAX_PARTITIONS_PER_REQUEST) return null;
      out.push({ topic: String(t.topic ?? ''), partition: Number(partition) });
    }
  }
  return out;
}

export function groupHandlers(ctx: GroupHandlerContext, unary: Unary): grpc.UntypedServiceImplementation {
  const unavailable = 'COORDINATOR_NOT_AVAILABLE' as const;
  const list = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);

  const findCoordinator = (req: FindCoordinatorRequest): FindCoordinatorResponse => {
    const none = (error: KafkaErrorName): FindCoordinatorResponse => ({ error: wire(error), nodeId: -1, host: '', port: -1 });
    if (req.keyType !== 0) return none('INVALID_REQUEST');
    const groups = ctx.groups;
    if (!groups) return none(unavailable);
    if (!groups.validGroupId(req.key)) return none('INVALID_GROUP_ID');
    if (!ctx.metadata.hasTopic(CONSUMER_OFFSETS_TOPIC)) {
      ctx.offsetsTopic?.ensure();
      return none(unavailable);
    }
    const state = ctx.metadata.partition(CONSUMER_OFFSETS_TOPIC, groups.partitionFor(req.key));
    const leader = state && state.leader >= 0 ? ctx.metadata.broker(state.leader) : undefined;
    if (!leader) return none(unavailable);
    return { error: null, nodeId: leader.id, host: leader.host, port: leader.port };
  };

  return {
    FindCoordinator: unary('FindCoordinator', (req: FindCoordinatorRequest) => findCoordinator(req)),

    JoinGroup: unary('JoinGroup', async (req: JoinGroupRequest, call) => {
      const groups = ctx.groups;
      const fail = (error: KafkaErrorName) => ({
        error: wire(error), generationId: -1, protocolType: '', protocolName: '', leader: '', skipAssignment: false, memberId: req.memberId ?? '', members: [],
      });
      if (!groups) return fail(unavailable);
      const r = await groups.join(req.groupId, {
        memberId: req.memberId,
        groupInstanceId: nullable(req.groupInstanceId),
        clientId: req.clientId,
        clientHost: clientHostOf(call.getPeer()),
        sessionTimeoutMs: req.sessionTimeoutMs,
        rebalanceTimeoutMs: req.rebalanceTimeoutMs,
        protocolType: req.protocolType,
        protocols: list<{ name: string; metadata: Uint8Array }>(req.protocols).map((p) => ({ name: p?.name, metadata: p?.metadata })),
        reason: nullable(req.reason),
      });
      return {
        error: wire(r.error),
        generationId: r.generationId,
        protocolType: r.protocolType ?? '',
        protocolName: r.protocolName ?? '',
        leader: r.leaderId,
        skipAssignment: r.skipAssignment,
        memberId: r.memberId,
        members: r.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId ?? '', metadata: m.metadata })),
      };
    }),

    SyncGroup: unary('SyncGroup', async (req: SyncGroupRequest) => {
      const groups = ctx.groups;
      if (!groups) return { error: wire(unavailable), protocolType: '', protocolName: '', assignment: Buffer.alloc(0) };
      const r = await groups.sync(req.groupId, {
        memberId: req.memberId,
        groupInstanceId: nullable(req.groupInstanceId),
        generationId: req.generationId,
        protocolType: nullable(req.protocolType),
        protocolName: nullable(req.protocolName),
        assignments: list<{ memberId: string; assignment: Uint8Array }>(req.assignments).map((a) => ({ memberId: a?.memberId, assignment: a?.assignment })),
      });
      return { error: wire(r.error), protocolType: r.protocolType ?? '', protocolName: r.protocolName ?? '', assignment: r.assignment };
    }),

    Heartbeat: unary('Heartbeat', (req: HeartbeatRequest) => {
      const groups = ctx.groups;
      if (!groups) return { error: wire(unavailable) };
      return { error: wire(groups.heartbeat(req.groupId, { memberId: req.memberId, groupInstanceId: nullable(req.groupInstanceId), generationId: req.generationId })) };
    }),

    LeaveGroup: unary('LeaveGroup', (req: LeaveGroupRequest) => {
      const groups = ctx.groups;
      if (!groups) return { error: wire(unavailable), members: [] };
      const r = groups.leave(req.groupId, {
        members: list<{ memberId: string; groupInstanceId: string; reason: string }>(req.members).map((m) => ({
          memberId: m?.memberId, groupInstanceId: nullable(m?.groupInstanceId), reason: nullable(m?.reason),
        })),
      });
      return { error: wire(r.error), members: r.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId ?? '', error: wire(m.error) })) };
    }),

    OffsetCommit: unary('OffsetCommit', async (req: OffsetCommitRequest) => {
      const entries: { topic: string; partition: number; offset: number; leaderEpoch: number; metadata: string }[] = [];
      let tooMany = false;
      for (const t of list<OffsetCommitRequest['topics'][number]>(req.topics)) {
        for (const p of list<OffsetCommitRequest['topics'][number]['partitions'][number]>(t?.partitions)) {
          if (entries.length >= MAX_PARTITIONS_PER_REQUEST) tooMany = true;
          else entries.push({ topic: t.topic, partition: p.partition, offset: p.committedOffset, leaderEpoch: p.committedLeaderEpoch, metadata: p.committedMetadata });
        }
      }
      const groups = ctx.groups;
      let results: PartitionResult[];
      if (!groups || tooMany) {
        const error = tooMany ? 'INVALID_REQUEST' : unavailable;
        results = entries.map((e) => ({ topic: e.topic, partition: e.partition, error }));
      } else {
        results = await groups.commitOffsets(req.groupId, {
          memberId: req.memberId, groupInstanceId: nullable(req.groupInstanceId), generationId: req.generationId, entries,
        });
      }
      return { topics: byTopic(results, (i) => ({ partition: results[i]!.partition, error: wire(results[i]!.error) })) };
    }),

    OffsetFetch: unary('OffsetFetch', (req: OffsetFetchRequest) => {
      const groups = ctx.groups;
      if (!groups) return { error: wire(unavailable), topics: [] };
      const wanted = req.allTopics ? null : flattenTopics(req.topics);
      if (wanted === null && !req.allTopics) return { error: wire('INVALID_REQUEST'), topics: [] };
      const r = groups.fetchOffsets(req.groupId, wanted);
      return {
        error: wire(r.error),
        topics: byTopic(r.offsets, (i) => {
          const o = r.offsets[i]!;
          return { partition: o.partition, committedOffset: o.offset, committedLeaderEpoch: o.leaderEpoch, metadata: o.metadata, error: wire(o.error) };
        }),
      };
    }),

    OffsetDelete: unary('OffsetDelete', (req: OffsetDeleteRequest) => {
      const groups = ctx.groups;
      if (!groups) return { error: wire(unavailable), topics: [] };
      const wanted = flattenTopics(req.topics);
      if (wanted === null) return { error: wire('INVALID_REQUEST'), topics: [] };
      const r = groups.deleteOffsets(req.groupId, wanted);
      return { error: wire(r.error), topics: byTopic(r.results, (i) => ({ partition: r.results[i]!.partition, error: wire(r.results[i]!.error) })) };
    }),

    ListGroups: unary('ListGroups', (req: ListGroupsRequest) => {
      const groups = ctx.groups;
      if (!groups) return { error: wire(unavailable), groups: [] };
      const filter = list<string>(req.statesFilter);
      let states: Set<GroupState> | null = null;
      if (filter.length > 0) {
        states = new Set();
        for (const f of filter) {
          // Kafka matches state names case-insensitively.
          const s = GROUP_STATES.find((x) => x.toLowerCase() === String(f).toLowerCase());
          if (!s) return { error: wire('INVALID_REQUEST'), groups: [] };
          states.add(s);
        }
      }
      const r = groups.listGroups(states);
      return { error: wire(r.error), groups: r.groups.map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, groupState: g.state })) };
    }),

    DescribeGroups: unary('DescribeGroups', (req: DescribeGroupsRequest) => {
      const ids = list<string>(req.groups);
      const groups = ctx.groups;
      return {
        groups: ids.map((groupId, i) => {
          const error: KafkaErrorName | null = !groups ? unavailable : i >= MAX_GROUPS_PER_REQUEST ? 'INVALID_REQUEST' : null;
          const r = error === null ? groups!.describeGroup(groupId) : { error, description: { groupId, state: 'Dead' as const, protocolType: '', protocolName: '', members: [] } };
          const d = r.description;
          return {
            error: wire(r.error),
            groupId,
            groupState: d.state,
            protocolType: d.protocolType,
            protocolData: d.protocolName,
            members: d.members.map((m) => ({
              memberId: m.memberId, groupInstanceId: m.groupInstanceId ?? '', clientId: m.clientId, clientHost: m.clientHost,
              memberMetadata: m.metadata, memberAssignment: m.assignment,
            })),
          };
        }),
      };
    }),

    DeleteGroups: unary('DeleteGroups', (req: DeleteGroupsRequest) => {
      const groups = ctx.groups;
      return {
        results: list<string>(req.groups).map((groupId, i) => ({
          groupId,
          error: wire(!groups ? unavailable : i >= MAX_GROUPS_PER_REQUEST ? 'INVALID_REQUEST' : groups.deleteGroup(groupId)),
        })),
      };
    }),

    GroupLag: unary('GroupLag', async (req: GroupLagRequest) => {
      const groups = ctx.groups;
      const ids = list<string>(req.groups);
      if (!groups || ids.length > MAX_GROUPS_PER_REQUEST) {
        const error = !groups ? unavailable : 'INVALID_REQUEST';
        return { groups: ids.slice(0, MAX_GROUPS_PER_REQUEST).map((groupId) => ({ error: wire(error), groupId, status: '', maxLag: 0, totalLag: 0, partitions: [] })) };
      }
      const reports = await groups.groupLag(ids);
      return {
        groups: reports.map((r) => ({
          error: wire(r.error),
          groupId: r.groupId,
          status: r.error === null ? r.status : '',
          maxLag: r.maxLag,
          totalLag: r.totalLag,
          partitions: r.partitions.map((p) => ({
            topic: p.topic, partition: p.partition, committedOffset: p.committedOffset, logEndOffset: p.logEndOffset, lag: p.lag, status: p.status,
            commitTimestamp: p.commitTimestampMs,
          })),
        })),
      };
    }),
  };
}
