/**
 * The catalogue of evaluation metrics, each a function of summed counters (see tally.ts), so the
 * same definition gives the point estimate and every bootstrap replicate. Names are stable: run
 * records, the gate and docs refer to them.
 *
 * PRIMARY SCORE = unweighted mean over the task types present of one score per task:
 * closed, choice and open accuracy, the mean set F1 of abnormality lists, and the finding-level
 * micro F1 of reports. Equal task weights keep the plentiful closed questions from drowning the
 * generative tasks; reports use positive-class F1 rather than per-finding accuracy because most
 * findings are absent and accuracy would reward a template "normal" report; micro rather than macro
 * because rare findings leave macro F1 undefined or wildly variable in small test splits (macro F1
 * is reported beside it).
 */
import type { FindingKey, TaskType } from '../data/types.ts';
import { FINDING_KEYS } from '../data/types.ts';
import { K, type PopeGroup, PRESENCE_TASKS, ROC_BINS, type Totals } from './tally.ts';

export const TASKS: readonly TaskType[] = ['closed', 'choice', 'open', 'abnormality_list', 'report'];

export interface MetricDef {
  name: string;
  /** Which direction is an improvement (the gate reads it). */
  better: 'higher' | 'lower';
  /** NaN when undefined on these totals (no support). */
  value(t: Totals): number;
  /** Size of the denominator the value rests on (samples, judgements). */
  support(t: Totals): number;
}

const ratio = (num: number, den: number): number => (den > 0 ? num / den : Number.NaN);
const f1 = (tp: number, fp: number, fn: number): number =>
  tp + fp + fn > 0 ? (2 * tp) / (2 * tp + fp + fn) : Number.NaN;

function sumOver(t: Totals, keys: string[]): number {
  let s = 0;
  for (const k of keys) s += t.get(k);
  return s;
}

type Outcome = 'tp' | 'fp' | 'fn' | 'tn';
/** Counter names of one outcome over sources × findings, built once per list (replicates reuse them). */
const keyCache = new Map<string, string[]>();
function outcomeKeys(o: Outcome, sources: readonly string[], findings: readonly string[]): string[] {
  const id = `${o}/${sources.join()}/${findings.join()}`;
  let keys = keyCache.get(id);
  if (!keys) {
    keys = sources.flatMap((src) => findings.map((f) => K.outcome(src, o, f)));
    keyCache.set(id, keys);
  }
  return keys;
}
const outcomes = (t: Totals, o: Outcome, sources: readonly string[], findings: readonly string[]): number =>
  sumOver(t, outcomeKeys(o, sources, findings));

/** Score per task as used in the primary score. */
export function taskScore(t: Totals, task: TaskType): number {
  if (task === 'report') {
    const all = FINDING_KEYS as readonly string[];
    return f1(
      outcomes(t, 'tp', ['report'], all),
      outcomes(t, 'fp', ['report'], all),
      outcomes(t, 'fn', ['report'], all),
    );
  }
  return ratio(t.get(K.score(task)), t.get(K.n(task)));
}

/** Absent findings asserted / absent findings judged, over the given sources and findings. */
function hallucination(
  sources: readonly string[],
  findings: readonly string[],
): Pick<MetricDef, 'value' | 'support'> {
  const absent = (t: Totals) => outcomes(t, 'fp', sources, findings) + outcomes(t, 'tn', sources, findings);
  return { value: (t) => ratio(outcomes(t, 'fp', sources, findings), absent(t)), support: absent };
}

/** Present findings denied or omitted / present findings judged. */
function omission(
  sources: readonly string[],
  findings: readonly string[],
): Pick<MetricDef, 'value' | 'support'> {
  const present = (t: Totals) => outcomes(t, 'tp', sources, findings) + outcomes(t, 'fn', sources, findings);
  return { value: (t) => ratio(outcomes(t, 'fn', sources, findings), present(t)), support: present };
}

function reportMacroF1(t: Totals): number {
  const per = FINDING_KEYS.map((f) =>
    f1(
      t.get(K.outcome('report', 'tp', f)),
      t.get(K.outcome('report', 'fp', f)),
      t.get(K.outcome('report', 'fn', f)),
    ),
  ).filter((v) => !Number.isNaN(v));
  return per.length > 0 ? per.reduce((a, b) => a + b, 0) / per.length : Number.NaN;
}

