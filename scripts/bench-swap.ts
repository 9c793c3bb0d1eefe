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
 * before, after swap 10 and after the last swap, each after a main-thread GC.
 * Usage: npm run bench:swap [-- --swaps 20 --concurrency 16 --poll-ms 50]
 */
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { encodePng16 } from '../src/data/image/index.ts';
import { renderCase, sampleCase } from '../src/data/phantom/index.ts';
import { Engine, type SwapEvent, sizeWorkers } from '../src/engine/index.ts';
import { BUNDLED_MODELS_ROOT, type JsonValue, Registry } from '../src/registry/index.ts';
import { EngineAnswerService } from '../src/server/answer-service.ts';
import { buildApp } from '../src/server/app.ts';
import { loadConfig } from '../src/server/config.ts';
import { createMetrics } from '../src/server/metrics.ts';

const { values } = parseArgs({
  options: {
    registry: { type: 'string', default: BUNDLED_MODELS_ROOT },
    name: { type: 'string', default: 'chexpo-tiny' },
    version: { type: 'string', default: 'v0001' },
    swaps: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '16' },
    'poll-ms': { type: 'string', default: '50' },
    'warmup-ms': { type: 'string', default: '3000' },
  },
});
const modelName = values.name;
const swaps = Number(values.swaps);
const concurrency = Number(values.concurrency);
const pollMs = Number(values['poll-ms']);

// A main-thread GC before each RSS reading (no --expose-gc on the npm script's command line).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const rssMiB = (): { rss: number; heap: number } => {
  gc();
  const { rss, heapUsed, external } = process.memoryUsage();
  return { rss: rss / 2 ** 20, heap: (heapUsed + external) / 2 ** 20 };
};

function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
const fmt = (x: number, digits = 1): string => x.toFixed(digits);
const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' / ');
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

// ---- the run --------------------------------------------------------------------------------------

const wallStart = performance.now();
const bodies = requestBodies();
const root = await mkdtemp(join(tmpdir(), 'chexpo-bench-swap-'));
const { registry, ids } = await twoVersionRegistry(root);
const size = sizeWorkers(0);
console.log(
  `machine: ${cpus()[0]?.model ?? 'unknown cpu'}, ${availableParallelism()} cores, node ${process.version}`,
);
console.log(`load average (1/5/15 min) at start: ${load()}`);
console.log(
  `model: ${modelName} ${values.version} served as ${ids.join(' and ')}; engine ${size.workers} worker(s) × ` +
    `${size.threads} ORT thread(s), CPU; watch poll ${pollMs} ms`,
);
const allocator = ['MALLOC_TRIM_THRESHOLD_', 'MALLOC_MMAP_THRESHOLD_', 'MALLOC_ARENA_MAX']
  .filter((name) => process.env[name] !== undefined)
  .map((name) => `${name}=${process.env[name]}`);
console.log(`glibc malloc settings: ${allocator.length > 0 ? allocator.join(' ') : 'defaults'}`);
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
const app = await buildApp({
  config,
  metrics,
  answerService: new EngineAnswerService({ engine, riskThreshold: 1 }),
  modelStatus: () => engine.status(),
});
const url = await app.listen({ host: '127.0.0.1', port: 0 });

/** Main-thread stalls: a 20 ms timer's lateness, sampled through the run. */
const stalls: { at: number; ms: number }[] = [];
let tickAt = performance.now();
const stallTimer = setInterval(() => {
  const t = performance.now();
  stalls.push({ at: t, ms: Math.max(0, t - tickAt - 20) });
  tickAt = t;
}, 20);

const clients = startClients(url, bodies);
await sleep(Number(values['warmup-ms']));
const warmupEnd = performance.now();
const rss: { label: string; mib: { rss: number; heap: number } }[] = [
  { label: 'before the first swap', mib: rssMiB() },
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
  await sleep(end - start);
  quietWindows.push([end, performance.now()]);
  if (i === Math.ceil(swaps / 2) || i === swaps) rss.push({ label: `after swap ${i}`, mib: rssMiB() });
  const rssNow = process.memoryUsage().rss / 2 ** 20;
  process.stdout.write(`swap ${i}/${swaps} → ${target}: ${fmt(end - start, 0)} ms, RSS ${fmt(rssNow)} MiB\n`);
}
await clients.stop();
clearInterval(stallTimer);
await app.close();
await engine.close();
registry.close();
await rm(root, { recursive: true, force: true });

// ---- report ---------------------------------------------------------------------------------------

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
  console.log(
    `${name}  ${fmt(sum(ws)).padStart(7)}  ${String(xs.length).padStart(8)}  ${fmt(xs.length / sum(ws), 2).padStart(5)}` +
      `  ${fmt(percentile(xs, 50), 0).padStart(6)}  ${fmt(percentile(xs, 99), 0).padStart(6)}`,
  );
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

console.log('\nprocess RSS (main thread GC first; worker threads share the process):');
for (const r of rss)
  console.log(
    `  ${r.label.padEnd(22)} ${fmt(r.mib.rss)} MiB  (${fmt(r.mib.rss / rss[0].mib.rss, 3)}× before); ` +
      `main-thread JS heap + external ${fmt(r.mib.heap)} MiB`,
  );
console.log(`\nload average at end: ${load()}; wall time ${fmt((performance.now() - wallStart) / 1000)} s`);
if (failed.length > 0) process.exitCode = 1;
