/** Engine test fixtures: a random-init TEST_TINY version published into a temp registry, test images. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePng16 } from '../../src/data/image/index.ts';
import { TEMPLATES } from '../../src/data/instructions/templates.ts';
import { Rng } from '../../src/data/random.ts';
import { Tokenizer } from '../../src/data/tokenizer/index.ts';
import { Engine, type EngineOptions } from '../../src/engine/index.ts';
import {
  initWeights,
  TEST_TINY,
  type VlmConfig,
  type Weights,
  writeVersion,
} from '../../src/model/vlm/index.ts';
import { Registry } from '../../src/registry/index.ts';
import { REAL_CR_DICOM } from '../fixtures/paths.ts';

export const MODEL_NAME = 'chexpo-tiny';
export const CR_FIXTURE = REAL_CR_DICOM;

const CORPUS = [
  ...Object.values(TEMPLATES).flatMap((ts) => ts.map((t) => t.text)),
  'yes no left right mild moderate severe pleural effusion pneumothorax cardiomegaly nodule',
  'there is a small right pleural effusion. the heart size is normal. no pneumothorax.',
];

export interface TempRegistry {
  root: string;
  registry: Registry;
  /** Writes a random-init version (seed picks the weights), publishes it; `current` also moves CURRENT. */
  publish(
    seed: number,
    options?: {
      current?: boolean;
      config?: Partial<VlmConfig>;
      brokenGraph?: boolean;
      /** Edits the random weights before they are written (the tokenizer is passed for ids). */
      weights?: (w: Weights, tokenizer: Tokenizer) => void;
      /** Extra files of the version (e.g. operating-point.json), by name. */
      files?: Record<string, string>;
    },
  ): Promise<string>;
  cleanup(): Promise<void>;
}

export async function tempRegistry(): Promise<TempRegistry> {
  const root = await mkdtemp(join(tmpdir(), 'chexpo-engine-'));
  const registry = await Registry.open(join(root, 'models'), MODEL_NAME);
  const tokenizer = Tokenizer.build(CORPUS);
  let n = 0;
  return {
    root,
    registry,
    async publish(seed, options = {}) {
      const config: VlmConfig = {
        ...TEST_TINY,
        maxSeqLen: 32,
        ...options.config,
        vocabSize: tokenizer.vocabSize,
      };
      const staging = join(root, `staging-${n++}`);
      const weights = initWeights(config, seed);
      options.weights?.(weights, tokenizer);
      await writeVersion(staging, { config, weights, tokenizer, modelCard: '# test\n' });
      for (const [name, text] of Object.entries(options.files ?? {}))
        await writeFile(join(staging, name), text);
      // A graph ORT cannot parse, hashed into the manifest: verification passes, loading fails.
      if (options.brokenGraph) await writeFile(join(staging, 'step.onnx'), 'not an onnx graph');
      const manifest = await registry.publish(staging, { config: { seed } }, { mode: 'move' });
      if (options.current ?? true)
        await registry.setCurrent(manifest.version, { reason: 'test', actor: 'test' });
      return manifest.version;
    },
    async cleanup() {
      registry.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** A 64×64 16-bit grey PNG with a seeded texture. */
export function testPng(seed: number, size = 64): Uint8Array {
  const rng = new Rng(seed);
  const data = new Uint16Array(size * size);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(rng.next() * 65535);
  return encodePng16({ width: size, height: size, bitsStored: 16, data });
}

/** Total observations and those above 1 of a prom-client histogram (e.g. batch sizes). */
export async function histogramCounts(
  metric: {
    get(): Promise<{ values: { value: number; labels: Record<string, unknown>; metricName?: string }[] }>;
  },
  labels: Record<string, string> = {},
): Promise<{ count: number; atMostOne: number; sum: number }> {
  const { values } = await metric.get();
  const match = (v: { labels: Record<string, unknown> }) =>
    Object.entries(labels).every(([k, l]) => String(v.labels[k]) === l);
  const pick = (suffix: string, le?: string) =>
    values
      .filter(
        (v) => v.metricName?.endsWith(suffix) && match(v) && (le === undefined || String(v.labels.le) === le),
      )
      .reduce((s, v) => s + v.value, 0);
  return { count: pick('_count'), atMostOne: pick('_bucket', '1'), sum: pick('_sum') };
}

/** A started one-worker CPU engine on the registry's CURRENT (no watch), with `options` on top. */
export function startTestEngine(reg: TempRegistry, options: Partial<EngineOptions> = {}): Promise<Engine> {
  return Engine.start({
    registryRoot: reg.registry.root,
    modelName: MODEL_NAME,
    workers: 1,
    executionProvider: 'cpu',
    maxQueue: 8,
    watch: false,
    ...options,
  });
}
