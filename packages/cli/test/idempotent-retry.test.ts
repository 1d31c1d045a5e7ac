// An idempotent producer whose requests time out and are retried writes no duplicate: 1
// coordinator and 1 broker as processes; the broker is frozen (SIGSTOP) while a stream of sends is
// under way, so requests already written to its socket go unanswered past request.timeout.ms and
// the producer retries them; then it is thawed (SIGCONT) and handles the originals and the
// retries. Every record must be acknowledged, stored exactly once, and in the order it was sent.
// The same run with enable.idempotence=false is the control: it shows the scenario does make the
// broker see retried batches (it stores duplicates), so the idempotent run's check can fail.
import { jest } from '@jest/globals';
import { Admin, Consumer, Producer, type ConsumerRecord, type RecordMetadata } from '@samsa/client';
import { LocalCluster, waitFor } from '../src/cluster/local-cluster.js';

jest.setTimeout(120_000);

const RECORDS = 300;

describe('idempotent producer across request timeouts (1 coordinator + 1 broker as processes)', () => {
  let cluster: LocalCluster;
  let servers: string;
  let admin: Admin;

  beforeAll(async () => {
    cluster = await LocalCluster.start({ coordinators: 1, brokers: 1 });
    servers = cluster.brokerAddresses.join(',');
    admin = new Admin({ 'bootstrap.servers': servers });
  }, 60_000);

  afterAll(async () => {
    const pid = cluster?.file.pids['broker-1'];
    if (pid) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // already gone
      }
    }
    admin?.close();
    await cluster?.destroy();
  }, 30_000);

  function signalBroker(signal: NodeJS.Signals): void {
    const pid = cluster.file.pids['broker-1'];
    if (!pid) throw new Error('broker-1 has no pid in the cluster file');
    process.kill(pid, signal);
  }

  async function readAll(topic: string, expectedAtLeast: number): Promise<ConsumerRecord[]> {
    const consumer = new Consumer({ 'bootstrap.servers': servers, 'auto.offset.reset': 'earliest', 'fetch.max.wait.ms': 100 });
    try {
      consumer.assign([{ topic, partition: 0 }]);
      const out: ConsumerRecord[] = [];
      // Everything acknowledged is below the high watermark, so reading up to the log end is complete.
      const end = (await admin.listOffsets([{ topic, partition: 0, spec: 'latest' }]))[0]!.offset;
      const deadline = Date.now() + 30_000;
      while (out.length < end && Date.now() < deadline) out.push(...(await consumer.poll(200)));
      if (out.length < Math.max(end, expectedAtLeast)) throw new Error(`read ${out.length} records of ${end} stored`);
      return out;
    } finally {
      await consumer.close();
    }
  }

  /**
   * Sends RECORDS values "0".."RECORDS-1" to partition 0, freezing the broker after the first
   * acknowledgement until the producer has retried at least once, and returns what was
   * acknowledged and what the partition holds.
   */
  async function sendThroughAFreeze(topic: string, idempotent: boolean): Promise<{ acked: RecordMetadata[]; stored: string[]; retries: number }> {
    const producer = new Producer({
      'bootstrap.servers': servers,
      'enable.idempotence': idempotent,
      acks: 'all',
      'linger.ms': 2,
      'batch.size': 512, // many small batches, so several requests are in flight when the broker freezes
      'max.in.flight.requests.per.connection': 5,
      'request.timeout.ms': 400,
      'retry.backoff.ms': 50,
      'retry.backoff.max.ms': 200,
      'delivery.timeout.ms': 60_000,
    });
    try {
      await producer.send({ topic, partition: 0, value: 'first' });
      signalBroker('SIGSTOP');
      let thawed = false;
      try {
        const sends = Array.from({ length: RECORDS }, (_, i) => producer.send({ topic, partition: 0, value: String(i) }));
        const retried = await waitFor(async () => producer.metrics()['record-retry-total'] > 0, 20_000, 20);
        signalBroker('SIGCONT');
        thawed = true;
        if (!retried) throw new Error('the producer never retried while the broker was frozen');
        const acked = await Promise.all(sends);
        const retries = producer.metrics()['record-retry-total'];
        const stored = (await readAll(topic, RECORDS + 1)).map((r) => r.value!.toString());
        return { acked, stored, retries };
      } finally {
        if (!thawed) signalBroker('SIGCONT');
      }
    } finally {
      await producer.close({ timeoutMs: 5_000 });
    }
  }

  test('requests that time out while the broker is frozen are retried; with idempotence every record is stored exactly once, in send order', async () => {
    await admin.createTopics([{ name: 'idem', numPartitions: 1, replicationFactor: 1 }]);
    const { acked, stored, retries } = await sendThroughAFreeze('idem', true);
    expect(retries).toBeGreaterThan(0);
    expect(acked).toHaveLength(RECORDS);
    expect(new Set(acked.map((m) => m.offset)).size).toBe(RECORDS);
    expect(stored).toEqual(['first', ...Array.from({ length: RECORDS }, (_, i) => String(i))]);
    // Each acknowledged offset holds the value sent with it.
    acked.forEach((m, i) => expect(stored[m.offset]).toBe(String(i)));
  });

  test('control: the same freeze without idempotence stores retried batches twice (the scenario really retries delivered requests)', async () => {
    await admin.createTopics([{ name: 'plain', numPartitions: 1, replicationFactor: 1 }]);
    const { stored, retries } = await sendThroughAFreeze('plain', false);
    expect(retries).toBeGreaterThan(0);
    const values = stored.slice(1);
    expect(new Set(values).size).toBe(RECORDS); // nothing lost
    expect(values.length).toBeGreaterThan(RECORDS); // but duplicates written
  });
});
