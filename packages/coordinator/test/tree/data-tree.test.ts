import { DataTree } from '../../src/tree/data-tree.js';
import { isCoordinatorError, type CoordinatorErrorCode } from '../../src/tree/errors.js';
import type { TreeCommand } from '../../src/tree/commands.js';
import { START_TIME_MS, TreeHarness, bytesOf } from './tree-harness.js';

function expectThrowsCode(fn: () => unknown, code: CoordinatorErrorCode): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(isCoordinatorError(caught, code)).toBe(true);
}

describe('DataTree: create', () => {
  test('a new znode gets ZooKeeper stats, and its parent counts the child', () => {
    const h = new TreeHarness();
    h.create('/a');
    const rootBefore = h.tree.exists('/');
    const outcome = h.apply({ type: 'create', path: '/a/b', data: bytesOf('xyz'), mode: 'persistent', sessionId: 0 });
    expect(outcome.index).toBe(2);
    expect(outcome.result).toEqual({
      type: 'create',
      path: '/a/b',
      stat: {
        czxid: 2,
        mzxid: 2,
        pzxid: 2,
        ctime: START_TIME_MS + 2000,
        mtime: START_TIME_MS + 2000,
        version: 0,
        cversion: 0,
        ephemeralOwner: 0,
        dataLength: 3,
        numChildren: 0,
      },
    });
    expect(outcome.events).toEqual([
      { type: 'created', path: '/a/b', index: 2 },
      { type: 'childrenChanged', path: '/a', index: 2 },
    ]);
    expect(h.tree.exists('/a')).toMatchObject({ czxid: 1, mzxid: 1, pzxid: 2, cversion: 1, numChildren: 1, version: 0 });
    expect(h.tree.exists('/')).toEqual(rootBefore);
    expect(Buffer.from(h.tree.get('/a/b').data).toString()).toBe('xyz');
    expect(h.tree.lastAppliedIndex).toBe(2);
  });

  test('refuses an existing znode, a missing parent and the root', () => {
    const h = new TreeHarness();
    h.create('/a');
    expect(h.errorCode({ type: 'create', path: '/a', data: bytesOf(''), mode: 'persistent', sessionId: 0 })).toBe('NODE_EXISTS');
    expect(h.errorCode({ type: 'create', path: '/x/y', data: bytesOf(''), mode: 'persistent', sessionId: 0 })).toBe('NO_NODE');
    expect(h.errorCode({ type: 'create', path: '/', data: bytesOf(''), mode: 'persistent', sessionId: 0 })).toBe('NODE_EXISTS');
    expect(h.tree.exists('/a')).toMatchObject({ cversion: 0 });
  });

  test('keeps its own copy of the data', () => {
    const h = new TreeHarness();
    const data = Buffer.from('abc');
    h.create('/a', data);
    data.fill(0);
    expect(Buffer.from(h.tree.get('/a').data).toString()).toBe('abc');
  });

  test('sequential names use the parent cversion, which deletes advance too (ZooKeeper semantics)', () => {
    const h = new TreeHarness();
    h.create('/q');
    expect(h.create('/q/item-', '', 'persistent_sequential')).toBe('/q/item-0000000000');
    expect(h.create('/q/item-', '', 'persistent_sequential')).toBe('/q/item-0000000001');
    h.create('/q/plain');
    h.ok('delete', { type: 'delete', path: '/q/plain', expectedVersion: -1, sessionId: 0 });
    expect(h.create('/q/', '', 'persistent_sequential')).toBe('/q/0000000004');
    expect(h.tree.children('/q').children).toEqual(['0000000004', 'item-0000000000', 'item-0000000001']);
    expect(h.create('/', '', 'persistent_sequential')).toBe('/0000000001');
  });

  test('a sequential name that exists already is NODE_EXISTS, and the counter is not consumed', () => {
    const h = new TreeHarness();
    h.create('/q');
    h.create('/q/n0000000001'); // cversion of /q becomes 1
    const clash = { type: 'create', path: '/q/n', data: bytesOf(''), mode: 'persistent_sequential', sessionId: 0 } as const;
    expect(h.errorCode(clash)).toBe('NODE_EXISTS');
    expect(h.tree.exists('/q')?.cversion).toBe(1);
    expect(h.create('/q/m', '', 'persistent_sequential')).toBe('/q/m0000000001');
  });

  test('the sequence counter is bounded: past 9999999999 creates fail with SEQUENCE_OVERFLOW', () => {
    const base = new TreeHarness();
    base.create('/q');
    const state = base.tree.exportState();
    const q = state.znodes.find((z) => z.path === '/q');
    if (q === undefined) throw new Error('no /q');
    q.cversion = 9_999_999_999;
    const tree = DataTree.fromState(state);
    const create = (index: number) =>
      tree.apply({ type: 'create', timeMs: 1, sessionId: 0, path: '/q/s', data: new Uint8Array(0), mode: 'persistent_sequential' }, index);
    expect(create(10).result).toMatchObject({ type: 'create', path: '/q/s9999999999' });
    const overflow = create(11).result;
    expect(overflow.type === 'error' && overflow.error.code).toBe('SEQUENCE_OVERFLOW');
  });

  test('ephemerals are owned by a live session and cannot have children', () => {
    const h = new TreeHarness();
    h.session(7);
    const path = h.create('/e', 'x', 'ephemeral', 7);
    expect(h.tree.exists(path)?.ephemeralOwner).toBe(7);
    expect(h.tree.session(7)?.ephemeralPaths).toEqual(['/e']);
    expect(h.errorCode({ type: 'create', path: '/e/child', data: bytesOf(''), mode: 'persistent', sessionId: 0 })).toBe(
      'NO_CHILDREN_FOR_EPHEMERALS',
    );
    expect(h.errorCode({ type: 'create', path: '/e2', data: bytesOf(''), mode: 'ephemeral', sessionId: 0 })).toBe('INVALID_ARGUMENT');
    expect(h.errorCode({ type: 'create', path: '/e3', data: bytesOf(''), mode: 'ephemeral', sessionId: 99 })).toBe('SESSION_EXPIRED');
    expect(h.create('/es-', '', 'ephemeral_sequential', 7)).toBe('/es-0000000001');
    expect(h.tree.session(7)?.ephemeralPaths).toEqual(['/e', '/es-0000000001']);
  });
});

