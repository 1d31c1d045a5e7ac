// samsa_coordinator_* metrics of one ensemble member.

import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class CoordinatorMetrics {
  readonly role: Gauge<'role'>;
  readonly term: Gauge;
  readonly commitIndex: Gauge;
  readonly appliedIndex: Gauge;
  readonly leaderChanges: Counter;
  readonly isLeader: Gauge;
  readonly proposalDuration: Histogram;
  readonly fsyncDuration: Histogram;
  readonly sessions: Gauge;
  readonly znodes: Gauge;
  readonly watches: Gauge;
  readonly requests: Counter<'op'>;
  readonly requestErrors: Counter<'op' | 'code'>;
  readonly requestDuration: Histogram<'op'>;
  readonly snapshots: Counter;
  readonly peerMessagesSent: Counter;
  readonly peerMessagesDropped: Counter;
  readonly sessionsExpired: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.role = new Gauge({ name: 'samsa_coordinator_role', help: 'Raft role of this member (1 for the current role)', labelNames: ['role'], registers });
    this.isLeader = new Gauge({ name: 'samsa_coordinator_is_leader', help: '1 if this member leads the ensemble', registers });
    this.term = new Gauge({ name: 'samsa_coordinator_term', help: 'Current Raft term', registers });
    this.commitIndex = new Gauge({ name: 'samsa_coordinator_commit_index', help: 'Highest Raft index known committed', registers });
    this.appliedIndex = new Gauge({ name: 'samsa_coordinator_applied_index', help: 'Highest Raft index applied to the znode tree', registers });
    this.leaderChanges = new Counter({ name: 'samsa_coordinator_leader_changes_total', help: 'Times this member saw the leader change', registers });
    this.proposalDuration = new Histogram({
      name: 'samsa_coordinator_proposal_duration_seconds', help: 'Time from proposing a write to applying it', buckets: LATENCY_BUCKETS, registers,
    });
    this.fsyncDuration = new Histogram({
      name: 'samsa_coordinator_fsync_duration_seconds', help: 'Duration of synced Raft log writes', buckets: LATENCY_BUCKETS, registers,
    });
    this.sessions = new Gauge({ name: 'samsa_coordinator_sessions', help: 'Live client sessions', registers });
    this.znodes = new Gauge({ name: 'samsa_coordinator_znodes', help: 'Znodes in the tree', registers });
    this.watches = new Gauge({ name: 'samsa_coordinator_watches', help: 'Watches registered on this member', registers });
    this.requests = new Counter({ name: 'samsa_coordinator_requests_total', help: 'Client requests by operation', labelNames: ['op'], registers });
    this.requestErrors = new Counter({
      name: 'samsa_coordinator_request_errors_total', help: 'Client requests that failed, by operation and error code', labelNames: ['op', 'code'], registers,
    });
    this.requestDuration = new Histogram({
      name: 'samsa_coordinator_request_duration_seconds', help: 'Client request latency by operation', labelNames: ['op'], buckets: LATENCY_BUCKETS, registers,
    });
    this.snapshots = new Counter({ name: 'samsa_coordinator_snapshots_total', help: 'State-machine snapshots taken or installed', registers });
    this.peerMessagesSent = new Counter({ name: 'samsa_coordinator_peer_messages_sent_total', help: 'Raft messages delivered to peers', registers });
    this.peerMessagesDropped = new Counter({
      name: 'samsa_coordinator_peer_messages_dropped_total', help: 'Raft messages dropped (peer down, slow or queue full)', registers,
    });
    this.sessionsExpired = new Counter({ name: 'samsa_coordinator_sessions_expired_total', help: 'Sessions expired by this member as leader', registers });
  }

  setRole(role: string): void {
    for (const r of ['leader', 'follower', 'candidate', 'preCandidate']) this.role.set({ role: r }, r === role ? 1 : 0);
    this.isLeader.set(role === 'leader' ? 1 : 0);
  }
}
