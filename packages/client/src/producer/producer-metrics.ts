// The producer's metrics under Kafka's names (producer-metrics group), computed over windows of
// metrics.sample.window.ms; read them with producer.metrics(). Exposing them to Prometheus is
// the caller's business.

import { WindowedAvg, WindowedRate, type SampleConfig } from '../metrics/windowed-stat.js';

export interface ProducerMetricValues {
  'record-send-rate': number;
  'record-send-total': number;
  'record-error-rate': number;
  'record-error-total': number;
  'record-retry-rate': number;
  'record-retry-total': number;
  'record-queue-time-avg': number;
  'record-queue-time-max': number;
  'request-latency-avg': number;
  'request-latency-max': number;
  'request-rate': number;
  'request-total': number;
  'outgoing-byte-rate': number;
  'outgoing-byte-total': number;
  'batch-size-avg': number;
  'batch-size-max': number;
  'records-per-request-avg': number;
  'buffer-available-bytes': number;
  'buffer-total-bytes': number;
  'waiting-threads': number;
  'requests-in-flight': number;
}

export class ProducerMetrics {
  private readonly sendRate: WindowedRate;
  private readonly errorRate: WindowedRate;
  private readonly retryRate: WindowedRate;
  private readonly queueTime: WindowedAvg;
  private readonly latency: WindowedAvg;
  private readonly requestRate: WindowedRate;
  private readonly byteRate: WindowedRate;
  private readonly batchSize: WindowedAvg;
  private readonly recordsPerRequest: WindowedAvg;
  private sendTotal = 0;
  private errorTotal = 0;
  private retryTotal = 0;
  private requestTotal = 0;
  private byteTotal = 0;

  constructor(config: SampleConfig) {
    this.sendRate = new WindowedRate(config);
    this.errorRate = new WindowedRate(config);
    this.retryRate = new WindowedRate(config);
    this.queueTime = new WindowedAvg(config);
    this.latency = new WindowedAvg(config);
    this.requestRate = new WindowedRate(config);
    this.byteRate = new WindowedRate(config);
    this.batchSize = new WindowedAvg(config);
    this.recordsPerRequest = new WindowedAvg(config);
  }

  /** A batch left the accumulator in a request. */
  batchDrained(records: number, bytes: number, queueTimeMs: number, nowMs: number): void {
    this.sendRate.record(records, nowMs);
    this.sendTotal += records;
    this.queueTime.record(queueTimeMs, nowMs);
    this.batchSize.record(bytes, nowMs);
  }

  requestSent(records: number, bytes: number, nowMs: number): void {
    this.requestRate.record(1, nowMs);
    this.requestTotal++;
    this.byteRate.record(bytes, nowMs);
    this.byteTotal += bytes;
    this.recordsPerRequest.record(records, nowMs);
  }

  requestCompleted(latencyMs: number, nowMs: number): void {
    this.latency.record(latencyMs, nowMs);
  }

  recordsFailed(records: number, nowMs: number): void {
    this.errorRate.record(records, nowMs);
    this.errorTotal += records;
  }

  recordsRetried(records: number, nowMs: number): void {
    this.retryRate.record(records, nowMs);
    this.retryTotal += records;
  }

  snapshot(nowMs: number, gauges: { bufferAvailable: number; bufferTotal: number; waiting: number; inFlight: number }): ProducerMetricValues {
    return {
      'record-send-rate': this.sendRate.measure(nowMs),
      'record-send-total': this.sendTotal,
      'record-error-rate': this.errorRate.measure(nowMs),
      'record-error-total': this.errorTotal,
      'record-retry-rate': this.retryRate.measure(nowMs),
      'record-retry-total': this.retryTotal,
      'record-queue-time-avg': this.queueTime.avg(nowMs),
      'record-queue-time-max': this.queueTime.max(nowMs),
      'request-latency-avg': this.latency.avg(nowMs),
      'request-latency-max': this.latency.max(nowMs),
      'request-rate': this.requestRate.measure(nowMs),
      'request-total': this.requestTotal,
      'outgoing-byte-rate': this.byteRate.measure(nowMs),
      'outgoing-byte-total': this.byteTotal,
      'batch-size-avg': this.batchSize.avg(nowMs),
      'batch-size-max': this.batchSize.max(nowMs),
      'records-per-request-avg': this.recordsPerRequest.avg(nowMs),
      'buffer-available-bytes': gauges.bufferAvailable,
      'buffer-total-bytes': gauges.bufferTotal,
      'waiting-threads': gauges.waiting,
      'requests-in-flight': gauges.inFlight,
    };
  }
}
