// Replicas that apply the same committed commands must hold the same tree. These properties
// drive random command streams (seeded; fast-check prints seed and shrunk counterexample on
// failure) through independent trees and compare every outcome and the final snapshots.

import fc from 'fast-check';
import type { TreeCommand } from '../../src/tree/commands.js';
import { DataTree } from '../../src/tree/data-tree.js';
import { toWireError } from '../../src/tree/errors.js';
import type { ApplyOutcome } from '../../src/tree/results.js';
import { arbitraryStream } from './arbitraries.js';

/** An outcome as comparable JSON: errors by their wire form. */
function outcomeKey(outcome: ApplyOutcome): string {
  const result = outcome.result.type === 'error' ? { type: 'error', error: toWireError(outcome.result.error) } : outcome.result;
  return JSON.stringify({ ...outcome, result });
}

/** Checks what the tree's public reads must agree on after every command. */
function checkInvariants(tree: DataTree): void {
  const state = tree.exportState();
  let dataBytes = 0;
  for (const z of state.znodes) {
    dataBytes += z.data.byteLength;
    const { children, stat } = tree.children(z.path);
    expect(stat.numChildren).toBe(children.length);
    expect(stat.mzxid).toBeGreaterThanOrEqual(stat.czxid);
    expect(stat.pzxid).toBeGreaterThanOrEqual(stat.czxid);
    expect(stat.cversion).toBeGreaterThanOrEqual(children.length);
    if (stat.ephemeralOwner !== 0) {
      expect(children).toEqual([]);
      expect(tree.session(stat.ephemeralOwner)?.ephemeralPaths).toContain(z.path);
    }
  }
  expect(tree.totalDataBytes).toBe(dataBytes);
  for (const s of tree.sessions()) {
    for (const path of tree.session(s.sessionId)?.ephemeralPaths ?? []) expect(tree.exists(path)?.ephemeralOwner).toBe(s.sessionId);
  }
}

const stream = arbitraryStream();

describe('determinism of the replicated tree', () => {
  test('property: two replicas applying the same stream agree on every outcome and on the snapshot', () => {
    fc.assert(
      fc.property(stream, fc.integer({ min: 1, max: 3 }), (commands, stride) => {
        const a = new DataTree();
        const b = new DataTree();
        commands.forEach((command, i) => {
          const index = 1 + i * stride; // Raft indexes with gaps (entries that are not tree commands)
          expect(outcomeKey(b.apply(command, index))).toBe(outcomeKey(a.apply(command, index)));
          checkInvariants(a);
        });
        expect(b.snapshot().equals(a.snapshot())).toBe(true);
      }),
      { seed: 1125, numRuns: 250 },
    );
  });

  test('property: snapshot and restore mid-stream, then carry on, is the same as never snapshotting', () => {
    fc.assert(
      fc.property(stream, fc.nat(), (commands, cutSeed) => {
        const cut = cutSeed % (commands.length + 1);
        const straight = new DataTree();
        const straightOutcomes = commands.map((command, i) => outcomeKey(straight.apply(command, i + 1)));

        let resumed = new DataTree();
        commands.slice(0, cut).forEach((command, i) => resumed.apply(command, i + 1));
        resumed = DataTree.restore(resumed.snapshot());
        commands.slice(cut).forEach((command: TreeCommand, j) => {
          const i = cut + j;
          expect(outcomeKey(resumed.apply(command, i + 1))).toBe(straightOutcomes[i]);
        });
        expect(resumed.snapshot().equals(straight.snapshot())).toBe(true);
      }),
      { seed: 2026, numRuns: 250 },
    );
  });

  test('property: a failed command changes nothing but the applied index', () => {
    fc.assert(
      fc.property(stream, (commands) => {
        const tree = new DataTree();
        commands.forEach((command, i) => {
          const before = tree.exportState();
          const outcome = tree.apply(command, i + 1);
          if (outcome.result.type === 'error') {
            expect(tree.exportState()).toEqual({ ...before, lastAppliedIndex: i + 1 });
            expect(outcome.events).toEqual([]);
          }
        });
      }),
      { seed: 77, numRuns: 150 },
    );
  });
});
