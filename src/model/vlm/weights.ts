import { Rng } from '../../data/random.ts';
import {
  decodeSafetensors,
  encodeSafetensors,
  fromFloat16Bits,
  type NamedTensor,
  toFloat16Bits,
} from '../safetensors.ts';
import { geometry, type VlmConfig } from './config.ts';
import { VlmError } from './errors.ts';

/** Float32 parameter values by name (the trainer's and AdamW's currency). */
export type Weights = Record<string, Float32Array>;

/**
 * How a parameter is initialised (GPT-2): normal(0, 0.02), residual projections scaled down, LN = 1/0;
 * 'fanIn' is normal(0, 1/√rows), for the stem's pixel layer, whose inputs are unit-scale pixels and
 * whose GELU must start in its nonlinear range.
 */
type InitKind = 'normal' | 'residual' | 'zeros' | 'ones' | 'fanIn';

export interface ParameterSpec {
  name: string;
  shape: number[];
  init: InitKind;
}

function blockSpecs(prefix: string, width: number, hidden: number): ParameterSpec[] {
  return [
    { name: `${prefix}.ln1.weight`, shape: [width], init: 'ones' },
    { name: `${prefix}.ln1.bias`, shape: [width], init: 'zeros' },
    { name: `${prefix}.attn.qkv.weight`, shape: [width, 3 * width], init: 'normal' },
    { name: `${prefix}.attn.qkv.bias`, shape: [3 * width], init: 'zeros' },
    { name: `${prefix}.attn.proj.weight`, shape: [width, width], init: 'residual' },
    { name: `${prefix}.attn.proj.bias`, shape: [width], init: 'zeros' },
    { name: `${prefix}.ln2.weight`, shape: [width], init: 'ones' },
    { name: `${prefix}.ln2.bias`, shape: [width], init: 'zeros' },
    { name: `${prefix}.mlp.fc.weight`, shape: [width, hidden], init: 'normal' },
    { name: `${prefix}.mlp.fc.bias`, shape: [hidden], init: 'zeros' },
    { name: `${prefix}.mlp.proj.weight`, shape: [hidden, width], init: 'residual' },
    { name: `${prefix}.mlp.proj.bias`, shape: [width], init: 'zeros' },
  ];
}

/** The pixel stem (config.stemSubPatch): its projection starts at zero so it adds nothing at first. */
function stemSpecs(config: VlmConfig, cells: number): ParameterSpec[] {
  const s = config.stemSubPatch;
  const w = config.stemWidth;
  if (!s || !w) return [];
  return [
    { name: 'enc.stem.fc.weight', shape: [s * s, w], init: 'fanIn' },
    { name: 'enc.stem.fc.bias', shape: [w], init: 'zeros' },
    { name: 'enc.stem.proj.weight', shape: [cells * w, config.encoderDim], init: 'zeros' },
    { name: 'enc.stem.proj.bias', shape: [config.encoderDim], init: 'zeros' },
  ];
}

/**
 * Every parameter of the model, in a fixed order. Linear weights are stored (in, out) so a layer is
 * x @ W + b. The LM head is tied to the token embedding `dec.wte` (GPT-2; no separate head weight).
 */
export function parameterSpecs(config: VlmConfig): ParameterSpec[] {
  const geo = geometry(config);
  const e = config.encoderDim;
  const d = config.decoderDim;
  const specs: ParameterSpec[] = [
    { name: 'enc.patch.weight', shape: [geo.patchPixels, e], init: 'normal' },
    { name: 'enc.patch.bias', shape: [e], init: 'zeros' },
    { name: 'enc.pos', shape: [geo.patches, e], init: 'normal' },
    ...stemSpecs(config, geo.stemCells),
  ];
  for (let i = 0; i < config.encoderLayers; i++)
    specs.push(...blockSpecs(`enc.blocks.${i}`, e, config.mlpRatio * e));
  specs.push(
    { name: 'enc.ln_f.weight', shape: [e], init: 'ones' },
    { name: 'enc.ln_f.bias', shape: [e], init: 'zeros' },
    ...(config.findingHead
      ? [
          { name: 'enc.findings.weight', shape: [e, config.findingHead], init: 'normal' as const },
          { name: 'enc.findings.bias', shape: [config.findingHead], init: 'zeros' as const },
        ]
      : []),
    { name: 'proj.fc1.weight', shape: [e, d], init: 'normal' },
    { name: 'proj.fc1.bias', shape: [d], init: 'zeros' },
    { name: 'proj.fc2.weight', shape: [d, d], init: 'normal' },
    { name: 'proj.fc2.bias', shape: [d], init: 'zeros' },
    ...(config.findingEvidence && config.findingHead
      ? [
          { name: 'proj.findings.weight', shape: [config.findingHead, d], init: 'zeros' as const },
          { name: 'proj.findings.bias', shape: [d], init: 'zeros' as const },
        ]
      : []),
    { name: 'dec.wte', shape: [config.vocabSize, d], init: 'normal' },
    { name: 'dec.wpe', shape: [config.maxSeqLen, d], init: 'normal' },
  );
  for (let i = 0; i < config.decoderLayers; i++)
    specs.push(...blockSpecs(`dec.blocks.${i}`, d, config.mlpRatio * d));
  specs.push(
    { name: 'dec.ln_f.weight', shape: [d], init: 'ones' },
    { name: 'dec.ln_f.bias', shape: [d], init: 'zeros' },
  );
  return specs;
}

