// `samsa topics|produce|consume|perf` as users run them, against a real cluster of 1 coordinator
// and 1 broker (processes on free ports): exit codes (0 done, 1 a failed operation with its
// error name, 2 bad usage), --json shapes, and records going through in order.
import { jest } from '@jest/globals';
import { LocalCluster } from '../src/cluster/local-cluster.js';
import type { CliRun } from './run-cli.js';
import { runCliAsync } from './helpers/run-cli-async.js';

jest.setTimeout(60_000);

describe('samsa client commands (1 coordinator, 1 broker)', () => {
  let cluster: LocalCluster;
  let servers: string;
  let produceToUnknownTopic: Promise<CliRun>;

  beforeAll(async () => {
    cluster = await LocalCluster.start({ coordinators: 1, brokers: 1 });
    servers = cluster.brokerAddresses.join(',');
    // Waits out max.block.ms (10 s) for a topic that never appears: started now, it overlaps the other tests.
    produceToUnknownTopic = runCliAsync(['produce', 'no-such-topic', '--bootstrap-server', servers], { input: 'lost\n' });
  }, 60_000);

  afterAll(async () => {
    await cluster?.destroy();
  }, 30_000);

  const samsa = (args: string[], input?: string): Promise<CliRun> => runCliAsync([...args, '--bootstrap-server', servers], { input });
  const ok = async (args: string[], input?: string): Promise<string> => {
    const r = await samsa(args, input);
    if (r.status !== 0) throw new Error(`samsa ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    return r.stdout;
  };
  const lines = (text: string): string[] => text.split('\n').filter((l) => l !== '');
  // Commands that do not depend on each other run side by side (Promise.all): each costs a node start-up.

  describe('topics', () => {
    test('create prints what it made, --json gives {name, numPartitions, replicationFactor}; an existing topic is TOPIC_ALREADY_EXISTS (exit 1) unless --if-not-exists', async () => {
      const [text, json] = await Promise.all([ok(['topics', 'create', 'orders', '--partitions', '2']), ok(['topics', 'create', 'events', '--json'])]);
      expect(text).toBe('Created topic orders (2 partitions, replication factor 1).\n');
      expect(JSON.parse(json)).toEqual({ name: 'events', numPartitions: 1, replicationFactor: 1 });

      const [again, quiet] = await Promise.all([samsa(['topics', 'create', 'orders']), samsa(['topics', 'create', 'orders', '--if-not-exists'])]);
      expect(again.status).toBe(1);
      expect(again.stderr).toMatch(/^samsa topics create: TOPIC_ALREADY_EXISTS: Topic 'orders'/);
      expect(quiet).toMatchObject({ status: 0, stdout: '', stderr: '' });
    });

    test('create refuses bad input with typed errors: bad name, replication factor above the brokers, unknown config (exit 1); malformed --config and a missing name are usage errors (exit 2)', async () => {
      const cases: [string[], number, RegExp][] = [
        [['topics', 'create', 'bad name!'], 1, /^samsa topics create: INVALID_TOPIC_EXCEPTION: .*bad name!/],
        [['topics', 'create', 'rf3', '--replication-factor', '3'], 1, /INVALID_REPLICATION_FACTOR: .*larger than available brokers: 1/],
        [['topics', 'create', 'cfg', '--config', 'no.such.config=1'], 1, /INVALID_CONFIG: .*no\.such\.config/],
        [['topics', 'create', 'cfg', '--config', 'retention.ms=soon'], 1, /INVALID_CONFIG: .*retention\.ms/],
        [['topics', 'create', 'cfg', '--config', 'retention.ms'], 2, /--config takes key=value/],
        [['topics', 'create', '--partitions', '3'], 2, /Run samsa --help for usage\./],
      ];
      const results = await Promise.all(cases.map(([args]) => samsa(args)));
      cases.forEach(([args, status, error], i) => {
        expect({ args, status: results[i]!.status }).toEqual({ args, status });
        expect(results[i]!.stderr).toMatch(error);
      });
      const names = JSON.parse(await ok(['topics', 'list', '--json'])) as string[];
      expect(names).not.toContain('cfg');
      expect(names).not.toContain('rf3');
    });

    test('list and describe as text and --json; describe of an unknown topic is UNKNOWN_TOPIC_OR_PARTITION', async () => {
      await ok(['topics', 'create', 'listed', '--partitions', '2']);
      const [listJson, listText, describeText, describeJson, underReplicated, unknown] = await Promise.all([
        ok(['topics', 'list', '--json']),
        ok(['topics', 'list']),
        ok(['topics', 'describe', 'listed']),
        ok(['topics', 'describe', 'listed', '--json']),
        ok(['topics', 'describe', 'listed', '--under-replicated-partitions']),
        samsa(['topics', 'describe', 'no-such-topic']),
      ]);
      const names = JSON.parse(listJson) as string[];
      expect(names).toEqual([...names].sort());
      expect(names).toContain('listed');
      expect(lines(listText)).toEqual(names);
      expect(lines(describeText)).toEqual([
        'Topic: listed\tPartitionCount: 2\tReplicationFactor: 1',
        '\tTopic: listed\tPartition: 0\tLeader: 1\tLeaderEpoch: 0\tReplicas: 1\tIsr: 1',
        '\tTopic: listed\tPartition: 1\tLeader: 1\tLeaderEpoch: 0\tReplicas: 1\tIsr: 1',
      ]);
      expect(JSON.parse(describeJson)).toEqual([
        {
          name: 'listed',
          internal: false,
          partitions: [0, 1].map((partition) => ({ partition, leader: 1, leaderEpoch: 0, replicas: [1], isr: [1], offlineReplicas: [], underReplicated: false })),
        },
      ]);
      expect(underReplicated).toBe('');
      expect(unknown.status).toBe(1);
      expect(unknown.stderr).toMatch(/^samsa topics describe: UNKNOWN_TOPIC_OR_PARTITION: Topic 'no-such-topic'/);
    });

    test('alter adds partitions and sets/deletes config overrides that configs shows; fewer partitions is INVALID_PARTITIONS; nothing to alter is a usage error', async () => {
      await ok(['topics', 'create', 'altered', '--partitions', '1']);
      const [grown, configured] = await Promise.all([
        ok(['topics', 'alter', 'altered', '--partitions', '3']),
        ok(['topics', 'alter', 'altered', '--config', 'retention.ms=3600000', '--config', 'cleanup.policy=delete']),
      ]);
      expect(grown).toBe('Altered topic altered.\n');
      expect(configured).toBe('Altered topic altered.\n');

      const [described, configsText, configsJson, fewer, bad, nothing] = await Promise.all([
        ok(['topics', 'describe', 'altered', '--json']),
        ok(['topics', 'configs', 'altered']),
        ok(['topics', 'configs', 'altered', '--json']),
        samsa(['topics', 'alter', 'altered', '--partitions', '2']),
        samsa(['topics', 'alter', 'altered', '--config', 'retention.ms=-7x']),
        samsa(['topics', 'alter', 'altered']),
      ]);
      expect(JSON.parse(described)[0].partitions).toHaveLength(3);
      expect(lines(configsText)).toContain('retention.ms=3600000 (override)');
      const configs = JSON.parse(configsJson) as { name: string; value: string; isDefault: boolean }[];
      expect(configs.find((c) => c.name === 'retention.ms')).toMatchObject({ value: '3600000', isDefault: false });
      expect(configs.find((c) => c.name === 'min.insync.replicas')).toMatchObject({ isDefault: true });
      for (const c of configs) expect(Object.keys(c).sort()).toEqual(['isDefault', 'name', 'readOnly', 'sensitive', 'source', 'value']);
      expect(fewer.status).toBe(1);
      expect(fewer.stderr).toMatch(/INVALID_PARTITIONS: Topic 'altered'/);
      expect(bad.status).toBe(1);
      expect(bad.stderr).toMatch(/INVALID_CONFIG: topic 'altered': .*retention\.ms/);
      expect(nothing.status).toBe(2);
      expect(nothing.stderr).toContain('--partitions, --config or --delete-config is needed');

      await ok(['topics', 'alter', 'altered', '--delete-config', 'retention.ms']);
      expect(lines(await ok(['topics', 'configs', 'altered']))).toContain('retention.ms=604800000');
    });

    test('delete removes a topic, a mistyped option runs nothing (exit 2, topic kept); delete, alter and configs of an unknown topic answer UNKNOWN_TOPIC_OR_PARTITION (not a timeout)', async () => {
      await Promise.all([ok(['topics', 'create', 'doomed']), ok(['topics', 'create', 'kept'])]);
      const [deleted, typo] = await Promise.all([ok(['topics', 'delete', 'doomed']), samsa(['topics', 'delete', 'kept', '--typo'])]);
      expect(deleted).toBe('Deleted topic doomed.\n');
      expect(typo).toMatchObject({ status: 2, stdout: '' });
      expect(typo.stderr).toContain('Unknown argument: typo');

      const unknown: [string[], RegExp][] = [
        [['topics', 'delete', 'doomed'], /^samsa topics delete: UNKNOWN_TOPIC_OR_PARTITION: Topic 'doomed'/],
        [['topics', 'alter', 'ghost', '--partitions', '4'], /^samsa topics alter: UNKNOWN_TOPIC_OR_PARTITION: Topic 'ghost'/],
        [['topics', 'alter', 'ghost', '--config', 'retention.ms=1000'], /^samsa topics alter: UNKNOWN_TOPIC_OR_PARTITION: topic 'ghost'/],
        [['topics', 'configs', 'ghost'], /^samsa topics configs: UNKNOWN_TOPIC_OR_PARTITION: topic 'ghost'/],
      ];
      const [list, ...results] = await Promise.all([ok(['topics', 'list', '--json']), ...unknown.map(([args]) => samsa(args))]);
      expect(JSON.parse(list)).toContain('kept');
      expect(JSON.parse(list)).not.toContain('doomed');
      unknown.forEach(([args, error], i) => {
        const r = results[i] as CliRun;
        expect({ args, status: r.status }).toEqual({ args, status: 1 });
        expect(r.stderr).toMatch(error);
      });
    });
  });

  describe('produce and consume', () => {
    test('produce sends stdin lines (key at --key-separator) with acks all, 1 and 0; consume --from-beginning --max-messages prints the values in order', async () => {
      await ok(['topics', 'create', 'lines', '--partitions', '1']);
      expect(await ok(['produce', 'lines', '--key-separator', ':'], 'k1:one\nk2:two\nno key here\n')).toBe('');
      expect(await ok(['produce', 'lines', '--acks', '1'], 'three\nfour\n')).toBe('');
      expect(await ok(['produce', 'lines', '--acks', '0', '--key-separator', '=>'], 'k5=>five\n')).toBe('');
      const [six, two, badAcks] = await Promise.all([
        ok(['consume', 'lines', '--from-beginning', '--max-messages', '6']),
        ok(['consume', 'lines', '--from-beginning', '--max-messages', '2']),
        samsa(['produce', 'lines', '--acks', '2'], 'never\n'),
      ]);
      expect(lines(six)).toEqual(['one', 'two', 'no key here', 'three', 'four', 'five']);
      expect(lines(two)).toEqual(['one', 'two']);
      expect(badAcks.status).toBe(2);
      expect(badAcks.stderr).toContain('Invalid values');
    });

    test('--print-key and --print-offset; --partition with --offset starts there; --offset alone is a usage error', async () => {
      const [keyed, fromOffset, noPartition] = await Promise.all([
        ok(['consume', 'lines', '--from-beginning', '--max-messages', '6', '--print-key', '--print-offset']),
        ok(['consume', 'lines', '--partition', '0', '--offset', '3', '--max-messages', '2', '--print-offset']),
        samsa(['consume', 'lines', '--offset', '3']),
      ]);
      expect(lines(keyed)).toEqual(['0@0\tk1\tone', '0@1\tk2\ttwo', '0@2\tnull\tno key here', '0@3\tnull\tthree', '0@4\tnull\tfour', '0@5\tk5\tfive']);
      expect(lines(fromOffset)).toEqual(['0@3\tthree', '0@4\tfour']);
      expect(noPartition.status).toBe(2);
      expect(noPartition.stderr).toContain('offset -> partition');
    });

    test("keyed records stay on their key's partition, in send order; produce --print-offsets prints topic-partition@offset for each", async () => {
      await ok(['topics', 'create', 'keyed', '--partitions', '3']);
      const input = ['a:1', 'b:1', 'a:2', 'c:1', 'b:2', 'a:3'].join('\n') + '\n';
      const placed = lines(await ok(['produce', 'keyed', '--key-separator', ':', '--print-offsets'], input));
      expect(placed).toHaveLength(6);
      for (const p of placed) expect(p).toMatch(/^keyed-[0-2]@\d+$/);
      const consumed = lines(await ok(['consume', 'keyed', '--from-beginning', '--max-messages', '6', '--print-key', '--print-offset']));
      const partitionsOf = new Map<string, Set<string>>();
      for (const line of consumed) {
        const [at, key] = line.split('\t');
        partitionsOf.set(key!, (partitionsOf.get(key!) ?? new Set()).add(at!.split('@')[0]!));
      }
      for (const key of ['a', 'b', 'c']) expect(partitionsOf.get(key)?.size).toBe(1);
      expect(consumed.filter((l) => l.split('\t')[1] === 'a').map((l) => l.split('\t')[2])).toEqual(['1', '2', '3']);
    });

    test('--timeout-ms ends a consume that has nothing more to read, exit 0 with what it printed; the default bootstrap is the local cluster of --data-dir', async () => {
      const [everything, onlyNew] = await Promise.all([
        runCliAsync(['consume', 'lines', '--from-beginning', '--timeout-ms', '1500', '--data-dir', cluster.dataDir]),
        samsa(['consume', 'lines', '--timeout-ms', '500']),
      ]);
      expect(everything.status).toBe(0);
      expect(lines(everything.stdout)).toEqual(['one', 'two', 'no key here', 'three', 'four', 'five']);
      expect(onlyNew).toMatchObject({ status: 0, stdout: '' });
    });

    test('an unknown topic is a clear error with exit 1: consume at once, produce after max.block.ms; so is a partition the topic lacks', async () => {
      const [consumed, consumedPartition, missingPartition] = await Promise.all([
        samsa(['consume', 'no-such-topic', '--from-beginning']),
        samsa(['consume', 'no-such-topic', '--partition', '0']),
        samsa(['consume', 'lines', '--partition', '4']),
      ]);
      expect(consumed.status).toBe(1);
      expect(consumed.stderr).toMatch(/^samsa consume: UNKNOWN_TOPIC_OR_PARTITION: unknown topic no-such-topic/);
      expect(consumedPartition.status).toBe(1);
      expect(consumedPartition.stderr).toMatch(/UNKNOWN_TOPIC_OR_PARTITION: unknown topic no-such-topic/);
      expect(missingPartition.status).toBe(1);
      expect(missingPartition.stderr).toMatch(/UNKNOWN_TOPIC_OR_PARTITION: topic lines has no partition 4/);
      const produced = await produceToUnknownTopic;
      expect(produced.status).toBe(1);
      expect(produced.stderr).toMatch(/^samsa produce: METADATA_TIMEOUT: Topic no-such-topic is not present in metadata/);
    });
  });

  describe('perf', () => {
    test('perf produce --json and perf consume --json print their documented fields', async () => {
      await ok(['topics', 'create', 'perf', '--partitions', '2']);
      const produced = JSON.parse(await ok(['perf', 'produce', '--topic', 'perf', '--num-records', '500', '--record-size', '64', '--json'])) as Record<string, number>;
      expect(Object.keys(produced).sort()).toEqual(
        ['avg_latency_ms', 'errors', 'max_latency_ms', 'mb_per_sec', 'p50_ms', 'p95_ms', 'p999_ms', 'p99_ms', 'records', 'records_per_sec', 'seconds'].sort(),
      );
      expect(produced).toMatchObject({ records: 500, errors: 0 });
      for (const v of Object.values(produced)) expect(Number.isFinite(v) && v >= 0).toBe(true);
      expect(produced.records_per_sec).toBeGreaterThan(0);
      expect(produced.p50_ms).toBeLessThanOrEqual(produced.p99_ms!);
      expect(produced.p99_ms).toBeLessThanOrEqual(produced.max_latency_ms!);

      const consumed = JSON.parse(await ok(['perf', 'consume', '--topic', 'perf', '--num-records', '500', '--json'])) as Record<string, number>;
      expect(Object.keys(consumed).sort()).toEqual(
        ['avg_record_age_ms', 'bytes', 'mb_per_sec', 'p50_record_age_ms', 'p99_record_age_ms', 'records', 'records_per_sec', 'seconds'].sort(),
      );
      expect(consumed).toMatchObject({ records: 500, bytes: 500 * 64 });
      for (const v of Object.values(consumed)) expect(Number.isFinite(v) && v >= 0).toBe(true);

      // Asking for more than there is: what arrived, then exit 1 once --timeout-ms passes without records.
      const short = await samsa(['perf', 'consume', '--topic', 'perf', '--num-records', '600', '--timeout-ms', '500', '--json']);
      expect(short.status).toBe(1);
      expect(JSON.parse(short.stdout)).toMatchObject({ records: 500 });
      expect(short.stderr).toContain('only 500 of 600 records arrived');
    });
  });
});
