// Kafka-style configuration: each client takes a plain object keyed by Kafka's config names
// ('linger.ms', 'acks', …). Values may be numbers/booleans or the strings a properties file or
// command line gives ('5', 'true'). Each key has a parser with its range; an unknown key or a bad
// value is a ClientError INVALID_CONFIG naming the key, so a typo never passes silently.

import { invalidConfig } from '../client-error.js';

export interface ConfigKey<T> {
  readonly doc: string;
  /** Absent: the key is required. */
  readonly default?: T;
  parse(raw: unknown, name: string): T;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ConfigDefs = Record<string, ConfigKey<any>>;

export type ParsedConfig<D extends ConfigDefs> = { readonly [K in keyof D]: D[K] extends ConfigKey<infer T> ? T : never };

/** What the caller may pass for a config object built from `D`: any key, as its type or a string. */
export type ConfigInput<D extends ConfigDefs> = { [K in keyof D]?: unknown };

export const INT_MAX = 0x7fff_ffff;

function describe(raw: unknown): string {
  return typeof raw === 'string' ? JSON.stringify(raw) : String(raw);
}

function toNumber(raw: unknown, name: string): number {
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw)) return Number(raw.trim());
  throw invalidConfig(`${name} must be an integer, got ${describe(raw)}`);
}

export function intConfig(defaultValue: number | undefined, min: number, max: number, doc: string): ConfigKey<number> {
  return {
    doc,
    ...(defaultValue === undefined ? {} : { default: defaultValue }),
    parse(raw, name) {
      const n = toNumber(raw, name);
      if (!Number.isSafeInteger(n) || n < min || n > max) {
        throw invalidConfig(`${name} must be an integer in [${min}, ${max}], got ${describe(raw)}`);
      }
      return n;
    },
  };
}

export function booleanConfig(defaultValue: boolean, doc: string): ConfigKey<boolean> {
  return {
    doc,
    default: defaultValue,
    parse(raw, name) {
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === 'false') return raw === 'true';
      throw invalidConfig(`${name} must be true or false, got ${describe(raw)}`);
    },
  };
}

export function stringConfig(defaultValue: string, maxLength: number, doc: string): ConfigKey<string> {
  return {
    doc,
    default: defaultValue,
    parse(raw, name) {
      if (typeof raw !== 'string') throw invalidConfig(`${name} must be a string, got ${describe(raw)}`);
      if (raw.length > maxLength) throw invalidConfig(`${name} is longer than ${maxLength} characters`);
      return raw;
    },
  };
}

export function enumConfig<T extends string>(defaultValue: T, values: readonly T[], doc: string): ConfigKey<T> {
  return {
    doc,
    default: defaultValue,
    parse(raw, name) {
      const v = typeof raw === 'string' ? raw.trim().toLowerCase() : raw;
      if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
        throw invalidConfig(`${name} must be one of ${values.join(', ')}, got ${describe(raw)}`);
      }
      return v as T;
    },
  };
}

export interface ParseResult<D extends ConfigDefs> {
  values: ParsedConfig<D>;
  /** The keys the caller set (Kafka resolves some conflicts differently for explicit values). */
  explicit: ReadonlySet<string>;
}

/**
 * Parses `input` against `defs`. `what` names the client in messages ("producer").
 * Keys whose value is undefined count as not given.
 */
export function parseConfig<D extends ConfigDefs>(defs: D, input: unknown, what: string): ParseResult<D> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw invalidConfig(`${what} config must be an object of Kafka config names, got ${describe(input)}`);
  }
  const raw = input as Record<string, unknown>;
  const unknown = Object.keys(raw).filter((k) => !Object.hasOwn(defs, k) && raw[k] !== undefined);
  if (unknown.length > 0) {
    throw invalidConfig(`unknown ${what} config ${unknown.map((k) => JSON.stringify(k)).join(', ')}`);
  }
  const values: Record<string, unknown> = {};
  const explicit = new Set<string>();
  for (const [name, key] of Object.entries(defs)) {
    const given = raw[name];
    if (given === undefined) {
      if (!('default' in key)) throw invalidConfig(`${what} config ${name} is required`);
      values[name] = key.default;
    } else {
      values[name] = key.parse(given, name);
      explicit.add(name);
    }
  }
  return { values: values as ParsedConfig<D>, explicit };
}
