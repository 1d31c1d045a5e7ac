// `samsa verifiable-consumer`: Kafka's VerifiableConsumer (its system-test client). It joins a
// consumer group, subscribes to one topic, and prints one JSON object per line for every event —
// startup_complete, partitions_assigned, partitions_revoked, records_consumed (a summary of each
// poll: count, and per partition count, minOffset, maxOffset), record_data (each record, with
// --verbose), offsets_committed (offsets, success, and error when it failed), shutdown_complete —
// with Kafka's names and fields, so a harness written for Kafka's tool reads ours.
//
// As Kafka's: without --enable-autocommit it commits (commitSync) the offsets after each poll's
// records before polling again, and prints the outcome; partitions lost (the member was dropped
// from the group) are reported as partitions_revoked, as Kafka's listener does by default; with
// --max-messages it stops after that many records, committing only what it counted. SIGTERM or
// SIGINT: the poll in progress ends, the last batch is committed, the consumer closes (leaving
// the group) and shutdown_complete is printed.

import type { Argv } from 'yargs';
import { Consumer, type ClientLogger, type ConsumerConfig, type ConsumerRecord, type LogFields, type OffsetToCommit, type TopicPartition } from '@samsa/client';
import type { CliContext } from '../context.js';
import { parseConfigFile } from '../node-config.js';
import { bootstrapServers, reportClientError, withBootstrap } from './bootstrap.js';
import { errorName } from './verifiable-producer.js';

type PartitionJson = { topic: string; partition: number };

/** Kafka's event objects, `timestamp` and `name` first as Kafka's tool prints them. */
export type VerifiableConsumerEvent =
  | { timestamp: number; name: 'startup_complete' }
  | { timestamp: number; name: 'partitions_assigned'; partitions: PartitionJson[] }
  | { timestamp: number; name: 'partitions_revoked'; partitions: PartitionJson[] }
  | { timestamp: number; name: 'records_consumed'; count: number; partitions: Array<PartitionJson & { count: number; minOffset: number; maxOffset: number }> }
  | { timestamp: number; name: 'record_data'; key: string | null; value: string | null; topic: string; partition: number; offset: number }
  | { timestamp: number; name: 'offsets_committed'; offsets: Array<PartitionJson & { offset: number }>; error?: string; success: boolean }
  | { timestamp: number; name: 'shutdown_complete' };

export interface ConsumedBatch {
  /** The records_consumed event. */
  event: Extract<VerifiableConsumerEvent, { name: 'records_consumed' }>;
  /** What was counted (records past --max-messages are not). */
  counted: ConsumerRecord[];
  /** Next offset per partition counted: what to commit. */
  offsets: OffsetToCommit[];
}

/**
 * Kafka's onRecordsReceived: per partition (in order of first appearance), the records up to the
 * message limit, summarised; `count` is every record the poll returned, as Kafka prints it.
 */
export function summarizeBatch(records: ConsumerRecord[], consumedSoFar: number, maxMessages: number, nowMs: number): ConsumedBatch {
  const byPartition = new Map<string, ConsumerRecord[]>();
  for (const r of records) {
    const key = `${r.topic}\u0000${r.partition}`;
    const list = byPartition.get(key);
    if (list) list.push(r);
    else byPartition.set(key, [r]);
  }
  let consumed = consumedSoFar;
  const summaries: ConsumedBatch['event']['partitions'] = [];
  const counted: ConsumerRecord[] = [];
  const offsets: OffsetToCommit[] = [];
  for (let list of byPartition.values()) {
    if (maxMessages >= 0 && consumed + list.length > maxMessages) list = list.slice(0, Math.max(0, maxMessages - consumed));
    if (list.length === 0) continue;
    const first = list[0]!;
    const last = list[list.length - 1]!;
    summaries.push({ topic: first.topic, partition: first.partition, count: list.length, minOffset: first.offset, maxOffset: last.offset });
    offsets.push({ topic: first.topic, partition: first.partition, offset: last.offset + 1 });
    counted.push(...list);
    consumed += list.length;
    if (maxMessages >= 0 && consumed >= maxMessages) break;
  }
  return { event: { timestamp: nowMs, name: 'records_consumed', count: records.length, partitions: summaries }, counted, offsets };
}

