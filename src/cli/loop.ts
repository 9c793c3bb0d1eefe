/**
 * `chexpo loop run`: one CheXPO round against a registry and a store (what the scheduled trainer and
 * `POST /v1/admin/train` start in a child process). `chexpo loop export`: a round's preference pairs
 * as a TRL dataset.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { resolveLoopConfig } from '../loop/config.ts';
import { ensureLoopData } from '../loop/loop-data.ts';
import { exitWithParent } from '../loop/parent-watch.ts';
import type { RunTrigger } from '../loop/record.ts';
import { runLoop } from '../loop/run.ts';
import { CHEXPO_VERSION_FILES, leasePath, Registry, RoundLease } from '../registry/index.ts';
import { LanceStore } from '../store/index.ts';
import { parseCommandArgs, UsageError } from './args.ts';

const HELP = `usage: chexpo loop run --registry ROOT --store URI [--name NAME] [--data DIR] [--run-id ID]
         [--trigger manual|schedule|hard_examples|admin] [--threads N] [--config loop.json] [--work DIR] [--no-publish]
         [--rounds N] [--continue-rejected] [--base VERSION] [--json]   (progress on stderr; stdout: each round's run record as one JSON object per line)
       chexpo loop export --store URI --data DIR --out DIR [--round N] [--json]   ('chexpo loop export --help')

run: mines hard examples with the CURRENT version, expands them by image similarity in the store,
builds counterfactual preference pairs, trains DPO, refits the risk calibrator, compares candidate and
current on the held-out test split and publishes + promotes the candidate only when the gate passes.
--rounds N runs up to N rounds in a row, each from the version the previous one published (fresh mining
and on-policy samples, that version as the DPO reference); a round the gate rejects ends the sequence, unless
--continue-rejected: then its candidate is registered (not CURRENT, the refusal in its manifest) and the next
round starts from it, each round still gated against CURRENT.
--base VERSION starts the first round from that registered version instead of CURRENT (mining, pairs and
the DPO reference; e.g. a new SFT release that is not served yet); the gate still compares the candidate with
CURRENT, so a promotion always means better than what serves. Later rounds start from what the previous published.
Without --data a phantom pool is synthesised once under <work>/loop-data.`;

const TRIGGERS: RunTrigger[] = ['manual', 'schedule', 'hard_examples', 'admin', 'experiment'];

export async function loopCommand(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub === 'run') return loopRun(rest);
  if (sub === 'export') return (await import('./loop-export.ts')).loopExport(rest);
  console.log(HELP);
  if (sub !== undefined && sub !== '--help' && sub !== '-h')
    throw new UsageError(`unknown loop subcommand '${sub}'`);
}

async function loopRun(argv: string[]): Promise<void> {
  const { values } = parseCommandArgs(HELP, {
    args: argv,
    options: {
      registry: { type: 'string' },
      name: { type: 'string', default: 'chexpo-tiny' },
      store: { type: 'string' },
      data: { type: 'string' },
      'run-id': { type: 'string' },
      trigger: { type: 'string', default: 'manual' },
      threads: { type: 'string' },
      config: { type: 'string' },
      work: { type: 'string', default: './var/runs' },
      'no-publish': { type: 'boolean', default: false },
      rounds: { type: 'string', default: '1' },
      base: { type: 'string' },
      'continue-rejected': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  if (!values.registry || !values.store)
    throw new UsageError(`--registry and --store are required\n\n${HELP}`);
  // With --json, progress goes to stderr and stdout carries the run record as one JSON object.
  const say = values.json ? console.error : console.log;
  const trigger = values.trigger as RunTrigger;
  if (!TRIGGERS.includes(trigger)) throw new UsageError(`--trigger must be one of ${TRIGGERS.join(', ')}`);
  const partial = values.config ? JSON.parse(await readFile(values.config, 'utf8')) : {};
  if (values.threads) partial.threads = Number(values.threads);
  const config = resolveLoopConfig(partial);
  const workDir = resolve(values.work);
  const dataDir = values.data ? resolve(values.data) : await ensureLoopData(join(workDir, 'loop-data'), say);
  if (!existsSync(join(dataDir, 'manifest.json')))
    throw new Error(`${dataDir} is not a chexpo data set (no manifest.json)`);
  const rounds = Number(values.rounds);
  if (!(Number.isInteger(rounds) && rounds >= 1)) throw new UsageError(`--rounds must be a whole number ≥ 1`);
  const runId =
    values['run-id'] ?? `run-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}`;
  const embeddingDim = await storeEmbeddingDim(resolve(values.registry), values.name, values.base);
  // Watch the parent first: if it dies while the lease is being taken, the exit hook of the lease
  // module gives back whatever was taken.
  const unwatch = exitWithParent(() => {});
  // One writer of versions at a time, across processes and hosts sharing the registry.
  const lease = values['no-publish']
    ? null
    : await RoundLease.acquire(leasePath(resolve(values.registry), values.name), {
        holder: 'chexpo loop run',
        runId,
        onLost: () => console.error('the registry lease was taken over: this round will not publish'),
      });
  let store: LanceStore | null = null;
  try {
    store = await LanceStore.open({ uri: values.store, embeddingDim });
    // Each round starts from the CURRENT the previous one published (its reference), with fresh mining
    // (another seeded subset, fresh on-policy samples); a round the gate rejects ends the sequence, or
    // with --continue-rejected hands its registered candidate to the next round as the base.
    const chain = values['continue-rejected'];
    let base = values.base;
    for (let round = 1; round <= rounds; round++) {
      const id = rounds > 1 ? `${runId}-r${round}` : runId;
      const { record, runDir } = await runLoop({
        registryRoot: resolve(values.registry),
        name: values.name,
        store,
        dataDir,
        runId: id,
        trigger,
        config: { ...config, seed: config.seed + round - 1 },
        workDir,
        publish: !values['no-publish'],
        log: (line) => say(line),
        lease: lease ?? undefined,
        ...(base ? { base } : {}),
        registerRejected: chain && round < rounds,
      });
      if (values.json) console.log(JSON.stringify({ run_dir: runDir, ...record }));
      else console.log(`run ${id}: ${record.status} (record in ${join(runDir, 'run.json')})`);
      // After a promotion the next round starts from CURRENT (the new version); a registered refusal is the next base.
      base = record.status !== 'promoted' && chain ? (record.candidate_version ?? undefined) : undefined;
      if (round < rounds && (values['no-publish'] || (record.status !== 'promoted' && !base))) {
        say(
          `round ${round} was ${record.status}${values['no-publish'] ? ' (not published)' : ''}: no further rounds`,
        );
        break;
      }
    }
  } finally {
    unwatch();
    await lease?.release();
    await store?.close();
  }
}

/** The store's vector width is the current version's embedding width; a --base version must share it. */
async function storeEmbeddingDim(root: string, name: string, base?: string): Promise<number> {
  const registry = await Registry.open(root, name, { requiredFiles: CHEXPO_VERSION_FILES });
  const widthOf = async (version: string): Promise<number> =>
    JSON.parse(await readFile(join(registry.versionDir(version), 'config.json'), 'utf8')).embeddingDim;
  try {
    const current = await registry.current();
    if (!current) throw new Error(`registry ${root}/${name} has no CURRENT version to start from`);
    const width = await widthOf(current);
    if (base && base !== current) {
      const baseWidth = await widthOf(base).catch(() => {
        throw new UsageError(`--base ${base}: no such version in ${root}/${name}`);
      });
      if (baseWidth !== width)
        throw new UsageError(
          `--base ${base} embeds images in ${baseWidth} dimensions, CURRENT ${current} (and the store) in ${width}`,
        );
    }
    return width;
  } finally {
    registry.close();
  }
}
