/**
 * Continual refinement, end to end, as a hospital would see it: the server answers shifted traffic
 * (labels withheld), logs its unsure answers as hard examples, a trainer process runs one CheXPO
 * round against the same registry and store, and the server hot-swaps to the promoted version
 * while traffic keeps flowing. Used by `npm run demo` (long) and test/loop/continual.test.ts (small).
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { InstructionSample, LabelledCase, TaskType } from '../../src/data/index.ts';
import { mergePhantomConfig } from '../../src/data/phantom/index.ts';
import { synthesize } from '../../src/data/synth/index.ts';
import { Engine } from '../../src/engine/index.ts';
import { judgeAnswer } from '../../src/loop/pairs/index.ts';
import { BUNDLED_MODELS_ROOT } from '../../src/registry/index.ts';
import {
  buildApp,
  createMetrics,
  EngineAnswerService,
  engineObserver,
  HardExampleLogger,
  loadConfig,
  StoreFeedbackService,
} from '../../src/server/index.ts';
import { RunObserver, seedWritableRegistry } from '../../src/server/trainer/index.ts';

export const MODEL = 'chexpo-tiny';
const BIN = join(import.meta.dirname, '..', '..', 'bin', 'chexpo.js');

/** A registry under `root` seeded from the bundled one, as `chexpo serve` seeds ./var/models; returns CURRENT. */
export async function seedRegistry(root: string): Promise<string> {
  const seeded = await seedWritableRegistry({
    from: BUNDLED_MODELS_ROOT,
    to: root,
    name: MODEL,
    actor: 'demo',
  });
  return seeded.current;
}

/** Runs `fn` with console.log silenced (the CLI commands print progress and summaries). */
export async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const log = console.log;
  console.log = () => {};
  try {
    return await fn();
  } finally {
    console.log = log;
  }
}

/** A small labelled phantom data set (the tests' pool), as `chexpo synth` writes it. */
export async function synthPool(dir: string, cases = 40): Promise<void> {
  await synthesize({ cases, seed: 5, outDir: dir, size: 64, formats: ['png16'], workers: 1 });
}

/** The shift: more (and more subtle) effusions and edema, more AP films than the training data. */
export const SHIFTED_PHANTOMS = {
  prevalence: { pleural_effusion: 0.45, edema: 0.25 },
  subtleShare: 0.5,
  apShare: 0.6,
};

/**
 * The loop's labelled pool for this site: phantoms rendered with the site's statistics (its view mix
 * from the DICOM headers, its prevalence from the answers it serves), not the bundled training mix,
 * so mining and the gate's test split look like the traffic. Synthesised once into `dir`.
 */
export const SITE_POOL = { cases: 4000, seed: 20261127, size: 128 } as const;

export async function sitePool(dir: string, log: (line: string) => void): Promise<string> {
  log(`synthesising the site's phantom pool (${SITE_POOL.cases} cases, the shifted statistics) into ${dir}…`);
  await synthesize({
    ...SITE_POOL,
    outDir: dir,
    formats: ['png16'],
    phantomConfig: mergePhantomConfig(SHIFTED_PHANTOMS),
  });
  return dir;
}

export interface TrafficItem {
  sample: InstructionSample;
  case: LabelledCase;
  body: string;
}

