// `samsa produce TOPIC` (lines from stdin) and `samsa consume TOPIC` (values to stdout), like
// Kafka's console producer and consumer.

import { createInterface } from 'node:readline';
import type { Argv } from 'yargs';
import { Consumer, KafkaError, Producer, type OffsetToCommit, type TopicPartition } from '@samsa/client';
import type { CliContext } from '../context.js';
import { bootstrapServers, reportClientError, topicPartitions, withBootstrap } from './bootstrap.js';

/** Next offset to commit per partition, for records printed and not yet handed to a commit. */
class PrintedOffsets {
  private readonly next = new Map<string, OffsetToCommit>();

  record(topic: string, partition: number, offset: number): void {
    this.next.set(`${topic}\u0000${partition}`, { topic, partition, offset: offset + 1 });
  }

  /** Hands out (and forgets) the offsets of `tps`, or of every partition. */
  take(tps?: TopicPartition[]): OffsetToCommit[] {
    const keys = tps ? tps.map((tp) => `${tp.topic}\u0000${tp.partition}`) : [...this.next.keys()];
    const out: OffsetToCommit[] = [];
    for (const k of keys) {
      const o = this.next.get(k);
      if (o === undefined) continue;
      out.push(o);
      this.next.delete(k);
    }
    return out;
  }

  /** Puts back offsets whose commit failed, unless a later print has superseded them. */
  restore(offsets: OffsetToCommit[]): void {
    for (const o of offsets) {
      const k = `${o.topic}\u0000${o.partition}`;
      if (!this.next.has(k)) this.next.set(k, o);
    }
  }
}

