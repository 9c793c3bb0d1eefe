/**
 * One CheXPO round as numbered stages. Each takes its inputs and returns its results and the run
 * record's counts it fills; the runner (run.ts) records them, and each step's duration through `stage`.
 *
 * 1. mine: score a seeded subset of the SFT pool with the current version, pick the hard samples by the
 *    token-confidence criterion (thresholds chosen from this run's own error-vs-confidence curve), read
 *    the live hard examples;
 * 2. expand and select: index the pool's image embeddings for this version, expand hard benchmark
 *    samples and live hard examples by similarity (neighbours scored on demand, kept when also hard),
 *    balance per finding × task under the budget; optional extras then run on the selection only
 *    (cost ∝ selection): sampled answers for on-policy pairs, and marking the samples whose errors pairs
 *    cannot fix (invisible findings, answers the image does not drive);
 * 3. pairs: counterfactual pairs of the selection and pairs from live corrections, balanced by direction,
 *    cut to the budget, stored;
 * 4. dpo from the current version, with SFT replay;
 * 5. calibration: the risk calibrator refitted on the candidate;
 * 6. evaluation: current and candidate paired on the held-out test split, with the gate's decision;
 * 7. gate and publish: the gate's artefacts, then publishing the candidate and moving CURRENT.
 * Stages 1–2 are also the experiment's mining (`mineAndSelect`, experiment/arm-training.ts).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Rng } from '../data/random.ts';
import type { InstructionSample } from '../data/types.ts';
import { evaluate as evaluateMetrics, formatComparison } from '../eval/index.ts';
import { visibleFindings } from '../eval/visibility.ts';
import { renderedSize } from '../inference/offline/controls.ts';
import { readSplit, selectSamples } from '../inference/offline/dataset.ts';
import type { OpenedVersion, SplitData } from '../inference/offline/index.ts';
import { fitCalibration, runSplit } from '../inference/offline/run.ts';
import type { OperatingPointLimits } from '../inference/operating-point.ts';
import { gateSpec } from '../plots/eval.ts';
import { confidenceCurveSpec } from '../plots/mining.ts';
import { writePlot } from '../plots/render.ts';
import type { Registry } from '../registry/index.ts';
import type { ChexpoStore, PoolSample } from '../store/contract.ts';
import { sqlString } from '../store/sql.ts';
import { type LoopConfig, roundBudget } from './config.ts';
import { type RunRecordDpo, runRecordDpo, trainDpo } from './dpo/index.ts';
import type { ReplaySource } from './dpo/replay.ts';
import { LoopError } from './errors.ts';
import { type CandidateEvaluation, evaluateCandidate } from './evaluate-candidate.ts';
import { encoderSight } from './mining/encoder-sight.ts';
import {
  balanceSelection,
  benchmarkSeeds,
  caseEmbeddings,
  chooseThresholds,
  dedupeSelection,
  distribution,
  type ExpansionResult,
  expandBySimilarity,
  fixableCounts,
  formatDistribution,
  indexPool,
  type LiveMining,
  markFixable,
  readLiveHardExamples,
  sampleAnswers,
  scoreSamples,
  selectHard,
  type ThresholdResult,
  type Thresholds,
} from './mining/index.ts';
import { balancePairDirections } from './pairs/balance.ts';
import { ImageResolver, pairsForAll, summarizePairs, toPreferencePairs } from './pairs/index.ts';
import { usableWrongAnswer } from './pairs/kinds/on-policy.ts';
import { livePairs } from './pairs/live.ts';
import type { RunRecordDoc } from './record.ts';
import type { PairCandidate, ScoredSample, SelectedSample } from './types.ts';

/** Runs one named step of a stage: the loop run times it into the record, the experiment only logs it. */
export type StageRunner = <T>(name: string, fn: () => Promise<T>) => Promise<T>;

type Counts = RunRecordDoc['counts'];

/** What every stage reads: the run's settings and data, where it writes, and how it runs and logs steps. */
interface StageBase {
  store: ChexpoStore;
  dataDir: string;
  train: SplitData;
  config: LoopConfig;
  runDir: string;
  stage: StageRunner;
  log: (line: string) => void;
}

