/**
 * AdamW (Loshchilov & Hutter) over flat Float32Array parameters, with decoupled weight decay and
 * global-norm gradient clipping. Runs in JS: one fused loop per tensor costs far less than a training step.
 */
export interface AdamWConfig {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Clip the global L2 norm of all gradients to this value; 0 disables clipping. */
  maxGradNorm: number;
}

export const DEFAULT_ADAMW: AdamWConfig = {
  beta1: 0.9,
  beta2: 0.95,
  eps: 1e-8,
  weightDecay: 0.01,
  maxGradNorm: 1,
};

export interface AdamWState {
  step: number;
  m: Record<string, Float32Array>;
  v: Record<string, Float32Array>;
}

export function initAdamW(params: Record<string, Float32Array>): AdamWState {
  const m: Record<string, Float32Array> = {};
  const v: Record<string, Float32Array> = {};
  for (const [name, p] of Object.entries(params)) {
    m[name] = new Float32Array(p.length);
    v[name] = new Float32Array(p.length);
  }
  return { step: 0, m, v };
}

export function globalGradNorm(grads: Record<string, Float32Array>): number {
  let sum = 0;
  for (const g of Object.values(grads)) for (let i = 0; i < g.length; i++) sum += g[i] * g[i];
  return Math.sqrt(sum);
}

/**
 * One update in place. `noDecay` names parameters exempt from weight decay (biases, norms, embeddings'
 * positions). Returns the gradient norm before clipping.
 */
export function adamWStep(
  params: Record<string, Float32Array>,
  grads: Record<string, Float32Array>,
  state: AdamWState,
  lr: number,
  config: AdamWConfig = DEFAULT_ADAMW,
  noDecay: (name: string) => boolean = () => false,
): number {
  const norm = globalGradNorm(grads);
  const clip = config.maxGradNorm > 0 && norm > config.maxGradNorm ? config.maxGradNorm / norm : 1;
  state.step++;
  const { beta1, beta2, eps } = config;
  const c1 = 1 - beta1 ** state.step;
  const c2 = 1 - beta2 ** state.step;
  for (const [name, p] of Object.entries(params)) {
    const g = grads[name];
    if (!g) continue;
    const m = state.m[name];
    const v = state.v[name];
    const decay = noDecay(name) ? 1 : 1 - lr * config.weightDecay;
    for (let i = 0; i < p.length; i++) {
      const gi = g[i] * clip;
      m[i] = beta1 * m[i] + (1 - beta1) * gi;
      v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
      p[i] = p[i] * decay - (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + eps);
    }
  }
  return norm;
}