describe('DataTree: setData', () => {
  test('bumps version, mzxid and mtime, keeps creation stats, and reports dataChanged', () => {
    const h = new TreeHarness();
    h.create('/a', 'one');
    const outcome = h.apply({ type: 'setData', path: '/a', data: bytesOf('three'), expectedVersion: 0, sessionId: 0 });
    expect(outcome.result).toEqual({
      type: 'setData',
      path: '/a',
      stat: expect.objectContaining({ czxid: 1, mzxid: 2, ctime: START_TIME_MS + 1000, mtime: START_TIME_MS + 2000, version: 1, dataLength: 5 }),
    });
    expect(outcome.events).toEqual([{ type: 'dataChanged', path: '/a', index: 2 }]);
    expect(h.tree.exists('/')?.cversion).toBe(1);
    h.ok('setData', { type: 'setData', path: '/a', data: bytesOf(''), expectedVersion: -1, sessionId: 0 });
    expect(h.tree.exists('/a')?.version).toBe(2);
    expect(h.tree.totalDataBytes).toBe(0);
  });

  test('compare-and-set: a stale version is BAD_VERSION with both versions, a missing znode NO_NODE', () => {
    const h = new TreeHarness();
    h.create('/a');
    h.ok('setData', { type: 'setData', path: '/a', data: bytesOf('1'), expectedVersion: 0, sessionId: 0 });
    const { result } = h.apply({ type: 'setData', path: '/a', data: bytesOf('2'), expectedVersion: 0, sessionId: 0 });
    expect(result.type).toBe('error');
    if (result.type !== 'error') return;
    expect(result.error.code).toBe('BAD_VERSION');
    expect(result.error.details).toEqual({ expectedVersion: 0, actualVersion: 1 });
    expect(result.error.path).toBe('/a');
    expect(h.errorCode({ type: 'setData', path: '/b', data: bytesOf(''), expectedVersion: -1, sessionId: 0 })).toBe('NO_NODE');
  });

  test('the root takes data', () => {
    const h = new TreeHarness();
    h.ok('setData', { type: 'setData', path: '/', data: bytesOf('r'), expectedVersion: 0, sessionId: 0 });
    expect(h.tree.exists('/')).toMatchObject({ version: 1, mzxid: 1, dataLength: 1 });
  });
});

