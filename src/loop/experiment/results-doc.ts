/**
 * docs/results.md and docs/results.json from an experiment: the ablation table with its controls,
 * relative gains over SFT and over continued SFT with paired intervals, and how it was made.
 */
import type { Comparison, MetricDifference } from '../../eval/index.ts';
import { ARM_LABELS } from './arms.ts';
import type { ArmResult, ExperimentResult } from './run-experiment.ts';

const COLUMNS: Array<[string, string]> = [
  ['task.closed', 'closed'],
  ['task.choice', 'choice'],
  ['task.open', 'open'],
  ['task.abnormality_list', 'list F1'],
  ['report.micro_f1', 'report F1'],
  ['hallucination.closed', 'halluc. (closed)'],
  ['omission.rate', 'omission'],
  ['pope.adversarial_yes_ratio', 'adv. yes'],
  ['primary', 'primary'],
];

const f3 = (x: number | undefined | null): string =>
  x === undefined || x === null || Number.isNaN(x) ? 'n/a' : x.toFixed(3);
const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}%`;

export interface RelativeGain {
  relative: number;
  lo: number;
  hi: number;
}

/** Relative primary gain of the candidate over the comparison's current model, with its interval. */
export function relativeGain(c: Comparison | null): RelativeGain | null {
  const p = c?.metrics.primary;
  if (!p) return null;
  return { relative: p.diff / p.current, lo: p.lo / p.current, hi: p.hi / p.current };
}

export interface FindingFall {
  finding: string;
  diff: number;
  lo: number;
  hi: number;
}

/**
 * Findings whose accuracy fell by more than `margin` with the whole interval below 0 (the issue's "no
 * finding's accuracy falls by more than 0.01 beyond its interval"), worst first.
 */
export function findingsWorse(c: Comparison | null, margin = 0.01): FindingFall[] {
  const prefix = 'finding_accuracy.';
  return Object.entries(c?.metrics ?? {})
    .filter(([k, d]) => k.startsWith(prefix) && d.diff < -margin && d.hi < 0)
    .map(([k, d]) => ({ finding: k.slice(prefix.length), diff: d.diff, lo: d.lo, hi: d.hi }))
    .sort((a, b) => a.diff - b.diff);
}

const fallsCell = (falls: FindingFall[]) =>
  falls.length === 0 ? 'none' : falls.map((f) => `${f.finding} ${f.diff.toFixed(3)}`).join(', ');

const gainCell = (g: RelativeGain | null) => (g ? `${pct(g.relative)} [${pct(g.lo)}, ${pct(g.hi)}]` : '—');

function cell(d: MetricDifference | undefined, isBase: boolean): string {
  if (!d) return 'n/a';
  return isBase ? f3(d.current) : f3(d.candidate);
}

/** Held-out preference accuracy (and the training pairs'), the last run's for the full loop. */
function preferenceCell(a: ArmResult): string {
  const last = a.dpo?.at(-1);
  if (!last) return '—';
  return `${f3(last.heldout_accuracy)} (${f3(last.train_set_accuracy)})`;
}

export function resultsTable(r: ExperimentResult): string {
  const head = [
    'arm',
    'pairs',
    'steps',
    ...COLUMNS.map(([, h]) => h),
    'permuted',
    'findings worse (> 0.01, CI < 0)',
    'pref. acc. held-out (train)',
    'vs SFT [95% CI]',
    'vs continued SFT [95% CI]',
  ];
  const rows = r.arms.map((a) => {
    const m = a.comparison.metrics;
    const isBase = a.arm === 'sft';
    return [
      ARM_LABELS[a.arm],
      String(a.pairs),
      String(a.steps),
      ...COLUMNS.map(([k]) => cell(m[k], isBase)),
      f3(a.permutedPrimary),
      isBase ? '—' : fallsCell(findingsWorse(a.comparison)),
      preferenceCell(a),
      isBase ? '—' : gainCell(relativeGain(a.comparison)),
      gainCell(relativeGain(a.vsContinued)),
    ];
  });
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

/** docs/results.json: one object per arm for scripts (ids as in ARM_NAMES). */
export function resultsJson(r: ExperimentResult): object {
  const metric = (a: ArmResult, key: string) => {
    const d = a.comparison.metrics[key];
    return d ? (a.arm === 'sft' ? d.current : d.candidate) : null;
  };
  return {
    base_version: r.baseVersion,
    seed: r.seed,
    eval_split: r.evalSplit,
    eval_samples: r.evalSamples,
    eval_cases: r.evalCases,
    question_only_primary: r.questionOnlyPrimary,
    pair_budget: r.budget,
    arms: r.arms.map((a) => ({
      arm: a.arm,
      primary: metric(a, 'primary'),
      vs_sft: a.arm === 'sft' ? null : relativeGain(a.comparison),
      vs_sft_continued: relativeGain(a.vsContinued),
      pope_adversarial_yes: metric(a, 'pope.adversarial_yes_ratio'),
      hallucination_closed: metric(a, 'hallucination.closed'),
      omission: metric(a, 'omission.rate'),
      permuted_primary: a.permutedPrimary,
      findings_worse: a.arm === 'sft' ? [] : findingsWorse(a.comparison),
      heldout_preference_accuracy: a.dpo?.at(-1)?.heldout_accuracy ?? null,
      train_preference_accuracy: a.dpo?.at(-1)?.train_set_accuracy ?? null,
      pairs: a.pairs,
      pairs_by_kind: a.pairsByKind,
      steps: a.steps,
      tokens: a.tokens,
    })),
  };
}

export function resultsDoc(r: ExperimentResult, command: string, machine: string): string {
  const kinds = r.arms
    .filter((a) => Object.keys(a.pairsByKind).length > 0)
    .map(
      (a) =>
        `- ${ARM_LABELS[a.arm]}: ${Object.entries(a.pairsByKind)
          .map(([k, n]) => `${k} ${n}`)
          .join(', ')}`,
    );
  const dpo = r.arms.flatMap((a) =>
    (a.dpo ?? []).map(
      (d, i) =>
        `- ${ARM_LABELS[a.arm]}${(a.dpo?.length ?? 0) > 1 ? ` (round ${i + 1})` : ''}: ${d.steps} steps, training-pair reward accuracy ${f3(d.train_set_accuracy)}, held-out ${f3(d.heldout_accuracy)} on ${d.heldout_pairs} validation pairs, mean log-prob change chosen ${d.logp_chosen_change.toFixed(3)} / rejected ${d.logp_rejected_change.toFixed(3)} nats`,
    ),
  );
  const tokens = r.arms
    .filter((a) => a.arm !== 'sft')
    .map((a) => `${a.arm} ${(a.tokens / 1e6).toFixed(2)} M`)
    .join(', ');
  return `# Results: the CheXPO ablation on chexpo-tiny

