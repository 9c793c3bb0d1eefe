/**
 * bench:model — single-request model time (encode + greedy generation of a closed-question answer, one
 * request at a time, 1 intra-op thread) of two versions measured alternately in one run, and their ratio.
 * Target (issue: a base model that sees): v0003 at most 2× v0002.
 * Usage: npm run bench:model [-- --base models/chexpo-tiny/v0002 --candidate models/chexpo-tiny/v0003 --runs 60]
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { grayToDecoded, toModelInput } from '../src/data/image/index.ts';
import { renderCase, sampleCase } from '../src/data/phantom/index.ts';
import { openVersion } from '../src/inference/offline/index.ts';
import { promptIds } from '../src/model/vlm/index.ts';
import { quantile } from './bench/stats.ts';

const { values } = parseArgs({
  options: {
    base: { type: 'string', default: 'models/chexpo-tiny/v0002' },
    candidate: { type: 'string', default: 'models/chexpo-tiny/v0003' },
    runs: { type: 'string', default: '60' },
  },
});
const runs = Number(values.runs);
const versions = [values.base, values.candidate];
const models = await Promise.all(versions.map((v) => openVersion(v, { threads: 1 })));
const images = Array.from({ length: 8 }, (_, i) =>
  grayToDecoded(renderCase(sampleCase(700 + i), { size: 256 })),
);
const times: number[][] = versions.map(() => []);

async function once(k: number, i: number): Promise<number> {
  const m = models[k];
  const input = toModelInput(images[i % images.length], m.version.config.imageSize);
  const started = performance.now();
  const { imageTokens } = await m.generator.encodeImages([input]);
  await m.generator.generateEncoded([
    {
      imageTokens: imageTokens[0],
      promptIds: promptIds(m.version.tokenizer, 'Is there a pleural effusion?'),
      maxTokens: 48,
    },
  ]);
  return performance.now() - started;
}

for (let i = 0; i < 5; i++) for (let k = 0; k < models.length; k++) await once(k, i); // warm-up
for (let i = 0; i < runs; i++) for (let k = 0; k < models.length; k++) times[k].push(await once(k, i));
console.log(
  `machine: ${cpus()[0]?.model ?? 'unknown cpu'}, load ${loadavg()[0].toFixed(2)}; ${runs} alternating runs each`,
);
versions.forEach((v, k) => {
  console.log(
    `${v}: median ${quantile(times[k], 0.5).toFixed(1)} ms (encode + closed answer, ${models[k].version.config.imageSize} px)`,
  );
});
console.log(
  `ratio candidate / base: ${(quantile(times[1], 0.5) / quantile(times[0], 0.5)).toFixed(2)}× (target ≤ 2×)`,
);
await Promise.all(models.map((m) => m.close()));
