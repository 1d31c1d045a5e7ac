// A real one-member coordination service in this process (gRPC on loopback, level on disk in
// a temporary directory), for client and recipe tests that need the service but not failover.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoordinatorServer } from '../../src/server/coordinator-server.js';
import { silentLogger } from '../../src/ops/logger.js';

export async function startSingleMember(options: { minSessionTimeoutMs?: number } = {}): Promise<{ server: CoordinatorServer; address: string; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'samsa-coord-'));
  const server = await CoordinatorServer.start({
    id: 1,
    dataDir: dir,
    listen: '127.0.0.1:0',
    peerListen: '127.0.0.1:0',
    peers: new Map([[1, '127.0.0.1:1']]),
    metricsPort: 0,
    tickMs: 20,
    sessions: { minSessionTimeoutMs: options.minSessionTimeoutMs ?? 2_000 },
    logger: silentLogger,
  });
  const deadline = Date.now() + 10_000;
  while (server.node.currentRole !== 'leader' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  return {
    server,
    address: server.clientAddress,
    close: async () => {
      await server.stop(false);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
