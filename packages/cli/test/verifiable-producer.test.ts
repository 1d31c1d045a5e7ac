// `samsa verifiable-producer` as a real process against 1 coordinator and 3 brokers (topic of 3
// partitions, replication factor 3): it prints Kafka's event lines, and every record it reports
// as producer_send_success is in the log at exactly that partition and offset with that value,
// in send order per partition — also when a partition leader is killed -9 while it runs and the
// run ends with SIGTERM.
import { jest } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { LocalCluster, waitFor } from '../src/cluster/local-cluster.js';
import { createTopic, metadata, readPartition } from './helpers/broker-ops.js';
import { runCliAsync } from './helpers/run-cli-async.js';
import { SAMSA_BIN } from './run-cli.js';

jest.setTimeout(120_000);

interface Event {
  timestamp: number;
  name: string;
  [field: string]: unknown;
}

interface Success extends Event {
  key: string | null;
  value: string;
  topic: string;
  partition: number;
  offset: number;
}

const parseEvents = (stdout: string): Event[] =>
  stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Event);

const successes = (events: Event[]): Success[] => events.filter((e): e is Success => e.name === 'producer_send_success');

describe('samsa verifiable-producer (1 coordinator, 3 brokers)', () => {
  let cluster: LocalCluster;
  let bootstrap: string;

  beforeAll(async () => {
    cluster = await LocalCluster.start({ coordinators: 1, brokers: 3, brokerArgs: ['--auto.leader.rebalance.enable', 'false'] });
    bootstrap = cluster.brokerAddresses.join(',');
  }, 90_000);

  afterAll(async () => {
    await cluster?.destroy();
  }, 30_000);

  /** Reads every acknowledged record back from its partition leader and checks value and order. */
  async function expectAllInLog(topic: string, acked: Success[], prefix: string): Promise<void> {
    for (const partition of [...new Set(acked.map((s) => s.partition))]) {
      const log = new Map((await readPartition(cluster.brokerAddresses, topic, partition)).map((r) => [r.offset, r.value]));
      const mine = acked.filter((s) => s.partition === partition);
      for (const s of mine) expect([s.offset, log.get(s.offset)]).toEqual([s.offset, s.value]);
      // Order held: a record sent later (larger n) was acknowledged at a larger offset.
      const bySendOrder = [...mine].sort((a, b) => Number(a.value.slice(prefix.length)) - Number(b.value.slice(prefix.length)));
      for (let i = 1; i < bySendOrder.length; i++) expect(bySendOrder[i]!.offset).toBeGreaterThan(bySendOrder[i - 1]!.offset);
    }
  }

  test('--max-messages 300 --value-prefix 7: startup_complete, 300 producer_send_success with key null and values 7.0…7.299, shutdown_complete, tool_data; every one is in the log at its offset', async () => {
    await createTopic(cluster.brokerAddresses, 'vp-bounded', 3, 3);
    const r = await runCliAsync(['verifiable-producer', '--bootstrap-server', bootstrap, '--topic', 'vp-bounded', '--max-messages', '300', '--value-prefix', '7', '--acks', 'all'], { timeoutMs: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const events = parseEvents(r.stdout);
    for (const e of events) expect(Object.keys(e).slice(0, 2)).toEqual(['timestamp', 'name']);
    expect(events[0]!.name).toBe('startup_complete');
    expect(events.slice(-2).map((e) => e.name)).toEqual(['shutdown_complete', 'tool_data']);
    const acked = successes(events);
    expect(acked).toHaveLength(300);
    expect(events).toHaveLength(303);
    expect(acked.map((s) => s.value).sort()).toEqual(Array.from({ length: 300 }, (_, n) => `7.${n}`).sort());
    for (const s of acked) {
      expect(Object.keys(s).sort()).toEqual(['key', 'name', 'offset', 'partition', 'timestamp', 'topic', 'value']);
      expect(s.key).toBeNull();
      expect(s.topic).toBe('vp-bounded');
    }
    const toolData = events.at(-1)!;
    expect(toolData).toEqual({ timestamp: expect.any(Number), name: 'tool_data', sent: 300, acked: 300, target_throughput: -1, avg_throughput: expect.any(Number) });
    expect(toolData.avg_throughput as number).toBeGreaterThan(0);
    await expectAllInLog('vp-bounded', acked, '7.');
  });

  test('--max-messages -1 --throughput 100 --repeating-keys 3: runs until SIGTERM, across kill -9 of a partition leader; stays under the rate; every success is in the log at its offset, in send order; tool_data counts what was printed', async () => {
    await createTopic(cluster.brokerAddresses, 'vp-endless', 3, 3);
    const child = spawn(process.execPath, [SAMSA_BIN, 'verifiable-producer', '--bootstrap-server', bootstrap, '--topic', 'vp-endless', '--throughput', '100', '--repeating-keys', '3'], {
      env: { ...process.env, NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const ackedSoFar = (): number => (stdout.match(/"producer_send_success"/g) ?? []).length;
    try {
      expect(await waitFor(() => ackedSoFar() >= 100, 30_000, 50)).toBe(true);
      // Kill the leader of a partition that is not the controller's, while records flow.
      const md = await metadata(cluster.brokerAddresses, ['vp-endless']);
      const victim = md.topics[0]!.partitions.map((p) => p.leader).find((l) => l !== md.controllerId)!;
      await cluster.kill(`broker-${victim}`);
      const before = ackedSoFar();
      expect(await waitFor(() => ackedSoFar() >= before + 150, 60_000, 50)).toBe(true);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
    expect(stderr).toBe('');
    const events = parseEvents(stdout);
    expect(events[0]!.name).toBe('startup_complete');
    expect(events.slice(-2).map((e) => e.name)).toEqual(['shutdown_complete', 'tool_data']);
    const acked = successes(events);
    const errors = events.filter((e) => e.name === 'producer_send_error');
    for (const e of errors) expect(Object.keys(e).sort()).toEqual(['exception', 'key', 'message', 'name', 'timestamp', 'topic', 'value']);
    const toolData = events.at(-1)!;
    expect(toolData.acked).toBe(acked.length);
    expect(toolData.sent).toBe(acked.length + errors.length);
    expect(toolData.target_throughput).toBe(100);
    // Every record sent was reported once: values 0…sent-1, keys n mod 3.
    expect([...acked, ...errors].map((e) => Number(e.value)).sort((a, b) => a - b)).toEqual(Array.from({ length: toolData.sent as number }, (_, n) => n));
    for (const e of [...acked, ...errors]) expect(e.key).toBe(String(Number(e.value) % 3));
    // The throttle never runs ahead of 100 records/s (one record of slack for the first send).
    const seconds = (toolData.timestamp - events[0]!.timestamp) / 1000;
    expect(toolData.sent as number).toBeLessThanOrEqual(100 * seconds + 1);
    await expectAllInLog('vp-endless', acked, '');
  });

  test('bad usage and bad settings run nothing: no --topic exits 2, an unknown producer setting (flag or --command-config file) exits 1 with INVALID_CONFIG', async () => {
    const noTopic = await runCliAsync(['verifiable-producer', '--bootstrap-server', bootstrap]);
    expect(noTopic.status).toBe(2);
    expect(noTopic.stdout).toBe('');
    expect(noTopic.stderr).toContain('topic');
    const badSetting = await runCliAsync(['verifiable-producer', '--bootstrap-server', bootstrap, '--topic', 'vp-bounded', '--producer-property', 'no.such.setting=1']);
    expect(badSetting.status).toBe(1);
    expect(badSetting.stdout).toBe('');
    expect(badSetting.stderr).toContain('INVALID_CONFIG');
    expect(badSetting.stderr).toContain('no.such.setting');
    // A --command-config file is read with Kafka's names (here one the producer does not know).
    const file = join(mkdtempSync(join(tmpdir(), 'samsa-vp-')), 'producer.properties');
    writeFileSync(file, '# producer settings\nlinger.ms=0\nbad.setting.from.file=1\n');
    const badFile = await runCliAsync(['verifiable-producer', '--bootstrap-server', bootstrap, '--topic', 'vp-bounded', '--command-config', file]);
    rmSync(dirname(file), { recursive: true, force: true });
    expect(badFile.status).toBe(1);
    expect(badFile.stdout).toBe('');
    expect(badFile.stderr).toContain('bad.setting.from.file');
  });
});
