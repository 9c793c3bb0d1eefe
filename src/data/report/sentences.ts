/** Sentence splitting shared by the report writer, the labeler and the server's span scoring. */

export interface TextSpan {
  text: string;
  /** Character offsets into the source text, [start, end). */
  start: number;
  end: number;
}

/**
 * Splits on '.', '?', '!' or a newline that ends a sentence. A period between two digits
 * ("0.55") does not end a sentence. Leading/trailing blanks are trimmed from every span.
 */
export function splitSentences(text: string): TextSpan[] {
  const spans: TextSpan[] = [];
  let start = 0;
  const push = (end: number): void => {
    let s = start;
    let e = end;
    while (s < e && /\s/.test(text[s])) s++;
    while (e > s && /\s/.test(text[e - 1])) e--;
    if (e > s) spans.push({ text: text.slice(s, e), start: s, end: e });
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    const isDecimal = ch === '.' && /\d/.test(text[i - 1] ?? '') && /\d/.test(text[i + 1] ?? '');
    if (ch === '\n' || ((ch === '.' || ch === '?' || ch === '!') && !isDecimal)) {
      push(ch === '\n' ? i : i + 1);
      start = i + 1;
    }
  }
  push(text.length);
  return spans;
}
