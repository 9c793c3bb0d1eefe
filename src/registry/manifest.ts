/**
 * The manifest of one model version (`<root>/<name>/<version>/manifest.json`) and the id rules.
 *
 * Version ids: `v<YYYYMMDD>-<HHMMSS>-<8 hex>` (UTC time of publishing, then the first 8 hex of a
 * sha256 over the file hashes and the creation instant). They sort chronologically as strings, carry
 * no shared counter (so replicas and a trainer on a shared volume cannot race for "the next number"),
 * and a deleted version's id cannot come back by accident. Callers may pass their own id (e.g. the
 * bundled `v0001`) if it matches VERSION_ID_PATTERN; the registry still refuses any id it has seen.
 */
import { createHash } from 'node:crypto';
import { RegistryError } from './errors.ts';

export const MANIFEST_FORMAT_VERSION = 1;
export const MANIFEST_FILE = 'manifest.json';

/** The files of a chexpo-tiny version; pass as `requiredFiles` to make publish and verify insist on them. */
export const CHEXPO_VERSION_FILES = [
  'encoder.onnx',
  'prefill.onnx',
  'step.onnx',
  'weights.safetensors',
  'tokenizer.json',
  'config.json',
  'calibrator.json',
  'ood.json',
  'model-card.md',
] as const;

/** Lower-case model names, usable as one path segment. */
export const MODEL_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** Any version id: starts with `v`, one path segment, at most 64 characters. */
export const VERSION_ID_PATTERN = /^v[0-9A-Za-z][0-9A-Za-z._-]{0,62}$/;
/** One segment of a file path inside a version: no dotfiles, no spaces, no traversal. */
const PATH_SEGMENT_PATTERN = /^[A-Za-z0-9_+-][A-Za-z0-9._+-]{0,127}$/;
const SHA256_PATTERN = /^[0-9a-f]{64}$/;

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface ManifestFile {
  /** POSIX relative path inside the version directory. */
  path: string;
  /** Lower-case hex sha256 of the bytes. */
  sha256: string;
  bytes: number;
}

export interface DataProvenance {
  seed: number;
  /** e.g. `train`, or a description of the mined preference set. */
  split: string;
  /** What produced the data, e.g. `phantom@<git sha>` or `chexpo loop run <id>`. */
  generator: string;
}

export interface TrainingProvenance {
  /** The command line that produced the weights. */
  command: string;
  run_id: string | null;
  /** Final scalar metrics of the run (loss, margin, accuracy, …). */
  metrics: Record<string, number>;
}

export interface Manifest {
  format_version: typeof MANIFEST_FORMAT_VERSION;
  name: string;
  version: string;
  /** ISO-8601 UTC instant of publishing. */
  created_at: string;
  /** The version this one was trained from, or null for a root version. */
  parent: string | null;
  /** Every file of the version except manifest.json, sorted by path. */
  files: ManifestFile[];
  /** The model config the graphs were built from. */
  config: Record<string, JsonValue>;
  data: DataProvenance | null;
  training: TrainingProvenance | null;
  /** Evaluation results, opaque to the registry. */
  eval: JsonValue;
}

export function assertModelName(name: string): void {
  if (!MODEL_NAME_PATTERN.test(name)) {
    throw new RegistryError('REGISTRY_INVALID_ID', `invalid model name ${JSON.stringify(name)}`);
  }
}

export function assertVersionId(version: string): void {
  if (!VERSION_ID_PATTERN.test(version)) {
    throw new RegistryError('REGISTRY_INVALID_ID', `invalid version id ${JSON.stringify(version)}`);
  }
}

export function isVersionId(value: string): boolean {
  return VERSION_ID_PATTERN.test(value);
}

/** True for a safe relative POSIX path of 1–8 segments that is not the manifest itself. */
export function isSafeFilePath(path: string): boolean {
  const segments = path.split('/');
  return (
    segments.length <= 8 && segments.every((s) => PATH_SEGMENT_PATTERN.test(s)) && path !== MANIFEST_FILE
  );
}

/** `v20250314-093012-1a2b3c4d`: UTC time, then a content hash so two publishes in one second differ. */
export function generateVersionId(createdAt: Date, files: readonly ManifestFile[]): string {
  const iso = createdAt.toISOString(); // 2025-03-14T09:30:12.345Z
  const day = iso.slice(0, 10).replaceAll('-', '');
  const time = iso.slice(11, 19).replaceAll(':', '');
  const hash = createHash('sha256').update(iso);
  for (const file of files) hash.update(`${file.path}\0${file.sha256}\0`);
  return `v${day}-${time}-${hash.digest('hex').slice(0, 8)}`;
}

