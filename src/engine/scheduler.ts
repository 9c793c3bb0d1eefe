/**
 * Iteration-level batching inside one worker. Requests wait in `pending`; between two decode steps
 * the waiting ones (up to maxBatch live rows) are encoded together, prefilled together and merged
 * into the running batch, so a new request never waits for a long report to finish. Each iteration:
 *
 *   1. yield to the event loop (new requests and cancels arrive as messages)
 *   2. drop cancelled rows (their cache rows are gathered away) and cancelled pending requests
 *   3. admit pending requests: encode → prefill → merge. Into a running batch they join in groups
 *      (once `joinGroup` can join together, or `joinEverySteps` steps after the last join): each join costs an
 *      encode, a prefill and a copy of the whole KV cache, nearly as much for a group as for one.
 *   4. choose one token per row (greedy); finish rows at <eos> or their token budget
 *   5. one decode step for the rows still running
 */
import { setImmediate as yieldToEvents } from 'node:timers/promises';
import {
  chooseTokens,
  type DecodeBatch,
  type DecodeRow,
  encodeImages,
  type GeneratedToken,
  prefill,
  step,
} from '../inference/generate.ts';
import { taskTypeOf } from '../inference/prompt.ts';
import { clampUnit } from '../inference/risk.ts';
import { scoreAnswer } from '../inference/spans.ts';
import { keepRowsTrimmed, mergeBatches } from './merge.ts';
import type { PreparedRequest } from './prepare.ts';
import { type InferenceRequest, now, type WorkerAnswer } from './protocol.ts';
import type { ModelRuntime } from './runtime.ts';

interface Job {
  id: number;
  request: InferenceRequest;
  prepared: PreparedRequest;
  preprocessMs: number;
  encodeMs: number;
  generateStart: number;
  firstTokenAt: number;
  embedding: Float32Array;
  oodScore: number;
  maxTokens: number;
}

/** When waiting requests join a running batch. */
export interface JoinPolicy {
  /** Join as soon as this many can join together (waiting, and rows free for them)… */
  joinGroup: number;
  /** …or once this many decode steps ran since the last join (someone waiting). */
  joinEverySteps: number;
}

export interface SchedulerEvents {
  done(id: number, answer: WorkerAnswer): void;
  failed(id: number, error: unknown): void;
  batch(stage: 'encode' | 'decode', size: number): void;
}

/** A fresh batch starts at once; a running one (live > 0) takes joiners in groups. */
export function shouldJoin(
  state: { live: number; maxBatch: number; waiting: number; stepsSinceJoin: number },
  policy: JoinPolicy,
): boolean {
  const { live, maxBatch, waiting, stepsSinceJoin } = state;
  if (waiting === 0) return false;
  if (live === 0) return true;
  const free = maxBatch - live;
  if (free <= 0) return false;
  // The group that would join now: whoever waits, up to the free rows.
  const group = Math.min(waiting, free);
  return group >= Math.min(policy.joinGroup, maxBatch) || stepsSinceJoin >= policy.joinEverySteps;
}

export class Scheduler {
  private readonly pending: Job[] = [];
  private readonly jobs = new Map<number, Job>();
  private readonly cancelled = new Set<number>();
  private active: DecodeBatch | null = null;
  private running = false;
  private readonly safePointActions: (() => void)[] = [];
  private stepsSinceJoin = 0;
  /** Tests: set by pause(), the loop parks at its safe point until resume(). */
  private paused: { parked: Promise<void>; resume(): void } | null = null;
  private parked = false;

  private readonly rt: ModelRuntime;
  private readonly maxBatch: number;
  private readonly defaultMaxTokens: number;
  private readonly events: SchedulerEvents;
  private readonly join: JoinPolicy;
  constructor(
    rt: ModelRuntime,
    maxBatch: number,
    defaultMaxTokens: number,
    events: SchedulerEvents,
    join: JoinPolicy = { joinGroup: 1, joinEverySteps: 0 },
  ) {
    this.rt = rt;
    this.maxBatch = maxBatch;
    this.defaultMaxTokens = defaultMaxTokens;
    this.events = events;
    this.join = join;
  }

