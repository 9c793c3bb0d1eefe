/**
 * The AdminService over the registry (versions, rollback), the store's runs table and the trainer
 * supervisor. Registry and store errors become catalogue codes here, so the routes stay thin.
 */
import type { ErrorCode } from '../../errors/public.ts';
import type { HistoryEntry, Registry, RegistryErrorCode } from '../../registry/index.ts';
import { RUN_STATUSES, type RunRecord, type RunStatus } from '../../store/index.ts';
import { apiError } from '../errors.ts';
import type { Metrics } from '../metrics.ts';
import type {
  AdminService,
  RollbackRequest,
  RollbackResponse,
  RunResponse,
  RunSummary,
  RunsResponse,
  ScheduleResponse,
  TrainResponse,
  VersionsResponse,
} from '../routes/admin.ts';
import { observeVersionScores, PENDING_HARD_EXAMPLES, parseRecord, primaryScore } from './run-metrics.ts';
import type { RunsStore, TrainerSupervisor } from './supervisor.ts';

export interface RegistryAdminServiceOptions {
  registry: Registry;
  store: () => Promise<RunsStore>;
  /** Absent: POST /v1/admin/train answers TRAINER_DISABLED. */
  trainer?: TrainerSupervisor;
  /** The version the engine serves now. */
  serving?: () => string | null;
  metrics?: Metrics;
}

/** The API answer to each registry code an admin route can meet; any other is ADMIN_UNAVAILABLE. */
const FROM_REGISTRY = new Map<string, ErrorCode>([
  ['REGISTRY_VERSION_NOT_FOUND', 'NOT_FOUND'],
  ['REGISTRY_INVALID_ID', 'INVALID_REQUEST'],
  ['REGISTRY_NO_PREVIOUS', 'ROLLBACK_REFUSED'],
  ['REGISTRY_NO_CURRENT', 'ROLLBACK_REFUSED'],
  ['REGISTRY_VERIFY_FAILED', 'ROLLBACK_REFUSED'],
  ['REGISTRY_CURRENT_INVALID', 'ROLLBACK_REFUSED'],
  ['REGISTRY_MANIFEST_INVALID', 'ROLLBACK_REFUSED'],
] satisfies [RegistryErrorCode, ErrorCode][]);

function registryFailure(error: unknown): Error {
  const code = FROM_REGISTRY.get((error as { code?: string }).code ?? '');
  const message = error instanceof Error ? error.message : String(error);
  if (code) return apiError(code, message, { cause: error });
  return apiError('ADMIN_UNAVAILABLE', 'the model registry cannot be read or written', { cause: error });
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function summarise(run: RunRecord): { summary: RunSummary; record: Record<string, unknown> | null } {
  const doc = parseRecord(run);
  return {
    record: doc as unknown as Record<string, unknown> | null,
    summary: {
      id: run.id,
      status: run.status,
      trigger: doc?.trigger ?? null,
      started_at: iso(run.started_at) ?? '',
      finished_at: iso(run.finished_at),
      base_version: doc?.base_version ?? null,
      candidate_version: doc?.candidate_version ?? null,
      eval: doc?.eval ? { current: finite(doc.eval.current), candidate: finite(doc.eval.candidate) } : null,
      error: doc?.error ?? null,
    },
  };
}

const finite = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);

export class RegistryAdminService implements AdminService {
  private readonly options: RegistryAdminServiceOptions;
  constructor(options: RegistryAdminServiceOptions) {
    this.options = options;
  }

  async versions(): Promise<VersionsResponse> {
    const { registry } = this.options;
    let entries: Awaited<ReturnType<Registry['list']>>;
    let current: string | null;
    try {
      [entries, current] = await Promise.all([registry.list(), registry.current()]);
    } catch (error) {
      throw registryFailure(error);
    }
    const serving = this.options.serving?.() ?? null;
    if (this.options.metrics) observeVersionScores(this.options.metrics, entries, [current, serving]);
    return {
      model: registry.name,
      current,
      serving,
      versions: entries.map((e) => ({
        version: e.version,
        parent: e.manifest?.parent ?? null,
        created_at: e.manifest?.created_at ?? null,
        eval_primary: primaryScore(e.manifest?.eval),
        run_id: e.manifest?.training?.run_id ?? null,
        current: e.version === current,
        serving: e.version === serving,
        error: e.error,
      })),
    };
  }

  async rollback(request: RollbackRequest, actor: string): Promise<RollbackResponse> {
    const move = { reason: request.reason, actor: `admin:${actor}` };
    let entry: HistoryEntry;
    try {
      entry =
        request.to === undefined
          ? await this.options.registry.rollback(move)
          : await this.options.registry.setCurrent(request.to, move);
    } catch (error) {
      throw registryFailure(error);
    }
    this.options.metrics?.loopRollbacks.inc();
    return { from: entry.from, to: entry.to, action: entry.action, at: entry.at };
  }

  async schedule(): Promise<ScheduleResponse> {
    const trainer = this.options.trainer;
    const schedule = trainer?.schedule;
    let pending: number | null = null;
    try {
      pending = await (await this.options.store()).count('hard_examples', PENDING_HARD_EXAMPLES);
    } catch {
      // The store opens once the embedding width is known: nothing pending to show yet.
    }
    const active = trainer?.active ?? null;
    return {
      enabled: trainer?.enabled ?? false,
      next_at: iso(schedule?.nextAt ?? null),
      interval_hours: (schedule?.intervalMs ?? 0) / 3_600_000,
      min_hard_examples: schedule?.minHardExamples ?? 0,
      pending_hard_examples: pending,
      active: active
        ? {
            run_id: active.runId,
            trigger: active.trigger,
            started_at: new Date(active.startedAt).toISOString(),
          }
        : null,
    };
  }

  async train(actor: string): Promise<TrainResponse> {
    const trainer = this.options.trainer;
    if (!trainer) throw apiError('TRAINER_DISABLED');
    const run = trainer.trigger('admin', actor);
    return { run_id: run.runId, trigger: 'admin', started_at: new Date(run.startedAt).toISOString() };
  }

  async runs(options: { limit: number; status?: string }): Promise<RunsResponse> {
    const status = RUN_STATUSES.includes(options.status as RunStatus)
      ? (options.status as RunStatus)
      : undefined;
    const runs = await this.withStore((store) => store.listRuns({ limit: options.limit, status }));
    return {
      active: this.options.trainer?.active?.runId ?? null,
      runs: runs.map((r) => summarise(r).summary),
    };
  }

  async run(id: string): Promise<RunResponse> {
    const run = await this.withStore((store) => store.getRun(id));
    if (!run) throw apiError('NOT_FOUND', `no run ${id}`);
    const { summary, record } = summarise(run);
    return { run: summary, record };
  }

  private async withStore<T>(fn: (store: RunsStore) => Promise<T>): Promise<T> {
    try {
      return await fn(await this.options.store());
    } catch (error) {
      throw apiError('ADMIN_UNAVAILABLE', 'the run store cannot be read', { cause: error });
    }
  }
}
