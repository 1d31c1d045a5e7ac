import fc from 'fast-check';
import { decodeTreeCommand, encodeTreeCommand, COMMAND_FORMAT_VERSION } from '../../src/tree/command-codec.js';
import { checkTreeCommand, type TreeCommand } from '../../src/tree/commands.js';
import { isCoordinatorError, type CoordinatorErrorCode } from '../../src/tree/errors.js';
import { DEFAULT_TREE_LIMITS, resolveTreeLimits } from '../../src/tree/limits.js';
import { arbitraryCommand } from './arbitraries.js';

const bytes = (...values: number[]) => Uint8Array.from(values);

const EXAMPLES: TreeCommand[] = [
  { type: 'createSession', timeMs: 1_700_000_000_000, sessionId: 42, timeoutMs: 6000 },
  { type: 'createSession', timeMs: 5, sessionId: 0, timeoutMs: 2000 },
  { type: 'closeSession', timeMs: 6, sessionId: 42 },
  { type: 'expireSessions', timeMs: 7, sessionIds: [1, 2, 3] },
  { type: 'create', timeMs: 8, sessionId: 42, path: '/a', data: bytes(0, 1, 2, 255), mode: 'ephemeral_sequential' },
  { type: 'create', timeMs: 8, sessionId: 0, path: '/empty', data: new Uint8Array(0), mode: 'persistent' },
  { type: 'setData', timeMs: 9, sessionId: 0, path: '/a', data: Buffer.from('hello'), expectedVersion: -1 },
  { type: 'delete', timeMs: 10, sessionId: 0, path: '/a', expectedVersion: 3 },
  {
    type: 'multi',
    timeMs: 11,
    sessionId: 42,
    ops: [
      { type: 'check', path: '/a', expectedVersion: 0 },
      { type: 'create', path: '/b', data: bytes(9), mode: 'persistent' },
      { type: 'setData', path: '/b', data: bytes(8, 7), expectedVersion: 0 },
      { type: 'delete', path: '/c', expectedVersion: -1 },
    ],
  },
  { type: 'noop', timeMs: 12 },
];

function expectCode(fn: () => unknown, code: CoordinatorErrorCode): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(isCoordinatorError(caught, code)).toBe(true);
}

function withHeader(header: string, tail: Uint8Array = new Uint8Array(0)): Buffer {
  const json = Buffer.from(header, 'utf8');
  const prefix = Buffer.alloc(5);
  prefix.writeUInt8(COMMAND_FORMAT_VERSION, 0);
  prefix.writeUInt32BE(json.length, 1);
  return Buffer.concat([prefix, json, tail]);
}

describe('tree command codec', () => {
  test.each(EXAMPLES.map((c) => [c.type, c] as const))('round-trips %s, binary data included', (_type, command) => {
    const decoded = decodeTreeCommand(encodeTreeCommand(command));
    expect(normalize(decoded)).toEqual(normalize(command));
  });

  test('encodes data raw after a readable JSON header', () => {
    const data = Buffer.alloc(1000, 0xab);
    const encoded = encodeTreeCommand({ type: 'setData', timeMs: 1, sessionId: 0, path: '/x', data, expectedVersion: -1 });
    expect(encoded[0]).toBe(COMMAND_FORMAT_VERSION);
    const headerLength = encoded.readUInt32BE(1);
    expect(JSON.parse(encoded.toString('utf8', 5, 5 + headerLength))).toEqual({
      type: 'setData',
      path: '/x',
      data: 1000,
      expectedVersion: -1,
      timeMs: 1,
      sessionId: 0,
    });
    expect(encoded.length).toBe(5 + headerLength + 1000);
  });

  test('property: every well-formed command round-trips, and equal commands encode equally', () => {
    fc.assert(
      fc.property(arbitraryCommand(), (command) => {
        const encoded = encodeTreeCommand(command);
        const decoded = decodeTreeCommand(encoded);
        expect(normalize(decoded)).toEqual(normalize(command));
        expect(encodeTreeCommand(decoded).equals(encoded)).toBe(true);
      }),
      { seed: 20261125, numRuns: 300 },
    );
  });

  test('refuses to encode a malformed command or one over the size limit', () => {
    expectCode(() => encodeTreeCommand({ type: 'noop' } as unknown as TreeCommand), 'INVALID_ARGUMENT');
    expectCode(() => encodeTreeCommand({ type: 'bogus', timeMs: 1 } as unknown as TreeCommand), 'INVALID_ARGUMENT');
    const big: TreeCommand = { type: 'create', timeMs: 1, sessionId: 0, path: '/x', data: Buffer.alloc(2000), mode: 'persistent' };
    expectCode(() => encodeTreeCommand(big, 1000), 'REQUEST_TOO_LARGE');
    expectCode(() => decodeTreeCommand(encodeTreeCommand(big), 1000), 'REQUEST_TOO_LARGE');
  });

  test('an unknown format version is UNSUPPORTED_VERSION', () => {
    const encoded = encodeTreeCommand({ type: 'noop', timeMs: 1 });
    encoded[0] = 2;
    expectCode(() => decodeTreeCommand(encoded), 'UNSUPPORTED_VERSION');
  });

  test.each([
    ['too short', Buffer.from([1, 0])],
    ['header past the end', Buffer.from([1, 0, 0, 0, 99, 0x7b])],
    ['not JSON', withHeader('{nope')],
    ['not an object', withHeader('[1,2]')],
    ['unknown type', withHeader('{"type":"drop","timeMs":1}')],
    ['missing time', withHeader('{"type":"noop"}')],
    ['negative time', withHeader('{"type":"noop","timeMs":-1}')],
    ['fractional session', withHeader('{"type":"closeSession","timeMs":1,"sessionId":1.5}')],
    ['bad mode', withHeader('{"type":"create","timeMs":1,"sessionId":0,"path":"/a","data":0,"mode":"forever"}')],
    ['data past the end', withHeader('{"type":"create","timeMs":1,"sessionId":0,"path":"/a","data":5,"mode":"persistent"}', bytes(1))],
    ['trailing bytes', withHeader('{"type":"noop","timeMs":1}', bytes(1))],
    ['negative data length', withHeader('{"type":"setData","timeMs":1,"sessionId":0,"path":"/a","data":-1,"expectedVersion":0}')],
    ['version below -1', withHeader('{"type":"delete","timeMs":1,"sessionId":0,"path":"/a","expectedVersion":-2}')],
    ['ops not an array', withHeader('{"type":"multi","timeMs":1,"sessionId":0,"ops":{}}')],
    ['op not an object', withHeader('{"type":"multi","timeMs":1,"sessionId":0,"ops":[null]}')],
    ['unknown op', withHeader('{"type":"multi","timeMs":1,"sessionId":0,"ops":[{"type":"noop"}]}')],
    ['bad session ids', withHeader('{"type":"expireSessions","timeMs":1,"sessionIds":[0]}')],
  ])('decoding garbage (%s) is CORRUPT_DATA', (_what, encoded) => {
    expectCode(() => decodeTreeCommand(encoded), 'CORRUPT_DATA');
  });

  test('property: decoding random bytes never throws anything but a typed error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (random) => {
        for (const candidate of [random, withHeader(Buffer.from(random).toString('latin1'))]) {
          try {
            decodeTreeCommand(candidate);
          } catch (err) {
            expect(isCoordinatorError(err)).toBe(true);
          }
        }
      }),
      { seed: 7, numRuns: 500 },
    );
  });
});

