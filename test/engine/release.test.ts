import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import jpeg from 'jpeg-js';
import { encodeDicom, encodePng16 } from '../../src/data/image/index.ts';
import { renderCase, sampleCase } from '../../src/data/phantom/index.ts';
import { Engine } from '../../src/engine/index.ts';
import { REAL_CR_DICOM } from '../fixtures/paths.ts';

// The committed chexpo-tiny release, served as `npm start` serves it.
const MODELS = fileURLToPath(new URL('../../models/', import.meta.url));
let engine: Engine;
before(async () => {
  engine = await Engine.start({
    registryRoot: MODELS,
    modelName: 'chexpo-tiny',
    workers: 1,
    executionProvider: 'cpu',
    maxQueue: 8,
    watch: false,
  });
});
after(() => engine.close());

test('the bundled release answers phantoms with low risk and a real CR radiograph (out of distribution) with high risk', async () => {
  const question = 'Is a pleural effusion present?';
  const risks: number[] = [];
  for (const seed of [11, 12, 13]) {
    const png = encodePng16(renderCase(sampleCase(seed), { size: 256 }));
    const answer = await engine.answer({ image: png, task: 'vqa', question, topLogprobs: 0 });
    assert.match(answer.answer, /^(yes|no)\b/);
    risks.push(answer.risk);
  }
  const real = await engine.answer({
    image: new Uint8Array(await readFile(REAL_CR_DICOM)),
    task: 'vqa',
    question,
    topLogprobs: 0,
  });
  // The same phantom as a DICOM written by `chexpo synth` and as an 8-bit JPEG: same kind of answer.
  const phantom = renderCase(sampleCase(11), { size: 256 });
  const rgba = Buffer.alloc(256 * 256 * 4, 255);
  for (let i = 0; i < phantom.data.length; i++)
    rgba.fill(Math.round((255 * phantom.data[i]) / (2 ** phantom.bitsStored - 1)), 4 * i, 4 * i + 3);
  const asJpeg = jpeg.encode({ data: rgba, width: 256, height: 256 }, 95).data;
  for (const image of [encodeDicom(phantom, { seed: 11, view: 'PA' }), new Uint8Array(asJpeg)]) {
    const answer = await engine.answer({ image, task: 'vqa', question, topLogprobs: 0 });
    assert.match(answer.answer, /^(yes|no)\b/);
    risks.push(answer.risk);
  }
  assert.ok(real.risk > 0.9, `the real radiograph must not get a confident answer (risk ${real.risk})`);
  for (const r of risks)
    assert.ok(r < real.risk - 0.3, `phantom risk ${r} is not clearly below ${real.risk}`);
});
