// What an application hands to send(), checked and turned into bytes. Keys, values and header
// values may be Buffers, Uint8Arrays or strings (UTF-8); null is a null key/value (a null value
// is a tombstone). Every bad field is a ClientError INVALID_ARGUMENT naming it.

import type { RecordHeader } from '@samsa/log';
import { invalidArgument } from '../client-error.js';
import { validatePartition, validateTopicName } from '../topic-partition.js';

export type Bytes = Buffer | Uint8Array | string;

export type HeadersInput = Record<string, Bytes | null> | ReadonlyArray<{ key: string; value: Bytes | null }>;

export interface ProducerRecord {
  topic: string;
  key?: Bytes | null;
  value: Bytes | null;
  headers?: HeadersInput;
  /** Send to this partition instead of asking the partitioner. */
  partition?: number;
  /** Create time in epoch ms; defaults to the time of send(). */
  timestamp?: number;
}

/** Where a record was written. offset is -1 with acks=0 (no answer is awaited). */
export interface RecordMetadata {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
}

/** A record ready for the accumulator. */
export interface SerializedRecord {
  topic: string;
  partition: number | undefined;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
  timestamp: number | undefined;
}

/** Headers one record may carry at most. */
export const MAX_RECORD_HEADERS = 10_000;

function toBytes(v: unknown, what: string): Buffer | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  throw invalidArgument(`${what} must be a Buffer, Uint8Array, string or null, got ${typeof v}`);
}

function toHeaders(input: unknown): RecordHeader[] {
  if (input === undefined || input === null) return [];
  const entries: Array<[unknown, unknown]> = Array.isArray(input)
    ? input.map((h: unknown) => {
        if (typeof h !== 'object' || h === null) throw invalidArgument('each header must be {key, value}');
        return [(h as { key: unknown }).key, (h as { value: unknown }).value];
      })
    : typeof input === 'object'
      ? Object.entries(input as Record<string, unknown>)
      : (() => {
          throw invalidArgument('headers must be an object or an array of {key, value}');
        })();
  if (entries.length > MAX_RECORD_HEADERS) throw invalidArgument(`a record may carry at most ${MAX_RECORD_HEADERS} headers`);
  return entries.map(([key, value], i) => {
    if (typeof key !== 'string') throw invalidArgument(`header ${i} key must be a string`);
    return { key, value: toBytes(value, `header ${JSON.stringify(key)} value`) };
  });
}

export function serializeRecord(record: unknown): SerializedRecord {
  if (typeof record !== 'object' || record === null) throw invalidArgument('send() takes a record object {topic, value, …}');
  const r = record as ProducerRecord;
  validateTopicName(r.topic);
  if (r.partition !== undefined) validatePartition(r.partition);
  if (r.timestamp !== undefined && (typeof r.timestamp !== 'number' || !Number.isSafeInteger(r.timestamp) || r.timestamp < 0)) {
    throw invalidArgument(`Invalid timestamp: ${String(r.timestamp)}. Timestamp should always be non-negative or undefined.`);
  }
  if (!('value' in r) || r.value === undefined) throw invalidArgument('record value is required (null for a tombstone)');
  return {
    topic: r.topic,
    partition: r.partition,
    key: toBytes(r.key, 'key'),
    value: toBytes(r.value, 'value'),
    headers: toHeaders(r.headers),
    timestamp: r.timestamp,
  };
}
