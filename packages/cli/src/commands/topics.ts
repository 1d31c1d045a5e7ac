// `samsa topics create|list|describe|alter|delete`, like kafka-topics.sh.

import type { Argv } from 'yargs';
import { Admin, type TopicDescription } from '@samsa/client';
import type { CliContext } from '../context.js';
import { bootstrapServers, reportClientError, withBootstrap } from './bootstrap.js';

function parseConfigs(values: unknown): Record<string, string> {
  const list = values === undefined ? [] : Array.isArray(values) ? values : [values];
  const out: Record<string, string> = {};
  for (const v of list) {
    const s = String(v);
    const i = s.indexOf('=');
    if (i <= 0) throw new Error(`--config takes key=value, got ${JSON.stringify(s)}`);
    out[s.slice(0, i)] = s.slice(i + 1);
  }
  return out;
}

function describeLines(topics: TopicDescription[], onlyUnderReplicated: boolean): string[] {
  const lines: string[] = [];
  for (const t of topics) {
    const rf = t.partitions[0]?.replicas.length ?? 0;
    if (!onlyUnderReplicated) lines.push(`Topic: ${t.name}\tPartitionCount: ${t.partitions.length}\tReplicationFactor: ${rf}${t.internal ? '\tInternal: true' : ''}`);
    for (const p of t.partitions) {
      if (onlyUnderReplicated && !p.underReplicated) continue;
      const flags = [p.leader < 0 ? 'Offline' : '', p.underReplicated ? 'UnderReplicated' : ''].filter(Boolean).join(',');
      lines.push(
        `\tTopic: ${t.name}\tPartition: ${p.partition}\tLeader: ${p.leader < 0 ? 'none' : p.leader}\tLeaderEpoch: ${p.leaderEpoch}\t` +
          `Replicas: ${p.replicas.join(',')}\tIsr: ${p.isr.join(',')}${p.offlineReplicas.length ? `\tOffline: ${p.offlineReplicas.join(',')}` : ''}${flags ? `\t(${flags})` : ''}`,
      );
    }
  }
  return lines;
}

export function registerTopicCommands(y: Argv, ctx: CliContext): void {
  y.command('topics', 'create, list, describe, alter and delete topics', (topics) => {
    const run =
      (name: string, fn: (admin: Admin, args: Record<string, unknown>) => Promise<void>) =>
      async (args: Record<string, unknown>): Promise<void> => {
        const admin = new Admin({ 'bootstrap.servers': bootstrapServers(args), 'default.api.timeout.ms': 30_000 });
        try {
          await fn(admin, args);
        } catch (err) {
          if (err instanceof Error && !('code' in err) && err.message.startsWith('--')) {
            ctx.io.err(`samsa topics ${name}: ${err.message}`);
            ctx.exitCode = 2;
            return;
          }
          reportClientError(ctx, `topics ${name}`, err);
        } finally {
          await admin.close();
        }
      };
    return withBootstrap(topics)
      .option('json', { type: 'boolean', default: false, describe: 'machine-readable output' })
      .command(
        'create <topic>',
        'create a topic',
        (c) =>
          c
            .positional('topic', { type: 'string', demandOption: true })
            .option('partitions', { type: 'number', describe: 'default: the brokers num.partitions' })
            .option('replication-factor', { type: 'number', describe: 'default: 3 on clusters of 3+ brokers' })
            .option('config', { type: 'string', array: true, describe: 'topic config key=value (repeatable)' })
            .option('if-not-exists', { type: 'boolean', default: false }),
        run('create', async (admin, a) => {
          try {
            const [created] = await admin.createTopics([
              { name: a.topic as string, numPartitions: a.partitions as number | undefined, replicationFactor: a['replication-factor'] as number | undefined, configs: parseConfigs(a.config) },
            ]);
            if (a.json) ctx.io.out(JSON.stringify(created));
            else ctx.io.out(`Created topic ${created!.name} (${created!.numPartitions} partitions, replication factor ${created!.replicationFactor}).`);
          } catch (err) {
            if (a['if-not-exists'] && (err as { type?: string }).type === 'TOPIC_ALREADY_EXISTS') return;
            throw err;
          }
        }),
      )
      .command('list', 'list topics', (c) => c, run('list', async (admin, a) => {
        const names = (await admin.listTopics()).sort();
        if (a.json) ctx.io.out(JSON.stringify(names));
        else for (const n of names) ctx.io.out(n);
      }))
      .command(
        'describe [topic]',
        'leader, replicas and ISR of every partition (all topics without a name)',
        (c) =>
          c
            .positional('topic', { type: 'string' })
            .option('under-replicated-partitions', { type: 'boolean', default: false, describe: 'only partitions whose ISR is smaller than the replicas' }),
        run('describe', async (admin, a) => {
          const names = a.topic ? [a.topic as string] : await admin.listTopics();
          const described = (await admin.describeTopics(names)).sort((x, z) => x.name.localeCompare(z.name));
          if (a.json) ctx.io.out(JSON.stringify(described));
          else for (const line of describeLines(described, a['under-replicated-partitions'] as boolean)) ctx.io.out(line);
        }),
      )
      .command(
        'alter <topic>',
        'add partitions or change topic configs',
        (c) =>
          c
            .positional('topic', { type: 'string', demandOption: true })
            .option('partitions', { type: 'number', describe: 'the new (larger) partition count' })
            .option('config', { type: 'string', array: true, describe: 'set key=value (repeatable)' })
            .option('delete-config', { type: 'string', array: true, describe: 'remove an override (repeatable)' }),
        run('alter', async (admin, a) => {
          const topic = a.topic as string;
          const sets = parseConfigs(a.config);
          const deletes = (a['delete-config'] as string[] | undefined) ?? [];
          if (a.partitions === undefined && Object.keys(sets).length === 0 && deletes.length === 0) {
            throw new Error('--partitions, --config or --delete-config is needed');
          }
          if (a.partitions !== undefined) await admin.createPartitions({ [topic]: a.partitions as number });
          if (Object.keys(sets).length > 0 || deletes.length > 0) {
            await admin.alterConfigs([
              {
                type: 'topic',
                name: topic,
                ops: [...Object.entries(sets).map(([name, value]) => ({ name, op: 'SET' as const, value })), ...deletes.map((name) => ({ name, op: 'DELETE' as const }))],
              },
            ]);
          }
          if (!a.json) ctx.io.out(`Altered topic ${topic}.`);
        }),
      )
      .command('delete <topic>', 'delete a topic', (c) => c.positional('topic', { type: 'string', demandOption: true }), run('delete', async (admin, a) => {
        await admin.deleteTopics([a.topic as string]);
        if (!a.json) ctx.io.out(`Deleted topic ${a.topic}.`);
      }))
      .command(
        'configs <topic>',
        'show a topic configuration (overrides and defaults)',
        (c) => c.positional('topic', { type: 'string', demandOption: true }),
        run('configs', async (admin, a) => {
          const [res] = await admin.describeConfigs([{ type: 'topic', name: a.topic as string }]);
          if (a.json) ctx.io.out(JSON.stringify(res!.configs));
          else for (const c of res!.configs) ctx.io.out(`${c.name}=${c.value}${c.isDefault ? '' : ' (override)'}`);
        }),
      )
      .demandCommand(1, 'name a topics subcommand (create, list, describe, alter, delete, configs)');
  });
}
