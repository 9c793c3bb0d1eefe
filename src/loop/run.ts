/**
 * One CheXPO round: mine → expand → balance → counterfactual pairs → DPO from the current version →
 * refit the risk calibrator → paired evaluation on the held-out test split → gate → publish and
 * promote. Every stage's counts and timings go into the run record, which is written to the store at
 * the start (status `running`) and at the end (promoted | rejected | failed), and as `run.json` in the
 * run's work directory. A failure at any stage records `failed` and publishes nothing.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Rng } from '../data/random.ts';
import { formatComparison } from '../eval/index.ts';
import { openVersion, readSplit, type SplitData, selectSamples } from '../inference/offline/index.ts';
import { fitCalibration } from '../inference/offline/run.ts';
import { gateSpec } from '../plots/eval.ts';
import { writePlot } from '../plots/render.ts';
import { CHEXPO_VERSION_FILES, Registry } from '../registry/index.ts';
import type { ChexpoStore, RunStatus } from '../store/contract.ts';
import { type LoopConfig, miningExtras, roundBudget } from './config.ts';
import { runRecordDpo, trainDpo } from './dpo/index.ts';
import type { ReplaySource } from './dpo/replay.ts';
import { evaluateCandidate } from './evaluate-candidate.ts';
import { balancePairDirections } from './pairs/balance.ts';
import { ImageResolver, pairsForAll, toPreferencePairs } from './pairs/index.ts';
import { livePairs } from './pairs/live.ts';
import { emptyRunRecord, type RunRecordDoc, type RunTrigger } from './record.ts';
import { mineAndSelect } from './round.ts';
import type { PairCandidate } from './types.ts';

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
}

export interface LoopRunResult {
  record: RunRecordDoc;
  runDir: string;
  /** The trained staging version (kept in the run directory whatever the gate decided). */
  candidateDir: string | null;
}

