/**
 * Offline runs of a model version over a data split: predictions with confidences and OOD scores
 * (`runSplit`, behind `chexpo eval`), and fitting the version's risk calibrator and OOD reference on
 * the validation split (`fitCalibration`, run by the trainer on the staging directory before publish).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Rng } from '../../data/random.ts';
import type { InstructionSample, Split, TaskType } from '../../data/types.ts';
import {
  type FitOptions,
  type Prediction,
  RiskCalibrator,
  type RiskCalibratorJSON,
  type RiskQuality,
  riskExamples,
  riskQuality,
  unknownWordRate,
} from '../../eval/index.ts';
import { scoreAll } from '../../eval/metrics.ts';
import { OrtSession, type OrtSessionOptions } from '../../model/ort/session.ts';
import { promptIds } from '../../model/vlm/tokens.ts';
import { type LoadedVersion, loadVersion } from '../../model/vlm/version.ts';
import { answerConfidence } from '../confidence.ts';
import { EvaluationRunError } from '../errors.ts';
import { Generator, type LogitsProcessor, suppressTokens } from '../generate.ts';
import {
  type DetectorFeatures,
  type ImageFeatures,
  intensityStats,
  OodDetector,
  type OodDetectorJSON,
  type OodScorer,
  oodScorerFromJson,
} from '../ood/index.ts';
import {
  fitOperatingPoint,
  OPERATING_POINT_FILE,
  type OperatingPoint,
  type OperatingPointLimits,
  operatingPointBias,
} from '../operating-point.ts';
import { caseInput, type DataCase, readSplit, seededPick, selectSamples } from './dataset.ts';

export interface RunPrediction extends Prediction {
  task: TaskType;
  /** OOD score of the case image (0 when the version has no ood.json). */
  ood: number;
  unknown_word_rate: number;
  /** Calibrated P(wrong), when the version has a calibrator. */
  risk?: number;
  stop: 'eos' | 'max_tokens';
  /** Set when the prompt does not fit maxSeqLen: nothing was generated (scored as a wrong answer). */
  prompt_too_long?: true;
}

export interface RunOptions {
  /** At most this many samples, whole cases in a seeded order (default: all). */
  limit?: number;
  /** Generation requests per batch (default 16); a case's questions share one encoder row. */
  batchSize?: number;
  /** Seed of the subset (default 0). */
  seed?: number;
  /** Token budget per answer (default: the model's maxSeqLen; the generator caps it anyway). */
  maxTokens?: number;
  /** Threads inside one ORT op (default ORT's). */
  threads?: number;
  /** Control: answer each case's questions on another case's image (case id → image's case id). */
  imageFrom?: ReadonlyMap<string, string>;
  /** A sample's own logits processors, after the generator's (e.g. a seeded sampler; default none: greedy). */
  processorsFor?: (sample: InstructionSample) => readonly LogitsProcessor[];
  onProgress?: (done: number, total: number) => void;
}

/** A version opened for offline runs: its sessions, generator and optional calibrator/OOD reference. */
export interface OpenedVersion {
  version: LoadedVersion;
  generator: Generator;
  calibrator?: RiskCalibrator;
  ood?: OodScorer;
  /** The version's closed-answer operating point as a decoding bias (operating-point.json), if any. */
  answerBias?: LogitsProcessor;
  close(): Promise<void>;
}

export async function openVersion(dir: string, options: { threads?: number } = {}): Promise<OpenedVersion> {
  const version = await loadVersion(dir);
  const o: OrtSessionOptions = options.threads ? { intraOpThreads: options.threads } : {};
  const [encoder, prefill, step] = await Promise.all([
    OrtSession.create(version.graphs.encoder, o),
    OrtSession.create(version.graphs.prefill, o),
    OrtSession.create(version.graphs.step, o),
  ]);
  const t = version.tokenizer;
  const generator = new Generator({ encoder, prefill, step }, version.config, {
    eosId: t.eosId,
    // Framing tokens the model must never generate (the engine bans the same ones).
    processors: [suppressTokens([t.padId, t.bosId, t.sepId, t.imageId])],
  });
  return {
    version,
    generator,
    calibrator: version.calibrator === undefined ? undefined : RiskCalibrator.fromJSON(version.calibrator),
    ood: version.ood === undefined ? undefined : oodScorerFromJson(version.ood),
    answerBias: operatingPointBias(t, version.operatingPoint),
    close: async () => {
      await Promise.all([encoder.release(), prefill.release(), step.release()]);
    },
  };
}

/** Encoder features (embedding + intensity statistics) of cases, in batches. */
export async function caseFeatures(
  model: OpenedVersion,
  dataDir: string,
  cases: readonly DataCase[],
  batchSize: number,
): Promise<ImageFeatures[]> {
  const features = await detectorFeatures(model, dataDir, cases, batchSize);
  return features.map((f) => ({
    embedding: Float32Array.from(f.embedding),
    intensity: intensityStats(f.input),
  }));
}

