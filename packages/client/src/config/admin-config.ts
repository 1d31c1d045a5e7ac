// The admin client's configuration (Kafka's AdminClientConfig names and defaults).

import { COMMON_CONFIG } from './common-config.js';
import { INT_MAX, intConfig, parseConfig, type ConfigInput } from './config-def.js';

export const ADMIN_CONFIG = {
  ...COMMON_CONFIG,
  'default.api.timeout.ms': intConfig(60_000, 0, INT_MAX, 'overall timeout of one admin call, retries included'),
  retries: intConfig(INT_MAX, 0, INT_MAX, 'how often a failed admin request is retried'),
} as const;

export type AdminConfig = ConfigInput<typeof ADMIN_CONFIG>;

export interface AdminSettings {
  bootstrapServers: string[];
  clientId: string;
  defaultApiTimeoutMs: number;
  requestTimeoutMs: number;
  retries: number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  metadataMaxAgeMs: number;
}

export function resolveAdminConfig(input: unknown): AdminSettings {
  const { values: c } = parseConfig(ADMIN_CONFIG, input, 'admin');
  return {
    bootstrapServers: c['bootstrap.servers'],
    clientId: c['client.id'],
    defaultApiTimeoutMs: c['default.api.timeout.ms'],
    requestTimeoutMs: c['request.timeout.ms'],
    retries: c.retries,
    retryBackoffMs: c['retry.backoff.ms'],
    retryBackoffMaxMs: c['retry.backoff.max.ms'],
    metadataMaxAgeMs: c['metadata.max.age.ms'],
  };
}
