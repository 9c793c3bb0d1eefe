import Fastify, { type FastifyInstance } from 'fastify';

export interface AppOptions {
  /** Model name and version once one is loaded; absent means "no model yet" (not ready). */
  model?: { name: string; version: string };
  logger?: boolean;
}

/** Builds the fastify app without listening, so tests can drive it with inject(). */
export function buildApp(options: AppOptions = {}): FastifyInstance {
  const app = Fastify({ logger: options.logger ?? false });
  app.get('/v2/health/live', async () => ({ live: true }));
  app.get('/v2/health/ready', async (_req, reply) => {
    if (!options.model)
      return reply.code(503).send({ ready: false, reason: 'no model version is loaded yet' });
    return { ready: true, model: options.model };
  });
  return app;
}
