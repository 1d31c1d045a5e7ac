// Byte encoding of the whole replicated tree state (znodes, sessions, last applied index), for
// Raft snapshots. Layout (version 1), all integers big-endian:
//
//   "SZTS" | u16 version | f64 lastAppliedIndex
//   u32 znodeCount, then per znode (parents before children, root first, sorted by path):
//     u32 pathBytes | path UTF-8 | f64 × 8: czxid mzxid pzxid ctime mtime version cversion
//     ephemeralOwner | u32 dataBytes | data
//   u32 sessionCount, then per session (sorted by id): f64 sessionId | f64 timeoutMs
//   u32 CRC-32C of everything before it
//
// Integers are written as f64 because they are JS safe integers (indexes, epoch ms, session
// ids) and f64 holds those exactly. Sequence counters are the parents' cversions, so they are
// part of the znodes. The encoding of a state is canonical: equal trees give equal bytes.
// This module checks the format only; DataTree.fromState checks that the state is a tree.

import { constants as bufferConstants } from 'node:buffer';
import { crc32c } from '@samsa/log';
import { CoordinatorError } from './errors.js';

export const SNAPSHOT_MAGIC = 'SZTS';
export const SNAPSHOT_FORMAT_VERSION = 1;
/** Largest snapshot this process can hold in one buffer. */
export const MAX_SNAPSHOT_BYTES = bufferConstants.MAX_LENGTH;

export interface SnapshotZnode {
  path: string;
  data: Uint8Array;
  czxid: number;
  mzxid: number;
  pzxid: number;
  ctime: number;
  mtime: number;
  version: number;
  cversion: number;
  ephemeralOwner: number;
}

export interface SnapshotSession {
  sessionId: number;
  timeoutMs: number;
}

export interface TreeState {
  lastAppliedIndex: number;
  /** Parents before children; the root first. */
  znodes: SnapshotZnode[];
  sessions: SnapshotSession[];
}

const HEADER_BYTES = 4 + 2 + 8 + 4;
const ZNODE_FIXED_BYTES = 4 + 8 * 8 + 4;
const SESSION_BYTES = 16;
const COUNT_BYTES = 4;
const CRC_BYTES = 4;

export function encodeTreeSnapshot(state: TreeState): Buffer {
  const paths = state.znodes.map((z) => Buffer.from(z.path, 'utf8'));
  let total = HEADER_BYTES + COUNT_BYTES + state.sessions.length * SESSION_BYTES + CRC_BYTES;
  for (let i = 0; i < state.znodes.length; i++) total += ZNODE_FIXED_BYTES + paths[i].length + state.znodes[i].data.byteLength;
  if (total > MAX_SNAPSHOT_BYTES) {
    throw new CoordinatorError('QUOTA_EXCEEDED', { message: `snapshot would be ${total} bytes, over ${MAX_SNAPSHOT_BYTES}` });
  }
  const out = Buffer.allocUnsafe(total);
  let at = out.write(SNAPSHOT_MAGIC, 0, 'latin1');
  at = out.writeUInt16BE(SNAPSHOT_FORMAT_VERSION, at);
  at = out.writeDoubleBE(state.lastAppliedIndex, at);
  at = out.writeUInt32BE(state.znodes.length, at);
  for (let i = 0; i < state.znodes.length; i++) {
    const z = state.znodes[i];
    at = out.writeUInt32BE(paths[i].length, at);
    at += paths[i].copy(out, at);
    for (const value of [z.czxid, z.mzxid, z.pzxid, z.ctime, z.mtime, z.version, z.cversion, z.ephemeralOwner]) {
      at = out.writeDoubleBE(value, at);
    }
    at = out.writeUInt32BE(z.data.byteLength, at);
    out.set(z.data, at);
    at += z.data.byteLength;
  }
  at = out.writeUInt32BE(state.sessions.length, at);
  for (const s of state.sessions) {
    at = out.writeDoubleBE(s.sessionId, at);
    at = out.writeDoubleBE(s.timeoutMs, at);
  }
  out.writeUInt32BE(crc32c(out, 0, at), at);
  return out;
}

