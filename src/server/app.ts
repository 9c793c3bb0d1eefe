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
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify';
import type { AuditLog } from './audit-log.ts';
import { authHook } from './auth.ts';
import type { ServerConfig } from './config.ts';
import { consoleRoutes, NowSampler, type ReviewQueue } from './console/index.ts';
import { installErrorHandling, type SendError } from './error-handler.ts';
import { apiError } from './errors.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { swaggerOptions } from './openapi.ts';
import {
  clientErrorHandler,
  installRequestBounds,
  MAX_PARAM_LENGTH,
  withRedactedUrls,
} from './request-bounds.ts';
import { type AdminService, adminRoutes } from './routes/admin.ts';
import { answerRoute } from './routes/answer.ts';
import { feedbackRoute } from './routes/feedback.ts';
import { healthRoutes } from './routes/health.ts';
import { observabilityRoutes } from './routes/observability.ts';
import { openAiRoutes } from './routes/openai.ts';
import { registerSchemas } from './schemas.ts';
import type { AnswerService, FeedbackService, ModelStatus } from './services.ts';
import { AJV_CUSTOM_OPTIONS, buildValidator } from './validation.ts';

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
  /** The review console's queue over the store; absent means the queue answers FEEDBACK_UNAVAILABLE. */
  reviewQueue?: ReviewQueue;
  /** fastify logger option; defaults to off (tests). serve passes a level from the config. */
  logger?: FastifyServerOptions['logger'];
}

export { API_VERSION } from './openapi.ts';

/** An onRequest hook counting /v1 requests by `keyOf` with @fastify/rate-limit's store. */
function rateLimitHook(
  app: FastifyInstance,
  limits: { max: number; timeWindow: number },
  keyOf: (request: FastifyRequest) => string,
  who: string,
) {
  const check = app.createRateLimit({ ...limits, keyGenerator: keyOf });
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (!request.routeOptions.config.scope) return;
    const result = await check(request);
    if (result.isAllowed || !result.isExceeded) return;
    reply.header('Retry-After', result.ttlInSeconds);
    throw apiError('RATE_LIMITED', `too many requests from ${who}; retry in ${result.ttlInSeconds} s`);
  };
}

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { config } = options;
  const metrics = options.metrics ?? createMetrics();
  const modelStatus =
    options.modelStatus ??
    ((): ModelStatus =>
      options.answerService ? { ready: true } : { ready: false, reason: 'no model is attached yet' });

  let sendError: SendError = (error, _request, reply) => reply.send(error);
  const app = Fastify({
    logger: withRedactedUrls(options.logger ?? false),
    bodyLimit: config.limits.bodyLimitBytes,
    // Node's own cut-off for a request (headers and body), a backstop behind installRequestBounds.
    requestTimeout: config.limits.requestTimeoutMs,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Router errors (an over-long path parameter, bad URL encoding) go through the catalogue too.
    frameworkErrors: (error, request, reply) => void sendError(error, request, reply),
    clientErrorHandler,
    // Unknown fields are reported (UNKNOWN_FIELD), not removed; JSON bodies are not type-coerced.
    ajv: { customOptions: AJV_CUSTOM_OPTIONS },
    schemaController: { compilersFactory: { buildValidator } },
    // Fastify's own drain answer bypasses the error catalogue (no code, no Retry-After): see below.
    return503OnClosing: false,
  });
  // Only JSON and multipart reach the routes; text/plain would skip body validation.
  app.removeContentTypeParser('text/plain');

  sendError = installErrorHandling(app, { metrics, retryAfterSeconds: config.limits.retryAfterSeconds });
  installRequestBounds(app, {
    timeoutMs: config.limits.requestTimeoutMs,
    maxConnections: config.limits.maxConnections,
  });
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

  // Rate limits: per client address before authentication (so a flood of wrong keys is cut before
  // any key is checked or any refusal audited), then per key once the key is known.
  const { rateLimitMax, rateLimitAddressMax, rateLimitWindowMs } = config.limits;
  if (rateLimitMax > 0 || rateLimitAddressMax > 0) {
    await app.register(rateLimit, { global: false, timeWindow: rateLimitWindowMs });
  }
  if (rateLimitAddressMax > 0) {
    app.addHook(
      'onRequest',
      rateLimitHook(
        app,
        { max: rateLimitAddressMax, timeWindow: rateLimitWindowMs },
        (request) => `ip:${request.ip}`,
        'this address',
      ),
    );
  }
  app.addHook('onRequest', authHook(config.auth));
  if (rateLimitMax > 0) {
    app.addHook(
      'onRequest',
      rateLimitHook(
        app,
        { max: rateLimitMax, timeWindow: rateLimitWindowMs },
        (request) => request.principal?.keyId ?? `ip:${request.ip}`,
        'this API key',
      ),
    );
  }

  await app.register(multipart, { limits: { fileSize: config.limits.maxImageBytes, files: 1 } });

  healthRoutes(app, { modelName: config.model.name, modelStatus });
  observabilityRoutes(app, { metrics });
  const answerDeps = {
    answerService: options.answerService,
    metrics,
    maxImageBytes: config.limits.maxImageBytes,
    bodyLimitBytes: config.limits.bodyLimitBytes,
  };
  answerRoute(app, answerDeps);
  openAiRoutes(app, { ...answerDeps, modelName: config.model.name });
  feedbackRoute(app, { feedbackService: options.feedbackService, audit: options.audit });
  adminRoutes(app, { adminService: options.adminService, audit: options.audit });

  const now = new NowSampler({ metrics });
  app.addHook('onReady', () => now.start());
  app.addHook('onClose', async () => now.stop());
  await consoleRoutes(app, {
    queue: options.reviewQueue,
    feedbackService: options.feedbackService,
    adminService: options.adminService,
    audit: options.audit,
    now,
  });
  return app;
}
