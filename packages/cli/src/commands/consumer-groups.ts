// `samsa consumer-groups list|describe|reset-offsets|delete`, like Kafka's kafka-consumer-groups.sh,
// plus the brokers' Burrow-style lag status (STATUS column, group status).
//
// describe joins three Admin answers: describeGroups (state, members, assignments), groupLag
// (committed offset, log end offset and lag per partition, computed by the client now) and
// describeGroupLag (the group coordinator's evaluation over its window: OK/WARN/STALL/STOP/REWIND).
// A group the cluster knows nothing of (Dead, no members, no committed offsets) is
// GROUP_ID_NOT_FOUND, exit 1. reset-offsets is a dry run unless --execute, as in Kafka.

import type { Argv } from 'yargs';
import {
  Admin,
  KafkaError,
  type GroupDescription,
  type GroupLagStatus,
  type GroupOffsetChange,
  type GroupPartitionLag,
  type ResetOffsetsSpec,
} from '@samsa/client';
import type { CliContext } from '../context.js';
import { bootstrapServers, reportClientError, withBootstrap } from './bootstrap.js';

export interface DescribedPartition {
  topic: string;
  partition: number;
  /** null when the group has committed nothing for the partition. */
  currentOffset: number | null;
  logEndOffset: number;
  lag: number;
  /** Burrow's partition status from the coordinator; null when it has not evaluated the partition. */
  status: string | null;
  consumerId: string | null;
  host: string | null;
  clientId: string | null;
}

export interface DescribedMember {
  consumerId: string;
  groupInstanceId: string | null;
  host: string;
  clientId: string;
  assignment: Array<{ topic: string; partition: number }>;
}

export interface DescribedGroup {
  group: string;
  state: string;
  /** Burrow's group status: OK, WARN or ERR. */
  status: string;
  coordinator: { id: number; host: string; port: number };
  assignor: string;
  members: DescribedMember[];
  partitions: DescribedPartition[];
}

/** The `describe --json` object, from the three Admin answers about one group. */
export function describedGroup(description: GroupDescription, lag: GroupPartitionLag[], burrow: GroupLagStatus): DescribedGroup {
  const ownerOf = new Map<string, GroupDescription['members'][number]>();
  for (const m of description.members) for (const tp of m.assignment) ownerOf.set(`${tp.topic}\u0000${tp.partition}`, m);
  const statusOf = new Map(burrow.partitions.map((p) => [`${p.topic}\u0000${p.partition}`, p.status]));
  return {
    group: description.groupId,
    state: description.state,
    status: burrow.status,
    coordinator: description.coordinator,
    assignor: description.assignor,
    members: description.members.map((m) => ({ consumerId: m.memberId, groupInstanceId: m.groupInstanceId, host: m.host, clientId: m.clientId, assignment: m.assignment })),
    partitions: lag.map((p) => {
      const key = `${p.topic}\u0000${p.partition}`;
      const owner = ownerOf.get(key);
      return {
        topic: p.topic,
        partition: p.partition,
        currentOffset: p.committedOffset >= 0 ? p.committedOffset : null,
        logEndOffset: p.logEndOffset,
        lag: p.lag,
        status: statusOf.get(key) ?? null,
        consumerId: owner?.memberId ?? null,
        host: owner?.host ?? null,
        clientId: owner?.clientId ?? null,
      };
    }),
  };
}

