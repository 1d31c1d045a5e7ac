// Runs the node commands of a deployment file (docker-compose services, Kubernetes pods) as
// local processes, the nearest this machine gets to the real thing without a container engine:
// each node's arguments exactly as written, except that every address `host:port` naming a
// node of the deployment (or 0.0.0.0 in the node's own arguments) becomes 127.0.0.1 and a free
// port for that (node, port), and the data directory a temporary one. An address naming a host
// that is not a node of the deployment is an error, so a misspelt service name fails the test.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findFreePorts } from '../src/cluster/free-ports.js';
import { waitFor } from '../src/cluster/local-cluster.js';
import { SAMSA_BIN } from './run-cli.js';

export interface DeployedNode {
  /** Service or pod name. */
  name: string;
  /** The host name other nodes use for it (service name, pod DNS name). */
  host: string;
  /** The arguments after `samsa`, as the deployment file gives them. */
  argv: string[];
  /** Container port and paths of its HTTP probes. */
  probes: { port: number; ready: string; live: string };
}

export interface RunningNode extends DeployedNode {
  localArgv: string[];
  process: ChildProcess;
  logFile: string;
}

export class LocalDeployment {
  private readonly ports = new Map<string, number>();
  readonly running: RunningNode[] = [];

  private constructor(
    private readonly dir: string,
    private readonly nodes: DeployedNode[],
    private readonly free: number[],
  ) {}

  /** Starts every node and waits until each answers its readiness probe. */
  static async start(dir: string, nodes: DeployedNode[], samsaBin = SAMSA_BIN, timeoutMs = 60_000): Promise<LocalDeployment> {
    const d = new LocalDeployment(dir, nodes, await findFreePorts(nodes.length * 4));
    try {
      for (const n of nodes) d.launch(n, samsaBin);
      const ready = await waitFor(async () => (await Promise.all(d.running.map((n) => d.probe(n, n.probes.ready)))).every((s) => s === 200), timeoutMs, 250);
      if (!ready) {
        const states = await Promise.all(d.running.map(async (n) => `--- ${n.name} ${n.localArgv.join(' ')}: ready ${await d.probe(n, n.probes.ready)}\n${d.log(n.name).slice(-2000)}`));
        throw new Error(`deployment not ready within ${timeoutMs} ms\n${states.join('\n')}`);
      }
    } catch (e) {
      await d.destroy();
      throw e;
    }
    return d;
  }

  /** `host:port` of the deployment → the local address standing for it. */
  local(host: string, port: number): string {
    const key = `${host}:${port}`;
    let p = this.ports.get(key);
    if (p === undefined) {
      if (!this.nodes.some((n) => n.host === host)) throw new Error(`${key} names no node of the deployment (nodes: ${this.nodes.map((n) => n.host).join(', ')})`);
      p = this.free.shift();
      if (p === undefined) throw new Error('out of free ports');
      this.ports.set(key, p);
    }
    return `127.0.0.1:${p}`;
  }

  localArgs(node: DeployedNode): string[] {
    return node.argv.map((arg, i) => {
      const flag = node.argv[i - 1];
      if (flag === '--data-dir') return join(this.dir, node.name);
      if (flag === '--metrics-port') return this.local(node.host, Number(arg)).split(':')[1]!;
      return arg.replace(/([A-Za-z0-9][A-Za-z0-9.-]*):(\d+)/g, (_, host: string, port: string) => this.local(host === '0.0.0.0' ? node.host : host, Number(port)));
    });
  }

  private launch(node: DeployedNode, samsaBin: string): void {
    const localArgv = this.localArgs(node);
    mkdirSync(join(this.dir, node.name), { recursive: true });
    const logFile = join(this.dir, `${node.name}.log`);
    const fd = openSync(logFile, 'w');
    const child = spawn(process.execPath, [samsaBin, ...localArgv], { stdio: ['ignore', fd, fd], env: { ...process.env, NODE_OPTIONS: '' } });
    this.running.push({ ...node, localArgv, process: child, logFile });
  }

  async probe(node: DeployedNode, path: string): Promise<number> {
    try {
      const res = await fetch(`http://${this.local(node.host, node.probes.port)}${path}`, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      return res.status;
    } catch {
      return 0;
    }
  }

  log(name: string): string {
    try {
      return readFileSync(this.running.find((n) => n.name === name)!.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  async destroy(): Promise<void> {
    await Promise.all(
      this.running.map(async (n) => {
        if (n.process.exitCode !== null || n.process.signalCode !== null) return;
        const exited = new Promise((r) => n.process.once('exit', r));
        n.process.kill('SIGKILL');
        await exited;
      }),
    );
  }
}
