// Metrics of the group coordinator: groups by state, rebalances, member removals, offset commits,
// loads and expiration, group requests and their errors per API; and consumer lag evaluated the
// Burrow way for the groups this broker coordinates. Lag and state gauges are computed at scrape
// time from the group manager, so a group that moves to another coordinator (or goes away) stops
// being exported here at once: only a group's coordinator exports its series.
//
// Lag series (names fixed: alert rules and the dashboard use them):
//   samsa_consumer_group_lag{group,topic,partition}               records behind the log end
//   samsa_consumer_group_partition_status{group,topic,partition}  0 OK, 1 WARN, 2 STALL, 3 STOP, 4 REWIND
//   samsa_consumer_group_status{group}                            0 OK, 1 WARN, 2 ERR
//   samsa_consumer_group_max_lag{group}                           records

import type { KafkaErrorName } from '@samsa/client';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { GroupManager, GroupManagerEvents } from '../group/group-manager.js';
import { GROUP_STATES } from '../group/group-types.js';
import type { GroupLagEvaluation, GroupLagStatus, PartitionLagStatus } from '../lag/burrow-evaluator.js';

export const PARTITION_STATUS_VALUE: Readonly<Record<PartitionLagStatus, number>> = { OK: 0, WARN: 1, STALL: 2, STOP: 3, REWIND: 4 };
export const GROUP_STATUS_VALUE: Readonly<Record<GroupLagStatus, number>> = { OK: 0, WARN: 1, ERR: 2 };

/** Lag series of at most this many groups are exported per scrape (a bound on the scrape's size). */
const MAX_LAG_GROUPS_EXPORTED = 10_000;

export class GroupMetrics implements GroupManagerEvents {
  private readonly rebalances: Counter;
  private readonly memberRemovals: Counter<'reason'>;
  private readonly commits: Counter;
  private readonly expired: Counter;
  private readonly loaded: Counter;
  private readonly loadDuration: Histogram;
  private readonly groupRequests: Counter<'api'>;
  private readonly groupRequestErrors: Counter<'api' | 'error'>;

  constructor(registry: Registry, manager: () => GroupManager | null) {
    const registers = [registry];
    this.rebalances = new Counter({ name: 'samsa_group_coordinator_rebalances_total', help: 'Rebalances started (a group entered PreparingRebalance) on this coordinator', registers });
    this.memberRemovals = new Counter({ name: 'samsa_group_coordinator_member_removals_total', help: 'Members removed from groups, per reason', labelNames: ['reason'], registers });
    this.commits = new Counter({ name: 'samsa_group_coordinator_offset_commits_total', help: 'Partition offsets committed (written to __consumer_offsets)', registers });
    this.expired = new Counter({ name: 'samsa_group_coordinator_offsets_expired_total', help: 'Committed offsets expired by offsets.retention.minutes', registers });
    this.loaded = new Counter({ name: 'samsa_group_coordinator_offsets_loaded_total', help: 'Committed offsets loaded from __consumer_offsets on becoming a partition leader', registers });
    this.loadDuration = new Histogram({
      name: 'samsa_group_coordinator_partition_load_duration_seconds', help: 'Time to load one __consumer_offsets partition', registers,
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60],
    });
    this.groupRequests = new Counter({ name: 'samsa_group_coordinator_requests_total', help: 'Group requests handled by the coordinator, per API', labelNames: ['api'], registers });
    this.groupRequestErrors = new Counter({ name: 'samsa_group_coordinator_request_errors_total', help: 'Group requests answered with an error, per API and error', labelNames: ['api', 'error'], registers });

    new Gauge({
      name: 'samsa_group_coordinator_groups', help: 'Groups this broker coordinates, per state', labelNames: ['state'], registers,
      collect() {
        this.reset();
        const counts = manager()?.groupsByState() ?? new Map();
        for (const s of GROUP_STATES) this.set({ state: s }, counts.get(s) ?? 0);
      },
    });
    new Gauge({
      name: 'samsa_group_coordinator_partitions', help: '__consumer_offsets partitions this broker leads, loading or active', labelNames: ['status'], registers,
      collect() {
        this.reset();
        const states = manager()?.partitionStates() ?? [];
        for (const s of ['loading', 'active'] as const) this.set({ status: s }, states.filter((p) => p.status === s).length);
      },
    });
    new Gauge({
      name: 'samsa_group_coordinator_pending_requests', help: 'JoinGroup and SyncGroup requests waiting for their group', registers,
      collect() {
        this.set(manager()?.pendingRequests ?? 0);
      },
    });

    // The four lag gauges share one evaluation per group and scrape: the first to be collected
    // evaluates, the others read the same snapshot (prom-client collects gauges one by one).
    let snapshot: { at: number; groups: Map<string, GroupLagEvaluation> } | null = null;
    const evaluations = () => {
      const m = manager();
      const now = performance.now();
      if (snapshot && now - snapshot.at < 1_000) return snapshot.groups;
      const groups = new Map<string, GroupLagEvaluation>();
      if (m) for (const g of m.coordinatedGroups().slice(0, MAX_LAG_GROUPS_EXPORTED)) groups.set(g, m.evaluateLag(g));
      snapshot = { at: now, groups };
      return groups;
    };
    new Gauge({
      name: 'samsa_consumer_group_lag', help: 'Records between the committed offset and the log end offset, per group partition (coordinator only)',
      labelNames: ['group', 'topic', 'partition'], registers,
      collect() {
        this.reset();
        for (const [group, e] of evaluations()) for (const p of e.partitions) this.set({ group, topic: p.topic, partition: String(p.partition) }, p.lag);
      },
    });
    new Gauge({
      name: 'samsa_consumer_group_partition_status', help: 'Burrow status of a group partition: 0 OK, 1 WARN, 2 STALL, 3 STOP, 4 REWIND',
      labelNames: ['group', 'topic', 'partition'], registers,
      collect() {
        this.reset();
        for (const [group, e] of evaluations()) for (const p of e.partitions) this.set({ group, topic: p.topic, partition: String(p.partition) }, PARTITION_STATUS_VALUE[p.status]);
      },
    });
    new Gauge({
      name: 'samsa_consumer_group_status', help: 'Burrow status of a group: 0 OK, 1 WARN, 2 ERR', labelNames: ['group'], registers,
      collect() {
        this.reset();
        for (const [group, e] of evaluations()) this.set({ group }, GROUP_STATUS_VALUE[e.status]);
      },
    });
    new Gauge({
      name: 'samsa_consumer_group_max_lag', help: 'Largest lag over the partitions of a group, in records', labelNames: ['group'], registers,
      collect() {
        this.reset();
        for (const [group, e] of evaluations()) this.set({ group }, e.maxLag);
      },
    });
  }

  // --- GroupManagerEvents ----------------------------------------------------------------------

  rebalance(): void {
    this.rebalances.inc();
  }
  memberRemoved(reason: string): void {
    this.memberRemovals.inc({ reason });
  }
  offsetsCommitted(count: number): void {
    if (count > 0) this.commits.inc(count);
  }
  offsetsExpired(count: number): void {
    if (count > 0) this.expired.inc(count);
  }
  partitionLoaded(_partition: number, offsets: number, _groups: number, seconds: number): void {
    this.loaded.inc(offsets);
    this.loadDuration.observe(seconds);
  }
  groupRequest(api: string, error: KafkaErrorName | null): void {
    this.groupRequests.inc({ api });
    if (error !== null) this.groupRequestErrors.inc({ api, error });
  }
}
