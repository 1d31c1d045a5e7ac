// Per-topic configuration: Kafka's topic-level names, each defaulting to the broker setting it
// overrides (retention.ms ← log.retention.ms …). Overrides live in /config/topics/<topic> and are
// validated by the controller's validateTopicConfig (controller/topic-config.ts).

import { createLogConfig, DEFAULT_LOG_CONFIG, type LogConfig } from '@samsa/log';
import { effectiveMinInsyncReplicas, type BrokerConfig } from './broker-config.js';

export const TOPIC_CONFIG_KEYS = [
  'cleanup.policy',
  'segment.bytes',
  'segment.ms',
  'segment.index.bytes',
  'index.interval.bytes',
  'retention.ms',
  'retention.bytes',
  'max.message.bytes',
  'flush.messages',
  'flush.ms',
  'message.timestamp.type',
  'min.cleanable.dirty.ratio',
  'delete.retention.ms',
  'min.compaction.lag.ms',
  'min.insync.replicas',
  'unclean.leader.election.enable',
] as const;

export type TopicConfigKey = (typeof TOPIC_CONFIG_KEYS)[number];

export interface TopicSettings {
  log: LogConfig;
  minInsyncReplicas: number;
  uncleanLeaderElection: boolean;
}

/** The broker-level default of each topic setting, as strings (what DescribeConfigs shows). */
export function topicDefaults(broker: BrokerConfig, replicationFactor: number): Record<TopicConfigKey, string> {
  return {
    'cleanup.policy': 'delete',
    'segment.bytes': String(broker['log.segment.bytes']),
    'segment.ms': String(broker['log.roll.ms']),
    'segment.index.bytes': String(DEFAULT_LOG_CONFIG['segment.index.bytes']),
    'index.interval.bytes': String(DEFAULT_LOG_CONFIG['index.interval.bytes']),
    'retention.ms': String(broker['log.retention.ms']),
    'retention.bytes': String(broker['log.retention.bytes']),
    'max.message.bytes': String(broker['message.max.bytes']),
    'flush.messages': String(broker['log.flush.interval.messages']),
    'flush.ms': String(broker['log.flush.interval.ms']),
    'message.timestamp.type': broker['log.message.timestamp.type'],
    'min.cleanable.dirty.ratio': String(broker['log.cleaner.min.cleanable.ratio']),
    'delete.retention.ms': String(broker['log.cleaner.delete.retention.ms']),
    'min.compaction.lag.ms': String(broker['log.cleaner.min.compaction.lag.ms']),
    'min.insync.replicas': String(effectiveMinInsyncReplicas(broker, replicationFactor)),
    'unclean.leader.election.enable': String(broker['unclean.leader.election.enable']),
  };
}

/** Broker defaults with the topic's overrides applied. */
export function resolveTopicSettings(broker: BrokerConfig, replicationFactor: number, overrides: Record<string, string>): TopicSettings {
  const merged = { ...topicDefaults(broker, replicationFactor), ...overrides };
  const log: Record<string, string> = {};
  for (const key of Object.keys(DEFAULT_LOG_CONFIG)) if (key in merged) log[key] = merged[key as TopicConfigKey];
  return {
    log: createLogConfig(log),
    minInsyncReplicas: Number(merged['min.insync.replicas']),
    uncleanLeaderElection: merged['unclean.leader.election.enable'] === 'true',
  };
}
