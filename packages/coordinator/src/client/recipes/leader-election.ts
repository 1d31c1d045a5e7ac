// Leader election with a fencing epoch, the way Kafka's controller uses ZooKeeper: the leader
// holds an ephemeral znode (`/controller`) and, in the same atomic multi, bumps a persistent
// counter (`/controller_epoch`). The epoch travels with everything the leader does, so a
// deposed leader that has not noticed yet is refused (its epoch is stale).

import { EventEmitter } from 'node:events';
import { CoordinatorError } from '../../tree/errors.js';
import type { CoordinatorClient, WatchHandle } from '../coordinator-client.js';

export interface LeaderElectionOptions {
  /** The ephemeral znode the leader holds. */
  path: string;
  /** The persistent epoch counter, bumped on every election. */
  epochPath: string;
  /** This candidate's id (broker id). */
  candidateId: number;
}

export interface LeaderInfo {
  id: number;
  epoch: number;
}

/**
 * One candidate. Events: 'elected' (epoch), 'revoked' (this candidate lost leadership: its
 * session expired or the znode was deleted), 'leader' (LeaderInfo | null, whoever leads).
 * Lifecycle: start() once; stop() resigns and stops watching.
 */
export class LeaderElection extends EventEmitter {
  private stopped = false;
  private watch: WatchHandle | null = null;
  private _epoch = 0;
  private _isLeader = false;
  private campaigning: Promise<void> | null = null;

  constructor(
    private readonly client: CoordinatorClient,
    private readonly options: LeaderElectionOptions,
  ) {
    super();
  }

  get isLeader(): boolean {
    return this._isLeader;
  }
  get epoch(): number {
    return this._epoch;
  }

  async start(): Promise<void> {
    const parent = this.options.epochPath.slice(0, this.options.epochPath.lastIndexOf('/')) || '/';
    if (parent !== '/') await this.client.ensurePath(parent);
    if (!(await this.client.exists(this.options.epochPath))) {
      try {
        await this.client.create(this.options.epochPath, '0');
      } catch (err) {
        if (!(err instanceof CoordinatorError && err.code === 'NODE_EXISTS')) throw err;
      }
    }
    // Any change of the leader znode (deleted, created) triggers another look.
    this.watch = this.client.watch(this.options.path, { kind: 'exists', persistent: true }, () => this.kick());
    await this.watch.ready;
    await this.campaign();
  }

  private kick(): void {
    if (this.stopped) return;
    void this.campaign().catch((err) => this.emit('error', err));
  }

  /** One look at the leader znode: take it if free, learn who leads otherwise. */
  private campaign(): Promise<void> {
    this.campaigning ??= this.campaignOnce().finally(() => {
      this.campaigning = null;
    });
    return this.campaigning;
  }

  private async campaignOnce(): Promise<void> {
    for (let attempt = 0; attempt < 10 && !this.stopped; attempt++) {
      const current = await this.currentLeader();
      if (current) {
        const mine = current.id === this.options.candidateId && (await this.ownedByMe());
        if (!mine && this._isLeader) {
          this._isLeader = false;
          this.emit('revoked');
        }
        this.emit('leader', current);
        return;
      }
      if (this._isLeader) {
        this._isLeader = false;
        this.emit('revoked');
      }
      const { data, stat } = await this.client.get(this.options.epochPath);
      const epoch = Number(data.toString()) + 1;
      try {
        await this.client.multi([
          { type: 'setData', path: this.options.epochPath, data: String(epoch), version: stat.version },
          { type: 'create', path: this.options.path, data: JSON.stringify({ id: this.options.candidateId, epoch }), mode: 'ephemeral' },
        ]);
      } catch (err) {
        if (err instanceof CoordinatorError && (err.code === 'NODE_EXISTS' || err.code === 'BAD_VERSION')) continue;
        throw err;
      }
      this._epoch = epoch;
      this._isLeader = true;
      this.emit('elected', epoch);
      this.emit('leader', { id: this.options.candidateId, epoch });
      return;
    }
  }

  private async ownedByMe(): Promise<boolean> {
    const stat = await this.client.exists(this.options.path);
    return stat !== null && stat.ephemeralOwner === this.client.sessionId;
  }

  /** Who leads now, from the leader znode; null when nobody does. */
  async currentLeader(): Promise<LeaderInfo | null> {
    try {
      const { data } = await this.client.get(this.options.path);
      const parsed = JSON.parse(data.toString()) as Partial<LeaderInfo>;
      if (typeof parsed.id !== 'number' || typeof parsed.epoch !== 'number') return null;
      return { id: parsed.id, epoch: parsed.epoch };
    } catch (err) {
      if (err instanceof CoordinatorError && err.code === 'NO_NODE') return null;
      throw err;
    }
  }

  /** Gives leadership up (deletes the znode if this candidate holds it) and stops watching. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.watch?.remove();
    if (this._isLeader) {
      this._isLeader = false;
      try {
        const stat = await this.client.exists(this.options.path);
        if (stat && stat.ephemeralOwner === this.client.sessionId) await this.client.delete(this.options.path, stat.version);
      } catch {
        // the session ends soon anyway, and the znode with it
      }
    }
  }
}
