import fc from 'fast-check';
import { EventHistory } from '../../src/tree/event-history.js';
import { isCoordinatorError, type CoordinatorErrorCode } from '../../src/tree/errors.js';
import type { WatchEvent, WatchEventType } from '../../src/tree/watch-event.js';
import { WatchManager, type WatchNotification, type WatchSpec } from '../../src/tree/watch-manager.js';
import { arbitraryStream } from './arbitraries.js';
import { DataTree } from '../../src/tree/data-tree.js';

function expectThrowsCode(fn: () => unknown, code: CoordinatorErrorCode): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  if (!isCoordinatorError(caught, code)) throw new Error(`expected ${code}, got ${String(caught)}`);
}

/** Feeds one command's events at the next index. */
class Feeder {
  index = 0;
  constructor(readonly watches: WatchManager) {}

  send(...events: Array<[WatchEventType, string]>): WatchNotification[] {
    this.index++;
    return this.watches.dispatch({ index: this.index, events: events.map(([type, path]) => ({ type, path, index: this.index })) });
  }
}

/** Notifications as "watcher type path" lines. */
const lines = (notes: WatchNotification[]) => notes.map((n) => `${n.watcherId} ${n.event.type} ${n.event.path}`);

describe('WatchManager: one-shot watches (ZooKeeper classic)', () => {
  test('a data watch fires once on a data change, then is gone', () => {
    const f = new Feeder(new WatchManager());
    f.watches.addWatch('s1', '/a', 'data');
    expect(f.send(['childrenChanged', '/a'], ['created', '/a'])).toEqual([]);
    const notes = f.send(['dataChanged', '/a']);
    expect(notes).toEqual([{ watcherId: 's1', event: { type: 'dataChanged', path: '/a', index: 2 }, triggered: [{ path: '/a', mode: 'data' }] }]);
    expect(f.send(['dataChanged', '/a'])).toEqual([]);
    expect(f.watches.watchCount()).toBe(0);
  });

  test('an exists watch fires on creation; a data watch does not', () => {
    const f = new Feeder(new WatchManager());
    f.watches.addWatch('s1', '/a', 'exists');
    f.watches.addWatch('s2', '/a', 'data');
    expect(lines(f.send(['created', '/a'], ['childrenChanged', '/']))).toEqual(['s1 created /a']);
    expect(lines(f.send(['deleted', '/a']))).toEqual(['s2 deleted /a']);
  });

  test('a children watch fires on child changes and deletion, not on data changes', () => {
    const f = new Feeder(new WatchManager());
    f.watches.addWatch('s1', '/p', 'children');
    expect(f.send(['dataChanged', '/p'], ['created', '/p/x'])).toEqual([]);
    expect(lines(f.send(['childrenChanged', '/p']))).toEqual(['s1 childrenChanged /p']);
    f.watches.addWatch('s1', '/p', 'children');
    expect(lines(f.send(['deleted', '/p']))).toEqual(['s1 deleted /p']);
  });

  test('one notification per watcher per event, listing every watch it fired', () => {
    const f = new Feeder(new WatchManager());
    f.watches.addWatch('s1', '/a', 'data');
    f.watches.addWatch('s1', '/a', 'exists');
    f.watches.addWatch('s1', '/a', 'children');
    f.watches.addWatch('s1', '/a', 'persistent');
    f.watches.addWatch(2, '/a', 'data');
    const notes = f.send(['deleted', '/a']);
    expect(notes.map((n) => n.watcherId)).toEqual(['s1', 2]);
    expect(notes[0].triggered.map((t) => t.mode).sort()).toEqual(['children', 'data', 'exists', 'persistent']);
    expect(f.watches.watchesOf('s1')).toEqual([{ path: '/a', mode: 'persistent' }]);
    expect(f.watches.watchCount(2)).toBe(0);
  });
});

