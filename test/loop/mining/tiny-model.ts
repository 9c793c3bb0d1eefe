/** A tiny synthetic data set on disk and a random TEST_TINY version over its tokenizer (no training), for mining tests that run the model. */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesize } from '../../../src/data/synth/run.ts';
import { TEST_TINY, type VlmConfig } from '../../../src/model/vlm/config.ts';
import { writeVersion } from '../../../src/model/vlm/version.ts';
import { initWeights } from '../../../src/model/vlm/weights.ts';
import { jitteredWeights } from '../../model/vlm/helpers.ts';

export interface TinySetup {
  root: string;
  dataDir: string;
  versionDir: string;
  config: VlmConfig;
}

/** `cases` phantom cases (64 px, png16) and a version whose larger-than-init weights make answers depend on the image. */
export async function tinyModelAndData(o: {
  cases: number;
  seed: number;
  maxSeqLen: number;
}): Promise<TinySetup> {
  const root = await mkdtemp(join(tmpdir(), 'chexpo-mining-model-'));
  const dataDir = join(root, 'data');
  const versionDir = join(root, 'version');
  const { tokenizer } = await synthesize({
    cases: o.cases,
    seed: o.seed,
    outDir: dataDir,
    size: 64,
    formats: ['png16'],
    workers: 1,
  });
  const config = { ...TEST_TINY, vocabSize: tokenizer.vocabSize, maxSeqLen: o.maxSeqLen };
  const weights = jitteredWeights(initWeights(config, 3), 0.3, 3);
  await writeVersion(versionDir, { config, weights, tokenizer, modelCard: '# random test model\n' });
  return { root, dataDir, versionDir, config };
}
