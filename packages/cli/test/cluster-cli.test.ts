// `samsa cluster up|status|kill|start|stop|down` as a user runs them: real processes in a
// temporary data directory, on free ports.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { runCli } from './run-cli.js';
import { waitFor } from '../src/cluster/local-cluster.js';

jest.setTimeout(120_000);

interface StatusJson {
  controller: number | null;
  brokers: { id: number; alive: boolean; address: string }[];
  coordinators: { id: number; alive: boolean; role: string; address: string }[];
  partitions: unknown[];
}

describe('samsa cluster', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'samsa-cluster-cli-'));
  const cli = (...args: string[]) => runCli([...args, '--data-dir', dataDir], { timeoutMs: 90_000 });
  const status = (): StatusJson => {
    const r = cli('cluster', 'status', '--json');
    expect(r.status).toBe(0);
    return JSON.parse(r.stdout) as StatusJson;
  };

  afterAll(() => {
    cli('cluster', 'down');
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('up --detach returns once healthy and prints every address', () => {
    const r = cli('cluster', 'up', '--detach', '--free-ports');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('samsa cluster is up');
    for (const name of ['coordinator-1', 'coordinator-2', 'coordinator-3']) expect(r.stdout).toContain(name);
  });

  test('status --json has the contract shape and exactly one coordinator leader', () => {
    const s = status();
    expect(Object.keys(s).sort()).toEqual(['brokers', 'controller', 'coordinators', 'partitions']);
    expect(s.coordinators.map((c) => c.id)).toEqual([1, 2, 3]);
    expect(s.coordinators.every((c) => c.alive)).toBe(true);
    expect(s.coordinators.filter((c) => c.role === 'leader')).toHaveLength(1);
    for (const c of s.coordinators) expect(c.address).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  test('kill makes a node dead and unreachable; the rest elect a leader; start brings it back', async () => {
    const leader = status().coordinators.find((c) => c.role === 'leader')!;
    const k = cli('cluster', 'kill', `coordinator-${leader.id}`);
    expect(k.status).toBe(0);
    expect(k.stdout).toContain(`killed coordinator-${leader.id}`);
    let s = status();
    expect(s.coordinators.find((c) => c.id === leader.id)).toMatchObject({ alive: false, role: 'unreachable' });
    expect(await waitFor(() => {
      s = status();
      return s.coordinators.filter((c) => c.alive && c.role === 'leader').length === 1;
    }, 20_000, 200)).toBe(true);
    const st = cli('cluster', 'start', `coordinator-${leader.id}`);
    expect(st.status).toBe(0);
    expect(status().coordinators.every((c) => c.alive)).toBe(true);
  });

  test('stop is a graceful SIGTERM; down stops everything', () => {
    expect(cli('cluster', 'stop', 'coordinator-3').stdout).toContain('stopped coordinator-3');
    expect(status().coordinators.find((c) => c.id === 3)!.alive).toBe(false);
    expect(cli('cluster', 'down').status).toBe(0);
    expect(status().coordinators.every((c) => !c.alive)).toBe(true);
  });

  test('unknown nodes and missing clusters are clear errors', () => {
    const r = cli('cluster', 'kill', 'broker-9');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('no node broker-9');
    const none = runCli(['cluster', 'status', '--data-dir', join(dataDir, 'nope')]);
    expect(none.status).not.toBe(0);
    expect(none.stderr).toContain('no cluster in');
  });
});
