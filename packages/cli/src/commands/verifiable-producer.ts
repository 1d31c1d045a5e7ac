// `samsa verifiable-producer`: Kafka's VerifiableProducer (its system-test client). It sends
// increasing integers (`<prefix>.<n>` with --value-prefix) and prints one JSON object per line
// for every outcome — producer_send_success with topic, partition, offset, key and value, or
// producer_send_error — between startup_complete and shutdown_complete, then tool_data. A test
// harness outside the project reads these lines to prove that no acknowledged record was lost
// and that order held. Same event names and fields as Kafka's tool, so the same harness works.
//
// As in Kafka, the producer runs with retries=0 (so idempotence is off) unless the config says
// otherwise; --command-config and --producer-property take any Kafka producer setting.
// With --max-messages -1 it sends until SIGTERM/SIGINT, then stops, waits for every send in
// flight to settle (each within delivery.timeout.ms) and closes; a second signal closes at
// once and reports what was still pending as producer_send_error (CLOSED).

import type { Argv } from 'yargs';
import { ClientError, KafkaError, Producer, type ProducerConfig } from '@samsa/client';
import type { CliContext } from '../context.js';
import { parseConfigFile } from '../node-config.js';
import { bootstrapServers, reportClientError, withBootstrap } from './bootstrap.js';

/** Sends in flight at once: the loop waits for some to settle beyond this. */
const MAX_IN_FLIGHT = 10_000;

/** Kafka's event objects, `timestamp` and `name` first as Kafka's tool prints them. */
export type VerifiableProducerEvent =
  | { timestamp: number; name: 'startup_complete' }
  | { timestamp: number; name: 'producer_send_success'; key: string | null; value: string; topic: string; partition: number; offset: number }
  | { timestamp: number; name: 'producer_send_error'; key: string | null; value: string; topic: string; exception: string; message: string }
  | { timestamp: number; name: 'shutdown_complete' }
  | { timestamp: number; name: 'tool_data'; sent: number; acked: number; target_throughput: number; avg_throughput: number };

/** The value of the n-th record: `<prefix>.<n>`, or just `<n>` (Kafka's getValue). */
export function verifiableValue(n: number, prefix: number | undefined): string {
  return prefix === undefined ? String(n) : `${prefix}.${n}`;
}

/** The key of the n-th record: null, or n modulo --repeating-keys (Kafka's getKey). */
export function verifiableKey(n: number, repeatingKeys: number | undefined): string | null {
  return repeatingKeys === undefined ? null : String(n % repeatingKeys);
}

/**
 * How long to wait before sending record `sent` (0-based), `elapsedMs` after the start, to
 * stay at `throughput` records/s: negative means unlimited, 0 means send nothing (Kafka's
 * ThroughputThrottler pauses until woken), else the time by which we are ahead of the rate.
 */
export function throttleDelayMs(sent: number, elapsedMs: number, throughput: number): number {
  if (throughput < 0) return 0;
  if (throughput === 0) return Infinity;
  return Math.max(0, (sent * 1000) / throughput - elapsedMs);
}

/** The exception field: the stable error code (Kafka prints the Java exception class). */
export function errorName(err: unknown): string {
  if (err instanceof KafkaError) return err.type;
  if (err instanceof ClientError) return err.code;
  return err instanceof Error ? err.name : 'Error';
}

/** `key=value` pairs → a config object (values stay strings; the client parses them). */
export function parseProducerProperties(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ClientError('INVALID_CONFIG', `--producer-property must be key=value, got ${JSON.stringify(pair)}`);
    out[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return out;
}

/** A sleep that a stop signal can cut short. */
class Waker {
  private wake: (() => void) | null = null;
  private timer: NodeJS.Timeout | undefined;

  sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
      if (Number.isFinite(ms)) this.timer = setTimeout(() => this.fire(), ms);
    });
  }

  fire(): void {
    clearTimeout(this.timer);
    const w = this.wake;
    this.wake = null;
    w?.();
  }
}

