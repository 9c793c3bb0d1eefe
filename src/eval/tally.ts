/**
 * Every metric here is a function of SUMS over samples (counts, score sums, per-bin confidence
 * sums, TP/FP/FN per finding). So each case is reduced once to a sparse vector of named counters,
 * and a bootstrap replicate is just a weighted sum of case vectors — no rescoring.
 */
import type { TaskType } from '../data/types.ts';
import type { SampleScore } from './score.ts';
import type { CaseTruth } from './truth.ts';
import { isAdversarialNegative, POPULAR_FINDINGS } from './truth.ts';

/** Tasks whose presence judgements count for hallucination and omission (closed answers and reports). */
export const PRESENCE_TASKS: readonly TaskType[] = ['closed', 'report'];

export interface TallyOptions {
  /** Equal-width confidence bins for calibration. */
  bins: number;
  /** Tasks whose answer confidence is calibrated (answer_prob vs score). */
  calibrationTasks: readonly TaskType[];
}

/** Counter names; `|` separates the parts. */
export const K = {
  n: (task: string) => `n|${task}`,
  score: (task: string) => `score|${task}`,
  nTF: (task: string, f: string) => `n|${task}|${f}`,
  scoreTF: (task: string, f: string) => `score|${task}|${f}`,
  nF: (f: string) => `nf|${f}`,
  scoreF: (f: string) => `scoref|${f}`,
  outcome: (source: string, o: 'tp' | 'fp' | 'fn' | 'tn', f: string) => `${o}|${source}|${f}`,
  pope: (group: PopeGroup, what: 'n' | 'yes') => `pope_${what}|${group}`,
  /** Closed answers per finding by truth and binned P(yes): ROC operating points, bootstrappable. */
  roc: (truth: 'pos' | 'neg', f: string, bin: number) => `roc|${truth}|${f}|${bin}`,
  binN: (b: number) => `bin_n|${b}`,
  binConf: (b: number) => `bin_conf|${b}`,
  binScore: (b: number) => `bin_score|${b}`,
} as const;

/** POPE groups: positives and the three negative samplings (adversarial, popular, random). */
export type PopeGroup = 'pos' | 'adv' | 'pop' | 'rand';

/** P(yes) resolution of the per-finding ROC counters. */
export const ROC_BINS = 100;

/** P(yes) of a closed answer: its confidence when it said yes, the complement when it said no. */
export function yesProbability(s: SampleScore): number {
  if (s.read === 'yes') return s.confidence;
  if (s.read === 'no') return 1 - s.confidence;
  return 0.5;
}

export function binOf(confidence: number, bins: number): number {
  return Math.min(bins - 1, Math.max(0, Math.floor(confidence * bins)));
}

/** Sparse counters of one case. */
export function tallyCase(
  scores: readonly SampleScore[],
  truth: CaseTruth | undefined,
  o: TallyOptions,
): Map<string, number> {
  const t = new Map<string, number>();
  const add = (key: string, v = 1): void => {
    t.set(key, (t.get(key) ?? 0) + v);
  };
  for (const s of scores) {
    add(K.n(s.task));
    add(K.score(s.task), s.score);
    // Per-finding accuracy: a question about one finding counts its own score; a list or report
    // counts one right/wrong presence call per judged finding.
    const perFinding: [string, number][] = s.finding
      ? [[s.finding, s.score]]
      : s.judgements.map((j) => [j.finding, j.asserted === j.present ? 1 : 0]);
    for (const [f, right] of perFinding) {
      add(K.nTF(s.task, f));
      add(K.scoreTF(s.task, f), right);
      add(K.nF(f));
      add(K.scoreF(f), right);
    }
    for (const j of s.judgements) {
      const o = j.present ? (j.asserted ? 'tp' : 'fn') : j.asserted ? 'fp' : 'tn';
      add(K.outcome(j.source, o, j.finding));
      if (j.source === 'closed') {
        const group: PopeGroup = j.present
          ? 'pos'
          : isAdversarialNegative(truth, j.finding)
            ? 'adv'
            : POPULAR_FINDINGS.has(j.finding)
              ? 'pop'
              : 'rand';
        add(K.pope(group, 'n'));
        add(K.pope(group, 'yes'), j.asserted ? 1 : 0);
        add(K.roc(j.present ? 'pos' : 'neg', j.finding, binOf(yesProbability(s), ROC_BINS)));
      }
    }
    if (o.calibrationTasks.includes(s.task)) {
      const b = binOf(s.confidence, o.bins);
      add(K.binN(b));
      add(K.binConf(b), s.confidence);
      add(K.binScore(b), s.score);
    }
  }
  return t;
}

/** Read access to summed counters; unknown names are 0. */
export interface Totals {
  get(key: string): number;
}

/** Case tallies interned into one key space, summed with integer case weights. */
export class TallyMatrix {
  readonly keys: string[] = [];
  private readonly index = new Map<string, number>();
  private readonly cases: { idx: Uint32Array; val: Float64Array }[] = [];

  constructor(tallies: readonly Map<string, number>[]) {
    for (const t of tallies) {
      const idx = new Uint32Array(t.size);
      const val = new Float64Array(t.size);
      let i = 0;
      for (const [k, v] of t) {
        let at = this.index.get(k);
        if (at === undefined) {
          at = this.keys.length;
          this.keys.push(k);
          this.index.set(k, at);
        }
        idx[i] = at;
        val[i++] = v;
      }
      this.cases.push({ idx, val });
    }
  }

  get caseCount(): number {
    return this.cases.length;
  }

  /** Sum of case vectors, case c counted weights[c] times (all once by default). */
  sum(weights?: ArrayLike<number>): Totals {
    const out = new Float64Array(this.keys.length);
    for (let c = 0; c < this.cases.length; c++) {
      const w = weights ? weights[c] : 1;
      if (w === 0) continue;
      const { idx, val } = this.cases[c];
      for (let i = 0; i < idx.length; i++) out[idx[i]] += w * val[i];
    }
    return {
      get: (key) => {
        const at = this.index.get(key);
        return at === undefined ? 0 : out[at];
      },
    };
  }
}
