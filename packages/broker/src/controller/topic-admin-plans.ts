// Validation and replica assignment for CreateTopics and CreatePartitions, in Kafka's order of
// checks (ZkAdminManager / AdminZkClient), as pure functions of the request and the cluster
// view: every refusal is a KafkaError with Kafka's code, and nothing is written here.

import { KafkaError, type ConfigEntry, type ReplicaAssignment } from '@samsa/client';
import { effectiveDefaultReplicationFactor, type ControllerConfig, type ControllerLimits } from './controller-config.js';
import {
  assignAddedPartitions,
  assignReplicasToBrokers,
  validateReplicaAssignment,
  type BrokerRack,
  type PartitionAssignment,
} from './replica-assignment.js';
import { findCollidingTopic, validateTopicName } from './topic-name.js';

/** One topic of a CreateTopics request (the wire CreatableTopic fits; -1 or absent: the default). */
export interface CreateTopicSpec {
  name: string;
  numPartitions?: number;
  replicationFactor?: number;
  assignments?: ReplicaAssignment[];
  configs?: ConfigEntry[] | Readonly<Record<string, string>>;
}

export interface TopicCreationPlan {
  name: string;
  assignment: PartitionAssignment;
  config: Record<string, string>;
  numPartitions: number;
  replicationFactor: number;
}

export interface TopicPlanInputs {
  liveBrokers: readonly BrokerRack[];
  existingTopics: ReadonlySet<string>;
  config: ControllerConfig;
  limits: Pick<ControllerLimits, 'maxPartitionsPerTopic'>;
  random: () => number;
  validateTopicConfig: (config: Readonly<Record<string, string>>) => void;
}

function configMap(configs: CreateTopicSpec['configs']): Record<string, string> {
  if (configs === undefined || configs === null) return {};
  const out: Record<string, string> = {};
  if (Array.isArray(configs)) {
    for (const entry of configs as unknown[]) {
      const e = entry as Partial<ConfigEntry> | null;
      if (typeof e?.name !== 'string' || typeof e.value !== 'string') throw new KafkaError('INVALID_CONFIG', 'a config entry needs a string name and value');
      if (Object.prototype.hasOwnProperty.call(out, e.name)) throw new KafkaError('INVALID_CONFIG', `config ${e.name} is given twice`);
      out[e.name] = e.value;
    }
    return out;
  }
  if (typeof configs !== 'object') throw new KafkaError('INVALID_CONFIG', 'configs must be a list or a map');
  for (const [k, v] of Object.entries(configs)) {
    if (typeof v !== 'string') throw new KafkaError('INVALID_CONFIG', `config ${k}: value must be a string`);
    out[k] = v;
  }
  return out;
}

const isDefault = (v: unknown): boolean => v === undefined || v === null || v === -1;

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

/** Validates one topic of a CreateTopics request and assigns its replicas; throws KafkaError. */
export function planTopicCreation(spec: CreateTopicSpec, inputs: TopicPlanInputs): TopicCreationPlan {
  const name = validateTopicName(spec?.name);
  const assignments = spec.assignments ?? [];
  if (!Array.isArray(assignments)) throw new KafkaError('INVALID_REQUEST', 'assignments must be a list');
  const explicit = assignments.length > 0;
  if (explicit && (!isDefault(spec.numPartitions) || !isDefault(spec.replicationFactor))) {
    throw new KafkaError(
      'INVALID_REQUEST',
      'Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.',
    );
  }
  if (inputs.existingTopics.has(name)) throw new KafkaError('TOPIC_ALREADY_EXISTS', `Topic '${name}' already exists.`);
  const collision = findCollidingTopic(name, inputs.existingTopics);
  if (collision !== null) {
    throw new KafkaError('INVALID_TOPIC_EXCEPTION', `Topic '${name}' collides with existing topic: ${collision}`);
  }
  const max = inputs.limits.maxPartitionsPerTopic;
  let assignment: PartitionAssignment;
  if (explicit) {
    if (assignments.length > max) throw new KafkaError('INVALID_PARTITIONS', `Number of partitions ${assignments.length} exceeds the limit of ${max}.`);
    assignment = validateReplicaAssignment(assignments, new Set(inputs.liveBrokers.map((b) => b.id)));
  } else {
    const numPartitions = isDefault(spec.numPartitions) ? inputs.config['num.partitions'] : spec.numPartitions;
    const replicationFactor = isDefault(spec.replicationFactor)
      ? effectiveDefaultReplicationFactor(inputs.config, inputs.liveBrokers.length)
      : spec.replicationFactor;
    if (!isInt(numPartitions) || numPartitions <= 0) throw new KafkaError('INVALID_PARTITIONS', 'Number of partitions must be larger than 0.');
    if (numPartitions > max) throw new KafkaError('INVALID_PARTITIONS', `Number of partitions ${numPartitions} exceeds the limit of ${max}.`);
    if (!isInt(replicationFactor) || replicationFactor <= 0) {
      throw new KafkaError('INVALID_REPLICATION_FACTOR', 'Replication factor must be larger than 0.');
    }
    assignment = assignReplicasToBrokers(inputs.liveBrokers, numPartitions, replicationFactor, { random: inputs.random });
  }
  const config = configMap(spec.configs);
  inputs.validateTopicConfig(config);
  return { name, assignment, config, numPartitions: assignment.size, replicationFactor: assignment.get(0)!.length };
}

/** Validates a CreatePartitions entry and assigns the added partitions' replicas; throws KafkaError. */
export function planPartitionAddition(
  topic: string,
  newTotal: unknown,
  existing: PartitionAssignment | undefined,
  inputs: { liveBrokers: readonly BrokerRack[]; queuedForDeletion: boolean; limits: Pick<ControllerLimits, 'maxPartitionsPerTopic'>; random: () => number },
): PartitionAssignment {
  if (!existing) throw new KafkaError('UNKNOWN_TOPIC_OR_PARTITION', `The topic '${String(topic)}' does not exist.`);
  if (inputs.queuedForDeletion) throw new KafkaError('INVALID_TOPIC_EXCEPTION', `The topic '${topic}' is queued for deletion.`);
  if (!isInt(newTotal)) throw new KafkaError('INVALID_PARTITIONS', `Partition count must be an integer, got ${String(newTotal)}.`);
  if (newTotal === existing.size) throw new KafkaError('INVALID_PARTITIONS', `Topic already has ${existing.size} partitions.`);
  if (newTotal < existing.size) {
    throw new KafkaError('INVALID_PARTITIONS', `Topic currently has ${existing.size} partitions, which is higher than the requested ${newTotal}.`);
  }
  if (newTotal > inputs.limits.maxPartitionsPerTopic) {
    throw new KafkaError('INVALID_PARTITIONS', `Number of partitions ${newTotal} exceeds the limit of ${inputs.limits.maxPartitionsPerTopic}.`);
  }
  return assignAddedPartitions(existing, newTotal, inputs.liveBrokers, inputs.random);
}
