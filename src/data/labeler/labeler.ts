/**
 * Rule-based CheXpert-style report labeler: sentence-scoped mention detection from the catalogue
 * synonyms, then uncertainty (first, so double negations like "cannot exclude" stay uncertain),
 * then negation, each cue scoped forward (pre-mention cues) or backward (post-mention cues) up to a
 * clause terminator. Aggregation over sentences: positive > uncertain > negative > not_mentioned.
 */
import { CATALOGUE } from '../catalogue.ts';
import { splitSentences } from '../report/sentences.ts';
import type { FindingKey, Severity, Side } from '../types.ts';
import { FINDING_KEYS } from '../types.ts';
import {
  POST_CUE_WINDOW,
  POST_NEGATION,
  POST_UNCERTAIN,
  PRE_NEGATION,
  PRE_UNCERTAIN,
  PSEUDO_NEGATIONS,
  SCOPE_TERMINATORS,
} from './cues.ts';
import { findPhrase, phraseWords, toWords } from './words.ts';

export type ReportLabel = 'positive' | 'negative' | 'uncertain' | 'not_mentioned';

export interface ReadAttributes {
  side?: Side;
  severity?: Severity;
  size_mm?: number;
}

export interface Mention extends ReadAttributes {
  key: FindingKey;
  label: Exclude<ReportLabel, 'not_mentioned'>;
  /** Word indices [start, end) in the sentence's normalised words. */
  start: number;
  end: number;
}

type CueKind = 'pseudo' | 'preUnc' | 'postUnc' | 'preNeg' | 'postNeg' | 'term';

interface Span {
  start: number;
  end: number;
}
interface Cue extends Span {
  kinds: Set<CueKind>;
}

interface Pattern {
  words: string[];
  kinds: Set<CueKind>;
}

/** Cue patterns grouped by matching priority; within a group longer phrases match first. */
function cueGroups(): Pattern[][] {
  const group = (lists: [string[], CueKind][]): Pattern[] => {
    const byPhrase = new Map<string, Set<CueKind>>();
    for (const [list, kind] of lists) {
      for (const p of list) byPhrase.set(p, (byPhrase.get(p) ?? new Set()).add(kind));
    }
    return [...byPhrase]
      .map(([p, kinds]) => ({ words: phraseWords(p), kinds }))
      .sort((a, b) => b.words.length - a.words.length);
  };
  return [
    group([[PSEUDO_NEGATIONS, 'pseudo']]),
    group([
      [PRE_UNCERTAIN, 'preUnc'],
      [POST_UNCERTAIN, 'postUnc'],
    ]),
    group([
      [PRE_NEGATION, 'preNeg'],
      [POST_NEGATION, 'postNeg'],
    ]),
    group([[SCOPE_TERMINATORS, 'term']]),
  ];
}
const CUE_GROUPS = cueGroups();

interface FindingPattern {
  key: FindingKey;
  words: string[];
  normal: boolean;
}
const NORMAL_PATTERNS: FindingPattern[] = FINDING_KEYS.flatMap((key) =>
  CATALOGUE[key].normalStatements.map((p) => ({ key, words: phraseWords(p), normal: true })),
).sort((a, b) => b.words.length - a.words.length);
const MENTION_PATTERNS: FindingPattern[] = FINDING_KEYS.flatMap((key) =>
  CATALOGUE[key].synonyms.map((p) => ({ key, words: phraseWords(p), normal: false })),
).sort((a, b) => b.words.length - a.words.length);

/** Greedy longest-first matching onto unoccupied words. */
function claim<T extends { words: string[] }>(
  words: string[],
  occupied: boolean[],
  patterns: T[],
): { pattern: T; start: number; end: number }[] {
  const found: { pattern: T; start: number; end: number }[] = [];
  for (const pattern of patterns) {
    for (const start of findPhrase(words, pattern.words)) {
      const end = start + pattern.words.length;
      if (occupied.slice(start, end).some(Boolean)) continue;
      for (let i = start; i < end; i++) occupied[i] = true;
      found.push({ pattern, start, end });
    }
  }
  return found;
}

const SIDE_WORDS: Record<string, Side> = {
  right: 'right',
  left: 'left',
  bilateral: 'bilateral',
  both: 'bilateral',
};

