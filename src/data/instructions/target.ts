/**
 * Target text format: the short answer FIRST, then a period, then the rationale:
 *
 *   "yes. There is blunting of the right costophrenic angle with a meniscus, consistent with …"
 *   "left. There is …"            "12 mm. There is …"            "0.55. The transverse cardiac …"
 *
 * So the answer occupies the first generated tokens and ends at the first sentence period (a period
 * between two digits, as in "0.55", is part of a number). The server reads the answer's confidence
 * from those first tokens: for closed questions the very first token is "yes" or "no". Answers are
 * lower case and never contain a sentence period. Report samples have no rationale: their target
 * is the report itself, scored per finding sentence instead.
 */

const ANSWER_END = /\.(?!\d)(?:\s|$)/;

export function formatTarget(answer: string, rationale: string): string {
  if (ANSWER_END.test(answer)) {
    throw new RangeError(`answer must not contain a sentence period: ${answer}`);
  }
  return rationale.length > 0 ? `${answer}. ${rationale}` : answer;
}

/** Inverse of formatTarget for non-report targets (and for model output in the same format). */
export function splitTarget(target: string): { answer: string; rationale: string } {
  const m = ANSWER_END.exec(target);
  if (!m) return { answer: target.trim(), rationale: '' };
  return { answer: target.slice(0, m.index).trim(), rationale: target.slice(m.index + m[0].length).trim() };
}
