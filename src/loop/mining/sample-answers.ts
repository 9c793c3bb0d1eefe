/**
 * Sampled answers for mined samples: besides its greedy answer, the current model answers each
 * sample k more times with seeded temperature + top-p sampling (same prompt, same image, same
 * generation path as `predictSamples`), so the on-policy pair kind can find a wrong answer the
 * model would really give even when its greedy one is right or unreadable. Each draw has its own
 * random stream derived from (seed, sample id, draw), so a sample's answers do not depend on which
 * other samples are sampled with it.
 */
import { Rng } from '../../data/random.ts';
import type { InstructionSample } from '../../data/types.ts';
import { nucleusSampler } from '../../inference/generate.ts';
import { type DataCase, type OpenedVersion, predictSamples } from '../../inference/offline/index.ts';
import type { ScoredSample } from '../types.ts';
import { MiningError } from './errors.ts';

export interface SampleAnswersOptions {
  /** Sampled answers per sample (whole number ≥ 1). */
  k: number;
  /** Softmax temperature, > 0. */
  temperature: number;
  /** Nucleus mass in (0, 1]. */
  topP: number;
  seed: number;
  /** Generation requests per batch (draws of one case share its encoder row). */
  batchSize: number;
  /** Token budget per answer (default: the model's maxSeqLen, as in scoring). */
  maxTokens?: number;
}

/** The scored samples, each with `samples`: k sampled answer texts (none when the prompt does not fit). */
export async function sampleAnswers(
  model: OpenedVersion,
  dataDir: string,
  cases: readonly DataCase[],
  scored: readonly ScoredSample[],
  o: SampleAnswersOptions,
): Promise<ScoredSample[]> {
  if (!Number.isInteger(o.k) || o.k < 1)
    throw new MiningError('BAD_OPTION', `k must be a whole number ≥ 1: ${o.k}`);
  const drawId = (sampleId: string, j: number) => `${sampleId}#sample${j}`;
  const draws: InstructionSample[] = scored.flatMap((s) =>
    s.prediction.prompt_too_long
      ? []
      : Array.from({ length: o.k }, (_, j) => ({ ...s.sample, id: drawId(s.sample.id, j) })),
  );
  const sampling = { temperature: o.temperature, topP: o.topP };
  const predictions = await predictSamples(model, dataDir, cases, draws, {
    batchSize: o.batchSize,
    maxTokens: o.maxTokens,
    processorsFor: (draw) => [nucleusSampler(Rng.derive(o.seed, `sample-answers:${draw.id}`), sampling)],
  });
  const text = new Map(predictions.map((p) => [p.sample_id, p.text]));
  const textOf = (id: string) => {
    const t = text.get(id);
    if (t === undefined) throw new MiningError('BAD_DATA', `no sampled answer ${id}`);
    return t;
  };
  return scored.map((s) => ({
    ...s,
    samples: s.prediction.prompt_too_long
      ? []
      : Array.from({ length: o.k }, (_, j) => textOf(drawId(s.sample.id, j))),
  }));
}
