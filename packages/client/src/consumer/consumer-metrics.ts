// The consumer's metrics under Kafka's names (consumer-fetch-manager-metrics and
// consumer-coordinator-metrics), over windows of metrics.sample.window.ms; read them with
// consumer.metrics(). Time is passed in.

import { WindowedAvg, WindowedRate, type SampleConfig } from '../metrics/windowed-stat.js';
import type { ConsumerMetricValues } from './consumer-group-types.js';

export class ConsumerMetrics {
  private readonly recordsRate: WindowedRate;
  private readonly bytesRate: WindowedRate;
  private readonly fetchLatency: WindowedAvg;
  private readonly fetchRate: WindowedRate;
  private readonly commitLatency: WindowedAvg;
  private readonly commitRate: WindowedRate;
  private readonly syncTime: WindowedAvg;
  private readonly syncRate: WindowedRate;
  private readonly joinTime: WindowedAvg;
  private readonly joinRate: WindowedRate;
  private readonly heartbeatRate: WindowedRate;
  private recordsTotal = 0;
  private bytesTotal = 0;
  private commitTotal = 0;
  private syncTotal = 0;
  private rebalanceTotal = 0;
  private lastHeartbeatMs = -1;

  constructor(config: SampleConfig) {
    this.recordsRate = new WindowedRate(config);
    this.bytesRate = new WindowedRate(config);
    this.fetchLatency = new WindowedAvg(config);
    this.fetchRate = new WindowedRate(config);
    this.commitLatency = new WindowedAvg(config);
    this.commitRate = new WindowedRate(config);
    this.syncTime = new WindowedAvg(config);
    this.syncRate = new WindowedRate(config);
    this.joinTime = new WindowedAvg(config);
    this.joinRate = new WindowedRate(config);
    this.heartbeatRate = new WindowedRate(config);
  }

  /** poll() handed records to the application. */
  recordsConsumed(records: number, bytes: number, nowMs: number): void {
    this.recordsRate.record(records, nowMs);
    this.recordsTotal += records;
    this.bytesRate.record(bytes, nowMs);
    this.bytesTotal += bytes;
  }

  fetchCompleted(latencyMs: number, nowMs: number): void {
    this.fetchLatency.record(latencyMs, nowMs);
    this.fetchRate.record(1, nowMs);
  }

  commitCompleted(latencyMs: number, nowMs: number): void {
    this.commitLatency.record(latencyMs, nowMs);
    this.commitRate.record(1, nowMs);
    this.commitTotal++;
  }

  joinCompleted(latencyMs: number, nowMs: number): void {
    this.joinTime.record(latencyMs, nowMs);
    this.joinRate.record(1, nowMs);
  }

  syncCompleted(latencyMs: number, nowMs: number): void {
    this.syncTime.record(latencyMs, nowMs);
    this.syncRate.record(1, nowMs);
    this.syncTotal++;
    this.rebalanceTotal++;
  }

  heartbeatAnswered(nowMs: number): void {
    this.heartbeatRate.record(1, nowMs);
    this.lastHeartbeatMs = nowMs;
  }

  snapshot(nowMs: number, gauges: { assignedPartitions: number; maxLag: number }): ConsumerMetricValues {
    return {
      'records-consumed-rate': this.recordsRate.measure(nowMs),
      'records-consumed-total': this.recordsTotal,
      'bytes-consumed-rate': this.bytesRate.measure(nowMs),
      'bytes-consumed-total': this.bytesTotal,
      'fetch-latency-avg': this.fetchLatency.avg(nowMs),
      'fetch-latency-max': this.fetchLatency.max(nowMs),
      'fetch-rate': this.fetchRate.measure(nowMs),
      'records-lag-max': gauges.maxLag,
      'commit-latency-avg': this.commitLatency.avg(nowMs),
      'commit-latency-max': this.commitLatency.max(nowMs),
      'commit-rate': this.commitRate.measure(nowMs),
      'commit-total': this.commitTotal,
      'sync-time-avg': this.syncTime.avg(nowMs),
      'sync-time-max': this.syncTime.max(nowMs),
      'sync-rate': this.syncRate.measure(nowMs),
      'sync-total': this.syncTotal,
      'join-time-avg': this.joinTime.avg(nowMs),
      'join-rate': this.joinRate.measure(nowMs),
      'rebalance-total': this.rebalanceTotal,
      'heartbeat-rate': this.heartbeatRate.measure(nowMs),
      'last-heartbeat-seconds-ago': this.lastHeartbeatMs < 0 ? -1 : (nowMs - this.lastHeartbeatMs) / 1000,
      'assigned-partitions': gauges.assignedPartitions,
    };
  }
}
