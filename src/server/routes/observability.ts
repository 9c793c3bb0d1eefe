/** GET /metrics (Prometheus), GET /docs/openapi.json, and the HTTP request metrics hook. */
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../metrics.ts';

export function observabilityRoutes(app: FastifyInstance, deps: { metrics: Metrics }): void {
  const { metrics } = deps;
  app.addHook('onResponse', async (request, reply) => {
    // The route template (e.g. /v2/models/:name), never the raw URL, keeps the label set small.
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status_code: String(reply.statusCode),
    };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
  });

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  app.get('/docs/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