describe('WatchManager: persistent and recursive watches (ZooKeeper 3.6 addWatch)', () => {
  test('a persistent watch gets every event on its path, and stays', () => {
    const f = new Feeder(new WatchManager());
    f.watches.addWatch('s', '/a', 'persistent');
    expect(lines(f.send(['created', '/a']))).toEqual(['s created /a']);
    expect(lines(f.send(['dataChanged', '/a']))).toEqual(['s dataChanged /a']);
    expect(lines(f.send(['dataChanged', '/a']))).toEqual(['s dataChanged /a']);
    expect(lines(f.send(['created', '/a/c'], ['childrenChanged', '/a']))).toEqual(['s childrenChanged /a']);
    expect(lines(f.send(['deleted', '/a']))).toEqual(['s deleted /a']);
    expect(f.watches.watchCount('s')).toBe(1);
  });

  test('a recursive watch covers the subtree without childrenChanged, and not look-alike siblings', () => {
    const f = new Feeder(new WatchManager());
    f.watches.addWatch('s', '/app', 'persistentRecursive');
    const notes = f.send(
      ['created', '/app'],
      ['childrenChanged', '/'],
      ['created', '/app/x'],
      ['childrenChanged', '/app'],
      ['dataChanged', '/app/x/y/z'],
      ['created', '/apple'],
      ['deleted', '/app/x'],
    );
    expect(lines(notes)).toEqual(['s created /app', 's created /app/x', 's dataChanged /app/x/y/z', 's deleted /app/x']);
    f.watches.addWatch('root', '/', 'persistentRecursive');
    expect(lines(f.send(['dataChanged', '/apple']))).toEqual(['root dataChanged /apple']);
  });
});

describe('WatchManager: registration', () => {
  test('registering the same watch twice is one watch; remove and removeWatcher undo registrations', () => {
    const w = new WatchManager();
    w.addWatch('s', '/a', 'data');
    w.addWatch('s', '/a', 'data');
    w.addWatch('s', '/b', 'persistent');
    expect(w.watchCount('s')).toBe(2);
    expect(w.removeWatch('s', '/a', 'data')).toBe(true);
    expect(w.removeWatch('s', '/a', 'data')).toBe(false);
    expect(w.removeWatcher('s')).toBe(1);
    expect(w.watchCount()).toBe(0);
    expect(new Feeder(w).send(['dataChanged', '/b'])).toEqual([]);
  });

  test('bounded per watcher and in total: TOO_MANY_WATCHES, and nothing of a refused batch is kept', () => {
    const w = new WatchManager(0, { maxWatchesPerWatcher: 2, maxWatchesTotal: 3 });
    w.addWatch('a', '/1', 'data');
    w.addWatch('a', '/2', 'data');
    expectThrowsCode(() => w.addWatch('a', '/3', 'data'), 'TOO_MANY_WATCHES');
    w.addWatch('a', '/2', 'data'); // already there: no new watch
    w.addWatch('b', '/1', 'data');
    expectThrowsCode(() => w.addWatch('c', '/1', 'data'), 'TOO_MANY_WATCHES');
    expectThrowsCode(
      () =>
        w.resume(
          'b',
          [
            { path: '/x', mode: 'data' },
            { path: '/y', mode: 'data' },
          ],
          0,
        ),
      'TOO_MANY_WATCHES',
    );
    expect(w.watchCount()).toBe(3);
    expect(w.watchesOf('b')).toEqual([{ path: '/1', mode: 'data' }]);
  });

  test('bad paths and modes are typed errors', () => {
    const w = new WatchManager();
    expectThrowsCode(() => w.addWatch('s', 'a', 'data'), 'INVALID_PATH');
    expectThrowsCode(() => w.addWatch('s', '/a/', 'data'), 'INVALID_PATH');
    expectThrowsCode(() => w.addWatch('s', '/a', 'sometimes' as never), 'INVALID_ARGUMENT');
    expectThrowsCode(() => w.resume('s', [null as unknown as WatchSpec], 0), 'INVALID_ARGUMENT');
    expectThrowsCode(() => w.resume('s', [], -1), 'INVALID_ARGUMENT');
    expect(w.watchCount()).toBe(0);
  });

  test('dispatch indexes must increase', () => {
    const w = new WatchManager(10);
    expectThrowsCode(() => w.dispatch({ index: 10, events: [] }), 'INTERNAL');
    w.dispatch({ index: 12, events: [] });
    expect(w.lastIndex).toBe(12);
  });
});

