import {
  COORDINATOR_ERRORS,
  CoordinatorError,
  errorCodeFromNumber,
  fromWireError,
  isCoordinatorError,
  toWireError,
  type CoordinatorErrorCode,
} from '../../src/tree/errors.js';

describe('coordinator error table', () => {
  test('names and numeric codes are unique, and every code maps back to its name', () => {
    const names = Object.keys(COORDINATOR_ERRORS) as CoordinatorErrorCode[];
    const numbers = names.map((n) => COORDINATOR_ERRORS[n].code);
    expect(new Set(numbers).size).toBe(names.length);
    for (const name of names) expect(errorCodeFromNumber(COORDINATOR_ERRORS[name].code)).toBe(name);
    expect(errorCodeFromNumber(99999)).toBeUndefined();
  });

  test('codes the client relies on keep their numbers and retriability', () => {
    expect(COORDINATOR_ERRORS.NO_NODE).toMatchObject({ code: 101, retriable: false });
    expect(COORDINATOR_ERRORS.BAD_VERSION).toMatchObject({ code: 103, retriable: false });
    expect(COORDINATOR_ERRORS.SESSION_EXPIRED).toMatchObject({ code: 201, retriable: false });
    expect(COORDINATOR_ERRORS.NOT_LEADER).toMatchObject({ code: 401, retriable: true });
    expect(COORDINATOR_ERRORS.UNAVAILABLE).toMatchObject({ code: 402, retriable: true });
    expect(COORDINATOR_ERRORS.TIMEOUT).toMatchObject({ code: 403, retriable: true });
  });
});

describe('CoordinatorError', () => {
  test('carries code, path, details and a default message naming the path', () => {
    const err = new CoordinatorError('NO_NODE', { path: '/a/b', details: { failedOpIndex: 2 } });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('CoordinatorError');
    expect(err.code).toBe('NO_NODE');
    expect(err.numericCode).toBe(101);
    expect(err.retriable).toBe(false);
    expect(err.path).toBe('/a/b');
    expect(err.details).toEqual({ failedOpIndex: 2 });
    expect(err.message).toBe('znode does not exist: /a/b');
    expect(isCoordinatorError(err)).toBe(true);
    expect(isCoordinatorError(err, 'NO_NODE')).toBe(true);
    expect(isCoordinatorError(err, 'BAD_VERSION')).toBe(false);
    expect(isCoordinatorError(new Error('x'))).toBe(false);
  });
});

describe('wire errors', () => {
  test('round-trip code, message, path and details', () => {
    const err = new CoordinatorError('NOT_LEADER', { message: 'ask node 2', details: { leaderId: 2, leaderAddress: 'h:1' } });
    const wire = toWireError(err);
    expect(wire).toEqual({ code: 401, message: 'ask node 2', details: { leaderId: 2, leaderAddress: 'h:1' } });
    const back = fromWireError(JSON.parse(JSON.stringify(wire)));
    expect(back.code).toBe('NOT_LEADER');
    expect(back.message).toBe('ask node 2');
    expect(back.details).toEqual({ leaderId: 2, leaderAddress: 'h:1' });
    expect(back.retriable).toBe(true);

    const withPath = fromWireError(toWireError(new CoordinatorError('NODE_EXISTS', { path: '/x' })));
    expect(withPath.code).toBe('NODE_EXISTS');
    expect(withPath.path).toBe('/x');
  });

  test('a non-coordinator error becomes INTERNAL without its stack', () => {
    const wire = toWireError(new TypeError('boom'));
    expect(wire).toEqual({ code: 500, message: 'boom' });
    expect(toWireError('text')).toEqual({ code: 500, message: 'text' });
  });

  test('an unknown numeric code becomes UNKNOWN and keeps the number', () => {
    const err = fromWireError({ code: 777, message: 'from a newer server' });
    expect(err.code).toBe('UNKNOWN');
    expect(err.details.wireCode).toBe(777);
    expect(err.message).toBe('from a newer server');
  });

  test.each([null, 42, 'x', {}, { code: 'NO_NODE' }, { code: 1.5 }])('garbage %p becomes CORRUPT_DATA, never a throw', (wire) => {
    expect(fromWireError(wire).code).toBe('CORRUPT_DATA');
  });

  test('bounds what it keeps from a hostile peer', () => {
    const details = JSON.parse('{"__proto__": "x", "nested": {"a": 1}}') as Record<string, unknown>;
    for (let i = 0; i < 100; i++) details[`k${i}`] = 'v'.repeat(5000);
    const err = fromWireError({ code: 101, message: 'm'.repeat(100_000), details });
    expect(err.message.length).toBe(4096);
    expect(Object.keys(err.details).length).toBe(16);
    expect(Object.values(err.details).every((v) => typeof v === 'string' && v.length <= 1024)).toBe(true);
    expect(Object.getPrototypeOf(err.details)).toBe(Object.prototype);
    expect(Object.keys(err.details)).not.toContain('__proto__');
  });
});