/** Shifted hospital traffic: closed and choice questions on phantoms rendered with the shifted statistics. */
export async function shiftedTraffic(dir: string, cases: number, seed: number): Promise<TrafficItem[]> {
  await synthesize({
    cases,
    seed,
    outDir: dir,
    size: 128,
    formats: ['png16'],
    workers: 1,
    phantomConfig: mergePhantomConfig(SHIFTED_PHANTOMS),
  });
  const items: TrafficItem[] = [];
  const tasks: TaskType[] = ['closed', 'choice'];
  for (const split of ['train', 'validation', 'test']) {
    const caseRows = (await readFile(join(dir, 'cases', `${split}.jsonl`), 'utf8'))
      .split('\n')
      .filter(Boolean);
    const byId = new Map(
      caseRows
        .map((l) => JSON.parse(l) as LabelledCase & { images: { png16: string } })
        .map((c) => [c.id, c]),
    );
    const samples = (await readFile(join(dir, 'instructions', `${split}.jsonl`), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as InstructionSample)
      .filter((s) => tasks.includes(s.task));
    for (const sample of samples) {
      const c = byId.get(sample.case_id)!;
      const image = (await readFile(join(dir, c.images.png16))).toString('base64');
      const body = JSON.stringify({
        image,
        task: 'vqa',
        question: sample.question,
        options: sample.options,
        max_tokens: 24,
      });
      items.push({ sample, case: c, body });
    }
  }
  return items;
}

export interface Stack {
  url: string;
  engine: Engine;
  logger: HardExampleLogger;
  metricsText(): Promise<string>;
  close(): Promise<void>;
}

/** The server as `chexpo serve` wires it (engine follows CURRENT, hard examples go to the store). */
export async function startStack(
  registryRoot: string,
  storeUri: string,
  riskThreshold: number,
): Promise<Stack> {
  const { config } = loadConfig({
    CHEXPO_AUTH_DISABLED: '1',
    CHEXPO_RATE_LIMIT_MAX: '0',
    CHEXPO_RATE_LIMIT_ADDRESS_MAX: '0',
    CHEXPO_MAX_QUEUE: '256',
    CHEXPO_LOG_LEVEL: 'silent',
    CHEXPO_REQUEST_TIMEOUT_MS: '120000',
    // The trainer shares these 2 cores in the demo; event-loop lag shedding would turn that into 503s.
    CHEXPO_MAX_EVENT_LOOP_DELAY_MS: '0',
  });
  const metrics = createMetrics({ defaultMetrics: false });
  const engine = await Engine.start({
    registryRoot,
    modelName: MODEL,
    workers: 1,
    executionProvider: 'cpu',
    maxQueue: 256,
    pollMs: 500,
    observer: engineObserver(metrics),
  });
  const logger = new HardExampleLogger({ uri: storeUri, embeddingDim: () => engine.embeddingDim, metrics });
  const app = await buildApp({
    config,
    metrics,
    answerService: new EngineAnswerService({ engine, logger, riskThreshold }),
    feedbackService: new StoreFeedbackService(logger),
    modelStatus: () => engine.status(),
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  // The loop runs in another process here (as under Kubernetes): its runs reach /metrics from the store.
  const observer = new RunObserver({ store: () => logger.openStore(), metrics, pollMs: 2000 });
  observer.start();
  return {
    url,
    engine,
    logger,
    metricsText: async () => (await fetch(`${url}/metrics`)).text(),
    close: async () => {
      observer.stop();
      await app.close();
      await engine.close();
      await logger.close();
    },
  };
}

export interface Answered {
  status: number;
  correct: boolean;
  risk: number;
  flagged: boolean;
  version: string;
  /** The error code of a non-200 answer. */
  error?: string;
}

async function ask(url: string, item: TrafficItem): Promise<Answered> {
  const response = await fetch(`${url}/v1/answer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: item.body,
  });
  const json = (await response.json()) as {
    answer?: string;
    risk?: number;
    flagged?: boolean;
    model?: { version: string };
    error?: { code: string };
  };
  const correct =
    response.status === 200 && judgeAnswer(item.sample, item.case, json.answer ?? '').verdict === 'right';
  return {
    status: response.status,
    correct,
    risk: json.risk ?? Number.NaN,
    flagged: json.flagged ?? false,
    version: json.model?.version ?? '',
    error: json.error?.code,
  };
}

/** Replays items with a fixed concurrency; answers in item order. */
export async function replay(
  url: string,
  items: readonly TrafficItem[],
  concurrency: number,
): Promise<Answered[]> {
  const out: Answered[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await ask(url, items[i]);
      }
    }),
  );
  return out;
}

/** Traffic that keeps flowing until stopped (the hot swap happens under it). */
export function backgroundTraffic(url: string, items: readonly TrafficItem[], concurrency: number) {
  let stopped = false;
  const statuses = new Map<number, number>();
  const versions = new Set<string>();
  let sent = 0;
  const workers = Array.from({ length: concurrency }, async (_, w) => {
    for (let i = w; !stopped; i += concurrency) {
      const a = await ask(url, items[i % items.length]).catch(() => ({ status: 0, version: '' }) as Answered);
      sent++;
      statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
      if (a.version) versions.add(a.version);
    }
  });
  return {
    stop: async () => {
      stopped = true;
      await Promise.all(workers);
      return { sent, statuses: Object.fromEntries(statuses), versions: [...versions] };
    },
  };
}

export interface Summary {
  n: number;
  accuracy: number;
  meanRisk: number;
  flagged: number;
}

export function summarize(answers: readonly Answered[]): Summary {
  const ok = answers.filter((a) => a.status === 200);
  return {
    n: answers.length,
    accuracy: ok.filter((a) => a.correct).length / Math.max(1, ok.length),
    meanRisk: ok.reduce((s, a) => s + a.risk, 0) / Math.max(1, ok.length),
    flagged: ok.filter((a) => a.flagged).length,
  };
}

/** `chexpo loop run` in a child process, as the trainer supervisor starts it. */
export function loopInChild(args: {
  registryRoot: string;
  storeUri: string;
  dataDir: string;
  workDir: string;
  runId: string;
  configPath: string;
  onLine?: (line: string) => void;
}): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        BIN,
        'loop',
        'run',
        '--registry',
        args.registryRoot,
        '--store',
        args.storeUri,
        '--data',
        args.dataDir,
        '--work',
        args.workDir,
        '--run-id',
        args.runId,
        '--trigger',
        'hard_examples',
        '--config',
        args.configPath,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    for (const stream of [child.stdout, child.stderr])
      stream.on('data', (chunk: Buffer) => {
        for (const line of chunk.toString().split('\n')) if (line.trim()) args.onLine?.(line);
      });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

/** Resolves once the engine serves `version` (the registry watch picked it up and the swap finished). */
export async function waitForVersion(engine: Engine, version: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (engine.status().model?.version !== version) {
    if (Date.now() > deadline)
      throw new Error(`engine still serves ${engine.status().model?.version}, not ${version}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
