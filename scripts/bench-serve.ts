/**
 * bench:serve — the serving path measured side by side in one run, on the registry's CURRENT version:
 *   (a) single-request latency, bare engine (engine.answer in-process) vs HTTP (a listening server on
 *       127.0.0.1, JSON body): overhead ratio, target ≤ 1.2×;
 *   (b) throughput and p50/p99 over HTTP (autocannon, fixed request counts) at concurrency 1, 8, 32,
 *       iteration-level batching on (maxBatch 16) vs off (maxBatch 1): ratio at 32, target ≥ 3×;
 *   (c) report generation with the KV cache vs recomputing the whole sequence with the prefill graph
 *       for every token (same greedy tokens, checked): ratio, target ≥ 3×;
 *   (d) the worker's scheduler alone, maxBatch 16 vs 1, with the time of every ORT call per graph:
 *       what batching can gain at most on this machine (ORT's gain per row) and what it gets.
 * Requests: phantom images (256² renders, 16-bit PNG) with a mix of closed, choice and report tasks.
 * Usage: npm run bench:serve [-- --registry models --name chexpo-tiny --rounds 4 --scale 1]
 */

import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { encodePng16, grayToDecoded, toModelInput } from '../src/data/image/index.ts';
import { renderCase, sampleCase } from '../src/data/phantom/index.ts';
import {
  Engine,
  loadRuntime,
  type ModelRuntime,
  prepareImage,
  preparePrompt,
  Scheduler,
  sizeWorkers,
} from '../src/engine/index.ts';
import {
  type AnswerTask,
  buildPrompt,
  chooseTokens,
  type DecodeRow,
  encodeImages,
  Generator,
  prefill,
  stopAtEos,
  stopAtMaxTokens,
} from '../src/inference/index.ts';
import { promptIds } from '../src/model/vlm/index.ts';
import { BUNDLED_MODELS_ROOT, Registry } from '../src/registry/index.ts';
import { createMetrics, engineObserver, loadConfig } from '../src/server/index.ts';
import { listenOnEngine } from './bench/listen.ts';
import { fmt, loadAverage, machine, mean, percentile, table } from './bench/stats.ts';

const { values } = parseArgs({
  options: {
    registry: { type: 'string', default: BUNDLED_MODELS_ROOT },
    name: { type: 'string', default: 'chexpo-tiny' },
    rounds: { type: 'string', default: '4' },
    /** Multiplies every request count (0.5 for a quick look, 2 for tighter figures). */
    scale: { type: 'string', default: '1' },
    'report-tokens': { type: 'string', default: '128' },
  },
});
const registryRoot = resolve(values.registry);
const modelName = values.name;
const rounds = Number(values.rounds);
const scale = Number(values.scale);
const reportTokens = Number(values['report-tokens']);
const CONCURRENCY = [1, 8, 32] as const;
/** Requests per autocannon run, by concurrency (enough that every connection sends several). */
const AMOUNT: Record<number, number> = { 1: 18, 8: 48, 32: 128 };

/** One ORT session of a worker and what its run takes. */
type OrtSession = ModelRuntime['sessions']['encoder'];
type Feeds = Parameters<OrtSession['run']>[0];

interface BenchRequest {
  image: Uint8Array;
  task: AnswerTask;
  question?: string;
  options?: string[];
}

// ---- inputs -------------------------------------------------------------------------------------

/** Four phantoms, each asked a closed question, a choice question and for a report. */
function requestMix(): BenchRequest[] {
  const closed = ['a pleural effusion', 'a pneumothorax', 'cardiomegaly', 'a nodule'];
  return [101, 202, 303, 404].flatMap((seed, i): BenchRequest[] => {
    const image = encodePng16(renderCase(sampleCase(seed), { size: 256 }));
    return [
      { image, task: 'vqa', question: `Is there ${closed[i]}?` },
      {
        image,
        task: 'vqa',
        question: 'Which side is affected by the pleural effusion?',
        options: ['left', 'right'],
      },
      { image, task: 'report' },
    ];
  });
}