function readAttributes(key: FindingKey, words: string[], from: number, to: number): ReadAttributes {
  const spec = CATALOGUE[key];
  const out: ReadAttributes = {};
  const severityByWord = new Map(
    Object.entries(spec.severityWords ?? {}).map(([sev, word]) => [word, sev as Severity]),
  );
  for (let i = from; i < to; i++) {
    const w = words[i];
    if (spec.attributes.includes('side') && out.side === undefined && w in SIDE_WORDS)
      out.side = SIDE_WORDS[w];
    if (out.severity === undefined && severityByWord.has(w)) out.severity = severityByWord.get(w);
    if (spec.attributes.includes('size_mm') && out.size_mm === undefined && words[i + 1] === 'mm') {
      const mm = Number(w);
      if (Number.isFinite(mm)) out.size_mm = mm;
    }
  }
  return out;
}

/** Labels every finding mention of one sentence. */
export function labelSentence(sentence: string): Mention[] {
  const words = toWords(sentence);
  const occupied = words.map(() => false);
  // Normal statements first: "heart is not enlarged" must not lose its "not" to the negation cues.
  const normals = claim(words, occupied, NORMAL_PATTERNS);
  const cues: Cue[] = [];
  for (const group of CUE_GROUPS) {
    for (const hit of claim(words, occupied, group)) cues.push({ ...hit, kinds: hit.pattern.kinds });
  }
  const synonyms = claim(words, occupied, MENTION_PATTERNS);
  const found = [...normals, ...synonyms].sort((a, b) => a.start - b.start);
  const terminatorIn = (from: number, to: number): boolean =>
    cues.some((c) => c.kinds.has('term') && c.start >= from && c.end <= to);
  const scoped = (m: Span, pre: CueKind, post: CueKind): boolean =>
    cues.some(
      (c) =>
        (c.kinds.has(pre) && c.end <= m.start && !terminatorIn(c.end, m.start)) ||
        (c.kinds.has(post) &&
          c.start >= m.end &&
          c.start - m.end <= POST_CUE_WINDOW &&
          !terminatorIn(m.end, c.start)),
    );

  return found.map((hit, i) => {
    const { key, normal } = hit.pattern;
    let label: Mention['label'] = 'positive';
    if (normal) label = 'negative';
    else if (scoped(hit, 'preUnc', 'postUnc')) label = 'uncertain';
    else if (scoped(hit, 'preNeg', 'postNeg')) label = 'negative';
    const prev = found.slice(0, i).findLast((o) => o.pattern.key !== key);
    const next = found.slice(i + 1).find((o) => o.pattern.key !== key);
    const attrs =
      label === 'negative' ? {} : readAttributes(key, words, prev?.end ?? 0, next?.start ?? words.length);
    return { key, label, start: hit.start, end: hit.end, ...attrs };
  });
}

const RANK: Record<ReportLabel, number> = { positive: 3, uncertain: 2, negative: 1, not_mentioned: 0 };

export interface LabelledSentence {
  text: string;
  start: number;
  end: number;
  mentions: Mention[];
}

export interface DetailedLabels {
  labels: Record<FindingKey, ReportLabel>;
  /** Attributes read from the first positive (or uncertain) mention that states them. */
  attributes: Partial<Record<FindingKey, ReadAttributes>>;
  sentences: LabelledSentence[];
}

export function labelReportDetailed(text: string): DetailedLabels {
  const labels = Object.fromEntries(FINDING_KEYS.map((k) => [k, 'not_mentioned'])) as Record<
    FindingKey,
    ReportLabel
  >;
  const attributes: Partial<Record<FindingKey, ReadAttributes>> = {};
  const sentences = splitSentences(text).map((s) => ({ ...s, mentions: labelSentence(s.text) }));
  for (const s of sentences) {
    for (const m of s.mentions) {
      if (RANK[m.label] > RANK[labels[m.key]]) labels[m.key] = m.label;
      if (m.label === 'negative') continue;
      const a = (attributes[m.key] ??= {});
      if (a.side === undefined && m.side !== undefined) a.side = m.side;
      if (a.severity === undefined && m.severity !== undefined) a.severity = m.severity;
      if (a.size_mm === undefined && m.size_mm !== undefined) a.size_mm = m.size_mm;
    }
  }
  return { labels, attributes, sentences };
}

export function labelReport(text: string): Record<FindingKey, ReportLabel> {
  return labelReportDetailed(text).labels;
}
