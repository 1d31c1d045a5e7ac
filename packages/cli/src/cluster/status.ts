// `samsa cluster status`: what runs, who leads, and (once brokers exist) every partition's
// leader, epoch, replicas and ISR. The --json shape is a contract:
// {"controller", "brokers": [{"id","alive","address"}], "coordinators": [{"id","alive","role","address"}],
//  "partitions": [{"topic","partition","leader","leaderEpoch","replicas","isr"}]}

import { BrokerRpc } from '@samsa/client';
import { CoordinatorRpc } from '@samsa/coordinator';
import type { ClusterFile } from './cluster-file.js';
import { nodeAlive } from './launcher.js';

export interface CoordinatorStatus {
  id: number;
  alive: boolean;
  role: string;
  address: string;
  term?: number;
  commitIndex?: number;
}

export interface BrokerStatus {
  id: number;
  alive: boolean;
  address: string;
}

export interface PartitionStatus {
  topic: string;
  partition: number;
  leader: number | null;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
}

export interface ClusterStatus {
  controller: number | null;
  brokers: BrokerStatus[];
  coordinators: CoordinatorStatus[];
  partitions: PartitionStatus[];
}

const STATUS_TIMEOUT_MS = 1_500;

async function coordinatorStatus(file: ClusterFile): Promise<CoordinatorStatus[]> {
  const specs = file.layout.nodes.filter((n) => n.role === 'coordinator');
  return Promise.all(
    specs.map(async (spec) => {
      const address = `${spec.host}:${spec.ports.listen}`;
      const alive = nodeAlive(file, spec);
      if (!alive) return { id: spec.id, alive, role: 'unreachable', address };
      const rpc = new CoordinatorRpc(address);
      try {
        const s = await rpc.status(STATUS_TIMEOUT_MS);
        return { id: spec.id, alive, role: s.role, address, term: s.term, commitIndex: s.commitIndex };
      } catch {
        return { id: spec.id, alive, role: 'unreachable', address };
      } finally {
        rpc.close();
      }
    }),
  );
}

/** Controller and partitions as a live broker's metadata has them (the first that answers). */
async function brokerView(brokers: BrokerStatus[]): Promise<{ controller: number | null; partitions: PartitionStatus[] }> {
  for (const b of brokers.filter((x) => x.alive)) {
    const rpc = new BrokerRpc(b.address);
    try {
      const md = await rpc.metadata({ topics: [], allTopics: true }, { timeoutMs: STATUS_TIMEOUT_MS });
      const partitions = md.topics
        .flatMap((t) =>
          t.partitions.map((p) => ({
            topic: t.name, partition: p.partition, leader: p.leader >= 0 ? p.leader : null, leaderEpoch: p.leaderEpoch, replicas: p.replicas, isr: p.isr,
          })),
        )
        .sort((a, c) => (a.topic === c.topic ? a.partition - c.partition : a.topic < c.topic ? -1 : 1));
      return { controller: md.controllerId >= 0 ? md.controllerId : null, partitions };
    } catch {
      // try the next broker
    } finally {
      rpc.close();
    }
  }
  return { controller: null, partitions: [] };
}

export async function clusterStatus(file: ClusterFile): Promise<ClusterStatus> {
  const brokers = file.layout.nodes
    .filter((n) => n.role === 'broker')
    .map((n) => ({ id: n.id, alive: nodeAlive(file, n), address: `${n.host}:${n.ports.listen}` }));
  const [coordinators, view] = await Promise.all([coordinatorStatus(file), brokerView(brokers)]);
  return { controller: view.controller, brokers, coordinators, partitions: view.partitions };
}

export function formatStatus(s: ClusterStatus): string {
  const lines: string[] = [];
  lines.push(`controller: ${s.controller ?? 'none'}`);
  lines.push('coordinators:');
  for (const c of s.coordinators) {
    const detail = c.term !== undefined ? `  term ${c.term}  commit ${c.commitIndex}` : '';
    lines.push(`  coordinator-${c.id}  ${c.alive ? 'alive' : 'down '}  ${c.role.padEnd(11)} ${c.address}${detail}`);
  }
  if (s.brokers.length > 0) {
    lines.push('brokers:');
    for (const b of s.brokers) lines.push(`  broker-${b.id}  ${b.alive ? 'alive' : 'down '}  ${b.address}`);
  }
  if (s.partitions.length > 0) {
    lines.push('partitions:');
    for (const p of s.partitions) {
      lines.push(
        `  ${p.topic}-${p.partition}  leader ${p.leader ?? 'none'}  epoch ${p.leaderEpoch}  replicas [${p.replicas.join(',')}]  isr [${p.isr.join(',')}]`,
      );
    }
  }
  return lines.join('\n');
}
