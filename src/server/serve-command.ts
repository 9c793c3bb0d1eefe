/**
 * `chexpo serve`: loads the configuration from the environment (flags override host and port),
 * listens at once (liveness answers during warm-up), then starts the engine on the registry's
 * CURRENT version. Readiness turns true only once it is loaded and warmed up; without a CURRENT the
 * server keeps answering health with ready 503 and picks up the first version published.
 *
 * SIGTERM/SIGINT: stop admitting, let in-flight requests finish (HTTP and engine), flush the
 * hard-example queue, exit.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Engine } from '../engine/index.ts';
import { BUNDLED_MODELS_ROOT } from '../registry/index.ts';
import { EngineAnswerService, StoreFeedbackService } from './answer-service.ts';
import { buildApp } from './app.ts';
import { loadConfig } from './config.ts';
import { HardExampleLogger } from './hard-example-logger.ts';
import { createMetrics } from './metrics.ts';

const HELP = `usage: chexpo serve [--host <address>] [--port <number>]

Configuration comes from CHEXPO_* environment variables (see docs/configuration.md);
--host and --port override CHEXPO_HOST and CHEXPO_PORT. The model registry is the repo's
models/ folder unless CHEXPO_MODEL_DIR names another one.`;

export async function serveCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { host: { type: 'string' }, port: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const env = { ...process.env };
  if (values.host !== undefined) env.CHEXPO_HOST = values.host;
  if (values.port !== undefined) env.CHEXPO_PORT = values.port;
  const { config, warnings } = loadConfig(env);
  const metrics = createMetrics();
  const registryRoot = env.CHEXPO_MODEL_DIR ? resolve(config.model.dir) : BUNDLED_MODELS_ROOT;

  // The logger is created before the app so engine and store messages go through fastify's pino.
  let log: (level: 'info' | 'warn' | 'error', message: string, details?: Record<string, unknown>) => void =
    () => {};
  const engine = Engine.create({
    registryRoot,
    modelName: config.model.name,
    workers: config.model.workers,
    executionProvider: config.model.executionProvider,
    maxQueue: config.limits.maxQueue,
    keepImagePng: config.store.images,
    metrics,
    log: (level, message, details) => log(level, message, details),
  });
  const logger = new HardExampleLogger({
    uri: config.store.uri,
    embeddingDim: () => engine.embeddingDim,
    metrics,
    log: (event, details) => log('warn', `hard-example store: ${event}`, details),
  });
  const app = await buildApp({
    config,
    metrics,
    logger: { level: config.logLevel },
    answerService: new EngineAnswerService({
      engine,
      logger,
      riskThreshold: config.riskThreshold,
      storeImages: config.store.images,
    }),
    feedbackService: new StoreFeedbackService(logger),
    modelStatus: () => engine.status(),
  });
  log = (level, message, details) => app.log[level](details ?? {}, message);
  for (const warning of warnings) app.log.warn(`*** ${warning} ***`);

  let closing = false;
  const close = async (signal: string): Promise<void> => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: no new requests, finishing in-flight ones');
    await Promise.all([app.close(), engine.close()]);
    await logger.close(10_000);
    process.exit(0);
  };
  process.once('SIGINT', () => void close('SIGINT'));
  process.once('SIGTERM', () => void close('SIGTERM'));
  await app.listen({ host: config.host, port: config.port });

  app.log.info({ registryRoot, model: config.model.name }, 'loading the model');
  engine.start().then(
    () => {
      const status = engine.status();
      if (!status.ready) app.log.warn(`model not ready: ${status.reason}; /v2/health/ready answers 503`);
    },
    (error: unknown) =>
      app.log.error({ error: String(error) }, 'engine failed to start; serving health only'),
  );
}
