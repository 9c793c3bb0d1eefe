import { type DType, type Graph, op, type Tensor } from '../graph/index.ts';
import { type Geometry, geometry, type VlmConfig } from './config.ts';
import { VlmError } from './errors.ts';
import { type ParameterSpec, parameterSpecs } from './weights.ts';

export interface BuildOptions {
  /** float32 for serving and training; float64 only for finite-difference gradient checks. */
  dtype?: 'float32' | 'float64';
  /**
   * 'erf' is the model (exact GELU). 'tanh' is its close approximation, for float64 gradient checks only:
   * ORT's CPU Erf has no float64 kernel.
   */
  gelu?: 'erf' | 'tanh';
}

/** Added to attention scores that must not be seen; exp(−1e9 − max) is exactly 0 in float32. */
export const MASKED = -1e9;
const LN_EPS = 1e-5;

/** The graph under construction plus the model's parameters, created on first use and shared after. */
export class ModelBuilder {
  readonly geo: Geometry;
  readonly dtype: DType;
  readonly gelu: 'erf' | 'tanh';
  private readonly specs: Map<string, ParameterSpec>;
  private readonly params = new Map<string, Tensor>();

  readonly g: Graph;
  readonly config: VlmConfig;
  constructor(g: Graph, config: VlmConfig, options: BuildOptions = {}) {
    this.g = g;
    this.config = config;
    this.geo = geometry(config);
    this.dtype = options.dtype ?? 'float32';
    this.gelu = options.gelu ?? 'erf';
    this.specs = new Map(parameterSpecs(config).map((s) => [s.name, s]));
  }

  param(name: string): Tensor {
    const existing = this.params.get(name);
    if (existing) return existing;
    const spec = this.specs.get(name);
    if (!spec) throw new VlmError('VLM_BAD_CONFIG', `no parameter named ${name}`);
    const t = this.g.parameter(name, this.dtype, spec.shape);
    this.params.set(name, t);
    return t;
  }

  /** The parameters this graph uses, in creation order. */
  get parameters(): Tensor[] {
    return [...this.params.values()];
  }
}

/** y = (x − mean)/√(var + ε)·γ + β over the last axis, from primitives (ORT fuses the pattern). */
export function layerNorm(m: ModelBuilder, x: Tensor, prefix: string): Tensor {
  const mean = op.reduceMean(x, { axes: [-1] }); // (…, 1)
  const centred = op.sub(x, mean); // (…, C)
  const variance = op.reduceMean(op.pow(centred, 2), { axes: [-1] }); // (…, 1)
  const normed = op.div(centred, op.sqrt(op.add(variance, LN_EPS))); // (…, C)
  return op.add(op.mul(normed, m.param(`${prefix}.weight`)), m.param(`${prefix}.bias`));
}

/** GELU: x·Φ(x) = ½x(1 + erf(x/√2)); tanh form ½x(1 + tanh(√(2/π)(x + 0.044715x³))) for float64 checks. */
export function gelu(m: ModelBuilder, x: Tensor): Tensor {
  if (m.gelu === 'tanh') {
    const inner = op.mul(op.add(x, op.mul(op.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
    return op.mul(op.mul(x, op.add(op.tanh(inner), 1)), 0.5);
  }
  return op.mul(op.mul(x, op.add(op.erf(op.div(x, Math.SQRT2)), 1)), 0.5);
}

/** x @ W + b with W stored (in, out). */
export function linear(m: ModelBuilder, x: Tensor, prefix: string): Tensor {
  return op.add(op.matmul(x, m.param(`${prefix}.weight`)), m.param(`${prefix}.bias`));
}

export interface KeyValue {
  /** (B, H, S, head_dim) */
  key: Tensor;
  /** (B, H, S, head_dim) */
  value: Tensor;
}

/**
 * Multi-head self-attention with one fused QKV projection (one GEMM instead of three). `bias` is added
 * to the scores (causal and padding masks; none = bidirectional); `past` is prepended to this step's
 * keys/values. Returns the output and the full keys/values (the KV cache's `present`).
 */
export function attention(
  m: ModelBuilder,
  x: Tensor,
  prefix: string,
  heads: number,
  bias?: Tensor,
  past?: KeyValue,
): { y: Tensor } & KeyValue {
  const width = x.shape[2] as number;
  const headDim = width / heads;
  const qkv = linear(m, x, `${prefix}.qkv`); // (B, T, 3C)
  const [q, k, v] = op.split(qkv, -1, [width, width, width]); // 3 × (B, T, C)
  const toHeads = (t: Tensor) => op.transpose(op.reshape(t, [0, 0, heads, headDim]), [0, 2, 1, 3]); // (B, H, T, hd)
  let key = toHeads(k); // (B, H, T, hd)
  let value = toHeads(v); // (B, H, T, hd)
  if (past) {
    key = op.concat([past.key, key], 2); // (B, H, S, hd)
    value = op.concat([past.value, value], 2); // (B, H, S, hd)
  }
  const query = op.mul(toHeads(q), 1 / Math.sqrt(headDim)); // (B, H, T, hd)
  const scores = op.matmul(query, op.transpose(key, [0, 1, 3, 2])); // (B, H, T, S)
  const probs = op.softmax(bias ? op.add(scores, bias) : scores, -1); // (B, H, T, S)
  const mixed = op.matmul(probs, value); // (B, H, T, hd)
  const merged = op.reshape(op.transpose(mixed, [0, 2, 1, 3]), [0, 0, width]); // (B, T, C)
  return { y: linear(m, merged, `${prefix}.proj`), key, value }; // (B, T, C)
}

/** Pre-norm transformer block: x + attn(ln1(x)), then + mlp(ln2(x)). */
export function block(
  m: ModelBuilder,
  x: Tensor,
  prefix: string,
  heads: number,
  bias?: Tensor,
  past?: KeyValue,
): { x: Tensor } & KeyValue {
  const a = attention(m, layerNorm(m, x, `${prefix}.ln1`), `${prefix}.attn`, heads, bias, past);
  const h = op.add(x, a.y); // (B, T, C)
  const hidden = gelu(m, linear(m, layerNorm(m, h, `${prefix}.ln2`), `${prefix}.mlp.fc`)); // (B, T, rC)
  const out = op.add(h, linear(m, hidden, `${prefix}.mlp.proj`)); // (B, T, C)
  return { x: out, key: a.key, value: a.value };
}