Generated by \`${command}\` (${r.minutes.toFixed(0)} min on ${machine}). Re-running the command with the
same data set and seed reproduces the selections, pairs and evaluation subset; ORT's float reductions on
another machine may move the last digit.

- Base model: ${r.baseVersion} (SFT). SFT pool: ${r.sftSamples} training samples.
- Mining: ${r.scored} SFT samples scored (seeded subset of the train split), ${r.hard} hard by the token-confidence
  criterion; similarity expansion over the whole train split indexed in LanceDB, retrieval precision
  ${r.retrievalPrecision === null ? 'n/a' : r.retrievalPrecision.toFixed(3)}.
- Selections (samples): random ${r.selections.random}, confidence-mined ${r.selections.confidence}, confidence + similarity ${r.selections.confSim}.
- Budget: every DPO arm trains on **${r.budget} pairs** (the smallest arm's pair count, capped at 5% of the SFT
  samples); the full loop splits them over its rounds. Continued SFT trains with SFT's recipe for the same steps,
  each step as many sequences as a DPO step (both sides of every pair plus the replay batch). Tokens trained on: ${tokens}.
- Evaluation: ${r.evalSamples} ${r.evalSplit} samples of ${r.evalCases} patients (never mined), each arm compared with
  the SFT release and with continued SFT on the same samples by a paired case bootstrap (95% percentile intervals).
- Controls: "permuted" is the arm's primary score with every case shown another patient's image; the image-blind
  baseline (question only, constant list and report, fitted on train) scores **${f3(r.questionOnlyPrimary)}**.

${resultsTable(r)}

Columns: task scores (accuracy; F1 for lists and reports), hallucination in closed answers, omission rate,
POPE yes-ratio on adversarial (co-occurring) absent findings, the primary score (mean of the five task scores),
the primary with permuted images, the findings whose accuracy against SFT fell by more than 0.01 with the
whole interval below 0, held-out preference accuracy (share of validation-patient pairs whose reward
margin is positive after training; the training pairs' in brackets), and the relative primary gain with its
interval. Lower is better for halluc., omission and adv. yes.

Pairs by kind:
${kinds.join('\n')}

DPO runs:
${dpo.join('\n')}
`;
}
