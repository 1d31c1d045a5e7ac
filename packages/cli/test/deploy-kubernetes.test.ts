// deploy/kubernetes: the manifests validate against the Kubernetes API schemas
// (kubernetes-models) and have the shape a samsa cluster needs (headless services that
// publish not-ready pods, StatefulSets whose selectors, service names and ports agree,
// readiness on /readyz and liveness on /healthz of the metrics port, PodDisruptionBudgets of
// one), and the pods' commands — evaluated by a real shell as the container would, for
// ordinals 0-2 — start a working 3-coordinator, 3-broker cluster: every pod passes its probes,
// the broker ids are ordinal + 1, and a replicated topic takes acks=all writes. There is no
// Kubernetes here: the processes run locally with pod DNS names mapped to 127.0.0.1 ports.
import { jest } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Service } from 'kubernetes-models/v1/Service';
import { parse, parseAllDocuments } from 'yaml';
import { createTopic, metadata } from './helpers/broker-ops.js';
import { runCliAsync } from './helpers/run-cli-async.js';
import { LocalDeployment, type DeployedNode } from './deploy-node-commands.js';

jest.setTimeout(150_000);

const K8S = fileURLToPath(new URL('../../../deploy/kubernetes/', import.meta.url));
const NAMESPACE = 'samsa-test';

interface Probe { httpGet: { path: string; port: string | number } }
interface Container {
  name: string;
  command: string[];
  args: string[];
  env: { name: string; value?: string; valueFrom?: { fieldRef: { fieldPath: string } } }[];
  ports: { name: string; containerPort: number }[];
  readinessProbe: Probe;
  livenessProbe: Probe;
  volumeMounts: { name: string; mountPath: string }[];
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec: Record<string, any>;
}

const manifests = (file: string): Manifest[] => parseAllDocuments(readFileSync(join(K8S, file), 'utf8')).map((d) => d.toJS() as Manifest);

/** Kubernetes' own expansion of command/args: $(VAR) for a defined VAR, $$ for $; the rest as is. */
function kubernetesExpand(s: string, env: Record<string, string>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name: string | undefined) => (m === '$$' ? '$' : name! in env ? env[name!]! : m));
}

/** What the container runs, as argv after `samsa`: the command through a real `sh`, with `samsa` recording its arguments. */
function podArgv(container: Container, podName: string, fakeBinDir: string): string[] {
  const env: Record<string, string> = { HOSTNAME: podName };
  for (const e of container.env) {
    if (e.valueFrom?.fieldRef.fieldPath === 'metadata.namespace') env[e.name] = NAMESPACE;
    else if (e.value !== undefined) env[e.name] = e.value;
    else throw new Error(`env ${e.name}: unsupported source`);
  }
  const argv = [...container.command, ...container.args].map((a) => kubernetesExpand(a, env));
  expect(argv.slice(0, 2)).toEqual(['sh', '-c']);
  const r = spawnSync('sh', argv.slice(1), { env: { PATH: `${fakeBinDir}:/usr/bin:/bin`, ...env }, encoding: 'utf8' });
  expect([r.status, r.stderr]).toEqual([0, '']);
  return r.stdout.split('\0').slice(0, -1);
}