describe('DataTree: delete', () => {
  test('removes a childless znode and bumps the parent cversion and pzxid', () => {
    const h = new TreeHarness();
    h.create('/a');
    h.create('/a/b');
    const outcome = h.apply({ type: 'delete', path: '/a/b', expectedVersion: 0, sessionId: 0 });
    expect(outcome.result).toEqual({ type: 'delete', path: '/a/b' });
    expect(outcome.events).toEqual([
      { type: 'deleted', path: '/a/b', index: 3 },
      { type: 'childrenChanged', path: '/a', index: 3 },
    ]);
    expect(h.tree.exists('/a/b')).toBeNull();
    expect(h.tree.exists('/a')).toMatchObject({ cversion: 2, pzxid: 3, numChildren: 0 });
  });

  test('refuses a znode with children, a stale version, a missing znode and the root', () => {
    const h = new TreeHarness();
    h.create('/a');
    h.create('/a/b');
    expect(h.errorCode({ type: 'delete', path: '/a', expectedVersion: -1, sessionId: 0 })).toBe('NOT_EMPTY');
    expect(h.errorCode({ type: 'delete', path: '/a/b', expectedVersion: 5, sessionId: 0 })).toBe('BAD_VERSION');
    expect(h.errorCode({ type: 'delete', path: '/nope', expectedVersion: -1, sessionId: 0 })).toBe('NO_NODE');
    expect(h.errorCode({ type: 'delete', path: '/', expectedVersion: -1, sessionId: 0 })).toBe('INVALID_ARGUMENT');
    expect(h.tree.nodeCount).toBe(3);
  });

  test('deleting an ephemeral takes it off its session', () => {
    const h = new TreeHarness();
    h.session(3);
    h.create('/e', '', 'ephemeral', 3);
    h.ok('delete', { type: 'delete', path: '/e', expectedVersion: -1, sessionId: 0 });
    expect(h.tree.session(3)?.ephemeralPaths).toEqual([]);
    h.ok('closeSession', { type: 'closeSession', sessionId: 3 });
  });
});

describe('DataTree: sessions', () => {
  test('a session id is the given one, or the command index when 0; ids are unique', () => {
    const h = new TreeHarness();
    expect(h.session(0, 4000)).toBe(1);
    expect(h.session(100, 5000)).toBe(100);
    expect(h.errorCode({ type: 'createSession', sessionId: 100, timeoutMs: 1 })).toBe('SESSION_EXISTS');
    h.index = 99;
    expect(h.errorCode({ type: 'createSession', sessionId: 0, timeoutMs: 1 })).toBe('SESSION_EXISTS'); // index 100 is taken
    expect(h.tree.sessions()).toEqual([
      { sessionId: 1, timeoutMs: 4000 },
      { sessionId: 100, timeoutMs: 5000 },
    ]);
  });

  test('the session table is bounded', () => {
    const h = new TreeHarness({ maxSessions: 2 });
    h.session(1);
    h.session(2);
    expect(h.errorCode({ type: 'createSession', sessionId: 3, timeoutMs: 1 })).toBe('QUOTA_EXCEEDED');
  });

  test('closing a session deletes its ephemerals in path order, and nothing else', () => {
    const h = new TreeHarness();
    h.session(1);
    h.session(2);
    h.create('/app');
    h.create('/app/z', '', 'ephemeral', 1);
    h.create('/app/a', '', 'ephemeral', 1);
    h.create('/app/other', '', 'ephemeral', 2);
    h.create('/app/persistent', '', 'persistent', 1);
    const outcome = h.apply({ type: 'closeSession', sessionId: 1 });
    expect(outcome.result).toEqual({ type: 'closeSession', sessionId: 1, deletedPaths: ['/app/a', '/app/z'] });
    expect(outcome.events).toEqual([
      { type: 'deleted', path: '/app/a', index: 8 },
      { type: 'childrenChanged', path: '/app', index: 8 },
      { type: 'deleted', path: '/app/z', index: 8 },
      { type: 'childrenChanged', path: '/app', index: 8 },
    ]);
    expect(h.tree.children('/app').children).toEqual(['other', 'persistent']);
    expect(h.tree.session(1)).toBeNull();
    expect(h.errorCode({ type: 'closeSession', sessionId: 1 })).toBe('SESSION_EXPIRED');
  });

  test('expiring sessions deletes their ephemerals; unknown and repeated ids are skipped', () => {
    const h = new TreeHarness();
    h.session(1);
    h.session(2);
    h.session(3);
    h.create('/e1', '', 'ephemeral', 1);
    h.create('/e2', '', 'ephemeral', 2);
    h.create('/e3', '', 'ephemeral', 3);
    const outcome = h.apply({ type: 'expireSessions', sessionIds: [2, 9, 1, 2] });
    expect(outcome.result).toEqual({ type: 'expireSessions', expiredSessionIds: [2, 1], deletedPaths: ['/e2', '/e1'] });
    expect(outcome.events.filter((e) => e.type === 'deleted').map((e) => e.path)).toEqual(['/e2', '/e1']);
    expect(h.tree.children('/').children).toEqual(['e3']);
    expect(h.tree.sessions().map((s) => s.sessionId)).toEqual([3]);
  });

  test('an expired session can no longer write, with or without ephemerals', () => {
    const h = new TreeHarness();
    h.session(5);
    h.create('/a', '', 'persistent', 5);
    h.ok('expireSessions', { type: 'expireSessions', sessionIds: [5] });
    expect(h.tree.exists('/a')).not.toBeNull();
    expect(h.errorCode({ type: 'setData', path: '/a', data: bytesOf(''), expectedVersion: -1, sessionId: 5 })).toBe('SESSION_EXPIRED');
    expect(h.errorCode({ type: 'delete', path: '/a', expectedVersion: -1, sessionId: 5 })).toBe('SESSION_EXPIRED');
    expect(h.errorCode({ type: 'create', path: '/b', data: bytesOf(''), mode: 'persistent', sessionId: 5 })).toBe('SESSION_EXPIRED');
    expect(h.multi([{ type: 'check', path: '/a', expectedVersion: -1 }], 5).result).toMatchObject({
      type: 'error',
      error: { code: 'SESSION_EXPIRED' },
    });
  });
});