function emptyRecord(o: LoopRunOptions, base: string): RunRecordDoc {
  return emptyRunRecord({
    id: o.runId,
    trigger: o.trigger,
    status: 'running',
    started_at: Date.now(),
    base_version: base,
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

/** Times a stage into record.durations. */
async function stage<T>(record: RunRecordDoc, name: string, log: (l: string) => void, fn: () => Promise<T>) {
  const started = performance.now();
  log(`[${name}] …`);
  const out = await fn();
  record.durations[name] = Math.round(performance.now() - started) / 1000;
  log(`[${name}] done in ${record.durations[name].toFixed(1)} s`);
  return out;
}

export async function runLoop(o: LoopRunOptions): Promise<LoopRunResult> {
  const c = o.config;
  const runDir = join(o.workDir, o.runId);
  await mkdir(runDir, { recursive: true });
  const registry = await Registry.open(o.registryRoot, o.name, { requiredFiles: CHEXPO_VERSION_FILES });
  let record: RunRecordDoc | null = null;
  let candidateDir: string | null = null;
  try {
    const base = await registry.current();
    if (!base)
      throw Object.assign(new Error(`registry ${o.name} has no CURRENT version`), {
        code: 'LOOP_NO_CURRENT',
      });
    const baseDir = registry.versionDir(base);
    record = emptyRecord(o, base);
    const rec = record;
    await saveRecord(o.store, runDir, rec);

    // Mining, expansion, balancing and pairs share one opened copy of the current version.
    const train = await readSplit(o.dataDir, 'train');
    const model = await openVersion(baseDir, { threads: c.threads });
    let candidates: PairCandidate[];
    let liveIds: string[] = [];
    try {
      const selection = await mineAndSelect({
        model,
        baseVersion: base,
        store: o.store,
        dataDir: o.dataDir,
        train,
        scoredSamples: selectSamples(train.samples, c.mining.limit, c.seed),
        config: c,
        runDir,
        record: rec,
        stage: (name, fn) => stage(rec, name, o.log, fn),
        log: o.log,
        extras: miningExtras(c),
      });
      liveIds = selection.live?.seeds.map((seed) => seed.id) ?? [];
      candidates = await stage(rec, 'pairs', o.log, async () =>
        pairsForAll(selection.selected, {
          kinds: c.pairs.kinds,
          maxPerSample: c.pairs.maxPerSample,
          seed: c.seed,
        }),
      );
      candidates.unshift(...livePairs(selection.live?.direct ?? [], c.seed));
      const generated = candidates.length;
      candidates = balancePairDirections(candidates);
      o.log(`pairs: ${generated} generated, ${candidates.length} after direction balancing`);
    } finally {
      await model.close();
    }
    const budget = roundBudget(train.samples.length, c).pairs;
    if (candidates.length > budget) candidates = candidates.slice(0, budget);
    rec.counts.pairs = candidates.length;
    for (const p of candidates)
      rec.counts.pairs_by_kind[p.kind] = (rec.counts.pairs_by_kind[p.kind] ?? 0) + 1;
    o.log(
      `${candidates.length} preference pairs (budget ${budget}): ${JSON.stringify(rec.counts.pairs_by_kind)}`,
    );
    if (candidates.length === 0)
      throw Object.assign(new Error('no preference pairs to train on'), { code: 'LOOP_NO_PAIRS' });
    await o.store.addPairs(toPreferencePairs(candidates, await roundOf(o.store), o.runId));

    const baseConfig = (await loadJson(join(baseDir, 'config.json'))) as { imageSize: number };
    const resolver = new ImageResolver({
      dataDir: o.dataDir,
      imageSize: baseConfig.imageSize,
      store: o.store,
    });
    const dpo = await stage(rec, 'dpo', o.log, () =>
      trainDpo({
        baseVersionDir: baseDir,
        pairs: candidates,
        resolveImage: (ref) => resolver.resolve(ref),
        outDir: join(runDir, 'dpo'),
        options: { ...c.dpo, seed: c.seed, intraOpThreads: c.threads },
        replay: replaySource(c, train, o.dataDir, candidates.length),
        onProgress: o.log,
      }),
    );
    candidateDir = dpo.versionDir;
    rec.dpo = runRecordDpo(dpo.summary);
    await stage(rec, 'calibration', o.log, () =>
      fitCalibration(candidateDir!, o.dataDir, {
        threads: c.threads,
        limit: c.calibration.limit,
        seed: c.seed,
      }),
    );
    const evaluation = await stage(rec, 'evaluation', o.log, () =>
      evaluateCandidate(baseDir, candidateDir!, o.dataDir, { ...c.eval, threads: c.threads, gate: c.gate }),
    );
    const primary = evaluation.comparison.metrics.primary;
    rec.eval = {
      split: 'test',
      samples: evaluation.samples.length,
      seed: c.eval.seed,
      current: primary?.current ?? Number.NaN,
      candidate: primary?.candidate ?? Number.NaN,
    };
    rec.gate = {
      promote: evaluation.decision.promote,
      reasons: evaluation.decision.reasons,
      checks: evaluation.decision.checks,
    };
    await writeFile(join(runDir, 'gate.json'), `${JSON.stringify(evaluation.gate, null, 2)}\n`);
    await writePlot(join(runDir, 'gate.png'), gateSpec(evaluation));
    await writeFile(
      join(runDir, 'comparison.txt'),
      `${formatComparison(evaluation.comparison, evaluation.decision)}\n`,
    );
    for (const line of evaluation.decision.reasons) o.log(`gate: ${line}`);

    let status: RunStatus = evaluation.decision.promote ? 'promoted' : 'rejected';
    if (status === 'promoted' && o.publish) status = await currentStillBase(registry, base, rec, o);
    if (status === 'promoted' && o.publish) {
      if (o.lease?.lost)
        throw Object.assign(new Error('the registry lease was taken over during the round'), {
          code: 'LOOP_LEASE_LOST',
        });
      const manifest = await registry.publish(candidateDir, {
        parent: base,
        config: (await loadJson(join(candidateDir, 'config.json'))) as Record<string, never>,
        data: {
          seed: c.seed,
          split: `preference pairs mined from train (${candidates.length})`,
          generator: `chexpo loop run ${o.runId}`,
        },
        training: {
          command: `chexpo loop run (DPO ${c.dpo.lossType}, beta ${c.dpo.beta})`,
          run_id: o.runId,
          metrics: { steps: rec.dpo.steps, minutes: rec.dpo.minutes, final_loss: rec.dpo.final_loss },
        },
        eval: { ...evaluation.candidate.record, split: 'test', seed: c.eval.seed } as never,
      });
      rec.candidate_version = manifest.version;
      try {
        // Compare-and-swap against the base: a rollback made during the round wins.
        await registry.setCurrent(
          manifest.version,
          { reason: `loop run ${o.runId}: gate passed`, actor: 'chexpo loop' },
          { expectFrom: base },
        );
        o.log(`published ${o.name} ${manifest.version} and made it CURRENT`);
      } catch (error) {
        if ((error as { code?: string }).code !== 'REGISTRY_CURRENT_MOVED') throw error;
        status = 'rejected';
        rec.gate?.reasons.push(
          `${(error as Error).message}; ${manifest.version} is published but not CURRENT`,
        );
        o.log(`published ${o.name} ${manifest.version}; CURRENT moved meanwhile, so it stays as it is`);
      }
    } else if (status === 'promoted') {
      status = 'succeeded';
    }
    // Live hard examples this run learned from are done; a failed run leaves them for the next one.
    if (liveIds.length > 0) await o.store.setStatus(liveIds, 'used');
    rec.status = status;
    rec.finished_at = Date.now();
    await saveRecord(o.store, runDir, rec);
    return { record: rec, runDir, candidateDir };
  } catch (error) {
    if (record) {
      record.status = 'failed';
      record.finished_at = Date.now();
      const e = error as { code?: string; message?: string };
      record.error = { code: e.code ?? 'LOOP_FAILED', message: String(e.message ?? error) };
      await saveRecord(o.store, runDir, record).catch(() => undefined);
    }
    throw error;
  } finally {
    registry.close();
  }
}

/** 'promoted' while CURRENT still names the round's base; else 'rejected' with the reason recorded. */
async function currentStillBase(
  registry: Registry,
  base: string,
  rec: RunRecordDoc,
  o: LoopRunOptions,
): Promise<RunStatus> {
  const now = await registry.current();
  if (now === base) return 'promoted';
  rec.gate?.reasons.push(
    `CURRENT moved from ${base} to ${now} during the round (a rollback?): nothing published`,
  );
  o.log(`CURRENT is ${now}, not the round's base ${base}: not publishing`);
  return 'rejected';
}

async function loadJson(path: string): Promise<unknown> {
  return JSON.parse(await readFile(path, 'utf8'));
}

/** The loop round: how many runs the store has seen (pairs carry it). */
async function roundOf(store: ChexpoStore): Promise<number> {
  return store.count('runs');
}
