/**
 * The review console in a real browser: headless Chromium (Debian's `chromium`, which .ci/run
 * installs) driven by puppeteer-core against a listening server on 127.0.0.1 (random port) serving
 * the committed chexpo-tiny release with a real engine, a real LanceDB store and a real registry.
 *
 * - a flagged answer (asked over HTTP) appears in the queue with its image and shaded tokens;
 * - a correction made with the keyboard alone lands as feedback in the store, by the reviewer's key;
 * - the nav and sign-out are hidden until sign-in;
 * - a key without the review scope (a feedback key included) is refused the queue, a non-admin key
 *   the admin view;
 * - a rollback through the page (with its confirmation) moves CURRENT and is in the audit log;
 * - axe-core reports no serious or critical violation on any view;
 * - a screenshot of each view (CHEXPO_UPDATE_SCREENSHOTS=1 writes them to docs/images/, shown in
 *   docs/console.md; otherwise to a temp dir).
 *
 * Without a Chromium binary the tests skip, saying so, except under CI (CI=true), where a missing
 * browser is a failure: .ci/run installs it.
 */
import assert from 'node:assert/strict';
import { accessSync, constants } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'puppeteer-core';
import { Engine } from '../../src/engine/index.ts';
import { BUNDLED_MODELS_ROOT, Registry } from '../../src/registry/index.ts';
import { EngineAnswerService, StoreFeedbackService } from '../../src/server/answer-service.ts';
import { buildApp } from '../../src/server/app.ts';
import { AuditLog } from '../../src/server/audit-log.ts';
import { ReviewQueue } from '../../src/server/console/index.ts';
import { HardExampleLogger, hashRequestId } from '../../src/server/hard-example-logger.ts';
import { createMetrics } from '../../src/server/metrics.ts';
import { RegistryAdminService, seedWritableRegistry } from '../../src/server/trainer/index.ts';
import { seedRuns, seedStore } from './console-fixtures.ts';
import {
  ADMIN_KEY,
  ANSWER_KEY,
  bearer,
  CLINIC_KEY,
  FEEDBACK_KEY,
  keyIdOf,
  REVIEW_KEY,
  testConfig,
} from './helpers.ts';

const require = createRequire(import.meta.url);
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const NIH_PNG = join(REPO, '../shared/fixtures/real/nih-cxr14_00000013_035_PA_Atelectasis-Pneumothorax.png');
const MODEL = 'chexpo-tiny';
const HOUR = 3_600_000;
const STEP_MS = 60_000;
/** In the page: the first item's image has loaded. */
const IMAGE_SHOWN =
  "(() => { const img = document.querySelector('li.item img'); return img !== null && img.complete && img.naturalWidth > 0; })()";

/** The Chromium to drive: CHROMIUM_PATH, else the first of the usual names on PATH. */
function findChromium(): string | null {
  const candidates = process.env.CHROMIUM_PATH
    ? [process.env.CHROMIUM_PATH]
    : (process.env.PATH ?? '')
        .split(delimiter)
        .flatMap((dir) => ['chromium', 'chromium-browser', 'google-chrome'].map((name) => join(dir, name)));
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return null;
}

const chromium = findChromium();
const skip =
  chromium === null && !process.env.CI
    ? 'no Chromium binary found (apt-get install -y --no-install-recommends chromium, or set CHROMIUM_PATH; .ci/run installs it, and under CI a missing browser fails)'
    : false;

let dir: string;
let shots: string;
let registry: Registry;
let engine: Engine;
let logger: HardExampleLogger;
let audit: AuditLog;
let app: FastifyInstance;
let base: string;
let browser: Browser;
let page: Page;
let flaggedHash: string;
let flaggedAnswer: { answer: string; tokens: unknown[] };