/** Stages 1–2: one opened copy of the current version serves mining, expansion and the extras. */
export interface SelectContext extends StageBase {
  model: OpenedVersion;
  baseVersion: string;
  /** The seeded subset of the SFT pool scored up front. */
  scoredSamples: InstructionSample[];
  /** Passes over the final selection, each off unless given. */
  extras?: SelectExtras;
}

/** Stages 3–7: the round's run id, the base version (DPO reference) and the served one (gate baseline). */
export interface RoundContext extends StageBase {
  runId: string;
  baseVersion: string;
  baseDir: string;
  /** CURRENT at the round's start: the gate compares the candidate with it and promotion swaps it out. */
  servedVersion: string;
  servedDir: string;
}

export interface SelectExtras {
  /** Sample k answers per selected sample (seeded by config.seed) for on-policy pairs. */
  onPolicySamples?: { k: number; temperature: number; topP: number };
  /** Mark selected samples invisible (no pairs) / prior-driven (image counterfactuals only). */
  fixable?: boolean;
}

export interface SelectionExtras {
  /** Sampled answers that are readable and wrong (each a possible on-policy rejection). */
  sampledWrong: number;
  /** Selected samples marked invisible / prior_driven. */
  invisible: number;
  priorDriven: number;
}

export interface Mined {
  scored: ScoredSample[];
  thresholds: Thresholds;
  hard: SelectedSample[];
  live: LiveMining | null;
  counts: Pick<Counts, 'scored' | 'hard' | 'live_seeds'>;
}

export interface Selection {
  selected: SelectedSample[];
  scored: ScoredSample[];
  thresholds: Thresholds;
  live: LiveMining | null;
  expansion: ExpansionResult | null;
  /** Counts of the extras that ran (null when none was asked for). */
  extras: SelectionExtras | null;
  /** Stage 1's counts and this stage's. */
  counts: Mined['counts'] & Pick<Counts, 'expanded' | 'selected' | 'selected_by_cell'>;
  /** Share of retrieved neighbours that were really hard (null without expansion). */
  retrievalPrecision: number | null;
}

const BATCH = 32;

/** Pool rows of one version: `<version>/<sample id>` (embeddings change with the encoder). */
export function poolPrefix(version: string): string {
  return `${version}/`;
}

/** The SQL filter selecting one version's pool rows. */
function poolFilter(version: string): string {
  return `id LIKE ${sqlString(`${poolPrefix(version)}%`)}`;
}

/** 1. Mine: the scored subset, its hard samples under this run's thresholds, and the live hard examples. */
export async function mine(ctx: SelectContext): Promise<Mined> {
  const scored = await ctx.stage('mining', () =>
    scoreSamples(ctx.model, ctx.dataDir, ctx.train.cases, ctx.scoredSamples, { batchSize: BATCH }),
  );
  const chosen = chooseThresholds(scored);
  await writeThresholds(ctx.runDir, chosen);
  const hard = selectHard(scored, chosen.thresholds);
  ctx.log(
    `mining: ${hard.length} of ${scored.length} scored samples are hard; thresholds ${JSON.stringify(chosen.thresholds)}`,
  );
  const c = ctx.config;
  const live = c.live.enabled ? await readLiveHardExamples(ctx.store, { limit: c.live.limit }) : null;
  return {
    scored,
    thresholds: chosen.thresholds,
    hard,
    live,
    counts: { scored: scored.length, hard: hard.length, live_seeds: live?.seeds.length ?? 0 },
  };
}

/** The confidence curve and the thresholds chosen from it, into the run directory. */
async function writeThresholds(runDir: string, chosen: ThresholdResult): Promise<void> {
  await writePlot(join(runDir, 'confidence-curve.png'), confidenceCurveSpec(chosen.curve, chosen.choices));
  await writeFile(
    join(runDir, 'thresholds.json'),
    `${JSON.stringify({ thresholds: chosen.thresholds, choices: chosen.choices, curve: chosen.curve }, null, 2)}\n`,
  );
}

