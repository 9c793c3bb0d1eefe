/**
 * The OpenAI-compatible routes driven by the official `openai` npm client against a real listening
 * server (127.0.0.1, port 0) on the bundled chexpo-tiny release with the real engine and a real
 * LanceDB hard-example store: completions with logprobs, streaming, the model list, errors as the
 * client's typed exceptions, and agreement with /v1/answer (same engine, same answer, same usage).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import OpenAI from 'openai';
import { Engine } from '../../src/engine/index.ts';
import { EngineAnswerService, StoreFeedbackService } from '../../src/server/answer-service.ts';
import { buildApp } from '../../src/server/app.ts';
import { HardExampleLogger } from '../../src/server/hard-example-logger.ts';
import { createMetrics, engineObserver, type Metrics } from '../../src/server/metrics.ts';
import { MODEL_NAME, type ReleaseRegistry, releaseRegistry } from '../faults/release-registry.ts';
import { ANSWER_KEY, bearer, CLINIC_KEY, testConfig } from './helpers.ts';

const PNG_PATH = new URL(
  '../fixtures/chexpert/CheXpert-v1.0-small/valid/patient64541/study1/view1_frontal.png',
  import.meta.url,
);
const QUESTION = 'Is there a pleural effusion?';

let reg: ReleaseRegistry;
let storeDir: string;
let engine: Engine;
let logger: HardExampleLogger;
let app: FastifyInstance;
let metrics: Metrics;
let base: string;
let client: OpenAI;
let png: Buffer;
let dataUrl: string;

before(async () => {
  reg = await releaseRegistry();
  storeDir = await mkdtemp(join(tmpdir(), 'chexpo-openai-store-'));
  png = await readFile(PNG_PATH);
  dataUrl = `data:image/png;base64,${png.toString('base64')}`;
  metrics = createMetrics({ defaultMetrics: false });
  engine = await Engine.start({
    registryRoot: reg.registryRoot,
    modelName: MODEL_NAME,
    workers: 1,
    executionProvider: 'cpu',
    maxQueue: 8,
    watch: false,
    observer: engineObserver(metrics),
  });
  logger = new HardExampleLogger({ uri: storeDir, metrics, queue: { flushIntervalMs: 20 } });
  app = await buildApp({
    // Risk threshold 0: every answer is a hard example, so logging through this route shows.
    config: testConfig({ CHEXPO_RISK_THRESHOLD: '0' }),
    metrics,
    answerService: new EngineAnswerService({ engine, logger, riskThreshold: 0 }),
    feedbackService: new StoreFeedbackService(logger),
    modelStatus: () => engine.status(),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  base = `http://127.0.0.1:${port}`;
  client = new OpenAI({ apiKey: CLINIC_KEY, baseURL: `${base}/v1`, maxRetries: 0, timeout: 60_000 });
});

after(async () => {
  await app?.close();
  await engine?.close();
  await logger?.close();
  await reg?.cleanup();
  await rm(storeDir, { recursive: true, force: true });
});

const userMessage = (text?: string): OpenAI.ChatCompletionMessageParam => ({
  role: 'user',
  content: [
    { type: 'image_url', image_url: { url: dataUrl } },
    ...(text ? [{ type: 'text' as const, text }] : []),
  ],
});

async function answerRoute(fields: Record<string, unknown>): Promise<Record<string, unknown>> {
  const response = await fetch(`${base}/v1/answer`, {
    method: 'POST',
    headers: { ...bearer(ANSWER_KEY), 'content-type': 'application/json' },
    body: JSON.stringify({ image: png.toString('base64'), ...fields }),
  });
  assert.equal(response.status, 200);
  return (await response.json()) as Record<string, unknown>;
}

const completed = async (): Promise<number> =>
  (await metrics.answers.get()).values.reduce((sum, v) => sum + v.value, 0);

test('chat.completions.create: OpenAI shape, logprobs that spell the content, chexpo extension, same answer as /v1/answer', async () => {
  const before = await completed();
  const completion = await client.chat.completions.create({
    model: MODEL_NAME,
    messages: [{ role: 'system', content: 'You are a radiologist.' }, userMessage(QUESTION)],
    logprobs: true,
    top_logprobs: 20,
    temperature: 0,
    // biome-ignore lint/suspicious/noExplicitAny: chexpo's extension field is not in OpenAI's types.
    ...({ chexpo: { request_id: 'openai-client-0001' } } as any),
  });
  assert.equal(completion.object, 'chat.completion');
  assert.equal(completion.model, MODEL_NAME);
  assert.equal(completion.id, 'chatcmpl-openai-client-0001');
  assert.equal(completion.choices.length, 1);
  const [choice] = completion.choices;
  assert.equal(choice.message.role, 'assistant');
  const content = choice.message.content ?? '';
  assert.ok(content.length > 0);
  const entries = choice.logprobs?.content ?? [];
  assert.ok(entries.length > 0);
  assert.equal(entries.map((e) => e.token).join(''), content, 'tokens concatenate to the content');
  for (const entry of entries) {
    assert.equal(Buffer.from(entry.bytes ?? []).toString('utf8'), entry.token);
    assert.ok(entry.logprob <= 0);
    assert.equal(entry.top_logprobs.length, 20);
    const logprobs = entry.top_logprobs.map((a) => a.logprob);
    assert.deepEqual(
      logprobs,
      [...logprobs].sort((a, b) => b - a),
      'alternatives best first',
    );
    // Greedy decoding: the chosen token is the best alternative.
    assert.equal(entry.top_logprobs[0].token, entry.token);
    assert.ok(Math.abs(entry.top_logprobs[0].logprob - entry.logprob) < 1e-9);
  }
  assert.ok(choice.finish_reason === 'stop' || choice.finish_reason === 'length');
  const usage = completion.usage!;
  assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
  // Generated tokens = the listed ones plus the <eos> when the model ended the answer itself.
  assert.equal(usage.completion_tokens, entries.length + (choice.finish_reason === 'stop' ? 1 : 0));
  const chexpo = (completion as unknown as { chexpo: Record<string, unknown> }).chexpo;
  assert.equal(chexpo.request_id, 'openai-client-0001');
  assert.equal(chexpo.task, 'vqa');
  assert.equal(chexpo.flagged, true);
  assert.equal((chexpo.model as { version: string }).version, completion.system_fingerprint);
  assert.ok(typeof chexpo.risk === 'number' && chexpo.risk >= 0 && chexpo.risk <= 1);
  const spans = chexpo.answer_span as { text: string; start: number; end: number }[];
  assert.ok(spans.length > 0);
  for (const span of spans) assert.equal(content.slice(span.start, span.end), span.text);
  assert.equal((await completed()) - before, 1, 'counted in chexpo_answer_completed_total');

  const direct = await answerRoute({ question: QUESTION, top_logprobs: 20 });
  assert.equal(direct.answer, content);
  assert.deepEqual(direct.usage, usage);
  assert.equal(direct.finish_reason, choice.finish_reason);
  assert.deepEqual(
    (direct.tokens as { logprob: number }[]).map((t) => t.logprob),
    entries.map((e) => e.logprob),
  );

  // Logged as a hard example under the client's request id: feedback finds it once the queue flushed.
  assert.deepEqual(await logger.flush(), { pending: 0 });
  const feedback = await fetch(`${base}/v1/feedback`, {
    method: 'POST',
    headers: { ...bearer(CLINIC_KEY), 'content-type': 'application/json' },
    body: JSON.stringify({ request_id: 'openai-client-0001', verdict: 'correct' }),
  });
  assert.equal(feedback.status, 200, await feedback.text());
});

test('a token budget that cuts the answer off is finish_reason "length" on both routes', async () => {
  const completion = await client.chat.completions.create({
    model: MODEL_NAME,
    messages: [userMessage()],
    max_completion_tokens: 2,
  });
  const [choice] = completion.choices;
  assert.equal(choice.finish_reason, 'length');
  assert.equal(completion.usage?.completion_tokens, 2);
  assert.equal(choice.logprobs, null, 'no logprobs unless asked');
  assert.equal((completion as unknown as { chexpo: { task: string } }).chexpo.task, 'report');
  const direct = await answerRoute({ task: 'report', max_tokens: 2 });
  assert.equal(direct.finish_reason, 'length');
  assert.equal(direct.answer, choice.message.content);
  assert.deepEqual(direct.usage, completion.usage);
});

test('stream: true yields chat.completion.chunk events that add up to the non-streamed completion', async () => {
  const request = {
    model: MODEL_NAME,
    messages: [userMessage(QUESTION)],
    logprobs: true,
    top_logprobs: 2,
  };
  const whole = await client.chat.completions.create(request);
  const stream = await client.chat.completions.create({
    ...request,
    stream: true,
    stream_options: { include_usage: true },
  });
  let content = '';
  const tokens: string[] = [];
  let role: string | undefined;
  let finish: string | null = null;
  let usage: OpenAI.CompletionUsage | undefined;
  let chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    assert.equal(chunk.object, 'chat.completion.chunk');
    assert.equal(chunk.model, MODEL_NAME);
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      role ??= choice.delta.role;
      content += choice.delta.content ?? '';
      for (const entry of choice.logprobs?.content ?? []) {
        tokens.push(entry.token);
        assert.equal(entry.top_logprobs.length, 2);
      }
      if (choice.finish_reason) finish = choice.finish_reason;
    }
  }
  assert.ok(chunks >= 3, `${chunks} chunks`);
  assert.equal(role, 'assistant');
  assert.equal(content, whole.choices[0].message.content);
  assert.deepEqual(
    tokens,
    whole.choices[0].logprobs?.content?.map((e) => e.token),
  );
  assert.equal(finish, whole.choices[0].finish_reason);
  assert.deepEqual(usage, whole.usage);
});

test('models.list names the served model', async () => {
  const models = [];
  for await (const model of client.models.list()) models.push(model);
  assert.deepEqual(
    models.map((m) => [m.id, m.object]),
    [[MODEL_NAME, 'model']],
  );
});

test('errors reach the client as its typed exceptions with chexpo codes; nothing is answered', async () => {
  const before = await completed();
  const noImage = await client.chat.completions
    .create({ model: MODEL_NAME, messages: [{ role: 'user', content: QUESTION }] })
    .then(
      () => assert.fail('answered without an image'),
      (error: unknown) => error,
    );
  assert.ok(noImage instanceof OpenAI.BadRequestError);
  assert.equal(noImage.status, 400);
  assert.equal(noImage.code, 'IMAGE_REQUIRED');
  assert.equal(noImage.type, 'invalid_request_error');
  assert.equal(noImage.param, '/messages/0/content');

  const streamed = await client.chat.completions
    .create({
      model: MODEL_NAME,
      messages: [
        { role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.org/x.png' } }] },
      ],
      stream: true,
    })
    .then(
      () => assert.fail('a remote image URL was accepted'),
      (error: unknown) => error,
    );
  assert.ok(streamed instanceof OpenAI.BadRequestError);
  assert.equal(streamed.code, 'IMAGE_URL_UNSUPPORTED');

  const unknownModel = await client.chat.completions
    .create({ model: 'gpt-4o', messages: [userMessage(QUESTION)] })
    .then(
      () => assert.fail('an unknown model answered'),
      (error: unknown) => error,
    );
  assert.ok(unknownModel instanceof OpenAI.NotFoundError);
  assert.equal(unknownModel.code, 'NOT_FOUND');

  const badKey = new OpenAI({ apiKey: 'not-a-known-key-000000', baseURL: `${base}/v1`, maxRetries: 0 });
  const unauthorized = await badKey.models.list().then(
    () => assert.fail('an unknown key listed models'),
    (error: unknown) => error,
  );
  assert.ok(unauthorized instanceof OpenAI.AuthenticationError);
  assert.equal(unauthorized.code, 'UNAUTHORIZED');
  assert.equal((await completed()) - before, 0);
});

test('engine metrics: time per output token observed per multi-token answer; running and waiting settle at 0', async () => {
  const count = async () =>
    (await metrics.timePerOutputToken.get()).values
      .filter((v) => (v as { metricName?: string }).metricName?.endsWith('_count'))
      .reduce((sum, v) => sum + v.value, 0);
  const before = await count();
  // Concurrent answers: each is admitted (waiting), joins a decode batch (running), then leaves.
  const answers = await Promise.all(
    [2, 3, 4].map((max) =>
      client.chat.completions.create({ model: MODEL_NAME, messages: [userMessage()], max_tokens: max }),
    ),
  );
  assert.deepEqual(
    answers.map((a) => a.usage?.completion_tokens),
    [2, 3, 4],
  );
  assert.equal((await count()) - before, 3);
  const gauge = async (name: 'requestsRunning' | 'requestsWaiting') =>
    (await metrics[name].get()).values[0]?.value ?? 0;
  // Long reports in flight: sample the gauges until they finish (bounded by their completion).
  const reports = Promise.all(
    [0, 1].map(() =>
      client.chat.completions.create({ model: MODEL_NAME, messages: [userMessage()], max_tokens: 60 }),
    ),
  );
  let done = false;
  void reports.finally(() => {
    done = true;
  });
  let maxRunning = 0;
  while (!done) {
    const running = await gauge('requestsRunning');
    maxRunning = Math.max(maxRunning, running);
    assert.ok(running + (await gauge('requestsWaiting')) <= 2);
    await new Promise((r) => setTimeout(r, 2));
  }
  await reports;
  assert.ok(maxRunning >= 1, 'a decoding request was counted as running');
  assert.equal(await gauge('requestsRunning'), 0);
  assert.equal(await gauge('requestsWaiting'), 0);
  const exposition = await metrics.registry.metrics();
  assert.match(
    exposition,
    /^chexpo_engine_time_per_output_token_seconds_bucket\{le="0\.001",task="report"\} \d+$/m,
  );
});
