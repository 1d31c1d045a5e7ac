// deploy/Dockerfile and deploy/docker-compose.yml, checked as far as a machine without a
// container engine allows: the Dockerfile's build stage is carried out step by step in a
// temporary directory (its COPYs from the build context less Dockerfile.dockerignore, its RUNs
// in a shell with its ENV), and the resulting /app runs the image's ENTRYPOINT + CMD and then
// the compose file's six node commands as local processes, which must form a working cluster
// that passes the image's HEALTHCHECK. `docker-compose config` (Debian's compose client,
// installed by .ci/run) validates the compose file; the base images are not pulled and nothing
// runs in a container here.
import { jest } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { createTopic } from './helpers/broker-ops.js';
import { runCliAsync } from './helpers/run-cli-async.js';
import { LocalDeployment, type DeployedNode } from './deploy-node-commands.js';

jest.setTimeout(300_000);

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const DEPLOY = join(REPO, 'deploy');

interface Instruction {
  op: string;
  args: string;
}

/** Dockerfile → instructions (continuations joined, comments dropped), grouped by stage. */
function parseDockerfile(text: string): Instruction[][] {
  const logical = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const stages: Instruction[][] = [];
  for (const line of logical) {
    const m = /^([A-Z]+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`not an instruction: ${line}`);
    if (m[1] === 'FROM') stages.push([]);
    stages.at(-1)!.push({ op: m[1]!, args: m[2]! });
  }
  return stages;
}

const jsonForm = (i: Instruction | undefined): string[] => JSON.parse(i!.args) as string[];

/** A .dockerignore as a predicate on context paths; only the pattern forms used here are understood. */
function dockerignore(text: string): (path: string) => boolean {
  const tests = text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')).map((p) => {
    if (/^\*\*\/\*\.[\w.]+$/.test(p)) return (path: string) => path.endsWith(p.slice(4));
    if (/^\*\*\/[\w.-]+$/.test(p)) return (path: string) => path.split('/').includes(p.slice(3));
    if (/^[\w.-]+$/.test(p)) return (path: string) => path === p || path.startsWith(`${p}/`);
    throw new Error(`dockerignore pattern ${p} is not understood by this test`);
  });
  return (path) => tests.some((t) => t(path));
}

/** The build context as `docker build` of this working tree sees it (files not ignored by git), less the dockerignored ones. */
function contextFiles(ignored: (path: string) => boolean): string[] {
  return execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO, encoding: 'utf8' }).split('\0').filter((f) => f !== '' && existsSync(join(REPO, f)) && !ignored(f));
}

