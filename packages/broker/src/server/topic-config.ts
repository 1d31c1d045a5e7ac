// Per-topic configuration: Kafka's topic-level names, each defaulting to the broker setting it
// overrides (retention.ms ← log.retention.ms …). Overrides live in /config/topics/<topic>.

import { KafkaError } from '@samsa/client';
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
export function topicDefaults(broker: BrokerConfig, clusterBrokers: number): Record<TopicConfigKey, string> {
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
    'min.insync.replicas': String(effectiveMinInsyncReplicas(broker, clusterBrokers)),
    'unclean.leader.election.enable': String(broker['unclean.leader.election.enable']),
  };
}

function isTopicKey(key: string): key is TopicConfigKey {
  return (TOPIC_CONFIG_KEYS as readonly string[]).includes(key);
}

/**
 * Checks overrides (names and values) without applying them; throws INVALID_CONFIG naming the
 * first bad entry. Used by CreateTopics and AlterConfigs before anything is written.
 */
export function validateTopicOverrides(overrides: Record<string, string>): void {
  const logOverrides: Record<string, string> = {};
  for (const [key, value] of Object.entries(overrides)) {
    if (!isTopicKey(key)) throw new KafkaError('INVALID_CONFIG', `unknown topic config ${JSON.stringify(key)}`);
    if (typeof value !== 'string') throw new KafkaError('INVALID_CONFIG', `${key}: value must be a string`);
    switch (key) {
      case 'cleanup.policy':
        if (value !== 'delete') throw new KafkaError('INVALID_CONFIG', `cleanup.policy=${value} is not supported (only delete)`);
        break;
      case 'min.insync.replicas': {
        const n = Number(value);
        if (!Number.isInteger(n) || n < 1) throw new KafkaError('INVALID_CONFIG', `min.insync.replicas must be an integer >= 1, got ${value}`);
        break;
      }
      case 'unclean.leader.election.enable':
        if (value !== 'true' && value !== 'false') throw new KafkaError('INVALID_CONFIG', `${key} must be true or false, got ${value}`);
        break;
      default:
        logOverrides[key] = value;
    }
  }
  try {
    createLogConfig(logOverrides);
  } catch (err) {
    throw new KafkaError('INVALID_CONFIG', (err as Error).message);
  }
}

/** Broker defaults with the topic's overrides applied. */
export function resolveTopicSettings(broker: BrokerConfig, clusterBrokers: number, overrides: Record<string, string>): TopicSettings {
  const merged = { ...topicDefaults(broker, clusterBrokers), ...overrides };
  const log: Record<string, string> = {};
  for (const key of Object.keys(DEFAULT_LOG_CONFIG)) if (key in merged) log[key] = merged[key as TopicConfigKey];
  return {
    log: createLogConfig(log),
    minInsyncReplicas: Number(merged['min.insync.replicas']),
    uncleanLeaderElection: merged['unclean.leader.election.enable'] === 'true',
  };
}
