/** A small synthetic data set and TEST_TINY models with a finding head, for probes of the encoder. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesize } from '../../src/data/synth/run.ts';
import { FINDING_KEYS } from '../../src/data/types.ts';
import { TEST_TINY, type VlmConfig } from '../../src/model/vlm/config.ts';
import { writeVersion } from '../../src/model/vlm/version.ts';
import type { Weights } from '../../src/model/vlm/weights.ts';

export interface HeadFixture {
  dataDir: string;
  /** TEST_TINY with the data set's vocabulary and a head over every finding. */
  config: VlmConfig;
  /** Writes a version directory of these weights and returns it. */
  version(name: string, config: VlmConfig, weights: Weights): Promise<string>;
  remove(): Promise<void>;
}

export async function headFixture(cases: number, seed: number): Promise<HeadFixture> {
  const root = await mkdtemp(join(tmpdir(), 'chexpo-head-'));
  const dataDir = join(root, 'data');
  const { tokenizer } = await synthesize({
    cases,
    seed,
    outDir: dataDir,
    size: 64,
    formats: ['png16'],
    workers: 1,
  });
  return {
    dataDir,
    config: { ...TEST_TINY, vocabSize: tokenizer.vocabSize, maxSeqLen: 32, findingHead: FINDING_KEYS.length },
    async version(name, config, weights) {
      const dir = join(root, name);
      await writeVersion(dir, { config, weights, tokenizer, modelCard: '# test\n' });
      return dir;
    },
    remove: () => rm(root, { recursive: true, force: true }),
  };
}
