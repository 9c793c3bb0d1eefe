/**
 * Admin routes (scope `admin`): model versions, rollback, training runs. Handlers only validate,
 * call the AdminService and serialise; every answer, refusals included, is appended to the audit log
 * by a route-level onResponse hook.
 */
import type { FastifyInstance } from 'fastify';
import { type AuditDescriber, type AuditLog, auditHook, bodyFields, textLength } from '../audit-log.ts';
import { apiError } from '../errors.ts';
import { MAX_PARAM_LENGTH } from '../request-bounds.ts';
import { loadSchema } from '../schemas.ts';

export const ADMIN_SCHEMA_FILES = [
  'admin-versions-response.json',
  'admin-rollback-request.json',
  'admin-rollback-response.json',
  'admin-train-request.json',
  'admin-train-response.json',
  'admin-run-summary.json',
  'admin-runs-response.json',
  'admin-run-response.json',
] as const;

export interface VersionSummary {
  version: string;
  parent: string | null;
  created_at: string | null;
  eval_primary: number | null;
  run_id: string | null;
  current: boolean;
  serving: boolean;
  error: string | null;
}

export interface VersionsResponse {
  model: string;
  current: string | null;
  serving: string | null;
  versions: VersionSummary[];
}

export interface RollbackRequest {
  to?: string;
  reason: string;
}

export interface RollbackResponse {
  from: string | null;
  to: string;
  action: 'rollback' | 'set';
  at: string;
}

export interface TrainResponse {
  run_id: string;
  trigger: 'admin';
  started_at: string;
}

export interface RunSummary {
  id: string;
  status: string;
  trigger: string | null;
  started_at: string;
  finished_at: string | null;
  base_version: string | null;
  candidate_version: string | null;
  eval: { current: number | null; candidate: number | null } | null;
  error: { code: string; message: string } | null;
}

export interface RunsResponse {
  active: string | null;
  runs: RunSummary[];
}

export interface RunResponse {
  run: RunSummary;
  record: Record<string, unknown> | null;
}

/** The trainer's schedule as the console's Models and rounds view shows it. */
export interface ScheduleResponse {
  enabled: boolean;
  /** When the interval trigger fires next (null: interval off or trainer off). */
  next_at: string | null;
  interval_hours: number;
  /** Hard examples that start a round early (0: off). */
  min_hard_examples: number;
  /** Hard examples no round has used yet (status new or labelled); null when the store cannot be read. */
  pending_hard_examples: number | null;
  active: { run_id: string; trigger: string; started_at: string } | null;
}

/** What the admin routes need; throws catalogue errors (NOT_FOUND, TRAINER_BUSY, ROLLBACK_REFUSED, …). */
export interface AdminService {
  /** The trainer's schedule and pending hard examples (the review console); optional. */
  schedule?(): Promise<ScheduleResponse>;
  versions(): Promise<VersionsResponse>;
  rollback(request: RollbackRequest, actor: string): Promise<RollbackResponse>;
  train(actor: string): Promise<TrainResponse>;
  runs(options: { limit: number; status?: string }): Promise<RunsResponse>;
  run(id: string): Promise<RunResponse>;
}

export interface AdminDeps {
  /** Absent: every admin route answers ADMIN_UNAVAILABLE. */
  adminService?: AdminService;
  audit?: AuditLog;
}

const RUN_STATUSES = ['running', 'succeeded', 'promoted', 'rejected', 'failed'];

export function adminRoutes(app: FastifyInstance, deps: AdminDeps): void {
  for (const file of ADMIN_SCHEMA_FILES) app.addSchema(loadSchema(file));
  const errors = { '4xx': { $ref: 'ErrorResponse#' }, '5xx': { $ref: 'ErrorResponse#' } };
  const common = { tags: ['admin'], security: [{ bearer: [] }] };
  const service = (): AdminService => {
    if (!deps.adminService) throw apiError('ADMIN_UNAVAILABLE', 'no model registry is attached');
    return deps.adminService;
  };
  const audited = (describe: AuditDescriber) => ({
    config: { scope: 'admin' as const },
    ...(deps.audit ? { onResponse: auditHook(deps.audit, describe) } : {}),
  });
  const actor = (request: { principal?: { keyId: string } }): string =>
    request.principal?.keyId ?? 'anonymous';

  app.get(
    '/v1/admin/versions',
    {
      ...audited(() => ({ action: 'admin.versions' })),
      schema: {
        ...common,
        operationId: 'listVersions',
        summary:
          'Model versions in the registry: manifest summary, CURRENT and the version this replica serves.',
        response: { 200: { $ref: 'AdminVersionsResponse#' }, ...errors },
      },
    },
    async () => service().versions(),
  );

  app.post<{ Body: RollbackRequest }>(
    '/v1/admin/rollback',
    {
      ...audited((request) => {
        const body = bodyFields(request);
        return {
          action: 'admin.rollback',
          target: typeof body.to === 'string' ? body.to : null,
          details: { reason_chars: textLength(body.reason) },
        };
      }),
      schema: {
        ...common,
        operationId: 'rollback',
        summary: 'Move CURRENT back one step, or to a named version; serving replicas swap to it.',
        body: { $ref: 'AdminRollbackRequest#' },
        response: { 200: { $ref: 'AdminRollbackResponse#' }, ...errors },
      },
    },
    async (request) => service().rollback(request.body, actor(request)),
  );

  app.post<{ Body: { reason?: string } | undefined }>(
    '/v1/admin/train',
    {
      ...audited((request) => ({
        action: 'admin.train',
        details: { reason_chars: textLength(bodyFields(request).reason) },
      })),
      schema: {
        ...common,
        operationId: 'startTraining',
        summary: 'Start a CheXPO loop run in a child process (202); 409 TRAINER_BUSY while one runs.',
        body: { $ref: 'AdminTrainRequest#' },
        response: { 202: { $ref: 'AdminTrainResponse#' }, ...errors },
      },
      // The body is optional: a bare POST means "train now, no reason given".
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request, reply) => {
      const started = await service().train(actor(request));
      return reply.code(202).send(started);
    },
  );

  app.get<{ Querystring: { limit: number; status?: string } }>(
    '/v1/admin/runs',
    {
      ...audited(() => ({ action: 'admin.runs' })),
      schema: {
        ...common,
        operationId: 'listRuns',
        summary: 'Recent loop runs, most recently started first.',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 200, default: 20 },
            status: { type: 'string', enum: RUN_STATUSES },
          },
        },
        response: { 200: { $ref: 'AdminRunsResponse#' }, ...errors },
      },
    },
    async (request) => service().runs(request.query),
  );

  app.get<{ Params: { id: string } }>(
    '/v1/admin/runs/:id',
    {
      ...audited((request) => ({
        action: 'admin.run',
        target: (request.params as { id?: string }).id ?? null,
      })),
      schema: {
        ...common,
        operationId: 'getRun',
        summary: 'One loop run with its full record (counts, DPO statistics, eval, gate decision).',
        params: {
          type: 'object',
          required: ['id'],
          // As long as the router lets a path parameter be, so every id the schema allows can be fetched.
          properties: { id: { type: 'string', pattern: `^[A-Za-z0-9._:-]{1,${MAX_PARAM_LENGTH}}$` } },
        },
        response: { 200: { $ref: 'AdminRunResponse#' }, ...errors },
      },
    },
    async (request) => service().run(request.params.id),
  );
}
