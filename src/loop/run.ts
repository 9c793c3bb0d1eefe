/**
 * The runner of one CheXPO round: its numbered stages (round.ts) run in order against the registry's
 * CURRENT version, and their counts, results and step timings go into the run record, which is written
 * to the store at the start (status `running`) and at the end (promoted | rejected | failed), and as
 * `run.json` in the run's work directory. A failure at any stage records `failed` and publishes nothing.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openVersion, readSplit, type SplitData, selectSamples } from '../inference/offline/index.ts';
import { CHEXPO_VERSION_FILES, Registry } from '../registry/index.ts';
import type { ChexpoStore, RunStatus } from '../store/contract.ts';
import { type LoopConfig, miningExtras, roundBudget } from './config.ts';
import { LoopError } from './errors.ts';
import { emptyRunRecord, type RunRecordDoc, type RunTrigger } from './record.ts';
import {
  calibrate,
  currentMoved,
  type Evaluated,
  evaluate,
  expandAndSelect,
  makeCurrent,
  makePairs,
  mine,
  publishCandidate,
  type RoundContext,
  type Selection,
  type StageRunner,
  trainCandidate,
  writeGate,
} from './round.ts';

export interface LoopRunOptions {
  registryRoot: string;
  name: string;
  store: ChexpoStore;
  /** The labelled SFT data set the loop mines (and the test split the gate evaluates on). */
  dataDir: string;
  runId: string;
  trigger: RunTrigger;
  config: LoopConfig;
  /** Run directory root; this run writes `<workDir>/<runId>/`. */
  workDir: string;
  /** Publish into the registry and move CURRENT when the gate says so (false: experiments). */
  publish: boolean;
  log: (line: string) => void;
  /** The registry's single-writer lease (src/registry/lease.ts), held by `chexpo loop run`: a lost lease publishes nothing. */
  lease?: { readonly lost: boolean };
  /**
   * Train from this registered version instead of CURRENT (a new SFT release that does not serve yet);
   * the gate still compares with CURRENT, so a promotion means better than what serves.
   */
  base?: string;
  /**
   * Publish a candidate the gate refuses as a registered version, CURRENT untouched, so a next round can
   * start from it (`chexpo loop run --continue-rejected`); its manifest carries the refusal.
   */
  registerRejected?: boolean;
}

export interface LoopRunResult {
  record: RunRecordDoc;
  runDir: string;
  /** The trained staging version (kept in the run directory whatever the gate decided). */
  candidateDir: string | null;
}

function emptyRecord(o: LoopRunOptions, base: string, served: string): RunRecordDoc {
  return emptyRunRecord({
    id: o.runId,
    trigger: o.trigger,
    status: 'running',
    started_at: Date.now(),
    base_version: base,
    served_version: served,
    config: o.config as unknown as Record<string, unknown>,
  });
}

async function saveRecord(store: ChexpoStore, runDir: string, record: RunRecordDoc): Promise<void> {
  await writeFile(join(runDir, 'run.json'), `${JSON.stringify(record, null, 2)}\n`);
  await store.putRun({
    id: record.id,
    started_at: record.started_at,
    finished_at: record.finished_at,
    status: record.status,
    record: JSON.stringify(record),
  });
}

/** Runs a stage's step, logged and timed into record.durations. */
function stageTimer(record: RunRecordDoc, log: (l: string) => void): StageRunner {
  return async (name, fn) => {
    const started = performance.now();
    log(`[${name}] …`);
    const out = await fn();
    record.durations[name] = Math.round(performance.now() - started) / 1000;
    log(`[${name}] done in ${record.durations[name].toFixed(1)} s`);
    return out;
  };
}

export async function runLoop(o: LoopRunOptions): Promise<LoopRunResult> {
  const runDir = join(o.workDir, o.runId);
  await mkdir(runDir, { recursive: true });
  const registry = await Registry.open(o.registryRoot, o.name, { requiredFiles: CHEXPO_VERSION_FILES });
  let record: RunRecordDoc | null = null;
  try {
    const served = await registry.current();
    if (!served) throw new LoopError('LOOP_NO_CURRENT', `registry ${o.name} has no CURRENT version`);
    const base = o.base ?? served;
    if (base !== served) await assertBase(registry, base);
    record = emptyRecord(o, base, served);
    await saveRecord(o.store, runDir, record);
    const { status, candidateDir } = await runStages(o, registry, record, runDir);
    record.status = status;
    record.finished_at = Date.now();
    await saveRecord(o.store, runDir, record);
    return { record, runDir, candidateDir };
  } catch (error) {
    if (record) await saveFailed(o.store, runDir, record, error);
    throw error;
  } finally {
    registry.close();
  }
}

/** A base other than CURRENT must be a published version of the same registry. */
async function assertBase(registry: Registry, base: string): Promise<void> {
  try {
    await registry.get(base);
  } catch (error) {
    throw new LoopError(
      'LOOP_UNKNOWN_BASE',
      `cannot start the round from ${base}: ${(error as Error).message}`,
    );
  }
}

