/** The benches' server: the real fastify app over an already-started engine, on a loopback port. */
import type { Engine } from '../../src/engine/index.ts';
import { buildApp, EngineAnswerService, type Metrics, type ServerConfig } from '../../src/server/index.ts';

export async function listenOnEngine(engine: Engine, config: ServerConfig, metrics: Metrics) {
  const app = await buildApp({
    config,
    metrics,
    answerService: new EngineAnswerService({ engine, riskThreshold: 1 }),
    modelStatus: () => engine.status(),
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url };
}
