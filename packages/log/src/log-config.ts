// Per-log (per-topic) configuration under Kafka's names, with Kafka's defaults. Values arrive as
// numbers or as the decimal strings an admin API carries; both are validated here, once, into a
// frozen LogConfig the log reads without further checks.

import { BATCH_HEADER_SIZE } from './batch-header.js';
import { LogError } from './errors.js';

export type MessageTimestampType = 'CreateTime' | 'LogAppendTime';
/** Kafka's cleanup.policy: delete old segments by time/size, keep the latest record per key, or both. */
export type CleanupPolicy = 'delete' | 'compact' | 'compact,delete';

export interface LogConfig {
  /** Roll the active segment before it would grow past this many bytes. */
  readonly 'segment.bytes': number;
  /** Roll the active segment once it is older than this (measured by the log's clock). */
  readonly 'segment.ms': number;
  /** Maximum size of each index file of a segment; a full index rolls the segment. */
  readonly 'segment.index.bytes': number;
  /** Bytes of log between two entries of the sparse offset and time indexes. */
  readonly 'index.interval.bytes': number;
  /** Delete a segment once its largest timestamp is older than this; -1: never. */
  readonly 'retention.ms': number;
  /** Delete the oldest segments while the log is bigger than this; -1: no limit. */
  readonly 'retention.bytes': number;
  /** Largest record batch accepted, in bytes (including the 12-byte log overhead). */
  readonly 'max.message.bytes': number;
  /** fsync after this many unflushed records. Default: never (leave it to the OS and replication). */
  readonly 'flush.messages': number;
  /** fsync when the last flush is older than this. Default: never. */
  readonly 'flush.ms': number;
  readonly 'message.timestamp.type': MessageTimestampType;
  /** delete: retention.ms/bytes apply; compact: the log cleaner keeps the latest record per key; or both. */
  readonly 'cleanup.policy': CleanupPolicy;
  /** Clean a compacted log once its dirty bytes are at least this share of its cleanable bytes (0..1). */
  readonly 'min.cleanable.dirty.ratio': number;
  /** A tombstone survives this long after the clean that first saw it (its delete horizon), then goes. */
  readonly 'delete.retention.ms': number;
  /** A record stays uncompacted at least this long after its timestamp. */
  readonly 'min.compaction.lag.ms': number;
}

export type LogConfigKey = keyof LogConfig;

/** "Never" for the flush settings, Kafka's Long.MAX_VALUE in JS numbers. */
export const NEVER = Number.MAX_SAFE_INTEGER;
const INT32_MAX = 0x7fff_ffff;

export const DEFAULT_LOG_CONFIG: LogConfig = Object.freeze({
  'segment.bytes': 1024 * 1024 * 1024,
  'segment.ms': 7 * 24 * 60 * 60 * 1000,
  'segment.index.bytes': 10 * 1024 * 1024,
  'index.interval.bytes': 4096,
  'retention.ms': 7 * 24 * 60 * 60 * 1000,
  'retention.bytes': -1,
  'max.message.bytes': 1024 * 1024 + 12,
  'flush.messages': NEVER,
  'flush.ms': NEVER,
  'message.timestamp.type': 'CreateTime',
  'cleanup.policy': 'delete',
  'min.cleanable.dirty.ratio': 0.5,
  'delete.retention.ms': 86_400_000,
  'min.compaction.lag.ms': 0,
});

interface IntRule {
  min: number;
  max: number;
}

type NonIntKey = 'message.timestamp.type' | 'cleanup.policy' | 'min.cleanable.dirty.ratio';

const INT_RULES: Record<Exclude<LogConfigKey, NonIntKey>, IntRule> = {
  // A segment must hold at least one (empty) batch; positions in the index are 32-bit.
  'segment.bytes': { min: BATCH_HEADER_SIZE, max: INT32_MAX },
  'segment.ms': { min: 1, max: NEVER },
  // At least one time-index entry (12 bytes) must fit.
  'segment.index.bytes': { min: 12, max: INT32_MAX },
  'index.interval.bytes': { min: 0, max: INT32_MAX },
  'retention.ms': { min: -1, max: NEVER },
  'retention.bytes': { min: -1, max: NEVER },
  'max.message.bytes': { min: 0, max: INT32_MAX },
  'flush.messages': { min: 1, max: NEVER },
  'flush.ms': { min: 0, max: NEVER },
  'delete.retention.ms': { min: 0, max: NEVER },
  'min.compaction.lag.ms': { min: 0, max: NEVER },
};

