// The `samsa` command. Each subcommand lives in commands/ and registers itself here.

import yargs from 'yargs';
import { type CliContext, type CliIo, processIo } from './context.js';
import { registerBrokerCommands } from './commands/broker.js';
import { registerClusterCommands } from './commands/cluster.js';
import { registerConsumerGroupCommands } from './commands/consumer-groups.js';
import { registerCoordinatorCommands } from './commands/coordinator.js';
import { registerCoordinatorShell } from './commands/coordinator-shell.js';
import { registerLogCommands } from './commands/log.js';
import { registerPerfCommands } from './commands/perf.js';
import { registerProduceConsume } from './commands/produce-consume.js';
import { registerTopicCommands } from './commands/topics.js';
import { registerVerifiableConsumer } from './commands/verifiable-consumer.js';
import { registerVerifiableProducer } from './commands/verifiable-producer.js';
import { cliVersion } from './version.js';

/** Exit code for bad usage (unknown command, missing argument), as most CLIs do. */
export const EXIT_USAGE = 2;

/** A command line yargs refused; ends parsing before any handler runs. */
class UsageError extends Error {}

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const ctx: CliContext = { io, exitCode: 0 };
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
      // Thrown, not just noted: with exitProcess(false) yargs would otherwise go on to run the
      // command's handler (`samsa topics delete t --typo` deleted t, then exited 2).
      throw new UsageError(msg);
    });
  registerBrokerCommands(parser, ctx);
  registerClusterCommands(parser, ctx);
  registerCoordinatorCommands(parser, ctx);
  registerCoordinatorShell(parser, ctx);
  registerLogCommands(parser, ctx);
  registerTopicCommands(parser, ctx);
  registerProduceConsume(parser, ctx);
  registerPerfCommands(parser, ctx);
  registerVerifiableProducer(parser, ctx);
  registerConsumerGroupCommands(parser, ctx);
  registerVerifiableConsumer(parser, ctx);
  try {
    await parser.parseAsync();
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`samsa: ${err.message}`);
      io.err('Run samsa --help for usage.');
      return EXIT_USAGE;
    }
    io.err(`samsa: ${err instanceof Error ? err.message : String(err)}`);
    return ctx.exitCode || 1;
  }
  return ctx.exitCode;
}
