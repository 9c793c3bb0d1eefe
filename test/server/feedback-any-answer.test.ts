/**
 * Feedback on any answer: every answer's minimal record is kept (real engine, real LanceDB), so an
 * answer that was not flagged takes feedback too; the correction of such a confident answer becomes a
 * labelled live hard example marked as an on-policy pair, which the loop's live mining reads and turns
 * into an `on_policy` pair; records expire with the retention window; nothing stored carries PHI.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Engine } from '../../src/engine/index.ts';
import { livePairs } from '../../src/loop/live-pairs.ts';
import { readLiveHardExamples } from '../../src/loop/mining/index.ts';
import { EngineAnswerService, StoreFeedbackService } from '../../src/server/answer-service.ts';
import { buildApp } from '../../src/server/app.ts';
import { HardExampleLogger, hashKeyId, hashRequestId } from '../../src/server/hard-example-logger.ts';
import { createMetrics } from '../../src/server/metrics.ts';
import { startTestEngine, type TempRegistry, tempRegistry } from '../engine/helpers.ts';
import { REAL_CR_DICOM } from '../fixtures/paths.ts';
import { ANSWER_KEY, bearer, FEEDBACK_KEY, testConfig } from './helpers.ts';

let reg: TempRegistry;
let storeDir: string;
let engine: Engine;
let logger: HardExampleLogger;
let app: Awaited<ReturnType<typeof buildApp>>;
const HOUR = 3_600_000;

before(async () => {
  reg = await tempRegistry();
  await reg.publish(29);
  storeDir = await mkdtemp(join(tmpdir(), 'chexpo-feedback-any-'));
  const config = testConfig({ CHEXPO_ANSWER_RETENTION_HOURS: '2' });
  assert.equal(config.store.answerRetentionHours, 2);
  const metrics = createMetrics({ defaultMetrics: false });
  engine = await startTestEngine(reg, {
    keepImagePng: true,
    inputGate: config.gate,
    metrics,
  });
  logger = new HardExampleLogger({
    uri: storeDir,
    metrics,
    queue: { flushIntervalMs: 20 },
    answerRetentionMs: config.store.answerRetentionHours * HOUR,
  });
  app = await buildApp({
    config,
    metrics,
    // Threshold 1: no answer is flagged, so every feedback below goes through the answer records.
    answerService: new EngineAnswerService({ engine, logger, riskThreshold: 1, storeImages: true }),
    feedbackService: new StoreFeedbackService(logger),
    modelStatus: () => engine.status(),
  });
});
after(async () => {
  await app?.close();
  await engine?.close();
  await logger?.close();
  await reg?.cleanup();
  await rm(storeDir, { recursive: true, force: true });
});

async function answerCr(requestId: string): Promise<Record<string, unknown>> {
  const rep = await app.inject({
    method: 'POST',
    url: '/v1/answer',
    headers: bearer(ANSWER_KEY),
    payload: {
      image: (await readFile(REAL_CR_DICOM)).toString('base64'),
      task: 'vqa',
      question: 'Is there a pleural effusion?',
      request_id: requestId,
    },
  });
  assert.equal(rep.statusCode, 200, rep.body);
  return rep.json();
}

const feedback = (payload: Record<string, unknown>) =>
  app.inject({ method: 'POST', url: '/v1/feedback', headers: bearer(FEEDBACK_KEY), payload });

test('an unflagged answer takes feedback; its correction is a labelled on-policy hard example the loop mines', async () => {
  const answer = await answerCr('ris-unflagged-0001');
  assert.equal(answer.flagged, false);
  const rep = await feedback({
    request_id: 'ris-unflagged-0001',
    verdict: 'incorrect',
    correct_answer: 'no',
    comment: 'no effusion',
  });
  assert.equal(rep.statusCode, 200, rep.body);
  assert.deepEqual(rep.json(), { request_id: 'ris-unflagged-0001', status: 'recorded' });

  const store = await logger.openStore();
  const record = await store.findAnswer(hashRequestId('ris-unflagged-0001'), 0);
  assert.ok(record, 'the answer record is in the answers table');
  assert.equal(record.flagged, false);
  assert.equal(record.answer, answer.answer);
  assert.equal(
    record.key_hash,
    hashKeyId(createHash('sha256').update(ANSWER_KEY).digest('hex').slice(0, 12)),
  );
  assert.equal(record.model_version, (answer.model as { version: string }).version);
  assert.ok(record.image && record.image.length > 0, 'the de-identified PNG, since images are stored');

  const [row] = await store.listHardExamples({ status: 'labelled', source: 'live' });
  assert.equal(row.request_id_hash, hashRequestId('ris-unflagged-0001'));
  const label = JSON.parse(row.label ?? '{}');
  assert.deepEqual(
    [label.verdict, label.correct_answer, label.origin, label.confident, label.on_policy_pair],
    ['incorrect', 'no', 'answer_record', true, true],
  );

  const live = await readLiveHardExamples(store);
  assert.equal(live.confidentCorrections, 1);
  assert.equal(live.direct.length, 1);
  assert.equal(live.direct[0].confident, true);
  const pairs = livePairs(live.direct, 0);
  assert.equal(pairs.length, 1);
  assert.equal(pairs[0].kind, 'on_policy');
  assert.equal(pairs[0].chosen, 'no');
  assert.equal(pairs[0].rejected, answer.answer);
  assert.equal(pairs[0].provenance.generator, 'live.confident_correction');

  // A second verdict on the same answer relabels that row instead of adding another.
  assert.equal((await feedback({ request_id: 'ris-unflagged-0001', verdict: 'correct' })).statusCode, 200);
  const rows = await store.listHardExamples({ source: 'live' });
  assert.equal(rows.length, 1);
  assert.equal(JSON.parse(rows[0].label ?? '{}').verdict, 'correct');
});

test('a confirmation is recorded but is no on-policy pair; an unknown request_id is 404 naming the window', async () => {
  await answerCr('ris-unflagged-0002');
  assert.equal((await feedback({ request_id: 'ris-unflagged-0002', verdict: 'correct' })).statusCode, 200);
  const store = await logger.openStore();
  const rows = await store.listHardExamples({ source: 'live' });
  const row = rows.find((r) => r.request_id_hash === hashRequestId('ris-unflagged-0002'));
  assert.equal(JSON.parse(row?.label ?? '{}').on_policy_pair, false);
  const missing = await feedback({ request_id: 'never-answered', verdict: 'correct' });
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.json().error.code, 'NOT_FOUND');
  assert.match(missing.json().error.message, /last 2 h/);
});

test('records expire with the retention window: pruned, and past the window no feedback', async () => {
  await answerCr('ris-unflagged-0003');
  await logger.flush();
  const store = await logger.openStore();
  assert.ok(await store.findAnswer(hashRequestId('ris-unflagged-0003'), 0));
  const pruned = await logger.pruneAnswers(Date.now() + 3 * HOUR);
  assert.ok(pruned >= 1, `pruned ${pruned}`);
  assert.equal(await store.count('answers'), 0);
  const rep = await feedback({
    request_id: 'ris-unflagged-0003',
    verdict: 'incorrect',
    correct_answer: 'yes',
  });
  assert.equal(rep.statusCode, 404);
});

test('the store holds no DICOM tag value and no raw request id', async () => {
  await logger.flush();
  const parts: string[] = [];
  for (const entry of await readdir(storeDir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) parts.push((await readFile(join(entry.parentPath, entry.name))).toString('latin1'));
  }
  const bytes = parts.join('\n');
  assert.ok(bytes.length > 0);
  for (const phi of ['FUJI PHOTO FILM', 'Anonymized', '1993.02.24', 'ris-unflagged-0001', ANSWER_KEY]) {
    assert.ok(!bytes.includes(phi), `the store holds ${phi}`);
  }
});
