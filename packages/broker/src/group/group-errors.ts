// Errors of the group coordinator core. Two kinds, kept apart on purpose (as in the replica core):
// - what a client must see (an unknown member, an illegal generation, a fenced static member…) is
//   a *response* carrying one of Kafka's error names from @samsa/client, which the protocol
//   adapter puts on the wire;
// - GroupError is thrown for misuse by the adapter (time going backwards, a request id reused
//   while pending, a store completion nobody asked for) and for a broken invariant, which means the
//   group's state can no longer be trusted: the adapter unloads the group, it never retries.
// Codes are stable: add codes, never rename one.

export type GroupErrorCode =
  | 'INVALID_ARGUMENT' // an adapter call with a value out of range (NaN time, reused request id)
  | 'INVALID_CONFIG' // a GroupConfig / OffsetConfig value out of range
  | 'INVARIANT_VIOLATION'; // the core's own state broke a group invariant

export class GroupError extends Error {
  constructor(
    readonly code: GroupErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'GroupError';
  }
}

export function invariant(condition: boolean, message: () => string): asserts condition {
  if (!condition) throw new GroupError('INVARIANT_VIOLATION', message());
}

export function checkArgument(condition: boolean, message: () => string): asserts condition {
  if (!condition) throw new GroupError('INVALID_ARGUMENT', message());
}

export function checkTime(name: string, v: number): void {
  checkArgument(typeof v === 'number' && Number.isSafeInteger(v) && v >= 0, () => `${name} ${String(v)} is not a non-negative integer time in ms`);
}
