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
}

type Handle = Awaited<ReturnType<typeof open>>;

export class AuditLog {
  private readonly options: AuditLogOptions;
  private handle: Handle | null = null;
  private pending: { line: string; done: () => void }[] = [];
  private writing: Promise<void> | null = null;
  private closed = false;

  constructor(options: AuditLogOptions) {
    this.options = options;
  }

  get path(): string {
    return this.options.path;
  }

  /** Appends one entry; resolves once it is on disk or has failed (never rejects). */
  record(entry: AuditEntry): Promise<void> {
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
