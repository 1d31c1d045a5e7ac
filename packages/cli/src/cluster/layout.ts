// The shape of a local cluster: which nodes, on which ports, in which directories. Pure: the
// launcher turns a layout into processes, `cluster status` reads it back from cluster.json.

import { join } from 'node:path';

export type NodeRole = 'coordinator' | 'broker';

export interface NodePorts {
  /** coordinator: client port; broker: the broker API port. */
  listen: number;
  /** coordinator only: the Raft peer port. */
  peer?: number;
  metrics: number;
}

export interface NodeSpec {
  /** `coordinator-1`, `broker-2`: what `samsa cluster kill NODE` takes. */
  name: string;
  role: NodeRole;
  id: number;
  host: string;
  ports: NodePorts;
  dataDir: string;
  logFile: string;
  /** Arguments after `samsa` that start this node. */
  args: string[];
}

export interface ClusterLayout {
  dataDir: string;
  host: string;
  nodes: NodeSpec[];
}

/** Kafka's and ZooKeeper's defaults, +n per node (DESIGN.md, "Contracts"). */
export const DEFAULT_PORTS = {
  coordinatorClient: 2181,
  coordinatorPeer: 2888,
  broker: 9092,
  metrics: 9404,
} as const;

export interface LayoutOptions {
  dataDir: string;
  coordinators: number;
  brokers: number;
  host?: string;
  /** Allocates a port per call; defaults to the well-known ports. Tests pass a free-port picker. */
  ports?: PortPlan;
}

export interface PortPlan {
  coordinatorClient(n: number): number;
  coordinatorPeer(n: number): number;
  broker(n: number): number;
  /** Metrics ports: coordinators first, then brokers (index across all nodes). */
  metrics(nodeIndex: number): number;
}

export const defaultPortPlan: PortPlan = {
  coordinatorClient: (n) => DEFAULT_PORTS.coordinatorClient + n,
  coordinatorPeer: (n) => DEFAULT_PORTS.coordinatorPeer + n,
  broker: (n) => DEFAULT_PORTS.broker + n,
  metrics: (i) => DEFAULT_PORTS.metrics + i,
};

/** A plan from a list of ports known to be free (each taken once, in order). */
export function portPlanFrom(freePorts: number[]): PortPlan {
  const take = (): number => {
    const p = freePorts.shift();
    if (p === undefined) throw new Error('port plan ran out of free ports');
    return p;
  };
  return { coordinatorClient: take, coordinatorPeer: take, broker: take, metrics: take };
}

export function portsNeeded(coordinators: number, brokers: number): number {
  return coordinators * 3 + brokers * 2;
}

export function planCluster(options: LayoutOptions): ClusterLayout {
  const host = options.host ?? '127.0.0.1';
  const plan = options.ports ?? defaultPortPlan;
  if (!Number.isInteger(options.coordinators) || options.coordinators < 1 || options.coordinators > 9) {
    throw new Error(`--coordinators must be 1..9, got ${options.coordinators}`);
  }
  if (!Number.isInteger(options.brokers) || options.brokers < 0 || options.brokers > 32) {
    throw new Error(`--brokers must be 0..32, got ${options.brokers}`);
  }
  const nodes: NodeSpec[] = [];
  const coordinatorPorts: { listen: number; peer: number }[] = [];
  for (let n = 0; n < options.coordinators; n++) {
    coordinatorPorts.push({ listen: plan.coordinatorClient(n), peer: plan.coordinatorPeer(n) });
  }
  const peers = coordinatorPorts.map((p, n) => `${n + 1}=${host}:${p.peer}`).join(',');
  const coordinatorList = coordinatorPorts.map((p) => `${host}:${p.listen}`).join(',');
  let nodeIndex = 0;
  for (let n = 0; n < options.coordinators; n++) {
    const id = n + 1;
    const name = `coordinator-${id}`;
    const dataDir = join(options.dataDir, name);
    const ports = { ...coordinatorPorts[n]!, metrics: plan.metrics(nodeIndex++) };
    nodes.push({
      name, role: 'coordinator', id, host, ports, dataDir, logFile: join(dataDir, 'node.log'),
      args: [
        'coordinator', 'start', '--id', String(id), '--data-dir', dataDir,
        '--listen', `${host}:${ports.listen}`, '--peer-listen', `${host}:${ports.peer}`,
        '--peers', peers, '--metrics-port', String(ports.metrics), '--metrics-host', host,
      ],
    });
  }
  for (let n = 0; n < options.brokers; n++) {
    const id = n + 1;
    const name = `broker-${id}`;
    const dataDir = join(options.dataDir, name);
    const ports = { listen: plan.broker(n), metrics: plan.metrics(nodeIndex++) };
    nodes.push({
      name, role: 'broker', id, host, ports, dataDir, logFile: join(dataDir, 'node.log'),
      args: [
        'broker', 'start', '--id', String(id), '--data-dir', dataDir, '--listen', `${host}:${ports.listen}`,
        '--coordinators', coordinatorList, '--metrics-port', String(ports.metrics), '--metrics-host', host,
      ],
    });
  }
  return { dataDir: options.dataDir, host, nodes };
}
