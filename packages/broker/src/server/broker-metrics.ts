// samsa_broker_* metrics: traffic per topic, partitions and leaders, replication health, and
// request counts, errors and latency per API. Gauges about partitions are computed at scrape
// time from the replica manager, so they are never stale.

import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ReplicaManager } from './replica-manager.js';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class BrokerMetrics {
  private readonly topicBytesIn: Counter<'topic'>;
  private readonly topicBytesOut: Counter<'topic'>;
  private readonly topicMessagesIn: Counter<'topic'>;
  private readonly topicProduceErrors: Counter<'topic'>;
  private readonly isrShrinks: Counter;
  private readonly isrExpands: Counter;
  readonly requests: Counter<'api'>;
  readonly requestErrors: Counter<'api' | 'error'>;
  readonly requestDuration: Histogram<'api'>;
  private readonly produceLatency: Histogram;
  /** Follower side: records behind the leader, per partition it follows (max is exported). */
  readonly followerLag = new Map<string, number>();

  constructor(registry: Registry, replicas: () => ReplicaManager | null) {
    const registers = [registry];
    this.topicBytesIn = new Counter({ name: 'samsa_broker_topic_bytes_in_total', help: 'Bytes produced to this broker, per topic', labelNames: ['topic'], registers });
    this.topicBytesOut = new Counter({ name: 'samsa_broker_topic_bytes_out_total', help: 'Bytes fetched by consumers from this broker, per topic', labelNames: ['topic'], registers });
    this.topicMessagesIn = new Counter({ name: 'samsa_broker_topic_messages_in_total', help: 'Records produced to this broker, per topic', labelNames: ['topic'], registers });
    this.topicProduceErrors = new Counter({ name: 'samsa_broker_topic_failed_produce_requests_total', help: 'Partition produce requests that failed, per topic', labelNames: ['topic'], registers });
    this.isrShrinks = new Counter({ name: 'samsa_broker_isr_shrinks_total', help: 'ISR shrinks written by this broker as leader', registers });
    this.isrExpands = new Counter({ name: 'samsa_broker_isr_expands_total', help: 'ISR expansions written by this broker as leader', registers });
    this.requests = new Counter({ name: 'samsa_broker_requests_total', help: 'Requests served, per API', labelNames: ['api'], registers });
    this.requestErrors = new Counter({ name: 'samsa_broker_request_errors_total', help: 'Request or partition errors returned, per API and error', labelNames: ['api', 'error'], registers });
    this.requestDuration = new Histogram({ name: 'samsa_broker_request_duration_seconds', help: 'Request latency per API', labelNames: ['api'], buckets: LATENCY_BUCKETS, registers });
    this.produceLatency = new Histogram({ name: 'samsa_broker_partition_produce_duration_seconds', help: 'Append (and acks=all wait) per partition', buckets: LATENCY_BUCKETS, registers });

    const perPartition = (name: string, help: string, value: (p: import('./partition.js').Partition) => number): void => {
      new Gauge({
        name, help, labelNames: ['topic', 'partition'], registers,
        collect() {
          this.reset();
          const rm = replicas();
          if (!rm) return;
          for (const p of rm.partitions.values()) this.set({ topic: p.topic, partition: String(p.partition) }, value(p));
        },
      });
    };
    const scalar = (name: string, help: string, value: (rm: ReplicaManager) => number): void => {
      new Gauge({
        name, help, registers,
        collect() {
          const rm = replicas();
          this.set(rm ? value(rm) : 0);
        },
      });
    };
    scalar('samsa_broker_partitions', 'Partition replicas hosted by this broker', (rm) => rm.partitions.size);
    scalar('samsa_broker_leaders', 'Partitions this broker leads', (rm) => rm.leaderCount());
    scalar('samsa_broker_under_replicated_partitions', 'Partitions this broker leads whose ISR is smaller than the replica set', (rm) =>
      rm.ledPartitions().filter((p) => {
        const s = p.replica.state();
        return s.isr.length < s.replicas.length;
      }).length,
    );
    scalar('samsa_broker_under_min_isr_partitions', 'Partitions this broker leads whose ISR is below min.insync.replicas', (rm) =>
      rm.ledPartitions().filter((p) => p.replica.state().isr.length < p.settings.minInsyncReplicas).length,
    );
    const lag = this.followerLag;
    scalar('samsa_broker_replica_max_lag_records', 'Largest lag, in records, of a partition this broker follows', () => Math.max(0, ...lag.values()));
    perPartition('samsa_broker_log_size_bytes', 'Bytes of the partition log on disk', (p) => p.log.size);
    perPartition('samsa_broker_log_end_offset', 'Log end offset of the partition replica', (p) => p.log.logEndOffset);
    perPartition('samsa_broker_log_start_offset', 'Log start offset of the partition replica', (p) => p.log.logStartOffset);
    perPartition('samsa_broker_high_watermark', 'High watermark of the partition replica', (p) => p.highWatermark);
  }

  bytesIn(topic: string, bytes: number, records: number): void {
    this.topicBytesIn.inc({ topic }, bytes);
    this.topicMessagesIn.inc({ topic }, records);
  }
  bytesOut(topic: string, bytes: number): void {
    if (bytes > 0) this.topicBytesOut.inc({ topic }, bytes);
  }
  produceError(topic: string): void {
    this.topicProduceErrors.inc({ topic });
  }
  partitionProduceLatency(seconds: number): void {
    this.produceLatency.observe(seconds);
  }
  isrChange(kind: 'expand' | 'shrink'): void {
    (kind === 'expand' ? this.isrExpands : this.isrShrinks).inc();
  }
}
