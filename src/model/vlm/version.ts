/**
 * A chexpo-vlm model version on disk (one directory, published immutably by src/registry):
 *   config.json          VlmConfig + format
 *   weights.safetensors  float32 parameters (the only copy of the weights)
 *   encoder.onnx, prefill.onnx, step.onnx   serving graphs whose initializers are ONNX external data
 *                        pointing into weights.safetensors, so graphs are code and weights are data
 *   tokenizer.json       the word-level tokenizer
 *   calibrator.json, ood.json   optional: risk calibrator and out-of-distribution reference
 *   operating-point.json optional: the closed-answer yes threshold (src/inference/operating-point.ts)
 *   model-card.md
 * Any exported model that keeps these graph names and I/O (see index.ts) can be served in its place.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer } from '../../data/tokenizer/index.ts';
import type { Graph } from '../graph/index.ts';
import { toBytes } from '../graph/index.ts';
import { tensorByteRanges } from '../safetensors.ts';
import type { VlmConfig } from './config.ts';
import { VlmError } from './errors.ts';
import { buildDecodeStepGraph, buildEncoderGraph, buildPrefillGraph } from './serving.ts';
import { checkWeights, loadWeights, saveWeights, type Weights } from './weights.ts';

export const VERSION_FORMAT = 'chexpo-vlm/1';
export const WEIGHTS_FILE = 'weights.safetensors';
export const GRAPH_FILES = { encoder: 'encoder.onnx', prefill: 'prefill.onnx', step: 'step.onnx' } as const;
export type GraphName = keyof typeof GRAPH_FILES;

export interface VersionFiles {
  config: VlmConfig;
  weights: Weights;
  tokenizer: Tokenizer;
  /** Markdown model card. */
  modelCard: string;
}

export interface LoadedVersion {
  dir: string;
  config: VlmConfig;
  tokenizer: Tokenizer;
  /** Absolute paths of the serving graphs, for OrtSession.create(path). */
  graphs: Record<GraphName, string>;
  calibrator?: unknown;
  ood?: unknown;
  operatingPoint?: unknown;
}

const BUILDERS: Record<GraphName, (c: VlmConfig) => Graph> = {
  encoder: buildEncoderGraph,
  prefill: buildPrefillGraph,
  step: buildDecodeStepGraph,
};

/** Writes the files of a version into `dir` (a staging directory; the registry hashes and publishes it). */
export async function writeVersion(dir: string, files: VersionFiles): Promise<void> {
  const { config, weights, tokenizer } = files;
  checkWeights(config, weights);
  if (tokenizer.vocabSize !== config.vocabSize)
    throw new VlmError(
      'VLM_BAD_CONFIG',
      `tokenizer has ${tokenizer.vocabSize} words, config ${config.vocabSize}`,
    );
  await mkdir(dir, { recursive: true });
  const weightBytes = saveWeights(config, weights);
  const ranges = tensorByteRanges(weightBytes);
  await writeFile(join(dir, WEIGHTS_FILE), weightBytes);
  for (const [name, build] of Object.entries(BUILDERS) as Array<[GraphName, (c: VlmConfig) => Graph]>) {
    const graph = build(config);
    for (const p of graph.parameters) graph.setValue(p.name, weights[p.name]);
    const bytes = toBytes(graph, { external: { location: WEIGHTS_FILE, ranges } });
    await writeFile(join(dir, GRAPH_FILES[name]), bytes);
  }
  await writeFile(
    join(dir, 'config.json'),
    `${JSON.stringify({ format: VERSION_FORMAT, ...config }, null, 2)}\n`,
  );
  await writeFile(join(dir, 'tokenizer.json'), `${JSON.stringify(tokenizer.toJSON())}\n`);
  await writeFile(join(dir, 'model-card.md'), files.modelCard);
}

async function readJson(path: string): Promise<unknown> {
  return JSON.parse(await readFile(path, 'utf8'));
}

/** Reads what serving needs from a version directory; the graphs stay on disk for ORT to load. */
export async function loadVersion(dir: string): Promise<LoadedVersion> {
  const raw = (await readJson(join(dir, 'config.json'))) as VlmConfig & { format?: string };
  if (raw.format !== VERSION_FORMAT)
    throw new VlmError('VLM_BAD_CONFIG', `${dir}: format '${raw.format}', expected '${VERSION_FORMAT}'`);
  const { format: _format, ...config } = raw;
  const tokenizer = Tokenizer.fromJSON(await readJson(join(dir, 'tokenizer.json')));
  const graphs = Object.fromEntries(
    Object.entries(GRAPH_FILES).map(([name, file]) => [name, join(dir, file)]),
  ) as Record<GraphName, string>;
  // A published version loads only the files its manifest lists (and so hash-verifies); a staging
  // directory has no manifest yet and loads what is there.
  const manifestPath = join(dir, 'manifest.json');
  const listed = existsSync(manifestPath)
    ? new Set(((await readJson(manifestPath)) as { files: { path: string }[] }).files.map((f) => f.path))
    : undefined;
  const optional = async (file: string) =>
    existsSync(join(dir, file)) && (!listed || listed.has(file)) ? readJson(join(dir, file)) : undefined;
  return {
    dir,
    config,
    tokenizer,
    graphs,
    calibrator: await optional('calibrator.json'),
    ood: await optional('ood.json'),
    operatingPoint: await optional('operating-point.json'),
  };
}

/** The float32 weights of a version (training starts DPO from them). */
export async function loadVersionWeights(dir: string): Promise<{ config: VlmConfig; weights: Weights }> {
  const { config, weights } = loadWeights(new Uint8Array(await readFile(join(dir, WEIGHTS_FILE))));
  return { config, weights };
}
