/**
 * Several seeds of `chexpo experiment` side by side, read from their results.json files: each arm's
 * relative gain over SFT and over continued SFT per seed, the safety metrics against SFT, the
 * issue's targets checked per seed, and whether held-out preference accuracy follows the training
 * pairs' accuracy across runs (memorisation would leave it flat while the training accuracy rises).
 */
import { ARM_LABELS, type ArmName } from './arms.ts';
import type { RelativeGain } from './results-doc.ts';

/** One arm as docs/results.json carries it (the fields this summary reads). */
export interface ResultsJsonArm {
  arm: ArmName;
  primary: number | null;
  vs_sft: RelativeGain | null;
  vs_sft_continued: RelativeGain | null;
  pope_adversarial_yes: number | null;
  hallucination_closed: number | null;
  omission: number | null;
  permuted_primary?: number;
  findings_worse?: Array<{ finding: string; diff: number }>;
  heldout_preference_accuracy: number | null;
  train_preference_accuracy: number | null;
}

export interface ResultsJsonFile {
  base_version: string;
  seed?: number;
  question_only_primary?: number;
  arms: ResultsJsonArm[];
}

export interface SeedRun {
  label: string;
  results: ResultsJsonFile;
}

/** The targets for the full loop against SFT (docs: issue 11, section 3). */
export const TARGETS = { relativeGain: 0.0893, halve: 0.5, omissionSlack: 0.02 } as const;

