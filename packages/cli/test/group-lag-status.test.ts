// The brokers' Burrow-style lag evaluation end to end, on 1 coordinator and 1 broker as processes
// with a short evaluation window (group.lag.evaluation.window.ms): a group whose commits advance
// while the log end runs away from them is WARN; one that keeps committing the same offset with
// lag is STALL (group ERR); a consumer that committed and stopped while producers went on turns
// STOP once the window passes with no commit (group ERR), as `consumer-groups describe --json`
// and the broker's samsa_consumer_group_* metrics both show; a caught-up group is OK.
import { jest } from '@jest/globals';
import { Admin, Producer } from '@samsa/client';
import { LocalCluster, waitFor } from '../src/cluster/local-cluster.js';
import { runCliAsync } from './helpers/run-cli-async.js';

jest.setTimeout(120_000);

const WINDOW_MS = 8_000;
/** Well above WINDOW_MS / 59, the evaluator's sample spacing. */
const COMMIT_SPACING_MS = 400;
const BROKER_ARGS = [
  '--group.initial.rebalance.delay.ms', '0',
  '--offsets.topic.num.partitions', '3',
  '--group.lag.evaluation.window.ms', String(WINDOW_MS),
];

describe('group lag status (Burrow rules) through the CLI and /metrics (1 coordinator, 1 broker)', () => {
  let cluster: LocalCluster;
  let servers: string;
  let admin: Admin;
  let producer: Producer;

  beforeAll(async () => {
    cluster = await LocalCluster.start({ coordinators: 1, brokers: 1, brokerArgs: BROKER_ARGS });
    servers = cluster.brokerAddresses.join(',');
    admin = new Admin({ 'bootstrap.servers': servers });
    producer = new Producer({ 'bootstrap.servers': servers, 'linger.ms': 0 });
    await admin.createTopics(['warn', 'stall', 'stop', 'ok'].map((name) => ({ name, numPartitions: 1, replicationFactor: 1 })));
  }, 60_000);

  afterAll(async () => {
    await producer?.close({ timeoutMs: 2_000 }).catch(() => {});
    admin?.close();
    await cluster?.destroy();
  }, 30_000);

  async function produce(topic: string, count: number): Promise<void> {
    await Promise.all(Array.from({ length: count }, (_, i) => producer.send({ topic, partition: 0, key: null, value: `v${i}` })));
  }
  /**
   * Commits as a consumer would, some time after the previous commit: the evaluator keeps one
   * sample per window/59 and merges closer commits (a real consumer commits seconds apart), so
   * commits in one burst would count as one. The pause is the scenario's time passing, not a wait
   * for something to happen.
   */
  const commit = async (group: string, topic: string, offset: number): Promise<void> => {
    await new Promise((resolve) => setTimeout(resolve, COMMIT_SPACING_MS));
    await admin.alterGroupOffsets(group, [{ topic, partition: 0, offset }]);
  };
  const lagOf = async (group: string): Promise<{ status: string; partition: { status: string; lag: number } }> => {
    const [g] = await admin.describeGroupLag([group]);
    return { status: g!.status, partition: g!.partitions[0]! };
  };
  async function metricsText(): Promise<string> {
    const res = await fetch(`http://127.0.0.1:${cluster.node('broker-1').ports.metrics}/metrics`);
    return res.text();
  }

  test('commits that advance while the lag grows: WARN', async () => {
    await produce('warn', 10);
    await commit('warn-group', 'warn', 1);
    await produce('warn', 10);
    await commit('warn-group', 'warn', 2);
    await produce('warn', 10);
    await commit('warn-group', 'warn', 3);
    const lag = await lagOf('warn-group');
    expect(lag.partition.lag).toBe(27);
    expect(lag.partition.status).toBe('WARN');
    expect(lag.status).toBe('WARN');
  });

  test('the same offset committed again and again with lag: STALL, group ERR', async () => {
    await produce('stall', 10);
    await commit('stall-group', 'stall', 4);
    await commit('stall-group', 'stall', 4);
    await commit('stall-group', 'stall', 4);
    const lag = await lagOf('stall-group');
    expect(lag.partition).toMatchObject({ lag: 6, status: 'STALL' });
    expect(lag.status).toBe('ERR');
  });

  test('a consumer that committed and stopped while records kept coming: OK-ish at first, STOP once a window passes without a commit, shown by describe --json and /metrics; a caught-up group stays OK', async () => {
    await produce('stop', 10);
    await produce('ok', 5);
    const consumed = await runCliAsync(['consume', 'stop', '--group', 'stop-group', '--from-beginning', '--max-messages', '10', '--bootstrap-server', servers], { timeoutMs: 60_000 });
    expect(consumed.status).toBe(0);
    await commit('ok-group', 'ok', 5);
    await produce('stop', 5); // the log end moves on; nobody commits any more
    const stoppedAt = Date.now();
    let described: { status: string; partitions: Array<{ status: string; lag: number }> } | null = null;
    const stopped = await waitFor(async () => {
      const r = await runCliAsync(['consumer-groups', 'describe', '--group', 'stop-group', '--json', '--bootstrap-server', servers], { timeoutMs: 30_000 });
      if (r.status !== 0) return false;
      described = JSON.parse(r.stdout) as typeof described;
      return described!.partitions[0]?.status === 'STOP';
    }, 60_000, 500);
    expect(stopped).toBe(true);
    // Not before the window: the last commit (or the moment lag began) is at most that old.
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(WINDOW_MS - 1_000);
    expect(described!.status).toBe('ERR');
    expect(described!.partitions[0]!.lag).toBe(5);

    const metrics = await waitFor(async () => /samsa_consumer_group_status\{[^}]*group="stop-group"[^}]*\} 2\b/.test(await metricsText()), 30_000, 500);
    expect(metrics).toBe(true);
    const text = await metricsText();
    expect(text).toMatch(/samsa_consumer_group_partition_status\{[^}]*group="stop-group"[^}]*\} 3\b/);
    expect(text).toMatch(/samsa_consumer_group_lag\{[^}]*group="stop-group"[^}]*\} 5\b/);
    // A caught-up group on a topic that went quiet is OK however long ago it committed (Burrow's false alarm avoided).
    const ok = await lagOf('ok-group');
    expect(ok).toEqual({ status: 'OK', partition: expect.objectContaining({ lag: 0, status: 'OK' }) });
  });
});