/** 2. Expand and select: neighbours of the hard and live samples, balanced under `sampleBudget`, then the extras. */
export async function expandAndSelect(
  ctx: SelectContext,
  mined: Mined,
  sampleBudget: number,
): Promise<Selection> {
  const expansion = ctx.config.expansion.enabled ? await expand(ctx, mined) : null;
  const selected = await balanceUnderBudget(
    ctx,
    [...mined.hard, ...(expansion?.selected ?? [])],
    sampleBudget,
  );
  // Extras enrich the samples just selected (same samples, same order); counted apart.
  const enriched = await applyExtras(ctx, selected);
  return {
    selected: enriched.selected,
    scored: mined.scored,
    thresholds: mined.thresholds,
    live: mined.live,
    expansion,
    extras: enriched.extras,
    counts: {
      ...mined.counts,
      expanded: expansion?.selected.length ?? 0,
      selected: selected.length,
      selected_by_cell: countByCell(selected),
    },
    retrievalPrecision: expansion ? expansion.overall.precision : null,
  };
}

/** Stages 1–2 under the round's sample budget (the experiment's mining). */
export async function mineAndSelect(ctx: SelectContext): Promise<Selection> {
  const budget = roundBudget(ctx.train.samples.length, ctx.config);
  return expandAndSelect(ctx, await mine(ctx), budget.samples);
}

/** Indexes every training sample's case embedding under this version once; later runs reuse it. */
async function ensurePool(ctx: SelectContext): Promise<number> {
  const prefix = poolPrefix(ctx.baseVersion);
  const existing = await ctx.store.count('pool', poolFilter(ctx.baseVersion));
  if (existing > 0) return existing;
  const embeddings = await caseEmbeddings(ctx.model, ctx.dataDir, ctx.train.cases, ctx.train.samples, {
    batchSize: BATCH,
  });
  const entries = ctx.train.samples
    .filter((s) => embeddings.has(s.case_id))
    .map((s) => ({ sample: { ...s, id: `${prefix}${s.id}` }, embedding: embeddings.get(s.case_id)! }));
  await indexPool(ctx.store, entries, { batchSize: 5000 });
  await ctx.store.compact().catch((e) => ctx.log(`pool compaction skipped: ${String(e)}`));
  return entries.length;
}

/** Similarity expansion from the hard benchmark samples and the live seeds over this version's pool. */
async function expand(ctx: SelectContext, mined: Mined): Promise<ExpansionResult> {
  const poolRows = await ctx.stage('pool', () => ensurePool(ctx));
  ctx.log(`pool: ${poolRows} samples indexed for ${ctx.baseVersion}`);
  const c = ctx.config;
  const prefix = poolPrefix(ctx.baseVersion);
  const lookup = neighbourScores(ctx, mined.scored);
  const seeds = [...benchmarkSeeds(mined.hard), ...(mined.live?.seeds ?? [])];
  const expansion = await ctx.stage('expansion', () =>
    expandBySimilarity(ctx.store, seeds, lookup, {
      k: c.expansion.k,
      maxDistance: c.expansion.maxDistance,
      thresholds: mined.thresholds,
      where: poolFilter(ctx.baseVersion),
      alreadySelected: mined.hard.map((h) => `${prefix}${h.scored.sample.id}`),
    }),
  );
  ctx.log(
    `expansion: ${expansion.overall.retrieved} neighbours retrieved, ${expansion.overall.kept} kept, precision ${expansion.overall.precision?.toFixed(3) ?? 'n/a'}`,
  );
  return expansion;
}