const f3 = (x: number | null | undefined) => (x === null || x === undefined ? '—' : x.toFixed(3));
const pct = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}%`;
const gain = (g: RelativeGain | null) => (g ? `${pct(g.relative)} [${pct(g.lo)}, ${pct(g.hi)}]` : '—');
const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
const table = (head: string[], rows: string[][]) =>
  [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');

function armOf(run: SeedRun, arm: ArmName): ResultsJsonArm | undefined {
  return run.results.arms.find((a) => a.arm === arm);
}

/** Arms in the order of the first run, keeping any that only later runs have. */
function armOrder(runs: SeedRun[]): ArmName[] {
  const seen: ArmName[] = [];
  for (const r of runs) for (const a of r.results.arms) if (!seen.includes(a.arm)) seen.push(a.arm);
  return seen;
}

/** Relative primary gain against SFT and against continued SFT, one column per seed. */
export function gainsTable(runs: SeedRun[]): string {
  const head = [
    'arm',
    ...runs.map((r) => `vs SFT, ${r.label}`),
    ...runs.map((r) => `vs continued SFT, ${r.label}`),
    ...runs.map((r) => `primary (permuted), ${r.label}`),
  ];
  const rows = armOrder(runs).map((arm) => [
    ARM_LABELS[arm],
    ...runs.map((r) => gain(armOf(r, arm)?.vs_sft ?? null)),
    ...runs.map((r) => gain(armOf(r, arm)?.vs_sft_continued ?? null)),
    ...runs.map((r) => {
      const a = armOf(r, arm);
      return a ? `${f3(a.primary)} (${f3(a.permuted_primary)})` : '—';
    }),
  ]);
  return table(head, rows);
}

/** Hallucination, adversarial yes-ratio, omission and preference accuracy, "seed 0 / seed 1". */
export function safetyTable(runs: SeedRun[]): string {
  const labels = runs.map((r) => r.label).join(' / ');
  const per = (arm: ArmName, pick: (a: ResultsJsonArm) => string) =>
    runs
      .map((r) => {
        const a = armOf(r, arm);
        return a ? pick(a) : '—';
      })
      .join(' / ');
  const head = [
    `arm (${labels})`,
    'halluc. (closed)',
    'adv. yes',
    'omission',
    'pref. acc. held-out (train)',
    'findings worse (> 0.01, CI < 0)',
  ];
  const rows = armOrder(runs).map((arm) => [
    ARM_LABELS[arm],
    per(arm, (a) => f3(a.hallucination_closed)),
    per(arm, (a) => f3(a.pope_adversarial_yes)),
    per(arm, (a) => f3(a.omission)),
    per(arm, (a) =>
      a.heldout_preference_accuracy === null
        ? '—'
        : `${f3(a.heldout_preference_accuracy)} (${f3(a.train_preference_accuracy)})`,
    ),
    per(arm, (a) =>
      a.arm === 'sft'
        ? '—'
        : (a.findings_worse ?? []).length === 0
          ? 'none'
          : (a.findings_worse ?? []).map((f) => `${f.finding} ${f.diff.toFixed(3)}`).join(', '),
    ),
  ]);
  return table(head, rows);
}

export interface TargetCheck {
  label: string;
  target: string;
  met: boolean;
  detail: string;
}

/** The targets for `arm` (the full loop) against SFT and continued SFT, per seed. */
export function targetChecks(runs: SeedRun[], arm: ArmName = 'full_loop'): TargetCheck[] {
  const out: TargetCheck[] = [];
  for (const r of runs) {
    const a = armOf(r, arm);
    const sft = armOf(r, 'sft');
    if (!a || !sft) continue;
    const add = (target: string, met: boolean, detail: string) =>
      out.push({ label: r.label, target, met, detail });
    const g = a.vs_sft;
    if (g)
      add(
        `primary ≥ +${(100 * TARGETS.relativeGain).toFixed(2)}% over SFT, lower bound > 0`,
        g.relative >= TARGETS.relativeGain && g.lo > 0,
        `${gain(g)}; short by ${(100 * Math.max(0, TARGETS.relativeGain - g.relative)).toFixed(1)} points`,
      );
    if (a.vs_sft_continued)
      add('beats continued SFT, lower bound > 0', a.vs_sft_continued.lo > 0, gain(a.vs_sft_continued));
    const halved = (key: 'hallucination_closed' | 'pope_adversarial_yes', name: string) => {
      const before = sft[key];
      const after = a[key];
      if (before === null || after === null) return;
      add(`${name} halved`, after <= TARGETS.halve * before, `${f3(before)} → ${f3(after)}`);
    };
    halved('hallucination_closed', 'closed hallucination');
    halved('pope_adversarial_yes', 'POPE adversarial yes-ratio');
    if (sft.omission !== null && a.omission !== null)
      add(
        `omission no worse than +${TARGETS.omissionSlack}`,
        a.omission - sft.omission <= TARGETS.omissionSlack,
        `${f3(sft.omission)} → ${f3(a.omission)} (${a.omission >= sft.omission ? '+' : ''}${(a.omission - sft.omission).toFixed(3)})`,
      );
    if (a.findings_worse)
      add(
        "no finding's accuracy worse by > 0.01 beyond its interval",
        a.findings_worse.length === 0,
        a.findings_worse.length === 0 ? 'none' : a.findings_worse.map((f) => f.finding).join(', '),
      );
  }
  return out;
}

/** Ranks with ties averaged (1-based). */
function ranks(xs: number[]): number[] {
  const order = xs.map((x, i) => [x, i] as const).sort((p, q) => p[0] - q[0]);
  const r = new Array<number>(xs.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    for (let k = i; k <= j; k++) r[order[k][1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return r;
}

function pearson(x: number[], y: number[]): number {
  const n = x.length;
  const mx = x.reduce((s, v) => s + v, 0) / n;
  const my = y.reduce((s, v) => s + v, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxx === 0 || syy === 0 ? Number.NaN : sxy / Math.sqrt(sxx * syy);
}

export interface PreferenceTrend {
  runs: number;
  /** Spearman's rank correlation of held-out with training-pair preference accuracy. */
  spearman: number;
  /** Mean training minus held-out accuracy: the memorised share of the margin. */
  meanGap: number;
}

/** Across every DPO arm of every seed: does held-out preference accuracy rise with the training pairs'? */
export function preferenceTrend(runs: SeedRun[]): PreferenceTrend | null {
  const points = runs.flatMap((r) =>
    r.results.arms.flatMap((a) =>
      a.heldout_preference_accuracy !== null && a.train_preference_accuracy !== null
        ? [[a.train_preference_accuracy, a.heldout_preference_accuracy] as const]
        : [],
    ),
  );
  if (points.length < 3) return null;
  const train = points.map((p) => p[0]);
  const held = points.map((p) => p[1]);
  return {
    runs: points.length,
    spearman: pearson(ranks(train), ranks(held)),
    meanGap: points.reduce((s, p) => s + p[0] - p[1], 0) / points.length,
  };
}

export function seedsSummary(runs: SeedRun[]): string {
  const checks = targetChecks(runs);
  const trend = preferenceTrend(runs);
  const bases = [...new Set(runs.map((r) => r.results.base_version))].join(', ');
  const blind = runs.map((r) => `${r.label} ${f3(r.results.question_only_primary)}`).join(', ');
  return [
    `Base: ${bases}. Question-only baseline: ${blind}.`,
    '',
    gainsTable(runs),
    '',
    safetyTable(runs),
    '',
    'Targets (full loop against SFT):',
    ...checks.map((c) => `- ${c.label}: ${c.target}: **${c.met ? 'met' : 'missed'}** (${c.detail})`),
    '',
    trend
      ? `Preference accuracy over ${trend.runs} DPO runs: Spearman ρ(train, held-out) = ${trend.spearman.toFixed(2)}, mean train − held-out gap ${trend.meanGap.toFixed(3)}.`
      : 'Preference accuracy: fewer than 3 DPO runs, no trend.',
  ].join('\n');
}
