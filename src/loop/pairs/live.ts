/**
 * On-policy pairs straight from clinicians' corrections: a live hard example whose answer was marked
 * incorrect through /v1/feedback, with its correct answer and its stored de-identified image.
 * chosen = the clinician's answer, rejected = what the served model said, both on that image.
 */
import type { TaskType } from '../../data/types.ts';
import type { LiveTrainingCase } from '../mining/index.ts';
import type { PairCandidate } from '../types.ts';
import { sentenceCase } from './casing.ts';

function taskOf(c: LiveTrainingCase): TaskType {
  if (c.example.task !== 'vqa') return c.example.task;
  return /^(yes|no)\b/i.test(c.correctAnswer.trim()) ? 'closed' : 'open';
}

export function livePairs(cases: readonly LiveTrainingCase[], seed: number): PairCandidate[] {
  // One casing on both sides (pairs/casing.ts): a correction that only recases the answer is no pair.
  return cases
    .filter((c) => sentenceCase(c.correctAnswer.trim()) !== sentenceCase(c.example.answer.trim()))
    .map((c) => ({
      prompt: c.example.question,
      chosen: sentenceCase(c.correctAnswer.trim()),
      rejected: sentenceCase(c.example.answer.trim()),
      kind: 'on_policy',
      weight: 1,
      chosenImage: c.image,
      rejectedImage: c.image,
      provenance: {
        sample_id: c.example.id,
        case_id: c.example.id,
        task: taskOf(c),
        reason: 'live_feedback',
        generator: c.confident ? 'live.confident_correction' : 'live.feedback',
        seed,
      },
    }));
}