const jsonBody = (r: BenchRequest): string =>
  JSON.stringify({
    image: Buffer.from(r.image).toString('base64'),
    task: r.task,
    ...(r.question ? { question: r.question } : {}),
    ...(r.options ? { options: r.options } : {}),
    return_tokens: true,
  });

// ---- the serving stack ----------------------------------------------------------------------------

interface Stack {
  engine: Engine;
  url: string;
  /** Decode steps so far and the rows they carried (chexpo_engine_batch_size, stage decode). */
  decodeSteps(): Promise<{ steps: number; rows: number }>;
  close(): Promise<void>;
}

/**
 * The engine and the HTTP app as `chexpo serve` wires them, listening on a loopback port; auth and
 * rate limiting off (the bench is one client), nothing logged to a store (risk threshold 1).
 */
async function startStack(maxBatch: number): Promise<Stack> {
  const { config } = loadConfig({
    CHEXPO_AUTH_DISABLED: '1',
    CHEXPO_RATE_LIMIT_MAX: '0',
    CHEXPO_RATE_LIMIT_ADDRESS_MAX: '0',
    CHEXPO_MAX_QUEUE: '256',
    CHEXPO_REQUEST_TIMEOUT_MS: '300000',
    CHEXPO_LOG_LEVEL: 'silent',
  });
  const metrics = createMetrics({ defaultMetrics: false });
  const engine = await Engine.start({
    registryRoot,
    modelName,
    workers: config.model.workers,
    executionProvider: 'cpu',
    maxQueue: config.limits.maxQueue,
    maxBatch,
    watch: false,
    observer: engineObserver(metrics),
  });
  const status = engine.status();
  if (!status.ready) throw new Error(`${modelName} in ${registryRoot} is not servable: ${status.reason}`);
  const { app, url } = await listenOnEngine(engine, config, metrics);
  return {
    engine,
    url,
    decodeSteps: async () => {
      const { values } = await metrics.batchSize.get();
      const decode = (suffix: string) =>
        values.find((v) => v.metricName?.endsWith(suffix) && v.labels.stage === 'decode')?.value ?? 0;
      return { steps: decode('_count'), rows: decode('_sum') };
    },
    close: async () => {
      await app.close();
      await engine.close();
    },
  };
}

async function answerOverHttp(url: string, body: string): Promise<number> {
  const response = await fetch(`${url}/v1/answer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  const json = (await response.json()) as { tokens?: unknown[] };
  if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${JSON.stringify(json)}`);
  return json.tokens?.length ?? 0;
}

// ---- (a) single-request latency: bare engine vs HTTP ------------------------------------------------

interface LatencyRow {
  kind: string;
  engineMs: number[];
  httpMs: number[];
  tokens: number[];
}

/** Each request alone, engine then HTTP back to back (so both see the same background load). */
async function singleRequestLatency(stack: Stack, mix: BenchRequest[]): Promise<LatencyRow[]> {
  const rows = new Map<string, LatencyRow>();
  const kindOf = (r: BenchRequest): string =>
    r.task === 'report' ? 'report' : r.options ? 'choice' : 'closed';
  for (let round = 0; round < Math.max(1, Math.round(rounds * scale)); round++) {
    for (const r of mix) {
      const row = rows.get(kindOf(r)) ?? { kind: kindOf(r), engineMs: [], httpMs: [], tokens: [] };
      rows.set(row.kind, row);
      const body = jsonBody(r);
      const viaEngine = async (): Promise<number> => {
        const t = performance.now();
        const answer = await stack.engine.answer({ ...r, topLogprobs: 0 });
        row.engineMs.push(performance.now() - t);
        return answer.tokens.length;
      };
      const viaHttp = async (): Promise<number> => {
        const t = performance.now();
        const tokens = await answerOverHttp(stack.url, body);
        row.httpMs.push(performance.now() - t);
        return tokens;
      };
      // Alternating which goes first cancels warm-cache and drift effects between the two.
      const [a, b] = round % 2 === 0 ? [viaEngine, viaHttp] : [viaHttp, viaEngine];
      const tokens = await a();
      if ((await b()) !== tokens) throw new Error('engine and HTTP answers differ');
      row.tokens.push(tokens);
    }
  }
  return [...rows.values()];
}

