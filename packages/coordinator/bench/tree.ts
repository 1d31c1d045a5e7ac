// Throughput of the coordinator's replicated state machine on one core, as JSON lines: the
// command codec, apply() of typical writes, snapshots of a 100k-znode tree, and watch dispatch.
// Workload shape: Kafka-style metadata, znodes of 256 bytes under a few parents.
//
//   npx tsx --conditions=@samsa/source packages/coordinator/bench/tree.ts

import { decodeTreeCommand, encodeTreeCommand } from '../src/tree/command-codec.js';
import type { TreeCommand } from '../src/tree/commands.js';
import { DataTree } from '../src/tree/data-tree.js';
import { WatchManager } from '../src/tree/watch-manager.js';

const ROUNDS = 5;
const ROUND_MS = 300;
const WARMUP_MS = 300;
const DATA = Buffer.alloc(256, 0x5a);
const ZNODES = 100_000;

/** Median and best of ROUNDS rounds of ROUND_MS after a warm-up, in ops/s. */
function measure(bench: string, op: () => void, extra: Record<string, number> = {}): void {
  const warmupEnd = performance.now() + WARMUP_MS;
  while (performance.now() < warmupEnd) op();
  const rates: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let ops = 0;
    const start = performance.now();
    let now = start;
    while (now - start < ROUND_MS) {
      for (let i = 0; i < 16; i++) op();
      ops += 16;
      now = performance.now();
    }
    rates.push((ops * 1000) / (now - start));
  }
  rates.sort((a, b) => a - b);
  const median = rates[Math.floor(ROUNDS / 2)];
  console.log(JSON.stringify({ bench, opsPerSec: Math.round(median), bestOpsPerSec: Math.round(rates[ROUNDS - 1]), ...extra }));
}

/** Milliseconds of one run of `op`, median of ROUNDS. */
function time(op: () => void): number {
  const ms: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = performance.now();
    op();
    ms.push(performance.now() - start);
  }
  return ms.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)];
}

function buildTree(): { tree: DataTree; index: number } {
  const tree = new DataTree();
  let index = 0;
  const create = (path: string) =>
    tree.apply({ type: 'create', timeMs: index, sessionId: 0, path, data: DATA, mode: 'persistent' }, ++index);
  for (const parent of ['/brokers', '/brokers/topics', '/config']) create(parent);
  for (let i = 0; i < ZNODES; i++) create(`/brokers/topics/t${i}`);
  return { tree, index };
}

function main(): void {
  const setData: TreeCommand = { type: 'setData', timeMs: 1, sessionId: 0, path: '/brokers/topics/t42', data: DATA, expectedVersion: -1 };
  const encoded = encodeTreeCommand(setData);
  measure('command.encode setData 256B', () => encodeTreeCommand(setData), { bytes: encoded.length });
  measure('command.decode setData 256B', () => decodeTreeCommand(encoded), { bytes: encoded.length });

  const built = buildTree();
  const { tree } = built;
  let index = built.index;
  let n = 0;
  measure('apply setData 256B (decode + apply)', () => {
    const command = decodeTreeCommand(encoded);
    tree.apply(command, ++index);
  });
  measure('apply create+delete 256B (2 commands per op)', () => {
    const path = `/config/c${n++}`;
    tree.apply({ type: 'create', timeMs: 1, sessionId: 0, path, data: DATA, mode: 'persistent' }, ++index);
    tree.apply({ type: 'delete', timeMs: 1, sessionId: 0, path, expectedVersion: -1 }, ++index);
  });
  measure('apply create+delete of one path, 100k-znode tree (2 commands per op)', () => {
    tree.apply({ type: 'create', timeMs: 1, sessionId: 0, path: '/config/lock', data: DATA, mode: 'persistent' }, ++index);
    tree.apply({ type: 'delete', timeMs: 1, sessionId: 0, path: '/config/lock', expectedVersion: -1 }, ++index);
  });
  const multi: TreeCommand = {
    type: 'multi',
    timeMs: 1,
    sessionId: 0,
    ops: [
      { type: 'check', path: '/brokers', expectedVersion: -1 },
      { type: 'setData', path: '/brokers/topics/t1', data: DATA, expectedVersion: -1 },
      { type: 'setData', path: '/brokers/topics/t2', data: DATA, expectedVersion: -1 },
      { type: 'create', path: '/config/x', data: DATA, mode: 'persistent' },
      { type: 'delete', path: '/config/missing', expectedVersion: -1 }, // fails: everything is undone
    ],
  };
  measure('apply failing multi of 5 ops (rolled back)', () => tree.apply(multi, ++index));

  let snapshot = tree.snapshot();
  const snapshotMs = time(() => {
    snapshot = tree.snapshot();
  });
  const restoreMs = time(() => DataTree.restore(snapshot));
  console.log(
    JSON.stringify({
      bench: `snapshot of ${tree.nodeCount} znodes`,
      bytes: snapshot.length,
      encodeMs: Math.round(snapshotMs),
      restoreMs: Math.round(restoreMs),
      encodeMBps: Math.round(snapshot.length / 1e3 / snapshotMs),
      restoreMBps: Math.round(snapshot.length / 1e3 / restoreMs),
    }),
  );

  const watches = new WatchManager(0, { maxWatchesPerWatcher: 100_000 });
  for (let i = 0; i < 10_000; i++) watches.addWatch(`w${i % 100}`, `/brokers/topics/t${i}`, 'persistent');
  for (let i = 0; i < 100; i++) watches.addWatch(`r${i}`, '/brokers', 'persistentRecursive');
  let watchIndex = 0;
  measure('watch one-shot re-register + fire, 10k other watches', () => {
    watches.addWatch('client', '/controller', 'data');
    watchIndex++;
    watches.dispatch({ index: watchIndex, events: [{ type: 'dataChanged', path: '/controller', index: watchIndex }] });
  });
  let k = 0;
  measure('watch dispatch: 1 event, 10k persistent + 100 recursive watches', () => {
    const path = `/brokers/topics/t${k++ % 10_000}`;
    watchIndex++;
    watches.dispatch({ index: watchIndex, events: [{ type: 'dataChanged', path, index: watchIndex }] });
  });
}

main();
