/** Labeler normalisation: lower case, hyphens split, punctuation kept as one-character words. */
export function toWords(text: string): string[] {
  return text.toLowerCase().match(/[a-z]+|\d+(?:\.\d+)?|[,;:()?]/g) ?? [];
}

export function phraseWords(phrase: string): string[] {
  return toWords(phrase);
}

/** Start indices where `phrase` occurs in `words`. */
export function findPhrase(words: readonly string[], phrase: readonly string[]): number[] {
  const hits: number[] = [];
  outer: for (let i = 0; i + phrase.length <= words.length; i++) {
    for (let j = 0; j < phrase.length; j++) if (words[i + j] !== phrase[j]) continue outer;
    hits.push(i);
  }
  return hits;
}
