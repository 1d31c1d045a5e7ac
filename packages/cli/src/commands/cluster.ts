// `samsa cluster up|down|status|kill|stop|start`: a local cluster of real OS processes under one
// data directory. Tests drive clusters through these same commands.

import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Argv } from 'yargs';
import { readClusterFile, writeClusterFile, type ClusterFile } from '../cluster/cluster-file.js';
import { findFreePorts } from '../cluster/free-ports.js';
import { planCluster, portPlanFrom, portsNeeded, type NodeSpec } from '../cluster/layout.js';
import {
  findNode, followLogs, nodeAlive, startNode, stopAll, stopNode, waitUntilReady,
} from '../cluster/launcher.js';
import type { CliContext } from '../context.js';
import { clusterStatus, formatStatus } from '../cluster/status.js';

const DEFAULT_DATA_DIR = './data';

function loadCluster(dataDir: string): ClusterFile {
  const file = readClusterFile(dataDir);
  if (!file) throw new Error(`no cluster in ${dataDir} (start one with: samsa cluster up --data-dir ${dataDir})`);
  return file;
}

function describeNode(n: NodeSpec): string {
  const peer = n.ports.peer ? ` peer ${n.host}:${n.ports.peer}` : '';
  return `${n.name.padEnd(14)} ${n.role === 'broker' ? 'broker     ' : 'coordinator'} ${n.host}:${n.ports.listen}${peer}  metrics http://${n.host}:${n.ports.metrics}/metrics  log ${n.logFile}`;
}

