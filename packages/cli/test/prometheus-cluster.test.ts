// A real Prometheus server (Debian's, installed by .ci/run) scrapes a real local cluster of 3
// coordinators and 3 brokers with deploy/prometheus.yml — its targets swapped for the test
// cluster's metrics ports, 1 s intervals, deploy/alerts.yml loaded — and sees what an operator
// must see: exactly one active controller (also after the controller is killed), no
// under-replicated partitions until a broker is killed and then some, with the alert pending,
// the cluster's bytes in, and a consumer group's lag. Before that, every node's /metrics passes `promtool check
// metrics`, and every metric the dashboard and the alerts use is one the cluster declares.
import { jest } from '@jest/globals';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { findFreePorts } from '../src/cluster/free-ports.js';
import { planCluster } from '../src/cluster/layout.js';
import { LocalCluster, waitFor } from '../src/cluster/local-cluster.js';
import type { NodeSpec } from '../src/cluster/layout.js';
import { createTopic, metadata } from './helpers/broker-ops.js';
import { runCliAsync } from './helpers/run-cli-async.js';

jest.setTimeout(180_000);

const DEPLOY = fileURLToPath(new URL('../../../deploy/', import.meta.url));

const GROUP = 'metrics-e2e-group';

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

interface ScrapeConfig {
  job_name: string;
  static_configs: { targets: string[] }[];
}

