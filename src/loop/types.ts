/**
 * Shapes passed between the loop's stages: mining (scored and selected samples) → pairs
 * (candidates with image references) → DPO (tokenised pairs with resolved images) → run record.
 */
import type { CaseEdit } from '../data/phantom/index.ts';
import type { FindingKey, InstructionSample, TaskType } from '../data/types.ts';
import type { DataCase, RunPrediction } from '../inference/offline/index.ts';
import type { PairKind } from '../store/contract.ts';

/** A labelled sample with the current model's answer, how good it is and how sure the model was. */
export interface ScoredSample {
  sample: InstructionSample;
  case: DataCase;
  prediction: RunPrediction;
  /** Score of the answer against the truth in [0, 1] (1 = right; a report's F1). */
  score: number;
  /** score ≥ the task's pass mark. */
  correct: boolean;
  /** The token-level confidence the hardness criterion reads, in [0, 1]. */
  confidence: number;
  /** L2-normalised pooled image embedding of the case (from the encoder). */
  embedding: Float32Array;
  /** Answers sampled from the model for the same prompt and image (mining/sample-answers.ts), when asked for. */
  samples?: string[];
  /**
   * Whether preference pairs can fix this sample's error (mining/fixable.ts), when checked:
   * `invisible` — its finding is below the visibility threshold at the model's input size;
   * `prior_driven` — the answer stays the same on another patient's image.
   */
  fixable?: Fixable;
}

export type Fixable = 'yes' | 'invisible' | 'prior_driven';

export type HardReason = 'wrong' | 'low_confidence' | 'live_feedback' | 'similar_to_live' | 'similar_to_hard';

/** A sample chosen for preference pairs, and why. */
export interface SelectedSample {
  scored: ScoredSample;
  reason: HardReason;
  /** For a retrieved neighbour: the hard example it was retrieved for, and their cosine distance. */
  neighbourOf?: { id: string; distance: number };
}

/** Where the image of one side of a pair comes from. */
export type ImageRef =
  /** The data set's own image of a case. */
  | { kind: 'case'; case_id: string }
  /** A phantom case re-rendered with one finding removed/added/altered (mDPO-style image counterfactual). */
  | { kind: 'phantom_edit'; case_id: string; edit: CaseEdit }
  /** A live hard example's de-identified image in the store. */
  | { kind: 'hard_example'; id: string };

export interface PairProvenance {
  sample_id: string;
  case_id: string;
  task: TaskType;
  finding?: FindingKey;
  reason: HardReason;
  /** Which generator rule wrote the rejected side (e.g. `negation.closed`). */
  generator: string;
  seed: number;
}

/** A preference pair before it is stored or tokenised. */
export interface PairCandidate {
  prompt: string;
  chosen: string;
  rejected: string;
  kind: PairKind;
  weight: number;
  chosenImage: ImageRef;
  /** Equal to chosenImage except for image-counterfactual pairs. */
  rejectedImage: ImageRef;
  provenance: PairProvenance;
}
