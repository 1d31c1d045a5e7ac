// `samsa coordinator start`: one member of the coordination ensemble, in the foreground until
// SIGTERM/SIGINT (a graceful stop: leadership is handed over first).

import type { Argv } from 'yargs';
import { CoordinatorServer, createLogger } from '@samsa/coordinator';
import type { CliContext } from '../context.js';
import { parseConfigFile, parseHostPort, parsePeers } from '../node-config.js';

export function registerCoordinatorCommands(y: Argv, ctx: CliContext): void {
  y.command('coordinator', 'run a member of the coordination service', (c) =>
    c
      .command(
        'start',
        'start a coordinator and serve until SIGTERM',
        (cmd) =>
          cmd
            .env('SAMSA_COORDINATOR')
            .config('config', 'a JSON or key=value properties file with these options', parseConfigFile)
            .option('id', { type: 'number', demandOption: true, describe: 'member id, as in --peers' })
            .option('data-dir', { type: 'string', demandOption: true, describe: 'where the Raft log and snapshots live' })
            .option('listen', { type: 'string', default: '127.0.0.1:2181', describe: 'client address host:port' })
            .option('peer-listen', { type: 'string', default: '127.0.0.1:2888', describe: 'peer (Raft) address host:port' })
            .option('peers', { type: 'string', describe: 'every member: 1=host:port,2=host:port,… (peer addresses); default: only this one' })
            .option('metrics-port', { type: 'number', default: 9404, describe: 'HTTP port of /metrics, /healthz, /readyz (-1: none)' })
            .option('metrics-host', { type: 'string', default: '127.0.0.1' })
            .option('tick-ms', { type: 'number', default: 50, describe: 'Raft tick' })
            .option('election-ticks', { type: 'number', default: 10, describe: 'election timeout in ticks (randomized up to 2x)' })
            .option('snapshot-entries', { type: 'number', default: 10_000, describe: 'snapshot and compact after this many entries' })
            .option('min-session-timeout-ms', { type: 'number', default: 2_000 })
            .option('max-session-timeout-ms', { type: 'number', default: 60_000 })
            .option('max-data-bytes', { type: 'number', default: 1 << 20, describe: 'largest znode data' }),
        async (args) => {
          const id = args.id as number;
          const listen = args.listen as string;
          const peerListen = args['peer-listen'] as string;
          parseHostPort(listen, '--listen');
          parseHostPort(peerListen, '--peer-listen');
          const peers = args.peers ? parsePeers(args.peers as string) : new Map([[id, peerListen]]);
          if (!peers.has(id)) throw new Error(`--peers does not include this member's id ${id}`);
          const logger = createLogger({ component: 'coordinator', node: id });
          let exiting = false;
          const server = await CoordinatorServer.start({
            id,
            dataDir: args['data-dir'] as string,
            listen,
            peerListen,
            peers,
            metricsHost: args['metrics-host'] as string,
            metricsPort: args['metrics-port'] as number,
            tickMs: args['tick-ms'] as number,
            electionTicks: args['election-ticks'] as number,
            snapshotEntries: args['snapshot-entries'] as number,
            sessions: {
              minSessionTimeoutMs: args['min-session-timeout-ms'] as number,
              maxSessionTimeoutMs: args['max-session-timeout-ms'] as number,
            },
            limits: { maxDataBytes: args['max-data-bytes'] as number },
            logger,
            onFatal: () => {
              exiting = true;
              process.exit(1);
            },
          });
          ctx.io.out(JSON.stringify({ event: 'coordinator_started', id, client: server.clientAddress, metricsPort: server.metricsPort }));
          await new Promise<void>((resolve) => {
            const stop = (signal: string): void => {
              if (exiting) return;
              exiting = true;
              logger.info('stopping', { signal });
              void server.stop(true).then(resolve, resolve);
            };
            process.once('SIGTERM', () => stop('SIGTERM'));
            process.once('SIGINT', () => stop('SIGINT'));
          });
        },
      )
      .demandCommand(1, 'name a coordinator subcommand (start)'),
  );
}