/** Columns padded to their widest cell, two spaces apart (kafka-consumer-groups.sh's layout). */
export function table(header: string[], rows: Array<Array<string | number | null>>): string[] {
  const cells = [header, ...rows.map((r) => r.map((c) => (c === null || c === '' ? '-' : String(c))))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
}

export function describeLines(g: DescribedGroup, members: boolean): string[] {
  const head = `Group: ${g.group}  State: ${g.state}  Status: ${g.status}  Coordinator: ${g.coordinator.id} (${g.coordinator.host}:${g.coordinator.port})  Assignor: ${g.assignor || '-'}  Members: ${g.members.length}`;
  const out = [head, ''];
  if (g.members.length === 0) out.push(`Consumer group '${g.group}' has no active members.`, '');
  if (members) {
    out.push(
      ...table(
        ['GROUP', 'CONSUMER-ID', 'GROUP-INSTANCE-ID', 'HOST', 'CLIENT-ID', '#PARTITIONS', 'ASSIGNMENT'],
        g.members.map((m) => [g.group, m.consumerId, m.groupInstanceId, m.host, m.clientId, m.assignment.length, m.assignment.map((tp) => `${tp.topic}-${tp.partition}`).join(',')]),
      ),
    );
    return out;
  }
  out.push(
    ...table(
      ['GROUP', 'TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'STATUS', 'CONSUMER-ID', 'HOST', 'CLIENT-ID'],
      g.partitions.map((p) => [g.group, p.topic, p.partition, p.currentOffset, p.logEndOffset, p.lag, p.status, p.consumerId, p.host, p.clientId]),
    ),
  );
  return out;
}

type ResetStrategyArgs = { 'to-earliest'?: boolean; 'to-latest'?: boolean; 'to-offset'?: number; 'to-datetime'?: string; 'shift-by'?: number };
const RESET_OPTIONS = ['to-earliest', 'to-latest', 'to-offset', 'to-datetime', 'shift-by'] as const;

/** The Admin reset spec from the command line; throws a usage message (starting with --) when it is not one. */
export function resetSpec(a: ResetStrategyArgs & { topic?: string[]; 'all-topics'?: boolean } & Record<string, unknown>): ResetOffsetsSpec {
  const given = RESET_OPTIONS.filter((o) => a[o] !== undefined && a[o] !== false);
  if (given.length !== 1) throw new Error(`--${RESET_OPTIONS.join(', --')}: exactly one is needed, got ${given.length === 0 ? 'none' : given.map((o) => `--${o}`).join(' and ')}`);
  const topics = a.topic ?? [];
  if ((topics.length > 0) === Boolean(a['all-topics'])) throw new Error('--topic or --all-topics: exactly one is needed');
  const integer = (name: string, v: unknown, min: number): number => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw new Error(`--${name} takes an integer${min === 0 ? ' >= 0' : ''}, got ${String(v)}`);
    return v;
  };
  const base = a['all-topics'] ? {} : { topics };
  switch (given[0]!) {
    case 'to-earliest':
      return { ...base, strategy: 'earliest' };
    case 'to-latest':
      return { ...base, strategy: 'latest' };
    case 'to-offset':
      return { ...base, strategy: 'to-offset', value: integer('to-offset', a['to-offset'], 0) };
    case 'shift-by':
      return { ...base, strategy: 'shift-by', value: integer('shift-by', a['shift-by'], Number.MIN_SAFE_INTEGER) };
    case 'to-datetime': {
      const text = String(a['to-datetime']);
      // Kafka's format, YYYY-MM-DDTHH:mm:SS.sss, local time unless a zone is given.
      const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?$/.test(text) ? Date.parse(text) : Number.NaN;
      if (!Number.isFinite(ms) || ms < 0) throw new Error(`--to-datetime takes an ISO date-time such as 2026-12-07T10:00:00.000 or 2026-12-07T10:00:00Z, got ${JSON.stringify(text)}`);
      return { ...base, strategy: 'to-timestamp', value: ms };
    }
  }
}

/** A group that the cluster knows nothing of: kafka-consumer-groups.sh says it does not exist. */
function unknownGroup(groupId: string): KafkaError {
  return new KafkaError('GROUP_ID_NOT_FOUND', `Consumer group '${groupId}' does not exist.`);
}

export function registerConsumerGroupCommands(y: Argv, ctx: CliContext): void {
  y.command('consumer-groups', 'list, describe (with lag and its status), reset offsets of, and delete consumer groups', (groups) => {
    // `usage` checks what yargs cannot, before anything connects: its message is a usage error
    // (exit 2). Not a yargs .check(): main() reports an error thrown there as a failure (exit 1).
    const run =
      <U = undefined>(name: string, fn: (admin: Admin, args: Record<string, unknown>, checked: U) => Promise<void>, usage?: (args: Record<string, unknown>) => U) =>
      async (args: Record<string, unknown>): Promise<void> => {
        let checked: U;
        try {
          checked = usage ? usage(args) : (undefined as U);
        } catch (err) {
          ctx.io.err(`samsa consumer-groups ${name}: ${(err as Error).message}`);
          ctx.io.err('Run samsa consumer-groups --help for usage.');
          ctx.exitCode = 2;
          return;
        }
        const admin = new Admin({ 'bootstrap.servers': bootstrapServers(args), 'default.api.timeout.ms': 30_000 });
        try {
          await fn(admin, args, checked);
        } catch (err) {
          reportClientError(ctx, `consumer-groups ${name}`, err);
        } finally {
          await admin.close();
        }
      };
    return withBootstrap(groups)
      .option('json', { type: 'boolean', default: false, describe: 'machine-readable output' })
      .command('list', 'list the group ids of the cluster', (c) => c, run('list', async (admin, a) => {
        const listed = await admin.listGroups();
        if (a.json) ctx.io.out(JSON.stringify(listed.map((g) => ({ group: g.groupId, state: g.state, protocolType: g.protocolType }))));
        else for (const g of listed) ctx.io.out(g.groupId);
      }))
      .command(
        'describe',
        "a group's partitions: committed offset, log end, lag and its status, owner (or its members with --members)",
        (c) =>
          c
            .option('group', { type: 'string', demandOption: true, describe: 'the group id' })
            .option('members', { type: 'boolean', default: false, describe: 'list the members and their assignments instead of partitions' }),
        run('describe', async (admin, a) => {
          const groupId = a.group as string;
          const [[description], lag, [burrow]] = await Promise.all([admin.describeGroups([groupId]), admin.groupLag(groupId), admin.describeGroupLag([groupId])]);
          if (description!.state === 'Dead' && description!.members.length === 0 && lag.length === 0) throw unknownGroup(groupId);
          const g = describedGroup(description!, lag, burrow!);
          if (a.json) ctx.io.out(JSON.stringify(g));
          else for (const line of describeLines(g, a.members as boolean)) ctx.io.out(line);
        }),
      )
      .command(
        'reset-offsets',
        "move a group's committed offsets (the group must be inactive); a dry run unless --execute",
        (c) =>
          c
            .option('group', { type: 'string', demandOption: true, describe: 'the group id' })
            .option('topic', { type: 'string', array: true, describe: 'reset this topic (repeatable)' })
            .option('all-topics', { type: 'boolean', describe: 'every topic the group has committed offsets for' })
            .option('to-earliest', { type: 'boolean', describe: 'to the log start' })
            .option('to-latest', { type: 'boolean', describe: 'to the log end' })
            .option('to-offset', { type: 'number', describe: 'to this offset (clamped to the log)' })
            .option('to-datetime', { type: 'string', describe: 'to the first record at or after YYYY-MM-DDTHH:mm:SS.sss (local time unless a zone is given)' })
            .option('shift-by', { type: 'number', describe: 'by this many records (negative: back)' })
            .option('execute', { type: 'boolean', describe: 'commit the new offsets' })
            .option('dry-run', { type: 'boolean', describe: 'only show the new offsets (the default)' })
            .conflicts('execute', 'dry-run'),
        run(
          'reset-offsets',
          async (admin, a, spec: ResetOffsetsSpec) => {
            const groupId = a.group as string;
            const execute = a.execute === true;
            const changes: GroupOffsetChange[] = await admin.resetGroupOffsets(groupId, { ...spec, dryRun: !execute });
            if (a.json) {
              ctx.io.out(JSON.stringify({ group: groupId, executed: execute, offsets: changes.map((c) => ({ topic: c.topic, partition: c.partition, offset: c.offset })) }));
              return;
            }
            if (!execute) ctx.io.err('samsa consumer-groups reset-offsets: a dry run (nothing committed); add --execute to commit these offsets.');
            for (const line of table(['GROUP', 'TOPIC', 'PARTITION', 'NEW-OFFSET'], changes.map((c) => [groupId, c.topic, c.partition, c.offset]))) ctx.io.out(line);
          },
          (a) => resetSpec(a),
        ),
      )
      .command(
        'delete',
        'delete groups that have no members (their committed offsets go too)',
        (c) => c.option('group', { type: 'string', array: true, demandOption: true, describe: 'the group id (repeatable)' }),
        run('delete', async (admin, a) => {
          const ids = [...new Set(a.group as string[])];
          const results = await admin.deleteGroups(ids);
          const failed = results.filter((r) => r.error !== null);
          const deleted = results.filter((r) => r.error === null).map((r) => `'${r.groupId}'`);
          if (a.json) ctx.io.out(JSON.stringify(results.map((r) => ({ group: r.groupId, error: r.error }))));
          else if (failed.length === 0) ctx.io.out(`Deletion of requested consumer groups (${deleted.join(', ')}) was successful.`);
          else if (deleted.length > 0) ctx.io.out(`These consumer groups were deleted successfully: ${deleted.join(', ')}`);
          for (const r of failed) ctx.io.err(`samsa consumer-groups delete: ${r.error}: Group '${r.groupId}' could not be deleted.`);
          if (failed.length > 0) ctx.exitCode = 1;
        }),
      )
      .demandCommand(1, 'name a consumer-groups subcommand (list, describe, reset-offsets, delete)');
  });
}
