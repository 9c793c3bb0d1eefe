import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { encoderProbeCommand } from '../../../src/cli/train-encoder-probe.ts';
import { auroc } from '../../../src/eval/risk-quality.ts';
import { probeFindingHead } from '../../../src/inference/offline/finding-head.ts';
import { type ProbeCase, trainEncoderProbe } from '../../../src/model/train/encoder-probe.ts';
import { initWeights } from '../../../src/model/vlm/weights.ts';
import { type HeadFixture, headFixture } from '../../support/head-model.ts';

let fx: HeadFixture;
let versionDir: string;

before(async () => {
  fx = await headFixture(60, 3);
  versionDir = await fx.version('base', fx.config, initWeights(fx.config, 4));
});

after(() => fx.remove());

test('the probe starts from the version’s own head and its training lowers the head’s loss', async () => {
  const evals: { step: number; logits: Float32Array; cases: readonly ProbeCase[] }[] = [];
  const losses: number[] = [];
  await trainEncoderProbe({
    versionDir,
    dataDir: fx.dataDir,
    steps: 80,
    lr: 3e-3,
    batchSize: 16,
    trainCases: 1000,
    valCases: 1000,
    evalEvery: 40,
    onEval: (step, logits, cases) => evals.push({ step, logits: Float32Array.from(logits), cases }),
    onStep: (_, loss) => losses.push(loss),
  });
  assert.deepEqual(
    evals.map((e) => e.step),
    [0, 40, 80],
  );
  assert.equal(losses.length, 80);
  // Step 0 is the version itself: the same separation the finding-head probe measures on validation.
  const probed = await probeFindingHead(versionDir, fx.dataDir, 'validation');
  const f = evals[0].cases[0].labels.length;
  for (const [j, s] of probed.entries()) {
    const points = evals[0].cases.flatMap((c, i) =>
      c.mask[j] > 0 ? [{ risk: evals[0].logits[i * f + j], wrong: c.labels[j] === 1 }] : [],
    );
    assert.equal(points.length, s.known, s.finding);
    const a = auroc(points);
    if (Number.isNaN(s.auroc)) assert.ok(Number.isNaN(a), s.finding);
    else assert.ok(Math.abs(a - s.auroc) < 1e-6, `${s.finding}: ${a} vs ${s.auroc}`);
  }
  assert.ok(
    probed.some((s) => !Number.isNaN(s.auroc) && s.auroc !== 0.5),
    'a finding with both classes',
  );
  assert.equal(evals[0].logits.length, evals[0].cases.length * f);
  const first = losses.slice(0, 10).reduce((a, b) => a + b) / 10;
  const last = losses.slice(-10).reduce((a, b) => a + b) / 10;
  assert.ok(last < first, `training loss ${first.toFixed(3)} → ${last.toFixed(3)}`);
  assert.notDeepEqual(evals[2].logits, evals[0].logits, 'the encoder and head were trained');
});

test('random init draws fresh weights; another patch size needs random init', async () => {
  const logitsOf = async (randomInit: boolean): Promise<Float32Array> => {
    let out = new Float32Array();
    await trainEncoderProbe({
      versionDir,
      dataDir: fx.dataDir,
      randomInit,
      seed: 9,
      steps: 1,
      lr: 1e-9,
      trainCases: 20,
      valCases: 20,
      evalEvery: 1,
      onEval: (step, logits) => {
        if (step === 0) out = Float32Array.from(logits);
      },
    });
    return out;
  };
  assert.notDeepEqual(await logitsOf(true), await logitsOf(false));
  await assert.rejects(
    trainEncoderProbe({
      versionDir,
      dataDir: fx.dataDir,
      patchSize: 8,
      steps: 1,
      lr: 1e-3,
      trainCases: 1,
      valCases: 1,
      evalEvery: 1,
      onEval: () => {},
    }),
    /random init/,
  );
});

test('the probe command prints and writes the start and the end with 95% case-bootstrap intervals', async () => {
  const out = join(fx.dataDir, 'probe.json');
  const lines: string[] = [];
  const log = console.log;
  console.log = (line: string) => lines.push(line);
  try {
    await encoderProbeCommand(
      [
        '--model',
        versionDir,
        '--data',
        fx.dataDir,
        '--steps',
        '4',
        '--eval-every',
        '2',
        '--batch',
        '8',
      ].concat(['--train-cases', '40', '--val-cases', '40', '--json', out]),
    );
  } finally {
    console.log = log;
  }
  const evals = JSON.parse(await readFile(out, 'utf8')) as {
    step: number;
    auroc: Record<string, number | null>;
    interval95?: Record<string, [number | null, number | null]>;
  }[];
  assert.deepEqual(
    evals.map((e) => [e.step, e.interval95 !== undefined]),
    [
      [0, true],
      [2, false],
      [4, true],
    ],
  );
  const bounded = Object.entries(evals[2].auroc).filter(([, a]) => typeof a === 'number');
  assert.ok(bounded.length > 0, 'a finding with both classes');
  for (const [k, a] of bounded) {
    const [lo, hi] = evals[2].interval95![k] as [number, number];
    assert.ok(lo <= (a as number) && (a as number) <= hi, `${k}: ${a} outside [${lo}, ${hi}]`);
    if ((a as number) > 0 && (a as number) < 1) assert.ok(hi > lo, `${k}: a zero-width interval`);
  }
  assert.ok(lines.some((l) => /^step 4 AUROC: .*\[\d\.\d{3}, \d\.\d{3}\]/.test(l)));
});