  submit(id: number, request: InferenceRequest, prepared: PreparedRequest, preprocessMs: number): void {
    const { maxSeqLen } = this.rt.config;
    const p = prepared.promptIds.length;
    // Generating n tokens feeds n − 1 back at positions p … p + n − 2, which must stay < maxSeqLen.
    // Reports are long (one sentence per finding, up to ~200 tokens): their default budget is the model's room.
    const fallback = request.task === 'report' ? maxSeqLen : this.defaultMaxTokens;
    const maxTokens = Math.max(1, Math.min(request.maxTokens ?? fallback, maxSeqLen - p + 1));
    const job: Job = {
      id,
      request,
      prepared,
      preprocessMs,
      encodeMs: 0,
      generateStart: 0,
      firstTokenAt: 0,
      embedding: new Float32Array(0),
      oodScore: 0,
      maxTokens,
    };
    this.jobs.set(id, job);
    this.pending.push(job);
    if (!this.running) void this.run();
  }

  cancel(id: number): void {
    if (this.jobs.has(id)) this.cancelled.add(id);
  }

  /**
   * Runs `action` where no ORT call is in flight: at once when idle, else at the top of the next
   * iteration. (Ending the thread while onnxruntime-node's async run is pending aborts the whole
   * process: its completion callback throws into a torn-down environment.)
   */
  atSafePoint(action: () => void): void {
    if (!this.running || this.parked) action();
    else this.safePointActions.push(action);
  }

  /**
   * Tests: stop before the next ORT call and hold every request (new ones queue) until resume(),
   * so a test can have a known set of requests in flight regardless of machine speed.
   */
  pause(): void {
    if (this.paused) return;
    let resume = (): void => {};
    const parked = new Promise<void>((resolve) => {
      resume = resolve;
    });
    this.paused = { parked, resume };
  }

  resume(): void {
    this.paused?.resume();
    this.paused = null;
  }

