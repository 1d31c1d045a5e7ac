// Where client commands connect: --bootstrap-server, else $SAMSA_BOOTSTRAP_SERVER, else the
// brokers of the local cluster in --data-dir (./data), else Kafka's default 127.0.0.1:9092.

import { resolve } from 'node:path';
import type { Argv } from 'yargs';
import { BrokerRpc, ClientError, KafkaError, kafkaErrorFromWire } from '@samsa/client';
import { readClusterFile } from '../cluster/cluster-file.js';
import type { CliContext } from '../context.js';

export function localClusterBrokers(dataDir = './data'): string | undefined {
  try {
    const file = readClusterFile(resolve(dataDir));
    const brokers = file?.layout.nodes.filter((n) => n.role === 'broker') ?? [];
    return brokers.length > 0 ? brokers.map((n) => `${n.host}:${n.ports.listen}`).join(',') : undefined;
  } catch {
    return undefined;
  }
}

export function withBootstrap<T>(y: Argv<T>) {
  return y
    .option('bootstrap-server', { type: 'string', describe: 'brokers host:port[,host:port] (default: $SAMSA_BOOTSTRAP_SERVER, the local cluster, 127.0.0.1:9092)' })
    .option('data-dir', { type: 'string', default: './data', describe: 'local cluster whose brokers to use by default' });
}

export function bootstrapServers(args: Record<string, unknown>): string {
  return (
    (args['bootstrap-server'] as string | undefined) ??
    process.env.SAMSA_BOOTSTRAP_SERVER ??
    localClusterBrokers(args['data-dir'] as string | undefined) ??
    '127.0.0.1:9092'
  );
}

/** Prints a client error as `samsa: NAME: message` and sets exit code 1; rethrows anything else. */
export function reportClientError(ctx: CliContext, command: string, err: unknown): void {
  if (err instanceof KafkaError) ctx.io.err(`samsa ${command}: ${err.type}: ${err.message}`);
  else if (err instanceof ClientError) ctx.io.err(`samsa ${command}: ${err.code}: ${err.message}`);
  else throw err;
  ctx.exitCode = 1;
}

/** The partition numbers of `topic`, from the first broker that answers. */
export async function topicPartitions(servers: string, topic: string): Promise<number[]> {
  let last: unknown = new KafkaError('NETWORK_EXCEPTION', `no broker of ${servers} answered`);
  for (const address of servers.split(',').map((s) => s.trim()).filter(Boolean)) {
    const rpc = new BrokerRpc(address);
    try {
      const md = await rpc.metadata({ topics: [topic], allTopics: false }, { timeoutMs: 5_000 });
      const t = md.topics.find((x) => x.name === topic);
      const e = kafkaErrorFromWire(t?.error);
      if (e) throw e;
      return (t?.partitions ?? []).map((p) => p.partition).sort((a, b) => a - b);
    } catch (err) {
      if (err instanceof KafkaError && err.type === 'UNKNOWN_TOPIC_OR_PARTITION') throw err;
      last = err;
    } finally {
      rpc.close();
    }
  }
  throw last;
}
