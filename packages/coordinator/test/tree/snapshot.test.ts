import fc from 'fast-check';
import { DataTree } from '../../src/tree/data-tree.js';
import { isCoordinatorError, type CoordinatorErrorCode } from '../../src/tree/errors.js';
import { decodeTreeSnapshot, encodeTreeSnapshot, type TreeState } from '../../src/tree/snapshot.js';
import { arbitraryStream } from './arbitraries.js';
import { TreeHarness, bytesOf } from './tree-harness.js';

function expectThrowsCode(fn: () => unknown, code: CoordinatorErrorCode): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  if (!isCoordinatorError(caught, code)) throw new Error(`expected ${code}, got ${String(caught)}`);
}

function populated(): TreeHarness {
  const h = new TreeHarness();
  h.session(11, 4000);
  h.session(12, 9000);
  h.create('/brokers');
  h.create('/brokers/ids');
  h.create('/brokers/ids/1', '{"host":"a"}', 'ephemeral', 11);
  h.create('/brokers/ids/2', Buffer.from([0, 255, 1]), 'ephemeral', 12);
  h.create('/queue');
  h.create('/queue/item-', 'x', 'persistent_sequential');
  h.create('/queue/item-', 'y', 'persistent_sequential');
  h.ok('delete', { type: 'delete', path: '/queue/item-0000000000', expectedVersion: -1, sessionId: 0 });
  h.ok('setData', { type: 'setData', path: '/brokers', data: bytesOf('v'), expectedVersion: 0, sessionId: 0 });
  return h;
}

describe('tree snapshots', () => {
  test('an empty tree round-trips', () => {
    const tree = new DataTree();
    const restored = DataTree.restore(tree.snapshot());
    expect(restored.snapshot().equals(tree.snapshot())).toBe(true);
    expect(restored.lastAppliedIndex).toBe(0);
    expect(restored.nodeCount).toBe(1);
  });

  test('a restored tree reads the same and carries on the same: stats, sessions, sequence counters', () => {
    const h = populated();
    const restored = DataTree.restore(h.tree.snapshot());
    expect(restored.lastAppliedIndex).toBe(h.tree.lastAppliedIndex);
    expect(restored.snapshot().equals(h.tree.snapshot())).toBe(true);
    for (const path of ['/', '/brokers', '/brokers/ids', '/brokers/ids/1', '/brokers/ids/2', '/queue', '/queue/item-0000000001']) {
      expect(restored.get(path)).toEqual(h.tree.get(path));
      expect(restored.children(path)).toEqual(h.tree.children(path));
    }
    expect(restored.sessions()).toEqual(h.tree.sessions());
    expect(restored.session(11)).toEqual(h.tree.session(11));
    expect(restored.totalDataBytes).toBe(h.tree.totalDataBytes);

    const next = h.index + 1;
    const seq = { type: 'create', timeMs: 5, sessionId: 0, path: '/queue/item-', data: bytesOf(''), mode: 'persistent_sequential' } as const;
    expect(restored.apply(seq, next)).toEqual(h.tree.apply(seq, next));
    const close = { type: 'closeSession', timeMs: 6, sessionId: 11 } as const;
    expect(restored.apply(close, next + 1)).toEqual(h.tree.apply(close, next + 1));
    expect(restored.snapshot().equals(h.tree.snapshot())).toBe(true);
  });

  test('property: random trees round-trip through bytes', () => {
    fc.assert(
      fc.property(arbitraryStream(60), (commands) => {
        const tree = new DataTree();
        commands.forEach((command, i) => tree.apply(command, i + 1));
        const bytes = tree.snapshot();
        const restored = DataTree.restore(bytes);
        expect(restored.snapshot().equals(bytes)).toBe(true);
        expect(restored.exportState()).toEqual(tree.exportState());
      }),
      { seed: 424242, numRuns: 200 },
    );
  });

  test('a snapshot of another format version is UNSUPPORTED_VERSION', () => {
    const bytes = populated().tree.snapshot();
    bytes.writeUInt16BE(2, 4);
    expectThrowsCode(() => DataTree.restore(bytes), 'UNSUPPORTED_VERSION');
  });

  test('any flipped byte or truncation is caught (CRC, magic or version), never a crash', () => {
    const bytes = populated().tree.snapshot();
    for (let i = 0; i < bytes.length; i++) {
      const damaged = Buffer.from(bytes);
      damaged[i] ^= 0x40;
      let caught: unknown;
      try {
        DataTree.restore(damaged);
      } catch (err) {
        caught = err;
      }
      expect(isCoordinatorError(caught, 'CORRUPT_DATA') || isCoordinatorError(caught, 'UNSUPPORTED_VERSION')).toBe(true);
    }
    for (const length of [0, 3, 10, bytes.length - 1]) expectThrowsCode(() => DataTree.restore(bytes.subarray(0, length)), 'CORRUPT_DATA');
  });

  test('property: random bytes never restore and never throw untyped errors', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (random) => {
        const withMagic = Buffer.concat([Buffer.from('SZTS\u0000\u0001', 'latin1'), random]);
        for (const candidate of [random, withMagic]) {
          try {
            DataTree.restore(candidate);
          } catch (err) {
            expect(isCoordinatorError(err)).toBe(true);
          }
        }
      }),
      { seed: 99, numRuns: 300 },
    );
  });

  describe('a well-formed snapshot of a state that is not a tree is CORRUPT_DATA', () => {
    const valid = (): TreeState => populated().tree.exportState();
    const cases: Array<[string, (s: TreeState) => void]> = [
      ['no znodes', (s) => void (s.znodes = [])],
      ['root not first', (s) => s.znodes.reverse()],
      ['child before parent', (s) => void ([s.znodes[1], s.znodes[2]] = [s.znodes[2], s.znodes[1]])],
      ['duplicate path', (s) => void s.znodes.push({ ...s.znodes[1] })],
      ['invalid path', (s) => void (s.znodes[1].path = '/brokers/')],
      ['ephemeral of an unknown session', (s) => void (s.sessions = s.sessions.filter((x) => x.sessionId !== 11))],
      ['child of an ephemeral', (s) => void s.znodes.push({ ...s.znodes[1], path: '/brokers/ids/1/x', ephemeralOwner: 0 })],
      ['ephemeral root', (s) => void (s.znodes[0].ephemeralOwner = 11)],
      ['duplicate session', (s) => void s.sessions.push({ ...s.sessions[0] })],
      ['session id 0', (s) => void s.sessions.push({ sessionId: 0, timeoutMs: 1 })],
    ];
    test.each(cases)('%s', (_what, damage) => {
      const state = valid();
      damage(state);
      expect(decodeTreeSnapshot(encodeTreeSnapshot(state))).toEqual(state);
      expectThrowsCode(() => DataTree.restore(encodeTreeSnapshot(state)), 'CORRUPT_DATA');
    });
  });
});
