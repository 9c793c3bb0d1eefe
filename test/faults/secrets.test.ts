/**
 * Attack (issue 13, defect 10): CHEXPO_API_KEYS stayed in process.env and the trainer child
 * inherited every key (seen in /proc/<pid>/environ). Keys are now parsed, then removed from the
 * environment, and a loop child gets an allow-listed environment only.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { IMAGE_JEMALLOC, JEMALLOC_CONF } from '../../src/engine/allocator.ts';
import { loadConfig, scrubSecrets } from '../../src/server/config.ts';
import { childEnvironment, spawnLoopRun } from '../../src/server/trainer/child.ts';
import { ANSWER_KEY } from '../server/helpers.ts';

test('the keys are kept as digests only and removed from the environment after loading', () => {
  const env: NodeJS.ProcessEnv = { CHEXPO_API_KEYS: `${ANSWER_KEY}:answer`, CHEXPO_AUTH_DISABLED: '0' };
  const { config } = loadConfig(env);
  assert.deepEqual(scrubSecrets(env), ['CHEXPO_API_KEYS']);
  assert.equal(env.CHEXPO_API_KEYS, undefined);
  assert.equal(config.auth.keys.length, 1);
  assert.ok(!JSON.stringify(config).includes(ANSWER_KEY));
});

test('a loop child process sees only allow-listed variables: no key, no other secret', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'chexpo-child-env-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const script = join(dir, 'dump-env.mjs');
  const out = join(dir, 'env.txt');
  // The child writes what the kernel shows for it (/proc/self/environ) where there is one.
  await writeFile(
    script,
    `import { readFileSync, writeFileSync } from 'node:fs';
const text = (() => { try { return readFileSync('/proc/self/environ', 'latin1').split('\\0').join('\\n'); }
  catch { return Object.entries(process.env).map(([k, v]) => k + '=' + v).join('\\n'); } })();
writeFileSync(${JSON.stringify(out)}, text);\n`,
  );
  const saved = {
    keys: process.env.CHEXPO_API_KEYS,
    other: process.env.DATABASE_PASSWORD,
    region: process.env.AWS_REGION,
  };
  process.env.CHEXPO_API_KEYS = `${ANSWER_KEY}:answer`;
  process.env.DATABASE_PASSWORD = 'hunter2-hunter2';
  process.env.AWS_REGION = process.env.AWS_REGION ?? 'eu-test-1';
  try {
    const child = spawnLoopRun({
      script,
      registryRoot: dir,
      modelName: 'm',
      storeUri: dir,
      workDir: dir,
      runId: 'env-check',
      trigger: 'manual',
      threads: 1,
      env: { STUB_FLAG: '1' },
    });
    assert.equal((await child.exited).code, 0);
  } finally {
    if (saved.keys === undefined) delete process.env.CHEXPO_API_KEYS;
    else process.env.CHEXPO_API_KEYS = saved.keys;
    if (saved.other === undefined) delete process.env.DATABASE_PASSWORD;
    else process.env.DATABASE_PASSWORD = saved.other;
    if (saved.region === undefined) delete process.env.AWS_REGION;
  }
  assert.ok(existsSync(out));
  const seen = await readFile(out, 'latin1');
  const names = seen
    .split('\n')
    .filter(Boolean)
    .map((line) => line.slice(0, line.indexOf('=')));
  assert.ok(!seen.includes(ANSWER_KEY), 'no API key in the child environment');
  assert.ok(!seen.includes('hunter2-hunter2'), 'no other secret either');
  assert.ok(names.includes('PATH') && names.includes('OMP_NUM_THREADS') && names.includes('STUB_FLAG'));
  assert.ok(names.includes('AWS_REGION'), 'object-storage settings pass (the child opens the same store)');
  assert.deepEqual(
    Object.keys(childEnvironment({ CHEXPO_API_KEYS: 'x', PATH: '/bin', LC_ALL: 'C' })).sort(),
    ['LC_ALL', 'PATH'],
  );
});

test('a loop child runs on the allocator the images preload (jemalloc and its MALLOC_CONF)', () => {
  const allocator = {
    LD_PRELOAD: IMAGE_JEMALLOC,
    MALLOC_CONF: JEMALLOC_CONF,
    MALLOC_TRIM_THRESHOLD_: '1048576',
  };
  assert.deepEqual(childEnvironment({ ...allocator, CHEXPO_API_KEYS: 'x' }), allocator);
});