describe('deploy/kubernetes manifests', () => {
  const coordinators = manifests('coordinators.yaml');
  const brokers = manifests('brokers.yaml');
  const all = [...coordinators, ...brokers];
  const of = (docs: Manifest[], kind: string): Manifest => {
    const found = docs.filter((d) => d.kind === kind);
    expect(found).toHaveLength(1);
    return found[0]!;
  };
  const containerOf = (set: Manifest): Container => set.spec.template.spec.containers[0] as Container;
  let dir: string;
  let fakeBin: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'samsa-k8s-'));
    fakeBin = join(dir, 'bin');
    spawnSync('mkdir', ['-p', fakeBin]);
    writeFileSync(join(fakeBin, 'samsa'), '#!/bin/sh\nfor a in "$@"; do printf \'%s\\0\' "$a"; done\n');
    chmodSync(join(fakeBin, 'samsa'), 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('kustomization lists both files; every document has an apiVersion, kind and name', () => {
    const k = parse(readFileSync(join(K8S, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
    expect(k.resources.sort()).toEqual(['brokers.yaml', 'coordinators.yaml']);
    expect(all.map((m) => `${m.apiVersion} ${m.kind}`).sort()).toEqual([
      'apps/v1 StatefulSet', 'apps/v1 StatefulSet', 'policy/v1 PodDisruptionBudget', 'policy/v1 PodDisruptionBudget', 'v1 Service', 'v1 Service',
    ]);
  });

  test('every document validates against the Kubernetes API schema of its kind (kubernetes-models), and a broken copy does not', () => {
    const models: Record<string, new (data: any) => { validate(): void }> = {
      'apps/v1 StatefulSet': StatefulSet, 'v1 Service': Service, 'policy/v1 PodDisruptionBudget': PodDisruptionBudget,
    };
    for (const m of all) {
      const Model = models[`${m.apiVersion} ${m.kind}`]!;
      expect(() => new Model(m).validate()).not.toThrow();
    }
    const broken = structuredClone(of(brokers, 'StatefulSet'));
    broken.spec.replicas = 'three';
    delete broken.spec.template.spec.containers[0].name;
    expect(() => new StatefulSet(broken as never).validate()).toThrow(/replicas must be integer/);
  });

  test.each([['coordinators.yaml', 'coordinator', ['client', 'peer', 'metrics']], ['brokers.yaml', 'broker', ['broker', 'metrics']]] as const)(
    '%s: a headless service publishing not-ready pods, a StatefulSet of 3 on it with matching selector and ports, probes on the metrics port, data on the volume, a PDB of 1',
    (file, role, portNames) => {
      const docs = manifests(file);
      const service = of(docs, 'Service');
      const set = of(docs, 'StatefulSet');
      const pdb = of(docs, 'PodDisruptionBudget');
      expect(service.spec.clusterIP).toBe('None');
      expect(service.spec.publishNotReadyAddresses).toBe(true);
      expect(set.spec.serviceName).toBe(service.metadata.name);
      expect(set.spec.replicas).toBe(3);
      const podLabels = set.spec.template.metadata.labels as Record<string, string>;
      for (const selector of [service.spec.selector, set.spec.selector.matchLabels, pdb.spec.selector.matchLabels] as Record<string, string>[]) {
        expect(podLabels).toMatchObject(selector);
        expect(selector['app.kubernetes.io/component']).toBe(role);
      }
      expect(pdb.spec.maxUnavailable).toBe(1);
      const c = containerOf(set);
      expect(c.ports.map((p) => p.name)).toEqual(portNames);
      expect((service.spec.ports as { name: string; port: number }[]).map((p) => [p.name, p.port])).toEqual(c.ports.map((p) => [p.name, p.containerPort]));
      const metricsPort = c.ports.find((p) => p.name === 'metrics')!.containerPort;
      expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
      expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
      const argv = podArgv(c, `${set.metadata.name}-1`, fakeBin);
      expect(argv.slice(0, 2)).toEqual([role, 'start']);
      expect(argv[argv.indexOf('--id') + 1]).toBe('2');
      expect(argv[argv.indexOf('--metrics-port') + 1]).toBe(String(metricsPort));
      expect(argv[argv.indexOf('--metrics-host') + 1]).toBe('0.0.0.0');
      const volume = c.volumeMounts.find((v) => v.mountPath === argv[argv.indexOf('--data-dir') + 1]);
      expect(volume).toBeDefined();
      expect((set.spec.volumeClaimTemplates as { metadata: { name: string } }[]).map((v) => v.metadata.name)).toContain(volume!.name);
      expect(set.spec.template.metadata.annotations['prometheus.io/port']).toBe(String(metricsPort));
    },
  );

  test("every flag the pods pass is one `samsa <role> start` accepts (its --help lists it)", async () => {
    for (const set of all.filter((m) => m.kind === 'StatefulSet')) {
      const argv = podArgv(containerOf(set), `${set.metadata.name}-0`, fakeBin);
      const help = await runCliAsync([argv[0]!, 'start', '--help']);
      expect(help.status).toBe(0);
      for (const flag of argv.filter((a) => a.startsWith('--'))) expect([flag, help.stdout.includes(`${flag} `)]).toEqual([flag, true]);
    }
  });

  test('the pods of both StatefulSets, run as local processes, form a working cluster: all pass /readyz and /healthz, broker ids are ordinal + 1 at their --listen addresses, acks=all works on replication factor 3', async () => {
    const nodes: DeployedNode[] = [];
    for (const set of all.filter((m) => m.kind === 'StatefulSet')) {
      const c = containerOf(set);
      for (let ordinal = 0; ordinal < set.spec.replicas; ordinal++) {
        const pod = `${set.metadata.name}-${ordinal}`;
        nodes.push({
          name: pod,
          host: `${pod}.${set.spec.serviceName}.${NAMESPACE}.svc`,
          argv: podArgv(c, pod, fakeBin),
          probes: { port: c.ports.find((p) => p.name === c.readinessProbe.httpGet.port)!.containerPort, ready: c.readinessProbe.httpGet.path, live: c.livenessProbe.httpGet.path },
        });
      }
    }
    const deployment = await LocalDeployment.start(join(dir, 'run'), nodes);
    try {
      for (const n of deployment.running) expect([n.name, await deployment.probe(n, n.probes.live)]).toEqual([n.name, 200]);
      const brokerPods = deployment.running.filter((n) => n.argv[0] === 'broker');
      const listen = (n: DeployedNode): string => deployment.localArgs(n)[n.argv.indexOf('--listen') + 1]!;
      const addresses = brokerPods.map(listen);
      const md = await metadata(addresses);
      expect(md.brokers.map((b) => [b.id, `${b.host}:${b.port}`]).sort()).toEqual(brokerPods.map((n, ordinal) => [ordinal + 1, listen(n)]).sort());
      await createTopic(addresses, 'k8s', 3, 3);
      const r = await runCliAsync(['verifiable-producer', '--bootstrap-server', addresses.join(','), '--topic', 'k8s', '--max-messages', '50', '--acks', 'all'], { timeoutMs: 60_000 });
      expect(r.status).toBe(0);
      expect(r.stdout.split('\n').filter((l) => l.includes('"producer_send_success"'))).toHaveLength(50);
    } finally {
      await deployment.destroy();
    }
  });
});
