// A Prometheus registry for one node, with Node.js process metrics under the samsa_ prefix.
// prom-client names three of its default gauges *_total, which Prometheus conventions (and
// `promtool check metrics`) reserve for counters; we drop those three so every node's
// /metrics lints clean. The same information is in samsa_nodejs_active_handles and friends.

import { Registry, collectDefaultMetrics } from 'prom-client';

const NON_CONFORMING_DEFAULTS = [
  'samsa_nodejs_active_handles_total',
  'samsa_nodejs_active_requests_total',
  'samsa_nodejs_active_resources_total',
];

export function createNodeRegistry(labels: Record<string, string> = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  collectDefaultMetrics({ register: registry, prefix: 'samsa_' });
  for (const name of NON_CONFORMING_DEFAULTS) registry.removeSingleMetric(name);
  return registry;
}
