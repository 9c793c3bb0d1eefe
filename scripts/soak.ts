/**
 * soak — N minutes of mixed traffic against an in-process server (the bundled release in a temp
 * registry, a temp LanceDB store, every answer flagged so the write queue works all the time), with a
 * version swap every --swap-seconds (CURRENT alternates between copies of the release, so the engine
 * loads, warms up, drains and retires workers again and again). Prints per minute: RSS, heap, p50 and
 * p99 of /v1/answer, requests by outcome, swaps, store rows; then first vs last minute.
 * Memory and latency should stay flat. Not in CI.
 *
 * Usage: npm run soak -- --minutes 3 [--clients 4] [--swap-seconds 20] [--workers 1]
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { encodePng16 } from '../src/data/image/index.ts';
import { renderCase, sampleCase } from '../src/data/phantom/index.ts';
import { Engine } from '../src/engine/index.ts';
import { BUNDLED_MODELS_ROOT, Registry } from '../src/registry/index.ts';
import {
  buildApp,
  createMetrics,
  EngineAnswerService,
  engineObserver,
  HardExampleLogger,
  loadConfig,
  StoreFeedbackService,
} from '../src/server/index.ts';
import { fmt, markdownRow, quantile } from './bench/stats.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '3' },
    clients: { type: 'string', default: '4' },
    'swap-seconds': { type: 'string', default: '20' },
    workers: { type: 'string', default: '1' },
  },
});
const minutes = Number(values.minutes);
const clients = Number(values.clients);
const swapMs = Number(values['swap-seconds']) * 1000;
const MODEL = 'chexpo-tiny';

interface Minute {
  latenciesMs: number[];
  /** Feedback is a LanceDB update by hashed request id: its cost grows with the table. */
  feedbackMs: number[];
  outcomes: Map<string, number>;
  swaps: number;
}
const freshMinute = (): Minute => ({ latenciesMs: [], feedbackMs: [], outcomes: new Map(), swaps: 0 });

const mb = (bytes: number): string => (bytes / 2 ** 20).toFixed(0);

