/**
 * The audit log: one JSON line per admin action and per feedback, appended to CHEXPO_AUDIT_LOG.
 *
 *   {"time":"2025-…Z","actor":"3f2a…","action":"admin.rollback","target":"v0001","outcome":"ok",
 *    "status":200,"http_request":"req-7","details":{"reason_chars":24}}
 *
 * What goes in: the API key's id (first 12 hex of its SHA-256, never the key), the action, its
 * target (a version, a run id, or the sha256 of a feedback's request_id, as the hard-example store
 * keeps it), the outcome and small numeric or enum details. What never goes in: keys, request
 * bodies, free text (feedback comments, corrected answers and admin reasons are reduced to their
 * length), anything from an image.
 *
 * The file is opened with O_APPEND ('a'), so each write lands at the end even with several writers;
 * lines queued meanwhile go out in one write followed by fdatasync. A failed write is logged and
 * counted, the file is reopened on the next entry, and no caller ever sees an exception: auditing
 * must not take serving down.
 */
import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Metrics } from './metrics.ts';

export type AuditOutcome = 'ok' | 'refused' | 'failed';
export type AuditDetail = string | number | boolean | null;

export interface AuditEntry {
  /** Dotted action name, e.g. `admin.rollback`, `feedback`, `trainer.run`. */
  action: string;
  /** API key id, or a system actor (`scheduler`). */
  actor: string;
  outcome: AuditOutcome;
  target?: string | null;
  /** HTTP status of the answer, for HTTP actions. */
  status?: number;
  /** fastify's request id, to find the matching server log lines. */
  http_request?: string;
  details?: Record<string, AuditDetail>;
}

export interface AuditLogOptions {
  path: string;
  metrics?: Metrics;
  log?: (message: string, details: Record<string, unknown>) => void;
  now?: () => Date;
  /** Entries waiting for the disk beyond this are dropped (counted as failures). Default 10 000. */
  maxPending?: number;
  /** Window over which repeated refusals are folded into one summary line. Default 60 s. */
  refusalWindowMs?: number;
}

/** Shapes an audit field may take: ids, versions, hashes, enum words. Anything else is replaced. */
const TOKEN = /^[A-Za-z0-9._:-]{1,128}$/;
const ACTION = /^[a-z][a-z_]*(\.[a-z_]+)*$/;
const DETAIL_KEY = /^[a-z][a-z0-9_]{0,39}$/;
const MAX_DETAILS = 16;
/** Distinct refusal kinds tracked per window; further kinds share one `other` summary. */
const MAX_REFUSAL_KINDS = 256;

/**
 * The entry with every field in a known shape: text that is not an id-like token (an attacker's
 * rollback target, a forged header value) becomes `"[invalid]"`, unknown detail keys and values
 * that are neither numbers, booleans, null nor tokens are left out.
 */
export function shapeEntry(entry: AuditEntry): AuditEntry {
  const token = (value: string | null | undefined): string | null | undefined =>
    value === undefined || value === null ? value : TOKEN.test(value) ? value : '[invalid]';
  const details: Record<string, AuditDetail> = {};
  for (const [key, value] of Object.entries(entry.details ?? {}).slice(0, MAX_DETAILS)) {
    if (!DETAIL_KEY.test(key)) continue;
    if (value === null || typeof value === 'boolean') details[key] = value;
    else if (typeof value === 'number' && Number.isFinite(value)) details[key] = value;
    else if (typeof value === 'string') details[key] = token(value) ?? null;
  }
  const shaped: AuditEntry = {
    action: ACTION.test(entry.action) && entry.action.length <= 64 ? entry.action : 'unknown',
    actor: token(entry.actor) ?? 'unknown',
    outcome: entry.outcome === 'ok' || entry.outcome === 'refused' ? entry.outcome : 'failed',
  };
  if (entry.target !== undefined) shaped.target = token(entry.target);
  if (Number.isInteger(entry.status)) shaped.status = entry.status;
  if (entry.http_request !== undefined) shaped.http_request = token(entry.http_request) ?? undefined;
  if (entry.details !== undefined) shaped.details = details;
  return shaped;
}

/**
 * Refusals that a flood produces (unauthenticated, over the rate limit): the first of each kind
 * (action, actor, status) in a window is written in full, the rest are counted and written as one
 * summary line when the window closes, so a flood costs a bounded number of lines per window and
 * never crowds real entries out of the queue.
 */
export function isFloodRefusal(entry: AuditEntry): boolean {
  return entry.outcome === 'refused' && (entry.actor === 'anonymous' || entry.status === 429);
}

type Handle = Awaited<ReturnType<typeof open>>;

export class AuditLog {
  private readonly options: AuditLogOptions;
  private handle: Handle | null = null;
  private pending: { line: string; done: () => void }[] = [];
  private writing: Promise<void> | null = null;
  private closed = false;
  /** Refusal kinds seen in the current window, with how many were folded (not written). */
  private refusals = new Map<string, { entry: AuditEntry; folded: number }>();
  private refusalTimer: NodeJS.Timeout | null = null;
  private windowStart = 0;

  constructor(options: AuditLogOptions) {
    this.options = options;
  }

  get path(): string {
    return this.options.path;
  }

