// Benchmark of a 3-member coordination ensemble on this machine, printed as JSON lines:
//   baseline.fsync          what the disk does alone: 100-byte write + fdatasync per op
//   baseline.read           a linearizable read (one ReadIndex round, no disk): how loaded the
//                           machine is while the write figures are taken
//   coordinator.sequential  writes/s and p50/p99 latency with one write in flight
//   coordinator.pipelined   writes/s and p50/p99 latency with many writes in flight from one client
//                           (both for a client on the leader and one on a follower, which
//                           forwards its writes to the leader)
//   coordinator.failover    kill -9 of the leader → first successful write, in seconds
//   coordinator.ephemeral   kill -9 of a client → its ephemeral znode gone, vs its session timeout
//
//   npx tsx --conditions=@samsa/source packages/cli/bench/coordinator-ensemble.ts
//   (SAMSA_BENCH_SECONDS=3 for longer rounds)

import { spawn } from 'node:child_process';
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoordinatorClient, CoordinatorError, CoordinatorRpc } from '@samsa/coordinator';
import { LocalCluster, waitFor } from '../src/cluster/local-cluster.js';

const SECONDS = Number(process.env.SAMSA_BENCH_SECONDS ?? 2);

function emit(bench: string, fields: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify({ bench, ...fields }) + '\n');
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function baselineFsync(): void {
  const dir = mkdtempSync(join(tmpdir(), 'samsa-bench-fsync-'));
  const fd = openSync(join(dir, 'f'), 'w');
  const buf = Buffer.alloc(100, 1);
  const end = performance.now() + SECONDS * 1000;
  let ops = 0;
  while (performance.now() < end) {
    writeSync(fd, buf);
    fdatasyncSync(fd);
    ops++;
  }
  closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
  emit('baseline.fsync', { fsyncs_per_sec: Math.round(ops / SECONDS) });
}

/** Reads of one member, one at a time: a client round trip plus a heartbeat round, no disk. */
async function readBaseline(address: string): Promise<void> {
  const rpc = new CoordinatorRpc(address);
  const latencies: number[] = [];
  const end = performance.now() + 1000;
  while (performance.now() < end) {
    const t = performance.now();
    await rpc.exists('/', 5_000).catch(() => {});
    latencies.push(performance.now() - t);
  }
  rpc.close();
  latencies.sort((a, b) => a - b);
  emit('baseline.read', { reads_per_sec: latencies.length, p50_ms: +percentile(latencies, 50).toFixed(2), p99_ms: +percentile(latencies, 99).toFixed(2) });
}

async function pipelined(client: CoordinatorClient, inFlight: number, via: string): Promise<void> {
  await client.ensurePath('/bench/pipelined');
  const data = Buffer.alloc(100, 7);
  const latencies: number[] = [];
  let stop = false;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (!stop) {
      const t = performance.now();
      await client.set('/bench/pipelined', data).catch(async (err) => {
        if (err instanceof CoordinatorError && err.code === 'NO_NODE') await client.ensurePath('/bench/pipelined');
        else throw err;
      });
      latencies.push(performance.now() - t);
    }
  };
  const workers = Array.from({ length: inFlight }, () => worker());
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  stop = true;
  await Promise.all(workers);
  const secs = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  emit('coordinator.pipelined', {
    via,
    in_flight: inFlight,
    writes_per_sec: Math.round(latencies.length / secs),
    p50_ms: +percentile(latencies, 50).toFixed(2),
    p99_ms: +percentile(latencies, 99).toFixed(2),
    value_bytes: data.length,
  });
}

async function sequential(client: CoordinatorClient, via: string): Promise<void> {
  await client.ensurePath('/bench/seq');
  const latencies: number[] = [];
  const end = performance.now() + SECONDS * 1000;
  while (performance.now() < end) {
    const t = performance.now();
    await client.set('/bench/seq', 'x');
    latencies.push(performance.now() - t);
  }
  latencies.sort((a, b) => a - b);
  emit('coordinator.sequential', {
    via,
    writes_per_sec: Math.round(latencies.length / SECONDS),
    p50_ms: +percentile(latencies, 50).toFixed(2),
    p99_ms: +percentile(latencies, 99).toFixed(2),
  });
}

async function failover(cluster: LocalCluster, rounds: number): Promise<void> {
  const seconds: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const leader = await cluster.waitForCoordinatorLeader([1, 2, 3], 30_000);
    const others = cluster.coordinatorAddresses.filter((a) => a !== cluster.coordinatorAddress(leader));
    const client = await CoordinatorClient.connect({ coordinators: others, requestTimeoutMs: 2_000, sessionTimeoutMs: 10_000 });
    await client.ensurePath('/bench/failover');
    await client.set('/bench/failover', 'before');
    const killedAt = performance.now();
    await cluster.kill(`coordinator-${leader}`);
    let firstWrite = 0;
    while (!firstWrite) {
      try {
        await client.set('/bench/failover', `after-${r}`);
        firstWrite = performance.now();
      } catch {
        // retriable while the ensemble elects; the client already backs off
      }
    }
    seconds.push((firstWrite - killedAt) / 1000);
    await client.close();
    await cluster.restart(`coordinator-${leader}`);
  }
  emit('coordinator.failover', {
    rounds,
    seconds_each: seconds.map((s) => +s.toFixed(3)),
    seconds_max: +Math.max(...seconds).toFixed(3),
    target_seconds: 1,
  });
}

async function ephemeralRemoval(cluster: LocalCluster): Promise<void> {
  const sessionTimeoutMs = 2_000;
  const holder = spawn(
    process.execPath,
    [fileURLToPath(new URL('../test/fixtures/ephemeral-holder.mjs', import.meta.url)), cluster.coordinatorAddresses.join(','), '/bench-eph', String(sessionTimeoutMs)],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_OPTIONS: '' } },
  );
  await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
  const observer = await CoordinatorClient.connect({ coordinators: cluster.coordinatorAddresses });
  let deletedAt = 0;
  const h = observer.watch('/bench-eph', { kind: 'data' }, (ev) => {
    if (ev.type === 'deleted') deletedAt = performance.now();
  });
  await h.ready;
  const killedAt = performance.now();
  holder.kill('SIGKILL');
  await waitFor(() => deletedAt > 0, 30_000, 10);
  emit('coordinator.ephemeral', {
    session_timeout_ms: sessionTimeoutMs,
    removal_ms: Math.round(deletedAt - killedAt),
    heartbeat_interval_ms: Math.round(sessionTimeoutMs / 3),
  });
  await observer.close();
}

async function main(): Promise<void> {
  baselineFsync();
  const cluster = await LocalCluster.start({ coordinators: 3 });
  try {
    const leader = await cluster.waitForCoordinatorLeader([1, 2, 3], 30_000);
    const follower = leader === 1 ? 2 : 1;
    await readBaseline(cluster.coordinatorAddress(leader));
    for (const [via, id] of [['leader', leader], ['follower', follower]] as const) {
      const client = await CoordinatorClient.connect({ coordinators: [cluster.coordinatorAddress(id)], requestTimeoutMs: 30_000 });
      await sequential(client, via);
      await pipelined(client, 256, via);
      await client.close();
    }
    await ephemeralRemoval(cluster);
    await failover(cluster, 3);
  } finally {
    await cluster.destroy();
  }
}

await main();
