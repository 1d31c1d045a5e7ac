// Throw-away local clusters for tests and benchmarks: the same launcher `samsa cluster up`
// uses (planCluster + processes), on free ports, in a temporary directory, with extra node
// arguments where a test needs them.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoordinatorRpc, type WireStatus } from '@samsa/coordinator';
import { readClusterFile, writeClusterFile, type ClusterFile } from './cluster-file.js';
import { findFreePorts } from './free-ports.js';
import { planCluster, portPlanFrom, portsNeeded, type NodeSpec } from './layout.js';
import { findNode, startNode, stopAll, stopNode, waitUntilReady } from './launcher.js';
import { waitFor } from './processes.js';

export interface LocalClusterOptions {
  coordinators?: number;
  brokers?: number;
  /** Extra arguments for every coordinator (e.g. ['--snapshot-entries', '50']). */
  coordinatorArgs?: string[];
  /** Extra arguments for every broker (e.g. ['--auto.leader.rebalance.enable', 'false']). */
  brokerArgs?: string[];
}

export class LocalCluster {
  private constructor(readonly dataDir: string) {}

  static async start(options: LocalClusterOptions = {}): Promise<LocalCluster> {
    const dataDir = mkdtempSync(join(tmpdir(), 'samsa-cluster-'));
    const coordinators = options.coordinators ?? 3;
    const brokers = options.brokers ?? 0;
    const layout = planCluster({
      dataDir, coordinators, brokers, ports: portPlanFrom(await findFreePorts(portsNeeded(coordinators, brokers))),
    });
    for (const n of layout.nodes) n.args.push(...((n.role === 'coordinator' ? options.coordinatorArgs : options.brokerArgs) ?? []));
    const file: ClusterFile = { version: 1, layout, pids: {} };
    writeClusterFile(dataDir, file);
    for (const n of layout.nodes) startNode(dataDir, n);
    const cluster = new LocalCluster(dataDir);
    const notReady = await waitUntilReady(cluster.file, 60_000);
    if (notReady.length > 0) {
      const logs = notReady.map((n) => `--- ${n.name}\n${cluster.log(n.name).slice(-3000)}`).join('\n');
      await cluster.destroy();
      throw new Error(`cluster not ready: ${notReady.map((n) => n.name).join(', ')}\n${logs}`);
    }
    return cluster;
  }

  get file(): ClusterFile {
    return readClusterFile(this.dataDir)!;
  }

  node(name: string): NodeSpec {
    return findNode(this.file, name);
  }

  get coordinatorAddresses(): string[] {
    return this.file.layout.nodes.filter((n) => n.role === 'coordinator').map((n) => `${n.host}:${n.ports.listen}`);
  }

  get brokerAddresses(): string[] {
    return this.file.layout.nodes.filter((n) => n.role === 'broker').map((n) => `${n.host}:${n.ports.listen}`);
  }

  brokerAddress(id: number): string {
    const n = this.node(`broker-${id}`);
    return `${n.host}:${n.ports.listen}`;
  }

  coordinatorAddress(id: number): string {
    const n = this.node(`coordinator-${id}`);
    return `${n.host}:${n.ports.listen}`;
  }

  log(name: string): string {
    try {
      return readFileSync(this.node(name).logFile, 'utf8');
    } catch {
      return '';
    }
  }

  async kill(name: string): Promise<void> {
    await stopNode(this.file, this.node(name), 'SIGKILL');
  }

  async stop(name: string): Promise<void> {
    await stopNode(this.file, this.node(name), 'SIGTERM');
  }

  async restart(name: string, timeoutMs = 30_000): Promise<void> {
    const spec = this.node(name);
    startNode(this.dataDir, spec);
    const notReady = await waitUntilReady(this.file, timeoutMs, [spec]);
    if (notReady.length > 0) throw new Error(`${name} not ready after restart:\n${this.log(name).slice(-3000)}`);
  }

  async coordinatorStatus(id: number, timeoutMs = 1_000): Promise<WireStatus | null> {
    const rpc = new CoordinatorRpc(this.coordinatorAddress(id));
    try {
      return await rpc.status(timeoutMs);
    } catch {
      return null;
    } finally {
      rpc.close();
    }
  }

  /** Waits until exactly one of `ids` leads and the others follow it; returns the leader id. */
  async waitForCoordinatorLeader(ids: number[], timeoutMs = 20_000): Promise<number> {
    let leader = 0;
    const ok = await waitFor(async () => {
      const statuses = await Promise.all(ids.map((id) => this.coordinatorStatus(id)));
      const leaders = statuses.filter((s) => s?.role === 'leader');
      if (leaders.length !== 1) return false;
      leader = leaders[0]!.id;
      return statuses.every((s) => s !== null && s.leaderId === leader);
    }, timeoutMs, 100);
    if (!ok) throw new Error(`no single coordinator leader among ${ids.join(',')} within ${timeoutMs} ms`);
    return leader;
  }

  async destroy(): Promise<void> {
    const file = readClusterFile(this.dataDir);
    if (file) await stopAll(file, 'SIGKILL');
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

export { waitFor };

/** `promise`, or a rejection after `ms` — with the timer cleared either way. */
export async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