  /** Appends one entry; resolves once it is on disk or has failed (never rejects). */
  record(raw: AuditEntry): Promise<void> {
    const entry = shapeEntry(raw);
    if (!this.closed && isFloodRefusal(entry) && this.fold(entry)) {
      this.options.metrics?.auditEvents.inc({ action: entry.action, outcome: entry.outcome });
      return Promise.resolve();
    }
    return this.append(entry);
  }

  /** Counts a repeated refusal instead of writing it; false for the first of its kind in the window. */
  private fold(entry: AuditEntry): boolean {
    if (this.refusalTimer === null) {
      this.windowStart = Date.now();
      this.refusalTimer = setTimeout(() => this.closeWindow(), this.options.refusalWindowMs ?? 60_000);
      this.refusalTimer.unref();
    }
    let kind = `${entry.action}|${entry.actor}|${entry.status}`;
    if (!this.refusals.has(kind) && this.refusals.size >= MAX_REFUSAL_KINDS) kind = 'other';
    const seen = this.refusals.get(kind);
    if (seen) {
      seen.folded += 1;
      return true;
    }
    const summary: AuditEntry =
      kind === 'other' ? { action: 'refusals', actor: 'various', outcome: 'refused' } : { ...entry };
    this.refusals.set(kind, { entry: summary, folded: kind === 'other' ? 1 : 0 });
    return kind === 'other';
  }

  /** Writes one summary line per refusal kind that was folded in the window that ends now. */
  private closeWindow(): Promise<void> {
    if (this.refusalTimer) clearTimeout(this.refusalTimer);
    this.refusalTimer = null;
    const windowMs = Date.now() - this.windowStart;
    const summaries = [...this.refusals.values()].filter((r) => r.folded > 0);
    this.refusals = new Map();
    return Promise.all(
      summaries.map(({ entry, folded }) =>
        this.append({
          action: entry.action,
          actor: entry.actor,
          outcome: 'refused',
          ...(entry.status !== undefined ? { status: entry.status } : {}),
          details: { repeated: folded, window_ms: windowMs },
        }),
      ),
    ).then(() => undefined);
  }

  private append(entry: AuditEntry): Promise<void> {
    const { metrics } = this.options;
    if (this.closed || this.pending.length >= (this.options.maxPending ?? 10_000)) {
      this.fail(new Error(this.closed ? 'the audit log is closed' : 'too many entries waiting'), 1);
      return Promise.resolve();
    }
    const line = `${JSON.stringify({ time: (this.options.now?.() ?? new Date()).toISOString(), ...entry })}\n`;
    metrics?.auditEvents.inc({ action: entry.action, outcome: entry.outcome });
    return new Promise((resolve) => {
      this.pending.push({ line, done: resolve });
      this.writing ??= this.drain();
    });
  }

  /** Waits for queued entries, then closes the file. Idempotent. */
  async close(): Promise<void> {
    if (!this.closed) await this.closeWindow();
    while (this.writing) await this.writing;
    this.closed = true;
    const handle = this.handle;
    this.handle = null;
    await handle?.close().catch(() => undefined);
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      try {
        if (!this.handle) {
          await mkdir(dirname(this.options.path), { recursive: true });
          this.handle = await open(this.options.path, 'a', 0o640);
        }
        await this.handle.write(batch.map((b) => b.line).join(''));
        await this.handle.datasync();
      } catch (error) {
        this.fail(error, batch.length);
        const handle = this.handle;
        this.handle = null;
        await handle?.close().catch(() => undefined);
      }
      for (const b of batch) b.done();
    }
    this.writing = null;
  }

  private fail(error: unknown, entries: number): void {
    this.options.metrics?.auditWriteFailures.inc(entries);
    this.options.log?.('audit log write failed', {
      path: this.options.path,
      entries,
      error: error instanceof Error ? error.message : String(error),
    });
  }
}

export function outcomeOf(statusCode: number): AuditOutcome {
  return statusCode < 400 ? 'ok' : statusCode < 500 ? 'refused' : 'failed';
}

/** What a route adds to its audit entry, read once the answer is sent (the body may be invalid). */
export type AuditDescriber = (request: FastifyRequest) => {
  action: string;
  target?: string | null;
  details?: Record<string, AuditDetail>;
};

/**
 * A route-level onResponse hook that audits every answer of the route, refusals included (401/403
 * from the auth hook, validation errors), since the hook runs after any reply.
 */
export function auditHook(audit: AuditLog, describe: AuditDescriber) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    let described: ReturnType<AuditDescriber>;
    try {
      described = describe(request);
    } catch {
      described = { action: 'unknown' };
    }
    await audit.record({
      ...described,
      actor: request.principal?.keyId ?? 'anonymous',
      outcome: outcomeOf(reply.statusCode),
      status: reply.statusCode,
      http_request: request.id,
    });
  };
}

/** The body as an object when it is one (validation may have failed), else empty. */
export function bodyFields(request: FastifyRequest): Record<string, unknown> {
  const body = request.body;
  return body && typeof body === 'object' && !Buffer.isBuffer(body) ? (body as Record<string, unknown>) : {};
}

/** Length of a free-text field, or null when absent: the audit keeps sizes, never the text. */
export function textLength(value: unknown): number | null {
  return typeof value === 'string' ? value.length : null;
}
