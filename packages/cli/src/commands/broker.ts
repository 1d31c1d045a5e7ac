// `samsa broker start`: one broker, in the foreground until SIGTERM (controlled shutdown) or
// SIGINT. Options take Kafka's config names where one exists (--num.partitions …), also as
// SAMSA_BROKER_* environment variables or in a --config file (JSON or server.properties style).

import type { Argv } from 'yargs';
import { BrokerServer, DEFAULT_BROKER_CONFIG, type BrokerConfig } from '@samsa/broker';
import { createLogger } from '@samsa/coordinator';
import type { CliContext } from '../context.js';
import { parseConfigFile, parseHostPort } from '../node-config.js';

/** Kafka-named settings accepted as --<name> flags (and in config files), with their type. */
const KAFKA_SETTINGS = Object.entries(DEFAULT_BROKER_CONFIG).filter(
  ([k]) => !['listeners', 'metrics.port', 'metrics.host', 'broker.rack'].includes(k),
) as [keyof BrokerConfig, unknown][];

export function registerBrokerCommands(y: Argv, ctx: CliContext): void {
  y.command('broker', 'run a broker', (b) =>
    b
      .command(
        'start',
        'start a broker and serve until SIGTERM',
        (cmd) => {
          let c = cmd
            .env('SAMSA_BROKER')
            .config('config', 'a JSON or key=value properties file with these options (Kafka names)', parseConfigFile)
            .option('id', { type: 'number', demandOption: true, describe: 'broker.id' })
            .option('data-dir', { type: 'string', demandOption: true, describe: 'log.dirs: where partition logs live' })
            .option('listen', { type: 'string', default: '127.0.0.1:9092', describe: 'broker API address host:port' })
            .option('coordinators', { type: 'string', default: '127.0.0.1:2181,127.0.0.1:2182,127.0.0.1:2183', describe: 'coordination ensemble host:port,…' })
            .option('metrics-port', { type: 'number', default: 9404, describe: 'HTTP port of /metrics, /healthz, /readyz (-1: none)' })
            .option('metrics-host', { type: 'string', default: '127.0.0.1' })
            .option('rack', { type: 'string', describe: 'broker.rack' });
          for (const [name, value] of KAFKA_SETTINGS) {
            c = c.option(name, { type: typeof value === 'boolean' ? 'boolean' : typeof value === 'number' ? 'number' : 'string', default: value as never, hidden: true });
          }
          return c.epilogue(`Kafka settings (as --name value): ${KAFKA_SETTINGS.map(([k]) => k).join(', ')}`);
        },
        async (args) => {
          const id = args.id as number;
          parseHostPort(args.listen as string, '--listen');
          const settings: Record<string, unknown> = {};
          for (const [name] of KAFKA_SETTINGS) if (args[name] !== undefined) settings[name] = args[name];
          const logger = createLogger({ component: 'broker', node: id });
          let exiting = false;
          const server = await BrokerServer.start({
            config: {
              ...settings,
              'broker.id': id,
              'log.dirs': args['data-dir'] as string,
              listeners: args.listen as string,
              coordinators: args.coordinators as string,
              'metrics.port': args['metrics-port'] as number,
              'metrics.host': args['metrics-host'] as string,
              'broker.rack': (args.rack as string | undefined) ?? null,
            } as Parameters<typeof BrokerServer.start>[0]['config'],
            logger,
            onFatal: () => {
              exiting = true;
              process.exit(1);
            },
          });
          ctx.io.out(JSON.stringify({ event: 'broker_started', id, port: server.listenPort, metricsPort: server.metricsPort }));
          await new Promise<void>((resolve) => {
            const stop = (signal: string, controlled: boolean): void => {
              if (exiting) return;
              exiting = true;
              logger.info('stopping', { signal });
              void server.stop(controlled).then(resolve, resolve);
            };
            process.once('SIGTERM', () => stop('SIGTERM', true));
            process.once('SIGINT', () => stop('SIGINT', true));
          });
        },
      )
      .demandCommand(1, 'name a broker subcommand (start)'),
  );
}
