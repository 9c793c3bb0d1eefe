/** The benches' server: the real fastify app over an already-started engine, on a loopback port. */
import type { Engine } from '../../src/engine/index.ts';
import { EngineAnswerService } from '../../src/server/answer-service.ts';
import { buildApp } from '../../src/server/app.ts';
import type { ServerConfig } from '../../src/server/config.ts';
import type { createMetrics } from '../../src/server/metrics.ts';

export async function listenOnEngine(
  engine: Engine,
  config: ServerConfig,
  metrics: ReturnType<typeof createMetrics>,
) {
  const app = await buildApp({
    config,
    metrics,
    answerService: new EngineAnswerService({ engine, riskThreshold: 1 }),
    modelStatus: () => engine.status(),
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url };
}