describe('WatchManager: resuming after a reconnect', () => {
  test('replays the matching events after the last index seen; one-shot watches fire once', () => {
    const f = new Feeder(new WatchManager());
    f.send(['created', '/a']); // 1
    f.send(['dataChanged', '/a']); // 2: the client saw this one
    f.send(['dataChanged', '/b']); // 3
    f.send(['dataChanged', '/a'], ['created', '/a/k'], ['childrenChanged', '/a']); // 4
    f.send(['dataChanged', '/a']); // 5
    const notes = f.watches.resume(
      'client',
      [
        { path: '/a', mode: 'data' },
        { path: '/a', mode: 'persistentRecursive' },
      ],
      2,
    );
    expect(notes.map((n) => `${n.event.index} ${n.event.type} ${n.event.path} [${n.triggered.map((t) => t.mode).join(',')}]`)).toEqual([
      '4 dataChanged /a [data,persistentRecursive]',
      '4 created /a/k [persistentRecursive]',
      '5 dataChanged /a [persistentRecursive]',
    ]);
    expect(f.watches.watchesOf('client')).toEqual([{ path: '/a', mode: 'persistentRecursive' }]);
    expect(lines(f.send(['dataChanged', '/a/k']))).toEqual(['client dataChanged /a/k']);
  });

  test('a resume with nothing missed replays nothing and keeps the watches armed', () => {
    const f = new Feeder(new WatchManager());
    f.send(['dataChanged', '/a']);
    expect(f.watches.resume('c', [{ path: '/a', mode: 'data' }], 1)).toEqual([]);
    expect(lines(f.send(['dataChanged', '/a']))).toEqual(['c dataChanged /a']);
  });

  test("a replay fires only the resuming watcher's new watches, not others' and not ones it had", () => {
    const f = new Feeder(new WatchManager());
    f.watches.addWatch('other', '/a', 'data');
    f.watches.addWatch('c', '/a', 'persistent');
    f.send(['dataChanged', '/a']); // both fire live; other's one-shot is consumed
    f.watches.addWatch('other', '/a', 'data');
    const notes = f.watches.resume(
      'c',
      [
        { path: '/a', mode: 'persistent' },
        { path: '/a', mode: 'data' },
      ],
      0,
    );
    expect(notes.map((n) => n.triggered)).toEqual([[{ path: '/a', mode: 'data' }]]);
    expect(f.watches.watchesOf('other')).toEqual([{ path: '/a', mode: 'data' }]);
  });

  test('overflow: when the history no longer reaches back, RESYNC_REQUIRED and nothing is registered', () => {
    const f = new Feeder(new WatchManager(0, { historyCapacity: 3 }));
    f.send(['dataChanged', '/a']); // 1
    f.send(['dataChanged', '/a'], ['dataChanged', '/b']); // 2
    f.send(['dataChanged', '/c'], ['dataChanged', '/d']); // 3: evicts index 1 and part of 2
    expect(f.watches.oldestResumableIndex).toBe(2);
    expectThrowsCode(() => f.watches.resume('c', [{ path: '/a', mode: 'data' }], 1), 'RESYNC_REQUIRED');
    expect(f.watches.watchCount('c')).toBe(0);
    expect(lines(f.watches.resume('c', [{ path: '/c', mode: 'data' }], 2))).toEqual(['c dataChanged /c']);
  });

  test('a client ahead of this node is told to retry (UNAVAILABLE)', () => {
    const f = new Feeder(new WatchManager());
    f.send(['dataChanged', '/a']);
    expectThrowsCode(() => f.watches.resume('c', [{ path: '/a', mode: 'data' }], 5), 'UNAVAILABLE');
  });

  test('a node that installs a snapshot drops every watch and tells their watchers to resync', () => {
    const f = new Feeder(new WatchManager());
    f.watches.addWatch('a', '/x', 'persistent');
    f.watches.addWatch('b', '/y', 'data');
    f.send(['dataChanged', '/x']);
    expect(f.watches.reset(100).sort()).toEqual(['a', 'b']);
    expect(f.watches.watchCount()).toBe(0);
    expect(f.watches.lastIndex).toBe(100);
    expectThrowsCode(() => f.watches.resume('a', [{ path: '/x', mode: 'persistent' }], 1), 'RESYNC_REQUIRED');
    expect(f.watches.resume('a', [{ path: '/x', mode: 'persistent' }], 100)).toEqual([]);
  });

  test('property: a watcher that moves to another node mid-stream misses no change and sees none twice', () => {
    fc.assert(
      fc.property(arbitraryStream(60), fc.nat(), fc.integer({ min: 2, max: 400 }), (commands, cutSeed, capacity) => {
        // Two nodes apply the same log; a third watcher stays connected to node A throughout.
        const tree = new DataTree();
        const nodeA = new WatchManager(0, { historyCapacity: capacity });
        const nodeB = new WatchManager(0, { historyCapacity: capacity });
        const watches: WatchSpec[] = [
          { path: '/', mode: 'persistentRecursive' },
          { path: '/a', mode: 'persistent' },
        ];
        for (const spec of watches) {
          nodeA.addWatch('stays', spec.path, spec.mode);
          nodeA.addWatch('moves', spec.path, spec.mode);
        }
        const cut = cutSeed % (commands.length + 1);
        const seenByStayer: WatchEvent[] = [];
        const seenByMover: WatchEvent[] = [];
        let lastSeen = 0;
        commands.forEach((command, i) => {
          const outcome = tree.apply(command, i + 1);
          for (const n of nodeA.dispatch(outcome)) {
            if (n.watcherId === 'stays') seenByStayer.push(n.event);
            if (n.watcherId === 'moves') {
              seenByMover.push(n.event);
              lastSeen = n.event.index;
            }
          }
          if (i + 1 === cut) nodeA.removeWatcher('moves'); // the mover's connection to A drops here
          nodeB.dispatch(outcome);
        });
        if (cut === 0) return;
        // Reconnect to B after the whole stream, with the index of the last event the client saw.
        let replayed: WatchNotification[];
        try {
          replayed = nodeB.resume('moves', watches, lastSeen);
        } catch (err) {
          expect(isCoordinatorError(err, 'RESYNC_REQUIRED')).toBe(true);
          expect(lastSeen).toBeLessThan(nodeB.oldestResumableIndex);
          return;
        }
        const moverEvents = [...seenByMover, ...replayed.map((n) => n.event)];
        expect(moverEvents).toEqual(seenByStayer);
      }),
      { seed: 31337, numRuns: 200 },
    );
  });
});