export function registerProduceConsume(y: Argv, ctx: CliContext): void {
  y.command(
    'produce <topic>',
    'send each line of stdin as a record (acks=all, idempotent by default)',
    (cmd) =>
      withBootstrap(cmd)
        .positional('topic', { type: 'string', demandOption: true })
        .option('key-separator', { type: 'string', describe: 'split each line into key and value at the first occurrence' })
        .option('acks', { type: 'string', choices: ['all', '-1', '0', '1'], default: 'all' })
        .option('partition', { type: 'number', describe: 'send every record to this partition' })
        .option('compression', { choices: ['none', 'gzip'] as const, default: 'none' as const })
        .option('print-offsets', { type: 'boolean', default: false, describe: 'print partition and offset of each record' }),
    async (args) => {
      const topic = args.topic as string;
      const producer = new Producer({
        'bootstrap.servers': bootstrapServers(args),
        acks: args.acks as string,
        'compression.type': args.compression as 'none' | 'gzip',
        'request.timeout.ms': 10_000,
        'delivery.timeout.ms': 30_000,
        'max.block.ms': 10_000,
      });
      const sep = args['key-separator'] as string | undefined;
      const sends: Promise<void>[] = [];
      let failure: unknown = null;
      try {
        const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
        for await (const line of lines) {
          if (failure) break;
          let key: string | null = null;
          let value = line;
          if (sep !== undefined) {
            const i = line.indexOf(sep);
            if (i >= 0) {
              key = line.slice(0, i);
              value = line.slice(i + sep.length);
            }
          }
          const p = producer
            .send({ topic, key, value, partition: args.partition as number | undefined })
            .then((md) => {
              if (args['print-offsets']) ctx.io.out(`${md.topic}-${md.partition}@${md.offset}`);
            })
            .catch((err: unknown) => {
              failure ??= err;
            });
          sends.push(p);
          if (sends.length >= 10_000) await Promise.all(sends.splice(0));
        }
        await Promise.all(sends);
        await producer.flush();
      } catch (err) {
        failure ??= err;
      } finally {
        await producer.close({ timeoutMs: 5_000 }).catch(() => {});
      }
      if (failure) reportClientError(ctx, 'produce', failure);
    },
  );

  y.command(
    'consume <topic>',
    'print the values of records, one per line',
    (cmd) =>
      withBootstrap(cmd)
        .positional('topic', { type: 'string', demandOption: true })
        .option('from-beginning', { type: 'boolean', default: false, describe: 'start at the earliest offset (default: only new records)' })
        .option('partition', { type: 'number', describe: 'only this partition' })
        .version(false)
        .option('offset', { type: 'number', describe: 'start at this offset (needs --partition)' })
        .option('max-messages', { type: 'number', describe: 'exit after this many records' })
        .option('print-key', { type: 'boolean', default: false })
        .option('print-offset', { type: 'boolean', default: false })
        .option('timeout-ms', { type: 'number', describe: 'exit when no record arrives for this long' })
        .option('group', { type: 'string', describe: 'consume as a member of this consumer group, committing what was printed' })
        // implies/conflicts (not a throwing check) so that yargs reports them as usage errors: exit 2.
        .implies('offset', 'partition')
        .conflicts('group', ['partition', 'offset']),
    async (args) => {
      const topic = args.topic as string;
      const groupId = args.group as string | undefined;
      const consumer = new Consumer({
        'bootstrap.servers': bootstrapServers(args),
        // In a group, --from-beginning only applies where the group has committed nothing (as Kafka's).
        'auto.offset.reset': args['from-beginning'] ? 'earliest' : 'latest',
        // Commits are of printed records only (see PrintedOffsets), never of positions: a poll may
        // return records past --max-messages that were not printed.
        ...(groupId !== undefined ? { 'group.id': groupId, 'enable.auto.commit': false, 'client.id': 'console-consumer' } : {}),
      });
      const printed = new PrintedOffsets();
      let stop = false;
      const onSignal = (): void => {
        stop = true;
        consumer.wakeup();
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        // Checked also with --partition: the consumer alone would wait quietly for a topic that is not there.
        const known = await topicPartitions(bootstrapServers(args), topic);
        let partitions: TopicPartition[];
        if (groupId !== undefined) {
          partitions = [];
          consumer.subscribe([topic], {
            // Committed before the partitions move, so their next owner starts after what we printed.
            onPartitionsRevoked: async (tps) => {
              const offsets = printed.take(tps);
              if (offsets.length > 0) await consumer.commitSync(offsets).catch(() => printed.restore(offsets));
            },
            onPartitionsLost: (tps) => void printed.take(tps),
          });
        } else if (args.partition !== undefined) {
          const partition = args.partition as number;
          if (!known.includes(partition)) {
            throw new KafkaError('UNKNOWN_TOPIC_OR_PARTITION', `topic ${topic} has no partition ${partition} (it has ${known.length})`);
          }
          partitions = [{ topic, partition }];
        } else {
          partitions = known.map((partition) => ({ topic, partition }));
        }
        if (groupId === undefined) {
          consumer.assign(partitions);
          if (args.offset !== undefined) consumer.seek(partitions[0]!, args.offset as number);
          else if (args['from-beginning']) consumer.seekToBeginning(partitions);
          else consumer.seekToEnd(partitions);
        }
        const max = (args['max-messages'] as number | undefined) ?? Infinity;
        const idleMs = args['timeout-ms'] as number | undefined;
        let count = 0;
        let lastRecordAt = Date.now();
        let lastCommit: Promise<void> = Promise.resolve();
        while (!stop && count < max) {
          const records = await consumer.poll(Math.min(idleMs ?? 1_000, 1_000));
          for (const r of records) {
            if (count >= max) break;
            const parts: string[] = [];
            if (args['print-offset']) parts.push(`${r.partition}@${r.offset}`);
            if (args['print-key']) parts.push(r.key?.toString() ?? 'null');
            parts.push(r.value?.toString() ?? 'null');
            ctx.io.out(parts.join('\t'));
            printed.record(r.topic, r.partition, r.offset);
            count++;
          }
          if (groupId !== undefined) {
            // Not awaited (commits leave in call order); the last one is awaited before exiting.
            const offsets = printed.take();
            if (offsets.length > 0) lastCommit = consumer.commitSync(offsets).catch(() => printed.restore(offsets));
          }
          if (records.length > 0) lastRecordAt = Date.now();
          else if (idleMs !== undefined && Date.now() - lastRecordAt >= idleMs) break;
        }
        if (groupId !== undefined) {
          // What a failed commit left behind is committed once more, for partitions still ours.
          await lastCommit;
          const owned = new Set(consumer.assignment().map((tp) => `${tp.topic}\u0000${tp.partition}`));
          const left = printed.take().filter((o) => owned.has(`${o.topic}\u0000${o.partition}`));
          if (left.length > 0) await consumer.commitSync(left);
        }
      } catch (err) {
        reportClientError(ctx, 'consume', err);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await consumer.close().catch(() => {});
      }
    },
  );
}
