// Producer and consumer metrics in a prom-client registry. Each Kafka metric becomes a gauge read
// from client.metrics() at scrape time, named as Kafka's JMX reporter's Prometheus exporters name
// them (kafka_<client>_<metric with '-' as '_'>, e.g. kafka_consumer_records_consumed_rate), with a
// client_id label, so several clients share one registry. NaN (no sample yet) is left out of the
// scrape rather than exported as NaN.

import { Gauge, type Registry } from 'prom-client';

/** Anything with Kafka-named numeric metrics: a Producer or a Consumer. */
export interface MetricsSource {
  /** Metric name to value (ProducerMetricValues, ConsumerMetricValues). */
  metrics(): object;
}

interface SharedGauges {
  sources: Map<string, MetricsSource>;
  gauges: Map<string, Gauge<'client_id'>>;
}

const perRegistry = new WeakMap<Registry, Map<string, SharedGauges>>();

export function prometheusMetricName(kind: 'producer' | 'consumer', kafkaName: string): string {
  return `kafka_${kind}_${kafkaName.replace(/[^a-zA-Z0-9]/g, '_')}`;
}

/**
 * Exports `source`'s metrics to `registry` under `client_id` (which must be unique per kind and
 * registry). Returns a function that removes this client's series (call it when the client closes).
 */
export function registerClientMetrics(registry: Registry, kind: 'producer' | 'consumer', source: MetricsSource, clientId: string): () => void {
  let byKind = perRegistry.get(registry);
  if (!byKind) perRegistry.set(registry, (byKind = new Map()));
  let shared = byKind.get(kind);
  if (!shared) {
    shared = { sources: new Map(), gauges: new Map() };
    byKind.set(kind, shared);
    const sharedRef = shared;
    for (const name of Object.keys(source.metrics())) {
      const gauge = new Gauge<'client_id'>({
        name: prometheusMetricName(kind, name),
        help: `Kafka ${kind} metric ${name}`,
        labelNames: ['client_id'],
        registers: [registry],
        collect() {
          this.reset();
          for (const [id, s] of sharedRef.sources) {
            const v = (s.metrics() as Record<string, unknown>)[name];
            if (typeof v === 'number' && Number.isFinite(v)) this.set({ client_id: id }, v);
          }
        },
      });
      shared.gauges.set(name, gauge);
    }
  }
  if (shared.sources.has(clientId)) throw new Error(`a ${kind} with client_id '${clientId}' is already registered in this registry`);
  shared.sources.set(clientId, source);
  const owner = shared;
  return () => {
    owner.sources.delete(clientId);
  };
}
