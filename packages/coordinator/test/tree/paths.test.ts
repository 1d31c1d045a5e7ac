import {
  isSelfOrDescendant,
  parentPath,
  baseName,
  childPath,
  pathProblem,
  selfAndAncestors,
  sequenceSuffix,
  assertValidPath,
} from '../../src/tree/paths.js';
import { isCoordinatorError } from '../../src/tree/errors.js';

const MAX = 1024;

describe('znode path validation (ZooKeeper rules)', () => {
  test.each([
    '/',
    '/a',
    '/a/b/c',
    '/brokers/ids/1',
    '/a.b',
    '/..a',
    '/a-b_c:d',
    '/ünïcödé',
    '/a b',
    '/zookeeper',
  ])('accepts %j', (path) => {
    expect(pathProblem(path, MAX)).toBeNull();
  });

  test.each([
    ['', 'empty'],
    ['a', 'start with /'],
    ['a/b', 'start with /'],
    ['/a/', 'end with /'],
    ['//', 'end with /'],
    ['/a//b', 'empty segment'],
    ['/.', "relative segment '.'"],
    ['/a/..', "relative segment '..'"],
    ['/a/./b', "relative segment '.'"],
    ['/a\u0000b', 'forbidden character'],
    ['/a\nb', 'forbidden character'],
    ['/a\u007fb', 'forbidden character'],
    ['/a\u009fb', 'forbidden character'],
    ['/a\ud800b', 'forbidden character'],
    ['/a\ue000b', 'forbidden character'],
    ['/a\ufffeb', 'forbidden character'],
  ])('rejects %j (%s)', (path, reason) => {
    expect(pathProblem(path, MAX)).toContain(reason);
  });

  test.each([undefined, null, 7, {}, ['/a']])('rejects the non-string %p', (path) => {
    expect(pathProblem(path, MAX)).toBe('path is not a string');
  });

  test('bounds the length in UTF-8 bytes, counting the sequential suffix', () => {
    expect(pathProblem(`/${'a'.repeat(1023)}`, MAX)).toBeNull();
    expect(pathProblem(`/${'a'.repeat(1024)}`, MAX)).toContain('over the limit');
    expect(pathProblem(`/${'é'.repeat(511)}`, MAX)).toBeNull(); // 1 + 1022 bytes
    expect(pathProblem(`/${'é'.repeat(512)}`, MAX)).toContain('over the limit');
    expect(pathProblem(`/${'a'.repeat(1013)}`, MAX, true)).toBeNull();
    expect(pathProblem(`/${'a'.repeat(1014)}`, MAX, true)).toContain('over the limit');
  });

  test('a sequential prefix may end with / but not hold empty segments', () => {
    expect(pathProblem('/queue/', MAX, true)).toBeNull();
    expect(pathProblem('/', MAX, true)).toBeNull();
    expect(pathProblem('/queue/item-', MAX, true)).toBeNull();
    expect(pathProblem('/queue//', MAX, true)).toContain('empty segment');
    expect(pathProblem('/queue/', MAX)).toContain('end with /');
  });

  test('assertValidPath throws INVALID_PATH with the path', () => {
    let caught: unknown;
    try {
      assertValidPath('/a//b', MAX);
    } catch (err) {
      caught = err;
    }
    expect(isCoordinatorError(caught, 'INVALID_PATH')).toBe(true);
    expect((caught as { path: string }).path).toBe('/a//b');
  });
});

describe('path helpers', () => {
  test('parent, base name and child path', () => {
    expect(parentPath('/a')).toBe('/');
    expect(parentPath('/a/b/c')).toBe('/a/b');
    expect(baseName('/a/b/c')).toBe('c');
    expect(baseName('/')).toBe('');
    expect(childPath('/', 'a')).toBe('/a');
    expect(childPath('/a', 'b')).toBe('/a/b');
  });

  test('descendants and ancestors', () => {
    expect(isSelfOrDescendant('/a/b', '/a')).toBe(true);
    expect(isSelfOrDescendant('/a', '/a')).toBe(true);
    expect(isSelfOrDescendant('/ab', '/a')).toBe(false);
    expect(isSelfOrDescendant('/a', '/')).toBe(true);
    expect([...selfAndAncestors('/a/b/c')]).toEqual(['/a/b/c', '/a/b', '/a', '/']);
    expect([...selfAndAncestors('/')]).toEqual(['/']);
  });

  test('sequence suffixes are 10 zero-padded digits', () => {
    expect(sequenceSuffix(0)).toBe('0000000000');
    expect(sequenceSuffix(42)).toBe('0000000042');
    expect(sequenceSuffix(9_999_999_999)).toBe('9999999999');
  });
});
