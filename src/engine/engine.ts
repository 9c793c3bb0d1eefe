/**
 * The serving engine: one WorkerPool per served model version, admission control, and the version
 * lifecycle — load CURRENT and warm it up before reporting ready; follow CURRENT through
 * registry.watch; swap = start fresh workers on the new version (verified, loaded, warmed up), switch
 * new requests to them, drain the old workers' in-flight requests, terminate the old threads. A
 * version that fails verification, loading or warm-up is never served: the current one stays.
 */

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ImageInfo, type InputGateConfig, type InputWarning, warningRisk } from '../data/image/index.ts';
import type { AnswerTimings, ModelInfo } from '../inference/answer.ts';
import { Registry } from '../registry/index.ts';
import { allocatorWarning } from './allocator.ts';
import { usableCores } from './cpu-budget.ts';
import { EngineError } from './errors.ts';
import { type EngineMetricHandles, type EngineObserver, metricsObserver } from './observer.ts';
import { WorkerPool } from './pool.ts';
import { type PreparedResult, PrepPool } from './prep-pool.ts';
import { now, type WorkerAnswer, type WorkerInit, type WorkerRequest } from './protocol.ts';

export interface EngineOptions {
  /** Registry root (holds <modelName>/<version>/ and <modelName>/CURRENT). */
  registryRoot: string;
  modelName: string;
  /** Worker threads per version; 0 = sized to the machine. */
  workers: number;
  executionProvider: 'cpu' | 'cuda';
  /** Outstanding requests (queued or decoding) beyond which canAdmit() is false. */
  maxQueue: number;
  /** Image decoding/preprocessing threads, shared by all versions; default 1. */
  prepThreads?: number;
  /** Live rows per worker batch; default 16. */
  maxBatch?: number;
  /**
   * Requests join a running batch in groups of this many… Default 1 (join between every two steps):
   * on CPU the encoder and prefill cost grows linearly with the group, so grouping saved nothing and
   * lowered the batch's occupancy (docs/benchmarks.md); it may pay where those batch well (GPU).
   */
  joinGroup?: number;
  /** …or this many decode steps after the last join (default 0). */
  joinEverySteps?: number;
  /** Token budget when a request sets none; default 64 (capped by the model's maxSeqLen). */
  defaultMaxTokens?: number;
  /**
   * The input gate (modality, body part, size refusals; view/colour/uniform/inverted warnings, which
   * raise the risk). Absent: none, every decodable image is answered without warnings.
   */
  inputGate?: InputGateConfig;
  /** Keep a de-identified PNG of each image for hard-example logging; default false. */
  keepImagePng?: boolean;
  /** Follow CURRENT (registry.watch); default true. */
  watch?: boolean;
  pollMs?: number;
  /** What the engine reports as it serves (src/server/metrics.ts `engineObserver` records it). */
  observer?: EngineObserver;
  /**
   * Metric handles to report to instead, through `metricsObserver`, when no observer is given
   * (scripts/bench-swap.ts passes the catalogue's this way).
   */
  metrics?: EngineMetricHandles;
  /** Called once a swap has finished: the new version serves and the old workers are gone. */
  onSwap?: (event: SwapEvent) => void;
  log?: (level: 'info' | 'warn' | 'error', message: string, details?: Record<string, unknown>) => void;
}

/** One completed version change; loadMs covers verify + start + warm-up, drainMs the old workers' drain and exit. */
export interface SwapEvent {
  version: string;
  previous: string | null;
  loadMs: number;
  drainMs: number;
  totalMs: number;
}

export interface EngineAnswer extends WorkerAnswer {
  model: ModelInfo;
  /** What was decoded. */
  image: ImageInfo;
  /** The input gate's warnings; `risk` already includes them (warningRisk). */
  inputWarnings: InputWarning[];
  timings_ms: AnswerTimings;
}

