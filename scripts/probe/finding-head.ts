// Scratch probe (not committed): finding-head AUROC of a checkpoint on validation images.
import { Graph, toBytes } from '../../src/model/graph/index.ts';
import { OrtSession, ortTensor } from '../../src/model/ort/session.ts';
import { loadCheckpoint } from '../../src/model/train/checkpoint.ts';
import { loadSplit } from '../../src/model/train/dataset.ts';
import { parameterShapes } from '../../src/model/train/sft.ts';
import { CHEXPO_TINY_128 } from '../../src/model/vlm/config.ts';
import { ModelBuilder } from '../../src/model/vlm/layers.ts';
import { encodeImage, findingLogits } from '../../src/model/vlm/vlm.ts';
import { Tokenizer } from '../../src/data/tokenizer/index.ts';
import { FINDING_KEYS } from '../../src/data/types.ts';
import { readFileSync } from 'node:fs';
const [ckpt, data] = process.argv.slice(2);
const tok = Tokenizer.fromJSON(JSON.parse(readFileSync(`${data}/tokenizer.json`, 'utf8')));
const config = { ...CHEXPO_TINY_128, vocabSize: tok.vocabSize };
const g = new Graph('probe');
const m = new ModelBuilder(g, config);
const image = g.input('image', 'float32', ['batch', 1, 128, 128]);
g.output(findingLogits(m, encodeImage(m, image).patchFeatures), 'logits');
const s = await OrtSession.create(toBytes(g, { parametersAs: 'inputs' }), { intraOpThreads: 1 });
const c = await loadCheckpoint(ckpt);
const split = await loadSplit(data, 'validation', { tokenizer: tok, imageSize: 128, maxSeqLen: 256, maxCases: 400 });
const shapes = parameterShapes(config);
const ids = [...split.images.keys()];
const scores: number[][] = FINDING_KEYS.map(() => []);
const labels: number[][] = FINDING_KEYS.map(() => []);
for (let i = 0; i < ids.length; i += 32) {
  const b = ids.slice(i, i + 32);
  const px = new Float32Array(b.length * 128 * 128);
  b.forEach((id, k) => px.set(split.images.get(id)!, k * 128 * 128));
  const feeds: Record<string, unknown> = { image: ortTensor('float32', px, [b.length, 1, 128, 128]) };
  for (const [n, w] of Object.entries(c.params)) feeds[n] = ortTensor('float32', w, shapes[n]);
  const out = await s.run(feeds as never, ['logits']);
  const l = out.logits.data as Float32Array;
  b.forEach((id, k) => FINDING_KEYS.forEach((_, f) => { scores[f].push(l[k * 12 + f]); labels[f].push(split.findings!.get(id)!.labels[f]); }));
}
const auroc = (s: number[], y: number[]) => { let num = 0, den = 0; for (let i = 0; i < s.length; i++) if (y[i]) for (let j = 0; j < s.length; j++) if (!y[j]) { den++; num += s[i] > s[j] ? 1 : s[i] === s[j] ? 0.5 : 0; } return num / den; };
FINDING_KEYS.forEach((f, i) => console.log(f.padEnd(20), auroc(scores[i], labels[i]).toFixed(3), labels[i].reduce((a, b) => a + b, 0)));