// ---- (b) throughput over HTTP with autocannon ---------------------------------------------------------

interface AutocannonResult {
  errors: number;
  timeouts: number;
  non2xx: number;
}
interface AutocannonClient {
  on(event: 'response', listener: (status: number, bytes: number, ms: number) => void): void;
}
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;
// autocannon is CommonJS without type declarations: typed here by what this script uses.
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

interface LoadRow {
  batching: 'on' | 'off';
  connections: number;
  requests: number;
  seconds: number;
  latenciesMs: number[];
  decodeSteps: number;
  decodeRows: number;
}

/** One autocannon run of `amount` requests cycling through `bodies` (every answer must be 200). */
async function loadRun(url: string, bodies: string[], connections: number, amount: number) {
  const latenciesMs: number[] = [];
  let next = 0;
  // autocannon's own duration ends on its next 1 s sampling tick; time the requests here instead.
  const startedAt = performance.now();
  let lastAt = startedAt;
  const result = await autocannon({
    url,
    connections,
    amount,
    timeout: 300,
    // One shared round robin over the mix: with a list of requests, autocannon walks it per
    // connection, so 32 connections × 2 requests each would send only the first two bodies (no report).
    requests: [
      {
        method: 'POST',
        path: '/v1/answer',
        headers: { 'content-type': 'application/json' },
        setupRequest: (request: Record<string, unknown>) => ({
          ...request,
          body: bodies[next++ % bodies.length],
        }),
      },
    ],
    setupClient: (client: AutocannonClient) =>
      client.on('response', (_status, _bytes, ms) => {
        latenciesMs.push(ms);
        lastAt = performance.now();
      }),
  });
  const failed = result.errors + result.timeouts + result.non2xx;
  if (failed > 0) throw new Error(`autocannon: ${failed} failed requests at ${connections} connections`);
  return { requests: latenciesMs.length, seconds: (lastAt - startedAt) / 1000, latenciesMs };
}

/**
 * Batching on and off as two servers, measured in alternation (on, off, off, on) at each
 * concurrency, so slow drifts in the machine's background load hit both alike.
 */
async function throughput(stacks: Record<'on' | 'off', Stack>, bodies: string[]): Promise<LoadRow[]> {
  const rows: LoadRow[] = [];
  for (const connections of CONCURRENCY) {
    const amount = Math.max(connections, Math.round((AMOUNT[connections] * scale) / 2));
    for (const batching of ['on', 'off', 'off', 'on'] as const) {
      const before = await stacks[batching].decodeSteps();
      const run = await loadRun(stacks[batching].url, bodies, connections, amount);
      const after = await stacks[batching].decodeSteps();
      let row = rows.find((r) => r.batching === batching && r.connections === connections);
      if (!row) {
        row = {
          batching,
          connections,
          requests: 0,
          seconds: 0,
          latenciesMs: [],
          decodeSteps: 0,
          decodeRows: 0,
        };
        rows.push(row);
      }
      row.decodeSteps += after.steps - before.steps;
      row.decodeRows += after.rows - before.rows;
      row.requests += run.requests;
      row.seconds += run.seconds;
      row.latenciesMs.push(...run.latenciesMs);
    }
  }
  return rows;
}

// ---- (c) report generation: KV cache vs recompute ------------------------------------------------------

interface CacheRow {
  batch: number;
  tokens: number;
  cachedMs: number;
  recomputeMs: number;
  /** Rows whose recomputed tokens equal the cached ones. */
  identical: number;
}

/**
 * Reports for `images` in one batch, twice: Generator (one prefill, then a cached decode step per
 * token) and the prefill graph run on every row's whole sequence for every token, each row for as
 * many tokens as its cached run produced. Both include encoding the images.
 */
