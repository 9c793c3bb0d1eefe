import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { dpoCommand } from '../../../src/cli/train-dpo.ts';
import { caseImageResolver, DpoError, readPairsFile } from '../../../src/loop/dpo/index.ts';
import type { PairCandidate } from '../../../src/loop/types.ts';
import { loadVersion } from '../../../src/model/vlm/version.ts';
import { closedPairs, testTokenizer, writeBaseVersion, writeDataSet } from './helpers.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chexpo-dpo-cmd-'));
  await writeBaseVersion(join(dir, 'base'));
  await writeDataSet(join(dir, 'data'), 6, 32);
});
after(() => rm(dir, { recursive: true, force: true }));

test('chexpo train dpo trains on case-image pairs from a JSONL file and skips phantom edits with a count', async () => {
  const pairs: PairCandidate[] = closedPairs(6);
  const edit = { kind: 'phantom_edit', case_id: 'c1', edit: { remove: 'pleural_effusion' } } as never;
  pairs[5] = { ...pairs[5], kind: 'image_counterfactual', rejectedImage: edit };
  await writeFile(join(dir, 'pairs.jsonl'), `${pairs.map((p) => JSON.stringify(p)).join('\n')}\n`);
  const out = join(dir, 'run');
  const lines: string[] = [];
  const log = console.log;
  console.log = (line: string) => lines.push(line);
  try {
    await dpoCommand([
      ...['--model', join(dir, 'base'), '--pairs', join(dir, 'pairs.jsonl'), '--data', join(dir, 'data')],
      ...['--out', out, '--beta', '0.2', '--batch', '2', '--max-steps', '2', '--threads', '1'],
    ]);
  } finally {
    console.log = log;
  }
  assert.match(lines[0], /^6 pairs; 1 skipped/);
  const metrics = JSON.parse(await readFile(join(out, 'dpo-metrics.json'), 'utf8'));
  assert.equal(metrics.config.beta, 0.2);
  assert.equal(metrics.config.batchSize, 2);
  assert.equal(metrics.data.used, 5);
  assert.equal(metrics.steps.length, 2);
  assert.equal((await loadVersion(join(out, 'version'))).config.vocabSize, testTokenizer().vocabSize);
});

test('the case resolver reads a data set image as model input and refuses unknown cases with a code', async () => {
  const resolve = await caseImageResolver(join(dir, 'data'), 16);
  const present = await resolve({ kind: 'case', case_id: 'c0' });
  const absent = await resolve({ kind: 'case', case_id: 'c1' });
  assert.equal(present.length, 256);
  // The bright lower band of c0 (effusion present) shows in its model input.
  const lowerMean = (x: Float32Array) => x.slice(128).reduce((a, b) => a + b, 0) / 128;
  assert.ok(lowerMean(present) > lowerMean(absent));
  await assert.rejects(
    resolve({ kind: 'case', case_id: 'nope' }),
    (e: unknown) => e instanceof DpoError && e.code === 'DPO_UNRESOLVED_IMAGE',
  );
});

test('a pairs file line that is not a PairCandidate is a coded error naming the line', async () => {
  const path = join(dir, 'bad.jsonl');
  await writeFile(path, `${JSON.stringify(closedPairs(1)[0])}\n\n{"prompt":"x","chosen":"y"}\n`);
  await assert.rejects(
    readPairsFile(path),
    (e: unknown) => e instanceof DpoError && e.code === 'DPO_BAD_PAIRS_FILE' && e.message.includes(':3 '),
  );
});
