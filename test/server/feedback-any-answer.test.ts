/**
 * Feedback on any answer: every answer's minimal record is kept (real engine, real LanceDB), so an
 * answer that was not flagged takes feedback too; the correction of such a confident answer becomes a
 * labelled live hard example marked as an on-policy pair, which the loop's live mining reads and turns
 * into an `on_policy` pair; records expire with the retention window; nothing stored carries PHI.
 */

import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Engine } from '../../src/engine/index.ts';
import { readLiveHardExamples } from '../../src/loop/mining/index.ts';
import { sentenceCase } from '../../src/loop/pairs/casing.ts';
import { livePairs } from '../../src/loop/pairs/live.ts';
import { EngineAnswerService, StoreFeedbackService } from '../../src/server/answer-service.ts';
import { buildApp } from '../../src/server/app.ts';
import { HardExampleLogger, hashKeyId, hashRequestId } from '../../src/server/hard-example-logger.ts';
import { createMetrics } from '../../src/server/metrics.ts';
import { startTestEngine, type TempRegistry, tempRegistry } from '../engine/helpers.ts';
import { REAL_CR_DICOM } from '../fixtures/paths.ts';
import { ADMIN_KEY, ANSWER_KEY, bearer, CLINIC_KEY, FEEDBACK_KEY, keyIdOf, testConfig } from './helpers.ts';

/** An admin key that may give feedback too (it labels another key's answer by naming it). */
const OPS_KEY = 'ops-console-key-0000004';
/** Request ids live in the namespace of the key that asked (CLINIC_KEY below). */
const hashOf = (requestId: string) => hashRequestId(keyIdOf(CLINIC_KEY), requestId);

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
  const config = testConfig({
    CHEXPO_ANSWER_RETENTION_HOURS: '2',
    CHEXPO_API_KEYS: `${ANSWER_KEY}:answer;${FEEDBACK_KEY}:feedback;${ADMIN_KEY}:admin;${CLINIC_KEY}:answer,feedback;${OPS_KEY}:feedback,admin`,
  });
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
    headers: bearer(CLINIC_KEY),
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

const feedback = (payload: Record<string, unknown>, key = CLINIC_KEY) =>
  app.inject({ method: 'POST', url: '/v1/feedback', headers: bearer(key), payload });

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
  const record = await store.findAnswer(hashOf('ris-unflagged-0001'), 0);
  assert.ok(record, 'the answer record is in the answers table');
  assert.equal(record.flagged, false);
  assert.equal(record.answer, answer.answer);
  assert.equal(record.key_hash, hashKeyId(keyIdOf(CLINIC_KEY)));
  assert.equal(record.model_version, (answer.model as { version: string }).version);
  assert.ok(record.image && record.image.length > 0, 'the de-identified PNG, since images are stored');

  const [row] = await store.listHardExamples({ status: 'labelled', source: 'live' });
  assert.equal(row.request_id_hash, hashOf('ris-unflagged-0001'));
  const [label] = JSON.parse(row.label ?? '{}').labels;
  assert.deepEqual(
    [label.verdict, label.correct_answer, label.origin, label.confident, label.on_policy_pair],
    ['incorrect', 'no', 'answer_record', true, true],
  );
  assert.deepEqual([label.by, label.as], [keyIdOf(CLINIC_KEY), 'owner']);

  const live = await readLiveHardExamples(store);
  assert.equal(live.confidentCorrections, 1);
  assert.equal(live.direct.length, 1);
  assert.equal(live.direct[0].confident, true);
  const pairs = livePairs(live.direct, 0);
  assert.equal(pairs.length, 1);
  assert.equal(pairs[0].kind, 'on_policy');
  // Both sides in one casing (issue 14): the pair differs in content only.
  assert.equal(pairs[0].chosen, sentenceCase('no'));
  assert.equal(pairs[0].rejected, sentenceCase(answer.answer as string));
  assert.equal(pairs[0].provenance.generator, 'live.confident_correction');

  // A second verdict on the same answer is appended to that row's history instead of adding a row.
  assert.equal((await feedback({ request_id: 'ris-unflagged-0001', verdict: 'correct' })).statusCode, 200);
  const rows = await store.listHardExamples({ source: 'live' });
  assert.equal(rows.length, 1);
  const entries = JSON.parse(rows[0].label ?? '{}').labels;
  assert.deepEqual(
    entries.map((e: { verdict: string }) => e.verdict),
    ['incorrect', 'correct'],
  );
});

test('a confirmation is recorded but is no on-policy pair; an unknown request_id is 404 naming the window', async () => {
  await answerCr('ris-unflagged-0002');
  assert.equal((await feedback({ request_id: 'ris-unflagged-0002', verdict: 'correct' })).statusCode, 200);
  const store = await logger.openStore();
  const rows = await store.listHardExamples({ source: 'live' });
  const row = rows.find((r) => r.request_id_hash === hashOf('ris-unflagged-0002'));
  assert.equal(JSON.parse(row?.label ?? '{}').labels[0].on_policy_pair, false);
  const missing = await feedback({ request_id: 'never-answered', verdict: 'correct' });
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.json().error.code, 'NOT_FOUND');
  assert.match(missing.json().error.message, /last 2 h/);
});

test('an unflagged answer takes feedback only from the key that asked, or an admin naming it', async () => {
  await answerCr('ris-unflagged-0004');
  const store = await logger.openStore();
  // Another key guessing the id finds nothing (its own namespace), and no row is made.
  const poison = await feedback({ request_id: 'ris-unflagged-0004', verdict: 'correct' }, FEEDBACK_KEY);
  assert.equal(poison.statusCode, 404, poison.body);
  assert.equal(poison.json().error.code, 'NOT_FOUND');
  const hash = hashOf('ris-unflagged-0004');
  const before = await store.listHardExamples({ source: 'live' });
  assert.equal(before.filter((r) => r.request_id_hash === hash).length, 0);

  // An admin names the owner with key_id; the owner then appends: both entries stand, with authors.
  const admin = await feedback(
    {
      request_id: 'ris-unflagged-0004',
      verdict: 'incorrect',
      correct_answer: 'no',
      key_id: keyIdOf(CLINIC_KEY),
    },
    OPS_KEY,
  );
  assert.equal(admin.statusCode, 200, admin.body);
  assert.equal((await feedback({ request_id: 'ris-unflagged-0004', verdict: 'correct' })).statusCode, 200);
  const rows = (await store.listHardExamples({ source: 'live' })).filter((r) => r.request_id_hash === hash);
  assert.equal(rows.length, 1);
  const entries = JSON.parse(rows[0].label ?? '{}').labels;
  assert.deepEqual(
    entries.map((e: { verdict: string; by: string; as: string }) => [e.verdict, e.by, e.as]),
    [
      ['incorrect', keyIdOf(OPS_KEY), 'admin'],
      ['correct', keyIdOf(CLINIC_KEY), 'owner'],
    ],
  );
  assert.equal(entries[0].on_policy_pair, true);
});

test('records expire with the retention window: pruned, and past the window no feedback', async () => {
  await answerCr('ris-unflagged-0003');
  await logger.flush();
  const store = await logger.openStore();
  assert.ok(await store.findAnswer(hashOf('ris-unflagged-0003'), 0));
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
  for (const phi of ['FUJI PHOTO FILM', 'Anonymized', '1993.02.24', 'ris-unflagged-0001', CLINIC_KEY]) {
    assert.ok(!bytes.includes(phi), `the store holds ${phi}`);
  }
});