/** Expected calibration error: sum over bins of |score sum - confidence sum| / N. */
export function ece(t: Totals, bins: number): number {
  let gap = 0;
  let n = 0;
  for (let b = 0; b < bins; b++) {
    gap += Math.abs(t.get(K.binScore(b)) - t.get(K.binConf(b)));
    n += t.get(K.binN(b));
  }
  return ratio(gap, n);
}

function popeDefs(): MetricDef[] {
  const g = (t: Totals, group: PopeGroup, what: 'n' | 'yes') => t.get(K.pope(group, what));
  const neg = (t: Totals, what: 'n' | 'yes') => g(t, 'adv', what) + g(t, 'pop', what) + g(t, 'rand', what);
  const all = (t: Totals, what: 'n' | 'yes') => g(t, 'pos', what) + neg(t, what);
  const tp = (t: Totals) => g(t, 'pos', 'yes');
  const fp = (t: Totals) => neg(t, 'yes');
  const fn = (t: Totals) => g(t, 'pos', 'n') - g(t, 'pos', 'yes');
  const n = (t: Totals) => all(t, 'n');
  return [
    {
      name: 'pope.accuracy',
      better: 'higher',
      value: (t) => ratio(tp(t) + neg(t, 'n') - fp(t), n(t)),
      support: n,
    },
    { name: 'pope.precision', better: 'higher', value: (t) => ratio(tp(t), tp(t) + fp(t)), support: n },
    { name: 'pope.recall', better: 'higher', value: (t) => ratio(tp(t), tp(t) + fn(t)), support: n },
    { name: 'pope.f1', better: 'higher', value: (t) => f1(tp(t), fp(t), fn(t)), support: n },
    // The yes-ratio on a balanced probe should sit near the share of positives; it is reported, not ranked.
    { name: 'pope.yes_ratio', better: 'lower', value: (t) => ratio(all(t, 'yes'), n(t)), support: n },
    {
      name: 'pope.absent_yes_ratio',
      better: 'lower',
      value: (t) => ratio(neg(t, 'yes'), neg(t, 'n')),
      support: (t) => neg(t, 'n'),
    },
    {
      name: 'pope.adversarial_yes_ratio',
      better: 'lower',
      value: (t) => ratio(g(t, 'adv', 'yes'), g(t, 'adv', 'n')),
      support: (t) => g(t, 'adv', 'n'),
    },
    {
      name: 'pope.popular_yes_ratio',
      better: 'lower',
      value: (t) => ratio(g(t, 'pop', 'yes'), g(t, 'pop', 'n')),
      support: (t) => g(t, 'pop', 'n'),
    },
    {
      name: 'pope.random_yes_ratio',
      better: 'lower',
      value: (t) => ratio(g(t, 'rand', 'yes'), g(t, 'rand', 'n')),
      support: (t) => g(t, 'rand', 'n'),
    },
  ];
}

function rocTotal(t: Totals, truth: 'pos' | 'neg', f: string): number {
  let n = 0;
  for (let b = 0; b < ROC_BINS; b++) n += t.get(K.roc(truth, f, b));
  return n;
}

/**
 * Recall of closed "is there F?" answers at the loosest P(yes) threshold whose false-positive rate
 * stays ≤ `fpr` (thresholds at bin edges, highest first). NaN without both positives and negatives.
 */
export function recallAtFpr(t: Totals, f: string, fpr: number): number {
  const pos = rocTotal(t, 'pos', f);
  const neg = rocTotal(t, 'neg', f);
  if (pos === 0 || neg === 0) return Number.NaN;
  let tp = 0;
  let fp = 0;
  let best = 0;
  for (let b = ROC_BINS - 1; b >= 0; b--) {
    tp += t.get(K.roc('pos', f, b));
    fp += t.get(K.roc('neg', f, b));
    if (fp / neg > fpr) break;
    best = tp / pos;
  }
  return best;
}

