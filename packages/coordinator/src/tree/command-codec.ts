// Byte encoding of TreeCommand for the Raft log. Layout (version 1):
//
//   u8 version | u32 BE headerLength | header: UTF-8 JSON | data blobs, back to back
//
// The JSON header holds every field, with each `data` replaced by its byte length; the blobs
// follow in the order the data fields appear (the command's own, then each op's). Data is
// copied raw, so znode payloads cost no base64 inflation, and the header stays readable.
// Fields are written in a fixed order, so equal commands encode to equal bytes.

import { CoordinatorError } from './errors.js';
import { commandShapeProblem, type MultiOp, type TreeCommand } from './commands.js';

export const COMMAND_FORMAT_VERSION = 1;
/** Default bound on an encoded command: one 1 MiB znode plus headroom. */
export const DEFAULT_MAX_COMMAND_BYTES = 2 * 1024 * 1024;

const PREFIX_BYTES = 5;

type Header = Record<string, unknown>;

function opHeader(op: MultiOp, blobs: Uint8Array[]): Header {
  switch (op.type) {
    case 'check':
      return { type: op.type, path: op.path, expectedVersion: op.expectedVersion };
    case 'delete':
      return { type: op.type, path: op.path, expectedVersion: op.expectedVersion };
    case 'setData':
      blobs.push(op.data);
      return { type: op.type, path: op.path, data: op.data.byteLength, expectedVersion: op.expectedVersion };
    case 'create':
      blobs.push(op.data);
      return { type: op.type, path: op.path, data: op.data.byteLength, mode: op.mode };
  }
}

function commandHeader(command: TreeCommand, blobs: Uint8Array[]): Header {
  switch (command.type) {
    case 'createSession':
      return { type: command.type, timeMs: command.timeMs, sessionId: command.sessionId, timeoutMs: command.timeoutMs };
    case 'closeSession':
      return { type: command.type, timeMs: command.timeMs, sessionId: command.sessionId };
    case 'expireSessions':
      return { type: command.type, timeMs: command.timeMs, sessionIds: [...command.sessionIds] };
    case 'create':
    case 'setData':
    case 'delete':
      return { ...opHeader(command, blobs), timeMs: command.timeMs, sessionId: command.sessionId };
    case 'multi':
      return {
        type: command.type,
        timeMs: command.timeMs,
        sessionId: command.sessionId,
        ops: command.ops.map((op) => opHeader(op, blobs)),
      };
    case 'noop':
      return { type: command.type, timeMs: command.timeMs };
  }
}

/**
 * Encodes a command. Throws INVALID_ARGUMENT for a malformed command and REQUEST_TOO_LARGE
 * when the encoding would exceed `maxCommandBytes`.
 */
export function encodeTreeCommand(command: TreeCommand, maxCommandBytes = DEFAULT_MAX_COMMAND_BYTES): Buffer {
  const problem = commandShapeProblem(command);
  if (problem !== null) throw new CoordinatorError('INVALID_ARGUMENT', { message: `invalid command: ${problem}` });
  const blobs: Uint8Array[] = [];
  const header = Buffer.from(JSON.stringify(commandHeader(command, blobs)), 'utf8');
  let total = PREFIX_BYTES + header.length;
  for (const blob of blobs) total += blob.byteLength;
  if (total > maxCommandBytes) {
    throw new CoordinatorError('REQUEST_TOO_LARGE', {
      message: `command encodes to ${total} bytes, over the limit of ${maxCommandBytes}`,
      details: { bytes: total, maxCommandBytes },
    });
  }
  const out = Buffer.allocUnsafe(total);
  out.writeUInt8(COMMAND_FORMAT_VERSION, 0);
  out.writeUInt32BE(header.length, 1);
  header.copy(out, PREFIX_BYTES);
  let offset = PREFIX_BYTES + header.length;
  for (const blob of blobs) {
    out.set(blob, offset);
    offset += blob.byteLength;
  }
  return out;
}

function corrupt(message: string, cause?: unknown): CoordinatorError {
  return new CoordinatorError('CORRUPT_DATA', { message: `corrupt command: ${message}`, cause });
}

/** Hands out the blobs after the header in order, never past the end. */
class BlobReader {
  constructor(
    private readonly bytes: Uint8Array,
    private offset: number,
  ) {}