describe('DataTree: multi', () => {
  test('applies every op in order and returns one result per op', () => {
    const h = new TreeHarness();
    h.session(1);
    h.create('/a');
    const outcome = h.multi(
      [
        { type: 'check', path: '/a', expectedVersion: 0 },
        { type: 'create', path: '/a/seq-', data: bytesOf('s'), mode: 'persistent_sequential' },
        { type: 'create', path: '/lock', data: bytesOf(''), mode: 'ephemeral' },
        { type: 'setData', path: '/a', data: bytesOf('v1'), expectedVersion: 0 },
        { type: 'check', path: '/a', expectedVersion: 1 },
        { type: 'delete', path: '/a/seq-0000000000', expectedVersion: 0 },
      ],
      1,
    );
    expect(outcome.result.type).toBe('multi');
    if (outcome.result.type !== 'multi') return;
    expect(outcome.result.results.map((r) => `${r.type} ${r.path}`)).toEqual([
      'check /a',
      'create /a/seq-0000000000',
      'create /lock',
      'setData /a',
      'check /a',
      'delete /a/seq-0000000000',
    ]);
    expect(outcome.events.map((e) => `${e.type} ${e.path}`)).toEqual([
      'created /a/seq-0000000000',
      'childrenChanged /a',
      'created /lock',
      'childrenChanged /',
      'dataChanged /a',
      'deleted /a/seq-0000000000',
      'childrenChanged /a',
    ]);
    expect(h.tree.exists('/a')).toMatchObject({ version: 1, cversion: 2, numChildren: 0 });
    expect(h.tree.session(1)?.ephemeralPaths).toEqual(['/lock']);
  });

  test('a failing op leaves nothing applied: same snapshot, no events, index of the failed op', () => {
    const h = new TreeHarness();
    h.session(1);
    h.create('/a', 'orig');
    h.create('/gone');
    const before = h.tree.snapshot();
    const outcome = h.multi(
      [
        { type: 'create', path: '/a/n-', data: bytesOf('x'), mode: 'persistent_sequential' },
        { type: 'create', path: '/eph', data: bytesOf(''), mode: 'ephemeral' },
        { type: 'setData', path: '/a', data: bytesOf('changed'), expectedVersion: 0 },
        { type: 'delete', path: '/gone', expectedVersion: -1 },
        { type: 'create', path: '/eph/child', data: bytesOf(''), mode: 'persistent' },
      ],
      1,
    );
    expect(outcome.events).toEqual([]);
    expect(outcome.result.type).toBe('error');
    if (outcome.result.type !== 'error') return;
    expect(outcome.result.error.code).toBe('NO_CHILDREN_FOR_EPHEMERALS');
    expect(outcome.result.error.details.failedOpIndex).toBe(4);
    const after = h.tree.snapshot();
    // Only the last applied index differs (8 bytes after magic and version).
    expect(after.subarray(14, after.length - 4).equals(before.subarray(14, before.length - 4))).toBe(true);
    expect(h.tree.session(1)?.ephemeralPaths).toEqual([]);
    expect(h.tree.totalDataBytes).toBe(4);
    // The sequence number was not consumed.
    expect(h.create('/a/n-', '', 'persistent_sequential')).toBe('/a/n-0000000000');
  });

  test.each([
    ['check of a missing znode', { type: 'check', path: '/x', expectedVersion: -1 }, 'NO_NODE'],
    ['check of a stale version', { type: 'check', path: '/a', expectedVersion: 3 }, 'BAD_VERSION'],
    ['create of an existing znode', { type: 'create', path: '/a', data: bytesOf(''), mode: 'persistent' }, 'NODE_EXISTS'],
    ['delete of a znode with children', { type: 'delete', path: '/', expectedVersion: -1 }, 'INVALID_ARGUMENT'],
    ['setData of a missing znode', { type: 'setData', path: '/m', data: bytesOf(''), expectedVersion: -1 }, 'NO_NODE'],
  ] as const)('%s fails the whole multi', (_what, failing, code) => {
    const h = new TreeHarness();
    h.create('/a');
    const nodesBefore = h.tree.nodeCount;
    const outcome = h.multi([{ type: 'create', path: '/b', data: bytesOf(''), mode: 'persistent' }, failing]);
    expect(outcome.result).toMatchObject({ type: 'error', error: { code, details: { failedOpIndex: 1 } } });
    expect(h.tree.nodeCount).toBe(nodesBefore);
    expect(h.tree.exists('/')).toMatchObject({ cversion: 1, pzxid: 1 });
  });

  test('later ops see earlier ones: create then delete, set then check', () => {
    const h = new TreeHarness();
    const outcome = h.multi([
      { type: 'create', path: '/t', data: bytesOf(''), mode: 'persistent' },
      { type: 'setData', path: '/t', data: bytesOf('1'), expectedVersion: 0 },
      { type: 'setData', path: '/t', data: bytesOf('2'), expectedVersion: 1 },
      { type: 'check', path: '/t', expectedVersion: 2 },
      { type: 'delete', path: '/t', expectedVersion: 2 },
    ]);
    expect(outcome.result.type).toBe('multi');
    expect(h.tree.exists('/t')).toBeNull();
    expect(h.tree.exists('/')?.cversion).toBe(2);
  });

  test('an empty multi succeeds and changes nothing; too many ops is TOO_MANY_OPS', () => {
    const h = new TreeHarness({ maxMultiOps: 2 });
    expect(h.multi([]).result).toEqual({ type: 'multi', results: [] });
    const check = { type: 'check', path: '/', expectedVersion: -1 } as const;
    expect(h.multi([check, check, check]).result).toMatchObject({ type: 'error', error: { code: 'TOO_MANY_OPS' } });
  });
});

