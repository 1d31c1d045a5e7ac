// A coordinator process's network surfaces around one CoordinatorNode: the client gRPC port
// (Coordinator + grpc.health.v1), the peer gRPC port (Raft), and the HTTP ops port
// (/metrics, /healthz, /readyz). `samsa coordinator start` is a thin shell around this.

import * as grpc from '@grpc/grpc-js';
import { GrpcHealth } from '../ops/grpc-health.js';
import { createLogger, type Logger } from '../ops/logger.js';
import { createNodeRegistry } from '../ops/metrics-registry.js';
import { OpsHttpServer } from '../ops/ops-http-server.js';
import { coordinatorServiceDefinition, MAX_MESSAGE_BYTES, peerServiceDefinition } from '../client/rpc.js';
import type { WireMemberStatus, WireStatus } from '../client/wire-types.js';
import type { TreeLimits } from '../tree/limits.js';
import type { SessionTrackerOptions } from '../tree/session-tracker.js';
import { coordinatorServiceHandlers } from './client-service.js';
import { CoordinatorNode } from './coordinator-node.js';
import { CoordinatorMetrics } from './metrics.js';
import { MAX_PEER_MESSAGE_BYTES } from './peer-transport.js';
import { peerServiceHandlers } from './peer-service.js';
import type { Registry } from 'prom-client';

export interface CoordinatorServerOptions {
  id: number;
  dataDir: string;
  /** host:port of the client port (port 0 picks a free one). */
  listen: string;
  /** host:port of the peer (Raft) port. */
  peerListen: string;
  /** Peer address of every member, this one included. */
  peers: ReadonlyMap<number, string>;
  metricsHost?: string;
  /** HTTP ops port; 0 picks a free one; -1 serves none. */
  metricsPort?: number;
  tickMs?: number;
  electionTicks?: number;
  snapshotEntries?: number;
  requestTimeoutMs?: number;
  limits?: Partial<TreeLimits>;
  sessions?: Partial<SessionTrackerOptions>;
  logger?: Logger;
  onFatal?: (err: unknown) => void;
}

const SERVICE_NAME = 'samsa.coordinator.v1.Coordinator';

function bind(server: grpc.Server, address: string): Promise<number> {
  return new Promise((resolve, reject) =>
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
  );
}

function hostOf(address: string): string {
  return address.slice(0, address.lastIndexOf(':'));
}

/** Owns the node and its servers; start() then stop() once. */
export class CoordinatorServer {
  readonly registry: Registry;
  clientPort = 0;
  peerPort = 0;
  private http: OpsHttpServer | null = null;
  private healthTimer: NodeJS.Timeout | null = null;
  private stopping: Promise<void> | null = null;

  private constructor(
    readonly node: CoordinatorNode,
    private readonly clientServer: grpc.Server,
    private readonly peerServer: grpc.Server,
    private readonly health: GrpcHealth,
    registry: Registry,
    private readonly logger: Logger,
  ) {
    this.registry = registry;
  }