export function registerVerifiableProducer(y: Argv, ctx: CliContext): void {
  y.command(
    'verifiable-producer',
    "Kafka's verifiable producer: send increasing integers and print each outcome as a JSON line",
    (cmd) =>
      withBootstrap(cmd)
        .option('topic', { type: 'string', demandOption: true, describe: 'produce to this topic' })
        .option('max-messages', { type: 'number', default: -1, describe: 'send this many records; -1: until SIGTERM/SIGINT' })
        .option('throughput', { type: 'number', default: -1, describe: 'at most this many records/s; -1: unlimited' })
        .option('acks', { type: 'string', choices: ['-1', 'all', '0', '1'], default: '-1', describe: 'acks for every record' })
        .option('value-prefix', { type: 'number', describe: 'values are <prefix>.<n> instead of <n>' })
        .option('repeating-keys', { type: 'number', describe: 'keys 0,1,…,N-1,0,… instead of null' })
        .option('message-create-time', { type: 'number', default: -1, describe: 'record timestamps start here (ms since epoch) and advance with the clock; -1: now' })
        .option('command-config', { type: 'string', describe: 'a properties file of producer settings (Kafka names)' })
        .option('producer-property', { type: 'string', array: true, default: [] as string[], describe: 'a producer setting key=value (repeatable), over --command-config' })
        .check((a) => {
          const whole = (v: unknown): boolean => v === undefined || Number.isInteger(v);
          if (!whole(a['max-messages']) || !whole(a.throughput)) throw new Error('--max-messages and --throughput must be integers');
          if (a['repeating-keys'] !== undefined && (!Number.isInteger(a['repeating-keys']) || (a['repeating-keys'] as number) < 1)) {
            throw new Error('--repeating-keys must be an integer >= 1');
          }
          if (!whole(a['value-prefix'])) throw new Error('--value-prefix must be an integer');
          return true;
        }),
    async (args) => {
      const topic = args.topic as string;
      const maxMessages = args['max-messages'] as number;
      const throughput = args.throughput as number;
      const prefix = args['value-prefix'] as number | undefined;
      const repeatingKeys = args['repeating-keys'] as number | undefined;
      const createTime = args['message-create-time'] as number;
      const print = (event: VerifiableProducerEvent): void => ctx.io.out(JSON.stringify(event));

      let producer: Producer;
      try {
        const fromFile = args['command-config'] ? (parseConfigFile(args['command-config'] as string) as Record<string, string>) : {};
        // parseConfigFile also adds dashed aliases of dotted keys; Kafka's producer settings have no dashes.
        const fileConfig = Object.fromEntries(Object.entries(fromFile).filter(([k]) => !k.includes('-')));
        producer = new Producer({
          'bootstrap.servers': bootstrapServers(args),
          acks: args.acks as string,
          retries: 0,
          ...fileConfig,
          ...parseProducerProperties(args['producer-property'] as string[]),
        } as ProducerConfig);
      } catch (err) {
        reportClientError(ctx, 'verifiable-producer', err);
        return;
      }

      let stopping = false;
      let forced = false;
      const waker = new Waker();
      const onSignal = (): void => {
        if (stopping) {
          // A second signal: stop waiting for the sends in flight.
          forced = true;
          void producer.close({ timeoutMs: 0 }).catch(() => {});
        }
        stopping = true;
        waker.fire();
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);

      let sent = 0;
      let acked = 0;
      let inFlight = 0;
      let allSettled: (() => void) | null = null;
      const settled = (): void => {
        inFlight--;
        if (inFlight < MAX_IN_FLIGHT / 2) waker.fire();
        if (inFlight === 0) allSettled?.();
      };
      const startMs = Date.now();
      print({ timestamp: startMs, name: 'startup_complete' });
      try {
        const limit = maxMessages < 0 ? Infinity : maxMessages;
        for (let n = 0; n < limit && !stopping; n++) {
          // Re-checked after every wake-up: a settled send or a signal also wakes the sleep.
          for (let delay = throttleDelayMs(n, Date.now() - startMs, throughput); delay > 0 && !stopping; delay = throttleDelayMs(n, Date.now() - startMs, throughput)) {
            await waker.sleep(delay);
          }
          while (inFlight >= MAX_IN_FLIGHT && !stopping) await waker.sleep(Infinity);
          if (stopping) break;
          const key = verifiableKey(n, repeatingKeys);
          const value = verifiableValue(n, prefix);
          const timestamp = createTime >= 0 ? createTime + (Date.now() - startMs) : undefined;
          sent++;
          inFlight++;
          producer.send({ topic, key, value, timestamp }).then(
            (md) => {
              acked++;
              print({ timestamp: Date.now(), name: 'producer_send_success', key, value, topic: md.topic, partition: md.partition, offset: md.offset });
              settled();
            },
            (err: unknown) => {
              print({
                timestamp: Date.now(), name: 'producer_send_error', key, value, topic,
                exception: errorName(err), message: err instanceof Error ? err.message : String(err),
              });
              settled();
            },
          );
        }
        // Every send settles exactly once, within delivery.timeout.ms (or at once on a forced close).
        if (inFlight > 0) await new Promise<void>((resolve) => (allSettled = resolve));
      } finally {
        await producer.close(forced ? { timeoutMs: 0 } : {}).catch(() => {});
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
      }
      print({ timestamp: Date.now(), name: 'shutdown_complete' });
      const stopMs = Date.now();
      print({
        timestamp: stopMs, name: 'tool_data', sent, acked, target_throughput: throughput,
        avg_throughput: stopMs > startMs ? (1000 * acked) / (stopMs - startMs) : 0,
      });
    },
  );
}
