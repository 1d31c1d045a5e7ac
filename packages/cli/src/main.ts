// The `samsa` command. Each subcommand lives in commands/ and registers itself here.

import yargs from 'yargs';
import { type CliContext, type CliIo, processIo } from './context.js';
import { registerBrokerCommands } from './commands/broker.js';
import { registerClusterCommands } from './commands/cluster.js';
import { registerCoordinatorCommands } from './commands/coordinator.js';
import { registerCoordinatorShell } from './commands/coordinator-shell.js';
import { registerLogCommands } from './commands/log.js';
import { registerPerfCommands } from './commands/perf.js';
import { registerProduceConsume } from './commands/produce-consume.js';
import { registerTopicCommands } from './commands/topics.js';
import { cliVersion } from './version.js';

/** Exit code for bad usage (unknown command, missing argument), as most CLIs do. */
export const EXIT_USAGE = 2;

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const ctx: CliContext = { io, exitCode: 0 };
  let usageError = false;
  const parser = yargs(argv)
    .scriptName('samsa')
    .usage('$0 <command> [options]\n\nsamsa: a distributed commit log in the family of Apache Kafka.')
    .version(cliVersion())
    .help()
    .alias('h', 'help')
    .strict()
    .demandCommand(1, 'name a command (samsa --help lists them)')
    .recommendCommands()
    .wrap(Math.min(110, process.stdout.columns || 110))
    .parserConfiguration({ 'dot-notation': false })
    .exitProcess(false)
    .fail((msg, err) => {
      if (err) throw err;
      usageError = true;
      io.err(`samsa: ${msg}`);
      io.err('Run samsa --help for usage.');
    });
  registerBrokerCommands(parser, ctx);
  registerClusterCommands(parser, ctx);
  registerCoordinatorCommands(parser, ctx);
  registerCoordinatorShell(parser, ctx);
  registerLogCommands(parser, ctx);
  registerTopicCommands(parser, ctx);
  registerProduceConsume(parser, ctx);
  registerPerfCommands(parser, ctx);
  try {
    await parser.parseAsync();
  } catch (err) {
    io.err(`samsa: ${err instanceof Error ? err.message : String(err)}`);
    return ctx.exitCode || 1;
  }
  return usageError ? EXIT_USAGE : ctx.exitCode;
}
