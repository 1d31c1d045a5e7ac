// Small, explicit operations on a running cluster for process tests, on the raw broker API so
// a test sees exactly what the broker answered.
import { BrokerRpc, KafkaError, kafkaErrorFromWire, type MetadataResponse, type PartitionMetadata } from '@samsa/client';
import { decodeBatch, LOG_OVERHEAD } from '@samsa/log';
import { waitFor } from '../../src/cluster/local-cluster.js';

export async function metadata(addresses: string[], topics: string[] = []): Promise<MetadataResponse> {
  let last: unknown;
  for (const a of addresses) {
    const rpc = new BrokerRpc(a);
    try {
      return await rpc.metadata({ topics, allTopics: topics.length === 0 }, { timeoutMs: 3_000 });
    } catch (e) {
      last = e;
    } finally {
      rpc.close();
    }
  }
  throw last;
}

export async function createTopic(addresses: string[], name: string, partitions: number, replicationFactor: number, configs: Record<string, string> = {}): Promise<void> {
  const ok = await waitFor(async () => {
    const md = await metadata(addresses).catch(() => null);
    const ctrl = md?.brokers.find((b) => b.id === md.controllerId);
    if (!ctrl) return false;
    const rpc = new BrokerRpc(`${ctrl.host}:${ctrl.port}`);
    try {
      const res = await rpc.createTopics(
        { topics: [{ name, numPartitions: partitions, replicationFactor, assignments: [], configs: Object.entries(configs).map(([n, value]) => ({ name: n, value })) }], timeoutMs: 15_000, validateOnly: false },
        { timeoutMs: 20_000 },
      );
      const e = kafkaErrorFromWire(res.topics[0]!.error);
      if (e && e.type !== 'NOT_CONTROLLER') throw e;
      return !e;
    } catch (e) {
      if (e instanceof KafkaError && e.type !== 'NOT_CONTROLLER' && !e.retriable) throw e;
      return false;
    } finally {
      rpc.close();
    }
  }, 30_000, 200);
  if (!ok) throw new Error(`could not create topic ${name}`);
}

export async function partitionState(addresses: string[], topic: string, partition: number): Promise<PartitionMetadata | undefined> {
  const md = await metadata(addresses, [topic]);
  return md.topics[0]?.partitions.find((p) => p.partition === partition);
}

/** Reads a partition from its leader, from offset 0 to the high watermark: [offset, value] pairs. */
export async function readPartition(addresses: string[], topic: string, partition: number): Promise<{ offset: number; value: string }[]> {
  const out: { offset: number; value: string }[] = [];
  const ok = await waitFor(async () => {
    out.length = 0;
    const md = await metadata(addresses, [topic]).catch(() => null);
    const pm = md?.topics[0]?.partitions.find((p) => p.partition === partition);
    const leader = md?.brokers.find((b) => b.id === pm?.leader);
    if (!leader) return false;
    const rpc = new BrokerRpc(`${leader.host}:${leader.port}`);
    try {
      let offset = 0;
      for (;;) {
        const res = await rpc.fetch(
          { replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 4 << 20, replicaEpoch: -1, topics: [{ topic, partitions: [{ partition, fetchOffset: offset, partitionMaxBytes: 4 << 20, currentLeaderEpoch: -1, logStartOffset: -1, lastFetchedEpoch: -1 }] }] },
          { timeoutMs: 10_000 },
        );
        const fp = res.topics[0]!.partitions[0]!;
        if (kafkaErrorFromWire(fp.error)) return false;
        let pos = 0;
        while (pos < fp.records.length) {
          const b = decodeBatch(fp.records, pos);
          for (const r of b.records) if (r.offset >= offset) out.push({ offset: r.offset, value: r.value?.toString() ?? '' });
          pos += b.header.batchLength + LOG_OVERHEAD;
        }
        const next = out.length > 0 ? out[out.length - 1]!.offset + 1 : offset;
        if (next >= fp.highWatermark || next === offset) return next >= fp.highWatermark;
        offset = next;
      }
    } catch {
      return false;
    } finally {
      rpc.close();
    }
  }, 30_000, 200);
  if (!ok) throw new Error(`could not read ${topic}-${partition}`);
  return out;
}
