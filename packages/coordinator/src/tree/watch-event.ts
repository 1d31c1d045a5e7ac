// What an applied command changed, as watches see it. Events are produced by the replicated
// tree (so every replica produces the same ones) and consumed by each node's WatchManager.

export type WatchEventType = 'created' | 'deleted' | 'dataChanged' | 'childrenChanged';

export interface WatchEvent {
  type: WatchEventType;
  path: string;
  /** Raft index of the command that caused the event. */
  index: number;
}