/** What the OOD detector reads of cases: the encoder embedding and the model input, in batches. */
export async function detectorFeatures(
  model: OpenedVersion,
  dataDir: string,
  cases: readonly DataCase[],
  batchSize: number,
): Promise<DetectorFeatures[]> {
  const out: DetectorFeatures[] = [];
  for (let i = 0; i < cases.length; i += batchSize) {
    const inputs = await Promise.all(
      cases.slice(i, i + batchSize).map((c) => caseInput(dataDir, c, model.version.config.imageSize)),
    );
    const { embeddings } = await model.generator.encodeImages(inputs);
    inputs.forEach((input, b) => {
      out.push({ embedding: embeddings[b], input });
    });
  }
  return out;
}

/** Generates an answer for every sample (grouped by case so a batch encodes each image once). */
export async function predictSamples(
  model: OpenedVersion,
  dataDir: string,
  cases: readonly DataCase[],
  samples: readonly InstructionSample[],
  options: RunOptions = {},
): Promise<RunPrediction[]> {
  const batchSize = options.batchSize ?? 16;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new EvaluationRunError('BAD_OPTION', `batchSize must be a whole number ≥ 1: ${batchSize}`);
  const { config, tokenizer } = model.version;
  const caseById = new Map(cases.map((c) => [c.id, c]));
  const order = new Map<string, number>();
  for (const s of samples) if (!order.has(s.case_id)) order.set(s.case_id, order.size);
  const sorted = [...samples].sort((a, b) => order.get(a.case_id)! - order.get(b.case_id)!);
  const maxTokens = options.maxTokens ?? config.maxSeqLen;
  const isKnown = (w: string) => tokenizer.idOf(w) !== undefined;
  const out: RunPrediction[] = [];
  for (let i = 0; i < sorted.length; i += batchSize) {
    const batch = sorted.slice(i, i + batchSize);
    const caseIds = [...new Set(batch.map((s) => s.case_id))];
    const inputs = await Promise.all(
      caseIds.map((id) => {
        const c = caseById.get(options.imageFrom?.get(id) ?? id);
        if (!c) throw new EvaluationRunError('BAD_DATA', `no case ${id} for its samples`);
        return caseInput(dataDir, c, config.imageSize);
      }),
    );
    const { imageTokens, embeddings } = await model.generator.encodeImages(inputs);
    const row = new Map(caseIds.map((id, k) => [id, k]));
    const ood = inputs.map((input, k) => model.ood?.score(embeddings[k], input) ?? 0);
    const prompts = batch.map((s) => promptIds(tokenizer, s.question));
    // A prompt that fills maxSeqLen leaves no room to answer: it gets an empty answer, not an abort.
    const fits = prompts.map((p) => p.length < config.maxSeqLen);
    const generations = await model.generator.generateEncoded(
      batch.map((s, k) => ({
        imageTokens: imageTokens[row.get(s.case_id)!],
        promptIds: fits[k] ? prompts[k] : [tokenizer.bosId],
        maxTokens: fits[k] ? maxTokens : 0,
        processors: answerProcessors(model, s, options),
      })),
    );
    batch.forEach((s, k) => {
      const g = generations[k];
      const c = answerConfidence(g.tokens, tokenizer, { task: s.task, options: s.options });
      const p: RunPrediction = {
        sample_id: s.id,
        task: s.task,
        text: c.text,
        answer_prob: c.answer_prob,
        min_prob: c.min_prob,
        mean_logprob: c.mean_logprob,
        ood: ood[row.get(s.case_id)!],
        unknown_word_rate: unknownWordRate(s.question, isKnown),
        stop: g.stop,
      };
      if (!fits[k]) p.prompt_too_long = true;
      if (model.calibrator)
        p.risk = model.calibrator.predictRisk({
          ...p,
          ood_score: p.ood,
          unknown_word_rate: p.unknown_word_rate,
        });
      out.push(p);
    });
    options.onProgress?.(out.length, sorted.length);
  }
  return out;
}

/** A sample's processors: the operating point's bias on questions (as the engine applies it), then its own. */
function answerProcessors(
  model: OpenedVersion,
  s: InstructionSample,
  options: RunOptions,
): readonly LogitsProcessor[] | undefined {
  const own = options.processorsFor?.(s);
  if (!model.answerBias || (s.task !== 'closed' && s.task !== 'open')) return own;
  return [model.answerBias, ...(own ?? [])];
}

/** The predictions of the samples the operating point's bias applies to, generated again with it. */
async function rePredictBiased(
  model: OpenedVersion,
  dataDir: string,
  cases: readonly DataCase[],
  samples: readonly InstructionSample[],
  predictions: readonly RunPrediction[],
  options: RunOptions,
): Promise<RunPrediction[]> {
  if (!model.answerBias) return [...predictions];
  const biased = samples.filter((s) => s.task === 'closed' || s.task === 'open');
  const again = new Map(
    (await predictSamples(model, dataDir, cases, biased, options)).map((p) => [p.sample_id, p]),
  );
  return predictions.map((p) => again.get(p.sample_id) ?? p);
}