describe('WatchManager fed by a DataTree', () => {
  test('3 brokers register ephemerals; one session expires; the controller watching /brokers/ids hears of it once', () => {
    const tree = new DataTree();
    const watches = new WatchManager();
    let index = 0;
    const apply = (command: Parameters<DataTree['apply']>[0]) => {
      const outcome = tree.apply(command, ++index);
      return { outcome, notes: watches.dispatch(outcome) };
    };
    apply({ type: 'create', timeMs: 1, sessionId: 0, path: '/brokers', data: new Uint8Array(0), mode: 'persistent' });
    apply({ type: 'create', timeMs: 1, sessionId: 0, path: '/brokers/ids', data: new Uint8Array(0), mode: 'persistent' });
    for (const id of [1, 2, 3]) {
      apply({ type: 'createSession', timeMs: 2, sessionId: id, timeoutMs: 6000 });
      apply({ type: 'create', timeMs: 2, sessionId: id, path: `/brokers/ids/${id}`, data: Buffer.from(`b${id}`), mode: 'ephemeral' });
    }
    expect(tree.children('/brokers/ids').children).toEqual(['1', '2', '3']);
    watches.addWatch('controller', '/brokers/ids', 'children');
    watches.addWatch('controller', '/brokers/ids/2', 'data');
    watches.addWatch('auditor', '/brokers', 'persistentRecursive');
    const { outcome, notes } = apply({ type: 'expireSessions', timeMs: 9000, sessionIds: [2] });
    expect(outcome.result).toEqual({ type: 'expireSessions', expiredSessionIds: [2], deletedPaths: ['/brokers/ids/2'] });
    expect(lines(notes)).toEqual(['controller deleted /brokers/ids/2', 'auditor deleted /brokers/ids/2', 'controller childrenChanged /brokers/ids']);
    expect(watches.watchesOf('controller')).toEqual([]);
    expect(lines(apply({ type: 'closeSession', timeMs: 9001, sessionId: 3 }).notes)).toEqual(['auditor deleted /brokers/ids/3']);
  });
});

describe('EventHistory', () => {
  test('keeps the last events in a ring and knows how far back it reaches', () => {
    const h = new EventHistory(3, 10);
    const ev = (index: number, path: string): WatchEvent => ({ type: 'dataChanged', path, index });
    expect(h.eventsAfter(10)).toEqual([]);
    expect(h.eventsAfter(9)).toBeNull();
    h.record(11, [ev(11, '/a'), ev(11, '/b')]);
    h.record(12, []);
    h.record(13, [ev(13, '/c')]);
    expect(h.eventsAfter(10)?.map((e) => e.path)).toEqual(['/a', '/b', '/c']);
    h.record(14, [ev(14, '/d')]);
    expect(h.droppedThroughIndex).toBe(11);
    expect(h.eventsAfter(10)).toBeNull();
    expect(h.eventsAfter(11)?.map((e) => e.path)).toEqual(['/c', '/d']);
    expect(h.eventsAfter(13)?.map((e) => e.path)).toEqual(['/d']);
    expect(h.eventsAfter(14)).toEqual([]);
    expect(h.size).toBe(3);
    expect(() => h.record(14, [])).toThrow(RangeError);
  });
});
