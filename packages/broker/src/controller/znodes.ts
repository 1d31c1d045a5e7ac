// The controller's view of the coordinator layout (BROKER-DESIGN.md, Kafka's ZooKeeper layout):
// paths, and JSON codecs that accept only well-formed data. Decoders throw CorruptZnodeError
// naming the path, so one bad znode is reported and skipped rather than taking the controller
// down.

import { CorruptZnodeError } from './controller-errors.js';
import type { LeaderAndIsr } from './leader-election-strategies.js';
import type { PartitionAssignment } from './replica-assignment.js';

export const ZK = {
  brokerIds: '/brokers/ids',
  brokerTopics: '/brokers/topics',
  controller: '/controller',
  controllerEpoch: '/controller_epoch',
  configTopics: '/config/topics',
  deleteTopics: '/admin/delete_topics',
  isrChangeNotification: '/isr_change_notification',
} as const;

export const brokerPath = (id: number): string => `${ZK.brokerIds}/${id}`;
export const topicPath = (topic: string): string => `${ZK.brokerTopics}/${topic}`;
export const topicPartitionsPath = (topic: string): string => `${topicPath(topic)}/partitions`;
export const partitionPath = (topic: string, partition: number): string => `${topicPartitionsPath(topic)}/${partition}`;
export const partitionStatePath = (topic: string, partition: number): string => `${partitionPath(topic, partition)}/state`;
export const topicConfigPath = (topic: string): string => `${ZK.configTopics}/${topic}`;
export const deleteTopicPath = (topic: string): string => `${ZK.deleteTopics}/${topic}`;
export const ISR_CHANGE_PREFIX = 'isr_change_';

