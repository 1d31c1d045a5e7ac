// Config keys every client shares (Kafka's CommonClientConfigs), and bootstrap.servers parsing.

import { invalidConfig } from '../client-error.js';
import { INT_MAX, intConfig, stringConfig, type ConfigKey } from './config-def.js';

/** The most bootstrap addresses accepted (a list, not a cluster inventory). */
export const MAX_BOOTSTRAP_SERVERS = 256;

/**
 * `host:port[,host:port…]` (or an array of them) into a list of addresses. IPv6 hosts are
 * bracketed: `[::1]:9092`.
 */
export function parseBootstrapServers(raw: unknown, name = 'bootstrap.servers'): string[] {
  let parts: unknown[];
  if (typeof raw === 'string') parts = raw.split(',');
  else if (Array.isArray(raw)) parts = raw;
  else throw invalidConfig(`${name} must be "host:port[,host:port…]" or a list of them`);
  const list = parts.map((a) => (typeof a === 'string' ? a.trim() : a)).filter((a) => a !== '');
  if (list.length === 0) throw invalidConfig(`${name} is empty: give at least one host:port`);
  if (list.length > MAX_BOOTSTRAP_SERVERS) throw invalidConfig(`${name} lists ${list.length} addresses, more than ${MAX_BOOTSTRAP_SERVERS}`);
  for (const a of list) {
    if (typeof a !== 'string') throw invalidConfig(`${name} entries must be strings, got ${String(a)}`);
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9._-]+)):(\d{1,5})$/.exec(a);
    const port = m ? Number(m[3]) : 0;
    if (!m || port < 1 || port > 65535) throw invalidConfig(`${name} entry ${JSON.stringify(a)} is not host:port`);
  }
  return [...new Set(list as string[])];
}

export const bootstrapServersConfig: ConfigKey<string[]> = {
  doc: 'host:port pairs used to discover the cluster',
  parse: (raw, name) => parseBootstrapServers(raw, name),
};

export const COMMON_CONFIG = {
  'bootstrap.servers': bootstrapServersConfig,
  'client.id': stringConfig('', 255, 'a name for this client in broker logs and metrics'),
  'request.timeout.ms': intConfig(30_000, 0, INT_MAX, 'how long to wait for the response to one request'),
  'retry.backoff.ms': intConfig(100, 0, INT_MAX, 'first backoff before retrying a failed request'),
  'retry.backoff.max.ms': intConfig(1_000, 0, INT_MAX, 'the cap of the exponential retry backoff'),
  'metadata.max.age.ms': intConfig(300_000, 0, INT_MAX, 'refresh metadata at least this often'),
  'metrics.sample.window.ms': intConfig(30_000, 1, INT_MAX, 'the window of one metrics sample'),
  'metrics.num.samples': intConfig(2, 1, 100, 'samples kept to compute rates and averages'),
} as const;