describe('DataTree: limits', () => {
  test('data size, children per znode, znode count, total data and path length', () => {
    const h = new TreeHarness({ maxDataBytes: 4, maxChildren: 2, maxNodes: 5, maxTotalDataBytes: 10, maxPathBytes: 12 });
    expect(h.errorCode({ type: 'create', path: '/big', data: new Uint8Array(5), mode: 'persistent', sessionId: 0 })).toBe('DATA_TOO_LARGE');
    h.create('/p', 'aaaa');
    h.create('/p/1', 'bbbb');
    h.create('/p/2');
    expect(h.errorCode({ type: 'create', path: '/p/3', data: bytesOf(''), mode: 'persistent', sessionId: 0 })).toBe(
      'TOO_MANY_CHILDREN',
    );
    expect(h.errorCode({ type: 'create', path: '/q', data: bytesOf('ccc'), mode: 'persistent', sessionId: 0 })).toBe('QUOTA_EXCEEDED');
    expect(h.errorCode({ type: 'setData', path: '/p/2', data: bytesOf('ccc'), expectedVersion: -1, sessionId: 0 })).toBe('QUOTA_EXCEEDED');
    h.ok('setData', { type: 'setData', path: '/p/2', data: bytesOf('cc'), expectedVersion: -1, sessionId: 0 });
    h.create('/q');
    expect(h.tree.nodeCount).toBe(5);
    expect(h.errorCode({ type: 'create', path: '/q/r', data: bytesOf(''), mode: 'persistent', sessionId: 0 })).toBe('QUOTA_EXCEEDED');
    expect(h.errorCode({ type: 'delete', path: '/abcdefghijkl', expectedVersion: -1, sessionId: 0 })).toBe('INVALID_PATH');
    expect(h.errorCode({ type: 'create', path: '/p/', data: bytesOf(''), mode: 'persistent_sequential', sessionId: 0 })).toBe(
      'INVALID_PATH',
    );
  });

  test('limits must be positive integers', () => {
    expectThrowsCode(() => new DataTree({ maxDataBytes: 0 }), 'INVALID_ARGUMENT');
    expectThrowsCode(() => new DataTree({ maxChildren: 1.5 }), 'INVALID_ARGUMENT');
  });
});