function corrupt(message: string): CoordinatorError {
  return new CoordinatorError('CORRUPT_DATA', { message: `corrupt tree snapshot: ${message}` });
}

/** Reads fields in order and refuses to go past the end. */
class SnapshotReader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}

  private need(bytes: number, what: string): void {
    if (bytes > this.buf.length - this.at) throw corrupt(`${what} runs past the end`);
  }

  u16(what: string): number {
    this.need(2, what);
    const v = this.buf.readUInt16BE(this.at);
    this.at += 2;
    return v;
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.at);
    this.at += 4;
    return v;
  }

  /** A non-negative safe integer stored as f64. */
  count(what: string): number {
    this.need(8, what);
    const v = this.buf.readDoubleBE(this.at);
    this.at += 8;
    if (!Number.isSafeInteger(v) || v < 0) throw corrupt(`${what} is not a non-negative integer`);
    return v;
  }

  bytes(length: number, what: string): Buffer {
    this.need(length, what);
    const v = this.buf.subarray(this.at, this.at + length);
    this.at += length;
    return v;
  }

  get remaining(): number {
    return this.buf.length - this.at;
  }
}

/**
 * Decodes bytes written by encodeTreeSnapshot. Throws UNSUPPORTED_VERSION for another format
 * version and CORRUPT_DATA for bad magic, a CRC mismatch, or fields that do not fit. The data
 * of the znodes are copies, so the input buffer can be released.
 */
export function decodeTreeSnapshot(bytes: Uint8Array): TreeState {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < HEADER_BYTES + COUNT_BYTES + CRC_BYTES) throw corrupt(`only ${buf.length} bytes`);
  if (buf.toString('latin1', 0, 4) !== SNAPSHOT_MAGIC) throw corrupt('bad magic');
  const version = buf.readUInt16BE(4);
  if (version !== SNAPSHOT_FORMAT_VERSION) {
    throw new CoordinatorError('UNSUPPORTED_VERSION', {
      message: `tree snapshot version ${version} is not supported (this build reads ${SNAPSHOT_FORMAT_VERSION})`,
    });
  }
  const body = buf.length - CRC_BYTES;
  if (crc32c(buf, 0, body) !== buf.readUInt32BE(body)) throw corrupt('CRC mismatch');

  const reader = new SnapshotReader(buf.subarray(6, body));
  const lastAppliedIndex = reader.count('lastAppliedIndex');
  const znodeCount = reader.u32('znode count');
  // Each znode takes at least ZNODE_FIXED_BYTES: refuse counts the bytes cannot hold before allocating.
  if (znodeCount > reader.remaining / ZNODE_FIXED_BYTES) throw corrupt(`${znodeCount} znodes do not fit`);
  const znodes: SnapshotZnode[] = new Array(znodeCount);
  for (let i = 0; i < znodeCount; i++) {
    const path = reader.bytes(reader.u32('path length'), 'path').toString('utf8');
    const czxid = reader.count('czxid');
    const mzxid = reader.count('mzxid');
    const pzxid = reader.count('pzxid');
    const ctime = reader.count('ctime');
    const mtime = reader.count('mtime');
    const znodeVersion = reader.count('version');
    const cversion = reader.count('cversion');
    const ephemeralOwner = reader.count('ephemeralOwner');
    const data = Buffer.from(reader.bytes(reader.u32('data length'), 'data'));
    znodes[i] = { path, data, czxid, mzxid, pzxid, ctime, mtime, version: znodeVersion, cversion, ephemeralOwner };
  }
  const sessionCount = reader.u32('session count');
  if (sessionCount * SESSION_BYTES !== reader.remaining) throw corrupt('session table does not match its count');
  const sessions: SnapshotSession[] = new Array(sessionCount);
  for (let i = 0; i < sessionCount; i++) {
    sessions[i] = { sessionId: reader.count('sessionId'), timeoutMs: reader.count('timeoutMs') };
  }
  return { lastAppliedIndex, znodes, sessions };
}
