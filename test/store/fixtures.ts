/** Shared test fixtures: temp store directories, seeded unit vectors and row factories. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Rng } from '../../src/data/random.ts';
import type { NewHardExample, PoolSample } from '../../src/store/contract.ts';
import { LanceStore, type LanceStoreOptions } from '../../src/store/lance-store.ts';
import { until } from '../support/until.ts';

export const DIM = 16;

/** A fresh store in a temp dir; `dispose` closes it and removes the directory. */
export async function tempStore(
  options: Partial<LanceStoreOptions> = {},
): Promise<{ store: LanceStore; dir: string; dispose: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'chexpo-store-'));
  const store = await LanceStore.open({
    uri: dir,
    embeddingDim: DIM,
    cleanupUnverifiedFiles: true,
    ...options,
  });
  return {
    store,
    dir,
    dispose: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A uniformly random direction: normalised standard-normal draws. */
export function unitVector(rng: Rng, dim = DIM): Float32Array {
  const v = new Float32Array(dim);
  let norm = 0;
  for (let i = 0; i < dim; i++) {
    v[i] = rng.normal();
    norm += v[i] * v[i];
  }
  norm = Math.sqrt(norm);
  for (let i = 0; i < dim; i++) v[i] /= norm;
  return v;
}

export function hardExample(i: number, rng: Rng, overrides: Partial<NewHardExample> = {}): NewHardExample {
  return {
    id: `he-${i}`,
    created_at: 1_700_000_000_000 + i * 1000,
    model_version: 'v1',
    task: 'closed',
    question: `Is there a pleural effusion? (${i})`,
    answer: i % 2 === 0 ? 'yes' : 'no',
    token_probs: [0.5, 0.25, 0.125],
    min_prob: 0.125,
    mean_logprob: Math.log(0.25),
    risk: 0.75,
    embedding: unitVector(rng),
    image_sha256: `sha-${i}`,
    source: 'live',
    request_id_hash: `req-${i}`,
    ...overrides,
  };
}

export function poolSample(i: number, rng: Rng, overrides: Partial<PoolSample> = {}): PoolSample {
  return {
    id: `pool-${i}`,
    sample_id: `s-${i}`,
    case_id: `case-${i % 50}`,
    task: 'closed',
    finding: i % 3 === 0 ? 'nodule' : i % 3 === 1 ? 'pleural_effusion' : null,
    question: `q${i}`,
    answer: i % 2 === 0 ? 'yes' : 'no',
    embedding: unitVector(rng),
    split: i % 5 === 0 ? 'validation' : 'train',
    ...overrides,
  };
}

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` every 5 ms; fails (instead of hanging) with what it waited for. */
export const waitFor = (condition: () => boolean, what: string): Promise<void> =>
  until(condition, what, { everyMs: 5 });
