// Znode paths, validated like ZooKeeper's PathUtils: absolute, '/'-separated, no empty, '.' or
// '..' segment, no trailing slash except the root, no control or reserved characters; plus a
// length bound in UTF-8 bytes.

import { CoordinatorError } from './errors.js';

export const ROOT_PATH = '/';

/** Sequential znodes get this many zero-padded digits appended. */
export const SEQUENCE_DIGITS = 10;
export const MAX_SEQUENCE = 10 ** SEQUENCE_DIGITS - 1;

// ZooKeeper refuses these: C0/C1 controls, surrogates and private use, and the specials block.
function isForbiddenChar(c: number): boolean {
  return (c >= 0x00 && c <= 0x1f) || (c >= 0x7f && c <= 0x9f) || (c >= 0xd800 && c <= 0xf8ff) || (c >= 0xfff0 && c <= 0xffff);
}

/**
 * Why `path` is not a valid znode path, or null when it is. With `sequential`, `path` is the
 * prefix a sequence number is appended to, so it may end with '/' (`/queue/` names children
 * `/queue/0000000007`), and the suffix counts towards the length.
 */
export function pathProblem(path: unknown, maxPathBytes: number, sequential = false): string | null {
  if (typeof path !== 'string') return 'path is not a string';
  if (path.length === 0) return 'path is empty';
  if (path[0] !== '/') return 'path must start with /';
  const bytes = Buffer.byteLength(path, 'utf8') + (sequential ? SEQUENCE_DIGITS : 0);
  if (bytes > maxPathBytes) return `path is ${bytes} bytes, over the limit of ${maxPathBytes}`;
  if (path.length === 1) return null;
  if (path.endsWith('/') && !sequential) return 'path must not end with /';
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (isForbiddenChar(c)) return `path has a forbidden character (U+${c.toString(16).padStart(4, '0')}) at ${i}`;
  }
  const segments = path.slice(1).split('/');
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    const isLast = i === segments.length - 1;
    if (segment === '' && !(isLast && sequential)) return 'path has an empty segment';
    if (segment === '.' || segment === '..') return `path has a relative segment '${segment}'`;
  }
  return null;
}

export function invalidPathError(path: unknown, problem: string): CoordinatorError {
  return new CoordinatorError('INVALID_PATH', {
    message: `invalid znode path: ${problem}`,
    ...(typeof path === 'string' ? { path: path.slice(0, 2048) } : {}),
  });
}

/** Throws INVALID_PATH unless `path` is a valid (non-sequential-prefix) znode path. */
export function assertValidPath(path: unknown, maxPathBytes: number): asserts path is string {
  const problem = pathProblem(path, maxPathBytes);
  if (problem !== null) throw invalidPathError(path, problem);
}

/** Parent of a valid, non-root path. */
export function parentPath(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash <= 0 ? ROOT_PATH : path.slice(0, slash);
}

/** Last segment of a valid path ('' for the root). */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function childPath(parent: string, name: string): string {
  return parent === ROOT_PATH ? `/${name}` : `${parent}/${name}`;
}

/** True when `path` is `ancestor` itself or lies below it. */
export function isSelfOrDescendant(path: string, ancestor: string): boolean {
  if (ancestor === ROOT_PATH) return true;
  return path === ancestor || (path.startsWith(ancestor) && path.charCodeAt(ancestor.length) === 0x2f);
}

/** The path itself, then each ancestor up to and including the root. */
export function* selfAndAncestors(path: string): Generator<string> {
  let current = path;
  yield current;
  while (current !== ROOT_PATH) {
    current = parentPath(current);
    yield current;
  }
}

/** The suffix of the `sequence`-th sequential child: 10 digits, zero padded (ZooKeeper's %010d). */
export function sequenceSuffix(sequence: number): string {
  return String(sequence).padStart(SEQUENCE_DIGITS, '0');
}