async function reportsBothWays(rt: ModelRuntime, images: Float32Array[]): Promise<CacheRow> {
  const { config, tokenizer, sessions, processors } = rt;
  const prompt = promptIds(tokenizer, buildPrompt('report'));
  const generator = new Generator(sessions, config, {
    eosId: tokenizer.eosId,
    processors,
    stopping: [stopAtEos(tokenizer.eosId), stopAtMaxTokens],
  });
  let t = performance.now();
  const cached = await generator.generate(
    images.map((image) => ({ image, promptIds: prompt, maxTokens: reportTokens })),
  );
  const cachedMs = performance.now() - t;

  t = performance.now();
  const { imageTokens } = await encodeImages(sessions.encoder, config, images);
  const ids = images.map((): number[] => []);
  let live = images.map((_, i) => i).filter((i) => cached[i].ids.length > 0);
  while (live.length > 0) {
    // Rows share the prompt and grow together, so the batch needs no padding.
    const seqs = live.map((i) => [...prompt, ...ids[i]]);
    const rows: DecodeRow[] = live.map((i, r) => ({
      request: i,
      promptLength: seqs[r].length,
      maxTokens: 1,
      ids: ids[i],
      tokens: [],
    }));
    const batch = await prefill(
      sessions,
      config,
      live.map((i) => imageTokens[i]),
      rows,
      seqs,
    );
    chooseTokens(batch, processors, 0).forEach((token, r) => {
      ids[live[r]].push(token.id);
    });
    live = live.filter((i) => ids[i].length < cached[i].ids.length);
  }
  return {
    batch: images.length,
    tokens: cached.reduce((n, g) => n + g.ids.length, 0),
    cachedMs,
    recomputeMs: performance.now() - t,
    identical: cached.filter((g, i) => g.ids.join() === ids[i].join()).length,
  };
}

/** Single reports (summed) and one batch of 16, on the sessions one engine worker would have. */
async function kvCacheVsRecompute(versionDir: string): Promise<CacheRow[]> {
  const rt = await loadRuntime({
    versionDir,
    executionProvider: 'cpu',
    intraOpThreads: sizeWorkers(0).threads,
    maxBatch: 16,
    keepImagePng: false,
    defaultMaxTokens: reportTokens,
  });
  const images = Array.from({ length: 16 }, (_, i) =>
    toModelInput(grayToDecoded(renderCase(sampleCase(500 + i), { size: 256 })), rt.config.imageSize),
  );
  await reportsBothWays(rt, images.slice(0, 1)); // warm-up, not counted
  const single: CacheRow = { batch: 1, tokens: 0, cachedMs: 0, recomputeMs: 0, identical: 0 };
  for (const image of images.slice(0, Math.max(1, Math.round(4 * scale)))) {
    const row = await reportsBothWays(rt, [image]);
    single.tokens += row.tokens;
    single.cachedMs += row.cachedMs;
    single.recomputeMs += row.recomputeMs;
    single.identical += row.identical;
  }
  const batched = await reportsBothWays(rt, images);
  const { encoder, prefill: prefillSession, step } = rt.sessions;
  await Promise.all([encoder.release(), prefillSession.release(), step.release()]);
  return [single, batched];
}

// ---- (d) the scheduler alone: where the time of a batched run goes --------------------------------------

interface SchedulerRow {
  maxBatch: number;
  reqPerSecond: number;
  rowsPerStep: number;
  /** Per graph: runs and total ms. */
  ort: Record<string, { runs: number; ms: number }>;
}

/**
 * The worker's Scheduler on this thread, no HTTP and no preprocessing: `connections` closed-loop
 * requests over the same mix, with every ORT call timed per graph.
 */
