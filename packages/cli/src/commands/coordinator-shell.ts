// `samsa coordinator-shell --coordinators HOST:PORT,… COMMAND`: look inside the coordination
// service like zkCli. Typed errors are printed as `CODE: message` with a non-zero exit, so
// scripts can check the service from outside.

import type { Argv } from 'yargs';
import { CoordinatorClient, CoordinatorError, ensembleHealth, parseAddresses, type CreateMode, type Stat } from '@samsa/coordinator';
import type { CliContext } from '../context.js';

function formatStat(path: string, s: Stat): string {
  return [
    `path = ${path}`,
    `czxid = ${s.czxid}`,
    `ctime = ${new Date(s.ctime).toISOString()}`,
    `mzxid = ${s.mzxid}`,
    `mtime = ${new Date(s.mtime).toISOString()}`,
    `pzxid = ${s.pzxid}`,
    `cversion = ${s.cversion}`,
    `dataVersion = ${s.version}`,
    `ephemeralOwner = ${s.ephemeralOwner}`,
    `dataLength = ${s.dataLength}`,
    `numChildren = ${s.numChildren}`,
  ].join('\n');
}

function defaultCoordinators(): string {
  return process.env.SAMSA_COORDINATORS ?? '127.0.0.1:2181,127.0.0.1:2182,127.0.0.1:2183';
}

export function registerCoordinatorShell(y: Argv, ctx: CliContext): void {
  y.command('coordinator-shell', 'inspect and change the coordination service (like zkCli)', (shell) => {
    const withClient =
      (fn: (client: CoordinatorClient, args: Record<string, unknown>) => Promise<void>) =>
      async (args: Record<string, unknown>): Promise<void> => {
        const client = await CoordinatorClient.connect({
          coordinators: args.coordinators as string,
          sessionTimeoutMs: 10_000,
          requestTimeoutMs: args['timeout-ms'] as number,
          connectTimeoutMs: args['timeout-ms'] as number,
        });
        try {
          await fn(client, args);
        } catch (err) {
          if (err instanceof CoordinatorError) {
            ctx.io.err(`${err.code}: ${err.message}`);
            ctx.exitCode = 1;
            return;
          }
          throw err;
        } finally {
          if (!args['keep-session']) await client.close();
        }
      };
    return shell
      .option('coordinators', { type: 'string', default: defaultCoordinators(), describe: 'ensemble client addresses host:port,…' })
      .option('timeout-ms', { type: 'number', default: 10_000 })
      .option('json', { type: 'boolean', default: false, describe: 'machine-readable output' })
      .command('ls <path>', 'list the children of a znode', (c) => c.positional('path', { type: 'string', demandOption: true }),
        withClient(async (client, a) => {
          const { children } = await client.children(a.path as string);
          if (a.json) ctx.io.out(JSON.stringify(children));
          else for (const child of children) ctx.io.out(child);
        }))
      .command('get <path>', 'print the data of a znode', (c) => c.positional('path', { type: 'string', demandOption: true }),
        withClient(async (client, a) => {
          const { data, stat } = await client.get(a.path as string);
          if (a.json) ctx.io.out(JSON.stringify({ data: data.toString('utf8'), stat }));
          else ctx.io.out(data.toString('utf8'));
        }))
      .command('stat <path>', 'print the metadata of a znode', (c) => c.positional('path', { type: 'string', demandOption: true }),
        withClient(async (client, a) => {
          const stat = await client.exists(a.path as string);
          if (!stat) throw new CoordinatorError('NO_NODE', { path: a.path as string });
          ctx.io.out(a.json ? JSON.stringify(stat) : formatStat(a.path as string, stat));
        }))
      .command('create <path>', 'create a znode', (c) =>
        c
          .positional('path', { type: 'string', demandOption: true })
          .option('data', { type: 'string', default: '' })
          .option('ephemeral', { type: 'boolean', default: false, describe: 'gone when this shell exits' })
          .option('sequential', { type: 'boolean', default: false, describe: 'append a 10-digit sequence number' }),
        withClient(async (client, a) => {
          const mode = `${a.ephemeral ? 'ephemeral' : 'persistent'}${a.sequential ? '_sequential' : ''}` as CreateMode;
          const r = await client.create(a.path as string, a.data as string, { mode });
          ctx.io.out(a.json ? JSON.stringify(r) : `Created ${r.path}`);
        }))
      .command('set <path> <data>', 'replace the data of a znode', (c) =>
        c
          .positional('path', { type: 'string', demandOption: true })
          .positional('data', { type: 'string', demandOption: true })
          .version(false)
          .option('version', { type: 'number', default: -1, describe: 'expected version (compare-and-set); -1: any' }),
        withClient(async (client, a) => {
          const stat = await client.set(a.path as string, String(a.data), a.version as number);
          if (a.json) ctx.io.out(JSON.stringify(stat));
        }))
      .command('delete <path>', 'delete a znode', (c) =>
        c
          .positional('path', { type: 'string', demandOption: true })
          .version(false)
          .option('version', { type: 'number', default: -1, describe: 'expected version; -1: any' }),
        withClient(async (client, a) => {
          await client.delete(a.path as string, a.version as number);
        }))
      .command('watch <path>', 'print changes of a znode (and with --recursive its subtree) until interrupted', (c) =>
        c
          .positional('path', { type: 'string', demandOption: true })
          .option('recursive', { type: 'boolean', default: false })
          .option('kind', { choices: ['data', 'children'] as const, default: 'data' as const }),
        withClient(async (client, a) => {
          const handle = client.watch(
            a.path as string,
            { kind: a.kind as 'data' | 'children', persistent: true, recursive: a.recursive as boolean },
            (ev) => ctx.io.out(a.json ? JSON.stringify(ev) : `${ev.type} ${ev.path} (index ${ev.index})`),
          );
          await handle.ready;
          if (!a.json) ctx.io.out(`watching ${a.path}; Ctrl-C to stop`);
          else ctx.io.out(JSON.stringify({ type: 'watching', path: a.path }));
          await new Promise<void>((resolve) => {
            process.once('SIGINT', () => resolve());
            process.once('SIGTERM', () => resolve());
            client.once('expired', () => resolve());
          });
        }))
      .command('status', "each member's role, term and commit index", (c) => c,
        async (a) => {
          const rows = (await ensembleHealth(parseAddresses(a.coordinators as string), Math.min(a['timeout-ms'] as number, 3_000))).members;
          if (a.json) {
            ctx.io.out(JSON.stringify(rows));
          } else {
            for (const r of rows) {
              ctx.io.out(`${String(r.id ?? '?').padEnd(3)} ${r.address.padEnd(22)} ${r.role.padEnd(12)} term ${r.term ?? '-'}  commit ${r.commitIndex ?? '-'}`);
            }
          }
          if (rows.every((r) => r.role === 'unreachable')) ctx.exitCode = 1;
        })
      .demandCommand(1, 'name a shell command (ls, get, stat, create, set, delete, watch, status)');
  });
}
