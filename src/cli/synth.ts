import { readFile } from 'node:fs/promises';
import cliProgress from 'cli-progress';
import {
  mergePhantomConfig,
  type PhantomConfig,
  type PhantomConfigOverrides,
} from '../data/phantom/index.ts';
import type { ImageFormat } from '../data/synth/chunk.ts';
import { synthesize } from '../data/synth/run.ts';
import { formatSummary } from '../data/synth/summary.ts';
import { parseCommandArgs, UsageError } from './args.ts';

const HELP = `usage: chexpo synth --cases N --seed S --out DIR [--size PX] [--formats png16,png8,dicom] [--workers K]

Writes procedurally generated chest radiographs with exact labels, instruction samples (JSONL per
train/validation/test split, disjoint by patient) and a tokenizer, then prints a summary table.
  --size      rendered image side in pixels (default 256)
  --formats   image files to write: png16 (default, lossless, what training reads), png8 (preview), dicom
  --config    JSON file overriding parts of the label statistics (prevalence, boosts, subtleShare,
              severityWeights, tipWeights, apShare, bilateralEffusionShare); see src/data/phantom/config.ts
  --json      print the summary as one JSON object (progress stays on stderr)`;

const ALL_FORMATS: ImageFormat[] = ['png16', 'png8', 'dicom'];

function positiveInt(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`--${name} must be a non-negative integer, got '${value}'`);
  return n;
}

export async function synthCommand(argv: string[]): Promise<void> {
  const { values } = parseCommandArgs(HELP, {
    args: argv,
    options: {
      cases: { type: 'string', default: '1000' },
      seed: { type: 'string', default: '1' },
      out: { type: 'string' },
      size: { type: 'string', default: '256' },
      formats: { type: 'string', default: 'png16' },
      workers: { type: 'string' },
      config: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (!values.out) throw new UsageError(`--out DIR is required\n\n${HELP}`);
  const formats = values.formats.split(',').map((f) => f.trim()) as ImageFormat[];
  const unknown = formats.filter((f) => !ALL_FORMATS.includes(f));
  if (unknown.length > 0)
    throw new UsageError(`unknown --formats ${unknown.join(', ')}; use ${ALL_FORMATS.join(', ')}`);

  const cases = positiveInt('cases', values.cases);
  const phantomConfig = values.config ? await loadPhantomConfig(values.config) : undefined;
  const bar = new cliProgress.SingleBar(
    { format: 'synth [{bar}] {value}/{total} cases | {eta_formatted} left', etaBuffer: 50 },
    cliProgress.Presets.shades_classic,
  );
  bar.start(cases, 0);
  const started = performance.now();
  const result = await synthesize({
    cases,
    seed: positiveInt('seed', values.seed),
    outDir: values.out,
    size: positiveInt('size', values.size),
    formats,
    phantomConfig,
    workers: values.workers ? positiveInt('workers', values.workers) : undefined,
    onProgress: (done) => bar.update(done),
  }).finally(() => bar.stop());
  const seconds = (performance.now() - started) / 1000;
  if (values.json) {
    const { summary, tokenizer, heldOutUnknownWords } = result;
    console.log(
      JSON.stringify({
        out: values.out,
        seconds,
        vocab_size: tokenizer.vocabSize,
        held_out_unknown_words: heldOutUnknownWords,
        summary,
      }),
    );
    return;
  }
  console.log(formatSummary(result.summary));
  console.log(
    `\nvocabulary ${result.tokenizer.vocabSize} words; unknown words in held-out splits: ${result.heldOutUnknownWords}`,
  );
  console.log(
    `wrote ${values.out} in ${seconds.toFixed(1)} s (${((1000 * seconds) / Math.max(1, cases)).toFixed(1)} ms/case)`,
  );
}

/** A partial config merged over the defaults (prevalence and weights merge per key), then validated. */
async function loadPhantomConfig(path: string): Promise<PhantomConfig> {
  return mergePhantomConfig(JSON.parse(await readFile(path, 'utf8')) as PhantomConfigOverrides);
}