/** The traffic mix: closed and choice questions, reports, a bad image, and feedback on past answers. */
function mix(images: Uint8Array[], i: number): { path: string; body: Record<string, unknown>; kind: string } {
  const image = Buffer.from(images[i % images.length]).toString('base64');
  const r = i % 10;
  if (r < 4)
    return {
      path: '/v1/answer',
      kind: 'closed',
      body: { image, question: 'Is there a pleural effusion?', request_id: `soak-${i}` },
    };
  if (r < 6) {
    const body = {
      image,
      question: 'Which side is the effusion on?',
      options: ['left', 'right'],
      request_id: `soak-${i}`,
    };
    return { path: '/v1/answer', kind: 'choice', body };
  }
  if (r < 8)
    return {
      path: '/v1/answer',
      kind: 'report',
      body: { image, task: 'report', max_tokens: 48, request_id: `soak-${i}` },
    };
  if (r === 8)
    return {
      path: '/v1/answer',
      kind: 'bad-image',
      body: { image: Buffer.from('not an image').toString('base64'), question: 'Is it?' },
    };
  return {
    path: '/v1/feedback',
    kind: 'feedback',
    body: { request_id: `soak-${i - 9}`, verdict: 'incorrect', correct_answer: 'no' },
  };
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'chexpo-soak-'));
  const registry = await Registry.open(join(root, 'models'), MODEL);
  await registry.importVersion(join(BUNDLED_MODELS_ROOT, MODEL, 'v0001'));
  await registry.setCurrent('v0001', { reason: 'soak', actor: 'soak' });
  // A second version to swap to: the same files under a new id (a swap still reloads everything).
  const staging = join(root, 'staging');
  await cp(registry.versionDir('v0001'), staging, {
    recursive: true,
    filter: (p) => !p.endsWith('manifest.json'),
  });
  const copy = (await registry.publish(staging, { config: { soak: true } }, { mode: 'move' })).version;

  const { config } = loadConfig({
    CHEXPO_AUTH_DISABLED: '1',
    CHEXPO_RISK_THRESHOLD: '0',
    CHEXPO_RATE_LIMIT_MAX: '0',
    CHEXPO_RATE_LIMIT_ADDRESS_MAX: '0',
    CHEXPO_MAX_EVENT_LOOP_DELAY_MS: '0',
  });
  const metrics = createMetrics();
  const engine = Engine.create({
    registryRoot: registry.root,
    modelName: MODEL,
    workers: Number(values.workers),
    executionProvider: 'cpu',
    maxQueue: 64,
    pollMs: 200,
    observer: engineObserver(metrics),
  });
  const logger = new HardExampleLogger({
    uri: join(root, 'store'),
    embeddingDim: () => engine.embeddingDim,
    metrics,
  });
  const app = await buildApp({
    config,
    metrics,
    answerService: new EngineAnswerService({ engine, logger, riskThreshold: 0 }),
    feedbackService: new StoreFeedbackService(logger),
    modelStatus: () => engine.status(),
  });
  await engine.start();
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const images = [1, 2, 3, 4, 5, 6].map((seed) => encodePng16(renderCase(sampleCase(seed), { size: 256 })));

  const started = Date.now();
  const endAt = started + minutes * 60_000;
  let minute = freshMinute();
  let next = 0;
  const client = async (): Promise<void> => {
    while (Date.now() < endAt) {
      const { path, body, kind } = mix(images, next++);
      const t0 = performance.now();
      const res = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).catch((error: Error) => ({ status: 0, json: async () => ({ error: { code: error.message } }) }));
      const ms = performance.now() - t0;
      const payload = (await res.json()) as { error?: { code: string } };
      const outcome = res.status === 200 ? `${kind} 200` : `${kind} ${res.status} ${payload.error?.code}`;
      minute.outcomes.set(outcome, (minute.outcomes.get(outcome) ?? 0) + 1);
      if (path === '/v1/answer' && res.status === 200) minute.latenciesMs.push(ms);
      if (path === '/v1/feedback') minute.feedbackMs.push(ms);
    }
  };
  let target = copy;
  const swapper = setInterval(() => {
    void registry.setCurrent(target, { reason: 'soak swap', actor: 'soak' }).then(() => {
      minute.swaps += 1;
      target = target === copy ? 'v0001' : copy;
    });
  }, swapMs);

  const rows: string[] = [];
  const report = async (index: number): Promise<void> => {
    const m = minute;
    minute = freshMinute();
    const store = await logger.openStore().catch(() => null);
    const stored = store ? await store.count('hard_examples') : 0;
    const mem = process.memoryUsage();
    const outcomes = [...m.outcomes].map(([k, v]) => `${k}: ${v}`).join(', ');
    const at = (xs: number[], q: number) => fmt(quantile(xs, q), 0);
    const row = markdownRow([
      index,
      mb(mem.rss),
      mb(mem.heapUsed),
      at(m.latenciesMs, 0.5),
      at(m.latenciesMs, 0.99),
      m.latenciesMs.length,
      at(m.feedbackMs, 0.5),
      m.swaps,
      stored,
      `${engine.model?.version}`,
    ]);
    rows.push(row);
    console.log(row, outcomes);
  };
  console.log(`soak: ${minutes} min, ${clients} clients, a swap every ${swapMs / 1000} s, ${base}`);
  const headers = [
    'minute',
    'RSS MB',
    'heap MB',
    'p50 ms',
    'p99 ms',
    'answers',
    'feedback p50 ms',
    'swaps',
    'store rows',
    'serving',
  ];
  console.log(markdownRow(headers));
  console.log(markdownRow(headers.map(() => '---')));
  let index = 0;
  const ticker = setInterval(() => void report(++index), 60_000);
  await Promise.all(Array.from({ length: clients }, client));
  clearInterval(ticker);
  clearInterval(swapper);
  if (Date.now() - started - index * 60_000 > 5_000) await report(++index);
  await app.close();
  await engine.close();
  await logger.close(10_000);
  registry.close();
  await rm(root, { recursive: true, force: true });
  console.log(`\nfirst vs last minute:\n${rows[0]}\n${rows.at(-1)}`);
}

await main();
