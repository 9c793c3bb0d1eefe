import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { PublishFields } from '../../src/registry/index.ts';

/** A fresh temp directory, removed by the returned cleanup. */
export async function tempRoot(): Promise<{ root: string; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'chexpo-registry-'));
  return { root, cleanup: () => rm(root, { recursive: true, force: true }) };
}

/** Writes a staging directory with the given files (content defaults include the version label). */
export async function makeStaging(root: string, label: string, files?: Record<string, string | Buffer>) {
  const dir = join(root, `staging-${label}`);
  const content = files ?? {
    'encoder.onnx': `encoder graph ${label}`,
    'prefill.onnx': `prefill graph ${label}`,
    'step.onnx': `step graph ${label}`,
    'ood.json': '{}',
    'weights.safetensors': Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7 + label.length) % 256)),
    'tokenizer.json': '{"vocab":["a","b"]}',
    'config.json': '{"d_model":32}',
    'calibrator.json': '{"a":1,"b":0}',
    'model-card.md': `# chexpo-tiny ${label}\n`,
  };
  for (const [path, data] of Object.entries(content)) {
    const target = join(dir, ...path.split('/'));
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, data);
  }
  return dir;
}

export function fields(overrides: Partial<PublishFields> = {}): PublishFields {
  return {
    config: { d_model: 32, layers: 2 },
    data: { seed: 7, split: 'train', generator: 'test' },
    training: { command: 'chexpo train sft', run_id: 'run-1', metrics: { loss: 0.5 } },
    eval: { score: 0.8 },
    ...overrides,
  };
}

export const who = { reason: 'test', actor: 'tester' };
