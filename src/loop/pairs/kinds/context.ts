/**
 * What every pair generator sees and returns. A generator states a wrong claim about the case (a
 * counterfactual copy of its labels, or an edited image); the rejected text is the synthesiser's
 * answer for that claim, kept only when the project's scorer judges it wrong for the real case.
 */
import type { PhantomConfig } from '../../../data/phantom/index.ts';
import type { Rng } from '../../../data/random.ts';
import type { FindingKey, InstructionSample, LabelledCase } from '../../../data/types.ts';
import type { PairKind } from '../../../store/contract.ts';
import type { ImageRef, SelectedSample } from '../../types.ts';
import { answerFor } from '../answer-writer.ts';
import { judgeAnswer } from '../verify.ts';

export interface GeneratorContext {
  selected: SelectedSample;
  sample: InstructionSample;
  /** The case with its exact labels (a phantom when it carries seed and anatomy). */
  truth: LabelledCase;
  /** The reference target: the chosen side of every pair. */
  chosen: string;
  rng: Rng;
  phantomConfig: PhantomConfig;
}

export interface Draft {
  kind: PairKind;
  /** Which rule wrote it, e.g. `negation.closed_yes_to_no`. */
  generator: string;
  rejected: string;
  /** Set by image counterfactuals only; otherwise the rejected side shares the chosen image. */
  rejectedImage?: ImageRef;
}

export type PairGenerator = (ctx: GeneratorContext) => Draft | undefined;

/** The rejected draft for a wrong claim, or undefined when it cannot be written or is not wrong. */
export function claimDraft(
  ctx: GeneratorContext,
  kind: PairKind,
  generator: string,
  claim: LabelledCase,
  focus?: FindingKey,
): Draft | undefined {
  const rejected = answerFor(ctx.sample, ctx.truth, claim, ctx.rng, focus);
  if (rejected === undefined || rejected === ctx.chosen) return undefined;
  if (judgeAnswer(ctx.sample, ctx.truth, rejected).verdict !== 'wrong') return undefined;
  return { kind, generator, rejected };
}

/** The first option (in a seeded order) that yields a draft. */
export function firstDraft<T>(
  ctx: GeneratorContext,
  options: readonly T[],
  build: (option: T) => Draft | undefined,
): Draft | undefined {
  for (const option of ctx.rng.shuffle([...options])) {
    const draft = build(option);
    if (draft) return draft;
  }
  return undefined;
}
