// The controller's Prometheus metrics (Kafka's KafkaController MBeans under samsa_ names). Every
// broker reports them: 1/0 for the active controller, and the partition gauges are 0 on brokers
// that are not the controller, as in Kafka, so summing over the cluster gives the true value.
// Metrics are fetched from the registry if they exist, so a broker that rebuilds its controller
// (after a coordinator session expired) can reuse its registry.

import { Counter, Gauge, type Registry } from 'prom-client';

function gauge(registry: Registry, name: string, help: string): Gauge {
  return (registry.getSingleMetric(name) as Gauge | undefined) ?? new Gauge({ name, help, registers: [registry] });
}

export class ControllerMetrics {
  private readonly active: Gauge;
  private readonly offline: Gauge;
  private readonly imbalance: Gauge;
  private readonly events: Counter<'event'>;

  constructor(registry: Registry) {
    this.active = gauge(registry, 'samsa_controller_active_controllers', 'Whether this broker is the active controller (1) or not (0).');
    this.offline = gauge(registry, 'samsa_controller_offline_partitions', 'Partitions without a live leader (reported by the active controller).');
    this.imbalance = gauge(
      registry,
      'samsa_controller_preferred_replica_imbalance',
      'Partitions not led by their preferred replica (reported by the active controller).',
    );
    const eventsName = 'samsa_controller_events_total';
    this.events =
      (registry.getSingleMetric(eventsName) as Counter<'event'> | undefined) ??
      new Counter({ name: eventsName, help: 'Controller events processed, by event.', labelNames: ['event'], registers: [registry] });
    this.active.set(0);
    this.offline.set(0);
    this.imbalance.set(0);
  }

  setActive(active: boolean): void {
    this.active.set(active ? 1 : 0);
    if (!active) {
      this.offline.set(0);
      this.imbalance.set(0);
    }
  }

  setPartitionGauges(offlinePartitions: number, preferredReplicaImbalance: number): void {
    this.offline.set(offlinePartitions);
    this.imbalance.set(preferredReplicaImbalance);
  }

  event(name: string): void {
    this.events.inc({ event: name });
  }
}
