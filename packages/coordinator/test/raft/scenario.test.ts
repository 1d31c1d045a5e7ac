// Scenario files (testdata/*.txt) in the style of etcd raft's datadriven tests: each block is a
// command for a hand-driven cluster and the exact output expected from it — states, refusals
// and every message delivered. A protocol change shows up as a readable diff. To regenerate the
// expected outputs after an intended change (then review the diff line by line):
//   SAMSA_RAFT_REWRITE=1 NODE_OPTIONS="--experimental-vm-modules --disable-warning=ExperimentalWarning" npx jest packages/coordinator/test/raft/scenario

import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type ScenarioCluster, parseScenario, renderScenario, runCommand } from './scenario-cluster.js';

const dir = fileURLToPath(new URL('./testdata/', import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort();
const rewrite = process.env.SAMSA_RAFT_REWRITE === '1';

describe('raft scenarios (testdata/*.txt)', () => {
  test('there are scenario files', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  test.each(files)('%s', (file) => {
    const path = dir + file;
    const blocks = parseScenario(readFileSync(path, 'utf8'));
    const state: { cluster: ScenarioCluster | null } = { cluster: null };
    const actual: string[][] = [];
    for (const block of blocks) {
      const out = runCommand(state, block.command);
      actual.push(out);
      if (!rewrite) {
        const shown = out.length > 0 ? out : ['ok'];
        expect({ at: `${file}:${block.line} ${block.command}`, output: shown }).toEqual({
          at: `${file}:${block.line} ${block.command}`,
          output: block.expected,
        });
      }
    }
    if (rewrite) writeFileSync(path, renderScenario(blocks, actual));
  });
});