export function registerClusterCommands(y: Argv, ctx: CliContext): void {
  y.command('cluster', 'run a local cluster of coordinators and brokers as OS processes', (cluster) =>
    cluster
      .option('data-dir', { type: 'string', default: DEFAULT_DATA_DIR, describe: 'where the cluster lives' })
      .command(
        'up',
        'start the cluster, wait until it is healthy, then follow the logs (Ctrl-C stops it)',
        (cmd) =>
          cmd
            .option('coordinators', { type: 'number', default: 3, describe: 'coordination ensemble size (3 or 5 survive failures)' })
            .option('brokers', { type: 'number', default: 3, describe: 'number of brokers' })
            .option('detach', { type: 'boolean', default: false, describe: 'return once healthy, leave the nodes running' })
            .option('free-ports', { type: 'boolean', default: false, describe: 'use free ports instead of the defaults' })
            .option('timeout-ms', { type: 'number', default: 60_000, describe: 'how long to wait for the cluster to be healthy' }),
        async (args) => {
          const dataDir = resolve(args['data-dir'] as string);
          mkdirSync(dataDir, { recursive: true });
          let file = readClusterFile(dataDir);
          if (!file) {
            const coordinators = args.coordinators as number;
            const brokers = args.brokers as number;
            const ports = args['free-ports']
              ? portPlanFrom(await findFreePorts(portsNeeded(coordinators, brokers)))
              : undefined;
            file = { version: 1, layout: planCluster({ dataDir, coordinators, brokers, ports }), pids: {} };
            writeClusterFile(dataDir, file);
          }
          for (const spec of file.layout.nodes) startNode(dataDir, spec);
          file = loadCluster(dataDir);
          const notReady = await waitUntilReady(file, args['timeout-ms'] as number);
          if (notReady.length > 0) {
            ctx.io.err(`samsa cluster up: not healthy within ${args['timeout-ms']} ms: ${notReady.map((n) => n.name).join(', ')}`);
            for (const n of notReady) ctx.io.err(`  see ${n.logFile}`);
            ctx.exitCode = 1;
            if (!args.detach) await stopAll(file, 'SIGTERM');
            return;
          }
          ctx.io.out(`samsa cluster is up in ${dataDir}`);
          for (const n of file.layout.nodes) ctx.io.out('  ' + describeNode(n));
          const coordinators = file.layout.nodes.filter((n) => n.role === 'coordinator');
          ctx.io.out(`  coordinators: ${coordinators.map((n) => `${n.host}:${n.ports.listen}`).join(',')}`);
          if (args.detach) {
            ctx.io.out(`  stop it with: samsa cluster down --data-dir ${dataDir}`);
            return;
          }
          ctx.io.out('Following the logs; Ctrl-C stops the cluster.');
          const tail = followLogs(file.layout.nodes, ctx.io.out);
          await new Promise<void>((done) => {
            const onSignal = (): void => {
              process.off('SIGINT', onSignal);
              process.off('SIGTERM', onSignal);
              done();
            };
            process.on('SIGINT', onSignal);
            process.on('SIGTERM', onSignal);
          });
          ctx.io.out('Stopping the cluster…');
          await stopAll(loadCluster(dataDir), 'SIGTERM');
          tail.stop();
        },
      )
      .command(
        'down',
        'stop every node of the cluster (SIGTERM, then SIGKILL after a grace period)',
        (cmd) => cmd,
        async (args) => {
          const file = loadCluster(resolve(args['data-dir'] as string));
          await stopAll(file, 'SIGTERM');
          ctx.io.out('samsa cluster is down');
        },
      )
      .command(
        'status',
        'show nodes, the controller, the coordination ensemble and partitions',
        (cmd) =>
          cmd
            .option('json', { type: 'boolean', default: false, describe: 'print one JSON object' })
            .option('watch', { type: 'boolean', default: false, describe: 'redraw as the cluster changes (Ctrl-C to stop)' })
            .option('interval-ms', { type: 'number', default: 1_000, describe: 'redraw interval with --watch' }),
        async (args) => {
          const dataDir = resolve(args['data-dir'] as string);
          const show = async (): Promise<void> => {
            const status = await clusterStatus(loadCluster(dataDir));
            if (args.json) ctx.io.out(JSON.stringify(status));
            else ctx.io.out(formatStatus(status));
          };
          if (!args.watch) {
            await show();
            return;
          }
          let stopped = false;
          const stop = (): void => {
            stopped = true;
          };
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
          while (!stopped) {
            if (!args.json) ctx.io.out('\x1b[2J\x1b[H' + new Date().toISOString());
            await show();
            await new Promise((r) => setTimeout(r, args['interval-ms'] as number));
          }
        },
      )
      .command(
        'kill <node>',
        'kill a node with SIGKILL (a crash): broker-1, coordinator-2, …',
        (cmd) => cmd.positional('node', { type: 'string', demandOption: true }),
        async (args) => {
          const file = loadCluster(resolve(args['data-dir'] as string));
          const spec = findNode(file, args.node as string);
          const was = await stopNode(file, spec, 'SIGKILL');
          ctx.io.out(was ? `killed ${spec.name}` : `${spec.name} was not running`);
        },
      )
      .command(
        'stop <node>',
        'stop a node with SIGTERM (a controlled shutdown)',
        (cmd) => cmd.positional('node', { type: 'string', demandOption: true }),
        async (args) => {
          const file = loadCluster(resolve(args['data-dir'] as string));
          const spec = findNode(file, args.node as string);
          const was = await stopNode(file, spec, 'SIGTERM');
          ctx.io.out(was ? `stopped ${spec.name}` : `${spec.name} was not running`);
        },
      )
      .command(
        'start <node>',
        'start a node that is down and wait until it is ready',
        (cmd) =>
          cmd
            .positional('node', { type: 'string', demandOption: true })
            .option('timeout-ms', { type: 'number', default: 60_000 }),
        async (args) => {
          const dataDir = resolve(args['data-dir'] as string);
          const file = loadCluster(dataDir);
          const spec = findNode(file, args.node as string);
          if (nodeAlive(file, spec)) {
            ctx.io.out(`${spec.name} is already running`);
            return;
          }
          startNode(dataDir, spec);
          const notReady = await waitUntilReady(loadCluster(dataDir), args['timeout-ms'] as number, [spec]);
          if (notReady.length > 0) {
            ctx.io.err(`${spec.name} started but is not ready; see ${spec.logFile}`);
            ctx.exitCode = 1;
            return;
          }
          ctx.io.out(`started ${spec.name}`);
        },
      )
      .demandCommand(1, 'name a cluster subcommand (up, down, status, kill, stop, start)'),
  );
}
