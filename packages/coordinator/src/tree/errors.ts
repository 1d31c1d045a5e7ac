// Typed errors of the coordination service, shared by server and client. The table is the
// contract: codes are stable, so clients, operators and tests match on them. Add codes, never
// renumber or rename one. `retriable` means the same request may succeed if sent again after a
// back-off (possibly to another node); a retried write that timed out may already have been
// applied, so only the caller knows whether retrying it is safe.

export interface ErrorSpec {
  /** Stable numeric code carried on the wire. */
  readonly code: number;
  readonly retriable: boolean;
  /** Default human-readable message. */
  readonly message: string;
}

export const COORDINATOR_ERRORS = {
  // 1xx: the znode tree
  NO_NODE: { code: 101, retriable: false, message: 'znode does not exist' },
  NODE_EXISTS: { code: 102, retriable: false, message: 'znode already exists' },
  BAD_VERSION: { code: 103, retriable: false, message: 'znode version does not match the expected version' },
  NOT_EMPTY: { code: 104, retriable: false, message: 'znode has children' },
  NO_CHILDREN_FOR_EPHEMERALS: { code: 105, retriable: false, message: 'ephemeral znodes cannot have children' },
  INVALID_PATH: { code: 106, retriable: false, message: 'invalid znode path' },
  DATA_TOO_LARGE: { code: 107, retriable: false, message: 'znode data exceeds the size limit' },
  TOO_MANY_CHILDREN: { code: 108, retriable: false, message: 'parent znode has reached the children limit' },
  SEQUENCE_OVERFLOW: { code: 109, retriable: false, message: "parent znode's sequence counter is exhausted" },
  QUOTA_EXCEEDED: { code: 110, retriable: false, message: 'a tree-wide limit (znodes, data bytes or sessions) is reached' },
  // 2xx: sessions
  SESSION_EXPIRED: { code: 201, retriable: false, message: 'session expired or closed' },
  SESSION_MOVED: { code: 202, retriable: false, message: 'session is now served by another connection' },
  UNKNOWN_SESSION: { code: 203, retriable: true, message: 'this node does not know the session (yet)' },
  SESSION_EXISTS: { code: 204, retriable: false, message: 'a session with this id already exists' },
  // 3xx: requests and their limits
  INVALID_ARGUMENT: { code: 301, retriable: false, message: 'invalid argument' },
  REQUEST_TOO_LARGE: { code: 302, retriable: false, message: 'request exceeds the size limit' },
  TOO_MANY_OPS: { code: 303, retriable: false, message: 'multi has more operations than allowed' },
  TOO_MANY_WATCHES: { code: 304, retriable: false, message: 'watch limit reached' },
  RESYNC_REQUIRED: {
    code: 305,
    retriable: false,
    message: 'watch history no longer reaches back to the last index seen: re-read and re-register watches',
  },
  UNSUPPORTED_VERSION: { code: 306, retriable: false, message: 'unsupported format version' },
  CORRUPT_DATA: { code: 307, retriable: false, message: 'bytes are not a valid encoding' },
  // 4xx: the ensemble
  NOT_LEADER: { code: 401, retriable: true, message: 'this node is not the leader' },
  UNAVAILABLE: { code: 402, retriable: true, message: 'service temporarily unavailable' },
  TIMEOUT: { code: 403, retriable: true, message: 'request timed out; its outcome is unknown' },
  // 5xx: bugs and codes this build does not know
  INTERNAL: { code: 500, retriable: false, message: 'internal error' },
  UNKNOWN: { code: 501, retriable: false, message: 'unknown error code' },
} as const satisfies Record<string, ErrorSpec>;

export type CoordinatorErrorCode = keyof typeof COORDINATOR_ERRORS;

/** Extra facts an error carries (e.g. `failedOpIndex`, `leaderId`): flat, small, serialisable. */
export type ErrorDetails = Readonly<Record<string, string | number | boolean>>;

const CODE_BY_NUMBER: ReadonlyMap<number, CoordinatorErrorCode> = new Map(
  (Object.keys(COORDINATOR_ERRORS) as CoordinatorErrorCode[]).map((name) => [COORDINATOR_ERRORS[name].code, name]),
);

/** The error code with this wire number, if this build knows it. */
export function errorCodeFromNumber(code: number): CoordinatorErrorCode | undefined {
  return CODE_BY_NUMBER.get(code);
}

