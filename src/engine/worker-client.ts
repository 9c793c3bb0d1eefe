/**
 * The main thread's handle on one inference worker: starts it (resolves once it is warmed up),
 * forwards requests and cancellations, and settles each request from the worker's reply. When the
 * worker dies (crash, terminate, uncaught error) every request it held fails with WORKER_FAILED and
 * `onExit` tells the pool, which replaces it.
 */
import type { Worker } from 'node:worker_threads';
import { EngineError, fromWire } from './errors.ts';
import {
  type InferenceRequest,
  type MainToWorker,
  now,
  type WorkerAnswer,
  type WorkerInit,
  type WorkerToMain,
} from './protocol.ts';
import { startTsWorker } from './ts-worker.ts';

const WORKER_URL = new URL('./worker.ts', import.meta.url);

interface InFlight {
  resolve(answer: WorkerAnswer): void;
  reject(error: unknown): void;
  dispose(): void;
}

export interface WorkerClientHooks {
  onBatch?(stage: 'encode' | 'decode', size: number): void;
  /** Called once when the worker is gone after it was ready (not for a failed start). */
  onExit?(client: WorkerClient, expected: boolean): void;
}

let nextRequestId = 1;

export class WorkerClient {
  private readonly worker: Worker;
  private readonly inFlight = new Map<number, InFlight>();
  private stopping = false;
  private ready = false;
  /** Rows of the worker's latest decode step. */
  private decoding = 0;
  private exited = false;
  readonly started: Promise<{ warmupMs: number }>;

  private readonly hooks: WorkerClientHooks;
  constructor(init: WorkerInit, hooks: WorkerClientHooks = {}) {
    this.hooks = hooks;
    this.worker = startTsWorker(WORKER_URL, init);
    this.started = new Promise((resolve, reject) => {
      this.worker.on('message', (message: WorkerToMain) => {
        if (message.type === 'ready') {
          this.ready = true;
          resolve({ warmupMs: message.warmupMs });
        } else if (message.type === 'load_failed') {
          reject(new EngineError('ENGINE_LOAD_FAILED', `${message.error.code}: ${message.error.message}`));
          // The worker exits by itself (worker.ts); terminate only one that has not after a while.
          setTimeout(() => {
            if (!this.exited) void this.worker.terminate();
          }, 5000).unref();
        } else this.onMessage(message);
      });
      this.worker.on('error', (error) => {
        if (!this.ready) reject(new EngineError('ENGINE_LOAD_FAILED', error.message, { cause: error }));
        this.failAll(error);
      });
      this.worker.on('exit', (code) => {
        this.exited = true;
        if (!this.ready)
          reject(new EngineError('ENGINE_LOAD_FAILED', `worker exited with code ${code} while loading`));
        this.failAll(new Error(`worker exited with code ${code}`));
        if (this.ready) this.hooks.onExit?.(this, this.stopping);
      });
    });
    this.started.catch(() => {});
  }

  /** Requests sent and not yet settled. */
  get load(): number {
    return this.inFlight.size;
  }

  /** Requests in the worker's decode batch: its latest decode step, less those settled since. */
  get running(): number {
    return Math.min(this.decoding, this.inFlight.size);
  }

  get alive(): boolean {
    return this.ready && !this.exited && !this.stopping;
  }

  answer(request: Omit<InferenceRequest, 'submittedAt'>, signal?: AbortSignal): Promise<WorkerAnswer> {
    if (!this.alive) return Promise.reject(new EngineError('WORKER_FAILED', 'the worker is not serving'));
    const id = nextRequestId++;
    return new Promise<WorkerAnswer>((resolve, reject) => {
      const onAbort = (): void => {
        this.inFlight.get(id)?.dispose();
        this.inFlight.delete(id);
        this.send({ type: 'cancel', id });
        reject(signal?.reason);
      };
      if (signal?.aborted) return reject(signal.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.inFlight.set(id, {
        resolve,
        reject,
        dispose: () => signal?.removeEventListener('abort', onAbort),
      });
      this.send({ type: 'answer', id, request: { ...request, submittedAt: now() } });
    });
  }

  /** Resolves when every in-flight request has settled. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0 && !this.exited) await new Promise((r) => setTimeout(r, 5));
  }

  /** Stops the thread (its sessions go with it: no reliance on session.release()). */
  async terminate(): Promise<void> {
    this.stopping = true;
    if (!this.exited) await this.worker.terminate();
  }

  /**
   * Tests: the thread dies as a crash would (not marked as expected), with its requests in flight.
   * It exits at its next point between two ORT calls: ending it during one would abort the process.
   */
  async crashForTest(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise((resolve) => this.worker.once('exit', resolve));
    this.send({ type: 'crash' });
    await exited;
  }

  /** Tests: the worker holds its requests before their next ORT call until resumeForTest(). */
  pauseForTest(): void {
    this.send({ type: 'pause' });
  }

  resumeForTest(): void {
    if (!this.exited) this.send({ type: 'resume' });
  }

  private send(message: MainToWorker): void {
    try {
      this.worker.postMessage(message);
    } catch (error) {
      this.settle(message.type === 'answer' ? message.id : -1, undefined, error);
    }
  }

  private onMessage(message: WorkerToMain): void {
    if (message.type === 'batch') {
      if (message.stage === 'decode') this.decoding = message.size;
      this.hooks.onBatch?.(message.stage, message.size);
    } else if (message.type === 'result') this.settle(message.id, message.answer);
    else if (message.type === 'failed') this.settle(message.id, undefined, fromWire(message.error));
  }

  private settle(id: number, answer?: WorkerAnswer, error?: unknown): void {
    const entry = this.inFlight.get(id);
    if (!entry) return;
    this.inFlight.delete(id);
    entry.dispose();
    if (answer) entry.resolve(answer);
    else entry.reject(error);
  }

  private failAll(cause: unknown): void {
    for (const [id, entry] of this.inFlight) {
      this.inFlight.delete(id);
      entry.dispose();
      entry.reject(
        new EngineError('WORKER_FAILED', 'the inference worker failed; the request may be retried', {
          cause,
        }),
      );
    }
  }
}
