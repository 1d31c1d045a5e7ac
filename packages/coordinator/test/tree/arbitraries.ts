// fast-check generators of tree commands over a small namespace, so random streams collide:
// they create, overwrite and delete the same znodes, reuse sessions and hit version checks.

import fc from 'fast-check';
import { CREATE_MODES, isEphemeralMode, type MultiOp, type TreeCommand } from '../../src/tree/commands.js';

const SEGMENTS = ['a', 'b', 'c'];

const pathOfDepth = (depth: number) =>
  fc.array(fc.constantFrom(...SEGMENTS), { minLength: depth, maxLength: depth }).map((parts) => `/${parts.join('/')}`);

/** Shallow paths more often, so parents tend to exist. */
export const arbitraryPath = (): fc.Arbitrary<string> =>
  fc.oneof({ weight: 4, arbitrary: pathOfDepth(1) }, { weight: 3, arbitrary: pathOfDepth(2) }, { weight: 1, arbitrary: pathOfDepth(3) });

const arbitraryData = (): fc.Arbitrary<Uint8Array> =>
  fc.oneof(fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ maxLength: 8 }).map((a) => Buffer.from(a)));

/** Mostly no session (admin writes), else one of four sessions that streams open and close. */
const arbitrarySessionId = (): fc.Arbitrary<number> =>
  fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: 1, max: 4 }) });
const arbitraryVersion = (): fc.Arbitrary<number> => fc.integer({ min: -1, max: 2 });
const arbitraryTime = (): fc.Arbitrary<number> => fc.integer({ min: 0, max: 2_000_000_000_000 });

export const arbitraryOp = (): fc.Arbitrary<MultiOp> =>
  fc.oneof(
    {
      weight: 1,
      arbitrary: fc.record({ type: fc.constant('check' as const), path: arbitraryPath(), expectedVersion: arbitraryVersion() }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        type: fc.constant('create' as const),
        path: fc.oneof({ weight: 4, arbitrary: arbitraryPath() }, { weight: 1, arbitrary: arbitraryPath().map((p) => `${p}/`) }),
        data: arbitraryData(),
        mode: fc.constantFrom(...CREATE_MODES),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        type: fc.constant('setData' as const),
        path: arbitraryPath(),
        data: arbitraryData(),
        expectedVersion: arbitraryVersion(),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ type: fc.constant('delete' as const), path: arbitraryPath(), expectedVersion: arbitraryVersion() }),
    },
  );

const timed = <T extends object>(fields: fc.Arbitrary<T>) =>
  fc.tuple(fields, arbitraryTime()).map(([f, timeMs]) => ({ ...f, timeMs }));

const createSession = timed(
  fc.record({
    type: fc.constant('createSession' as const),
    // 0 asks for the index as id: rare, as such sessions are never used again by the stream.
    sessionId: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 1, max: 4 }) }, { weight: 1, arbitrary: fc.constant(0) }),
    timeoutMs: fc.integer({ min: 1, max: 60_000 }),
  }),
);
const closeSession = timed(fc.record({ type: fc.constant('closeSession' as const), sessionId: fc.integer({ min: 1, max: 4 }) }));
const expireSessions = timed(
  fc.record({
    type: fc.constant('expireSessions' as const),
    sessionIds: fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 3 }),
  }),
);
const hasEphemeral = (ops: MultiOp[]) => ops.some((op) => op.type === 'create' && isEphemeralMode(op.mode));
// Ephemerals need a session: give most requests that create one a session, keep a few without.
const sessionFor = (ops: MultiOp[]) =>
  hasEphemeral(ops)
    ? fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 1, max: 4 }) }, { weight: 1, arbitrary: fc.constant(0) })
    : arbitrarySessionId();

const singleOp = arbitraryOp()
  .filter((op) => op.type !== 'check')
  .chain((op) => fc.tuple(sessionFor([op]), arbitraryTime()).map(([sessionId, timeMs]) => ({ ...op, sessionId, timeMs }) as TreeCommand));
const multi = fc
  .array(arbitraryOp(), { maxLength: 4 })
  .chain((ops) =>
    fc.tuple(sessionFor(ops), arbitraryTime()).map(([sessionId, timeMs]) => ({ type: 'multi' as const, ops, sessionId, timeMs })),
  );
const noop = timed(fc.record({ type: fc.constant('noop' as const) }));

/** Any command; create ops with a trailing '/' are invalid unless sequential, on purpose. */
export const arbitraryCommand = (): fc.Arbitrary<TreeCommand> =>
  fc.oneof(
    { weight: 2, arbitrary: createSession },
    { weight: 1, arbitrary: closeSession },
    { weight: 1, arbitrary: expireSessions },
    { weight: 10, arbitrary: singleOp },
    { weight: 2, arbitrary: multi },
    { weight: 1, arbitrary: noop },
  );

/**
 * A command stream long enough to build, churn and expire small trees. It opens sessions 1–4
 * first, so early writes from them succeed; later commands close, expire and reopen them.
 */
export const arbitraryStream = (maxLength = 80): fc.Arbitrary<TreeCommand[]> =>
  fc.array(arbitraryCommand(), { minLength: 1, maxLength, size: 'max' }).map((commands) => [
    ...[1, 2, 3, 4].map((sessionId): TreeCommand => ({ type: 'createSession', timeMs: 0, sessionId, timeoutMs: 6000 })),
    ...commands,
  ]);
