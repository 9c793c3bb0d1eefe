/**
 * buildApp assembles the HTTP server from its parts and never listens, so tests drive it with
 * inject(). Order matters: swagger and rate-limit watch routes as they are added, so they come
 * first; the auth hook is app-level and so runs before any route-level hook.
 */
import multipart from '@fastify/multipart';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import underPressure from '@fastify/under-pressure';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { AuditLog } from './audit-log.ts';
import { authHook } from './auth.ts';
import type { ServerConfig } from './config.ts';
import { installErrorHandling } from './error-handler.ts';
import { apiError } from './errors.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { swaggerOptions } from './openapi.ts';
import { type AdminService, adminRoutes } from './routes/admin.ts';
import { answerRoute } from './routes/answer.ts';
import { feedbackRoute } from './routes/feedback.ts';
import { healthRoutes } from './routes/health.ts';
import { observabilityRoutes } from './routes/observability.ts';
import { openAiRoutes } from './routes/openai.ts';
import { registerSchemas } from './schemas.ts';
import type { AnswerService, FeedbackService, ModelStatus } from './services.ts';

export interface AppOptions {
  config: ServerConfig;
  /** The engine; absent means "no model yet": /v1/answer answers MODEL_NOT_READY. */
  answerService?: AnswerService;
  /** The hard-example store; absent means /v1/feedback answers FEEDBACK_UNAVAILABLE. */
  feedbackService?: FeedbackService;
  /** Readiness (KServe v2); defaults to "ready when an answerService is attached". */
  modelStatus?: () => ModelStatus;
  /** Defaults to a fresh registry (createMetrics()). */
  metrics?: Metrics;
  /** Registry, runs and trainer for /v1/admin; absent means those routes answer ADMIN_UNAVAILABLE. */
  adminService?: AdminService;
  /** Audit log of admin actions and feedback; absent means nothing is audited (tests). */
  audit?: AuditLog;
  /** fastify logger option; defaults to off (tests). serve passes a level from the config. */
  logger?: FastifyServerOptions['logger'];
}

export { API_VERSION } from './openapi.ts';

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { config } = options;
  const metrics = options.metrics ?? createMetrics();
  const modelStatus =
    options.modelStatus ??
    ((): ModelStatus =>
      options.answerService ? { ready: true } : { ready: false, reason: 'no model is attached yet' });

  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: config.limits.bodyLimitBytes,
    requestTimeout: config.limits.requestTimeoutMs,
    // Unknown fields must be reported (UNKNOWN_FIELD), not silently removed; all errors at once.
    ajv: { customOptions: { removeAdditional: false, allErrors: true } },
    // Fastify's own drain answer bypasses the error catalogue (no code, no Retry-After): see below.
    return503OnClosing: false,
  });
  // Only JSON and multipart reach the routes; text/plain would skip body validation.
  app.removeContentTypeParser('text/plain');

  installErrorHandling(app, { metrics, retryAfterSeconds: config.limits.retryAfterSeconds });
  registerSchemas(app);
  // Draining (close() called, e.g. on SIGTERM): requests that still arrive on open connections get a
  // coded 503 with Retry-After, while in-flight ones finish.
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onRequest', async () => {
    if (closing) throw apiError('MODEL_NOT_READY', 'shutting down');
  });

  await app.register(swagger, swaggerOptions(config));
  // The interactive page (/docs) and its assets ship in the package: nothing is fetched at run time.
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true } });

  if (config.limits.maxEventLoopDelayMs > 0) {
    await app.register(underPressure, {
      maxEventLoopDelay: config.limits.maxEventLoopDelayMs,
      retryAfter: config.limits.retryAfterSeconds,
      // Health, metrics and docs stay up under pressure: a liveness probe must not kill a busy pod.
      pressureHandler: (request) => {
        if (request.routeOptions.config.scope) throw apiError('OVERLOADED');
      },
    });
  }

  app.addHook('onRequest', authHook(config.auth));

  if (config.limits.rateLimitMax > 0) {
    await app.register(rateLimit, {
      max: config.limits.rateLimitMax,
      timeWindow: config.limits.rateLimitWindowMs,
      allowList: (request) => !request.routeOptions.config.scope,
      keyGenerator: (request) => request.principal?.keyId ?? request.ip,
      errorResponseBuilder: (_request, context) => apiError('RATE_LIMITED', `retry in ${context.after}`),
    });
  }

  await app.register(multipart, { limits: { fileSize: config.limits.maxImageBytes, files: 1 } });

  healthRoutes(app, { modelName: config.model.name, modelStatus });
  observabilityRoutes(app, { metrics });
  const answerDeps = {
    answerService: options.answerService,
    metrics,
    requestTimeoutMs: config.limits.requestTimeoutMs,
    maxImageBytes: config.limits.maxImageBytes,
  };
  answerRoute(app, answerDeps);
  openAiRoutes(app, { ...answerDeps, modelName: config.model.name });
  feedbackRoute(app, { feedbackService: options.feedbackService, audit: options.audit });
  adminRoutes(app, { adminService: options.adminService, audit: options.audit });
  return app;
}
