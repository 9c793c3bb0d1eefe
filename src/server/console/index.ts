/**
 * The review console at /console: a page for clinicians (review queue, scope review) and operators
 * (models and rounds, scope admin; now, any key), served by the same app. It is a client of the API:
 * sign-in keeps the API key in the page's memory and sends it as a bearer token, so there is no
 * cookie and no session to forge (nothing for CSRF to ride on). The page's own routes live under
 * /console/api; models, rounds and rollback are the /v1/admin routes themselves (so rollback is
 * audited exactly as there). Strict CSP and security headers (@fastify/helmet) apply to this plugin's
 * routes only, not to /docs or the API. The routes are left out of the OpenAPI document: they are the
 * page's, described in docs/console.md.
 */
import helmet from '@fastify/helmet';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { type AuditLog, auditHook, bodyFields, textLength } from '../audit-log.ts';
import { apiError } from '../errors.ts';
import type { AdminService } from '../routes/admin.ts';
import type { FeedbackService } from '../services.ts';
import { type Asset, loadAssets } from './assets.ts';
import { type CorrectionInput, catalogueForForms, correctAnswer, SEVERITIES, SIDES } from './corrections.ts';
import type { NowSampler } from './now.ts';
import { QUEUE_SORTS, QUEUE_VIEWS, type QueueQuery, type ReviewQueue } from './review-queue.ts';

export { NowSampler } from './now.ts';
export { ReviewQueue } from './review-queue.ts';

export interface ConsoleDeps {
  /** Absent (no store): the queue answers FEEDBACK_UNAVAILABLE. */
  queue?: ReviewQueue;
  feedbackService?: FeedbackService;
  adminService?: AdminService;
  now: NowSampler;
  audit?: AuditLog;
}

/** What the page's CSP allows: its own scripts, styles and API; images from its API as blob: URLs. */
export const CONSOLE_CSP = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'blob:'],
  connectSrc: ["'self'"],
  baseUri: ["'none'"],
  formAction: ["'none'"],
  frameAncestors: ["'none'"],
  objectSrc: ["'none'"],
};

interface FeedbackBody {
  item: string;
  verdict: 'correct' | 'incorrect';
  correction?: CorrectionInput;
}

const HASH = '^[0-9a-f]{64}$';
const errors = { '4xx': { $ref: 'ErrorResponse#' }, '5xx': { $ref: 'ErrorResponse#' } };

function describeReview(request: Parameters<Parameters<typeof auditHook>[1]>[0]) {
  const body = bodyFields(request);
  const correction = (body.correction ?? {}) as Record<string, unknown>;
  return {
    action: 'feedback',
    target: typeof body.item === 'string' ? body.item : null,
    details: {
      via: 'console',
      verdict: body.verdict === 'correct' || body.verdict === 'incorrect' ? body.verdict : null,
      findings: Array.isArray(correction.findings) ? correction.findings.length : null,
      free_text_chars: textLength(correction.free_text),
    },
  };
}

function sendAsset(reply: FastifyReply, asset: Asset | undefined) {
  if (!asset) throw apiError('NOT_FOUND');
  return reply.type(asset.type).header('Cache-Control', 'no-cache').send(asset.body);
}

