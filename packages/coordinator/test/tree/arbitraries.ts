// fast-check generators of tree commands over a small namespace, so random streams collide:
// they create, overwrite and delete the same znodes, reuse sessions and hit version checks.

import fc from 'fast-check';
import { CREATE_MODES, type MultiOp, type TreeCommand } from '../../src/tree/commands.js';

const SEGMENTS = ['a', 'b', 'c'];

export const arbitraryPath = (): fc.Arbitrary<string> =>
  fc.array(fc.constantFrom(...SEGMENTS), { minLength: 1, maxLength: 3 }).map((parts) => `/${parts.join('/')}`);

const arbitraryData = (): fc.Arbitrary<Uint8Array> =>
  fc.oneof(fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ maxLength: 8 }).map((a) => Buffer.from(a)));

const arbitrarySessionId = (): fc.Arbitrary<number> => fc.integer({ min: 0, max: 4 });
const arbitraryVersion = (): fc.Arbitrary<number> => fc.integer({ min: -1, max: 2 });
const arbitraryTime = (): fc.Arbitrary<number> => fc.integer({ min: 0, max: 2_000_000_000_000 });

export const arbitraryOp = (): fc.Arbitrary<MultiOp> =>
  fc.oneof(
    fc.record({ type: fc.constant('check' as const), path: arbitraryPath(), expectedVersion: arbitraryVersion() }),
    fc.record({
      type: fc.constant('create' as const),
      path: fc.oneof(arbitraryPath(), arbitraryPath().map((p) => `${p}/`)),
      data: arbitraryData(),
      mode: fc.constantFrom(...CREATE_MODES),
    }),
    fc.record({ type: fc.constant('setData' as const), path: arbitraryPath(), data: arbitraryData(), expectedVersion: arbitraryVersion() }),
    fc.record({ type: fc.constant('delete' as const), path: arbitraryPath(), expectedVersion: arbitraryVersion() }),
  );

const timed = <T extends object>(fields: fc.Arbitrary<T>) =>
  fc.tuple(fields, arbitraryTime()).map(([f, timeMs]) => ({ ...f, timeMs }));

const createSession = timed(
  fc.record({
    type: fc.constant('createSession' as const),
    sessionId: arbitrarySessionId(),
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
const singleOp = fc
  .tuple(arbitraryOp(), arbitrarySessionId(), arbitraryTime())
  .filter(([op]) => op.type !== 'check')
  .map(([op, sessionId, timeMs]) => ({ ...op, sessionId, timeMs }) as TreeCommand);
const multi = timed(
  fc.record({ type: fc.constant('multi' as const), sessionId: arbitrarySessionId(), ops: fc.array(arbitraryOp(), { maxLength: 4 }) }),
);
const noop = timed(fc.record({ type: fc.constant('noop' as const) }));

/** Any command; create ops with a trailing '/' are invalid unless sequential, on purpose. */
export const arbitraryCommand = (): fc.Arbitrary<TreeCommand> =>
  fc.oneof(
    { weight: 2, arbitrary: createSession },
    { weight: 1, arbitrary: closeSession },
    { weight: 1, arbitrary: expireSessions },
    { weight: 6, arbitrary: singleOp },
    { weight: 2, arbitrary: multi },
    { weight: 1, arbitrary: noop },
  );
