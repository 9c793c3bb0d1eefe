import { Rng } from '../../../src/data/random.ts';
import { appendGradients, type GradientOptions } from '../../../src/model/autodiff/index.ts';
import { type Dim, Graph, op, type Tensor, toBytes } from '../../../src/model/graph/index.ts';
import { OrtSession, ortTensor } from '../../../src/model/ort/session.ts';

/** One input of a gradient-check case: differentiable floats, or fixed integer/bool data. */
export interface CaseInput {
  name: string;
  shape: number[];
  /** Shape declared in the graph (symbolic dims allowed); defaults to `shape`. */
  declared?: Dim[];
  kind?: 'float' | 'int64' | 'bool';
  /** Generator for one element (default standard normal); for int64, an integer. */
  sample?: (rng: Rng) => number;
}

export interface GradCase {
  name: string;
  dtype?: 'float64' | 'float32';
  inputs: CaseInput[];
  /** Overrides the dtype's step and tolerance (e.g. a float64 case with a float32 op inside). */
  tolerance?: { eps: number; rtol: number; atol: number };
  /** Coordinates perturbed per input (default 6; use the input size to also check all-zero regions). */
  coords?: number;
  /** Builds the function under test; returns its output (any shape). */
  build: (g: Graph, x: Record<string, Tensor>) => Tensor;
}

export interface CheckReport {
  name: string;
  checked: number;
  failures: string[];
  maxAbsErr: number;
}

export const FLOAT32_TOLERANCE = { eps: 1e-2, rtol: 2e-2, atol: 2e-3 };

export interface CheckOptions {
  /** Rule table under test (default: the real one). */
  rules?: GradientOptions['rules'];
  /** Seed of the random inputs and coordinates. */
  rngSeed?: number;
  /** Coordinates perturbed per differentiable input. */
  coords?: number;
}

/** Central-difference step and tolerance per dtype: |fd − analytic| ≤ atol + rtol·max(|fd|, |analytic|). */
const TOLERANCE = {
  float64: { eps: 1e-6, rtol: 1e-5, atol: 1e-7 },
  float32: FLOAT32_TOLERANCE,
};

type FloatArray = Float32Array | Float64Array;

/**
 * Builds loss = Σ y ⊙ R (R a fixed random tensor, so every output element matters with a different
 * weight), appends the vector-Jacobian product Rᵀ·∂y/∂x for every float input, and compares them with central differences of the
 * loss at a few random coordinates of each input. One session per case.
 */
export async function checkGradients(c: GradCase, options: CheckOptions = {}): Promise<CheckReport> {
  const dtype = c.dtype ?? 'float64';
  const rng = Rng.derive(options.rngSeed ?? 7, c.name);
  const g = new Graph(c.name);
  const x: Record<string, Tensor> = {};
  for (const i of c.inputs) {
    const dt = i.kind === 'int64' ? 'int64' : i.kind === 'bool' ? 'bool' : dtype;
    x[i.name] = g.input(i.name, dt, i.declared ?? i.shape);
  }
  const y = c.build(g, x);
  const yShape = y.shape.map((d, k) => (typeof d === 'number' ? d : -1 - k));
  if (yShape.some((d) => d < 0)) throw new Error(`${c.name}: output shape must be static`);
  const n = yShape.reduce((a, b) => a * b, 1);
  const weights = Array.from({ length: n }, () => rng.normal());
  const r = g.constant(
    dtype,
    dtype === 'float64' ? Float64Array.from(weights) : Float32Array.from(weights),
    yShape,
  );
  const loss = op.reduceSum(op.mul(y, r), { keepdims: false });
  g.output(loss, 'loss');
  const floats = c.inputs.filter((i) => (i.kind ?? 'float') === 'float');
  // Seed y with R directly, so the loss's own Mul is not differentiated (a planted Mul error could cancel).
  const grads = appendGradients(
    g,
    y,
    floats.map((i) => x[i.name]),
    { rules: options.rules, seed: r },
  );
  for (const i of floats) g.output(grads.get(i.name)!, `grad.${i.name}`);

  const session = await OrtSession.create(toBytes(g), { intraOpThreads: 1 });
  const feeds: Record<string, ReturnType<typeof ortTensor>> = {};
  const values: Record<string, FloatArray> = {};
  for (const i of c.inputs) {
    const size = i.shape.reduce((a, b) => a * b, 1);
    const gen = i.sample ?? ((q: Rng) => q.normal());
    const raw = Array.from({ length: size }, () => gen(rng));
    if (i.kind === 'int64') feeds[i.name] = ortTensor('int64', BigInt64Array.from(raw.map(BigInt)), i.shape);
    else if (i.kind === 'bool') feeds[i.name] = ortTensor('bool', Uint8Array.from(raw), i.shape);
    else {
      values[i.name] = dtype === 'float64' ? Float64Array.from(raw) : Float32Array.from(raw);
      feeds[i.name] = ortTensor(dtype, values[i.name], i.shape);
    }
  }
  const base = await session.run(feeds);
  const lossAt = async (name: string, k: number, delta: number) => {
    const v = values[name].slice() as FloatArray;
    v[k] += delta;
    const shape = c.inputs.find((i) => i.name === name)!.shape;
    const out = await session.run({ ...feeds, [name]: ortTensor(dtype, v, shape) }, ['loss']);
    return Number((out.loss.data as FloatArray)[0]);
  };

  const tol = c.tolerance ?? TOLERANCE[dtype];
  const report: CheckReport = { name: c.name, checked: 0, failures: [], maxAbsErr: 0 };
  for (const i of floats) {
    const analytic = base[`grad.${i.name}`].data as FloatArray;
    const size = values[i.name].length;
    const picks = new Set<number>();
    const want = Math.min(c.coords ?? options.coords ?? 6, size);
    while (picks.size < want) picks.add(rng.int(0, size - 1));
    for (const k of picks) {
      const fd = ((await lossAt(i.name, k, tol.eps)) - (await lossAt(i.name, k, -tol.eps))) / (2 * tol.eps);
      const an = analytic[k];
      const err = Math.abs(fd - an);
      report.checked += 1;
      report.maxAbsErr = Math.max(report.maxAbsErr, err);
      if (!(err <= tol.atol + tol.rtol * Math.max(Math.abs(fd), Math.abs(an))))
        report.failures.push(`${i.name}[${k}]: finite difference ${fd}, autodiff ${an}`);
    }
  }
  await session.release();
  return report;
}