before(
  async () => {
    if (skip) return;
    assert.ok(chromium, 'no Chromium binary found; .ci/run installs Debian’s chromium');
    dir = await mkdtemp(join(tmpdir(), 'chexpo-console-browser-'));
    shots = process.env.CHEXPO_UPDATE_SCREENSHOTS === '1' ? join(REPO, 'docs/images') : join(dir, 'shots');
    await mkdir(shots, { recursive: true });
    const root = join(dir, 'models');
    await seedWritableRegistry({ from: BUNDLED_MODELS_ROOT, to: root, name: MODEL, actor: 'test' });
    registry = await Registry.open(root, MODEL);
    const config = testConfig({ CHEXPO_ANSWER_RETENTION_HOURS: '2' });
    const metrics = createMetrics({ defaultMetrics: false });
    engine = await Engine.start({
      registryRoot: root,
      modelName: MODEL,
      workers: 1,
      executionProvider: 'cpu',
      maxQueue: 8,
      watch: false,
      keepImagePng: true,
      inputGate: config.gate,
      metrics,
    });
    logger = new HardExampleLogger({
      uri: join(dir, 'store'),
      embeddingDim: () => engine.embeddingDim,
      metrics,
      queue: { flushIntervalMs: 20 },
      answerRetentionMs: 2 * HOUR,
    });
    audit = new AuditLog({ path: join(dir, 'audit.jsonl') });
    app = await buildApp({
      config,
      metrics,
      audit,
      // Threshold 0: every answer is flagged, so the one asked below is a hard example with its image.
      answerService: new EngineAnswerService({ engine, logger, riskThreshold: 0, storeImages: true }),
      feedbackService: new StoreFeedbackService(logger),
      reviewQueue: new ReviewQueue({ store: () => logger.openStore(), retentionMs: 2 * HOUR }),
      adminService: new RegistryAdminService({
        registry,
        store: () => logger.openStore(),
        serving: () => engine.status().model?.version ?? null,
        metrics,
      }),
      modelStatus: () => engine.status(),
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });

    // Older answers of other kinds (a report, a choice, an image-less one) around the real one.
    await seedStore(await logger.openStore());
    await seedRuns(await logger.openStore());
    const answer = await fetch(`${base}/v1/answer`, {
      method: 'POST',
      headers: { ...bearer(CLINIC_KEY), 'content-type': 'application/json' },
      body: JSON.stringify({
        image: (await readFile(NIH_PNG)).toString('base64'),
        task: 'vqa',
        question: 'Is there a pleural effusion?',
        request_id: 'browser-0001',
      }),
    });
    assert.equal(answer.status, 200, await answer.clone().text());
    flaggedAnswer = (await answer.json()) as typeof flaggedAnswer;
    assert.equal((flaggedAnswer as unknown as { flagged: boolean }).flagged, true);
    await logger.flush();
    flaggedHash = hashRequestId(keyIdOf(CLINIC_KEY), 'browser-0001');

    const puppeteer = (await import('puppeteer-core')).default;
    browser = await puppeteer.launch({
      executablePath: chromium,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
    page = await browser.newPage();
    // axe-core goes in as a <script> tag, which the console's CSP would refuse; the CSP itself is
    // checked on a page that does not bypass it (the last test).
    await page.setBypassCSP(true);
    await page.setViewport({ width: 1280, height: 900 });
    page.on('pageerror', (error) => console.error('page error:', error));
  },
  { timeout: 180_000 },
);

after(
  async () => {
    await browser?.close();
    await app?.close();
    await engine?.close();
    await logger?.close();
    await audit?.close();
    registry?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  },
  { timeout: 60_000 },
);

let visits = 0;

/** Opens the console afresh (a new document: signed out) and signs in with `key`, by keyboard. */
async function signIn(key: string, view = 'review'): Promise<void> {
  await page.goto(`${base}/console/?visit=${++visits}#${view}`, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('#api-key');
  await page.focus('#api-key');
  await page.keyboard.type(key);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#who:not([hidden])', { timeout: STEP_MS });
}

async function screenshot(name: string): Promise<void> {
  const path = join(shots, `console-${name}.png`);
  await page.screenshot({ path, fullPage: false });
  assert.ok((await stat(path)).size > 10_000, `${name} screenshot written`);
}

/** axe-core on the current page: no serious or critical violation. */
async function assertAccessible(what: string): Promise<void> {
  await page.addScriptTag({ path: require.resolve('axe-core') });
  // Browser-side code as strings: the test's TypeScript has Node's globals, not the DOM's.
  const violations = (await page.evaluate('axe.run(document).then((r) => r.violations)')) as {
    id: string;
    impact: string;
    nodes: { target: string[] }[];
  }[];
  const severe = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    severe.map((v) => `${v.id} (${v.impact}) at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
    [],
    `${what}: axe-core finds no serious or critical violation`,
  );
}

const storedLabels = async () => {
  const rows = (await (await logger.openStore()).listHardExamples({ source: 'live' })).filter(
    (r) => r.request_id_hash === flaggedHash,
  );
  return rows.flatMap((r) => JSON.parse(r.label ?? '{"labels":[]}').labels);
};

/** Whether the element takes up room on the page (not display:none, a box of some size). */
const visible = (selector: string) =>
  page.$eval(selector, (e) => {
    const box = e.getBoundingClientRect();
    return box.width > 0 && box.height > 0;
  });

test('sign-in page: the key field, no nav or sign-out before sign-in, no serious accessibility violation', {
  skip,
  timeout: STEP_MS,
}, async () => {
  await page.goto(`${base}/console/`, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('#api-key');
  assert.equal(await visible('#api-key'), true);
  for (const hidden of ['#nav', '#who', '#sign-out', '#view']) {
    assert.equal(await visible(hidden), false, `${hidden} is not shown before sign-in`);
  }
  await screenshot('sign-in');
  await assertAccessible('sign-in');
});

test('a flagged answer is in the queue with its image and tokens shaded by probability', {
  skip,
  timeout: STEP_MS,
}, async () => {
  await signIn(REVIEW_KEY);
  assert.equal(await visible('#nav'), true, 'the nav is shown once signed in');
  assert.equal(await visible('#sign-in'), false, 'the sign-in form is gone');
  await page.waitForSelector('li.item');
  const first = await page.$eval('li.item', (li) => ({
    question: li.querySelector('.question')?.textContent ?? '',
    tokens: [...li.querySelectorAll('.tokens .tok')].map((t) => ({ text: t.textContent, cls: t.className })),
    badge: li.querySelector('.badge')?.textContent,
  }));
  assert.match(first.question, /Is there a pleural effusion\?/);
  assert.equal(first.badge, 'flagged');
  assert.equal(first.tokens.length, flaggedAnswer.tokens.length, 'one shaded span per generated token');
  assert.equal(first.tokens.map((t) => t.text).join(''), flaggedAnswer.answer);
  for (const t of first.tokens) assert.match(t.cls, /^tok p\d$/);
  await page.waitForFunction(IMAGE_SHOWN, { timeout: STEP_MS });
  const src = await page.$eval('li.item img', (img) => img.getAttribute('src'));
  assert.match(src, /^blob:/, 'the image came through the API with the bearer key');
  await assertAccessible('review queue');
});

test('a correction made with the keyboard alone lands as feedback by the reviewer key', {
  skip,
  timeout: STEP_MS,
}, async () => {
  // Still signed in as the reviewer (review scope), on the queue.
  await page.keyboard.press('j');
  await page.keyboard.press('x');
  await page.waitForSelector('li.item.selected fieldset.correction');
  const kind = await page.$eval('li.item.selected fieldset.correction', (f) => f.getAttribute('data-kind'));
  const said = flaggedAnswer.answer
    .trim()
    .toLowerCase()
    .split(/[\s.]+/)[0];
  let expected: string;
  if (kind === 'yes_no') {
    expected = said === 'yes' ? 'no' : 'yes';
    await page.keyboard.press(expected === 'yes' ? 'y' : 'n');
  } else {
    // The model gave no yes/no answer: the form is a catalogue value; pick the first with the keyboard.
    assert.equal(kind, 'value');
    await page.keyboard.press('ArrowDown');
    expected = await page.$eval('li.item.selected select', (s) => (s as unknown as { value: string }).value);
  }
  await screenshot('review');
  await page.keyboard.press('Enter');
  await page.waitForSelector('li.item.reviewed .recorded, #alert:not([hidden])', { timeout: 20_000 });
  assert.equal(await page.$eval('#alert', (a) => (a.hidden ? '' : a.textContent)), '', 'no error shown');
  const entries = await storedLabels();
  assert.deepEqual(
    entries.map((e: Record<string, unknown>) => [e.verdict, e.correct_answer, e.by, e.as]),
    [['incorrect', expected, keyIdOf(REVIEW_KEY), 'reviewer']],
  );
  const lines = (await readFile(audit.path, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.ok(
    lines.some((l) => l.action === 'feedback' && l.target === flaggedHash && l.actor === keyIdOf(REVIEW_KEY)),
    'the correction is audited',
  );
});

test('the admin view is refused to a key without the admin scope', { skip, timeout: STEP_MS }, async () => {
  await page.click('a[data-view="models"]');
  await page.waitForSelector('.refused');
  assert.match(await page.$eval('.refused', (e) => e.textContent ?? ''), /FORBIDDEN/);
});

test('a key without the review scope is refused the queue, a feedback key included', {
  skip,
  timeout: STEP_MS,
}, async () => {
  for (const key of [ANSWER_KEY, FEEDBACK_KEY, CLINIC_KEY]) {
    await signIn(key);
    await page.waitForSelector('.refused');
    assert.match(
      await page.$eval('.refused', (e) => e.textContent ?? ''),
      /FORBIDDEN: .*needs scope 'review'/,
    );
  }
  const labels = await storedLabels();
  assert.equal(labels.length, 1, 'nothing more was recorded');
});

test('a rollback through the page, confirmed, moves CURRENT and is in the audit log', {
  skip,
  timeout: STEP_MS,
}, async () => {
  // The bundled registry's CURRENT and the version a rollback returns to, whatever the latest release is.
  const before = await registry.current();
  const target = await registry.rollbackTarget();
  assert.ok(before && target !== before, `${before} → ${target}`);
  await signIn(ADMIN_KEY, 'models');
  await page.waitForSelector('#versions li.version.current');
  assert.equal(await page.$eval('#versions li.version.current .vid', (e) => e.textContent), before);
  // A round opens its gate evidence.
  await page.click('table.runs button[aria-expanded]');
  await page.waitForSelector('table.gate tbody tr');
  assert.match(
    await page.$eval('.details', (e) => e.textContent ?? ''),
    /hallucination_rate.*0\.081 → 0\.064/,
  );
  await assertAccessible('models and rounds');
  await screenshot('models');
  await page.type('#rollback-reason', 'browser test: back one step');
  await page.click('.rollback button[type=submit]');
  await page.waitForSelector('dialog.confirm[open]');
  assert.match(
    await page.$eval('dialog.confirm', (d) => d.textContent ?? ''),
    new RegExp(`from ${before} to the previous CURRENT`),
  );
  assert.equal(await registry.current(), before, 'nothing moves before the confirmation');
  await page.click('#confirm-rollback');
  await page.waitForFunction(
    `document.querySelector('#versions li.version.current .vid')?.textContent === '${target}'`,
    { timeout: STEP_MS },
  );
  assert.match(
    await page.$eval('#alert', (a) => a.textContent ?? ''),
    new RegExp(`CURRENT moved from ${before} to ${target}`),
  );
  assert.equal(await registry.current(), target);
  const lines = (await readFile(audit.path, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const rollback = lines.find((l) => l.action === 'admin.rollback');
  assert.ok(rollback, 'the rollback is audited');
  assert.deepEqual([rollback.actor, rollback.outcome, rollback.status], [keyIdOf(ADMIN_KEY), 'ok', 200]);
});

test('now: flag rate, mean risk and workers from the server metrics', {
  skip,
  timeout: STEP_MS,
}, async () => {
  await page.click('a[data-view="now"]');
  await page.waitForSelector('.cards .card');
  const text = await page.$eval('.cards', (e) => e.textContent ?? '');
  assert.match(text, /Flag rate100\.0 %/);
  assert.match(text, /Workers healthy1/);
  await assertAccessible('now');
  await screenshot('now');
});

test('under its own CSP the page runs every view with no policy violation', {
  skip,
  timeout: STEP_MS,
}, async () => {
  const strict = await browser.newPage();
  try {
    await strict.evaluateOnNewDocument(
      "globalThis.cspViolations = []; document.addEventListener('securitypolicyviolation', (e) => globalThis.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));",
    );
    const open = async (key: string, view: string, ready: string) => {
      await strict.goto(`${base}/console/?strict=${++visits}#${view}`, { waitUntil: 'domcontentloaded' });
      await strict.waitForSelector('#api-key');
      await strict.type('#api-key', key);
      await strict.keyboard.press('Enter');
      await strict.waitForSelector(ready, { timeout: STEP_MS });
    };
    await open(REVIEW_KEY, 'review', 'li.item');
    await strict.waitForFunction(IMAGE_SHOWN, { timeout: STEP_MS });
    const shaded = await strict.evaluate(
      "getComputedStyle(document.querySelector('.tok.p0, .tok.p1, .tok.p2, .tok.p3, .tok.p4, .tok.p5, .tok.p6, .tok.p7, .tok.p8')).backgroundColor",
    );
    assert.match(String(shaded), /^rgb/, 'the stylesheet applies under the CSP');
    await open(ADMIN_KEY, 'models', '#versions li.version');
    await strict.click('a[data-view="now"]');
    await strict.waitForSelector('.cards .card');
    const violations = await strict.evaluate('globalThis.cspViolations');
    assert.deepEqual(violations, []);
  } finally {
    await strict.close();
  }
});
