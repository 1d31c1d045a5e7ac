// One member of a classic group (Kafka's MemberMetadata): its identity, timeouts, the protocols it
// offered in its last JoinGroup, its assignment, and which of its requests the group still owes an
// answer (at most one JoinGroup and one SyncGroup). Owned by its GroupMetadata; the member id
// changes only when a static member is replaced.

import type { ProtocolMetadata } from './group-types.js';
import { invariant } from './group-errors.js';

export const EMPTY_BYTES = new Uint8Array(0);

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class MemberMetadata {
  memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  readonly protocolType: string;
  supportedProtocols: readonly ProtocolMetadata[];
  assignment: Uint8Array = EMPTY_BYTES;
  /** The JoinGroup request the group owes an answer, if any. */
  awaitingJoin: number | null = null;
  /** The SyncGroup request the group owes an answer, if any. */
  awaitingSync: number | null = null;
  /** Joined in the current rebalance and has not yet received its first JoinGroup answer. */
  isNew = false;

  constructor(init: {
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    rebalanceTimeoutMs: number;
    sessionTimeoutMs: number;
    protocolType: string;
    supportedProtocols: readonly ProtocolMetadata[];
  }) {
    this.memberId = init.memberId;
    this.groupInstanceId = init.groupInstanceId;
    this.clientId = init.clientId;
    this.clientHost = init.clientHost;
    this.rebalanceTimeoutMs = init.rebalanceTimeoutMs;
    this.sessionTimeoutMs = init.sessionTimeoutMs;
    this.protocolType = init.protocolType;
    this.supportedProtocols = init.supportedProtocols;
  }

  get isStatic(): boolean {
    return this.groupInstanceId !== null;
  }

  get isAwaitingJoin(): boolean {
    return this.awaitingJoin !== null;
  }

  get isAwaitingSync(): boolean {
    return this.awaitingSync !== null;
  }

  /**
   * Kafka's hasSatisfiedHeartbeat (at a session deadline, heartbeatSatisfied is always false): a
   * member waiting on the group for its JoinGroup or SyncGroup answer is alive by definition,
   * unless it is new (a new member's long JoinGroup is bounded by the new-member join timeout).
   */
  get heartbeatSatisfiedWhileWaiting(): boolean {
    return !this.isNew && (this.isAwaitingJoin || this.isAwaitingSync);
  }

  protocolNames(): Set<string> {
    return new Set(this.supportedProtocols.map((p) => p.name));
  }

  /** The member's metadata for `protocol` (it must support it). */
  metadata(protocol: string): Uint8Array {
    const p = this.supportedProtocols.find((x) => x.name === protocol);
    invariant(p !== undefined, () => `member ${this.memberId} does not support protocol ${protocol}`);
    return p.metadata;
  }

  /** Same protocols, in the same order, with the same metadata bytes (Kafka's matches). */
  matches(protocols: readonly ProtocolMetadata[]): boolean {
    if (protocols.length !== this.supportedProtocols.length) return false;
    return protocols.every((p, i) => p.name === this.supportedProtocols[i]!.name && bytesEqual(p.metadata, this.supportedProtocols[i]!.metadata));
  }

  /** The member's most preferred protocol among `candidates` (Kafka's vote). */
  vote(candidates: ReadonlySet<string>): string {
    const p = this.supportedProtocols.find((x) => candidates.has(x.name));
    invariant(p !== undefined, () => `member ${this.memberId} supports none of the candidate protocols`);
    return p.name;
  }
}

export { bytesEqual };
