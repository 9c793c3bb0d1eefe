/**
 * The one training loop shared by SFT and DPO; they differ only in their loss graph and batch feeds
 * (a TrainingProgram). Steps: (1) assemble feeds = data + every parameter, (2) one ORT run returns the
 * loss, statistics and `grad.<param>`, (3) AdamW with clipping at the scheduled learning rate,
 * (4) log, (5) checkpoint every N steps, (6) evaluate at each epoch's end.
 */
import { existsSync } from 'node:fs';
import { type Feeds, OrtSession, ortTensor } from '../ort/session.ts';
import { type AdamWConfig, type AdamWState, adamWStep, DEFAULT_ADAMW, initAdamW } from './adamw.ts';
import { type LoopPosition, loadCheckpoint, saveCheckpoint } from './checkpoint.ts';
import { type LrSchedule, learningRate } from './schedule.ts';

export interface TrainingProgram<Batch> {
  /** Loss graph with parameters as inputs; outputs `loss` and `grad.<name>` for every parameter. */
  graph: Uint8Array;
  /** The batches of an epoch; must be a pure function of the epoch for exact resumption. */
  batches(epoch: number): Batch[];
  /** Data feeds of one batch (parameters are added by the loop). */
  feeds(batch: Batch): Feeds;
  /** Tokens processed by a batch, for throughput (6 × parameters × tokens FLOPs). */
  tokens(batch: Batch): number;
  /** Extra scalar outputs to log, e.g. DPO rewards; names of graph outputs reduced to their mean. */
  statOutputs?: string[];
}

export interface StepLog {
  step: number;
  epoch: number;
  loss: number;
  lr: number;
  gradNorm: number;
  tokens: number;
  ms: number;
  stats: Record<string, number>;
}

export interface LoopOptions {
  params: Record<string, Float32Array>;
  shapes: Record<string, number[]>;
  epochs: number;
  /** Peak learning rate, warm-up and decay; totalSteps defaults to the whole run. */
  schedule: Omit<LrSchedule, 'totalSteps'> & { totalSteps?: number };
  adamw?: AdamWConfig;
  noDecay?: (name: string) => boolean;
  /** Stop after this many optimiser steps (a time budget or a test); the run can be resumed later. */
  maxSteps?: number;
  checkpointPath?: string;
  checkpointEvery?: number;
  /** Resume from checkpointPath when it exists. */
  resume?: boolean;
  meta?: Record<string, unknown>;
  intraOpThreads?: number;
  onStep?: (log: StepLog) => void;
  /** Called after each completed epoch with the current parameters (validation, plots). */
  onEpochEnd?: (epoch: number, params: Record<string, Float32Array>) => Promise<void>;
}

function mean(data: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < data.length; i++) s += data[i];
  return data.length > 0 ? s / data.length : 0;
}

export async function runTraining<Batch>(
  program: TrainingProgram<Batch>,
  o: LoopOptions,
): Promise<StepLog[]> {
  const session = await OrtSession.create(program.graph, { intraOpThreads: o.intraOpThreads ?? 0 });
  let params = o.params;
  let optimizer: AdamWState = initAdamW(params);
  let position: LoopPosition = { step: 0, epoch: 0, batch: 0 };
  if (o.resume && o.checkpointPath && existsSync(o.checkpointPath)) {
    const c = await loadCheckpoint(o.checkpointPath);
    for (const [name, value] of Object.entries(c.params)) params[name].set(value);
    params = o.params;
    optimizer = c.optimizer;
    position = c.position;
  }
  const stepsPerEpoch = program.batches(0).length;
  const schedule: LrSchedule = {
    ...o.schedule,
    totalSteps: o.schedule.totalSteps ?? stepsPerEpoch * o.epochs,
  };
  // A parameter the loss graph does not use (e.g. the finding head in DPO) gets no gradient output.
  const outputs = new Set(session.outputNames);
  const gradNames = Object.keys(params)
    .map((n) => `grad.${n}`)
    .filter((n) => outputs.has(n));
  const fetches = ['loss', ...gradNames, ...(program.statOutputs ?? [])];
  const logs: StepLog[] = [];
  const save = async () => {
    if (o.checkpointPath)
      await saveCheckpoint(o.checkpointPath, { params, optimizer, position, meta: o.meta ?? {} });
  };

  try {
    for (; position.epoch < o.epochs; position.epoch++, position.batch = 0) {
      const batches = program.batches(position.epoch);
      for (; position.batch < batches.length; position.batch++) {
        if (o.maxSteps !== undefined && position.step >= o.maxSteps) {
          await save();
          return logs;
        }
        const started = performance.now();
        const batch = batches[position.batch];
        const feeds = program.feeds(batch);
        for (const [name, value] of Object.entries(params))
          feeds[name] = ortTensor('float32', value, o.shapes[name]);
        const out = await session.run(feeds, fetches);
        const grads: Record<string, Float32Array> = {};
        for (const name of Object.keys(params))
          if (out[`grad.${name}`]) grads[name] = out[`grad.${name}`].data as Float32Array;
        const lr = learningRate(position.step, schedule);
        const gradNorm = adamWStep(params, grads, optimizer, lr, o.adamw ?? DEFAULT_ADAMW, o.noDecay);
        const stats: Record<string, number> = {};
        for (const s of program.statOutputs ?? []) stats[s] = mean(out[s].data as Float32Array);
        const log: StepLog = {
          step: position.step,
          epoch: position.epoch,
          loss: (out.loss.data as Float32Array)[0],
          lr,
          gradNorm,
          tokens: program.tokens(batch),
          ms: performance.now() - started,
          stats,
        };
        position.step++;
        logs.push(log);
        o.onStep?.(log);
        if (o.checkpointEvery && position.step % o.checkpointEvery === 0) {
          position.batch++;
          await save();
          position.batch--;
        }
      }
      await o.onEpochEnd?.(position.epoch, params);
    }
    await save();
    return logs;
  } finally {
    await session.release();
  }
}
