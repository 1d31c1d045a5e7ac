// A JSON wire form of Raft messages for transports that carry text or bytes: every Uint8Array
// field (entry data, snapshot data) becomes a base64 string; everything else is already plain
// JSON. decodeMessage validates what it returns, so a transport can hand its result straight
// to RaftNode.step.

import { RaftError } from './errors.js';
import { validateMessage } from './message-validation.js';
import type { Entry, Message } from './types.js';

function toBase64(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function fromBase64(text: unknown, what: string): Uint8Array {
  if (typeof text !== 'string' || text.length % 4 !== 0 || !BASE64.test(text)) {
    throw new RaftError('INVALID_MESSAGE', `${what} must be a base64 string`);
  }
  const buf = Buffer.from(text, 'base64');
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The JSON text of `message`. */
export function encodeMessage(message: Message): string {
  switch (message.type) {
    case 'append':
      return JSON.stringify({ ...message, entries: message.entries.map((e) => ({ ...e, data: toBase64(e.data) })) });
    case 'snapshot':
      return JSON.stringify({ ...message, snapshot: { ...message.snapshot, data: toBase64(message.snapshot.data) } });
    default:
      return JSON.stringify(message);
  }
}

/**
 * Parses and validates a message; throws RaftError('INVALID_MESSAGE') for anything else.
 * `maxChars` bounds the text accepted (the transport's own limit should be the first line).
 */
export function decodeMessage(text: string, maxChars = 256 << 20): Message {
  if (typeof text !== 'string') throw new RaftError('INVALID_MESSAGE', 'message text must be a string');
  if (text.length > maxChars) throw new RaftError('INVALID_MESSAGE', `message of ${text.length} chars exceeds ${maxChars}`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new RaftError('INVALID_MESSAGE', 'message is not valid JSON', { cause });
  }
  if (!isRecord(raw)) throw new RaftError('INVALID_MESSAGE', 'message must be a JSON object');
  if (raw.type === 'append') {
    if (!Array.isArray(raw.entries)) throw new RaftError('INVALID_MESSAGE', 'entries must be an array');
    raw.entries = (raw.entries as unknown[]).map((e, i): unknown =>
      isRecord(e) ? ({ ...e, data: fromBase64(e.data, `entries[${i}].data`) } as Partial<Entry>) : e,
    );
  } else if (raw.type === 'snapshot') {
    if (isRecord(raw.snapshot)) raw.snapshot = { ...raw.snapshot, data: fromBase64(raw.snapshot.data, 'snapshot.data') };
  }
  validateMessage(raw);
  return raw;
}
