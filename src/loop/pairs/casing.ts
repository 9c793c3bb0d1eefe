/**
 * One casing for both sides of a preference pair. The synthesised targets are sentence-cased
 * ("No. The costophrenic angles are sharp.") while the model's own answers are lower case (its
 * vocabulary is), so an on-policy pair would otherwise differ in casing on every row and a
 * case-sensitive model trained on the export could learn casing as the preference. Sentence case
 * for both: lower case, then a capital at the start and after each sentence end. chexpo's tokenizer
 * lowercases, so the ids (and chexpo's own DPO) do not change.
 */
export function sentenceCase(text: string): string {
  return text
    .toLowerCase()
    .replace(/(^\s*|[.?!]\s+)([a-z])/g, (_, before: string, letter: string) => before + letter.toUpperCase());
}
