import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import { balanceByPrompt } from '../instructions/balance.ts';
import type { PhantomConfig } from '../phantom/index.ts';
import { Rng } from '../random.ts';
import { caseSeed } from '../splits.ts';
import { Tokenizer } from '../tokenizer/index.ts';
import type { Split } from '../types.ts';
import type { ChunkResult, ChunkTask, ImageFormat } from './chunk.ts';
import { addToSummary, emptySummary, type SynthSummary } from './summary.ts';

export interface SynthOptions {
  cases: number;
  seed: number;
  outDir: string;
  /** Rendered image side in pixels. */
  size: number;
  formats: ImageFormat[];
  /** Label statistics (prevalence, co-occurrence, subtle share); the phantom defaults when absent. */
  phantomConfig?: PhantomConfig;
  /** Worker threads; defaults to the number of cores. */
  workers?: number;
  /** Cases per worker task: small enough for a smooth progress bar, large enough to amortise messaging. */
  chunkSize?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface SynthResult {
  summary: SynthSummary;
  tokenizer: Tokenizer;
  /** Unknown-word count of validation+test texts under the train-built tokenizer (closed vocabulary: 0). */
  heldOutUnknownWords: number;
}

const SPLITS: Split[] = ['train', 'validation', 'test'];

/**
 * Writes a synthetic data set: images, case labels and instruction samples as JSONL per split, and a
 * tokenizer built from the train split. Chunks run in worker threads but are written in index order,
 * so the same seed always produces the same files.
 */
export async function synthesize(options: SynthOptions): Promise<SynthResult> {
  const chunkSize = options.chunkSize ?? 100;
  const outDir = options.outDir;
  await mkdir(join(outDir, 'cases'), { recursive: true });
  await mkdir(join(outDir, 'instructions'), { recursive: true });
  const open = (dir: string): Record<Split, WriteStream> =>
    Object.fromEntries(SPLITS.map((s) => [s, createWriteStream(join(outDir, dir, `${s}.jsonl`))])) as Record<
      Split,
      WriteStream
    >;
  const caseFiles = open('cases');
  const sampleFiles = open('instructions');

  const pool = new Piscina({
    filename: new URL('./worker.ts', import.meta.url).href,
    execArgv: ['--import', 'tsx'],
    maxThreads: options.workers ?? availableParallelism(),
    minThreads: 1,
  });
  const summary = emptySummary();
  const trainTexts: string[] = [];
  const heldOutTexts: string[] = [];
  const pending = new Map<number, ChunkResult>();
  let nextToWrite = 0;
  let done = 0;

  const drawn: Record<Split, ChunkResult['samples']> = { train: [], validation: [], test: [] };
  const write = (chunk: ChunkResult): void => {
    addToSummary(summary, { cases: chunk.cases, samples: [] });
    for (const c of chunk.cases) caseFiles[c.split].write(`${JSON.stringify(c)}\n`);
    for (const s of chunk.samples) drawn[s.split].push(s);
  };
  // Questions are balanced per split once every case is drawn (the prompt must not carry the answer).
  const writeBalanced = (): void => {
    for (const split of SPLITS) {
      const { samples } = balanceByPrompt(drawn[split], Rng.derive(options.seed, `balance:${split}`));
      addToSummary(summary, { cases: [], samples });
      for (const s of samples) {
        sampleFiles[split].write(`${JSON.stringify(s)}\n`);
        (split === 'train' ? trainTexts : heldOutTexts).push(s.question, s.target_text);
      }
    }
  };

  try {
    const chunkCount = Math.ceil(options.cases / chunkSize);
    await Promise.all(
      Array.from({ length: chunkCount }, async (_, chunkIndex) => {
        const first = chunkIndex * chunkSize;
        const seeds = Array.from({ length: Math.min(chunkSize, options.cases - first) }, (_, i) =>
          caseSeed(options.seed, first + i),
        );
        const task: ChunkTask = {
          seeds,
          outDir,
          size: options.size,
          formats: options.formats,
          phantomConfig: options.phantomConfig,
        };
        pending.set(chunkIndex, (await pool.run(task)) as ChunkResult);
        done += seeds.length;
        options.onProgress?.(done, options.cases);
        while (pending.has(nextToWrite)) {
          write(pending.get(nextToWrite)!);
          pending.delete(nextToWrite++);
        }
      }),
    );
    writeBalanced();
  } finally {
    await pool.destroy();
    await Promise.all(
      [...Object.values(caseFiles), ...Object.values(sampleFiles)].map(
        (s) => new Promise<void>((resolve) => s.end(resolve)),
      ),
    );
  }

  const tokenizer = Tokenizer.build(trainTexts);
  const heldOutUnknownWords = heldOutTexts.reduce((n, t) => n + tokenizer.encode(t).unknown, 0);
  await writeFile(join(outDir, 'tokenizer.json'), `${JSON.stringify(tokenizer.toJSON())}\n`);
  const manifest = {
    generator: 'chexpo synth',
    seed: options.seed,
    cases: options.cases,
    size: options.size,
    formats: options.formats,
    phantomConfig: options.phantomConfig ?? 'default',
    heldOutUnknownWords,
    summary,
  };
  await writeFile(join(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return { summary, tokenizer, heldOutUnknownWords };
}
