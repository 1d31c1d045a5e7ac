// Conversions between the tree's types and the proto messages, used by both the server and
// the client, so the two sides cannot disagree on a code or a mode.

import { COORDINATOR_ERRORS, CoordinatorError, type CoordinatorErrorCode } from '../tree/errors.js';
import type { CreateMode } from '../tree/commands.js';
import type { Stat } from '../tree/results.js';
import type { WireCreateMode, ProtoError, WireStat } from './wire-types.js';

const MODE_TO_WIRE: Record<CreateMode, WireCreateMode> = {
  persistent: 'PERSISTENT',
  ephemeral: 'EPHEMERAL',
  persistent_sequential: 'PERSISTENT_SEQUENTIAL',
  ephemeral_sequential: 'EPHEMERAL_SEQUENTIAL',
};
const MODE_FROM_WIRE = Object.fromEntries(Object.entries(MODE_TO_WIRE).map(([k, v]) => [v, k])) as Record<WireCreateMode, CreateMode>;

export function modeToWire(mode: CreateMode): WireCreateMode {
  return MODE_TO_WIRE[mode];
}

export function modeFromWire(mode: string): CreateMode {
  const m = MODE_FROM_WIRE[mode as WireCreateMode];
  if (!m) throw new CoordinatorError('INVALID_ARGUMENT', { message: `unknown create mode ${JSON.stringify(mode)}` });
  return m;
}

export function statToWire(stat: Stat): WireStat {
  return { ...stat };
}

export function statFromWire(stat: WireStat | null | undefined): Stat {
  if (!stat) throw new CoordinatorError('CORRUPT_DATA', { message: 'response has no stat' });
  return {
    czxid: stat.czxid, mzxid: stat.mzxid, pzxid: stat.pzxid, ctime: stat.ctime, mtime: stat.mtime, version: stat.version,
    cversion: stat.cversion, ephemeralOwner: stat.ephemeralOwner, dataLength: stat.dataLength, numChildren: stat.numChildren,
  };
}

/** Any thrown value as the proto Error; non-coordinator errors become INTERNAL without internals. */
export function errorToWire(err: unknown): ProtoError {
  if (err instanceof CoordinatorError) {
    const leaderId = err.details.leaderId;
    const opIndex = err.details.failedOpIndex;
    return {
      code: err.code,
      message: err.message,
      path: err.path ?? '',
      leaderId: typeof leaderId === 'number' ? leaderId : 0,
      opIndex: typeof opIndex === 'number' ? opIndex : -1,
    };
  }
  return { code: 'INTERNAL', message: err instanceof Error ? err.message.slice(0, 4096) : String(err).slice(0, 4096), path: '', leaderId: 0, opIndex: -1 };
}

export function errorFromWire(wire: ProtoError): CoordinatorError {
  const known = Object.prototype.hasOwnProperty.call(COORDINATOR_ERRORS, wire.code);
  const code = (known ? wire.code : 'UNKNOWN') as CoordinatorErrorCode;
  const details: Record<string, string | number | boolean> = {};
  if (wire.leaderId) details.leaderId = wire.leaderId;
  if (wire.opIndex >= 0) details.failedOpIndex = wire.opIndex;
  if (!known) details.wireCode = String(wire.code).slice(0, 64);
  return new CoordinatorError(code, {
    message: typeof wire.message === 'string' && wire.message ? wire.message.slice(0, 4096) : undefined,
    path: wire.path || undefined,
    details,
  });
}