/** Every metric the evaluation reports, in display order; callers drop those without support. */
export function metricCatalogue(bins: number): MetricDef[] {
  const all = FINDING_KEYS as readonly FindingKey[];
  const presence = PRESENCE_TASKS;
  const defs: MetricDef[] = [
    {
      name: 'primary',
      better: 'higher',
      value: (t) => {
        const scores = TASKS.filter((task) => t.get(K.n(task)) > 0).map((task) => taskScore(t, task));
        const defined = scores.filter((v) => !Number.isNaN(v));
        return defined.length > 0 ? defined.reduce((a, b) => a + b, 0) / defined.length : Number.NaN;
      },
      support: (t) => sumOver(t, TASKS.map(K.n)),
    },
  ];
  for (const task of TASKS) {
    defs.push({
      name: `task.${task}`,
      better: 'higher',
      value: (t) => taskScore(t, task),
      support: (t) => t.get(K.n(task)),
    });
  }
  const reportJudged = (t: Totals) =>
    (['tp', 'fp', 'fn', 'tn'] as const).reduce((s, o) => s + outcomes(t, o, ['report'], all), 0);
  defs.push(
    {
      name: 'report.micro_f1',
      better: 'higher',
      value: (t) => taskScore(t, 'report'),
      support: reportJudged,
    },
    { name: 'report.macro_f1', better: 'higher', value: reportMacroF1, support: reportJudged },
    {
      name: 'report.precision',
      better: 'higher',
      value: (t) =>
        ratio(
          outcomes(t, 'tp', ['report'], all),
          outcomes(t, 'tp', ['report'], all) + outcomes(t, 'fp', ['report'], all),
        ),
      support: reportJudged,
    },
    {
      name: 'report.recall',
      better: 'higher',
      value: (t) =>
        ratio(
          outcomes(t, 'tp', ['report'], all),
          outcomes(t, 'tp', ['report'], all) + outcomes(t, 'fn', ['report'], all),
        ),
      support: reportJudged,
    },
    { name: 'hallucination.rate', better: 'lower', ...hallucination(presence, all) },
    { name: 'omission.rate', better: 'lower', ...omission(presence, all) },
  );
  for (const source of presence) {
    defs.push(
      { name: `hallucination.${source}`, better: 'lower', ...hallucination([source], all) },
      { name: `omission.${source}`, better: 'lower', ...omission([source], all) },
    );
  }
  defs.push(...popeDefs(), {
    name: 'ece',
    better: 'lower',
    value: (t) => ece(t, bins),
    support: (t) =>
      sumOver(
        t,
        Array.from({ length: bins }, (_, b) => K.binN(b)),
      ),
  });
  for (const f of all) {
    defs.push(
      {
        name: `finding_accuracy.${f}`,
        better: 'higher',
        value: (t) => ratio(t.get(K.scoreF(f)), t.get(K.nF(f))),
        support: (t) => t.get(K.nF(f)),
      },
      { name: `hallucination.${f}`, better: 'lower', ...hallucination(presence, [f]) },
      { name: `omission.${f}`, better: 'lower', ...omission(presence, [f]) },
      {
        name: `report_f1.${f}`,
        better: 'higher',
        value: (t) =>
          f1(
            t.get(K.outcome('report', 'tp', f)),
            t.get(K.outcome('report', 'fp', f)),
            t.get(K.outcome('report', 'fn', f)),
          ),
        support: (t) => outcomes(t, 'tp', ['report'], [f]) + outcomes(t, 'fn', ['report'], [f]),
      },
      {
        name: `closed_recall_at_fpr10.${f}`,
        better: 'higher',
        value: (t) => recallAtFpr(t, f, 0.1),
        support: (t) => rocTotal(t, 'pos', f) + rocTotal(t, 'neg', f),
      },
    );
  }
  for (const task of TASKS) {
    for (const f of all) {
      defs.push({
        name: `accuracy.${task}.${f}`,
        better: 'higher',
        value: (t) => ratio(t.get(K.scoreTF(task, f)), t.get(K.nTF(task, f))),
        support: (t) => t.get(K.nTF(task, f)),
      });
    }
  }
  return defs;
}
