/**
 * The server `chexpo serve` starts (src/cli/serve.ts): loads the configuration from the environment,
 * listens at once (liveness answers during warm-up), then starts the engine on the registry's
 * CURRENT version. Readiness turns true only once it is loaded and warmed up; without a CURRENT the
 * server keeps answering health with ready 503 and picks up the first version published.
 *
 * SIGTERM/SIGINT: stop admitting, let in-flight requests finish (HTTP and engine), flush the
 * hard-example queue, exit.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine } from '../engine/index.ts';
import { BUNDLED_MODELS_ROOT, Registry } from '../registry/index.ts';
import { EngineAnswerService, StoreFeedbackService } from './answer-service.ts';
import { buildApp } from './app.ts';
import { AuditLog } from './audit-log.ts';
import { loadConfig, type ServerConfig, scrubSecrets } from './config.ts';
import { ReviewQueue } from './console/index.ts';
import { HardExampleLogger } from './hard-example-logger.ts';
import { createMetrics, engineObserver, type Metrics } from './metrics.ts';
import {
  observeVersionScores,
  RegistryAdminService,
  RunObserver,
  seedWritableRegistry,
  TrainerSupervisor,
} from './trainer/index.ts';

const APP_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI_SCRIPT = resolve(APP_ROOT, 'bin', 'chexpo.js');

type Log = (level: 'info' | 'warn' | 'error', message: string, details?: Record<string, unknown>) => void;

/**
 * The registry to serve from. CHEXPO_MODEL_DIR set: that one, as is. Unset: ./var/models seeded from
 * the bundled release; if that cannot be written, the bundled one read-only with the trainer off.
 */
async function servingRegistry(
  env: NodeJS.ProcessEnv,
  config: ServerConfig,
  log: Log,
): Promise<{ root: string; writable: boolean }> {
  const root = resolve(config.model.dir);
  if (env.CHEXPO_MODEL_DIR) return { root, writable: true };
  try {
    const seeded = await seedWritableRegistry({
      from: BUNDLED_MODELS_ROOT,
      to: root,
      name: config.model.name,
    });
    log('info', `model registry ${root}: ${seeded.outcome}`, { ...seeded });
    return { root, writable: true };
  } catch (error) {
    log('warn', 'cannot seed a writable registry; serving the bundled one read-only, trainer off', {
      root,
      error: String(error),
    });
    return { root: BUNDLED_MODELS_ROOT, writable: false };
  }
}

/** A local store path as an absolute one, so the trainer child opens the same directory. */
function absoluteStoreUri(uri: string): string {
  return uri.includes('://') ? uri : resolve(uri);
}

/**
 * The vector width the store will hold: CURRENT's embeddingDim. Lets the store (admin runs, trainer
 * poll, feedback) open before the engine has loaded the model, or while it cannot.
 */
async function currentEmbeddingDim(registry: Registry): Promise<number | undefined> {
  try {
    const current = await registry.current();
    if (!current) return undefined;
    const config = JSON.parse(await readFile(registry.filePath(current, 'config.json'), 'utf8'));
    return Number.isInteger(config.embeddingDim) ? config.embeddingDim : undefined;
  } catch {
    return undefined;
  }
}

async function refreshScores(
  registry: Registry,
  metrics: Metrics,
  log: Log,
  serving: () => string | null | undefined,
): Promise<void> {
  try {
    const [entries, current] = await Promise.all([registry.list(), registry.current()]);
    observeVersionScores(metrics, entries, [current, serving()]);
  } catch (error) {
    log('warn', 'could not read version scores from the registry', { error: String(error) });
  }
}

/**
 * Serves with the configuration of `env` (CHEXPO_* variables; `chexpo serve` passes a copy of
 * process.env with its flags applied) until SIGTERM or SIGINT.
 */
