/**
 * bench:swap — hot swap under load. The bundled release is put into a temp registry twice (imported as
 * v0001, published again as v0002), served by the engine behind the real HTTP app (buildApp as
 * `chexpo serve` wires it, listening on 127.0.0.1, auth and rate limiting off), and driven by
 * `--concurrency` closed-loop clients sending a mix of vqa and report requests (phantom PNGs) while
 * CURRENT moves between the two versions `--swaps` times (registry.setCurrent; the engine follows
 * through its watch). Each swap is awaited to the end (new workers warm, old ones drained and gone),
 * then a quiet window of the same length follows, so swap and no-swap latencies are measured side by
 * side under the same background load.
 *
 * Prints: requests sent / succeeded / failed (any failure exits 1), the status histogram, swap
 * durations, p50/p99 latency in swap vs quiet windows, and process RSS (worker threads share it)
 * before the first swap and after every `--rss-every`th swap: at the end of the quiet window after a
 * main-thread GC, and the median of readings every 100 ms through that window; for each, RSS(last
 * swap) / RSS(swap --rss-every) and the range of the readings from that swap on (flat: within ±5%).
 *
 * `--allocators glibc,trim,jemalloc` runs the whole bench once per allocator setting, one after the
 * other, each in a child process started with that environment (malloc settings are read only at
 * process start), and prints their figures side by side (ALLOCATOR_SETTINGS below; `jemalloc-conf`
 * takes its MALLOC_CONF from --malloc-conf).
 * Usage: npm run bench:swap [-- --swaps 50 --concurrency 16 --rss-every 5 --allocators glibc,trim,jemalloc]
 */

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { encodePng16 } from '../src/data/image/index.ts';
import { renderCase, sampleCase } from '../src/data/phantom/index.ts';
import {
  Engine,
  IMAGE_JEMALLOC,
  JEMALLOC_CONF,
  mallocInUse,
  type SwapEvent,
  sizeWorkers,
} from '../src/engine/index.ts';
import { BUNDLED_MODELS_ROOT, type JsonValue, Registry } from '../src/registry/index.ts';
import { createMetrics, loadConfig } from '../src/server/index.ts';
import { listenOnEngine } from './bench/listen.ts';
import { fittedRows, fmt, loadAverage, machine, padRow, percentile } from './bench/stats.ts';

const { values } = parseArgs({
  options: {
    registry: { type: 'string', default: BUNDLED_MODELS_ROOT },
    name: { type: 'string', default: 'chexpo-tiny' },
    version: { type: 'string', default: 'v0001' },
    swaps: { type: 'string', default: '50' },
    concurrency: { type: 'string', default: '16' },
    'poll-ms': { type: 'string', default: '50' },
    'warmup-ms': { type: 'string', default: '3000' },
    'rss-every': { type: 'string', default: '5' },
    /** Comma-separated names of ALLOCATOR_SETTINGS: one child run per setting, figures side by side. */
    allocators: { type: 'string' },
    /** Internal (set by --allocators): where a child run writes its RunSummary as JSON. */
    'summary-file': { type: 'string' },
    /** MALLOC_CONF of the `jemalloc-conf` setting, to try other jemalloc options against the images'. */
    'malloc-conf': { type: 'string' },
  },
});
const modelName = values.name;
const swaps = Number(values.swaps);
const concurrency = Number(values.concurrency);
const pollMs = Number(values['poll-ms']);
const rssEvery = Number(values['rss-every']);
for (const [name, n] of Object.entries({ swaps, concurrency, 'poll-ms': pollMs, 'rss-every': rssEvery }))
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);

// A main-thread GC before each RSS reading (no --expose-gc on the npm script's command line).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const rssMiB = (): { rss: number; heap: number } => {
  gc();
  const { rss, heapUsed, external } = process.memoryUsage();
  return { rss: rss / 2 ** 20, heap: (heapUsed + external) / 2 ** 20 };
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- a temp registry holding the release twice ----------------------------------------------------

async function twoVersionRegistry(root: string): Promise<{ registry: Registry; ids: [string, string] }> {
  const source = join(resolve(values.registry), modelName, values.version);
  const registry = await Registry.open(join(root, 'models'), modelName);
  const first = await registry.importVersion(source);
  const staging = join(root, 'staging');
  await mkdir(staging);
  for (const file of first.files) await cp(join(source, file.path), join(staging, file.path));
  const second = await registry.publish(
    staging,
    { version: 'v0002', parent: first.version, config: first.config as Record<string, JsonValue> },
    { mode: 'move' },
  );
  await registry.setCurrent(first.version, { reason: 'bench:swap setup', actor: 'bench' });
  return { registry, ids: [first.version, second.version] };
}