/** Parses and validates manifest.json text; `expect` pins the name and version its directory implies. */
export function parseManifest(text: string, expect?: { name: string; version: string }): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (thrown) {
    throw invalid(`manifest.json is not JSON: ${(thrown as Error).message}`);
  }
  const m = record(raw, 'manifest');
  if (m.format_version !== MANIFEST_FORMAT_VERSION) {
    throw invalid(`format_version ${JSON.stringify(m.format_version)} is not ${MANIFEST_FORMAT_VERSION}`);
  }
  const name = string(m.name, 'name');
  const version = string(m.version, 'version');
  if (!MODEL_NAME_PATTERN.test(name)) throw invalid(`name ${JSON.stringify(name)} is not a valid model name`);
  if (!VERSION_ID_PATTERN.test(version))
    throw invalid(`version ${JSON.stringify(version)} is not a valid id`);
  if (expect && (expect.name !== name || expect.version !== version)) {
    throw invalid(`manifest names ${name}/${version} but lives in ${expect.name}/${expect.version}`);
  }
  const createdAt = string(m.created_at, 'created_at');
  if (Number.isNaN(Date.parse(createdAt))) throw invalid('created_at is not an ISO date');
  const parent = m.parent === null ? null : string(m.parent, 'parent');
  if (parent !== null && !VERSION_ID_PATTERN.test(parent)) throw invalid('parent is not a valid version id');
  if (!Array.isArray(m.files)) throw invalid('files is not an array');
  const seen = new Set<string>();
  const files = m.files.map((value, i) => {
    const f = record(value, `files[${i}]`);
    const path = string(f.path, `files[${i}].path`);
    if (!isSafeFilePath(path)) throw invalid(`files[${i}].path ${JSON.stringify(path)} is not a safe path`);
    if (seen.has(path)) throw invalid(`files[${i}].path ${path} is listed twice`);
    seen.add(path);
    const sha256 = string(f.sha256, `files[${i}].sha256`);
    if (!SHA256_PATTERN.test(sha256)) throw invalid(`files[${i}].sha256 is not lower-case hex sha256`);
    const bytes = f.bytes;
    if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 0) {
      throw invalid(`files[${i}].bytes is not a non-negative integer`);
    }
    return { path, sha256, bytes };
  });
  return {
    format_version: MANIFEST_FORMAT_VERSION,
    name,
    version,
    created_at: createdAt,
    parent,
    files,
    config: record(m.config, 'config') as Record<string, JsonValue>,
    data: m.data === null || m.data === undefined ? null : parseData(m.data),
    training: m.training === null || m.training === undefined ? null : parseTraining(m.training),
    eval: (m.eval ?? null) as JsonValue,
  };
}

/** Checks what a publisher supplies (config, provenance, eval) before anything is written. */
export function validatePublishInputs(inputs: {
  config: unknown;
  data?: unknown;
  training?: unknown;
  eval?: unknown;
}): void {
  record(inputs.config, 'config');
  if (inputs.data !== null && inputs.data !== undefined) parseData(inputs.data);
  if (inputs.training !== null && inputs.training !== undefined) parseTraining(inputs.training);
  try {
    JSON.stringify({ config: inputs.config, eval: inputs.eval ?? null });
  } catch (thrown) {
    throw invalid(`config or eval is not JSON: ${(thrown as Error).message}`);
  }
}

function parseData(value: unknown): DataProvenance {
  const d = record(value, 'data');
  if (typeof d.seed !== 'number' || !Number.isFinite(d.seed)) throw invalid('data.seed is not a number');
  return {
    seed: d.seed,
    split: string(d.split, 'data.split'),
    generator: string(d.generator, 'data.generator'),
  };
}

function parseTraining(value: unknown): TrainingProvenance {
  const t = record(value, 'training');
  const runId = t.run_id === null || t.run_id === undefined ? null : string(t.run_id, 'training.run_id');
  const metrics = record(t.metrics ?? {}, 'training.metrics');
  for (const [key, metric] of Object.entries(metrics)) {
    if (typeof metric !== 'number' || !Number.isFinite(metric)) {
      throw invalid(`training.metrics.${key} is not a finite number`);
    }
  }
  return {
    command: string(t.command, 'training.command'),
    run_id: runId,
    metrics: metrics as Record<string, number>,
  };
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid(`${what} is not an object`);
  return value as Record<string, unknown>;
}

function string(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0) throw invalid(`${what} is not a non-empty string`);
  return value;
}

function invalid(message: string): RegistryError {
  return new RegistryError('REGISTRY_MANIFEST_INVALID', message);
}