/** What is wrong with the command line beyond what yargs checks, or null. */
export function usageProblem(a: Record<string, unknown>): string | null {
  const maxMessages = a['max-messages'];
  if (!Number.isInteger(maxMessages) || (maxMessages as number) < -1) return `--max-messages must be an integer >= -1, got ${String(maxMessages)}`;
  const session = a['session-timeout'];
  if (!Number.isInteger(session) || (session as number) < 1) return `--session-timeout must be a positive integer (ms), got ${String(session)}`;
  for (const pair of (a['consumer-property'] as string[] | undefined) ?? []) {
    if (String(pair).indexOf('=') <= 0) return `--consumer-property must be key=value, got ${JSON.stringify(pair)}`;
  }
  return null;
}

/** `key=value` pairs → a config object (values stay strings; the client parses and checks them). */
export function parseConsumerProperties(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    out[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return out;
}

type LogLevel = 'off' | 'error' | 'warn' | 'info' | 'debug';
const LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug'];

/** The client's log as JSON lines on stderr, from `level` up (Kafka's tool logs to its service log). */
function stderrLogger(ctx: CliContext, level: LogLevel): ClientLogger {
  const at = (l: LogLevel) => (msg: string, fields?: LogFields): void => {
    if (level === 'off' || LEVELS.indexOf(l) > LEVELS.indexOf(level)) return;
    const safe = Object.fromEntries(Object.entries(fields ?? {}).map(([k, v]) => [k, v instanceof Error ? `${v.name}: ${v.message}` : v]));
    ctx.io.err(JSON.stringify({ timestamp: Date.now(), level: l, msg, ...safe }));
  };
  return { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

const partitionsJson = (tps: TopicPartition[]): PartitionJson[] => tps.map((tp) => ({ topic: tp.topic, partition: tp.partition }));

export function registerVerifiableConsumer(y: Argv, ctx: CliContext): void {
  y.command(
    'verifiable-consumer',
    "Kafka's verifiable consumer: consume a topic in a group and print each event as a JSON line",
    (cmd) =>
      withBootstrap(cmd)
        .option('topic', { type: 'string', demandOption: true, describe: 'consume this topic' })
        .option('group-id', { type: 'string', demandOption: true, describe: 'the consumer group' })
        .option('group-instance-id', { type: 'string', describe: 'static membership: this member’s stable id' })
        .option('max-messages', { type: 'number', default: -1, describe: 'stop after this many records; -1: until SIGTERM/SIGINT' })
        .option('session-timeout', { type: 'number', default: 30_000, describe: 'session.timeout.ms' })
        .option('enable-autocommit', { type: 'boolean', default: false, describe: 'auto commit instead of commitSync after each poll' })
        .option('reset-policy', { type: 'string', choices: ['earliest', 'latest', 'none'], default: 'earliest', describe: 'auto.offset.reset' })
        .option('assignment-strategy', { type: 'string', default: 'range', describe: 'range, roundrobin, sticky, cooperative-sticky (or Kafka assignor class names)' })
        .option('verbose', { type: 'boolean', default: false, describe: 'also print each record (record_data)' })
        .option('consumer.config', { type: 'string', describe: 'a properties file of consumer settings (Kafka names)' })
        .option('consumer-property', { type: 'string', array: true, default: [] as string[], describe: 'a consumer setting key=value (repeatable), over --consumer.config' })
        .option('log-level', { type: 'string', choices: ['off', 'error', 'warn', 'info', 'debug'], default: 'off', describe: "the client's log on stderr (the events stay on stdout)" }),
    async (args) => {
      // Checked here, not in a yargs .check() (main() reports an error thrown there as exit 1).
      const usage = usageProblem(args);
      if (usage !== null) {
        ctx.io.err(`samsa verifiable-consumer: ${usage}`);
        ctx.io.err('Run samsa verifiable-consumer --help for usage.');
        ctx.exitCode = 2;
        return;
      }
      const topic = args.topic as string;
      const maxMessages = args['max-messages'] as number;
      const autoCommit = args['enable-autocommit'] as boolean;
      const verbose = args.verbose as boolean;
      const print = (event: VerifiableConsumerEvent): void => ctx.io.out(JSON.stringify(event));

      let consumer: Consumer;
      try {
        const fromFile = args['consumer.config'] ? (parseConfigFile(args['consumer.config'] as string) as Record<string, string>) : {};
        // parseConfigFile also adds dashed aliases of dotted keys; Kafka's consumer settings have no dashes.
        const fileConfig = Object.fromEntries(Object.entries(fromFile).filter(([k]) => !k.includes('-')));
        const sessionTimeoutMs = args['session-timeout'] as number;
        consumer = new Consumer({
          'bootstrap.servers': bootstrapServers(args),
          'client.id': 'verifiable-consumer',
          'group.id': args['group-id'] as string,
          ...(args['group-instance-id'] ? { 'group.instance.id': args['group-instance-id'] as string } : {}),
          'enable.auto.commit': autoCommit,
          'auto.offset.reset': args['reset-policy'] as 'earliest' | 'latest' | 'none',
          'session.timeout.ms': sessionTimeoutMs,
          // The client's default (3 s) must stay below a short session timeout.
          'heartbeat.interval.ms': Math.max(1, Math.min(3_000, Math.floor(sessionTimeoutMs / 3))),
          'partition.assignment.strategy': args['assignment-strategy'] as string,
          ...fileConfig,
          ...parseConsumerProperties(args['consumer-property'] as string[]),
        } as ConsumerConfig, { logger: stderrLogger(ctx, args['log-level'] as LogLevel) });
      } catch (err) {
        reportClientError(ctx, 'verifiable-consumer', err);
        return;
      }

      let stopping = false;
      const onSignal = (): void => {
        stopping = true;
        consumer.wakeup();
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);

      const commitSync = async (offsets: OffsetToCommit[]): Promise<void> => {
        const committed = offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset }));
        try {
          await consumer.commitSync(offsets);
          print({ timestamp: Date.now(), name: 'offsets_committed', offsets: committed, success: true });
        } catch (err) {
          print({ timestamp: Date.now(), name: 'offsets_committed', offsets: committed, error: `${errorName(err)}: ${err instanceof Error ? err.message : String(err)}`, success: false });
        }
      };

      print({ timestamp: Date.now(), name: 'startup_complete' });
      let consumed = 0;
      try {
        consumer.subscribe([topic], {
          onPartitionsAssigned: (tps) => print({ timestamp: Date.now(), name: 'partitions_assigned', partitions: partitionsJson(tps) }),
          onPartitionsRevoked: (tps) => print({ timestamp: Date.now(), name: 'partitions_revoked', partitions: partitionsJson(tps) }),
          onPartitionsLost: (tps) => print({ timestamp: Date.now(), name: 'partitions_revoked', partitions: partitionsJson(tps) }),
        });
        while (!stopping && (maxMessages < 0 || consumed < maxMessages)) {
          const records = await consumer.poll(1_000);
          if (records.length === 0) continue;
          const batch = summarizeBatch(records, consumed, maxMessages, Date.now());
          if (verbose) {
            for (const r of batch.counted) {
              print({ timestamp: Date.now(), name: 'record_data', key: r.key?.toString() ?? null, value: r.value?.toString() ?? null, topic: r.topic, partition: r.partition, offset: r.offset });
            }
          }
          print(batch.event);
          consumed += batch.counted.length;
          if (!autoCommit && batch.offsets.length > 0) await commitSync(batch.offsets);
        }
      } catch (err) {
        // As Kafka's tool: the error goes to the log (stderr), then the consumer shuts down.
        reportClientError(ctx, 'verifiable-consumer', err);
      } finally {
        await consumer.close().catch(() => {});
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
      }
      print({ timestamp: Date.now(), name: 'shutdown_complete' });
    },
  );
}