/** The scores of retrieved pool rows; neighbours not scored yet are answered by the current model now (only those retrieved). */
function neighbourScores(ctx: SelectContext, scored: readonly ScoredSample[]) {
  const prefix = poolPrefix(ctx.baseVersion);
  const sampleIdOf = (row: PoolSample) => row.sample_id.slice(prefix.length);
  const known = new Map(scored.map((s) => [s.sample.id, s]));
  const byId = new Map(ctx.train.samples.map((s) => [s.id, s]));
  return async (rows: readonly PoolSample[]) => {
    const missing = rows
      .map((r) => byId.get(sampleIdOf(r)))
      .filter((s): s is InstructionSample => s !== undefined && !known.has(s.id));
    if (missing.length > 0)
      for (const s of await scoreSamples(ctx.model, ctx.dataDir, ctx.train.cases, missing, {
        batchSize: BATCH,
      }))
        known.set(s.sample.id, s);
    const out = new Map<string, ScoredSample>();
    for (const r of rows) {
      const s = known.get(sampleIdOf(r));
      if (s) out.set(r.id, s);
    }
    return out;
  };
}

/** The hard and expanded samples, deduplicated and balanced per finding × task under the sample budget. */
async function balanceUnderBudget(
  ctx: SelectContext,
  candidates: SelectedSample[],
  budget: number,
): Promise<SelectedSample[]> {
  const c = ctx.config;
  const selected = balanceSelection(dedupeSelection(candidates), {
    budget,
    capPerCell: c.balance.capPerCell,
    seed: c.seed,
  });
  const d = distribution(selected);
  await writeFile(join(ctx.runDir, 'selection.txt'), `${formatDistribution(d)}\n`);
  ctx.log(`selection: ${selected.length} samples (budget ${budget})\n${formatDistribution(d)}`);
  return selected;
}

/** `finding/task` → selected samples. */
function countByCell(selected: readonly SelectedSample[]): Record<string, number> {
  return Object.fromEntries(
    selected.reduce((m, s) => {
      const key = `${s.scored.sample.finding ?? 'none'}/${s.scored.sample.task}`;
      return m.set(key, (m.get(key) ?? 0) + 1);
    }, new Map<string, number>()),
  );
}

/** The extras asked for, over the balanced selection (same samples, same order; their scored records enriched). */
async function applyExtras(
  ctx: SelectContext,
  selected: SelectedSample[],
): Promise<{ selected: SelectedSample[]; extras: SelectionExtras | null }> {
  const x = ctx.extras;
  if (!x?.onPolicySamples && !x?.fixable) return { selected, extras: null };
  let scored = selected.map((s) => s.scored);
  const extras: SelectionExtras = { sampledWrong: 0, invisible: 0, priorDriven: 0 };
  if (x.onPolicySamples) {
    const sampled = await sampleOnPolicy(ctx, scored, x.onPolicySamples);
    scored = sampled.scored;
    extras.sampledWrong = sampled.wrong;
  }
  if (x.fixable) {
    scored = await markUnfixable(ctx, scored);
    const n = fixableCounts(scored);
    extras.invisible = n.invisible;
    extras.priorDriven = n.prior_driven;
  }
  return { selected: selected.map((s, i) => ({ ...s, scored: scored[i] })), extras };
}

/** k sampled answers per selected sample, for on-policy pairs; `wrong` counts the readable wrong ones. */
async function sampleOnPolicy(
  ctx: SelectContext,
  scored: ScoredSample[],
  o: NonNullable<SelectExtras['onPolicySamples']>,
): Promise<{ scored: ScoredSample[]; wrong: number }> {
  const sampled = await ctx.stage('sampling', () =>
    sampleAnswers(ctx.model, ctx.dataDir, ctx.train.cases, scored, {
      ...o,
      seed: ctx.config.seed,
      batchSize: BATCH,
    }),
  );
  let total = 0;
  let wrong = 0;
  let onlyFromSamples = 0;
  for (const s of sampled) {
    const g = { sample: s.sample, truth: s.case, chosen: s.sample.target_text };
    const w = (s.samples ?? []).filter((t) => usableWrongAnswer(g, t)).length;
    total += s.samples?.length ?? 0;
    wrong += w;
    if (w > 0 && !s.prediction.prompt_too_long && !usableWrongAnswer(g, s.prediction.text)) onlyFromSamples++;
  }
  ctx.log(
    `sampling: ${wrong} of ${total} sampled answers (k ${o.k}, T ${o.temperature}, top-p ${o.topP}) are readable and wrong; ${onlyFromSamples} of ${sampled.length} samples get an on-policy rejection only from a sample`,
  );
  return { scored: sampled, wrong };
}

