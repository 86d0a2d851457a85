/**
 * Prometheus metrics: one registry per service instance (so tests can run several services in a process),
 * HTTP request durations by route, and /metrics for scrapers with at least the viewer role.
 */
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';

export interface MetricsOptions {
  /** Process metrics (CPU, heap, event loop lag); off in tests, where many instances share one process. */
  readonly defaultMetrics?: boolean;
  /** Extra registries to expose on /metrics, e.g. prom-client's global one used by topology workers. */
  readonly extraRegistries?: readonly Registry[];
}

export function installMetrics(
  app: FastifyInstance,
  service: string,
  options: MetricsOptions = {},
): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry });

  const duration = new Histogram({
    name: 'sluice_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  app.addHook('onResponse', async (req, reply) => {
    // The route pattern, never the raw URL: raw URLs would make one time series per model name or query.
    const route = req.routeOptions.url ?? 'unmatched';
    duration.observe(
      { method: req.method, route, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  // Concatenated per scrape (not Registry.merge) so metrics created later in other registries still show.
  const registries = [registry, ...(options.extraRegistries ?? [])];
  app.get(
    '/metrics',
    {
      config: { role: 'viewer' },
      schema: {
        summary: 'Prometheus metrics (text exposition format)',
        tags: ['health'],
        response: { 200: { type: 'string' } },
      },
    },
    async (_req, reply) => {
      reply.type(registry.contentType);
      const texts = await Promise.all(registries.map((r) => r.metrics()));
      return texts.join('\n');
    },
  );
  return registry;
}
