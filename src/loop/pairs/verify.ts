/**
 * Is an answer wrong for its case? The project's scorer decides first (scorePrediction against the
 * case's exact labels). A report is scored on finding presence only, so a report that names the
 * right findings with a wrong side, zone, grade, size or tip is checked sentence by sentence on its
 * IMPRESSION, which the writer keeps to one noun phrase per finding, with the scorer's own readers.
 */
import { CATALOGUE, tipPhrase } from '../../data/catalogue.ts';
import { labelSentence } from '../../data/labeler/index.ts';
import { splitSentences } from '../../data/report/index.ts';
import type { Finding, InstructionSample, LabelledCase } from '../../data/types.ts';
import { readLocation, readSeverity, readSizeMm, sizeMatches } from '../../eval/answers.ts';
import { scorePrediction } from '../../eval/score.ts';
import { truthFromCases } from '../../eval/truth.ts';

export type Verdict = 'right' | 'wrong';

export interface Judgement {
  verdict: Verdict;
  /** The scorer's score in [0, 1]. */
  score: number;
  /** Which check decided: the project's scorer, or the report attribute check after a perfect score. */
  by: 'scorer' | 'report_attributes';
}

const IMPRESSION_HEADER = '\nIMPRESSION: ';

/** The impression sentence stating `f` as present, if any. */
function impressionSentence(report: string, f: Finding): string | undefined {
  const cut = report.indexOf(IMPRESSION_HEADER);
  if (cut < 0) return undefined;
  return splitSentences(report.slice(cut + IMPRESSION_HEADER.length))
    .map((s) => s.text)
    .find((s) => labelSentence(s).some((m) => m.key === f.name && m.label === 'positive'));
}

/** Only attributes the catalogue lets the text state (edema's implied "bilateral" is never written). */
function attributesDiffer(sentence: string, f: Finding): boolean {
  const allowed = CATALOGUE[f.name].attributes;
  const where = readLocation(sentence);
  if (allowed.includes('side') && f.side !== undefined && where.side !== f.side) return true;
  if (allowed.includes('zone') && f.zone !== undefined && where.zone !== f.zone) return true;
  if (
    allowed.includes('severity') &&
    f.severity !== undefined &&
    readSeverity(sentence, f.name) !== f.severity
  )
    return true;
  if (allowed.includes('size_mm') && f.size_mm !== undefined) {
    const said = readSizeMm(sentence);
    if (said === undefined || !sizeMatches(said, f.size_mm)) return true;
  }
  // Tip phrases are anatomical ("at the cavoatrial junction"), not all readable by readTip: match the phrase.
  const tip = f.tip && tipPhrase(f.name, f.tip);
  if (tip && !sentence.includes(tip)) return true;
  return false;
}

/** Whether `text`, generated for `sample`, is right or wrong for the labelled case `c`. */
export function judgeAnswer(sample: InstructionSample, c: LabelledCase, text: string): Judgement {
  const truth = truthFromCases([c]).get(c.id);
  const prediction = { sample_id: sample.id, text, answer_prob: 1, min_prob: 1, mean_logprob: 0 };
  const { score } = scorePrediction(sample, prediction, truth);
  if (score < 1) return { verdict: 'wrong', score, by: 'scorer' };
  if (sample.task === 'report') {
    for (const f of c.findings) {
      if (!f.present) continue;
      const sentence = impressionSentence(text, f);
      if (sentence !== undefined && attributesDiffer(sentence, f))
        return { verdict: 'wrong', score, by: 'report_attributes' };
    }
  }
  return { verdict: 'right', score, by: 'scorer' };
}
