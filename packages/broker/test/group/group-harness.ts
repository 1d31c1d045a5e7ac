// A test driver for one GroupCoordinator: a manual clock, request ids, every delivered response
// kept by request id (and checked to be delivered exactly once), effects recorded, and
// 'store-group' writes completed at once (or held, or failed) as a test asks. Consumer metadata is
// real ConsumerProtocol bytes, so the coordinator's reading of subscribed topics is exercised.

import { type KafkaErrorName, encodeAssignment, encodeSubscription, subscription } from '@samsa/client';
import { type GroupConfig } from '../../src/group/group-config.js';
import { GroupCoordinator } from '../../src/group/group-coordinator.js';
import type {
  GroupEffect,
  GroupStep,
  HeartbeatResponse,
  JoinGroupRequest,
  JoinGroupResponse,
  LeaveGroupMember,
  LeaveGroupResponse,
  ProtocolMetadata,
  SyncGroupResponse,
} from '../../src/group/group-types.js';
import type { GroupMetadataValue } from '../../src/group/offsets-records.js';

export const GROUP = 'orders-service';

export function consumerProtocols(topics: string[], assignors: string[] = ['range']): ProtocolMetadata[] {
  return assignors.map((name) => ({ name, metadata: encodeSubscription(subscription(topics)) }));
}

export function assignmentBytes(partitions: number[], topic = 't'): Uint8Array {
  return encodeAssignment({ partitions: partitions.map((p) => ({ topic, partition: p })), userData: null });
}

export interface JoinSpec {
  memberId?: string;
  instanceId?: string | null;
  clientId?: string;
  protocols?: ProtocolMetadata[];
  protocolType?: string;
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
  requireKnownMemberId?: boolean;
}

export type StoreMode = 'auto' | 'hold' | { fail: KafkaErrorName };

export class GroupHarness {
  now = 0;
  coordinator: GroupCoordinator;
  private nextRequestId = 1;
  private suffix = 0;
  readonly joins = new Map<number, JoinGroupResponse>();
  readonly syncs = new Map<number, SyncGroupResponse>();
  readonly effects: GroupEffect[] = [];
  readonly heldStores: { storeId: number; value: GroupMetadataValue }[] = [];
  storeMode: StoreMode = 'auto';

  constructor(
    readonly config: Partial<GroupConfig> = {},
    existing?: GroupCoordinator,
  ) {
    this.coordinator = existing ?? GroupCoordinator.create({ groupId: GROUP, nowMs: 0, config, newMemberIdSuffix: () => this.nextSuffix() });
  }

  nextSuffix(): string {
    return `u${++this.suffix}`;
  }

  /** Takes in a step: responses (each request answered once) and effects, completing writes per storeMode. */
  absorb(step: GroupStep): GroupStep {
    for (const r of step.responses) {
      const seen = r.kind === 'join' ? this.joins : this.syncs;
      if (seen.has(r.requestId)) throw new Error(`request ${r.requestId} answered twice`);
      if (r.kind === 'join') this.joins.set(r.requestId, r.response);
      else this.syncs.set(r.requestId, r.response);
    }
    this.effects.push(...step.effects);
    for (const e of step.effects) {
      if (e.type !== 'store-group') continue;
      if (this.storeMode === 'hold') this.heldStores.push({ storeId: e.storeId, value: e.value });
      else this.absorb(this.coordinator.onGroupStored(e.storeId, this.storeMode === 'auto' ? null : this.storeMode.fail, this.now));
    }
    return step;
  }

  completeHeldStore(error: KafkaErrorName | null = null): void {
    const held = this.heldStores.shift();
    if (!held) throw new Error('no held store');
    this.absorb(this.coordinator.onGroupStored(held.storeId, error, this.now));
  }

  joinRequest(spec: JoinSpec = {}): JoinGroupRequest {
    const req: JoinGroupRequest = {
      requestId: this.nextRequestId++,
      memberId: spec.memberId ?? '',
      groupInstanceId: spec.instanceId ?? null,
      clientId: spec.clientId ?? 'client',
      clientHost: '/127.0.0.1',
      sessionTimeoutMs: spec.sessionTimeoutMs ?? 10_000,
      rebalanceTimeoutMs: spec.rebalanceTimeoutMs ?? 30_000,
      protocolType: spec.protocolType ?? 'consumer',
      protocols: spec.protocols ?? consumerProtocols(['t']),
    };
    return spec.requireKnownMemberId === undefined ? req : { ...req, requireKnownMemberId: spec.requireKnownMemberId };
  }