async function schedulerOnly(
  versionDir: string,
  mix: BenchRequest[],
  maxBatch: number,
): Promise<SchedulerRow> {
  const rt = await loadRuntime({
    versionDir,
    executionProvider: 'cpu',
    intraOpThreads: sizeWorkers(0).threads,
    maxBatch,
    keepImagePng: false,
    defaultMaxTokens: 64,
  });
  const ort: SchedulerRow['ort'] = {};
  const timed = (name: string, session: OrtSession): OrtSession =>
    ({
      run: async (feeds: Feeds, fetches?: readonly string[]) => {
        const t = performance.now();
        const out = await session.run(feeds, fetches);
        const entry = (ort[name] ??= { runs: 0, ms: 0 });
        entry.runs++;
        entry.ms += performance.now() - t;
        return out;
      },
    }) as unknown as OrtSession;
  const { encoder, prefill: prefillSession, step } = rt.sessions;
  const timedRt = {
    ...rt,
    sessions: {
      encoder: timed('encoder', encoder),
      prefill: timed('prefill', prefillSession),
      step: timed('step', step),
    },
  };
  const requests = await Promise.all(
    mix.map(async (r) => {
      const request = { ...r, topLogprobs: 0, submittedAt: 0, preprocessMs: 0 };
      const image = await prepareImage(r.image, rt.config.imageSize, false);
      return { ...request, image, prepared: preparePrompt(rt, { ...request, image }) };
    }),
  );
  const total = Math.max(32, Math.round(96 * scale));
  let sent = 0;
  let done = 0;
  let steps = 0;
  let rows = 0;
  let finish: () => void = () => {};
  const finished = new Promise<void>((r) => {
    finish = r;
  });
  const scheduler = new Scheduler(timedRt, maxBatch, 64, {
    done: () => {
      if (++done === total) finish();
      else if (sent < total) submit();
    },
    failed: (_id, error) => {
      throw error;
    },
    batch: (stage, size) => {
      if (stage === 'decode') {
        steps++;
        rows += size;
      }
    },
  });
  const submit = (): void => {
    const { prepared, ...request } = requests[sent % requests.length];
    scheduler.submit(++sent, request, prepared, 0);
  };
  const t = performance.now();
  for (let i = 0; i < 32; i++) submit();
  await finished;
  const seconds = (performance.now() - t) / 1000;
  await Promise.all([encoder.release(), prefillSession.release(), step.release()]);
  return { maxBatch, reqPerSecond: total / seconds, rowsPerStep: rows / Math.max(1, steps), ort };
}

// ---- the run ----------------------------------------------------------------------------------------

const started = performance.now();
const registry = await Registry.open(registryRoot, modelName);
const version = await registry.current();
if (!version) throw new Error(`no CURRENT version of ${modelName} in ${registryRoot}`);
const versionDir = registry.versionDir(version);
registry.close();
const size = sizeWorkers(0);

console.log(`machine: ${machine()}`);
console.log(`load average (1/5/15 min) at start: ${loadAverage()}`);
console.log(`model: ${modelName} ${version} (${versionDir})`);
console.log(
  `engine: ${size.workers} worker(s) × ${size.threads} ORT thread(s), CPU; default max_tokens 64; ` +
    'requests: 4 phantoms (256², 16-bit PNG) × {closed, choice, report}, JSON bodies\n',
);

const mix = requestMix();
const bodies = mix.map(jsonBody);

const stack = await startStack(16);
const latency = await singleRequestLatency(stack, mix);
console.log('(a) single request, sequential: bare engine (in-process) vs HTTP on 127.0.0.1');
table(
  ['task  ', '  n', 'tokens', 'engine p50 ms', 'HTTP p50 ms', 'HTTP/engine p50', 'HTTP/engine mean'],
  latency.map((r) => [
    r.kind.padEnd(6),
    r.engineMs.length,
    fmt(mean(r.tokens)),
    fmt(percentile(r.engineMs, 50)),
    fmt(percentile(r.httpMs, 50)),
    `${fmt(percentile(r.httpMs, 50) / percentile(r.engineMs, 50), 3)}×`,
    `${fmt(mean(r.httpMs) / mean(r.engineMs), 3)}×`,
  ]),
);