/** Readiness (KServe v2: ready only after load and warm-up), as GET /v2/health/ready reports it. */
export interface ModelStatus {
  ready: boolean;
  model?: ModelInfo;
  /** Why not ready, for humans (e.g. "warming up"). */
  reason?: string;
}

type State = 'idle' | 'loading' | 'ready' | 'no_model' | 'failed' | 'closed';

/** Workers and intra-op threads so that workers × threads ≤ cores. */
export function sizeWorkers(requested: number, cores = usableCores()): { workers: number; threads: number } {
  const workers = requested > 0 ? requested : Math.max(1, Math.floor(cores / 2));
  return { workers, threads: Math.max(1, Math.floor(cores / workers)) };
}

export class Engine {
  private registry: Registry | null = null;
  private pool: WorkerPool | null = null;
  private state: State = 'idle';
  private reason = 'not started';
  private outstanding = 0;
  private swapChain: Promise<unknown> = Promise.resolve();
  private unwatch: (() => void) | null = null;
  private readonly size: { workers: number; threads: number };
  private servedEmbeddingDim: number | undefined;
  private prep: PrepPool | null = null;
  /** Requests between admission and their hand-over to an inference worker. */
  private readonly submitting = new Set<Promise<unknown>>();
  /** Each pool's model input side, which the preprocessing must match. */
  private readonly imageSizes = new WeakMap<WorkerPool, number>();

  private readonly options: EngineOptions;
  private readonly observer: EngineObserver | undefined;
  private constructor(options: EngineOptions) {
    this.options = options;
    this.observer = options.observer ?? (options.metrics ? metricsObserver(options.metrics) : undefined);
    this.size = sizeWorkers(options.workers);
  }

  /** An engine that has loaded nothing yet (status: not ready); call start(). */
  static create(options: EngineOptions): Engine {
    return new Engine(options);
  }

  /** create() + start(). */
  static async start(options: EngineOptions): Promise<Engine> {
    const engine = new Engine(options);
    await engine.start();
    return engine;
  }

  /**
   * Loads and warms up CURRENT, then watches it. Without a CURRENT the engine stays not ready and
   * loads the first version that appears. Never throws for a bad version: status() says why.
   */
  async start(): Promise<void> {
    this.state = 'loading';
    this.reason = 'loading and warming up the model';
    const warning = allocatorWarning();
    if (warning) this.log('warn', warning);
    let current: string | null;
    try {
      this.registry = await Registry.open(this.options.registryRoot, this.options.modelName);
      current = await this.registry.current();
      this.prep = await PrepPool.start(this.options.prepThreads ?? 1);
    } catch (error) {
      this.setNotReady('failed', `the model registry cannot be read: ${(error as Error).message}`);
      throw error;
    }
    if (current) await this.swap(current);
    else this.setNotReady('no_model', `no CURRENT version of ${this.options.modelName} in the registry`);
    if (this.options.watch ?? true) {
      this.unwatch = this.registry.watch(
        (change) => {
          if (change.version) void this.swap(change.version);
        },
        {
          since: this.pool?.version ?? current,
          pollMs: this.options.pollMs,
          onError: (error) => this.log('warn', 'registry watch failed', { error: String(error) }),
        },
      );
    }
  }

  status(): ModelStatus {
    const model = this.model;
    // Not ready while no worker of the serving version is alive, so load balancers route elsewhere.
    if (this.state === 'ready' && model && this.pool?.healthy === 0)
      return { ready: false, reason: 'no live inference worker', model };
    return this.state === 'ready' && model
      ? { ready: true, model }
      : { ready: false, reason: this.reason, ...(model ? { model } : {}) };
  }

  get model(): ModelInfo | undefined {
    return this.pool ? { name: this.options.modelName, version: this.pool.version } : undefined;
  }

  /** Width of the served version's image embedding (the store's vector width), once one is loaded. */
  get embeddingDim(): number | undefined {
    return this.servedEmbeddingDim;
  }

