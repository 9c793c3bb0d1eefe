/**
 * Attack (issue 13, defect 3): a second, feedback-only key replaced the first key's label on the
 * same request_id, and client ids such as `ris-study-0001` are guessable, so one integration could
 * poison another's training labels. Now request ids are namespaced per key, only the key that asked
 * (or an admin naming it) can label an answer, labels are appended with their author, and the loop
 * reads the latest label by a permitted author. Real routes, real EngineAnswerService and
 * StoreFeedbackService over a real LanceDB store; the engine is a stand-in that flags every answer.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Engine, EngineAnswer } from '../../src/engine/index.ts';
import { readLiveHardExamples } from '../../src/loop/mining/index.ts';
import { EngineAnswerService, StoreFeedbackService } from '../../src/server/answer-service.ts';
import { buildApp } from '../../src/server/app.ts';
import { HardExampleLogger } from '../../src/server/hard-example-logger.ts';
import { createMetrics } from '../../src/server/metrics.ts';
import { type ChexpoStore, latestPermittedEntry, MAX_LABEL_ENTRIES } from '../../src/store/index.ts';
import { bearer, FAKE_PNG, keyIdOf, TEST_IMAGE_INFO, testConfig } from '../server/helpers.ts';

const RIS = 'ris-integration-key-0001';
const PACS = 'pacs-integration-key-002';
const FEEDBACK_ONLY = 'feedback-only-key-00003';
const OPS = 'ops-console-key-0000004';
const DIM = 8;

/** Stands in for the engine: every answer is flagged (risk 0.9), with a fixed embedding. */
function flaggingEngine(): Engine {
  const answer = (): EngineAnswer => ({
    answer: 'yes',
    answerSpan: [{ kind: 'yes_no', text: 'yes', confidence: 0.4, start: 0, end: 3 }],
    tokens: [{ token: 'yes', prob: 0.4, logprob: Math.log(0.4), entropy: 0.7 }],
    confidence: { min_prob: 0.4, mean_logprob: Math.log(0.4), answer_prob: 0.4 },
    risk: 0.9,
    taskType: 'closed',
    prompt: 'Is there a pleural effusion?',
    unknownWordRate: 0,
    oodScore: 0,
    embedding: Float32Array.from({ length: DIM }, (_, i) => (i === 0 ? 1 : 0)),
    imageSha256: 'a'.repeat(64),
    timings: { preprocess: 1, encode: 1, generate: 1 },
    firstTokenAt: 0,
    model: { name: 'chexpo-tiny', version: 'v-test' },
    timings_ms: { queue: 0, preprocess: 1, encode: 1, generate: 1, total: 3 },
    image: TEST_IMAGE_INFO,
    inputWarnings: [],
    finishReason: 'stop',
    promptTokens: 20,
    completionTokens: 1,
  });
  return {
    status: () => ({ ready: true }),
    canAdmit: () => true,
    answer: async () => answer(),
  } as unknown as Engine;
}

let dir: string;
let app: FastifyInstance;
let logger: HardExampleLogger;
let store: ChexpoStore;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chexpo-feedback-'));
  logger = new HardExampleLogger({ uri: join(dir, 'store'), queue: { flushIntervalMs: 10 } });
  app = await buildApp({
    config: testConfig({
      CHEXPO_API_KEYS: `${RIS}:answer,feedback;${PACS}:answer,feedback;${FEEDBACK_ONLY}:feedback;${OPS}:feedback,admin`,
      CHEXPO_RATE_LIMIT_MAX: '0',
      CHEXPO_RATE_LIMIT_ADDRESS_MAX: '0',
    }),
    metrics: createMetrics({ defaultMetrics: false }),
    answerService: new EngineAnswerService({ engine: flaggingEngine(), logger, riskThreshold: 0.5 }),
    feedbackService: new StoreFeedbackService(logger),
  });
  store = await (async () => {
    await ask(RIS, 'warm-up');
    await logger.flush();
    return logger.openStore();
  })();
});
after(async () => {
  await app.close();
  await logger.close();
  await rm(dir, { recursive: true, force: true });
});

async function ask(key: string, requestId: string): Promise<void> {
  const res = await app.inject({
    method: 'POST',
    url: '/v1/answer',
    headers: bearer(key),
    payload: {
      image: FAKE_PNG.toString('base64'),
      question: 'Is there a pleural effusion?',
      request_id: requestId,
    },
  });
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.json().flagged, true);
}

const feedback = (key: string, payload: Record<string, unknown>) =>
  app.inject({ method: 'POST', url: '/v1/feedback', headers: bearer(key), payload });

/** Label histories of the rows, keyed by their request-id hash. */
async function labels(): Promise<Map<string | null, unknown[]>> {
  await logger.flush();
  const rows = await store.listHardExamples({ limit: 1000 });
  return new Map(rows.map((r) => [r.request_id_hash, r.label === null ? [] : JSON.parse(r.label).labels]));
}

