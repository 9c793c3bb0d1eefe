/**
 * A few preprocessing threads shared by every model version the engine serves (prep-worker.ts).
 * Requests go to the least-loaded thread; a thread that dies fails only its in-flight requests
 * (WORKER_FAILED) and is replaced. Decode errors come back with the image catalogue's codes.
 */
// sharp (libvips) must be loaded by the main thread before any worker loads it: otherwise a terminated
// preprocessing thread unloads the native module and the next one aborts the process (lovell/sharp#2263).
import 'sharp';
import type { Worker } from 'node:worker_threads';
import type { InputGateConfig } from '../data/image/index.ts';
import { EngineError, fromWire } from './errors.ts';
import type { MainToPrep, PreparedImage, PrepToMain } from './protocol.ts';
import { startTsWorker } from './ts-worker.ts';

const PREP_WORKER_URL = new URL('./prep-worker.ts', import.meta.url);

export interface PreparedResult {
  image: PreparedImage;
  ms: number;
}

interface Pending {
  resolve(result: PreparedResult): void;
  reject(error: unknown): void;
}

class PrepThread {
  readonly pending = new Map<number, Pending>();
  readonly worker: Worker;
  readonly ready: Promise<void>;
  exited = false;
  wasReady = false;

  constructor(onExit: (thread: PrepThread) => void) {
    this.worker = startTsWorker(PREP_WORKER_URL, null);
    this.ready = new Promise((resolve, reject) => {
      this.worker.on('message', (message: PrepToMain) => {
        if (message.type === 'ready') {
          this.wasReady = true;
          return resolve();
        }
        const entry = this.pending.get(message.id);
        if (!entry) return;
        this.pending.delete(message.id);
        if (message.type === 'prepared') entry.resolve({ image: message.image, ms: message.ms });
        else entry.reject(fromWire(message.error));
      });
      this.worker.on('error', reject);
      this.worker.on('exit', (code) => {
        this.exited = true;
        reject(new EngineError('ENGINE_LOAD_FAILED', `preprocessing worker exited with code ${code}`));
        for (const entry of this.pending.values())
          entry.reject(
            new EngineError('WORKER_FAILED', 'the preprocessing worker failed; the request may be retried'),
          );
        this.pending.clear();
        onExit(this);
      });
    });
    this.ready.catch(() => {});
  }
}

let nextId = 1;

export class PrepPool {
  private readonly threads: PrepThread[] = [];
  private closed = false;

  private constructor(size: number) {
    for (let i = 0; i < size; i++) this.threads.push(this.spawn());
  }

  /** Starts `size` threads and resolves once all are ready. */
  static async start(size: number): Promise<PrepPool> {
    const pool = new PrepPool(Math.max(1, size));
    await Promise.all(pool.threads.map((t) => t.ready));
    return pool;
  }

  prepare(
    bytes: Uint8Array,
    imageSize: number,
    keepPng: boolean,
    signal?: AbortSignal,
    gate?: InputGateConfig,
  ): Promise<PreparedResult> {
    if (this.closed) return Promise.reject(new EngineError('ENGINE_CLOSED', 'the engine is shutting down'));
    if (signal?.aborted) return Promise.reject(signal.reason);
    const thread = this.threads.reduce((best, t) => (t.pending.size < best.pending.size ? t : best));
    const id = nextId++;
    return new Promise<PreparedResult>((resolve, reject) => {
      // An abort cannot stop a decode midway; the caller stops waiting and the result is dropped.
      const onAbort = (): void => {
        thread.pending.delete(id);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const settle =
        <T>(fn: (value: T) => void) =>
        (value: T): void => {
          signal?.removeEventListener('abort', onAbort);
          fn(value);
        };
      thread.pending.set(id, { resolve: settle(resolve), reject: settle(reject) });
      const message: MainToPrep = {
        type: 'prepare',
        id,
        image: bytes,
        imageSize,
        keepPng,
        ...(gate ? { gate } : {}),
      };
      thread.worker.postMessage(message);
    });
  }

  /** Terminates the threads (call after the inference side has drained). Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }

  private spawn(): PrepThread {
    return new PrepThread((dead) => {
      if (this.closed) return;
      // A thread that never got ready is retried after a pause, not in a tight loop.
      const replace = (): void => {
        const at = this.threads.indexOf(dead);
        if (!this.closed && at >= 0) this.threads[at] = this.spawn();
      };
      if (dead.wasReady) replace();
      else setTimeout(replace, 1000).unref();
    });
  }
}