  /** Live rows plus waiting requests. */
  get load(): number {
    return this.jobs.size;
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.pending.length > 0 || this.active) {
        await yieldToEvents();
        for (const action of this.safePointActions.splice(0)) action();
        while (this.paused) {
          this.parked = true;
          await this.paused.parked;
          this.parked = false;
        }
        try {
          this.dropCancelled();
          await this.admit();
          if (this.active) await this.iterate(this.active);
        } catch (error) {
          this.failBatch(error);
        }
      }
    } finally {
      this.running = false;
      // Actions queued during the last iteration's ORT call: nothing is in flight now.
      for (const action of this.safePointActions.splice(0)) action();
    }
  }

  private dropCancelled(): void {
    if (this.cancelled.size === 0) return;
    for (let i = this.pending.length - 1; i >= 0; i--) {
      if (this.cancelled.has(this.pending[i].id)) this.pending.splice(i, 1);
    }
    if (this.active) {
      const keep = this.active.rows.flatMap((row, r) => (this.cancelled.has(row.request) ? [] : [r]));
      this.active = keep.length > 0 ? keepRowsTrimmed(this.active, keep) : null;
    }
    for (const id of this.cancelled) this.jobs.delete(id);
    this.cancelled.clear();
  }

  /**
   * Takes waiting requests in arrival order into one joining group, up to the free rows. Rows are
   * right-aligned and the columns no live row attends to are trimmed whenever rows leave, so the
   * batch is only as long as its longest live row; what must fit the graphs' table (imageTokens +
   * maxSeqLen) is each row's own span at its last step. A group's prefill pads shorter prompts to the
   * longest one (between the image and the text, where no trim reaches), so a member's span is
   * imageTokens + the group's longest prompt + its remaining budget: the group stops before the
   * first request that would break that for any member, and that request heads the next group.
   * (The previous check reserved the current length + the largest remaining budget of the whole
   * batch: reports, whose budget reaches the end of the table, could not join a running batch and
   * blocked the queue behind them — 1.9 rows per decode step at 32 concurrent requests.)
   */
  private takeJoining(): Job[] {
    const { imageTokens, maxSeqLen } = this.rt.config;
    const free = this.maxBatch - (this.active?.rows.length ?? 0);
    const joining: Job[] = [];
    let longestPrompt = 0;
    for (const job of this.pending) {
      if (joining.length >= free) break;
      const prompt = Math.max(longestPrompt, job.prepared.promptIds.length);
      const fits = [...joining, job].every(
        (j) => imageTokens + prompt + j.maxTokens - 1 <= imageTokens + maxSeqLen,
      );
      if (!fits) break;
      joining.push(job);
      longestPrompt = prompt;
    }
    this.pending.splice(0, joining.length);
    return joining;
  }

  private joinNow(): boolean {
    return shouldJoin(
      {
        live: this.active?.rows.length ?? 0,
        maxBatch: this.maxBatch,
        waiting: this.pending.length,
        stepsSinceJoin: this.stepsSinceJoin,
      },
      this.join,
    );
  }

  private async admit(): Promise<void> {
    if (!this.joinNow()) return;
    const joining = this.takeJoining();
    if (joining.length === 0) return;
    this.stepsSinceJoin = 0;
    const started = now();
    const encoded = await encodeImages(
      this.rt.sessions.encoder,
      this.rt.config,
      joining.map((j) => j.prepared.input),
    );
    const encodeMs = now() - started;
    this.events.batch('encode', joining.length);
    const rows: DecodeRow[] = joining.map((job, i) => {
      job.encodeMs = encodeMs;
      job.generateStart = now();
      job.embedding = encoded.embeddings[i];
      job.oodScore = this.rt.ood(job.embedding, job.prepared.input);
      // The version's operating point applies to questions (yes/no ones; the bias itself skips open values).
      const bias = this.rt.answerBias;
      const question = job.request.task === 'vqa' && !(job.request.options && job.request.options.length > 0);
      return {
        request: job.id,
        promptLength: job.prepared.promptIds.length,
        maxTokens: job.maxTokens,
        ids: [],
        tokens: [],
        ...(bias && question ? { processors: [bias] } : {}),
      };
    });
    const fresh = await prefill(
      this.rt.sessions,
      this.rt.config,
      encoded.imageTokens,
      rows,
      joining.map((j) => j.prepared.promptIds),
    );
    this.active = this.active ? mergeBatches(this.active, fresh) : fresh;
  }

  private async iterate(batch: DecodeBatch): Promise<void> {
    this.stepsSinceJoin++;
    this.events.batch('decode', batch.rows.length);
    const topLogprobs = Math.max(
      0,
      ...batch.rows.map((r) => this.jobs.get(r.request)?.request.topLogprobs ?? 0),
    );
    const chosen = chooseTokens(batch, this.rt.processors, topLogprobs);
    const keep: number[] = [];
    const at = now();
    batch.rows.forEach((row, r) => {
      row.ids.push(chosen[r].id);
      row.tokens.push(chosen[r]);
      const job = this.jobs.get(row.request);
      if (job && row.ids.length === 1) job.firstTokenAt = at;
      const stop = chosen[r].id === this.rt.tokenizer.eosId || row.ids.length >= row.maxTokens;
      if (!stop) keep.push(r);
      else if (job) this.finish(job, row.tokens);
    });
    // Finished rows leave: trim the columns only they attended to, so the batch tracks its longest live row.
    const kept = keep.length === batch.rows.length ? batch : keepRowsTrimmed(batch, keep);
    this.active = keep.length > 0 ? await step(this.rt.sessions, this.rt.config, kept) : null;
  }

  private finish(job: Job, tokens: GeneratedToken[]): void {
    this.jobs.delete(job.id);
    try {
      const { request, prepared } = job;
      const scored = scoreAnswer(
        this.rt.tokenizer,
        tokens,
        request.task,
        request.options,
        request.topLogprobs,
      );
      const taskType = taskTypeOf(request.task, request.options, scored.shortAnswer);
      const risk = clampUnit(
        this.rt.risk({
          ...scored.confidence,
          task: taskType,
          unknown_word_rate: prepared.unknownWordRate,
          ood_score: job.oodScore,
        }),
      );
      this.events.done(job.id, {
        answer: scored.answer,
        answerSpan: scored.answerSpan,
        tokens: scored.tokens,
        confidence: scored.confidence,
        risk,
        taskType,
        prompt: prepared.prompt,
        unknownWordRate: prepared.unknownWordRate,
        oodScore: job.oodScore,
        embedding: job.embedding,
        imageSha256: prepared.imageSha256,
        ...(prepared.imagePng ? { imagePng: prepared.imagePng } : {}),
        timings: { preprocess: job.preprocessMs, encode: job.encodeMs, generate: now() - job.generateStart },
        firstTokenAt: job.firstTokenAt,
        finishReason: tokens.at(-1)?.id === this.rt.tokenizer.eosId ? 'stop' : 'length',
        promptTokens: this.rt.config.imageTokens + prepared.promptIds.length,
        completionTokens: tokens.length,
      });
    } catch (error) {
      this.events.failed(job.id, error);
    }
  }

  /**
   * A failed ORT call poisons the batch it ran on: its rows and the requests that were joining it fail;
   * requests still waiting in the queue were not part of it and stay queued. The worker carries on.
   */
  private failBatch(error: unknown): void {
    const waiting = new Set(this.pending.map((job) => job.id));
    this.active = null;
    for (const id of [...this.jobs.keys()]) {
      if (waiting.has(id)) continue;
      this.events.failed(id, error);
      this.jobs.delete(id);
      this.cancelled.delete(id);
    }
  }
}