/** Marks the selected samples whose errors pairs cannot fix (invisible at the model's size, prior-driven). */
async function markUnfixable(ctx: SelectContext, scored: ScoredSample[]): Promise<ScoredSample[]> {
  const size = ctx.model.version.config.imageSize;
  const m = ctx.config.mining;
  const sight = await encoderSight(ctx.model.version, ctx.dataDir, {
    minAuroc: m.encoderAuroc,
    cases: m.encoderCases,
    threads: ctx.config.threads,
  });
  if (sight.scores.length > 0)
    ctx.log(
      `encoder: finding-head AUROC on ${m.encoderCases} validation cases ${sight.scores.map((s) => `${s.finding} ${s.auroc.toFixed(2)}`).join(', ')}; unseen (< ${m.encoderAuroc}): ${[...sight.unseen].join(', ') || 'none'}`,
    );
  const visible = visibleFindings(size, { renderSize: await renderedSize(ctx.dataDir) });
  const marked = await ctx.stage('fixable', async () =>
    markFixable(ctx.model, ctx.dataDir, ctx.train.cases, scored, {
      visibleFindings: new Set([...visible].filter((f) => !sight.unseen.has(f))),
      seed: ctx.config.seed,
      batchSize: BATCH,
    }),
  );
  const n = fixableCounts(marked);
  ctx.log(
    `fixable: ${n.yes} of ${marked.length} selected samples fixable; ${n.invisible} invisible (at ${size} px or to the encoder), ${n.prior_driven} prior-driven (same answer on another patient's image): no pairs for the invisible, image counterfactuals only for the prior-driven`,
  );
  return marked;
}

export interface RoundPairs {
  pairs: PairCandidate[];
  counts: Pick<Counts, 'pairs' | 'pairs_by_kind'>;
}

/** 3. Pairs: the selection's counterfactual pairs and the live corrections', balanced by direction, cut to `budget`, stored. */
export async function makePairs(r: RoundContext, selection: Selection, budget: number): Promise<RoundPairs> {
  const c = r.config;
  const generated = await r.stage('pairs', async () =>
    pairsForAll(selection.selected, {
      kinds: c.pairs.kinds,
      maxPerSample: c.pairs.maxPerSample,
      seed: c.seed,
      ...(c.pairs.errorRateFloor === undefined ? {} : { errorRateFloor: c.pairs.errorRateFloor }),
    }),
  );
  generated.unshift(...livePairs(selection.live?.direct ?? [], c.seed));
  const balanced = balancePairDirections(generated, 2, c.pairs.absentPerPresent ?? 1, c.pairs.imageDirection);
  r.log(`pairs: ${generated.length} generated, ${balanced.length} after direction balancing`);
  const pairs = balanced.slice(0, budget);
  const counts = { pairs: pairs.length, pairs_by_kind: summarizePairs(pairs).byKind };
  r.log(`${pairs.length} preference pairs (budget ${budget}): ${JSON.stringify(counts.pairs_by_kind)}`);
  if (pairs.length === 0) throw new LoopError('LOOP_NO_PAIRS', 'no preference pairs to train on');
  // The pairs carry the round: how many runs the store has seen.
  await r.store.addPairs(toPreferencePairs(pairs, await r.store.count('runs'), r.runId));
  return { pairs, counts };
}

/** 4. DPO from the current version on the round's pairs; returns the trained staging version. */
export async function trainCandidate(
  r: RoundContext,
  pairs: PairCandidate[],
): Promise<{ versionDir: string; dpo: RunRecordDpo }> {
  const c = r.config;
  const baseConfig = (await loadJson(join(r.baseDir, 'config.json'))) as { imageSize: number };
  const resolver = new ImageResolver({ dataDir: r.dataDir, imageSize: baseConfig.imageSize, store: r.store });
  const dpo = await r.stage('dpo', () =>
    trainDpo({
      baseVersionDir: r.baseDir,
      pairs,
      resolveImage: (ref) => resolver.resolve(ref),
      outDir: join(r.runDir, 'dpo'),
      options: { ...c.dpo, seed: c.seed, intraOpThreads: c.threads },
      replay: replaySource(c, r.train, r.dataDir, pairs.length),
      onProgress: r.log,
    }),
  );
  return { versionDir: dpo.versionDir, dpo: runRecordDpo(dpo.summary) };
}

