// The requests one controller event owes to brokers (Kafka's ControllerBrokerRequestBatch): the
// event notes which partitions each broker must hear about; build() turns the notes into
// LeaderAndIsr, UpdateMetadata and StopReplica requests, per broker in that order, with the
// partitions' states as they are when the event ends (a partition changed twice in one event is
// sent once, in its final state). No I/O.

import type { LeaderAndIsrRequest, LiveBroker, PartitionState, StopReplicaRequest, UpdateMetadataRequest } from '@samsa/client';
import { parsePartitionKey, partitionKey } from './controller-context.js';
import type { TopicPartitionRef } from './znodes.js';

export type ControllerRequest =
  | { kind: 'leaderAndIsr'; request: LeaderAndIsrRequest }
  | { kind: 'updateMetadata'; request: UpdateMetadataRequest }
  | { kind: 'stopReplica'; request: StopReplicaRequest };

export interface OutgoingRequest {
  brokerId: number;
  payload: ControllerRequest;
  /** StopReplica only: the partitions it stops, for the caller's bookkeeping. */
  partitions?: TopicPartitionRef[];
}

export interface BuildInputs {
  controllerId: number;
  controllerEpoch: number;
  liveBrokers: LiveBroker[];
  /** Current state of a partition; null when it has none (it is then left out). */
  stateOf(topic: string, partition: number): PartitionState | null;
  /** Every partition with a state, for full UpdateMetadata requests. */
  allPartitionKeys(): Iterable<TopicPartitionRef>;
  maxPartitionsPerRequest: number;
}

interface UpdateMetadataNote {
  all: boolean;
  partitions: Set<string>;
  deletedTopics: Set<string>;
}

function chunk<T>(items: T[], size: number): T[][] {
  if (items.length === 0) return [];
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export class ControllerRequestBatch {
  private readonly leaderAndIsr = new Map<number, Set<string>>();
  private readonly updateMetadata = new Map<number, UpdateMetadataNote>();
  /** broker → deletePartitions flag → partition keys. */
  private readonly stopReplica = new Map<number, Map<boolean, Set<string>>>();

  get isEmpty(): boolean {
    return this.leaderAndIsr.size === 0 && this.updateMetadata.size === 0 && this.stopReplica.size === 0;
  }

  addLeaderAndIsr(brokerIds: Iterable<number>, topic: string, partition: number): void {
    const key = partitionKey(topic, partition);
    for (const id of brokerIds) {
      let set = this.leaderAndIsr.get(id);
      if (!set) this.leaderAndIsr.set(id, (set = new Set()));
      set.add(key);
    }
  }

  private note(id: number): UpdateMetadataNote {
    let n = this.updateMetadata.get(id);
    if (!n) this.updateMetadata.set(id, (n = { all: false, partitions: new Set(), deletedTopics: new Set() }));
    return n;
  }

  /** UpdateMetadata with these partitions (none: just the live broker list). */
  addUpdateMetadata(brokerIds: Iterable<number>, partitions: Iterable<TopicPartitionRef> = []): void {
    const keys = [...partitions].map((p) => partitionKey(p.topic, p.partition));
    for (const id of brokerIds) {
      const n = this.note(id);
      for (const k of keys) n.partitions.add(k);
    }
  }

  /** UpdateMetadata with every partition (a broker that just started, or a new controller). */
  addFullUpdateMetadata(brokerIds: Iterable<number>): void {
    for (const id of brokerIds) this.note(id).all = true;
  }

  addDeletedTopics(brokerIds: Iterable<number>, topics: Iterable<string>): void {
    const list = [...topics];
    for (const id of brokerIds) for (const t of list) this.note(id).deletedTopics.add(t);
  }

  addStopReplica(brokerId: number, topic: string, partition: number, deletePartitions: boolean): void {
    let byFlag = this.stopReplica.get(brokerId);
    if (!byFlag) this.stopReplica.set(brokerId, (byFlag = new Map()));
    let set = byFlag.get(deletePartitions);
    if (!set) byFlag.set(deletePartitions, (set = new Set()));
    set.add(partitionKey(topic, partition));
  }

  build(inputs: BuildInputs): OutgoingRequest[] {
    const { controllerId, controllerEpoch, liveBrokers, maxPartitionsPerRequest: max } = inputs;
    const brokers = new Set([...this.leaderAndIsr.keys(), ...this.updateMetadata.keys(), ...this.stopReplica.keys()]);
    const out: OutgoingRequest[] = [];
    const states = (keys: Iterable<string>): PartitionState[] => {
      const result: PartitionState[] = [];
      for (const k of keys) {
        const { topic, partition } = parsePartitionKey(k);
        const s = inputs.stateOf(topic, partition);
        if (s) result.push(s);
      }
      return result;
    };
    for (const brokerId of [...brokers].sort((a, b) => a - b)) {
      const lai = this.leaderAndIsr.get(brokerId);
      if (lai) {
        for (const partitionStates of chunk(states(lai), max)) {
          out.push({ brokerId, payload: { kind: 'leaderAndIsr', request: { controllerId, controllerEpoch, partitionStates, liveBrokers } } });
        }
      }
      const um = this.updateMetadata.get(brokerId);
      if (um) {
        const keys = um.all ? [...inputs.allPartitionKeys()].map((p) => partitionKey(p.topic, p.partition)) : um.partitions;
        const deletedTopics = [...um.deletedTopics];
        const chunks = chunk(states(keys), max);
        if (chunks.length === 0) chunks.push([]);
        chunks.forEach((partitionStates, i) => {
          out.push({
            brokerId,
            payload: {
              kind: 'updateMetadata',
              request: { controllerId, controllerEpoch, partitionStates, liveBrokers, deletedTopics: i === 0 ? deletedTopics : [] },
            },
          });
        });
      }
      const sr = this.stopReplica.get(brokerId);
      if (sr) {
        for (const [deletePartitions, keys] of sr) {
          for (const part of chunk([...keys], max)) {
            const partitions = part.map(parsePartitionKey);
            out.push({
              brokerId,
              payload: { kind: 'stopReplica', request: { controllerId, controllerEpoch, deletePartitions, partitions } },
              partitions,
            });
          }
        }
      }
    }
    return out;
  }
}
