// The HTTP side every node serves: Prometheus /metrics, liveness /healthz and readiness /readyz.
// Liveness means "the process works and should not be restarted"; readiness means "route
// traffic here" (a coordinator with a leader in sight, a broker registered with the cluster).

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface ProbeResult {
  ok: boolean;
  /** Shown in the response body, so `curl /readyz` says why a node is not ready. */
  detail?: Record<string, unknown>;
}

export interface OpsHttpServerOptions {
  host: string;
  port: number;
  registry: Registry;
  healthy: () => ProbeResult;
  ready: () => ProbeResult;
}

export class OpsHttpServer {
  private readonly server: Server;

  private constructor(server: Server) {
    this.server = server;
  }

  static async start(options: OpsHttpServerOptions): Promise<OpsHttpServer> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      if (path === '/metrics') {
        options.registry
          .metrics()
          .then((text) => res.writeHead(200, { 'content-type': options.registry.contentType }).end(text))
          .catch((err: unknown) => res.writeHead(500).end(String(err)));
        return;
      }
      if (path === '/healthz' || path === '/readyz') {
        let result: ProbeResult;
        try {
          result = path === '/healthz' ? options.healthy() : options.ready();
        } catch (err) {
          result = { ok: false, detail: { error: String(err) } };
        }
        res
          .writeHead(result.ok ? 200 : 503, { 'content-type': 'application/json' })
          .end(JSON.stringify({ status: result.ok ? 'ok' : 'unavailable', ...result.detail }) + '\n');
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics, /healthz or /readyz\n');
    });
    server.keepAliveTimeout = 5_000;
    server.headersTimeout = 10_000;
    server.requestTimeout = 10_000;
    server.maxHeadersCount = 50;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new OpsHttpServer(server);
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