/** The log cleaner works on this log. */
export function isCompacted(config: LogConfig): boolean {
  return config['cleanup.policy'] !== 'delete';
}

/** Retention by time and size applies to this log. */
export function hasDeletePolicy(config: LogConfig): boolean {
  return config['cleanup.policy'] !== 'compact';
}

/** "compact", "delete", or both in either order (Kafka's list syntax), normalised. */
function parseCleanupPolicy(value: unknown): CleanupPolicy {
  if (typeof value !== 'string') throw invalid('cleanup.policy', value, 'expected delete, compact or compact,delete');
  const parts = new Set(value.split(',').map((p) => p.trim()));
  const known = [...parts].every((p) => p === 'delete' || p === 'compact');
  if (!known || parts.size === 0) throw invalid('cleanup.policy', value, 'expected delete, compact or compact,delete');
  if (parts.size === 2) return 'compact,delete';
  return parts.has('compact') ? 'compact' : 'delete';
}

function parseRatio(key: string, value: unknown): number {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^\s*\d*\.?\d+([eE]-?\d+)?\s*$/.test(value)) n = Number(value);
  else throw invalid(key, value, 'expected a number between 0 and 1');
  if (!Number.isFinite(n) || n < 0 || n > 1) throw invalid(key, value, 'must be between 0 and 1');
  return n;
}

export const LOG_CONFIG_KEYS: readonly LogConfigKey[] = Object.keys(DEFAULT_LOG_CONFIG) as LogConfigKey[];

export function isLogConfigKey(key: string): key is LogConfigKey {
  return Object.prototype.hasOwnProperty.call(DEFAULT_LOG_CONFIG, key);
}

function invalid(key: string, value: unknown, why: string): LogError {
  return new LogError('INVALID_CONFIG', `invalid value ${JSON.stringify(value)} for ${key}: ${why}`);
}

function parseInteger(key: string, value: unknown, rule: IntRule): number {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^-?\d+$/.test(value.trim())) n = Number(value.trim());
  else throw invalid(key, value, 'expected an integer');
  if (!Number.isInteger(n)) throw invalid(key, value, 'expected an integer');
  if (n < rule.min) throw invalid(key, value, `must be at least ${rule.min}`);
  // Kafka's "never" is Long.MAX_VALUE; anything past what a JS number counts exactly means the same.
  if (rule.max === NEVER && n > NEVER) return NEVER;
  if (n > rule.max) throw invalid(key, value, `must be at most ${rule.max}`);
  return n;
}

/**
 * Builds a validated LogConfig from Kafka-named overrides on top of the defaults. Unknown keys
 * are rejected (a typo must not silently fall back to a default); the broker filters topic
 * configs that are not the log's with isLogConfigKey.
 */
export function createLogConfig(overrides: Readonly<Record<string, unknown>> = {}, base: LogConfig = DEFAULT_LOG_CONFIG): LogConfig {
  const out: Record<string, number | string> = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    if (!isLogConfigKey(key)) throw new LogError('INVALID_CONFIG', `unknown log config ${JSON.stringify(key)}`);
    if (key === 'message.timestamp.type') {
      if (value !== 'CreateTime' && value !== 'LogAppendTime') {
        throw invalid(key, value, 'expected CreateTime or LogAppendTime');
      }
      out[key] = value;
    } else if (key === 'cleanup.policy') {
      out[key] = parseCleanupPolicy(value);
    } else if (key === 'min.cleanable.dirty.ratio') {
      out[key] = parseRatio(key, value);
    } else {
      out[key] = parseInteger(key, value, INT_RULES[key]);
    }
  }
  return Object.freeze(out) as unknown as LogConfig;
}