  /** Sends a JoinGroup; returns its request id (the answer may come later: see joins). */
  join(spec: JoinSpec = {}): number {
    const req = this.joinRequest(spec);
    this.absorb(this.coordinator.join(req, this.now));
    return req.requestId;
  }

  /** A dynamic member's two-step first join (MEMBER_ID_REQUIRED, then join with the id). */
  joinNew(spec: JoinSpec = {}): { memberId: string; requestId: number } {
    const first = this.join(spec);
    const answer = this.joins.get(first)!;
    if (answer.error !== 'MEMBER_ID_REQUIRED') throw new Error(`expected MEMBER_ID_REQUIRED, got ${answer.error}`);
    return { memberId: answer.memberId, requestId: this.join({ ...spec, memberId: answer.memberId }) };
  }

  sync(memberId: string, generationId: number, assignments: Record<string, Uint8Array> = {}, instanceId: string | null = null, protocolName: string | null = null): number {
    const requestId = this.nextRequestId++;
    this.absorb(
      this.coordinator.sync(
        {
          requestId,
          memberId,
          groupInstanceId: instanceId,
          generationId,
          protocolType: 'consumer',
          protocolName,
          assignments: Object.entries(assignments).map(([m, a]) => ({ memberId: m, assignment: a })),
        },
        this.now,
      ),
    );
    return requestId;
  }

  heartbeat(memberId: string, generationId: number, instanceId: string | null = null): HeartbeatResponse {
    const r = this.coordinator.heartbeat({ memberId, groupInstanceId: instanceId, generationId }, this.now);
    this.absorb(r);
    return r.response;
  }

  leave(...members: LeaveGroupMember[]): LeaveGroupResponse {
    const r = this.coordinator.leave({ members }, this.now);
    this.absorb(r);
    return r.response;
  }

  /**
   * Advances deadline by deadline until the rebalance in progress completes (members that join
   * together at first extend the initial delay once: 3000 + 3000 ms).
   */
  settleJoin(): void {
    for (let i = 0; i < 20 && this.coordinator.state === 'PreparingRebalance'; i++) {
      this.advance(this.coordinator.nextDeadlineMs()! - this.now);
    }
  }

  /** Moves the clock forward and ticks. */
  advance(ms: number): void {
    this.now += ms;
    this.absorb(this.coordinator.tick(this.now));
  }

  /** Moves the clock in steps, heartbeating the given members (by id and generation) at each step. */
  advanceWithHeartbeats(ms: number, stepMs: number, members: { memberId: string; generationId: number; instanceId?: string | null }[]): void {
    for (let t = 0; t < ms; t += stepMs) {
      this.advance(Math.min(stepMs, ms - t));
      for (const m of members) this.heartbeat(m.memberId, m.generationId, m.instanceId ?? null);
    }
  }

  removedMembers(): { memberId: string; reason: string }[] {
    return this.effects.flatMap((e) => (e.type === 'member-removed' ? [{ memberId: e.memberId, reason: e.reason }] : []));
  }

  stores(): GroupMetadataValue[] {
    return this.effects.flatMap((e) => (e.type === 'store-group' ? [e.value] : []));
  }

  /**
   * Brings up a Stable group of `n` dynamic members (first joins, initial delay, leader's sync)
   * and returns their ids (leader first) and the generation.
   */
  stableGroup(n: number, spec: JoinSpec = {}): { members: string[]; generationId: number; leader: string } {
    const joined = Array.from({ length: n }, (_, i) => this.joinNew({ clientId: `client${i}`, ...spec }));
    this.settleJoin();
    const answers = joined.map((j) => this.joins.get(j.requestId));
    if (answers.some((a) => a === undefined || a.error !== null)) throw new Error(`join did not complete: ${JSON.stringify(answers.map((a) => a?.error))}`);
    const generationId = answers[0]!.generationId;
    const leader = answers[0]!.leaderId;
    const members = joined.map((j) => j.memberId);
    const assignments = Object.fromEntries(members.map((m, i) => [m, assignmentBytes([i])]));
    for (const m of members.filter((x) => x !== leader)) this.sync(m, generationId);
    this.sync(leader, generationId, assignments);
    return { members: [leader, ...members.filter((m) => m !== leader)], generationId, leader };
  }
}
