// Group membership: each member holds an ephemeral child of the group znode; everyone watches
// the children. A member that dies disappears when its session expires. Joining with an id
// that a live session already holds is refused (how a broker id already alive is detected).

import { EventEmitter } from 'node:events';
import { CoordinatorError } from '../../tree/errors.js';
import type { CoordinatorClient, WatchHandle } from '../coordinator-client.js';

export interface Member {
  id: string;
  data: Buffer;
}

/** Events: 'members' (Member[]) whenever the set changes. Lifecycle: join() or observe(), then stop(). */
export class GroupMembership extends EventEmitter {
  private watch: WatchHandle | null = null;
  private refreshing = false;
  private again = false;
  private stopped = false;
  private last = '';

  constructor(
    private readonly client: CoordinatorClient,
    readonly groupPath: string,
  ) {
    super();
  }

  /** Joins as `memberId`; throws NODE_EXISTS if another live session holds that id. */
  async join(memberId: string, data: Uint8Array | string): Promise<void> {
    await this.client.ensurePath(this.groupPath);
    await this.client.create(`${this.groupPath}/${memberId}`, data, { mode: 'ephemeral' });
    await this.observe();
  }

  /** Follows the group without joining it. */
  async observe(): Promise<Member[]> {
    if (!this.watch) {
      await this.client.ensurePath(this.groupPath);
      this.watch = this.client.watch(this.groupPath, { kind: 'children', persistent: true }, () => void this.refresh());
      await this.watch.ready;
    }
    return this.refresh();
  }

  async members(): Promise<Member[]> {
    const { children } = await this.client.children(this.groupPath);
    const members: Member[] = [];
    for (const id of children) {
      try {
        members.push({ id, data: (await this.client.get(`${this.groupPath}/${id}`)).data });
      } catch (err) {
        if (!(err instanceof CoordinatorError && err.code === 'NO_NODE')) throw err; // left meanwhile
      }
    }
    return members;
  }

  private async refresh(): Promise<Member[]> {
    if (this.refreshing) {
      this.again = true;
      return [];
    }
    this.refreshing = true;
    try {
      let members: Member[];
      do {
        this.again = false;
        members = await this.members();
        const key = members.map((m) => `${m.id}=${m.data.toString('base64')}`).join(',');
        if (key !== this.last && !this.stopped) {
          this.last = key;
          this.emit('members', members);
        }
      } while (this.again);
      return members;
    } catch (err) {
      this.emit('error', err);
      return [];
    } finally {
      this.refreshing = false;
    }
  }

  async leave(memberId: string): Promise<void> {
    try {
      await this.client.delete(`${this.groupPath}/${memberId}`);
    } catch (err) {
      if (!(err instanceof CoordinatorError && err.code === 'NO_NODE')) throw err;
    }
  }

  stop(): void {
    this.stopped = true;
    this.watch?.remove();
    this.watch = null;
  }
}