describe('Prometheus scraping a local cluster (3 coordinators, 3 brokers) with deploy/prometheus.yml', () => {
  let cluster: LocalCluster;
  let dir: string;
  let prometheus: ChildProcess | undefined;
  let promUrl = '';

  const nodes = (role: string): NodeSpec[] => cluster.file.layout.nodes.filter((n) => n.role === role);
  const metricsText = async (n: NodeSpec): Promise<string> => (await fetch(`http://${n.host}:${n.ports.metrics}/metrics`)).text();

  async function api<T>(path: string): Promise<T> {
    const res = await fetch(`${promUrl}${path}`, { signal: AbortSignal.timeout(5_000) });
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`${path}: ${body.error}`);
    return body.data;
  }
  const query = async (promql: string): Promise<Sample[]> =>
    (await api<{ result: Sample[] }>(`/api/v1/query?query=${encodeURIComponent(promql)}`)).result;
  const scalar = async (promql: string): Promise<number | null> => {
    const r = await query(promql);
    return r.length === 1 ? Number(r[0]!.value[1]) : null;
  };

  /** Waits until `promql` yields a single value that satisfies `ok`; fails with the last value. */
  async function until(promql: string, ok: (v: number) => boolean, timeoutMs = 30_000): Promise<number> {
    let last: number | null = null;
    const reached = await waitFor(async () => {
      last = await scalar(promql).catch(() => null);
      return last !== null && ok(last);
    }, timeoutMs, 250);
    if (!reached) throw new Error(`${promql}: last value ${last} within ${timeoutMs} ms\n${prometheusLog()}`);
    return last!;
  }
  const prometheusLog = (): string => {
    try {
      return readFileSync(join(dir, 'prometheus.log'), 'utf8').slice(-3000);
    } catch {
      return '';
    }
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'samsa-prometheus-'));
    cluster = await LocalCluster.start({ coordinators: 3, brokers: 3, brokerArgs: ['--auto.leader.rebalance.enable', 'false'] });
    await createTopic(cluster.brokerAddresses, 'metrics-e2e', 3, 3);
    const bootstrap = cluster.brokerAddresses.join(',');
    const lines = Array.from({ length: 200 }, (_, i) => `record-${i}`).join('\n') + '\n';
    const produced = await runCliAsync(['produce', 'metrics-e2e', '--bootstrap-server', bootstrap], { input: lines });
    expect(produced.status).toBe(0);
    const consumed = await runCliAsync(['consume', 'metrics-e2e', '--bootstrap-server', bootstrap, '--from-beginning', '--max-messages', '200']);
    expect(consumed.stdout.split('\n').filter(Boolean)).toHaveLength(200);
    // A consumer group that commits 150 of the 200 records: its coordinator exports lag 50.
    const grouped = await runCliAsync(['consume', 'metrics-e2e', '--bootstrap-server', bootstrap, '--group', GROUP, '--from-beginning', '--max-messages', '150'], { timeoutMs: 60_000 });
    expect([grouped.status, grouped.stderr]).toEqual([0, '']);
    expect(grouped.stdout.split('\n').filter(Boolean)).toHaveLength(150);
  }, 120_000);

  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((r) => prometheus!.once('exit', r));
      prometheus.kill('SIGTERM');
      if (!(await waitFor(() => prometheus!.exitCode !== null || prometheus!.signalCode !== null, 10_000, 100))) prometheus.kill('SIGKILL');
      await exited;
    }
    await cluster?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  test("every node's /metrics passes promtool check metrics, brokers with request metrics per API", async () => {
    for (const n of cluster.file.layout.nodes) {
      const text = await metricsText(n);
      const lint = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      if (lint.error) throw new Error(`promtool could not run (install Debian's prometheus package, as .ci/run does): ${lint.error.message}`);
      expect([n.name, lint.status, lint.stdout + lint.stderr]).toEqual([n.name, 0, '']);
    }
    const broker = await Promise.all(nodes('broker').map(metricsText));
    const all = broker.join('\n');
    for (const api of ['Produce', 'Fetch', 'Metadata', 'CreateTopics']) {
      expect(all).toMatch(new RegExp(`^samsa_broker_requests_total\\{api="${api}",[^}]*\\} [1-9]`, 'm'));
      expect(all).toMatch(new RegExp(`^samsa_broker_request_duration_seconds_count\\{[^}]*api="${api}"[^}]*\\} [1-9]`, 'm'));
    }
    for (const c of await Promise.all(nodes('coordinator').map(metricsText))) expect(c).toMatch(/^samsa_coordinator_is_leader\{[^}]*\} [01]$/m);
  });

  test('a real Prometheus scrapes all 6 nodes: active controllers sum to 1, no under-replicated partitions, bytes in as the brokers report them; every dashboard and alert query runs and uses exported metrics', async () => {
    // The test's config is deploy/prometheus.yml with each default target replaced by the test
    // node that `samsa cluster up` would have put on it (same role, same position).
    const config = parse(readFileSync(join(DEPLOY, 'prometheus.yml'), 'utf8')) as {
      global: Record<string, string>;
      rule_files: string[];
      scrape_configs: ScrapeConfig[];
    };
    const defaults = planCluster({ dataDir: '/unused', coordinators: 3, brokers: 3 }).nodes;
    const testNodes = cluster.file.layout.nodes;
    for (const job of config.scrape_configs) {
      for (const sc of job.static_configs) {
        sc.targets = sc.targets.map((t) => {
          const i = defaults.findIndex((d) => `${d.host}:${d.ports.metrics}` === t);
          if (i < 0) throw new Error(`deploy/prometheus.yml target ${t} is no metrics port of cluster up's layout`);
          const n = testNodes[i]!;
          expect(job.job_name).toBe(n.role === 'broker' ? 'samsa-brokers' : 'samsa-coordinators');
          return `${n.host}:${n.ports.metrics}`;
        });
      }
    }
    config.global.scrape_interval = '1s';
    config.global.evaluation_interval = '1s';
    config.rule_files = config.rule_files.map((f) => join(DEPLOY, f));
    writeFileSync(join(dir, 'prometheus.yml'), stringify(config));
    const [port] = await findFreePorts(1);
    promUrl = `http://127.0.0.1:${port}`;
    const log = openSync(join(dir, 'prometheus.log'), 'w');
    prometheus = spawn('prometheus', [
      `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn',
    ], { stdio: ['ignore', log, log] });
    const spawnError = new Promise<Error>((resolve) => prometheus!.once('error', resolve));
    const started = await Promise.race([
      waitFor(async () => (await fetch(`${promUrl}/-/ready`).catch(() => null))?.status === 200, 30_000, 200),
      spawnError.then((e) => { throw new Error(`prometheus could not start (install Debian's prometheus package, as .ci/run does): ${e.message}`); }),
    ]);
    if (!started) throw new Error(`prometheus not ready:\n${prometheusLog()}`);

    const allUp = await waitFor(async () => {
      const t = await api<{ activeTargets: { health: string }[] }>('/api/v1/targets');
      return t.activeTargets.length === 6 && t.activeTargets.every((x) => x.health === 'up');
    }, 30_000, 250);
    expect(allUp).toBe(true);

    expect(await until('sum(samsa_controller_active_controllers)', (v) => v === 1)).toBe(1);
    expect(await until('count(samsa_controller_active_controllers)', (v) => v === 3)).toBe(3);
    expect(await until('sum(samsa_broker_under_replicated_partitions)', (v) => v === 0)).toBe(0);
    expect(await until('sum(samsa_controller_offline_partitions)', (v) => v === 0)).toBe(0);
    expect(await until('sum(samsa_coordinator_is_leader)', (v) => v === 1)).toBe(1);
    const partitionCount = (await metadata(cluster.brokerAddresses)).topics.reduce((n, t) => n + t.partitions.length, 0);
    expect(partitionCount).toBeGreaterThanOrEqual(3);
    expect(await until('sum(samsa_broker_leaders)', (v) => v === partitionCount)).toBe(partitionCount);
    expect(await until('sum(samsa_broker_partitions)', (v) => v === 3 * partitionCount)).toBe(3 * partitionCount);

    // Bytes in: what Prometheus sums is what the brokers' own /metrics say (production is over).
    const direct = (await Promise.all(nodes('broker').map(metricsText)))
      .flatMap((t) => [...t.matchAll(/^samsa_broker_topic_bytes_in_total\{topic="metrics-e2e",[^}]*\} (\d+)$/gm)].map((m) => Number(m[1])))
      .reduce((a, b) => a + b, 0);
    expect(direct).toBeGreaterThan(200 * 'record-0'.length);
    expect(await until('sum(samsa_broker_topic_bytes_in_total{topic="metrics-e2e"})', (v) => v === direct)).toBe(direct);
    expect(await until('sum(samsa_broker_topic_messages_in_total{topic="metrics-e2e"})', (v) => v === 200)).toBe(200);

    // The group's lag, as its coordinator evaluates it: 50 records behind, summed over the
    // partitions it committed (the producer's sticky partitioner may have used only one), each
    // with a lag status.
    expect(await until(`sum(samsa_consumer_group_lag{group="${GROUP}"})`, (v) => v === 50)).toBe(50);
    const lagged = await until(`count(samsa_consumer_group_lag{group="${GROUP}"})`, (v) => v >= 1);
    expect(await until(`count(samsa_consumer_group_partition_status{group="${GROUP}"})`, (v) => v === lagged)).toBe(lagged);
    expect(await until(`max(samsa_consumer_group_max_lag{group="${GROUP}"})`, (v) => v > 0)).toBeGreaterThan(0);
    expect([0, 1, 2]).toContain(await until(`max(samsa_consumer_group_status{group="${GROUP}"})`, (v) => v >= 0));

    // Every query of the dashboard and the alert rules is valid PromQL on this server, and every
    // samsa metric they name is declared (# TYPE) by this cluster's nodes: a labelled counter
    // has no series until its first event, but its declaration is always there.
    const types = new Map<string, string>();
    for (const text of await Promise.all(cluster.file.layout.nodes.map(metricsText))) {
      for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) types.set(name!, type!);
    }
    const declared = (metric: string): boolean => {
      if (types.has(metric)) return true;
      const base = metric.replace(/_(bucket|sum|count)$/, '');
      return base !== metric && ['histogram', 'summary'].includes(types.get(base) ?? '');
    };
    const dashboard = JSON.parse(readFileSync(join(DEPLOY, 'grafana/dashboards/samsa.json'), 'utf8')) as { panels: { targets?: { expr: string }[] }[] };
    const alerts = parse(readFileSync(join(DEPLOY, 'alerts.yml'), 'utf8')) as { groups: { rules: { expr: string }[] }[] };
    const exprs = [...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)), ...alerts.groups.flatMap((g) => g.rules.map((r) => r.expr))];
    for (const expr of exprs) {
      await query(expr); // throws on a PromQL error
      for (const [metric] of expr.matchAll(/\bsamsa_[a-z0-9_]+/g)) {
        expect([expr, metric, declared(metric)]).toEqual([expr, metric, true]);
      }
    }
    const rules = await api<{ groups: { rules: { name: string; health: string }[] }[] }>('/api/v1/rules');
    const loaded = rules.groups.flatMap((g) => g.rules);
    expect(loaded.length).toBe(alerts.groups.flatMap((g) => g.rules).length);
    for (const r of loaded) expect([r.name, r.health]).toEqual([r.name, 'ok']);
  });

  test('kill -9 of a broker: Prometheus sees its target down, under-replicated partitions, and the alerts pending; kill -9 of the controller: the active controller sum is 1 again, on another broker', async () => {
    expect(promUrl).not.toBe('');
    const md = await metadata(cluster.brokerAddresses);
    const victim = md.brokers.map((b) => b.id).find((id) => id !== md.controllerId)!;
    await cluster.kill(`broker-${victim}`);
    const victimTarget = `${cluster.node(`broker-${victim}`).host}:${cluster.node(`broker-${victim}`).ports.metrics}`;
    expect(await until(`up{instance="${victimTarget}"}`, (v) => v === 0)).toBe(0);
    expect(await until('sum(samsa_broker_under_replicated_partitions)', (v) => v > 0)).toBeGreaterThan(0);
    const pending = await waitFor(async () => {
      const alerts = await api<{ alerts: { labels: { alertname: string }; state: string }[] }>('/api/v1/alerts');
      const names = alerts.alerts.map((a) => a.labels.alertname);
      return names.includes('SamsaUnderReplicatedPartitions') && names.includes('SamsaNodeDown');
    }, 30_000, 250);
    expect(pending).toBe(true);
    expect(await until('sum(samsa_controller_active_controllers)', (v) => v === 1)).toBe(1);

    const controller = md.controllerId;
    await cluster.kill(`broker-${controller}`);
    const survivor = md.brokers.map((b) => b.id).find((id) => id !== controller && id !== victim)!;
    expect(await until(`sum(samsa_controller_active_controllers{node_id="${survivor}"})`, (v) => v === 1)).toBe(1);
    expect(await until('sum(samsa_controller_active_controllers)', (v) => v === 1)).toBe(1);
  });
});
