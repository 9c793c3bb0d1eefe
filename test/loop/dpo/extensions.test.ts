import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { InstructionSample } from '../../../src/data/types.ts';
import type { DataCase } from '../../../src/inference/offline/index.ts';
import { buildDpoDataset, type DpoResult, trainDpo } from '../../../src/loop/dpo/index.ts';
import { replaySchedule } from '../../../src/loop/dpo/replay.ts';
import type { ImageRef } from '../../../src/loop/types.ts';
import { loadVersion } from '../../../src/model/vlm/version.ts';
import { caseImage, closedPairs, NO, QUESTION, writeBaseVersion, writeDataSet, YES } from './helpers.ts';

let dir: string;
let baseDir: string;
let config: Awaited<ReturnType<typeof writeBaseVersion>>;
let result: DpoResult;
const resolveImage = async (ref: ImageRef) => caseImage(config, ref.kind === 'case' ? ref.case_id : '');
// 10 pairs in batches of 4: the last batch (2) is shorter than the replay batch (3).
const pairs = closedPairs(10);
// Held-out pairs: the same recipe on cases never trained on.
const heldOut = closedPairs(14).slice(10);

function replaySamples(n: number): InstructionSample[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `c${i}/closed/r`,
    case_id: `c${i}`,
    task: 'closed',
    question: QUESTION,
    answer: i % 2 === 0 ? 'yes' : 'no',
    target_text: i % 2 === 0 ? YES : NO,
    finding: 'pleural_effusion',
  })) as InstructionSample[];
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chexpo-dpo-ext-'));
  baseDir = join(dir, 'base');
  config = await writeBaseVersion(baseDir);
  await writeDataSet(join(dir, 'data'), 6, 32);
  const cases = Array.from({ length: 6 }, (_, i) => ({ id: `c${i}`, images: { png16: `images/c${i}.png` } }));
  result = await trainDpo({
    baseVersionDir: baseDir,
    pairs,
    resolveImage,
    outDir: join(dir, 'run'),
    options: {
      sftWeight: 0,
      anchorWeight: 1,
      replayWeight: 0.5,
      replayBatchSize: 3,
      focusWeight: 3,
      learningRate: 1e-2,
      epochs: 8,
      batchSize: 4,
      logEvery: 100,
      summaryWindow: 4,
    },
    replay: {
      dataDir: join(dir, 'data'),
      cases: cases as unknown as DataCase[],
      samples: replaySamples(6),
      answerWeight: 3,
    },
    heldOut,
  });
});
after(() => rm(dir, { recursive: true, force: true }));

test('token focus weights the answer tokens of both sides and nothing else', async () => {
  const version = await loadVersion(baseDir);
  const o = {
    tokenizer: version.tokenizer,
    maxSeqLen: config.maxSeqLen,
    imageSize: config.imageSize,
    resolveImage,
  };
  const plain = await buildDpoDataset(pairs.slice(0, 1), o);
  const focused = await buildDpoDataset(pairs.slice(0, 1), { ...o, focusWeight: 3 });
  for (const side of ['chosen', 'rejected'] as const) {
    const a = plain.examples[0][side].lossMask;
    const b = focused.examples[0][side].lossMask;
    const start = a.indexOf(1);
    // "yes" / "no" is one token: only that one counts 3 times.
    assert.deepEqual(
      b.map((w, t) => (t === start ? w / 3 : w)),
      a,
      `${side}: ${b.join(',')}`,
    );
  }
});

test('a DPO run with replay, anchor and focus learns the preference and it carries to held-out pairs', () => {
  const s = result.summary;
  assert.equal(s.heldout_pairs, heldOut.length);
  assert.ok(s.train_set_accuracy >= 0.75, `train-pair accuracy ${s.train_set_accuracy}`);
  // The held-out cases carry the same image cue, so a learnt (not memorised) preference transfers.
  assert.ok(s.heldout_accuracy !== null && s.heldout_accuracy >= 0.75, `held-out ${s.heldout_accuracy}`);
  // The anchor keeps the chosen side from falling while the margin grows.
  assert.ok(s.logp_chosen_change > -0.5, `chosen change ${s.logp_chosen_change}`);
  // Each step processes both sides and the replay batch.
  assert.ok(result.steps.every((st) => st.tokens > 0));
  assert.ok(s.tokens === result.steps.reduce((n, st) => n + st.tokens, 0));
});

test('replay schedule covers the set before repeating and is seeded', () => {
  const next = replaySchedule(10, 3, 7);
  const firstPass = [0, 1, 2].flatMap((k) => next(k)).slice(0, 9);
  assert.equal(new Set(firstPass).size, 9);
  assert.deepEqual(replaySchedule(10, 3, 7)(5), next(5));
  assert.notDeepEqual(replaySchedule(10, 3, 8)(0), next(0));
});

test('replay weight without replay samples is refused', async () => {
  await assert.rejects(
    trainDpo({
      baseVersionDir: baseDir,
      pairs,
      resolveImage,
      outDir: join(dir, 'bad'),
      options: { replayWeight: 1 },
    }),
    /replay/,
  );
});