  static async start(options: CoordinatorServerOptions): Promise<CoordinatorServer> {
    const logger = options.logger ?? createLogger({ component: 'coordinator', node: options.id });
    const registry = createNodeRegistry({ role: 'coordinator', node_id: String(options.id) });
    const metrics = new CoordinatorMetrics(registry);
    const node = await CoordinatorNode.open({
      id: options.id, dataDir: options.dataDir, peers: options.peers, tickMs: options.tickMs, electionTicks: options.electionTicks,
      snapshotEntries: options.snapshotEntries, requestTimeoutMs: options.requestTimeoutMs, limits: options.limits,
      sessions: options.sessions, logger, metrics, onFatal: options.onFatal,
    });
    const grpcOptions = { 'grpc.max_receive_message_length': MAX_MESSAGE_BYTES, 'grpc.max_send_message_length': MAX_MESSAGE_BYTES };
    const clientServer = new grpc.Server(grpcOptions);
    const peerServer = new grpc.Server({
      'grpc.max_receive_message_length': MAX_PEER_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_PEER_MESSAGE_BYTES,
    });
    const health = new GrpcHealth();
    const server = new CoordinatorServer(node, clientServer, peerServer, health, registry, logger);
    try {
      const selfStatus = (): WireStatus => server.selfStatus();
      clientServer.addService(
        coordinatorServiceDefinition(),
        coordinatorServiceHandlers({
          node, logger, metrics, clientAddress: () => server.clientAddress, memberStatuses: () => server.memberStatuses(),
        }),
      );
      health.addTo(clientServer);
      peerServer.addService(peerServiceDefinition(), peerServiceHandlers(node, logger, selfStatus));
      server.clientPort = await bind(clientServer, options.listen);
      server.peerPort = await bind(peerServer, options.peerListen);
      server.clientAddress = `${hostOf(options.listen)}:${server.clientPort}`;
      if ((options.metricsPort ?? -1) >= 0) {
        server.http = await OpsHttpServer.start({
          host: options.metricsHost ?? '127.0.0.1',
          port: options.metricsPort!,
          registry,
          healthy: () => ({ ok: !node.isStopped, detail: { id: node.id, role: node.currentRole } }),
          ready: () => server.readiness(),
        });
      }
      server.healthTimer = setInterval(() => server.refreshHealth(), 250);
      server.refreshHealth();
      logger.info('coordinator started', {
        client: server.clientAddress, peer: `${hostOf(options.peerListen)}:${server.peerPort}`, metricsPort: server.metricsPort,
      });
      return server;
    } catch (err) {
      await server.stop(false);
      throw err;
    }
  }

  clientAddress = '';

  get metricsPort(): number | null {
    return this.http?.port ?? null;
  }

  private readiness(): { ok: boolean; detail: Record<string, unknown> } {
    const n = this.node;
    const ok = !n.isStopped && n.leaderId !== null && (n.currentRole === 'leader' || n.currentRole === 'follower');
    return { ok, detail: { id: n.id, role: n.currentRole, leader: n.leaderId, term: n.term, applied: n.applied } };
  }

  private refreshHealth(): void {
    const status = this.readiness().ok ? 'SERVING' : 'NOT_SERVING';
    this.health.set('', status);
    this.health.set(SERVICE_NAME, status);
  }

  selfStatus(): WireStatus {
    const n = this.node;
    return {
      id: n.id, role: n.currentRole, term: n.term, commitIndex: n.commitIndex, appliedIndex: n.applied, leaderId: n.leaderId ?? 0,
      sessions: n.sessionCount, znodes: n.znodeCount, members: [], address: this.clientAddress,
    };
  }

  /** Every member's status as seen from here (peers asked with a short deadline). */
  async memberStatuses(): Promise<WireMemberStatus[]> {
    const self = this.selfStatus();
    const others = [...this.node.peers.keys()].filter((id) => id !== this.node.id);
    const results = await Promise.all(
      others.map(async (id): Promise<WireMemberStatus> => {
        try {
          const s = await this.node.transport.peerStatus(id, 500);
          return { id, address: s.address, role: s.role, term: s.term, commitIndex: s.commitIndex };
        } catch {
          return { id, address: '', role: 'unreachable', term: 0, commitIndex: 0 };
        }
      }),
    );
    return [{ id: self.id, address: self.address, role: self.role, term: self.term, commitIndex: self.commitIndex }, ...results].sort(
      (a, b) => a.id - b.id,
    );
  }

  /** SIGTERM path: hand leadership over (transfer), stop serving, close storage. */
  stop(transfer = true): Promise<void> {
    this.stopping ??= (async () => {
      if (this.healthTimer) clearInterval(this.healthTimer);
      this.health.set('', 'NOT_SERVING');
      await this.node.stop(transfer);
      this.health.close();
      await Promise.all(
        [this.clientServer, this.peerServer].map(
          (s) =>
            new Promise<void>((resolve) => {
              const force = setTimeout(() => {
                s.forceShutdown();
                resolve();
              }, 2_000);
              s.tryShutdown(() => {
                clearTimeout(force);
                resolve();
              });
            }),
        ),
      );
      await this.http?.close();
      this.logger.info('coordinator stopped');
    })();
    return this.stopping;
  }
}