/** A registered broker: /brokers/ids/<id>. `epoch` is the znode's czxid (as Kafka). */
export interface BrokerRegistration {
  id: number;
  host: string;
  port: number;
  rack: string | null;
  metricsPort: number | null;
  epoch: number;
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const isBrokerId = (v: unknown): v is number => isInt(v) && v >= 0 && v <= 0x7fffffff;

function parseJson(path: string, data: Uint8Array | string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(typeof data === 'string' ? data : Buffer.from(data).toString('utf8'));
  } catch {
    throw new CorruptZnodeError(path, 'not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CorruptZnodeError(path, 'not a JSON object');
  const version = (value as { version?: unknown }).version;
  if (!isInt(version) || version < 1) throw new CorruptZnodeError(path, `bad version ${JSON.stringify(version)}`);
  return value as Record<string, unknown>;
}

function brokerIdList(path: string, value: unknown, what: string): number[] {
  if (!Array.isArray(value) || !value.every(isBrokerId)) throw new CorruptZnodeError(path, `${what} is not a list of broker ids`);
  if (new Set(value).size !== value.length) throw new CorruptZnodeError(path, `${what} has duplicates`);
  return [...value];
}

export function decodeBrokerRegistration(id: number, epoch: number, data: Uint8Array | string): BrokerRegistration {
  const path = brokerPath(id);
  const o = parseJson(path, data);
  if (typeof o.host !== 'string' || o.host.length === 0) throw new CorruptZnodeError(path, 'host is missing');
  if (!isInt(o.port) || o.port < 0 || o.port > 65535) throw new CorruptZnodeError(path, `bad port ${JSON.stringify(o.port)}`);
  const rack = o.rack ?? null;
  if (rack !== null && (typeof rack !== 'string' || rack.length === 0)) throw new CorruptZnodeError(path, 'rack must be a non-empty string or null');
  const metricsPort = o.metrics_port ?? null;
  if (metricsPort !== null && (!isInt(metricsPort) || metricsPort < 0 || metricsPort > 65535)) {
    throw new CorruptZnodeError(path, `bad metrics_port ${JSON.stringify(metricsPort)}`);
  }
  return { id, host: o.host, port: o.port, rack: rack as string | null, metricsPort: metricsPort as number | null, epoch };
}

export function encodeBrokerRegistration(b: Omit<BrokerRegistration, 'id' | 'epoch'>): string {
  return JSON.stringify({ version: 1, host: b.host, port: b.port, rack: b.rack, metrics_port: b.metricsPort });
}

export function decodeTopicAssignment(topic: string, data: Uint8Array | string): PartitionAssignment {
  const path = topicPath(topic);
  const o = parseJson(path, data);
  const partitions = o.partitions;
  if (typeof partitions !== 'object' || partitions === null || Array.isArray(partitions)) {
    throw new CorruptZnodeError(path, 'partitions is not an object');
  }
  const result: PartitionAssignment = new Map();
  for (const [key, replicas] of Object.entries(partitions)) {
    if (!/^(0|[1-9]\d{0,8})$/.test(key)) throw new CorruptZnodeError(path, `bad partition id ${JSON.stringify(key)}`);
    const list = brokerIdList(path, replicas, `partition ${key}`);
    if (list.length === 0) throw new CorruptZnodeError(path, `partition ${key} has no replicas`);
    result.set(Number(key), list);
  }
  if (result.size === 0) throw new CorruptZnodeError(path, 'no partitions');
  for (let p = 0; p < result.size; p++) if (!result.has(p)) throw new CorruptZnodeError(path, `partition ${p} is missing`);
  return new Map([...result.entries()].sort((a, b) => a[0] - b[0]));
}

export function encodeTopicAssignment(assignment: PartitionAssignment): string {
  const partitions: Record<string, number[]> = {};
  for (const [p, replicas] of [...assignment.entries()].sort((a, b) => a[0] - b[0])) partitions[String(p)] = replicas;
  return JSON.stringify({ version: 1, partitions });
}

export function decodePartitionState(topic: string, partition: number, data: Uint8Array | string): LeaderAndIsr {
  const path = partitionStatePath(topic, partition);
  const o = parseJson(path, data);
  if (!isInt(o.leader) || o.leader < -1) throw new CorruptZnodeError(path, `bad leader ${JSON.stringify(o.leader)}`);
  if (!isInt(o.leader_epoch) || o.leader_epoch < 0) throw new CorruptZnodeError(path, `bad leader_epoch ${JSON.stringify(o.leader_epoch)}`);
  if (!isInt(o.controller_epoch) || o.controller_epoch < 0) {
    throw new CorruptZnodeError(path, `bad controller_epoch ${JSON.stringify(o.controller_epoch)}`);
  }
  const isr = brokerIdList(path, o.isr, 'isr');
  return { leader: o.leader, leaderEpoch: o.leader_epoch, isr, controllerEpoch: o.controller_epoch };
}

export function encodePartitionState(s: LeaderAndIsr): string {
  return JSON.stringify({ version: 1, leader: s.leader, leader_epoch: s.leaderEpoch, isr: s.isr, controller_epoch: s.controllerEpoch });
}

export function decodeTopicConfig(topic: string, data: Uint8Array | string): Record<string, string> {
  const path = topicConfigPath(topic);
  const o = parseJson(path, data);
  const config = o.config ?? {};
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new CorruptZnodeError(path, 'config is not an object');
  const result: Record<string, string> = {};
  for (const [k, v] of Object.entries(config)) {
    if (typeof v !== 'string') throw new CorruptZnodeError(path, `config ${k} is not a string`);
    result[k] = v;
  }
  return result;
}

export function encodeTopicConfig(config: Readonly<Record<string, string>>): string {
  return JSON.stringify({ version: 1, config });
}

export interface TopicPartitionRef {
  topic: string;
  partition: number;
}

export function decodeIsrChangeNotification(path: string, data: Uint8Array | string): TopicPartitionRef[] {
  const o = parseJson(path, data);
  if (!Array.isArray(o.partitions)) throw new CorruptZnodeError(path, 'partitions is not a list');
  return o.partitions.map((p: unknown) => {
    const tp = p as { topic?: unknown; partition?: unknown };
    if (typeof tp?.topic !== 'string' || !isInt(tp.partition) || tp.partition < 0) {
      throw new CorruptZnodeError(path, `bad partition entry ${JSON.stringify(p)}`);
    }
    return { topic: tp.topic, partition: tp.partition };
  });
}

export function encodeIsrChangeNotification(partitions: readonly TopicPartitionRef[]): string {
  return JSON.stringify({ version: 1, partitions: partitions.map((p) => ({ topic: p.topic, partition: p.partition })) });
}

/** The controller epoch counter's value (LeaderElection writes it as a decimal string). */
export function decodeControllerEpoch(data: Uint8Array | string): number {
  const text = typeof data === 'string' ? data : Buffer.from(data).toString('utf8');
  if (!/^\d{1,15}$/.test(text.trim())) throw new CorruptZnodeError(ZK.controllerEpoch, `not a counter: ${JSON.stringify(text.slice(0, 32))}`);
  return Number(text.trim());
}