describe('checkTreeCommand', () => {
  const limits = resolveTreeLimits({ maxDataBytes: 10, maxMultiOps: 2, maxPathBytes: 20 });
  const codeOf = (command: unknown) => checkTreeCommand(command, limits)?.code ?? null;

  test('accepts what fits the limits', () => {
    for (const command of EXAMPLES.filter((c) => c.type !== 'multi')) expect(codeOf(command)).toBeNull();
  });

  test('rejects by path, data size, op count and ephemeral without session', () => {
    expect(codeOf({ type: 'delete', timeMs: 1, sessionId: 0, path: 'a', expectedVersion: -1 })).toBe('INVALID_PATH');
    expect(codeOf({ type: 'create', timeMs: 1, sessionId: 0, path: '/q/', data: bytes(), mode: 'persistent' })).toBe('INVALID_PATH');
    expect(codeOf({ type: 'create', timeMs: 1, sessionId: 0, path: '/q/', data: bytes(), mode: 'persistent_sequential' })).toBeNull();
    expect(codeOf({ type: 'create', timeMs: 1, sessionId: 0, path: '/1234567890', data: bytes(), mode: 'persistent_sequential' })).toBe(
      'INVALID_PATH',
    );
    expect(codeOf({ type: 'setData', timeMs: 1, sessionId: 0, path: '/a', data: new Uint8Array(11), expectedVersion: -1 })).toBe(
      'DATA_TOO_LARGE',
    );
    expect(codeOf({ type: 'create', timeMs: 1, sessionId: 0, path: '/a', data: bytes(), mode: 'ephemeral' })).toBe('INVALID_ARGUMENT');
    const check = { type: 'check', path: '/a', expectedVersion: -1 };
    expect(codeOf({ type: 'multi', timeMs: 1, sessionId: 0, ops: [check, check, check] })).toBe('TOO_MANY_OPS');
    const multi = checkTreeCommand({ type: 'multi', timeMs: 1, sessionId: 0, ops: [check, { ...check, path: '/b/' }] }, limits);
    expect(multi?.code).toBe('INVALID_PATH');
    expect(multi?.details.failedOpIndex).toBe(1);
  });

  test('rejects malformed shapes with INVALID_ARGUMENT', () => {
    expect(codeOf(null)).toBe('INVALID_ARGUMENT');
    expect(codeOf({ type: 'noop', timeMs: Number.NaN })).toBe('INVALID_ARGUMENT');
    expect(codeOf({ type: 'createSession', timeMs: 1, sessionId: 1, timeoutMs: 0 })).toBe('INVALID_ARGUMENT');
    expect(codeOf({ type: 'create', timeMs: 1, sessionId: 0, path: '/a', data: 'text', mode: 'persistent' })).toBe('INVALID_ARGUMENT');
    expect(DEFAULT_TREE_LIMITS.maxDataBytes).toBe(1024 * 1024);
  });
});

/** Commands with Buffers and Uint8Arrays compared by content. */
function normalize(value: unknown): unknown {
  if (value instanceof Uint8Array) return { bytes: [...value] };
  if (Array.isArray(value)) return value.map(normalize);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalize(v)]));
  }
  return value;
}
