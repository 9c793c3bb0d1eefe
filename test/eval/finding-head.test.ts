import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { synthesize } from '../../src/data/synth/run.ts';
import { FINDING_KEYS, type Finding } from '../../src/data/types.ts';
import { probeFindingHead } from '../../src/eval/finding-head.ts';
import { readJsonl } from '../../src/model/train/dataset.ts';
import { TEST_TINY, type VlmConfig } from '../../src/model/vlm/config.ts';
import { writeVersion } from '../../src/model/vlm/version.ts';
import { initWeights, type Weights } from '../../src/model/vlm/weights.ts';

let root: string;
let dataDir: string;
let config: VlmConfig;
let tokenizer: Awaited<ReturnType<typeof synthesize>>['tokenizer'];

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'chexpo-findinghead-'));
  dataDir = join(root, 'data');
  ({ tokenizer } = await synthesize({
    cases: 40,
    seed: 2,
    outDir: dataDir,
    size: 64,
    formats: ['png16'],
    workers: 1,
  }));
  config = { ...TEST_TINY, vocabSize: tokenizer.vocabSize, maxSeqLen: 32, findingHead: FINDING_KEYS.length };
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function version(name: string, c: VlmConfig, weights: Weights): Promise<string> {
  const dir = join(root, name);
  await writeVersion(dir, { config: c, weights, tokenizer, modelCard: '# test\n' });
  return dir;
}

test('the probe counts each finding’s labels from the cases, and a constant head scores AUROC 0.5', async () => {
  const weights = initWeights(config, 1);
  weights['enc.findings.weight'].fill(0); // every case gets the same logits: all ties
  const scores = await probeFindingHead(await version('constant', config, weights), dataDir, 'train');
  const rows = await readJsonl<{ findings?: Finding[] }>(join(dataDir, 'cases', 'train.jsonl'));
  for (const s of scores) {
    const known = rows.flatMap((r) => (r.findings ?? []).filter((f) => f.name === s.finding));
    assert.equal(s.known, known.length, s.finding);
    assert.equal(s.positives, known.filter((f) => f.present).length, s.finding);
    if (s.positives > 0 && s.positives < s.known) assert.equal(s.auroc, 0.5, s.finding);
    else assert.ok(Number.isNaN(s.auroc), `${s.finding}: one class only`);
  }
  assert.ok(
    scores.some((s) => s.auroc === 0.5),
    'at least one finding has both classes',
  );
});

test('scores do not depend on the batch size, and a model without the head is refused', async () => {
  const dir = await version('random', config, initWeights(config, 2));
  const whole = await probeFindingHead(dir, dataDir, 'train', { batchSize: 32 });
  const single = await probeFindingHead(dir, dataDir, 'train', { batchSize: 1, cases: 1000 });
  for (const [i, s] of whole.entries()) {
    if (Number.isNaN(s.auroc)) assert.ok(Number.isNaN(single[i].auroc));
    else assert.ok(Math.abs(s.auroc - single[i].auroc) < 1e-9, s.finding);
  }
  assert.ok(
    whole.some((s) => !Number.isNaN(s.auroc) && s.auroc !== 0.5),
    'random weights separate something',
  );
  const { findingHead: _, ...noHead } = config;
  const plain = await version('plain', noHead, initWeights(noHead, 1));
  await assert.rejects(probeFindingHead(plain, dataDir, 'train'), /no finding head/);
});
