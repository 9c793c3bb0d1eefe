/**
 * The workers serving one model version. Requests go to the least-loaded live worker; a worker that
 * dies unexpectedly is replaced by a fresh one (loaded and warmed up like the first). `retire()`
 * drains the in-flight requests and then terminates every thread.
 */
import { EngineError } from './errors.ts';
import type { InferenceRequest, WorkerAnswer, WorkerInit } from './protocol.ts';
import { WorkerClient, type WorkerClientHooks } from './worker-client.ts';

export interface PoolEvents {
  onBatch?(stage: 'encode' | 'decode', size: number): void;
  /** Live worker count changed. */
  onHealth?(healthy: number): void;
  onRestart?(): void;
  onReplaceFailed?(error: unknown): void;
}

export class WorkerPool {
  private readonly clients: WorkerClient[] = [];
  private retired = false;

  readonly version: string;
  private readonly init: WorkerInit;
  private readonly events: PoolEvents;
  private constructor(version: string, init: WorkerInit, events: PoolEvents) {
    this.version = version;
    this.init = init;
    this.events = events;
  }

  /** Starts `size` workers; resolves when all are warmed up, rejects (terminating the rest) if any fails. */
  static async start(
    version: string,
    init: WorkerInit,
    size: number,
    events: PoolEvents = {},
  ): Promise<WorkerPool> {
    const pool = new WorkerPool(version, init, events);
    const clients = Array.from({ length: size }, () => pool.spawn());
    const settled = await Promise.allSettled(clients.map((c) => c.started));
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) {
      // Every worker has finished loading (or failing) first: terminating one that is still inside
      // onnxruntime's session create can abort the process.
      pool.retired = true;
      await Promise.all(clients.map((c) => c.terminate()));
      throw failed.reason;
    }
    pool.clients.push(...clients);
    return pool;
  }

  get healthy(): number {
    return this.clients.filter((c) => c.alive).length;
  }

  get load(): number {
    return this.clients.reduce((sum, c) => sum + c.load, 0);
  }

  /** Requests decoding now, over the workers (see WorkerClient.running). */
  get running(): number {
    return this.clients.reduce((sum, c) => sum + c.running, 0);
  }

  /** Worker handles, for tests that kill one. */
  get workers(): readonly WorkerClient[] {
    return this.clients;
  }

  answer(request: Omit<InferenceRequest, 'submittedAt'>, signal?: AbortSignal): Promise<WorkerAnswer> {
    const live = this.clients.filter((c) => c.alive);
    if (live.length === 0)
      return Promise.reject(new EngineError('WORKER_FAILED', 'no live inference worker'));
    const target = live.reduce((best, c) => (c.load < best.load ? c : best));
    return target.answer(request, signal);
  }

  /** Waits for in-flight requests, then terminates every worker. */
  async retire(): Promise<void> {
    this.retired = true;
    await Promise.all(this.clients.map((c) => c.drain()));
    await Promise.all(this.clients.map((c) => c.terminate()));
    this.events.onHealth?.(0);
  }

  private spawn(): WorkerClient {
    const hooks: WorkerClientHooks = {
      onBatch: this.events.onBatch,
      onExit: (client, expected) => {
        if (!expected && !this.retired) void this.replace(client);
      },
    };
    return new WorkerClient(this.init, hooks);
  }

  /** Starts a worker in place of a dead one; a failed start is retried with backoff (1 s … 30 s). */
  private async replace(dead: WorkerClient, attempt = 0): Promise<void> {
    this.events.onRestart?.();
    this.events.onHealth?.(this.healthy);
    const fresh = this.spawn();
    try {
      await fresh.started;
    } catch (error) {
      this.events.onReplaceFailed?.(error);
      if (!this.retired)
        setTimeout(() => void this.replace(dead, attempt + 1), Math.min(30_000, 1000 * 2 ** attempt)).unref();
      return;
    }
    if (this.retired) {
      await fresh.terminate();
      return;
    }
    const at = this.clients.indexOf(dead);
    if (at >= 0) this.clients[at] = fresh;
    else this.clients.push(fresh);
    this.events.onHealth?.(this.healthy);
  }
}