async function consolePlugin(app: FastifyInstance, deps: ConsoleDeps): Promise<void> {
  await app.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: CONSOLE_CSP },
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginEmbedderPolicy: true,
  });
  // Answers carry question and answer text and images: never kept by a browser or proxy cache.
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.url.startsWith('/console/api/')) reply.header('Cache-Control', 'no-store');
    return payload;
  });
  const assets = loadAssets();
  const hide = { hide: true };

  app.get('/console', { schema: hide }, async (_request, reply) => reply.redirect('/console/', 301));
  app.get('/console/', { schema: hide }, async (_request, reply) =>
    sendAsset(reply, assets.get('index.html')),
  );
  app.get<{ Params: { name: string } }>(
    '/console/assets/:name',
    { schema: { ...hide, params: { type: 'object', properties: { name: { type: 'string' } } } } },
    async (request, reply) =>
      sendAsset(reply, request.params.name === 'index.html' ? undefined : assets.get(request.params.name)),
  );

  app.get('/console/api/session', { config: { scope: 'any' }, schema: hide }, async (request) => ({
    key_id: request.principal?.keyId ?? 'anonymous',
    scopes: [...(request.principal?.scopes ?? [])].sort(),
  }));

  app.get('/console/api/now', { config: { scope: 'any' }, schema: hide }, async () => deps.now.snapshot());

  const queue = (): ReviewQueue => {
    if (!deps.queue) throw apiError('FEEDBACK_UNAVAILABLE', 'no hard-example store is attached');
    return deps.queue;
  };

  app.get('/console/api/catalogue', { config: { scope: 'review' }, schema: hide }, async () => ({
    findings: catalogueForForms(),
    sides: SIDES,
    severities: SEVERITIES,
  }));

  app.get<{ Querystring: QueueQuery }>(
    '/console/api/queue',
    {
      config: { scope: 'review' },
      schema: {
        ...hide,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            view: { type: 'string', enum: [...QUEUE_VIEWS], default: 'flagged' },
            sort: { type: 'string', enum: [...QUEUE_SORTS], default: 'newest' },
            task: { type: 'string', maxLength: 32 },
            min_risk: { type: 'number', minimum: 0, maximum: 1 },
            warning: { type: 'string', maxLength: 64 },
            model_version: { type: 'string', maxLength: 128 },
            page: { type: 'integer', minimum: 1, default: 1 },
            page_size: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
          },
        },
        response: errors,
      },
    },
    async (request) => queue().list(request.query),
  );

  app.get<{ Params: { table: 'hard_examples' | 'answers'; id: string } }>(
    '/console/api/images/:table/:id',
    {
      config: { scope: 'review' },
      schema: {
        ...hide,
        params: {
          type: 'object',
          required: ['table', 'id'],
          properties: {
            table: { type: 'string', enum: ['hard_examples', 'answers'] },
            id: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' },
          },
        },
        response: errors,
      },
    },
    async (request, reply) => {
      const png = await queue().image(request.params.table, request.params.id);
      if (!png) throw apiError('NOT_FOUND', 'no stored image for this row');
      return reply.type('image/png').send(Buffer.from(png));
    },
  );

  const findingSchema = {
    type: 'object',
    additionalProperties: false,
    required: ['key', 'present'],
    properties: {
      key: { type: 'string', enum: catalogueForForms().map((f) => f.key) },
      present: { type: 'boolean' },
      side: { type: 'string', enum: [...SIDES] },
      severity: { type: 'string', enum: [...SEVERITIES] },
    },
  };
  app.post<{ Body: FeedbackBody }>(
    '/console/api/feedback',
    {
      config: { scope: 'review' },
      ...(deps.audit ? { onResponse: auditHook(deps.audit, describeReview) } : {}),
      schema: {
        ...hide,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['item', 'verdict'],
          properties: {
            item: { type: 'string', pattern: HASH },
            verdict: { type: 'string', enum: ['correct', 'incorrect'] },
            correction: {
              type: 'object',
              additionalProperties: false,
              properties: {
                answer: { type: 'string', maxLength: 64 },
                findings: { type: 'array', maxItems: 32, items: findingSchema },
                free_text: { type: 'string', maxLength: 4000 },
              },
            },
          },
        },
        response: errors,
      },
    },
    async (request) => {
      const { item, verdict, correction } = request.body;
      const review = deps.feedbackService?.review?.bind(deps.feedbackService);
      if (!review) throw apiError('FEEDBACK_UNAVAILABLE');
      const found = await queue().find(item);
      if (!found) throw apiError('NOT_FOUND', 'no answer with this id in the queue');
      let correct_answer: string | undefined;
      if (verdict === 'incorrect') {
        if (!correction) {
          throw apiError('INVALID_REQUEST', '/correction is required when verdict is "incorrect"', {
            details: [{ field: '/correction', message: 'is required when verdict is "incorrect"' }],
          });
        }
        correct_answer = correctAnswer(found.form, correction);
      }
      const recorded = await review(
        { item, verdict, ...(correct_answer ? { correct_answer } : {}) },
        { keyId: request.principal?.keyId ?? 'anonymous' },
      );
      return { ...recorded, correct_answer: correct_answer ?? null };
    },
  );

  app.get('/console/api/schedule', { config: { scope: 'admin' }, schema: hide }, async () => {
    const schedule = deps.adminService?.schedule?.bind(deps.adminService);
    if (!schedule) throw apiError('ADMIN_UNAVAILABLE', 'no trainer is attached');
    return schedule();
  });
}

/** Registers the console in its own encapsulated context (so helmet's headers stay on /console). */
export async function consoleRoutes(app: FastifyInstance, deps: ConsoleDeps): Promise<void> {
  await app.register(consolePlugin, deps);
}