export interface CoordinatorErrorOptions {
  /** Replaces the table's default message. */
  message?: string;
  /** The znode path the error is about. */
  path?: string;
  details?: ErrorDetails;
  cause?: unknown;
}

export class CoordinatorError extends Error {
  readonly code: CoordinatorErrorCode;
  readonly path: string | undefined;
  readonly details: ErrorDetails;

  constructor(code: CoordinatorErrorCode, options: CoordinatorErrorOptions = {}) {
    const spec = COORDINATOR_ERRORS[code];
    const message = options.message ?? (options.path === undefined ? spec.message : `${spec.message}: ${options.path}`);
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CoordinatorError';
    this.code = code;
    this.path = options.path;
    this.details = options.details ?? {};
  }

  get numericCode(): number {
    return COORDINATOR_ERRORS[this.code].code;
  }

  get retriable(): boolean {
    return COORDINATOR_ERRORS[this.code].retriable;
  }
}

export function isCoordinatorError(err: unknown, code?: CoordinatorErrorCode): err is CoordinatorError {
  return err instanceof CoordinatorError && (code === undefined || err.code === code);
}

/** The error as it crosses the wire (gRPC message or status details). */
export interface WireError {
  code: number;
  message: string;
  path?: string;
  details?: ErrorDetails;
}

// Bounds on what fromWireError accepts, so a hostile peer cannot make us hold huge strings.
export const WIRE_ERROR_MAX_MESSAGE_CHARS = 4096;
export const WIRE_ERROR_MAX_DETAILS = 16;
export const WIRE_ERROR_MAX_DETAIL_CHARS = 1024;

/**
 * Any thrown value as a wire error. A non-CoordinatorError is a bug or an adapter failure: it
 * becomes INTERNAL with its message only (no stack), so internals do not leak to clients.
 */
export function toWireError(err: unknown): WireError {
  if (err instanceof CoordinatorError) {
    const wire: WireError = { code: err.numericCode, message: err.message };
    if (err.path !== undefined) wire.path = err.path;
    if (Object.keys(err.details).length > 0) wire.details = { ...err.details };
    return wire;
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: COORDINATOR_ERRORS.INTERNAL.code, message: message.slice(0, WIRE_ERROR_MAX_MESSAGE_CHARS) };
}

/**
 * A wire error back into a CoordinatorError. Garbage never throws: a malformed object becomes
 * CORRUPT_DATA, and a code this build does not know becomes UNKNOWN with the number kept in
 * `details.wireCode`.
 */
export function fromWireError(wire: unknown): CoordinatorError {
  if (typeof wire !== 'object' || wire === null) {
    return new CoordinatorError('CORRUPT_DATA', { message: 'wire error is not an object' });
  }
  const { code, message, path, details } = wire as Record<string, unknown>;
  if (typeof code !== 'number' || !Number.isInteger(code)) {
    return new CoordinatorError('CORRUPT_DATA', { message: 'wire error has no integer code' });
  }
  const cleanMessage = typeof message === 'string' && message.length > 0 ? message.slice(0, WIRE_ERROR_MAX_MESSAGE_CHARS) : undefined;
  const cleanPath =
    typeof path === 'string' && path.length > 0 ? path.slice(0, WIRE_ERROR_MAX_DETAIL_CHARS) : undefined;
  const cleanDetails: Record<string, string | number | boolean> = {};
  if (typeof details === 'object' && details !== null) {
    let kept = 0;
    for (const [key, value] of Object.entries(details)) {
      if (kept >= WIRE_ERROR_MAX_DETAILS) break;
      if (key.length > WIRE_ERROR_MAX_DETAIL_CHARS || key === '__proto__') continue;
      if (typeof value === 'string') cleanDetails[key] = value.slice(0, WIRE_ERROR_MAX_DETAIL_CHARS);
      else if (typeof value === 'number' || typeof value === 'boolean') cleanDetails[key] = value;
      else continue;
      kept++;
    }
  }
  const name = errorCodeFromNumber(code);
  if (name === undefined) cleanDetails.wireCode = code;
  return new CoordinatorError(name ?? 'UNKNOWN', {
    ...(cleanMessage !== undefined ? { message: cleanMessage } : {}),
    ...(cleanPath !== undefined ? { path: cleanPath } : {}),
    details: cleanDetails,
  });
}
