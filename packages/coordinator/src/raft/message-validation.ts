// Shape checks for messages arriving from the network. The core trusts nothing it did not
// create: every message stepped into a RaftNode passes through here, and garbage becomes a
// RaftError('INVALID_MESSAGE') instead of corrupting state.

import { MAX_REQUEST_CTX_LENGTH } from './config.js';
import { RaftError } from './errors.js';
import type { Entry, Message, Snapshot } from './types.js';

// Module-level reference: a global lookup per field is measurably slow in vm contexts (jest).
const isSafeInteger = Number.isSafeInteger;
const isArray = Array.isArray;

function fail(what: string): never {
  throw new RaftError('INVALID_MESSAGE', what);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !isArray(v);
}

function index(m: Record<string, unknown>, field: string): void {
  const v = m[field];
  if (typeof v !== 'number' || !isSafeInteger(v) || v < 0) fail(`${field} must be a non-negative integer, got ${String(v)}`);
}

function nodeId(m: Record<string, unknown>, field: string): void {
  const v = m[field];
  if (typeof v !== 'number' || !isSafeInteger(v) || v < 1) fail(`${field} must be a positive integer node id, got ${String(v)}`);
}

function bool(m: Record<string, unknown>, field: string): void {
  if (typeof m[field] !== 'boolean') fail(`${field} must be a boolean`);
}

function requestCtx(m: Record<string, unknown>): void {
  const v = m.requestCtx;
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_REQUEST_CTX_LENGTH) {
    fail(`requestCtx must be a string of 1..${MAX_REQUEST_CTX_LENGTH} characters`);
  }
}

export function validateEntry(e: unknown, what = 'entry'): asserts e is Entry {
  if (!isRecord(e)) fail(`${what} must be an object`);
  index(e, 'index');
  index(e, 'term');
  if (e.index === 0 || e.term === 0) fail(`${what} index and term must be ≥ 1`);
  if (e.type !== 'normal' && e.type !== 'noop') fail(`${what} type must be 'normal' or 'noop'`);
  if (!(e.data instanceof Uint8Array)) fail(`${what} data must be a Uint8Array`);
}

export function validateSnapshot(s: unknown): asserts s is Snapshot {
  if (!isRecord(s)) fail('snapshot must be an object');
  index(s, 'index');
  index(s, 'term');
  if (s.index === 0 || s.term === 0) fail('snapshot index and term must be ≥ 1');
  if (!(s.data instanceof Uint8Array)) fail('snapshot data must be a Uint8Array');
}

/** Throws RaftError('INVALID_MESSAGE') unless `m` is a well-formed Message. */
export function validateMessage(m: unknown): asserts m is Message {
  if (!isRecord(m)) fail('message must be an object');
  nodeId(m, 'from');
  nodeId(m, 'to');
  index(m, 'term');
  switch (m.type) {
    case 'append': {
      index(m, 'prevIndex');
      index(m, 'prevTerm');
      index(m, 'commit');
      const entries = m.entries;
      if (!isArray(entries)) fail('entries must be an array');
      let expected = (m.prevIndex as number) + 1;
      let lastTerm = m.prevTerm as number;
      for (const e of entries as unknown[]) {
        validateEntry(e);
        if (e.index !== expected) fail(`entries must be contiguous after prevIndex: expected ${expected}, got ${e.index}`);
        if (e.term < lastTerm || e.term > (m.term as number)) fail(`entry ${e.index} term ${e.term} out of order`);
        expected++;
        lastTerm = e.term;
      }
      return;
    }
    case 'appendResponse':
      index(m, 'index');
      bool(m, 'reject');
      index(m, 'hintIndex');
      index(m, 'hintTerm');
      return;
    case 'vote':
    case 'preVote':
      index(m, 'lastIndex');
      index(m, 'lastTerm');
      bool(m, 'transfer');
      return;
    case 'voteResponse':
    case 'preVoteResponse':
      bool(m, 'reject');
      return;
    case 'heartbeat':
      index(m, 'commit');
      index(m, 'readSeq');
      return;
    case 'heartbeatResponse':
      index(m, 'readSeq');
      return;
    case 'snapshot':
      validateSnapshot(m.snapshot);
      return;
    case 'timeoutNow':
      return;
    case 'readIndex':
      requestCtx(m);
      return;
    case 'readIndexResponse':
      requestCtx(m);
      index(m, 'index');
      return;
    default:
      fail(`unknown message type ${JSON.stringify(m.type)?.slice(0, 40)}`);
  }
}