describe('deploy/Dockerfile and deploy/docker-compose.yml without a container engine', () => {
  const stages = parseDockerfile(readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8'));
  const ignored = dockerignore(readFileSync(join(DEPLOY, 'Dockerfile.dockerignore'), 'utf8'));
  const compose = parse(readFileSync(join(DEPLOY, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, { build?: { context: string; dockerfile: string }; image?: string; command?: string[]; hostname?: string; volumes?: string[] }>;
  };
  const runtime = stages.at(-1)!;
  let dir: string;
  let root: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'samsa-docker-'));
    root = join(dir, 'image');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('two stages on the Node 20 image; the runtime stage runs `samsa` as a non-root user, exposes the default ports and checks /healthz', () => {
    expect(stages.map((s) => s[0]!.args)).toEqual(['node:20-bookworm-slim AS build', 'node:20-bookworm-slim']);
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { packageManager: string; engines: { node: string } };
    for (const run of stages[0]!.filter((i) => i.op === 'RUN' && i.args.includes('pnpm@'))) expect(run.args).toContain(pkg.packageManager);
    expect(jsonForm(runtime.find((i) => i.op === 'ENTRYPOINT'))).toEqual(['samsa']);
    expect(runtime.find((i) => i.op === 'USER')!.args).toBe('node');
    expect(runtime.find((i) => i.op === 'EXPOSE')!.args.split(/\s+/)).toEqual(['2181', '2888', '9092', '9404']);
    expect(runtime.find((i) => i.op === 'HEALTHCHECK')!.args).toContain('http://127.0.0.1:9404/healthz');
    // `samsa` on PATH is the CLI's bin shim inside /app.
    expect(runtime.find((i) => i.op === 'RUN')!.args).toContain('ln -s /app/packages/cli/bin/samsa.js /usr/local/bin/samsa');
  });

  test('every COPY source of the build stage exists in the build context and is not ignored', () => {
    const files = contextFiles(ignored);
    for (const copy of stages[0]!.filter((i) => i.op === 'COPY')) {
      const parts = copy.args.split(/\s+/);
      for (const src of parts.slice(0, -1)) {
        const present = files.some((f) => f === src || f.startsWith(`${src}/`));
        expect([src, present]).toEqual([src, true]);
      }
    }
    expect(ignored('packages/cli/node_modules/yaml/package.json')).toBe(true);
    expect(ignored('packages/broker/dist/index.js')).toBe(true);
    expect(ignored('packages/broker/src/index.ts')).toBe(false);
  });

  test('the build stage, carried out step by step, leaves an /app whose `samsa` (ENTRYPOINT + CMD) runs, with production dependencies only', () => {
    const files = contextFiles(ignored);
    let workdir = '/';
    const env: Record<string, string> = {};
    const at = (p: string): string => join(root, posix.isAbsolute(p) ? p : posix.join(workdir, p));
    for (const i of stages[0]!.slice(1)) {
      if (i.op === 'WORKDIR') {
        workdir = i.args;
        mkdirSync(at('.'), { recursive: true });
      } else if (i.op === 'ENV') {
        const [k, v] = i.args.split('=');
        env[k!] = v!;
      } else if (i.op === 'COPY') {
        const parts = i.args.split(/\s+/);
        const dest = parts.at(-1)!;
        for (const src of parts.slice(0, -1)) {
          const isDir = statSync(join(REPO, src)).isDirectory();
          for (const f of files.filter((x) => x === src || x.startsWith(`${src}/`))) {
            // COPY dir dest copies the directory's contents; COPY file dir/ puts the file in dir.
            const rel = isDir ? f.slice(src.length + 1) : dest.endsWith('/') ? posix.basename(f) : '';
            const target = rel === '' ? at(dest) : join(at(dest), rel);
            mkdirSync(dirname(target), { recursive: true });
            cpSync(join(REPO, f), target);
          }
        }
      } else if (i.op === 'RUN') {
        const { NODE_ENV: _testEnv, ...hostEnv } = process.env; // a docker build has no NODE_ENV=test
        const r = spawnSync('sh', ['-c', i.args], { cwd: at('.'), env: { ...hostEnv, ...env, NODE_OPTIONS: '' }, encoding: 'utf8', timeout: 240_000 });
        expect([i.args, r.status, r.status === 0 ? '' : (r.stdout + r.stderr).slice(-3000)]).toEqual([i.args, 0, '']);
      } else {
        throw new Error(`build stage instruction ${i.op} is not carried out by this test`);
      }
    }
    // The runtime stage copies /app from the build stage and links /app/packages/cli/bin/samsa.js as `samsa`.
    expect(runtime.find((i) => i.op === 'COPY')!.args).toBe('--from=build /app /app');
    const samsa = join(root, 'app/packages/cli/bin/samsa.js');
    const cmd = jsonForm(runtime.find((i) => i.op === 'CMD'));
    const r = spawnSync(process.execPath, [samsa, ...cmd], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '', NODE_ENV: 'production' } });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Commands:[\s\S]*samsa broker[\s\S]*samsa coordinator/);
    const installed = readdirSync(join(root, 'app/node_modules/.pnpm'));
    expect(installed.some((p) => p.startsWith('typescript@'))).toBe(false);
    expect(installed.some((p) => p.startsWith('@grpc+grpc-js@'))).toBe(true);
    expect(existsSync(join(root, 'app/proto'))).toBe(true);
    expect(existsSync(join(root, 'app/packages/broker/src'))).toBe(false);
  });

  test('docker-compose config accepts the compose file; the nodes build this Dockerfile; mounted files exist', () => {
    const r = spawnSync('docker-compose', ['-f', join(DEPLOY, 'docker-compose.yml'), 'config', '-q'], { encoding: 'utf8' });
    if (r.error) throw new Error(`docker-compose could not run (install Debian's docker-compose, as .ci/run does): ${r.error.message}`);
    expect([r.status, r.stderr]).toEqual([0, '']);
    const nodes = Object.entries(compose.services).filter(([, s]) => s.build);
    expect(nodes.map(([n]) => n)).toEqual(['coordinator-1', 'coordinator-2', 'coordinator-3', 'broker-1', 'broker-2', 'broker-3']);
    for (const [name, s] of nodes) {
      expect(join(DEPLOY, s.build!.context, s.build!.dockerfile)).toBe(join(DEPLOY, 'Dockerfile'));
      expect(s.hostname).toBe(name);
    }
    for (const s of Object.values(compose.services)) {
      for (const v of s.volumes ?? []) if (v.startsWith('./')) expect([v, existsSync(join(DEPLOY, v.split(':')[0]!))]).toEqual([v, true]);
    }
    const prometheus = compose.services.prometheus!;
    expect(prometheus.volumes).toContain('./prometheus-compose.yml:/etc/prometheus/prometheus.yml:ro');
    expect(prometheus.volumes).toContain('./alerts.yml:/etc/prometheus/alerts.yml:ro');
    expect(prometheus.command).toContain('--config.file=/etc/prometheus/prometheus.yml');
  });

  test("the compose file's six node commands, run with the built /app, form a working cluster: all ready, the image's HEALTHCHECK passes on each, acks=all works on replication factor 3", async () => {
    const samsa = join(root, 'app/packages/cli/bin/samsa.js');
    expect(existsSync(samsa)).toBe(true); // built by the previous test
    const nodes: DeployedNode[] = Object.entries(compose.services)
      .filter(([, s]) => s.build)
      .map(([name, s]) => ({ name, host: name, argv: s.command!, probes: { port: 9404, ready: '/readyz', live: '/healthz' } }));
    const deployment = await LocalDeployment.start(join(dir, 'run'), nodes, samsa);
    try {
      const healthcheck = jsonForm({ op: 'CMD', args: runtime.find((i) => i.op === 'HEALTHCHECK')!.args.replace(/^.*?CMD\s+/, '') });
      for (const n of deployment.running) {
        const script = healthcheck.map((a) => a.replace('127.0.0.1:9404', deployment.local(n.host, 9404)));
        const r = spawnSync(script[0] === 'node' ? process.execPath : script[0]!, script.slice(1), { encoding: 'utf8', timeout: 10_000 });
        expect([n.name, r.status]).toEqual([n.name, 0]);
      }
      const brokers = deployment.running.filter((n) => n.argv[0] === 'broker').map((n) => deployment.localArgs(n)[n.argv.indexOf('--listen') + 1]!);
      await createTopic(brokers, 'compose', 3, 3);
      const r = await runCliAsync(['verifiable-producer', '--bootstrap-server', brokers.join(','), '--topic', 'compose', '--max-messages', '50', '--acks', 'all'], { timeoutMs: 60_000 });
      expect(r.status).toBe(0);
      expect(r.stdout.split('\n').filter((l) => l.includes('"producer_send_success"'))).toHaveLength(50);
      // The HEALTHCHECK fails where nothing answers.
      const dead = deployment.running[0]!;
      await deployment.destroy();
      const script = healthcheck.map((a) => a.replace('127.0.0.1:9404', deployment.local(dead.host, 9404)));
      expect(spawnSync(process.execPath, script.slice(1), { timeout: 10_000 }).status).toBe(1);
    } finally {
      await deployment.destroy();
    }
  });
});