/** SFT samples for the replay term: a seeded draw of train samples, one per replayed row of the run. */
function replaySource(
  c: LoopConfig,
  train: SplitData,
  dataDir: string,
  pairs: number,
): ReplaySource | undefined {
  if (c.dpo.replayWeight <= 0) return undefined;
  const rows = Math.ceil(pairs / c.dpo.batchSize) * c.dpo.epochs * c.dpo.replayBatchSize;
  const samples = Rng.derive(c.seed, 'loop:replay')
    .shuffle([...train.samples])
    .slice(0, rows);
  return { dataDir, cases: train.cases, samples, answerWeight: c.dpo.replayAnswerWeight };
}

/**
 * 5. Calibration: the candidate's risk calibrator refitted on its own answers, and (operatingPoint.fit)
 * its closed-answer operating point first, within limits that default to the served version's own.
 */
export async function calibrate(
  r: RoundContext,
  candidateDir: string,
): Promise<RunRecordDoc['operating_point'] | undefined> {
  const c = r.config;
  const run = { threads: c.threads, limit: c.calibration.limit, seed: c.seed };
  const result = await r.stage('calibration', async () =>
    fitCalibration(candidateDir, r.dataDir, {
      ...run,
      ...(c.operatingPoint.fit ? { operatingPoint: await operatingPointLimits(r, run) } : {}),
    }),
  );
  const op = result.operatingPoint;
  if (op) {
    const row = op.table.find((t) => t.threshold === op.closed_yes_threshold)!;
    const { maxAdversarialYes: a, maxClosedHallucination: h } = op.fitted.limits;
    r.log(
      `operating point: yes when P(yes) > ${op.closed_yes_threshold} (validation: adversarial yes ${row.adversarial_yes.toFixed(3)} ≤ ${a.toFixed(3)}, closed hallucination ${row.hallucination_closed.toFixed(3)} ≤ ${h.toFixed(3)}, omission ${row.omission_closed.toFixed(3)}, primary ${row.primary.toFixed(3)}${op.fitted.met ? '' : '; limits not met at any threshold'})`,
    );
    return { closed_yes_threshold: op.closed_yes_threshold, limits: op.fitted.limits, met: op.fitted.met };
  }
  return undefined;
}

/** The configured limits, or the served version's own POPE adversarial yes and closed hallucination on validation. */
async function operatingPointLimits(
  r: RoundContext,
  run: { threads: number; limit: number; seed: number },
): Promise<OperatingPointLimits> {
  const { maxAdversarialYes, maxClosedHallucination } = r.config.operatingPoint;
  if (maxAdversarialYes !== undefined && maxClosedHallucination !== undefined)
    return { maxAdversarialYes, maxClosedHallucination };
  const validation = await readSplit(r.dataDir, 'validation');
  const samples = selectSamples(validation.samples, run.limit, run.seed);
  const predictions = await runSplit(r.servedDir, r.dataDir, 'validation', run);
  const { metrics } = evaluateMetrics(samples, predictions, { cases: validation.cases, resamples: 0 });
  return {
    maxAdversarialYes: maxAdversarialYes ?? metrics['pope.adversarial_yes_ratio']?.value ?? 0,
    maxClosedHallucination: maxClosedHallucination ?? metrics['hallucination.closed']?.value ?? 0,
  };
}

export interface Evaluated {
  evaluation: CandidateEvaluation;
  eval: NonNullable<RunRecordDoc['eval']>;
  gate: NonNullable<RunRecordDoc['gate']>;
}