describe('DataTree: reads', () => {
  test('get, exists and children, with typed errors', () => {
    const h = new TreeHarness();
    h.create('/a', 'data');
    h.create('/a/c');
    h.create('/a/b');
    h.create('/a/B');
    expect(Buffer.from(h.tree.get('/a').data).toString()).toBe('data');
    expect(h.tree.children('/a')).toEqual({ children: ['B', 'b', 'c'], stat: h.tree.exists('/a') });
    expect(h.tree.children('/').children).toEqual(['a']);
    expect(h.tree.exists('/zz')).toBeNull();
    expectThrowsCode(() => h.tree.get('/zz'), 'NO_NODE');
    expectThrowsCode(() => h.tree.children('/zz'), 'NO_NODE');
    expectThrowsCode(() => h.tree.get('zz'), 'INVALID_PATH');
    expectThrowsCode(() => h.tree.exists('/a/'), 'INVALID_PATH');
  });
});

describe('DataTree: the apply contract', () => {
  test('indexes must increase (gaps allowed); a violation throws INTERNAL and changes nothing', () => {
    const tree = new DataTree();
    const noop: TreeCommand = { type: 'noop', timeMs: 0 };
    expect(tree.apply(noop, 5).result).toEqual({ type: 'noop' });
    expect(tree.apply(noop, 9).index).toBe(9);
    expectThrowsCode(() => tree.apply(noop, 9), 'INTERNAL');
    expectThrowsCode(() => tree.apply(noop, 3), 'INTERNAL');
    expectThrowsCode(() => tree.apply(noop, 10.5), 'INTERNAL');
    expect(tree.lastAppliedIndex).toBe(9);
  });

  test('advanceTo follows Raft entries that are not tree commands', () => {
    const tree = new DataTree();
    tree.advanceTo(3);
    expect(tree.lastAppliedIndex).toBe(3);
    expect(DataTree.restore(tree.snapshot()).lastAppliedIndex).toBe(3);
    expectThrowsCode(() => tree.advanceTo(3), 'INTERNAL');
    expectThrowsCode(() => tree.apply({ type: 'noop', timeMs: 0 }, 2), 'INTERNAL');
  });

  test('a malformed command is an error result on every replica, never a throw', () => {
    const tree = new DataTree();
    for (const [i, garbage] of [null, {}, { type: 'create', timeMs: 1 }, { type: 'wipe', timeMs: 1 }].entries()) {
      const outcome = tree.apply(garbage as unknown as TreeCommand, i + 1);
      expect(outcome.result).toMatchObject({ type: 'error', error: { code: 'INVALID_ARGUMENT' } });
      expect(outcome.events).toEqual([]);
    }
    expect(tree.lastAppliedIndex).toBe(4);
    expect(tree.nodeCount).toBe(1);
  });
});