const stacks = { on: stack, off: await startStack(1) };
// The batching-on engine is warm from (a); give the other one the same shapes before measuring
// (ORT's first runs at new sequence lengths are slower).
for (const r of mix) await stacks.off.engine.answer({ ...r, topLogprobs: 0 });
const loadRows = await throughput(stacks, bodies);
await Promise.all([stacks.on.close(), stacks.off.close()]);
const perSecond = (r: LoadRow): number => r.requests / r.seconds;
console.log(
  '\n(b) throughput over HTTP (autocannon, fixed request counts), batching on (maxBatch 16) vs off (1)',
);
table(
  ['batching', 'connections', 'requests', '  req/s', 'p50 ms', 'p99 ms', 'rows per decode step'],
  [...loadRows]
    .sort((a, b) => b.batching.localeCompare(a.batching))
    .map((r) => [
      r.batching.padEnd(8),
      r.connections,
      r.requests,
      fmt(perSecond(r), 2),
      Math.round(percentile(r.latenciesMs, 50)),
      Math.round(percentile(r.latenciesMs, 99)),
      fmt(r.decodeRows / Math.max(1, r.decodeSteps)),
    ]),
);
const batchingRatio = (c: number): number => {
  const on = loadRows.find((r) => r.batching === 'on' && r.connections === c)!;
  const off = loadRows.find((r) => r.batching === 'off' && r.connections === c)!;
  return perSecond(on) / perSecond(off);
};
for (const c of CONCURRENCY)
  console.log(`batching on/off at ${String(c).padStart(2)} connections: ${fmt(batchingRatio(c), 2)}×`);

const cache = await kvCacheVsRecompute(versionDir);
console.log(
  `\n(c) report generation (budget ${reportTokens} tokens, stop at <eos>), KV cache vs recompute with the prefill graph`,
);
const reportsIn = (r: CacheRow): number => (r.batch === 1 ? Math.max(1, Math.round(4 * scale)) : r.batch);
table(
  ['reports', 'batch', 'tokens', 'cached ms', 'recompute ms', 'cached tok/s', 'ratio', 'same tokens'],
  cache.map((r) => [
    reportsIn(r),
    r.batch,
    r.tokens,
    fmt(r.cachedMs),
    fmt(r.recomputeMs),
    fmt((r.tokens / r.cachedMs) * 1000),
    `${fmt(r.recomputeMs / r.cachedMs, 2)}×`,
    `${r.identical}/${reportsIn(r)}`,
  ]),
);

const schedulerRows = [await schedulerOnly(versionDir, mix, 16), await schedulerOnly(versionDir, mix, 1)];
console.log(
  '\n(d) the worker scheduler alone (no HTTP, images prepared beforehand), 32 closed-loop requests',
);
table(
  ['maxBatch', '  req/s', 'rows per step', 'step ms/run', 'encoder ms/run', 'prefill ms/run', 'ORT share'],
  schedulerRows.map((r) => {
    const perRun = (name: string) => fmt(r.ort[name].ms / r.ort[name].runs, 2);
    const ortMs = Object.values(r.ort).reduce((sum, o) => sum + o.ms, 0);
    const totalMs = (Math.max(32, Math.round(96 * scale)) / r.reqPerSecond) * 1000;
    return [
      r.maxBatch,
      fmt(r.reqPerSecond, 2),
      fmt(r.rowsPerStep),
      perRun('step'),
      perRun('encoder'),
      perRun('prefill'),
      `${fmt((100 * ortMs) / totalMs, 0)}%`,
    ];
  }),
);
const [batched, single] = schedulerRows;
const stepMs = (r: SchedulerRow) => r.ort.step.ms / r.ort.step.runs;
console.log(
  `scheduler maxBatch 16 / 1: ${fmt(batched.reqPerSecond / single.reqPerSecond, 2)}×; ` +
    `ORT's own gain per row at ${fmt(batched.rowsPerStep)} rows per step: ` +
    `${fmt((stepMs(single) * batched.rowsPerStep) / stepMs(batched), 2)}× (the ceiling of the ratio)`,
);

const allEngine = latency.flatMap((r) => r.engineMs);
const allHttp = latency.flatMap((r) => r.httpMs);
console.log('\nratios (target)');
console.log(
  `  HTTP / bare engine, single request (mean over all tasks): ${fmt(mean(allHttp) / mean(allEngine), 3)}× (≤ 1.2×)`,
);
console.log(`  batching on / off at 32 connections: ${fmt(batchingRatio(32), 2)}× (≥ 3×)`);
for (const r of cache)
  console.log(
    `  recompute / KV cache, reports in batches of ${r.batch}: ${fmt(r.recomputeMs / r.cachedMs, 2)}× (≥ 3×)`,
  );
console.log(
  `\nload average at end: ${loadAverage()}; wall time ${fmt((performance.now() - started) / 1000)} s`,
);