  /** The serving pool (tests kill its workers). */
  get servingPool(): WorkerPool | null {
    return this.pool;
  }

  canAdmit(): boolean {
    return this.state === 'ready' && this.outstanding < this.options.maxQueue;
  }

  async answer(request: Omit<WorkerRequest, 'submittedAt'>, signal?: AbortSignal): Promise<EngineAnswer> {
    if (this.state === 'closed') throw new EngineError('ENGINE_CLOSED', 'the engine is shutting down');
    if (!this.pool) throw new EngineError('MODEL_NOT_READY', this.reason);
    if (this.outstanding >= this.options.maxQueue)
      throw new EngineError('QUEUE_FULL', 'the inference queue is full');
    const started = now();
    this.setOutstanding(this.outstanding + 1);
    try {
      const { image: bytes, ...fields } = request;
      // Preprocessing, up to the hand-over to an inference worker, is tracked so that close() lets it
      // finish before retiring the workers (a full-size film takes longer to decode than a drain).
      const submitted = this.prepare(bytes, signal).then((prepared) => ({
        ...prepared,
        answered: prepared.pool.answer(
          { ...fields, image: prepared.image, preprocessMs: prepared.ms },
          signal,
        ),
      }));
      this.submitting.add(submitted);
      void submitted.then(
        () => this.submitting.delete(submitted),
        () => this.submitting.delete(submitted),
      );
      const { pool, image, answered } = await submitted;
      const answer = await answered;
      const total = now() - started;
      const { preprocess, encode, generate } = answer.timings;
      this.observe(request.task, answer, (answer.firstTokenAt - started) / 1000);
      return {
        ...answer,
        risk: warningRisk(answer.risk, image.warnings),
        image: image.info,
        inputWarnings: image.warnings,
        model: { name: this.options.modelName, version: pool.version },
        timings_ms: {
          queue: Math.max(0, total - preprocess - encode - generate),
          preprocess,
          encode,
          generate,
          total,
        },
      };
    } finally {
      this.setOutstanding(this.outstanding - 1);
    }
  }

  /**
   * Decodes and preprocesses off this thread and the inference threads, for the input size of the pool
   * that will run it: a swap to a version with another input size during preprocessing means redoing it.
   */
  private async prepare(
    bytes: Uint8Array,
    signal?: AbortSignal,
  ): Promise<PreparedResult & { pool: WorkerPool }> {
    for (;;) {
      const pool = this.pool;
      if (!pool || !this.prep) throw new EngineError('MODEL_NOT_READY', this.reason);
      const size = this.imageSizes.get(pool)!;
      const prepared = await this.prep.prepare(
        bytes,
        size,
        this.options.keepImagePng ?? false,
        signal,
        this.options.inputGate,
      );
      const serving = this.pool;
      if (serving && this.imageSizes.get(serving) === size) return { ...prepared, pool: serving };
    }
  }

  /** Serves `version` once it verifies, loads and warms up; one swap at a time. Resolves false when refused. */
  swap(version: string): Promise<boolean> {
    const run = this.swapChain.then(() => this.swapNow(version));
    this.swapChain = run.catch(() => undefined);
    return run;
  }