export async function startServer(env: NodeJS.ProcessEnv): Promise<void> {
  const { config, warnings } = loadConfig(env);
  // The keys now live only as digests in `config`: drop them from the environment, so no child
  // process, crash dump of the environment or dependency reading process.env sees them.
  scrubSecrets(process.env);
  const metrics = createMetrics();
  // The logger is created before the app so engine and store messages go through fastify's pino;
  // messages before that (registry seeding) are kept and replayed.
  const early: Parameters<Log>[] = [];
  let log: Log = (...args) => early.push(args);
  const { root: registryRoot, writable } = await servingRegistry(env, config, (...args) => log(...args));
  const storeUri = absoluteStoreUri(config.store.uri);
  const registry = await Registry.open(registryRoot, config.model.name);
  const declaredDim = await currentEmbeddingDim(registry);
  const servingVersion = (): string | null => engine.status().model?.version ?? null;
  const engine = Engine.create({
    registryRoot,
    modelName: config.model.name,
    workers: config.model.workers,
    executionProvider: config.model.executionProvider,
    maxQueue: config.limits.maxQueue,
    keepImagePng: config.store.images,
    inputGate: config.gate,
    observer: engineObserver(metrics),
    onSwap: (swap) => {
      void refreshScores(registry, metrics, log, () => swap.version);
      metrics.swapDuration.observe({ phase: 'load' }, swap.loadMs / 1000);
      metrics.swapDuration.observe({ phase: 'drain' }, swap.drainMs / 1000);
    },
    log: (level, message, details) => log(level, message, details),
  });
  const logger = new HardExampleLogger({
    uri: storeUri,
    embeddingDim: () => engine.embeddingDim ?? declaredDim,
    metrics,
    answerRetentionMs: config.store.answerRetentionHours * 3_600_000,
    log: (event, details) => log('warn', `hard-example store: ${event}`, details),
    journal: config.store.journalDir
      ? {
          dir: resolve(config.store.journalDir),
          log: (event, details) => log('warn', `hard-example journal: ${event}`, details),
        }
      : undefined,
  });
  const audit = new AuditLog({
    path: resolve(config.auditLogPath),
    metrics,
    log: (message, details) => log('warn', message, details),
  });
  const openStore = () => logger.openStore();
  const trainer = new TrainerSupervisor({
    enabled: config.loop.enabled && writable,
    child: {
      script: CLI_SCRIPT,
      cwd: APP_ROOT,
      registryRoot,
      modelName: config.model.name,
      storeUri,
      dataDir: config.loop.dataDir ? resolve(config.loop.dataDir) : undefined,
      workDir: resolve(config.loop.workDir),
      threads: config.loop.threads,
    },
    store: openStore,
    intervalMs: config.loop.intervalHours * 3_600_000,
    minHardExamples: config.loop.minHardExamples,
    maxRunMs: config.loop.maxRunMinutes * 60_000,
    metrics,
    audit,
    baseVersion: () => registry.current(),
    onRunFinished: () => refreshScores(registry, metrics, log, servingVersion),
    log: (level, message, details) => log(level, `trainer: ${message}`, details),
  });
  // Replicas that do not train still export the loop's metrics, from the shared runs table.
  const observer = new RunObserver({
    store: openStore,
    metrics,
    onRunFinished: () => refreshScores(registry, metrics, log, servingVersion),
    log: (message, details) => log('warn', message, details),
  });
  const app = await buildApp({
    config,
    metrics,
    audit,
    adminService: new RegistryAdminService({
      registry,
      store: openStore,
      trainer,
      serving: () => engine.status().model?.version ?? null,
      metrics,
    }),
    logger: { level: config.logLevel },
    answerService: new EngineAnswerService({
      engine,
      logger,
      riskThreshold: config.riskThreshold,
      storeImages: config.store.images,
    }),
    feedbackService: new StoreFeedbackService(logger),
    reviewQueue: new ReviewQueue({ store: openStore, retentionMs: logger.answerRetentionMs }),
    modelStatus: () => engine.status(),
  });
  log = (level, message, details) => app.log[level](details ?? {}, message);
  for (const args of early.splice(0)) log(...args);
  for (const warning of warnings) app.log.warn(`*** ${warning} ***`);

  let closing = false;
  const close = async (signal: string): Promise<void> => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: no new requests, finishing in-flight ones');
    observer.stop();
    await Promise.all([app.close(), engine.close(), trainer.close()]);
    await logger.close(10_000);
    await audit.close();
    registry.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void close('SIGINT'));
  process.once('SIGTERM', () => void close('SIGTERM'));
  await app.listen({ host: config.host, port: config.port });

  app.log.info({ registryRoot, model: config.model.name }, 'loading the model');
  await refreshScores(registry, metrics, log, servingVersion);
  await trainer.start();
  if (!trainer.enabled) observer.start();
  if (trainer.enabled) {
    app.log.info(
      { intervalHours: config.loop.intervalHours, minHardExamples: config.loop.minHardExamples },
      'trainer on: one `chexpo loop run` child at a time (CHEXPO_LOOP_ENABLED=0 turns it off)',
    );
  }
  // Before any answer: rows an earlier process journaled but did not write (a crash) go in now.
  try {
    const replay = await logger.replayJournal();
    if (replay.journaled > 0) app.log.info(replay, 'hard-example journal replayed');
  } catch (error) {
    app.log.warn(
      { error: String(error) },
      'hard-example journal not replayed; it is kept for the next start',
    );
  }
  engine.start().then(
    () => {
      const status = engine.status();
      if (!status.ready) app.log.warn(`model not ready: ${status.reason}; /v2/health/ready answers 503`);
    },
    (error: unknown) =>
      app.log.error({ error: String(error) }, 'engine failed to start; serving health only'),
  );
}
