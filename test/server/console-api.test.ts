/**
 * The review console's routes through inject(), over a real LanceDB store seeded through the store
 * contract: the queue (order, filters, pages, tokens and spans, images), scopes, corrections that
 * land as feedback label entries authored by the reviewer (the same StoreFeedbackService as
 * /v1/feedback) with the PHI rule for free text, the audit line, the security headers scoped to
 * /console, and "now" from the metrics.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { StoreFeedbackService } from '../../src/server/answer-service.ts';
import { buildApp } from '../../src/server/app.ts';
import { AuditLog } from '../../src/server/audit-log.ts';
import { PUBLIC_DIR } from '../../src/server/console/assets.ts';
import { ReviewQueue } from '../../src/server/console/index.ts';
import { HardExampleLogger } from '../../src/server/hard-example-logger.ts';
import { createMetrics, type Metrics, observeAnswer } from '../../src/server/metrics.ts';
import { type ChexpoStore, LanceStore, latestPermittedEntry } from '../../src/store/index.ts';
import { DIM, hashOf, seedStore } from './console-fixtures.ts';
import {
  ADMIN_KEY,
  ANSWER_KEY,
  bearer,
  CLINIC_KEY,
  FEEDBACK_KEY,
  keyIdOf,
  postFeedback,
  REVIEW_KEY,
  testConfig,
} from './helpers.ts';

const HOUR = 3_600_000;
let dir: string;
let store: ChexpoStore;
let logger: HardExampleLogger;
let audit: AuditLog;
let metrics: Metrics;
let app: FastifyInstance;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chexpo-console-api-'));
  const uri = join(dir, 'store');
  const seeding = await LanceStore.open({ uri, embeddingDim: DIM });
  await seedStore(seeding);
  await seeding.close();
  logger = new HardExampleLogger({ uri, embeddingDim: () => DIM, answerRetentionMs: 2 * HOUR });
  store = await logger.openStore();
  audit = new AuditLog({ path: join(dir, 'audit.jsonl') });
  metrics = createMetrics({ defaultMetrics: false });
  app = await buildApp({
    config: testConfig(),
    metrics,
    audit,
    feedbackService: new StoreFeedbackService(logger),
    reviewQueue: new ReviewQueue({ store: () => logger.openStore(), retentionMs: 2 * HOUR }),
  });
});

after(async () => {
  await app?.close();
  await logger?.close();
  await audit?.close();
  await rm(dir, { recursive: true, force: true });
});

const queue = async (query = '', key = REVIEW_KEY) => {
  const rep = await app.inject({ url: `/console/api/queue${query}`, headers: bearer(key) });
  assert.equal(rep.statusCode, 200, rep.body);
  return rep.json();
};
const review = (payload: Record<string, unknown>, key = REVIEW_KEY) =>
  app.inject({ method: 'POST', url: '/console/api/feedback', headers: bearer(key), payload });
const labelsOf = async (requestId: string) => {
  const rows = (await store.listHardExamples({ source: 'live' })).filter(
    (r) => r.request_id_hash === hashOf(requestId),
  );
  assert.equal(rows.length, 1, `one hard example for ${requestId}`);
  return { row: rows[0], entries: JSON.parse(rows[0].label ?? '{"labels":[]}').labels };
};

test('the queue lists flagged answers newest first, with shaded tokens, spans, what raised the risk, and images', async () => {
  const page = await queue();
  assert.deepEqual(
    page.items.map((i: { item: string }) => i.item),
    [hashOf('ris-flagged-effusion'), hashOf('ris-flagged-side'), hashOf('ris-no-image')],
  );
  const [first] = page.items;
  assert.equal(first.task, 'closed');
  assert.equal(first.tokens.map((t: { text: string }) => t.text).join(''), first.answer);
  assert.equal(first.tokens[0].prob.toFixed(2), '0.41');
  assert.deepEqual(
    first.spans.map((s: { kind: string; text: string }) => [s.kind, s.text]),
    [['yes_no', 'yes']],
  );
  assert.equal(first.spans[0].confidence.toFixed(2), '0.41');
  assert.deepEqual(first.raised_by, {
    input_warnings: ['lateral_view'],
    low_confidence_spans: ['yes'],
    ood_score: null,
  });
  assert.deepEqual(first.form, { kind: 'yes_no' });
  assert.equal(first.image, 'images/hard_examples/he-ris-flagged-effusion');
  const image = await app.inject({ url: `/console/api/${first.image}`, headers: bearer(REVIEW_KEY) });
  assert.equal(image.statusCode, 200);
  assert.equal(image.headers['content-type'], 'image/png');
  assert.equal(image.headers['cache-control'], 'no-store');
  assert.deepEqual([...image.rawPayload.subarray(1, 4)], [0x50, 0x4e, 0x47]);

  const noImage = page.items.find((i: { item: string }) => i.item === hashOf('ris-no-image'));
  assert.equal(noImage.image, null);
  const choice = page.items.find((i: { item: string }) => i.item === hashOf('ris-flagged-side'));
  assert.deepEqual(choice.form, { kind: 'option', options: ['left', 'right'] });
  assert.deepEqual(page.facets.warnings, ['lateral_view']);
  assert.equal(page.retention_hours, 2);
});

test('all recent answers, riskiest first, filtered by task, warning, model version and risk, paged', async () => {
  const all = await queue('?view=all&sort=risk');
  assert.deepEqual(
    all.items.map((i: { risk: number }) => i.risk),
    [0.91, 0.83, 0.7, 0.32],
  );
  const report = all.items.at(-1);
  assert.equal(report.flagged, false);
  assert.equal(report.status, 'answer_record');
  assert.equal(report.image, 'images/answers/ans-ris-report');
  assert.deepEqual(
    report.spans.map((s: { finding: string }) => s.finding),
    ['pleural_effusion', 'cardiomegaly', 'pneumothorax', 'pleural_effusion'],
  );
  assert.equal(report.form.kind, 'report');
  const effusion = report.form.findings.find((f: { key: string }) => f.key === 'pleural_effusion');
  assert.deepEqual(effusion, { key: 'pleural_effusion', state: 'present', side: 'left', severity: 'mild' });

  assert.equal((await queue('?view=all&task=report')).total, 1);
  assert.equal((await queue('?view=all&warning=lateral_view')).total, 1);
  assert.equal((await queue('?view=all&model_version=v0002')).items[0].item, hashOf('ris-flagged-side'));
  assert.equal((await queue('?view=all&min_risk=0.8')).total, 2);
  const second = await queue('?view=all&page_size=3&page=2');
  assert.deepEqual([second.total, second.page, second.pages, second.items.length], [4, 2, 2, 1]);
  const bad = await app.inject({ url: '/console/api/queue?sort=oldest', headers: bearer(REVIEW_KEY) });
  assert.equal(bad.statusCode, 400);
});

test('scopes: the queue needs review; no key is 401; any key signs in', async () => {
  const refused = await app.inject({ url: '/console/api/queue', headers: bearer(ANSWER_KEY) });
  assert.equal(refused.statusCode, 403);
  assert.equal(refused.json().error.code, 'FORBIDDEN');
  const anonymous = await app.inject({ url: '/console/api/queue' });
  assert.equal(anonymous.statusCode, 401);
  const session = await app.inject({ url: '/console/api/session', headers: bearer(ANSWER_KEY) });
  assert.deepEqual(session.json(), { key_id: keyIdOf(ANSWER_KEY), scopes: ['answer'] });
  const image = await app.inject({
    url: '/console/api/images/hard_examples/he-ris-flagged-effusion',
    headers: bearer(ADMIN_KEY),
  });
  assert.equal(image.statusCode, 403);
  const correction = await review({ item: hashOf('ris-flagged-effusion'), verdict: 'correct' }, ANSWER_KEY);
  assert.equal(correction.statusCode, 403);
});

test('reviewer labels need the review scope: feedback and admin keys get 403 FORBIDDEN, /v1/feedback stays the owner’s', async () => {
  // FEEDBACK_KEY: feedback only; CLINIC_KEY: answer,feedback and the owner of the seeded answers;
  // ADMIN_KEY: admin, which does not imply review (separation of duties).
  for (const key of [FEEDBACK_KEY, CLINIC_KEY, ADMIN_KEY]) {
    const who = keyIdOf(key);
    for (const url of [
      '/console/api/queue',
      '/console/api/catalogue',
      '/console/api/images/hard_examples/he-ris-flagged-effusion',
    ]) {
      const rep = await app.inject({ url, headers: bearer(key) });
      assert.equal(rep.statusCode, 403, `${url} as ${who}`);
      assert.equal(rep.json().error.code, 'FORBIDDEN', `${url} as ${who}`);
    }
    const rep = await review(
      { item: hashOf('ris-flagged-side'), verdict: 'incorrect', correction: { answer: 'right' } },
      key,
    );
    assert.equal(rep.statusCode, 403, `reviewer feedback as ${who}`);
    assert.deepEqual(
      [rep.json().error.code, rep.json().error.message],
      ['FORBIDDEN', "this API key lacks the scope this endpoint needs: needs scope 'review'"],
    );
  }
  assert.deepEqual((await labelsOf('ris-flagged-side')).entries, [], 'no refused correction was stored');

  // A feedback key labels its own answer through /v1/feedback as before: as its owner, not a reviewer.
  const own = await postFeedback(app, CLINIC_KEY, {
    request_id: 'ris-flagged-side',
    verdict: 'incorrect',
    correct_answer: 'right',
  });
  assert.equal(own.statusCode, 200, own.body);
  const { entries } = await labelsOf('ris-flagged-side');
  assert.deepEqual(
    entries.map((e: Record<string, unknown>) => [e.verdict, e.correct_answer, e.by, e.as]),
    [['incorrect', 'right', keyIdOf(CLINIC_KEY), 'owner']],
  );

  const session = await app.inject({ url: '/console/api/session', headers: bearer(REVIEW_KEY) });
  assert.deepEqual(session.json(), { key_id: keyIdOf(REVIEW_KEY), scopes: ['review'] });
  assert.equal(
    (await app.inject({ url: '/console/api/catalogue', headers: bearer(REVIEW_KEY) })).statusCode,
    200,
  );
});

test('a correction lands as a feedback label entry authored by the reviewer, audited, read by the loop', async () => {
  const rep = await review({
    item: hashOf('ris-flagged-effusion'),
    verdict: 'incorrect',
    correction: { answer: 'no' },
  });
  assert.equal(rep.statusCode, 200, rep.body);
  assert.deepEqual(rep.json(), {
    item: hashOf('ris-flagged-effusion'),
    status: 'recorded',
    correct_answer: 'no',
  });
  const { row, entries } = await labelsOf('ris-flagged-effusion');
  assert.equal(row.status, 'labelled');
  assert.deepEqual(
    entries.map((e: Record<string, unknown>) => [e.verdict, e.correct_answer, e.by, e.as]),
    [['incorrect', 'no', keyIdOf(REVIEW_KEY), 'reviewer']],
  );
  assert.equal(latestPermittedEntry(row.label)?.correct_answer, 'no');

  await audit.close();
  const lines = (await readFile(join(dir, 'audit.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const line = lines.find(
    (l) => l.action === 'feedback' && l.outcome === 'ok' && l.details.via === 'console',
  );
  assert.equal(line.actor, keyIdOf(REVIEW_KEY));
  assert.equal(line.target, hashOf('ris-flagged-effusion'));
  assert.deepEqual(line.details, {
    via: 'console',
    verdict: 'incorrect',
    findings: null,
    free_text_chars: null,
  });
  audit = new AuditLog({ path: join(dir, 'audit-2.jsonl') });
});

test('an unflagged answer reviewed in the console becomes a labelled hard example (the same adoption as /v1/feedback)', async () => {
  const rep = await review({ item: hashOf('ris-report'), verdict: 'correct' });
  assert.equal(rep.statusCode, 200, rep.body);
  const { row, entries } = await labelsOf('ris-report');
  assert.equal(row.status, 'labelled');
  assert.deepEqual(
    [entries[0].verdict, entries[0].as, entries[0].origin, entries[0].confident],
    ['correct', 'reviewer', 'answer_record', true],
  );
});

test('PHI rule: a report correction is written from catalogue findings; free text is reduced by the labeler, never stored', async () => {
  const freeText = 'Patient John Smith, MRN 12345678, seen 2024-03-01: small right pneumothorax.';
  const rep = await review({
    item: hashOf('ris-report'),
    verdict: 'incorrect',
    correction: {
      findings: [
        { key: 'pleural_effusion', present: true, side: 'left', severity: 'moderate' },
        { key: 'cardiomegaly', present: false },
      ],
      free_text: freeText,
    },
  });
  assert.equal(rep.statusCode, 200, rep.body);
  const stored = rep.json().correct_answer as string;
  assert.match(stored, /moderate left pleural effusion/i);
  assert.match(stored, /pneumothorax/i, 'the labeler read the finding out of the free text');
  const { row } = await labelsOf('ris-report');
  for (const word of ['John', 'Smith', '12345678', '2024', 'Patient', 'MRN']) {
    assert.ok(!row.label?.includes(word), `${word} is not stored`);
  }
  assert.equal(latestPermittedEntry(row.label)?.correct_answer, stored);
});

test('corrections must fit the task form: option, yes/no, a named item, a correction for "incorrect"', async () => {
  const wrongOption = await review({
    item: hashOf('ris-flagged-side'),
    verdict: 'incorrect',
    correction: { answer: 'bilateral' },
  });
  assert.equal(wrongOption.statusCode, 400);
  assert.match(wrongOption.json().error.message, /left, right/);
  const option = await review({
    item: hashOf('ris-flagged-side'),
    verdict: 'incorrect',
    correction: { answer: 'left' },
  });
  assert.equal(option.json().correct_answer, 'left');
  const missing = await review({ item: hashOf('ris-flagged-effusion'), verdict: 'incorrect' });
  assert.equal(missing.statusCode, 400);
  const open = await review({
    item: hashOf('ris-no-image'),
    verdict: 'incorrect',
    correction: { answer: 'John' },
  });
  assert.equal(open.statusCode, 400, 'an open answer is a catalogue word, not free text');
  const value = await review({
    item: hashOf('ris-no-image'),
    verdict: 'incorrect',
    correction: { answer: 'small' },
  });
  assert.equal(value.statusCode, 200, value.body);
  const unknown = await review({ item: 'f'.repeat(64), verdict: 'correct' });
  assert.equal(unknown.statusCode, 404);
  const extra = await review({ item: hashOf('ris-report'), verdict: 'correct', comment: 'x' });
  assert.equal(extra.statusCode, 400);
});

test('the page and its assets, with strict CSP and security headers on /console only', async () => {
  const page = await app.inject({ url: '/console/' });
  assert.equal(page.statusCode, 200);
  assert.match(page.headers['content-type'] as string, /text\/html/);
  const csp = page.headers['content-security-policy'] as string;
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.equal(page.headers['x-content-type-options'], 'nosniff');
  assert.equal(page.headers['referrer-policy'], 'no-referrer');
  assert.equal((await app.inject({ url: '/console' })).headers.location, '/console/');
  const js = await app.inject({ url: '/console/assets/console.js' });
  assert.equal(js.statusCode, 200);
  assert.match(js.headers['content-type'] as string, /text\/javascript/);
  assert.equal((await app.inject({ url: '/console/assets/nope.js' })).statusCode, 404);
  assert.equal((await app.inject({ url: '/console/assets/..%2Fapp.ts' })).statusCode, 404);
  // The key stays in memory: no page script touches web storage or cookies.
  for (const name of await readdir(PUBLIC_DIR)) {
    const source = await readFile(join(PUBLIC_DIR, name), 'utf8');
    assert.doesNotMatch(
      source,
      /\b(?:localStorage|sessionStorage)\s*[.[]|document\.cookie|indexedDB\./,
      name,
    );
  }

  // Swagger UI (inline scripts of its own) and the API keep their headers as they were.
  const docs = await app.inject({ url: '/docs' });
  assert.equal(docs.statusCode, 200);
  assert.equal(docs.headers['content-security-policy'], undefined);
  const openapi = await app.inject({ url: '/docs/openapi.json' });
  assert.equal(openapi.headers['content-security-policy'], undefined);
  assert.ok(!Object.keys(openapi.json().paths).some((p) => p.startsWith('/console')));
  const live = await app.inject({ url: '/v2/health/live' });
  assert.equal(live.headers['content-security-policy'], undefined);
});

test('now: flag rate, mean risk and answers per minute from the metrics', async () => {
  observeAnswer(metrics, { risk: 0.9, flagged: true }, 'closed');
  observeAnswer(metrics, { risk: 0.1, flagged: false }, 'closed');
  metrics.workersHealthy.set(2);
  const rep = await app.inject({ url: '/console/api/now', headers: bearer(ANSWER_KEY) });
  assert.equal(rep.statusCode, 200, rep.body);
  const now = rep.json();
  assert.equal(now.answers, 2);
  assert.equal(now.flag_rate, 0.5);
  assert.ok(Math.abs(now.mean_risk - 0.5) < 1e-9);
  assert.equal(now.workers_healthy, 2);
  assert.ok(now.window_s >= 0 && now.window_s < 3600);
  assert.equal((await app.inject({ url: '/console/api/now' })).statusCode, 401);
});