async function saveFailed(store: ChexpoStore, runDir: string, record: RunRecordDoc, error: unknown) {
  record.status = 'failed';
  record.finished_at = Date.now();
  const e = error as { code?: string; message?: string };
  record.error = { code: e.code ?? 'LOOP_FAILED', message: String(e.message ?? error) };
  await saveRecord(store, runDir, record).catch(() => undefined);
}

/** Stages 1–7 from the record's base version, each one's results recorded as it returns. */
async function runStages(
  o: LoopRunOptions,
  registry: Registry,
  rec: RunRecordDoc,
  runDir: string,
): Promise<{ status: RunStatus; candidateDir: string }> {
  const train = await readSplit(o.dataDir, 'train');
  const r = roundContext(o, registry, rec, runDir, train);
  const budget = roundBudget(train.samples.length, o.config);
  const selection = await mineWithCurrent(r, rec, budget.samples);
  const pairs = await makePairs(r, selection, budget.pairs);
  Object.assign(rec.counts, pairs.counts);
  const candidate = await trainCandidate(r, pairs.pairs);
  rec.dpo = candidate.dpo;
  const operatingPoint = await calibrate(r, candidate.versionDir);
  if (operatingPoint) rec.operating_point = operatingPoint;
  const evaluated = await evaluate(r, candidate.versionDir);
  rec.eval = evaluated.eval;
  rec.gate = evaluated.gate;
  await writeGate(r, evaluated.evaluation);
  const status = await gateAndPublish(o, registry, r, rec, {
    candidateDir: candidate.versionDir,
    pairs: pairs.pairs.length,
    evaluated,
  });
  // Live hard examples this run learned from are done; a failed run leaves them for the next one.
  const liveIds = selection.live?.seeds.map((seed) => seed.id) ?? [];
  if (liveIds.length > 0) await o.store.setStatus(liveIds, 'used');
  return { status, candidateDir: candidate.versionDir };
}

function roundContext(
  o: LoopRunOptions,
  registry: Registry,
  rec: RunRecordDoc,
  runDir: string,
  train: SplitData,
): RoundContext {
  const { store, dataDir, config, runId, log } = o;
  const baseVersion = rec.base_version;
  const baseDir = registry.versionDir(baseVersion);
  const servedVersion = rec.served_version ?? baseVersion;
  return {
    store,
    dataDir,
    train,
    config,
    runDir,
    stage: stageTimer(rec, log),
    log,
    runId,
    baseVersion,
    baseDir,
    servedVersion,
    servedDir: registry.versionDir(servedVersion),
  };
}

/** Stages 1–2 with one opened copy of the current version (mining, expansion and the extras share it). */
async function mineWithCurrent(r: RoundContext, rec: RunRecordDoc, sampleBudget: number): Promise<Selection> {
  const c = r.config;
  const model = await openVersion(r.baseDir, { threads: c.threads });
  try {
    const ctx = {
      ...r,
      model,
      scoredSamples: selectSamples(r.train.samples, c.mining.limit, c.seed),
      extras: miningExtras(c),
    };
    const mined = await mine(ctx);
    Object.assign(rec.counts, mined.counts);
    const selection = await expandAndSelect(ctx, mined, sampleBudget);
    Object.assign(rec.counts, selection.counts);
    rec.retrieval_precision = selection.retrievalPrecision;
    return selection;
  } finally {
    await model.close();
  }
}

/**
 * Stage 7 after the gate's artefacts: 'rejected' when the gate said no or CURRENT moved, 'succeeded'
 * when the gate said yes but the run publishes nothing (experiments), else published and 'promoted'.
 */
async function gateAndPublish(
  o: LoopRunOptions,
  registry: Registry,
  r: RoundContext,
  rec: RunRecordDoc,
  trained: { candidateDir: string; pairs: number; evaluated: Evaluated },
): Promise<RunStatus> {
  if (!trained.evaluated.gate.promote) {
    if (o.publish && o.registerRejected && !o.lease?.lost) {
      rec.candidate_version = await publishCandidate(r, registry, trained.candidateDir, {
        pairs: trained.pairs,
        dpo: rec.dpo!,
        evaluation: trained.evaluated.evaluation,
        refused: rec.gate?.reasons ?? [],
      });
      r.log(`registered the refused candidate as ${rec.candidate_version} (not CURRENT)`);
    }
    return 'rejected';
  }
  if (!o.publish) return 'succeeded';
  const moved = await currentMoved(r, registry);
  if (moved) {
    rec.gate?.reasons.push(moved);
    return 'rejected';
  }
  if (o.lease?.lost)
    throw new LoopError('LOOP_LEASE_LOST', 'the registry lease was taken over during the round');
  rec.candidate_version = await publishCandidate(r, registry, trained.candidateDir, {
    pairs: trained.pairs,
    dpo: rec.dpo!,
    evaluation: trained.evaluated.evaluation,
  });
  const refused = await makeCurrent(r, registry, rec.candidate_version);
  if (refused) rec.gate?.reasons.push(refused);
  return refused ? 'rejected' : 'promoted';
}
