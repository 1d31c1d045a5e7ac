// deploy/'s Prometheus and Grafana files are valid for the real tools: `promtool check config`
// on both scrape configs (which load the alert rules), `promtool check rules`, and
// `promtool test rules` (alerts.test.yml: each alert fires when and only when it should). The
// local scrape config targets exactly the metrics ports `samsa cluster up` gives its nodes, the
// compose one the compose services, and the Grafana dashboard queries the provisioned data
// source. promtool comes from Debian's prometheus package, which .ci/run installs; if it is
// missing these tests fail, they do not skip.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { DEFAULT_PORTS, planCluster } from '../src/cluster/layout.js';

const DEPLOY = fileURLToPath(new URL('../../../deploy/', import.meta.url));

function promtool(...args: string[]): { status: number | null; output: string } {
  const r = spawnSync('promtool', args, { cwd: DEPLOY, encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw new Error(`promtool could not run (install Debian's prometheus package, as .ci/run does): ${r.error.message}`);
  return { status: r.status, output: r.stdout + r.stderr };
}

interface ScrapeConfig {
  job_name: string;
  static_configs: { targets: string[]; labels?: Record<string, string> }[];
}
interface PrometheusConfig {
  global: { scrape_interval: string };
  rule_files: string[];
  scrape_configs: ScrapeConfig[];
}

const readYaml = <T>(file: string): T => parse(readFileSync(join(DEPLOY, file), 'utf8'), { merge: true }) as T;
const targetsOf = (c: PrometheusConfig, job: string): string[] => c.scrape_configs.find((s) => s.job_name === job)!.static_configs.flatMap((s) => s.targets);

describe('deploy/ Prometheus configuration and alert rules', () => {
  test('promtool is installed (Debian prometheus 2.x)', () => {
    expect(execFileSync('promtool', ['--version'], { encoding: 'utf8' })).toMatch(/promtool, version 2\./);
  });

  test.each(['prometheus.yml', 'prometheus-compose.yml'])('promtool check config %s: valid, and it loads alerts.yml', (file) => {
    const r = promtool('check', 'config', file);
    expect(r.output).toContain(`SUCCESS: ${file} is valid prometheus config file syntax`);
    expect(r.output).toMatch(/Checking alerts\.yml\s+SUCCESS: \d+ rules found/);
    expect(r.status).toBe(0);
  });

  test('promtool check rules alerts.yml: valid, and it has the alerts the cluster needs', () => {
    const r = promtool('check', 'rules', 'alerts.yml');
    expect(r.status).toBe(0);
    const rules = readYaml<{ groups: { rules: { alert: string; expr: string; for?: string }[] }[] }>('alerts.yml').groups.flatMap((g) => g.rules);
    const byName = new Map(rules.map((rule) => [rule.alert, rule]));
    expect(byName.get('SamsaUnderReplicatedPartitions')!.expr).toContain('samsa_broker_under_replicated_partitions');
    expect(byName.get('SamsaOfflinePartitions')!.expr).toContain('samsa_controller_offline_partitions');
    expect(byName.get('SamsaActiveControllerCountNotOne')!.expr).toContain('sum(samsa_controller_active_controllers) != 1');
    expect(byName.get('SamsaConsumerGroupLagStatusNotOk')!.expr).toContain('samsa_consumer_group_status');
    expect(byName.get('SamsaConsumerGroupLagStatusNotOk')!.for).toBe('5m');
  });

  test('promtool test rules alerts.test.yml: every alert fires when it should and stays quiet otherwise', () => {
    const r = promtool('test', 'rules', 'alerts.test.yml');
    expect(r.output).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  test('promtool test rules fails when an alert is broken (the unit tests can fail)', () => {
    // A copy of the rules where under-replication must exceed 5: the test file's expectation breaks.
    const broken = readFileSync(join(DEPLOY, 'alerts.yml'), 'utf8').replace('(samsa_broker_under_replicated_partitions) > 0', '(samsa_broker_under_replicated_partitions) > 5');
    const tmp = mkdtempSync(join(tmpdir(), 'samsa-alerts-'));
    try {
      writeFileSync(join(tmp, 'alerts.yml'), broken);
      copyFileSync(join(DEPLOY, 'alerts.test.yml'), join(tmp, 'alerts.test.yml'));
      const r = spawnSync('promtool', ['test', 'rules', 'alerts.test.yml'], { cwd: tmp, encoding: 'utf8' });
      expect(r.status).not.toBe(0);
      expect(r.stdout + r.stderr).toContain('SamsaUnderReplicatedPartitions');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  test('prometheus.yml scrapes the metrics ports that `samsa cluster up` gives its 3 coordinators and 3 brokers', () => {
    const layout = planCluster({ dataDir: '/tmp/unused', coordinators: 3, brokers: 3 });
    const expected = (role: string): string[] => layout.nodes.filter((n) => n.role === role).map((n) => `${n.host}:${n.ports.metrics}`);
    const config = readYaml<PrometheusConfig>('prometheus.yml');
    expect(targetsOf(config, 'samsa-coordinators')).toEqual(expected('coordinator'));
    expect(targetsOf(config, 'samsa-brokers')).toEqual(expected('broker'));
    expect(expected('coordinator')[0]).toBe(`127.0.0.1:${DEFAULT_PORTS.metrics}`);
    expect(config.rule_files).toEqual(['alerts.yml']);
  });

  test('prometheus-compose.yml scrapes port 9404 of every compose node service, the same jobs as prometheus.yml', () => {
    const config = readYaml<PrometheusConfig>('prometheus-compose.yml');
    const compose = readYaml<{ services: Record<string, { command?: string[] }> }>('docker-compose.yml');
    const nodes = (role: string): string[] => Object.keys(compose.services).filter((s) => compose.services[s]!.command?.[0] === role);
    expect(nodes('coordinator')).toHaveLength(3);
    expect(nodes('broker')).toHaveLength(3);
    expect(targetsOf(config, 'samsa-coordinators')).toEqual(nodes('coordinator').map((s) => `${s}:9404`));
    expect(targetsOf(config, 'samsa-brokers')).toEqual(nodes('broker').map((s) => `${s}:9404`));
    for (const s of [...nodes('coordinator'), ...nodes('broker')]) {
      const cmd = compose.services[s]!.command!;
      expect(cmd[cmd.indexOf('--metrics-port') + 1]).toBe('9404');
      expect(cmd[cmd.indexOf('--metrics-host') + 1]).toBe('0.0.0.0');
    }
    expect(config.scrape_configs.map((s) => s.job_name)).toEqual(readYaml<PrometheusConfig>('prometheus.yml').scrape_configs.map((s) => s.job_name));
  });

  test('the Grafana dashboard is provisioned from the mounted folder and every panel queries the provisioned Prometheus data source', () => {
    const datasources = readYaml<{ datasources: { uid: string; type: string; url: string }[] }>('grafana/provisioning/datasources/prometheus.yml').datasources;
    expect(datasources).toEqual([expect.objectContaining({ uid: 'prometheus', type: 'prometheus', url: 'http://prometheus:9090' })]);
    const providers = readYaml<{ providers: { options: { path: string } }[] }>('grafana/provisioning/dashboards/samsa.yml').providers;
    const compose = readYaml<{ services: Record<string, { volumes?: string[] }> }>('docker-compose.yml');
    expect(compose.services.grafana!.volumes).toContain(`./grafana/dashboards:${providers[0]!.options.path}:ro`);
    const dashboard = JSON.parse(readFileSync(join(DEPLOY, 'grafana/dashboards/samsa.json'), 'utf8')) as {
      uid: string;
      panels: { type: string; title: string; datasource?: { uid: string }; targets?: { expr: string }[] }[];
    };
    const panels = dashboard.panels.filter((p) => p.type !== 'row');
    expect(panels.length).toBeGreaterThan(10);
    for (const p of panels) {
      expect([p.title, p.datasource?.uid]).toEqual([p.title, 'prometheus']);
      expect(p.targets!.length).toBeGreaterThan(0);
    }
    const exprs = panels.flatMap((p) => p.targets!.map((t) => t.expr)).join('\n');
    for (const metric of [
      'samsa_controller_active_controllers', 'samsa_controller_offline_partitions', 'samsa_broker_under_replicated_partitions',
      'samsa_broker_topic_bytes_in_total', 'samsa_broker_topic_bytes_out_total', 'samsa_broker_partitions', 'samsa_broker_leaders',
      'samsa_broker_requests_total', 'samsa_broker_request_duration_seconds_bucket', 'samsa_broker_topic_messages_in_total',
      'samsa_consumer_group_lag', 'samsa_consumer_group_max_lag', 'samsa_consumer_group_status',
    ]) {
      expect(exprs).toMatch(new RegExp(`\\b${metric}\\b`));
    }
  });
});