/** A seeded permutation of case ids with no fixed point: every case gets another patient's image. */
export function derangement(caseIds: readonly string[], seed: number): Map<string, string> {
  const order = Rng.derive(seed, 'permuted-images').shuffle([...caseIds]);
  // Shifting a shuffled cycle by one leaves no case on its own image.
  return new Map(order.map((id, i) => [id, order[(i + 1) % order.length]]));
}

/** Predictions of a version on (a seeded subset of) one split of a data set. */
export async function runSplit(
  versionDir: string,
  dataDir: string,
  split: Split,
  options: RunOptions = {},
): Promise<RunPrediction[]> {
  const data = await readSplit(dataDir, split);
  const samples = selectSamples(data.samples, options.limit, options.seed ?? 0);
  const model = await openVersion(versionDir, { threads: options.threads });
  try {
    return await predictSamples(model, dataDir, data.cases, samples, options);
  } finally {
    await model.close();
  }
}

export interface CalibrationOptions extends RunOptions {
  /** Training images the OOD detector is fitted on (default 1000). */
  referenceImages?: number;
  /** Share of held-out in-distribution images the OOD detector flags (default 0.05). */
  oodFalseFlagRate?: number;
  /** Validation images that set the OOD quantiles (default 1000). */
  heldOutImages?: number;
  /** Neighbours of the k-NN distance (default 5). */
  k?: number;
  /** Calibrator fit options (L2 penalty). */
  fit?: FitOptions;
  /**
   * Also fit the closed-answer operating point within these limits on the same validation answers
   * (written as operating-point.json; the calibrator is then fitted on the answers it gives).
   */
  operatingPoint?: OperatingPointLimits;
}

export interface CalibrationResult {
  calibrator: RiskCalibratorJSON;
  ood: OodDetectorJSON;
  predictions: RunPrediction[];
  /** In-sample fit quality on the validation predictions (a held-out check is the test split's job). */
  quality: RiskQuality;
  /** The fitted operating point, when one was asked for. */
  operatingPoint?: OperatingPoint;
}

/**
 * Fits the OOD reference (training images + validation quantiles) and then the risk calibrator on
 * validation predictions scored against the exact labels, and writes `ood.json` and
 * `calibrator.json` into the (staging) version directory.
 */
export async function fitCalibration(
  versionDir: string,
  dataDir: string,
  options: CalibrationOptions = {},
): Promise<CalibrationResult> {
  const seed = options.seed ?? 0;
  const batchSize = options.batchSize ?? 16;
  const train = await readSplit(dataDir, 'train');
  const validation = await readSplit(dataDir, 'validation');
  const model = await openVersion(versionDir, { threads: options.threads });
  try {
    // Features of the files on disk, not of whatever ood.json / calibrator.json the directory had.
    model.ood = undefined;
    model.calibrator = undefined;
    const reference = await detectorFeatures(
      model,
      dataDir,
      seededPick(train.cases, options.referenceImages ?? 1000, seed, 'ood-reference'),
      batchSize,
    );
    const heldOut = await detectorFeatures(
      model,
      dataDir,
      seededPick(validation.cases, options.heldOutImages ?? 1000, seed, 'ood-held-out'),
      batchSize,
    );
    const ood = OodDetector.fit(reference, heldOut, { falseFlagRate: options.oodFalseFlagRate });
    model.ood = { score: (e, input) => ood.score(e, input), flagQuantile: ood.flagQuantile };
    const samples = selectSamples(validation.samples, options.limit, seed);
    if (options.operatingPoint) model.answerBias = undefined;
    let predictions = await predictSamples(model, dataDir, validation.cases, samples, options);
    let operatingPoint: OperatingPoint | undefined;
    if (options.operatingPoint) {
      operatingPoint = fitOperatingPoint(samples, predictions, validation.cases, options.operatingPoint);
      await writeFile(join(versionDir, OPERATING_POINT_FILE), `${JSON.stringify(operatingPoint, null, 2)}\n`);
      model.answerBias = operatingPointBias(model.version.tokenizer, operatingPoint);
      predictions = await rePredictBiased(model, dataDir, validation.cases, samples, predictions, options);
    }
    const scored = scoreAll(samples, predictions, validation.cases);
    const scores = [...scored.byCase.values()].flat();
    const byId = new Map(predictions.map((p) => [p.sample_id, p]));
    const examples = riskExamples(scores, predictions, (id) => ({
      unknown_word_rate: byId.get(id)!.unknown_word_rate,
      ood_score: byId.get(id)!.ood,
    }));
    const calibrator = RiskCalibrator.fit(examples, options.fit);
    await writeFile(join(versionDir, 'ood.json'), `${JSON.stringify(ood.toJSON())}\n`);
    await writeFile(join(versionDir, 'calibrator.json'), `${JSON.stringify(calibrator.toJSON(), null, 2)}\n`);
    return {
      calibrator: calibrator.toJSON(),
      ood: ood.toJSON(),
      predictions: predictions.map((p) => ({
        ...p,
        risk: calibrator.predictRisk({ ...p, ood_score: p.ood }),
      })),
      quality: riskQuality(calibrator, examples),
      ...(operatingPoint ? { operatingPoint } : {}),
    };
  } finally {
    await model.close();
  }
}