  /** Stops admitting and watching, drains in-flight requests, terminates the workers. Idempotent. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.setNotReady('closed', 'shutting down');
    this.unwatch?.();
    await this.swapChain;
    await Promise.allSettled([...this.submitting]);
    const pool = this.pool;
    await pool?.retire();
    await this.prep?.close();
    this.registry?.close();
  }

  private async swapNow(version: string): Promise<boolean> {
    if (this.state === 'closed' || this.pool?.version === version) return this.pool?.version === version;
    const registry = this.registry!;
    const stage = { current: 'verify' };
    const started = now();
    try {
      const verified = await registry.verify(version);
      if (!verified.ok) {
        throw new EngineError(
          'ENGINE_VERIFY_FAILED',
          `${version}: ${verified.problems.map((p) => JSON.stringify(p)).join('; ')}`,
        );
      }
      stage.current = 'load';
      const dir = registry.versionDir(version);
      const { embeddingDim, imageSize } = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as {
        embeddingDim: number;
        imageSize: number;
      };
      const init: WorkerInit = {
        versionDir: dir,
        executionProvider: this.options.executionProvider,
        intraOpThreads: this.size.threads,
        maxBatch: this.options.maxBatch ?? 16,
        keepImagePng: this.options.keepImagePng ?? false,
        defaultMaxTokens: this.options.defaultMaxTokens ?? 64,
        joinGroup: this.options.joinGroup ?? 1,
        joinEverySteps: this.options.joinEverySteps ?? 0,
      };
      const observer = this.observer;
      const fresh = await WorkerPool.start(version, init, this.size.workers, {
        onBatch: (stage_, size) => {
          observer?.batch?.(stage_, size);
          this.observeOccupancy();
        },
        onHealth: () => {
          if (this.pool) observer?.workersHealthy?.(this.pool.healthy);
        },
        onRestart: () => {
          observer?.workerRestarted?.();
          this.log('warn', 'inference worker died; replacing it', { version });
        },
        onReplaceFailed: (error) =>
          this.log('error', 'could not replace a dead worker', { version, error: String(error) }),
      });
      if (this.closed) {
        await fresh.retire();
        return false;
      }
      const old = this.pool;
      this.imageSizes.set(fresh, imageSize);
      this.pool = fresh;
      this.servedEmbeddingDim = embeddingDim;
      this.state = 'ready';
      this.reason = 'ready';
      observer?.workersHealthy?.(fresh.healthy);
      observer?.versionServed?.(this.options.modelName, version, old?.version);
      this.log('info', old ? 'model version swapped' : 'model version loaded', {
        version,
        previous: old?.version,
      });
      const switchedAt = now();
      await old?.retire();
      const retiredAt = now();
      this.options.onSwap?.({
        version,
        previous: old?.version ?? null,
        loadMs: switchedAt - started,
        drainMs: retiredAt - switchedAt,
        totalMs: retiredAt - started,
      });
      return true;
    } catch (error) {
      this.observer?.versionRefused?.(stage.current);
      this.log('error', 'model version refused; the current one keeps serving', {
        version,
        serving: this.pool?.version ?? null,
        error: error instanceof Error ? error.message : String(error),
      });
      if (!this.pool) this.setNotReady('failed', `version ${version} could not be served`);
      return false;
    }
  }

  private get closed(): boolean {
    return this.state === 'closed';
  }

  private setNotReady(state: State, reason: string): void {
    this.state = state;
    this.reason = reason;
  }

  private setOutstanding(n: number): void {
    this.outstanding = n;
    this.observer?.outstanding?.(n);
    this.observeOccupancy();
  }

  /** Running = in a decode batch; waiting = the rest of the outstanding requests. */
  private observeOccupancy(): void {
    if (!this.observer?.occupancy) return;
    const running = Math.min(this.pool?.running ?? 0, this.outstanding);
    this.observer.occupancy(running, this.outstanding - running);
  }

  private observe(task: string, answer: WorkerAnswer, ttftSeconds: number): void {
    if (!this.observer?.answered) return;
    this.observer.answered(task, {
      tokens: answer.tokens.length,
      probabilities: answer.tokens.map((t) => t.prob),
      firstTokenSeconds: Math.max(0, ttftSeconds),
      ...(answer.completionTokens > 1
        ? {
            tokenIntervalSeconds: Math.max(
              0,
              (now() - answer.firstTokenAt) / 1000 / (answer.completionTokens - 1),
            ),
          }
        : {}),
    });
  }

  private log(level: 'info' | 'warn' | 'error', message: string, details?: Record<string, unknown>): void {
    this.options.log?.(level, message, details);
  }
}
