// Topic-level configs the controller accepts at topic creation (/config/topics/<topic>), with
// Kafka's names. Log settings are validated by @samsa/log's LogConfig; the replication settings
// the controller and partition leaders read are checked here. Unknown names are refused (a typo
// must not silently fall back to a default), as Kafka does.

import { KafkaError } from '@samsa/client';
import { createLogConfig, isLogConfigKey, LogError } from '@samsa/log';

export const UNCLEAN_LEADER_ELECTION_ENABLE = 'unclean.leader.election.enable';
export const MIN_INSYNC_REPLICAS = 'min.insync.replicas';

/** Longest config value accepted, so one topic cannot blow the 1 MiB znode limit. */
export const MAX_TOPIC_CONFIG_VALUE_LENGTH = 1024;
export const MAX_TOPIC_CONFIG_ENTRIES = 100;

/** Validates a topic's config overrides; throws INVALID_CONFIG naming the entry. */
export function validateTopicConfig(config: Readonly<Record<string, string>>): void {
  const entries = Object.entries(config);
  if (entries.length > MAX_TOPIC_CONFIG_ENTRIES) throw new KafkaError('INVALID_CONFIG', `more than ${MAX_TOPIC_CONFIG_ENTRIES} config entries`);
  const logOverrides: Record<string, string> = {};
  for (const [name, value] of entries) {
    if (typeof value !== 'string') throw new KafkaError('INVALID_CONFIG', `${name}: value must be a string`);
    if (value.length > MAX_TOPIC_CONFIG_VALUE_LENGTH) throw new KafkaError('INVALID_CONFIG', `${name}: value longer than ${MAX_TOPIC_CONFIG_VALUE_LENGTH}`);
    if (isLogConfigKey(name)) {
      logOverrides[name] = value;
    } else if (name === UNCLEAN_LEADER_ELECTION_ENABLE) {
      if (value !== 'true' && value !== 'false') throw new KafkaError('INVALID_CONFIG', `${name}: expected true or false, got ${JSON.stringify(value)}`);
    } else if (name === MIN_INSYNC_REPLICAS) {
      if (!/^\d{1,9}$/.test(value) || Number(value) < 1) throw new KafkaError('INVALID_CONFIG', `${name}: expected an integer >= 1, got ${JSON.stringify(value)}`);
    } else {
      throw new KafkaError('INVALID_CONFIG', `Unknown topic config name: ${name}`);
    }
  }
  try {
    createLogConfig(logOverrides);
  } catch (err) {
    if (err instanceof LogError) throw new KafkaError('INVALID_CONFIG', err.message);
    throw err;
  }
}

/** The topic's unclean.leader.election.enable, falling back to the broker default. */
export function uncleanLeaderElectionEnabled(topicConfig: Readonly<Record<string, string>>, brokerDefault: boolean): boolean {
  const v = topicConfig[UNCLEAN_LEADER_ELECTION_ENABLE];
  if (v === 'true') return true;
  if (v === 'false') return false;
  return brokerDefault;
}