// ---- traffic --------------------------------------------------------------------------------------

/** Four phantoms × {closed question, choice question, report}, as JSON bodies. */
function requestBodies(): string[] {
  const closed = ['a pleural effusion', 'a pneumothorax', 'cardiomegaly', 'a nodule'];
  return [101, 202, 303, 404].flatMap((seed, i) => {
    const image = Buffer.from(encodePng16(renderCase(sampleCase(seed), { size: 256 }))).toString('base64');
    return [
      { image, task: 'vqa', question: `Is there ${closed[i]}?` },
      {
        image,
        task: 'vqa',
        question: 'Which side is affected by the pleural effusion?',
        options: ['left', 'right'],
      },
      { image, task: 'report' },
    ].map((body) => JSON.stringify(body));
  });
}

interface Sample {
  startedAt: number;
  ms: number;
  status: number;
  version?: string;
}

/** `concurrency` closed-loop clients until stop() resolves; every request is recorded. */
function startClients(url: string, bodies: string[]) {
  const samples: Sample[] = [];
  const errors: string[] = [];
  let stopped = false;
  let next = 0;
  const client = async (): Promise<void> => {
    while (!stopped) {
      const body = bodies[next++ % bodies.length];
      const startedAt = performance.now();
      try {
        const response = await fetch(`${url}/v1/answer`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        const json = (await response.json()) as { model?: { version?: string }; error?: unknown };
        samples.push({
          startedAt,
          ms: performance.now() - startedAt,
          status: response.status,
          version: json.model?.version,
        });
        if (response.status !== 200) errors.push(`HTTP ${response.status}: ${JSON.stringify(json.error)}`);
      } catch (error) {
        samples.push({ startedAt, ms: performance.now() - startedAt, status: 0 });
        errors.push(String(error));
      }
    }
  };
  const running = Array.from({ length: concurrency }, client);
  return {
    samples,
    errors,
    stop: async (): Promise<void> => {
      stopped = true;
      await Promise.all(running);
    },
  };
}

// ---- one run --------------------------------------------------------------------------------------

async function benchOnce(): Promise<void> {
  const wallStart = performance.now();
  const bodies = requestBodies();
  const root = await mkdtemp(join(tmpdir(), 'chexpo-bench-swap-'));
  const { registry, ids } = await twoVersionRegistry(root);
  const size = sizeWorkers(0);
  console.log(`machine: ${machine()}`);
  const loadStart = loadAverage();
  console.log(`load average (1/5/15 min) at start: ${loadStart}`);
  console.log(
    `model: ${modelName} ${values.version} served as ${ids.join(' and ')}; engine ${size.workers} worker(s) × ` +
      `${size.threads} ORT thread(s), CPU; watch poll ${pollMs} ms`,
  );
  const allocatorEnv = ALLOCATOR_VARIABLES.filter((name) => process.env[name] !== undefined).map(
    (name) => `${name}=${process.env[name]}`,
  );
  const malloc = mallocInUse();
  console.log(
    `malloc: ${malloc} (mapped in this process); environment: ${allocatorEnv.length > 0 ? allocatorEnv.join(' ') : 'none set'}`,
  );
  console.log(
    `traffic: ${concurrency} concurrent clients, 4 phantoms (256², 16-bit PNG) × {closed, choice, report}, JSON\n`,
  );

  const { config } = loadConfig({
    CHEXPO_AUTH_DISABLED: '1',
    CHEXPO_RATE_LIMIT_MAX: '0',
    CHEXPO_RATE_LIMIT_ADDRESS_MAX: '0',
    CHEXPO_LOG_LEVEL: 'silent',
  });
  const metrics = createMetrics({ defaultMetrics: false });
  const swapEvents: SwapEvent[] = [];
  let onSwapped: ((event: SwapEvent) => void) | null = null;
  const engine = Engine.create({
    registryRoot: registry.root,
    modelName,
    workers: config.model.workers,
    executionProvider: 'cpu',
    maxQueue: config.limits.maxQueue,
    pollMs,
    metrics,
    onSwap: (event) => {
      swapEvents.push(event);
      onSwapped?.(event);
    },
  });
  await engine.start();
  if (!engine.status().ready) throw new Error(`not servable: ${engine.status().reason}`);
  const { app, url } = await listenOnEngine(engine, config, metrics);

  /** Main-thread stalls: a 20 ms timer's lateness, sampled through the run. */
  const stalls: { at: number; ms: number }[] = [];
  let tickAt = performance.now();
  const stallTimer = setInterval(() => {
    const t = performance.now();
    stalls.push({ at: t, ms: Math.max(0, t - tickAt - 20) });
    tickAt = t;
  }, 20);

  const clients = startClients(url, bodies);
  const warmupRss = await sampleRss(Number(values['warmup-ms']));
  const warmupEnd = performance.now();
  const rss: RssReading[] = [
    { label: 'before the first swap', swap: 0, mib: rssMiB(), window: percentile(warmupRss, 50) },
  ];

  /** [start, end) of each swap (from setCurrent to the old workers' exit) and of the quiet window after it. */
  const swapWindows: [number, number][] = [];
  const quietWindows: [number, number][] = [];
  for (let i = 1; i <= swaps; i++) {
    const target = ids[i % 2];
    const start = performance.now();
    const done = new Promise<SwapEvent>((resolveSwap) => {
      onSwapped = (event) => {
        if (event.version === target) resolveSwap(event);
      };
    });
    await registry.setCurrent(target, { reason: `bench:swap ${i}`, actor: 'bench' });
    await done;
    const end = performance.now();
    swapWindows.push([start, end]);
    const quietRss = await sampleRss(end - start);
    quietWindows.push([end, performance.now()]);
    if (i % rssEvery === 0 || i === swaps)
      rss.push({ label: `after swap ${i}`, swap: i, mib: rssMiB(), window: percentile(quietRss, 50) });
    const rssNow = process.memoryUsage().rss / 2 ** 20;
    process.stdout.write(
      `swap ${i}/${swaps} → ${target}: ${fmt(end - start, 0)} ms, RSS ${fmt(rssNow)} MiB\n`,
    );
  }
  await clients.stop();
  clearInterval(stallTimer);
  await app.close();
  await engine.close();
  registry.close();
  await rm(root, { recursive: true, force: true });

  // report

  const measured = clients.samples.filter((s) => s.startedAt >= warmupEnd);
  const within = (windows: [number, number][]) =>
    measured.filter((s) => windows.some(([a, b]) => s.startedAt >= a && s.startedAt < b)).map((s) => s.ms);
  const failed = clients.samples.filter((s) => s.status !== 200);
  const histogram = new Map<number, number>();
  for (const s of clients.samples) histogram.set(s.status, (histogram.get(s.status) ?? 0) + 1);
  const versions = new Map<string, number>();
  for (const s of measured) if (s.version) versions.set(s.version, (versions.get(s.version) ?? 0) + 1);

  console.log(
    `\nrequests: sent ${clients.samples.length}, succeeded ${clients.samples.length - failed.length}, ` +
      `failed ${failed.length} (of them ${measured.length} sent after warm-up)`,
  );
  console.log(
    `status codes: ${[...histogram].map(([code, n]) => `${code === 0 ? 'network error' : code} × ${n}`).join(', ')}`,
  );
  console.log(`answers by version: ${[...versions].map(([v, n]) => `${v} × ${n}`).join(', ')}`);
  for (const error of [...new Set(clients.errors)].slice(0, 5)) console.log(`  error: ${error}`);

  const observed = swapWindows.map(([a, b]) => b - a);
  const stat = (xs: number[]): string =>
    `p50 ${fmt(percentile(xs, 50), 0)} ms, max ${fmt(Math.max(...xs), 0)} ms`;
  console.log(`\nswaps: ${swapWindows.length}`);
  console.log(`  setCurrent → old workers gone (bench clock, incl. ≤ ${pollMs} ms poll): ${stat(observed)}`);
  console.log(`  engine: load + warm-up ${stat(swapEvents.map((e) => e.loadMs))}`);
  console.log(`  engine: drain + exit of the old workers ${stat(swapEvents.map((e) => e.drainMs))}`);

  const during = within(swapWindows);
  const quiet = within(quietWindows);
  const sum = (ws: [number, number][]) => ws.reduce((s, [a, b]) => s + b - a, 0) / 1000;
  console.log('\nlatency by window (request start), same total length:');
  console.log('window     seconds  requests  req/s  p50 ms  p99 ms');
  for (const [name, xs, ws] of [
    ['swapping', during, swapWindows],
    ['no swap ', quiet, quietWindows],
  ] as const) {
    const p = (q: number) => fmt(percentile(xs, q), 0);
    const row = [name, fmt(sum(ws)), xs.length, fmt(xs.length / sum(ws), 2), p(50), p(99)];
    console.log(padRow(row, [8, 7, 8, 5, 6, 6]));
  }
  console.log(
    `p50 swapping / no swap: ${fmt(percentile(during, 50) / percentile(quiet, 50), 2)}×; ` +
      `p99: ${fmt(percentile(during, 99) / percentile(quiet, 99), 2)}×`,
  );

  const stallIn = (ws: [number, number][]) =>
    Math.max(0, ...stalls.filter((x) => ws.some(([a, b]) => x.at >= a && x.at < b)).map((x) => x.ms));
  const failedIn = (ws: [number, number][]) =>
    failed.filter((s) => ws.some(([a, b]) => s.startedAt >= a && s.startedAt < b)).length;
  console.log(
    `event-loop stall max: swapping ${fmt(stallIn(swapWindows), 0)} ms, no swap ${fmt(stallIn(quietWindows), 0)} ms; ` +
      `failures: swapping ${failedIn(swapWindows)}, no swap ${failedIn(quietWindows)}`,
  );
  for (const x of stalls.filter((s) => s.ms > 300)) {
    const i = swapWindows.findIndex(([a, b]) => x.at >= a && x.at < b + 20);
    console.log(
      `  stall ${fmt(x.ms, 0)} ms ${i >= 0 ? `in swap ${i + 1} at +${fmt(x.at - swapWindows[i][0], 0)} ms` : 'outside swaps'}`,
    );
  }

  console.log(
    '\nprocess RSS (worker threads share the process): at the end of the quiet window, main thread GC first;' +
      `\nand the median of the readings every ${RSS_SAMPLE_MS} ms through the window (the warm-up before swap 1):`,
  );
  for (const r of rss)
    console.log(
      `  ${r.label.padEnd(22)} ${fmt(r.mib.rss)} MiB  (${fmt(r.mib.rss / rss[0].mib.rss, 3)}× before); ` +
        `window median ${fmt(r.window)} MiB; main-thread JS heap + external ${fmt(r.mib.heap)} MiB`,
    );
  for (const [what, readings] of [
    ['end of window', rss.map((r) => ({ swap: r.swap, mib: r.mib.rss }))],
    ['window median', rss.map((r) => ({ swap: r.swap, mib: r.window }))],
  ] as const) {
    const flat = flatness(readings);
    if (flat)
      console.log(
        `${what}: RSS(swap ${flat.last}) / RSS(swap ${flat.from}) ${fmt(flat.ratio, 3)}; from swap ${flat.from} on ` +
          `${signedPct(flat.low)} … ${signedPct(flat.high)} of swap ${flat.from} ` +
          `(${flat.within5 ? 'within' : 'NOT within'} ±5%); trend ${signed(flat.slope, 2)} MiB per swap`,
      );
  }
  const loadEnd = loadAverage();
  const wallS = (performance.now() - wallStart) / 1000;
  console.log(`\nload average at end: ${loadEnd}; wall time ${fmt(wallS)} s`);
  if (failed.length > 0) process.exitCode = 1;
  if (values['summary-file']) {
    const summary: RunSummary = {
      malloc,
      env: allocatorEnv,
      sent: clients.samples.length,
      failed: failed.length,
      swapP50Ms: percentile(observed, 50),
      swapMaxMs: Math.max(...observed),
      rss: rss.map((r) => ({ swap: r.swap, mib: r.mib.rss, window: r.window })),
      loadStart,
      loadEnd,
      wallS,
    };
    await writeFile(values['summary-file'], JSON.stringify(summary));
  }
}

// ---- RSS over the swaps ---------------------------------------------------------------------------

interface RssReading {
  label: string;
  swap: number;
  /** At the end of the window after the swap, after a main-thread GC. */
  mib: { rss: number; heap: number };
  /** Median RSS through that window, MiB: less at the mercy of what the 16 requests in flight hold. */
  window: number;
}

const RSS_SAMPLE_MS = 100;

/** Waits `ms` (the window after a swap), reading RSS every RSS_SAMPLE_MS; MiB. */
async function sampleRss(ms: number): Promise<number[]> {
  const until = performance.now() + ms;
  const samples: number[] = [];
  while (performance.now() < until) {
    samples.push(process.memoryUsage.rss() / 2 ** 20);
    await sleep(Math.min(RSS_SAMPLE_MS, Math.max(0, until - performance.now())));
  }
  return samples;
}

/** What a child run hands the --allocators parent. */
interface RunSummary {
  malloc: string;
  env: string[];
  sent: number;
  failed: number;
  swapP50Ms: number;
  swapMaxMs: number;
  rss: { swap: number; mib: number; window: number }[];
  loadStart: string;
  loadEnd: string;
  wallS: number;
}

/**
 * RSS from the first reading after a swap (swap `rssEvery`) to the last: their ratio, the lowest and
 * highest reading relative to the first (flat = every one within ±5%), and the least-squares slope
 * through them in MiB per swap (growth, less at the mercy of one reading than the ratio).
 */
function flatness(readings: readonly { swap: number; mib: number }[]) {
  const after = readings.filter((r) => r.swap > 0);
  if (after.length < 2) return undefined;
  const base = after[0].mib;
  const rel = after.map((r) => r.mib / base);
  const [low, high] = [Math.min(...rel), Math.max(...rel)];
  const mx = after.reduce((sum, r) => sum + r.swap, 0) / after.length;
  const my = after.reduce((sum, r) => sum + r.mib, 0) / after.length;
  const slope =
    after.reduce((sum, r) => sum + (r.swap - mx) * (r.mib - my), 0) /
    after.reduce((sum, r) => sum + (r.swap - mx) ** 2, 0);
  return {
    slope,
    from: after[0].swap,
    last: after.at(-1)!.swap,
    ratio: rel.at(-1)!,
    low,
    high,
    within5: low >= 0.95 && high <= 1.05,
  };
}

const signed = (x: number, digits: number): string => `${x >= 0 ? '+' : '−'}${fmt(Math.abs(x), digits)}`;
const signedPct = (x: number): string => `${x >= 1 ? '+' : '−'}${fmt(Math.abs(x - 1) * 100)}%`;

// ---- --allocators: the same bench under each allocator, side by side -----------------------------

/** Variables that choose or tune malloc; a setting's child starts with none of them but its own. */
const ALLOCATOR_VARIABLES = [
  'LD_PRELOAD',
  'MALLOC_CONF',
  'MALLOC_TRIM_THRESHOLD_',
  'MALLOC_MMAP_THRESHOLD_',
  'MALLOC_ARENA_MAX',
];

const JEMALLOC_PATHS = [
  IMAGE_JEMALLOC,
  `/usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu/libjemalloc.so.2`,
];
const jemallocPath = (): string => {
  const found = JEMALLOC_PATHS.find((path) => existsSync(path));
  if (!found)
    throw new Error(`no libjemalloc.so.2 at ${JEMALLOC_PATHS.join(' or ')} (apt-get install libjemalloc2)`);
  return found;
};

const ALLOCATOR_SETTINGS: Record<string, { title: string; env: () => Record<string, string> }> = {
  glibc: { title: 'glibc malloc defaults', env: () => ({}) },
  trim: {
    title: 'glibc, MALLOC_TRIM_THRESHOLD_=1048576',
    env: () => ({ MALLOC_TRIM_THRESHOLD_: '1048576' }),
  },
  /** What the images set (Dockerfile): jemalloc preloaded with JEMALLOC_CONF (npm start's variable too). */
  jemalloc: {
    title: 'jemalloc, the images’ setting',
    env: () => ({
      LD_PRELOAD: jemallocPath(),
      MALLOC_CONF: JEMALLOC_CONF,
      MALLOC_TRIM_THRESHOLD_: '1048576',
    }),
  },
  'jemalloc-defaults': { title: 'jemalloc, no MALLOC_CONF', env: () => ({ LD_PRELOAD: jemallocPath() }) },
  'jemalloc-conf': {
    title: `jemalloc, MALLOC_CONF=${values['malloc-conf']} (--malloc-conf)`,
    env: () => {
      if (!values['malloc-conf']) throw new Error('--allocators jemalloc-conf needs --malloc-conf');
      return { LD_PRELOAD: jemallocPath(), MALLOC_CONF: values['malloc-conf'] };
    },
  },
};

async function compareAllocators(names: string[]): Promise<number> {
  const unknown = names.filter((n) => !(n in ALLOCATOR_SETTINGS));
  if (unknown.length > 0)
    throw new Error(
      `unknown --allocators ${unknown.join(', ')}; known: ${Object.keys(ALLOCATOR_SETTINGS).join(', ')}`,
    );
  const forwarded = process.argv.slice(2).filter((_, i, argv) => {
    const flag = (k: number) => argv[k] === '--allocators' || argv[k] === '--summary-file';
    return !flag(i) && !(i > 0 && flag(i - 1)) && !/^--(allocators|summary-file)=/.test(argv[i]);
  });
  const dir = await mkdtemp(join(tmpdir(), 'chexpo-bench-swap-allocators-'));
  const runs: { name: string; code: number; summary?: RunSummary }[] = [];
  try {
    for (const name of names) {
      const env = { ...process.env };
      for (const v of ALLOCATOR_VARIABLES) delete env[v];
      Object.assign(env, ALLOCATOR_SETTINGS[name].env());
      const summaryFile = join(dir, `${name}.json`);
      console.log(`\n===== ${name}: ${ALLOCATOR_SETTINGS[name].title} =====`);
      const child = spawn(
        process.execPath,
        [...process.execArgv, fileURLToPath(import.meta.url), ...forwarded, '--summary-file', summaryFile],
        { env, stdio: 'inherit' },
      );
      const code = await new Promise<number>((done) =>
        child.on('exit', (c, signal) => done(c ?? (signal ? 128 : 1))),
      );
      const summary = existsSync(summaryFile)
        ? (JSON.parse(await readFile(summaryFile, 'utf8')) as RunSummary)
        : undefined;
      runs.push({ name, code, summary });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  console.log(`\n===== side by side (${swaps} swaps, ${concurrency} clients; one run after the other) =====`);
  const columns = runs.map((r) => r.name);
  const rows: [string, ...string[]][] = [
    ['malloc in the process', ...runs.map((r) => r.summary?.malloc ?? `exit ${r.code}, no summary`)],
    ['load average at start', ...runs.map((r) => r.summary?.loadStart.split(' / ')[0] ?? '')],
    ['load average at end', ...runs.map((r) => r.summary?.loadEnd.split(' / ')[0] ?? '')],
    [
      'requests sent / failed',
      ...runs.map((r) => (r.summary ? `${r.summary.sent} / ${r.summary.failed}` : '')),
    ],
    [
      'swap p50 / max, s',
      ...runs.map((r) =>
        r.summary ? `${fmt(r.summary.swapP50Ms / 1000, 2)} / ${fmt(r.summary.swapMaxMs / 1000, 2)}` : '',
      ),
    ],
  ];
  const swapsRead = [...new Set(runs.flatMap((r) => r.summary?.rss.map((x) => x.swap) ?? []))].sort(
    (a, b) => a - b,
  );
  for (const swap of swapsRead)
    rows.push([
      `${swap === 0 ? 'RSS before the first swap' : `RSS after swap ${swap}`}, MiB (end / median)`,
      ...runs.map((r) => {
        const x = r.summary?.rss.find((y) => y.swap === swap);
        return x ? `${fmt(x.mib)} / ${fmt(x.window)}` : '';
      }),
    ]);
  for (const [what, pick] of [
    ['end of window', (x: RunSummary['rss'][number]) => x.mib],
    ['window median', (x: RunSummary['rss'][number]) => x.window],
  ] as const) {
    const flats = runs.map((r) =>
      r.summary ? flatness(r.summary.rss.map((x) => ({ swap: x.swap, mib: pick(x) }))) : undefined,
    );
    const f0 = flats.find((f) => f);
    if (!f0) continue;
    rows.push([
      `${what}: RSS(swap ${f0.last}) / RSS(swap ${f0.from})`,
      ...flats.map((f) => (f ? fmt(f.ratio, 3) : '')),
    ]);
    rows.push([
      `${what}: range from swap ${f0.from}`,
      ...flats.map((f) => (f ? `${signedPct(f.low)} … ${signedPct(f.high)}` : '')),
    ]);
    rows.push([`${what}: trend, MiB per swap`, ...flats.map((f) => (f ? signed(f.slope, 2) : ''))]);
    rows.push([
      `${what}: within ±5% from swap ${f0.from}`,
      ...flats.map((f) => (f ? (f.within5 ? 'yes' : 'NO') : '')),
    ]);
  }
  for (const line of fittedRows([['', ...columns], ...rows])) console.log(line);
  for (const r of runs)
    console.log(
      `${r.name}: ${ALLOCATOR_SETTINGS[r.name].title}; ${r.summary?.env.join(' ') || 'no malloc variables'}`,
    );
  return runs.some((r) => r.code !== 0 || !r.summary) ? 1 : 0;
}

// ---- main -----------------------------------------------------------------------------------------

if (values.allocators !== undefined) process.exitCode = await compareAllocators(values.allocators.split(','));
else await benchOnce();