test('a guessed request id of another key is not found; the owner’s label is untouched', async () => {
  await ask(RIS, 'ris-study-0001');
  await logger.flush();
  const own = await feedback(RIS, {
    request_id: 'ris-study-0001',
    verdict: 'incorrect',
    correct_answer: 'no',
  });
  assert.equal(own.statusCode, 200, own.body);

  for (const key of [FEEDBACK_ONLY, PACS]) {
    const poison = await feedback(key, { request_id: 'ris-study-0001', verdict: 'correct' });
    assert.equal(poison.statusCode, 404, `${key}: ${poison.body}`);
    assert.equal(poison.json().error.code, 'NOT_FOUND');
  }
  // The same client id from another key is another answer, in that key's namespace.
  await ask(PACS, 'ris-study-0001');
  await logger.flush();
  assert.equal((await feedback(PACS, { request_id: 'ris-study-0001', verdict: 'correct' })).statusCode, 200);

  const rows = await store.listHardExamples({ limit: 1000 });
  const risRow = rows.find((r) => r.label?.includes(keyIdOf(RIS)))!;
  const entries = JSON.parse(risRow.label!).labels;
  assert.deepEqual(
    entries.map((e: { verdict: string; by: string; as: string }) => [e.verdict, e.by, e.as]),
    [['incorrect', keyIdOf(RIS), 'owner']],
  );
  assert.equal(rows.filter((r) => r.label?.includes(keyIdOf(PACS))).length, 1);
});

test('naming another key’s answer (key_id) needs the admin scope; labels are appended, the latest permitted counts', async () => {
  await ask(RIS, 'ris-study-0002');
  await logger.flush();
  const forged = await feedback(FEEDBACK_ONLY, {
    request_id: 'ris-study-0002',
    verdict: 'correct',
    key_id: keyIdOf(RIS),
  });
  assert.equal(forged.statusCode, 403, forged.body);
  assert.equal(forged.json().error.code, 'FORBIDDEN');

  assert.equal((await feedback(RIS, { request_id: 'ris-study-0002', verdict: 'correct' })).statusCode, 200);
  const byAdmin = await feedback(OPS, {
    request_id: 'ris-study-0002',
    verdict: 'incorrect',
    correct_answer: 'small left effusion',
    key_id: keyIdOf(RIS),
  });
  assert.equal(byAdmin.statusCode, 200, byAdmin.body);

  const rows = await store.listHardExamples({ status: 'labelled', limit: 1000 });
  const row = rows.find((r) => r.label?.includes('small left effusion'))!;
  assert.deepEqual(
    JSON.parse(row.label!).labels.map((e: { verdict: string; by: string; as: string }) => [
      e.verdict,
      e.by,
      e.as,
    ]),
    [
      ['correct', keyIdOf(RIS), 'owner'],
      ['incorrect', keyIdOf(OPS), 'admin'],
    ],
  );
  // The loop trains on the latest permitted label: the admin's correction.
  const live = await readLiveHardExamples(store);
  const seed = live.seeds.find((s) => s.id === row.id)!;
  assert.deepEqual(seed.label, { verdict: 'incorrect', correctAnswer: 'small left effusion' });
  assert.equal(latestPermittedEntry(row.label)?.by, keyIdOf(OPS));
});

test(`an answer takes at most ${MAX_LABEL_ENTRIES} labels; then FEEDBACK_LIMIT_REACHED, the history intact`, async () => {
  await ask(RIS, 'ris-study-0003');
  await logger.flush();
  for (let i = 0; i < MAX_LABEL_ENTRIES; i++) {
    const res = await feedback(RIS, {
      request_id: 'ris-study-0003',
      verdict: i % 2 ? 'correct' : 'incorrect',
      correct_answer: `answer ${i}`,
    });
    assert.equal(res.statusCode, 200, res.body);
  }
  const full = await feedback(RIS, { request_id: 'ris-study-0003', verdict: 'correct' });
  assert.equal(full.statusCode, 409, full.body);
  assert.equal(full.json().error.code, 'FEEDBACK_LIMIT_REACHED');
  const histories = [...(await labels()).values()].filter((l) => l.length === MAX_LABEL_ENTRIES);
  assert.equal(histories.length, 1);
  assert.deepEqual(
    histories[0].map((e) => (e as { correct_answer: string }).correct_answer),
    Array.from({ length: MAX_LABEL_ENTRIES }, (_, i) => `answer ${i}`),
  );
});

test('concurrent feedback on one answer loses no label', async () => {
  await ask(RIS, 'ris-study-0004');
  await logger.flush();
  const replies = await Promise.all(
    Array.from({ length: 6 }, (_, i) =>
      feedback(RIS, { request_id: 'ris-study-0004', verdict: 'incorrect', correct_answer: `parallel ${i}` }),
    ),
  );
  assert.deepEqual(
    replies.map((r) => r.statusCode),
    Array(6).fill(200),
  );
  const history = [...(await labels()).values()].find((l) =>
    l.some((e) => (e as { correct_answer?: string }).correct_answer?.startsWith('parallel')),
  )!;
  assert.deepEqual(
    history.map((e) => (e as { correct_answer: string }).correct_answer).sort(),
    Array.from({ length: 6 }, (_, i) => `parallel ${i}`),
  );
});
