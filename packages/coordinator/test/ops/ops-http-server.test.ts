// Every node's HTTP side: /metrics in Prometheus text format, /healthz and /readyz as JSON with
// 200 when OK and 503 otherwise.
import { Counter } from 'prom-client';
import { OpsHttpServer } from '../../src/ops/ops-http-server.js';
import { createNodeRegistry } from '../../src/ops/metrics-registry.js';

describe('OpsHttpServer', () => {
  let server: OpsHttpServer;
  let ready = false;
  const registry = createNodeRegistry({ node: 'test-1' });
  const requests = new Counter({ name: 'samsa_test_requests_total', help: 'requests', registers: [registry] });

  beforeAll(async () => {
    server = await OpsHttpServer.start({
      host: '127.0.0.1',
      port: 0,
      registry,
      healthy: () => ({ ok: true }),
      ready: () => ({ ok: ready, detail: { leader: ready ? 1 : null } }),
    });
  });
  afterAll(() => server.close());

  const url = (path: string): string => `http://127.0.0.1:${server.port}${path}`;

  test('/metrics serves our metrics and the process defaults with the samsa_ prefix', async () => {
    requests.inc(3);
    const res = await fetch(url('/metrics'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toContain('samsa_test_requests_total{node="test-1"} 3');
    expect(text).toContain('samsa_process_cpu_user_seconds_total');
    expect(text).not.toContain('samsa_nodejs_active_handles_total');
  });

  test('/healthz and /readyz answer 200 or 503 with a reason', async () => {
    expect((await fetch(url('/healthz'))).status).toBe(200);
    const notReady = await fetch(url('/readyz'));
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({ status: 'unavailable', leader: null });
    ready = true;
    const nowReady = await fetch(url('/readyz'));
    expect(nowReady.status).toBe(200);
    expect(await nowReady.json()).toEqual({ status: 'ok', leader: 1 });
  });

  test('unknown paths are 404 and other methods 405', async () => {
    expect((await fetch(url('/nope'))).status).toBe(404);
    expect((await fetch(url('/metrics'), { method: 'POST' })).status).toBe(405);
  });
});
