// `samsa perf produce` and `samsa perf consume`, like Kafka's kafka-producer-perf-test and
// kafka-consumer-perf-test: records/s, MB/s and latency (average and percentiles), a progress
// line every 5 s on long runs, and --json for the final figures (one JSON line).

import type { Argv } from 'yargs';
import { Consumer, Producer } from '@samsa/client';
import type { CliContext } from '../context.js';
import { bootstrapServers, reportClientError, topicPartitions, withBootstrap } from './bootstrap.js';

const PROGRESS_MS = 5_000;

/** Latency samples kept for percentiles: a reservoir bounds memory on long runs. */
class LatencyStats {
  private readonly reservoir: number[] = [];
  private seen = 0;
  private sum = 0;
  max = 0;

  constructor(private readonly capacity = 500_000) {}

  add(ms: number): void {
    this.seen++;
    this.sum += ms;
    if (ms > this.max) this.max = ms;
    if (this.reservoir.length < this.capacity) this.reservoir.push(ms);
    else {
      const i = Math.floor(Math.random() * this.seen);
      if (i < this.capacity) this.reservoir[i] = ms;
    }
  }

  get avg(): number {
    return this.seen === 0 ? 0 : this.sum / this.seen;
  }

  percentiles(ps: number[]): number[] {
    const sorted = [...this.reservoir].sort((a, b) => a - b);
    return ps.map((p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0);
  }
}

const round = (n: number, d = 2): number => Math.round(n * 10 ** d) / 10 ** d;

export function registerPerfCommands(y: Argv, ctx: CliContext): void {
  y.command('perf', 'producer and consumer performance tests', (perf) =>
    perf
      .command(
        'produce',
        'send --num-records records of --record-size bytes and report throughput and latency',
        (cmd) =>
          withBootstrap(cmd)
            .option('topic', { type: 'string', demandOption: true })
            .option('num-records', { type: 'number', demandOption: true })
            .option('record-size', { type: 'number', default: 100 })
            .option('throughput', { type: 'number', default: -1, describe: 'records/s to aim for; -1: as fast as possible' })
            .option('acks', { type: 'string', choices: ['all', '-1', '0', '1'], default: 'all' })
            .option('batch-size', { type: 'number', default: 16_384 })
            .option('linger-ms', { type: 'number', default: 5 })
            .option('compression', { choices: ['none', 'gzip'] as const, default: 'none' as const })
            .option('json', { type: 'boolean', default: false }),
        async (args) => {
          const n = args['num-records'] as number;
          const size = args['record-size'] as number;
          const throughput = args.throughput as number;
          const producer = new Producer({
            'bootstrap.servers': bootstrapServers(args),
            acks: args.acks as string,
            'batch.size': args['batch-size'] as number,
            'linger.ms': args['linger-ms'] as number,
            'compression.type': args.compression as 'none' | 'gzip',
          });
          const value = Buffer.alloc(size, 0x61);
          const latency = new LatencyStats();
          let acked = 0;
          let errors = 0;
          let firstError: unknown = null;
          const started = performance.now();
          let windowStart = started;
          let windowCount = 0;
          let windowLatency = new LatencyStats(10_000);
          // Bounded in-flight sends; a waiter (not Promise.race over thousands of promises) resumes the loop.
          const MAX_IN_FLIGHT = 20_000;
          let inFlight = 0;
          let resumeLoop: (() => void) | null = null;
          let allDone: (() => void) | null = null;
          const settled = (): void => {
            inFlight--;
            if (resumeLoop && inFlight < MAX_IN_FLIGHT / 2) {
              const r = resumeLoop;
              resumeLoop = null;
              r();
            }
            if (allDone && inFlight === 0) allDone();
          };
          try {
            for (let i = 0; i < n; i++) {
              if (throughput > 0) {
                const due = started + (i / throughput) * 1000;
                const wait = due - performance.now();
                if (wait > 1) await new Promise((r) => setTimeout(r, wait));
              }
              const sentAt = performance.now();
              inFlight++;
              producer.send({ topic: args.topic as string, value }).then(
                () => {
                  const ms = performance.now() - sentAt;
                  latency.add(ms);
                  windowLatency.add(ms);
                  acked++;
                  windowCount++;
                  settled();
                },
                (err: unknown) => {
                  errors++;
                  firstError ??= err;
                  settled();
                },
              );
              if (inFlight >= MAX_IN_FLIGHT) await new Promise<void>((r) => (resumeLoop = r));
              const now = performance.now();
              if (!args.json && now - windowStart >= PROGRESS_MS) {
                const secs = (now - windowStart) / 1000;
                ctx.io.out(
                  `${windowCount} records sent, ${round(windowCount / secs, 1)} records/sec (${round((windowCount * size) / secs / 1048576)} MB/sec), ` +
                    `${round(windowLatency.avg, 1)} ms avg latency, ${round(windowLatency.max, 1)} ms max latency.`,
                );
                windowStart = now;
                windowCount = 0;
                windowLatency = new LatencyStats(10_000);
              }
            }
            if (inFlight > 0) await new Promise<void>((r) => (allDone = r));
            await producer.flush();
          } finally {
            await producer.close({ timeoutMs: 10_000 }).catch(() => {});
          }
          const secs = (performance.now() - started) / 1000;
          const [p50, p95, p99, p999] = latency.percentiles([0.5, 0.95, 0.99, 0.999]);
          const result = {
            records: acked, errors, seconds: round(secs, 3), records_per_sec: round(acked / secs, 1), mb_per_sec: round((acked * size) / secs / 1048576),
            avg_latency_ms: round(latency.avg), max_latency_ms: round(latency.max), p50_ms: round(p50!), p95_ms: round(p95!), p99_ms: round(p99!), p999_ms: round(p999!),
          };
          if (args.json) ctx.io.out(JSON.stringify(result));
          else {
            ctx.io.out(
              `${acked} records sent, ${result.records_per_sec} records/sec (${result.mb_per_sec} MB/sec), ${result.avg_latency_ms} ms avg latency, ` +
                `${result.max_latency_ms} ms max latency, ${result.p50_ms} ms 50th, ${result.p95_ms} ms 95th, ${result.p99_ms} ms 99th, ${result.p999_ms} ms 99.9th.`,
            );
          }
          if (firstError) reportClientError(ctx, 'perf produce', firstError);
        },
      )
      .command(
        'consume',
        'read --num-records records from the beginning of a topic and report throughput',
        (cmd) =>
          withBootstrap(cmd)
            .option('topic', { type: 'string', demandOption: true })
            .option('num-records', { type: 'number', demandOption: true })
            .option('timeout-ms', { type: 'number', default: 30_000, describe: 'give up when no record arrives for this long' })
            .option('json', { type: 'boolean', default: false }),
        async (args) => {
          const n = args['num-records'] as number;
          const consumer = new Consumer({ 'bootstrap.servers': bootstrapServers(args), 'auto.offset.reset': 'earliest', 'max.poll.records': 5_000 });
          try {
            const topic = args.topic as string;
            const partitions = (await topicPartitions(bootstrapServers(args), topic)).map((partition) => ({ topic, partition }));
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            const latency = new LatencyStats();
            let count = 0;
            let bytes = 0;
            const started = performance.now();
            let lastProgress = started;
            let lastRecord = Date.now();
            while (count < n) {
              const records = await consumer.poll(1_000);
              const now = Date.now();
              for (const r of records) {
                count++;
                bytes += (r.value?.length ?? 0) + (r.key?.length ?? 0);
                latency.add(Math.max(0, now - r.timestamp));
              }
              if (records.length > 0) lastRecord = now;
              else if (now - lastRecord > (args['timeout-ms'] as number)) break;
              if (!args.json && performance.now() - lastProgress >= PROGRESS_MS) {
                const secs = (performance.now() - started) / 1000;
                ctx.io.out(`${count} records consumed, ${round(count / secs, 1)} records/sec (${round(bytes / secs / 1048576)} MB/sec)`);
                lastProgress = performance.now();
              }
            }
            const secs = (performance.now() - started) / 1000;
            const [p50, p99] = latency.percentiles([0.5, 0.99]);
            const result = {
              records: count, bytes, seconds: round(secs, 3), records_per_sec: round(count / secs, 1), mb_per_sec: round(bytes / secs / 1048576),
              avg_record_age_ms: round(latency.avg), p50_record_age_ms: round(p50!), p99_record_age_ms: round(p99!),
            };
            if (args.json) ctx.io.out(JSON.stringify(result));
            else ctx.io.out(`${count} records consumed, ${result.records_per_sec} records/sec (${result.mb_per_sec} MB/sec) in ${result.seconds} s`);
            if (count < n) {
              ctx.io.err(`samsa perf consume: only ${count} of ${n} records arrived within --timeout-ms`);
              ctx.exitCode = 1;
            }
          } catch (err) {
            reportClientError(ctx, 'perf consume', err);
          } finally {
            await consumer.close().catch(() => {});
          }
        },
      )
      .demandCommand(1, 'name a perf test (produce, consume)'),
  );
}