  take(length: unknown): Buffer {
    if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) {
      throw corrupt('data length is not a non-negative integer');
    }
    if (length > this.bytes.byteLength - this.offset) throw corrupt('data runs past the end');
    const blob = Buffer.from(this.bytes.buffer, this.bytes.byteOffset + this.offset, length);
    this.offset += length;
    return blob;
  }

  assertAtEnd(): void {
    if (this.offset !== this.bytes.byteLength) throw corrupt(`${this.bytes.byteLength - this.offset} trailing bytes`);
  }
}

function asRecord(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw corrupt(`${what} is not an object`);
  return value as Record<string, unknown>;
}

// Rebuilds an op from the header with only the known fields; commandShapeProblem checks types.
function opFromHeader(raw: Record<string, unknown>, blobs: BlobReader): Record<string, unknown> {
  switch (raw.type) {
    case 'check':
    case 'delete':
      return { type: raw.type, path: raw.path, expectedVersion: raw.expectedVersion };
    case 'setData':
      return { type: raw.type, path: raw.path, data: blobs.take(raw.data), expectedVersion: raw.expectedVersion };
    case 'create':
      return { type: raw.type, path: raw.path, data: blobs.take(raw.data), mode: raw.mode };
    default:
      throw corrupt(`unknown operation type ${JSON.stringify(raw.type)}`);
  }
}

function commandFromHeader(raw: Record<string, unknown>, blobs: BlobReader): Record<string, unknown> {
  switch (raw.type) {
    case 'createSession':
      return { type: raw.type, timeMs: raw.timeMs, sessionId: raw.sessionId, timeoutMs: raw.timeoutMs };
    case 'closeSession':
      return { type: raw.type, timeMs: raw.timeMs, sessionId: raw.sessionId };
    case 'expireSessions':
      return { type: raw.type, timeMs: raw.timeMs, sessionIds: raw.sessionIds };
    case 'create':
    case 'setData':
    case 'delete':
      return { ...opFromHeader(raw, blobs), timeMs: raw.timeMs, sessionId: raw.sessionId };
    case 'multi': {
      if (!Array.isArray(raw.ops)) throw corrupt('multi: ops is not an array');
      const ops = raw.ops.map((op, i) => opFromHeader(asRecord(op, `multi op ${i}`), blobs));
      return { type: raw.type, timeMs: raw.timeMs, sessionId: raw.sessionId, ops };
    }
    case 'noop':
      return { type: raw.type, timeMs: raw.timeMs };
    default:
      throw corrupt(`unknown command type ${JSON.stringify(raw.type)}`);
  }
}

/**
 * Decodes bytes written by encodeTreeCommand. Throws REQUEST_TOO_LARGE over
 * `maxCommandBytes`, UNSUPPORTED_VERSION for a format this build does not know and CORRUPT_DATA
 * for anything else that is wrong. The data of the result are views into `bytes`.
 */
export function decodeTreeCommand(bytes: Uint8Array, maxCommandBytes = DEFAULT_MAX_COMMAND_BYTES): TreeCommand {
  if (bytes.byteLength > maxCommandBytes) {
    throw new CoordinatorError('REQUEST_TOO_LARGE', {
      message: `command of ${bytes.byteLength} bytes is over the limit of ${maxCommandBytes}`,
    });
  }
  if (bytes.byteLength < PREFIX_BYTES) throw corrupt(`only ${bytes.byteLength} bytes`);
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.readUInt8(0);
  if (version !== COMMAND_FORMAT_VERSION) {
    throw new CoordinatorError('UNSUPPORTED_VERSION', {
      message: `command format version ${version} is not supported (this build reads ${COMMAND_FORMAT_VERSION})`,
    });
  }
  const headerLength = view.readUInt32BE(1);
  if (headerLength > view.length - PREFIX_BYTES) throw corrupt('header runs past the end');
  let header: unknown;
  try {
    header = JSON.parse(view.toString('utf8', PREFIX_BYTES, PREFIX_BYTES + headerLength));
  } catch (err) {
    throw corrupt('header is not JSON', err);
  }
  const blobs = new BlobReader(bytes, PREFIX_BYTES + headerLength);
  const command = commandFromHeader(asRecord(header, 'header'), blobs);
  blobs.assertAtEnd();
  const problem = commandShapeProblem(command);
  if (problem !== null) throw corrupt(problem);
  return command as unknown as TreeCommand;
}
