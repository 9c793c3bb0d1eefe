/**
 * bench:train — ORT's MatMul throughput on this machine (the roofline) and chexpo-tiny SFT training
 * throughput, measured side by side in one run, with their ratio (target: training ≥ 25% of the roofline).
 * Usage: npm run bench:train [-- --model tiny128 --batch 32 --text 60 --runs 10]
 * (--model tiny = v0001–v0002's 64-px architecture; tiny128 = v0003's, the default).
 */
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { benchMatMul, benchSftStep, CHEXPO_TINY, CHEXPO_TINY_128 } from '../src/model/vlm/index.ts';
import { fmt, machine, padRow } from './bench/stats.ts';

const { values } = parseArgs({
  options: {
    batch: { type: 'string', default: '32' },
    text: { type: 'string', default: '60' },
    runs: { type: 'string', default: '10' },
    model: { type: 'string', default: 'tiny128' },
  },
});
const batch = Number(values.batch);
const text = Number(values.text);
const runs = Number(values.runs);
const config = { ...(values.model === 'tiny' ? CHEXPO_TINY : CHEXPO_TINY_128), vocabSize: 290 };

console.log(`machine: ${machine()}, load ${fmt(loadavg()[0], 2)}`);
console.log(
  `SFT step (${values.model}, ${config.imageSize} px): batch ${batch}, ${config.imageTokens} image + ${text} text tokens per sample; median of ${runs} runs\n`,
);
console.log('threads  matmul 1024³ GFLOP/s  SFT ms/step  samples/s  SFT GFLOP/s (6·N·T)  ratio');
for (const threads of [1, availableParallelism()]) {
  const matmul = await benchMatMul(1024, 1024, 1024, { threads, runs, warmup: 2 });
  const sft = await benchSftStep(config, batch, text, { threads, runs, warmup: 2 });
  console.log(
    padRow(
      [
        threads,
        fmt(matmul.gflops),
        fmt(sft.stepMs, 0),
        fmt(sft.samplesPerSecond),
        fmt(sft.gflops),
        fmt(sft.gflops / matmul.gflops, 2),
      ],
      [7, 22, 12, 10, 20, 6],
    ),
  );
}