/** 6. Evaluation: current and candidate on the same held-out test subset, and the gate's decision. */
export async function evaluate(r: RoundContext, candidateDir: string): Promise<Evaluated> {
  const c = r.config;
  const evaluation = await r.stage('evaluation', () =>
    evaluateCandidate(r.servedDir, candidateDir, r.dataDir, { ...c.eval, threads: c.threads, gate: c.gate }),
  );
  const primary = evaluation.comparison.metrics.primary;
  const { promote, reasons, checks } = evaluation.decision;
  return {
    evaluation,
    eval: {
      split: 'test',
      samples: evaluation.samples.length,
      seed: c.eval.seed,
      current: primary?.current ?? Number.NaN,
      candidate: primary?.candidate ?? Number.NaN,
    },
    gate: { promote, reasons, checks },
  };
}

/** 7a. The gate's artefacts in the run directory (gate.json, its chart, the comparison) and its reasons in the log. */
export async function writeGate(r: RoundContext, evaluation: CandidateEvaluation): Promise<void> {
  await writeFile(join(r.runDir, 'gate.json'), `${JSON.stringify(evaluation.gate, null, 2)}\n`);
  await writePlot(join(r.runDir, 'gate.png'), gateSpec(evaluation));
  await writeFile(
    join(r.runDir, 'comparison.txt'),
    `${formatComparison(evaluation.comparison, evaluation.decision)}\n`,
  );
  for (const line of evaluation.decision.reasons) r.log(`gate: ${line}`);
}

/** 7b. Why nothing may be published (CURRENT no longer names the version the gate compared with, e.g. a rollback), or null. */
export async function currentMoved(r: RoundContext, registry: Registry): Promise<string | null> {
  const now = await registry.current();
  if (now === r.servedVersion) return null;
  r.log(`CURRENT is ${now}, not ${r.servedVersion} the gate compared with: not publishing`);
  return `CURRENT moved from ${r.servedVersion} to ${now} during the round (a rollback?): nothing published`;
}

/** 7c. Publishes the candidate into the registry (CURRENT not moved yet); returns its version. */
export async function publishCandidate(
  r: RoundContext,
  registry: Registry,
  candidateDir: string,
  trained: { pairs: number; dpo: RunRecordDpo; evaluation: CandidateEvaluation; refused?: string[] },
): Promise<string> {
  const c = r.config;
  const refused = trained.refused
    ? `; refused by the gate (${trained.refused.join('; ')}), registered to start the next round`
    : '';
  const manifest = await registry.publish(candidateDir, {
    parent: r.baseVersion,
    config: (await loadJson(join(candidateDir, 'config.json'))) as Record<string, never>,
    data: {
      seed: c.seed,
      split: `preference pairs mined from train (${trained.pairs})`,
      generator: `chexpo loop run ${r.runId}`,
    },
    training: {
      command: `chexpo loop run (DPO ${c.dpo.lossType}, beta ${c.dpo.beta})${refused}`,
      run_id: r.runId,
      metrics: { steps: trained.dpo.steps, minutes: trained.dpo.minutes, final_loss: trained.dpo.final_loss },
    },
    eval: { ...trained.evaluation.candidate.record, split: 'test', seed: c.eval.seed } as never,
  });
  return manifest.version;
}

/** 7d. Moves CURRENT to `version`; returns why it did not (CURRENT moved meanwhile), or null. */
export async function makeCurrent(
  r: RoundContext,
  registry: Registry,
  version: string,
): Promise<string | null> {
  try {
    // Compare-and-swap against the version the gate beat: a rollback made during the round wins.
    await registry.setCurrent(
      version,
      { reason: `loop run ${r.runId}: gate passed`, actor: 'chexpo loop' },
      { expectFrom: r.servedVersion },
    );
    r.log(`published ${registry.name} ${version} and made it CURRENT`);
    return null;
  } catch (error) {
    if ((error as { code?: string }).code !== 'REGISTRY_CURRENT_MOVED') throw error;
    r.log(`published ${registry.name} ${version}; CURRENT moved meanwhile, so it stays as it is`);
    return `${(error as Error).message}; ${version} is published but not CURRENT`;
  }
}

async function loadJson(path: string): Promise<unknown> {
  return JSON.parse(await readFile(path, 'utf8'));
}
