/**
 * The controls printed beside every evaluation: the same model with images permuted across cases,
 * image-blind baselines fitted on the train split (question only, constant list and report), and the
 * visibility table at the model's input size. Together they say how much of a score the image earns.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { InstructionSample, Split } from '../../data/types.ts';
import { fitQuestionOnly, questionOnlyPredictions } from '../../eval/baselines.ts';
import { formatControlsTable, formatImageReliance, toEvalRecord } from '../../eval/format.ts';
import { type EvalOptions, type EvalResult, evaluate } from '../../eval/metrics.ts';
import { type FindingVisibility, formatVisibility, visibilityTable } from '../../eval/visibility.ts';
import { readSplit, type SplitData } from './dataset.ts';
import { derangement, openVersion, predictSamples, type RunOptions, type RunPrediction } from './run.ts';

export interface ControlsReport {
  model: EvalResult;
  permuted: EvalResult;
  questionOnly: EvalResult;
  visibility: FindingVisibility[];
  imageSize: number;
}

export interface ControlsInput {
  versionDir: string;
  dataDir: string;
  split: Split;
  samples: readonly InstructionSample[];
  data: SplitData;
  model: EvalResult;
  run: RunOptions;
  evalOptions: EvalOptions;
  /** Phantoms per finding in the visibility table (default 20). */
  visibilityCases?: number;
}

/** The side the data set's phantoms were rendered at (its manifest), so visibility sees the same pixels. */
export async function renderedSize(dataDir: string): Promise<number> {
  try {
    const manifest = JSON.parse(await readFile(join(dataDir, 'manifest.json'), 'utf8')) as { size?: number };
    return manifest.size ?? 256;
  } catch {
    return 256;
  }
}

export async function runControls(input: ControlsInput): Promise<ControlsReport> {
  const { data, samples } = input;
  const caseIds = [...new Set(samples.map((s) => s.case_id))];
  const opened = await openVersion(input.versionDir, { threads: input.run.threads });
  let permutedPredictions: RunPrediction[];
  try {
    permutedPredictions = await predictSamples(opened, input.dataDir, data.cases, samples, {
      ...input.run,
      imageFrom: derangement(caseIds, input.run.seed ?? 0),
    });
  } finally {
    await opened.close();
  }
  const train = await readSplit(input.dataDir, 'train');
  const blind = fitQuestionOnly(train.samples, train.cases);
  const options = { ...input.evalOptions, cases: data.cases };
  return {
    model: input.model,
    permuted: evaluate(samples, permutedPredictions, options),
    questionOnly: evaluate(samples, questionOnlyPredictions(blind, samples), options),
    visibility: visibilityTable({
      modelSize: opened.version.config.imageSize,
      renderSize: await renderedSize(input.dataDir),
      cases: input.visibilityCases,
    }),
    imageSize: opened.version.config.imageSize,
  };
}

/** The controls as printed by `chexpo eval` (and pasted into docs/model.md). */
export function formatControls(r: ControlsReport): string {
  return [
    'controls (same samples; question-only and constant answers fitted on the train split)',
    formatControlsTable([
      ['model', r.model],
      ['model, images permuted across cases', r.permuted],
      ['question only / constant list and report', r.questionOnly],
    ]),
    '',
    formatVisibility(r.visibility, r.imageSize),
    '',
    formatImageReliance(r.model, r.permuted, r.visibility),
  ].join('\n');
}

/** JSON of the controls for the eval record. */
export function controlsRecord(r: ControlsReport) {
  return {
    permuted: toEvalRecord(r.permuted),
    question_only: toEvalRecord(r.questionOnly),
    visibility: r.visibility,
    image_size: r.imageSize,
  };
}