export function countParameters(config: VlmConfig): number {
  return parameterSpecs(config).reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
}

/**
 * GPT-2 initialisation, one seeded stream per parameter (Rng.derive(seed, name)), so a parameter's
 * values depend only on the seed and its name. Residual projections get 0.02/√(2·layers of their stack).
 */
export function initWeights(config: VlmConfig, seed: number): Weights {
  const out: Weights = {};
  for (const spec of parameterSpecs(config)) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const layers = spec.name.startsWith('enc.') ? config.encoderLayers : config.decoderLayers;
    const std =
      spec.init === 'residual'
        ? 0.02 / Math.sqrt(2 * layers)
        : spec.init === 'fanIn'
          ? 1 / Math.sqrt(spec.shape[0])
          : 0.02;
    const rng = Rng.derive(seed, spec.name);
    const data = new Float32Array(size);
    if (spec.init === 'ones') data.fill(1);
    else if (spec.init !== 'zeros') for (let i = 0; i < size; i++) data[i] = rng.normal(0, std);
    out[spec.name] = data;
  }
  return out;
}

/**
 * A parent's weights carried into a config that adds parameters to it (a pixel stem, the finding
 * evidence): shared
 * parameters must match in size; the new ones get their seeded initialisation.
 */
export function extendWeights(config: VlmConfig, parent: Weights, seed: number): Weights {
  const fresh = initWeights(config, seed);
  const out: Weights = {};
  for (const spec of parameterSpecs(config)) {
    const inherited = parent[spec.name];
    if (inherited && inherited.length !== fresh[spec.name].length)
      throw new VlmError('VLM_BAD_WEIGHTS', `${spec.name} differs in size from the parent's`);
    out[spec.name] = inherited ? Float32Array.from(inherited) : fresh[spec.name];
  }
  const known = new Set(Object.keys(out));
  const dropped = Object.keys(parent).filter((name) => !known.has(name));
  if (dropped.length > 0)
    throw new VlmError('VLM_BAD_WEIGHTS', `not in the new config: ${dropped.join(', ')}`);
  return out;
}

/** Biases, layer norms and position embeddings are exempt from weight decay (AdamW's `noDecay`). */
export function noWeightDecay(name: string): boolean {
  return name.endsWith('.bias') || name.includes('.ln') || name === 'enc.pos' || name === 'dec.wpe';
}

/** Throws unless `weights` holds exactly the config's parameters with the right sizes. */
export function checkWeights(config: VlmConfig, weights: Weights): void {
  const specs = parameterSpecs(config);
  const problems: string[] = [];
  for (const s of specs) {
    const w = weights[s.name];
    const size = s.shape.reduce((a, b) => a * b, 1);
    if (!w) problems.push(`missing ${s.name}`);
    else if (w.length !== size) problems.push(`${s.name} has ${w.length} values, needs ${size}`);
  }
  const known = new Set(specs.map((s) => s.name));
  for (const name of Object.keys(weights)) if (!known.has(name)) problems.push(`unexpected ${name}`);
  if (problems.length > 0) throw new VlmError('VLM_BAD_WEIGHTS', problems.join('; '));
}

export interface SaveOptions {
  /** Store as float16 on disk (half the size); loading converts back to float32. */
  fp16?: boolean;
  /** Extra safetensors metadata (strings). The config is always stored under `chexpo.config`. */
  metadata?: Record<string, string>;
}

/** safetensors bytes for `weights`, with the config in the metadata. */
export function saveWeights(config: VlmConfig, weights: Weights, options: SaveOptions = {}): Uint8Array {
  checkWeights(config, weights);
  const tensors: Record<string, NamedTensor> = {};
  for (const s of parameterSpecs(config)) {
    const w = weights[s.name];
    tensors[s.name] = options.fp16
      ? { dtype: 'F16', shape: s.shape, data: toFloat16Bits(w) }
      : { dtype: 'F32', shape: s.shape, data: w };
  }
  return encodeSafetensors(tensors, { ...options.metadata, 'chexpo.config': JSON.stringify(config) });
}

/** Weights (float32 in memory) and the stored config; checked against `expected` when given. */
export function loadWeights(
  bytes: Uint8Array,
  expected?: VlmConfig,
): { config: VlmConfig; weights: Weights; metadata: Record<string, string> } {
  const { tensors, metadata } = decodeSafetensors(bytes);
  const stored = metadata['chexpo.config'];
  if (!stored && !expected) throw new VlmError('VLM_BAD_WEIGHTS', 'no chexpo.config in the metadata');
  const config: VlmConfig = stored ? JSON.parse(stored) : expected;
  if (expected && JSON.stringify(config) !== JSON.stringify(expected))
    throw new VlmError('VLM_BAD_WEIGHTS', 'stored config differs from the expected one');
  const weights: Weights = {};
  for (const [name, t] of Object.entries(tensors)) {
    if (t.dtype === 'I64') throw new VlmError('VLM_BAD_WEIGHTS', `${name} is an integer tensor`);
    weights[name] = t.dtype === 'F16' ? fromFloat16Bits(t.data as Uint16Array) : (t.data as Float32Array);
  }
  checkWeights(config, weights);
  return { config, weights, metadata };
}
