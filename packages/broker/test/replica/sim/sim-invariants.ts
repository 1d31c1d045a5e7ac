// The named safety properties of replication that the simulation checks after every event.
//
//   AcknowledgedRecordsSurvive  a record acknowledged to an acks=all producer by the leader of
//                               epoch E is, at its offset, in the log of every leader of an
//                               epoch > E (checked when one takes over, when the ack is given,
//                               and periodically for every sitting leader).
//   CommittedPrefixAgreement    below its high watermark, every replica holds the same record at
//                               each offset as every other replica ever held below its own HW.
//   LeaderHighWatermarkMonotonic a replica's HW never goes down while it leads.
//   OneLeaderPerEpoch           no two brokers lead the same leader epoch.
//   HighWatermarkBackedByIsr    when a leader's HW advances, every other member of its maximal
//                               ISR holds the leader's records below it (members that lost power
//                               recently are exempt: what they reported before may be gone).

export class InvariantViolation extends Error {
  constructor(
    readonly invariant: string,
    detail: string,
  ) {
    super(`${invariant} violated: ${detail}`);
    this.name = 'InvariantViolation';
  }
}

export interface AckedRecord {
  readonly offset: number;
  readonly value: string;
  /** The leader epoch of the replica that acknowledged it. */
  readonly ackEpoch: number;
  readonly ackedBy: number;
  readonly tick: number;
}

/** What the oracle needs to read from a replica's log. */
export interface LogView {
  readonly logEndOffset: number;
  valueAt(offset: number): string | undefined;
}

export class Oracle {
  readonly acked: AckedRecord[] = [];
  /** offset → the value committed there (first seen below some replica's HW). */
  private readonly committed: string[] = [];
  private readonly leaderOfEpoch = new Map<number, number>();
  /** Per broker: its HW when last seen leading (null when not leading). */
  private readonly leaderHw = new Map<number, number | null>();
  /** Per broker: offsets below this were checked against `committed` since its HW last dropped. */
  private readonly checkedUpTo = new Map<number, number>();

  observeLeader(brokerId: number, epoch: number): void {
    const existing = this.leaderOfEpoch.get(epoch);
    if (existing !== undefined && existing !== brokerId) {
      throw new InvariantViolation('OneLeaderPerEpoch', `broker ${brokerId} leads epoch ${epoch}, which broker ${existing} led`);
    }
    this.leaderOfEpoch.set(epoch, brokerId);
  }

  /** A replica that leads `epoch` must hold every record acknowledged under an older epoch. */
  checkLeaderHoldsAcked(brokerId: number, epoch: number, log: LogView, what: string): void {
    for (const a of this.acked) {
      if (a.ackEpoch < epoch) this.checkHolds(brokerId, epoch, log, a, what);
    }
  }

  recordAck(record: AckedRecord): void {
    this.acked.push(record);
  }

  checkHolds(brokerId: number, epoch: number, log: LogView, a: AckedRecord, what: string): void {
    const held = log.valueAt(a.offset);
    if (held !== a.value) {
      throw new InvariantViolation(
        'AcknowledgedRecordsSurvive',
        `${what}: broker ${brokerId} leads epoch ${epoch} but holds ${held ?? 'nothing'} at offset ${a.offset}, where ${a.value} ` +
          `was acknowledged by broker ${a.ackedBy} in epoch ${a.ackEpoch} at tick ${a.tick} (log end ${log.logEndOffset})`,
      );
    }
  }

  /** The replica's HW now; `leading` whether it is the leader. */
  observeHighWatermark(brokerId: number, hw: number, leading: boolean, log: LogView): void {
    const previous = this.leaderHw.get(brokerId) ?? null;
    if (leading) {
      if (previous !== null && hw < previous) {
        throw new InvariantViolation('LeaderHighWatermarkMonotonic', `broker ${brokerId} leads with HW ${hw} after ${previous}`);
      }
      this.leaderHw.set(brokerId, hw);
    } else {
      this.leaderHw.set(brokerId, null);
    }
    let from = this.checkedUpTo.get(brokerId) ?? 0;
    if (from > hw) from = hw;
    for (let o = from; o < hw; o++) this.checkCommitted(brokerId, o, log);
    this.checkedUpTo.set(brokerId, hw);
  }

  /** The replica restarted or truncated: what it holds below its HW must be checked again. */
  forget(brokerId: number): void {
    this.checkedUpTo.set(brokerId, 0);
    this.leaderHw.set(brokerId, null);
  }

  /** Every offset below `hw` against what was committed there. */
  checkAllCommitted(brokerId: number, hw: number, log: LogView): void {
    for (let o = 0; o < hw; o++) this.checkCommitted(brokerId, o, log);
  }

  private checkCommitted(brokerId: number, offset: number, log: LogView): void {
    const value = log.valueAt(offset);
    if (value === undefined) {
      throw new InvariantViolation('CommittedPrefixAgreement', `broker ${brokerId} has HW above offset ${offset} but no record there`);
    }
    const committed = this.committed[offset];
    if (committed === undefined) {
      if (offset > this.committed.length) {
        // Offsets are committed in order on every replica; fill the gap from this log.
        for (let o = this.committed.length; o < offset; o++) this.checkCommitted(brokerId, o, log);
      }
      this.committed[offset] = value;
    } else if (committed !== value) {
      const detail = `broker ${brokerId} holds ${value} at offset ${offset} below its HW; ${committed} was committed there`;
      throw new InvariantViolation('CommittedPrefixAgreement', detail);
    }
  }

  /** The leader's HW moved from `from` to `to`: each member's log agrees with the leader's on [from, to). */
  checkHighWatermarkBacked(leaderId: number, from: number, to: number, leaderLog: LogView, members: readonly { id: number; log: LogView }[]): void {
    for (const m of members) {
      for (let o = from; o < to; o++) {
        const held = m.log.valueAt(o);
        if (held !== leaderLog.valueAt(o)) {
          throw new InvariantViolation(
            'HighWatermarkBackedByIsr',
            `leader ${leaderId} moved its HW to ${to}, but ISR member ${m.id} holds ${held ?? 'nothing'} at offset ${o} ` +
              `where the leader has ${leaderLog.valueAt(o)}`,
          );
        }
      }
    }
  }

  get committedCount(): number {
    return this.committed.length;
  }
}
