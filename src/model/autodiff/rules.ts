import { op } from '../graph/index.ts';
import { constInts, type GradRule, inputOf, intAttr, intsAttr, reshapeTo, when } from './context.ts';
import {
  concatGrad,
  gatherElementsGrad,
  gatherGrad,
  gemmGrad,
  matmulGrad,
  reduceMaxGrad,
  reduceMeanGrad,
  reduceSumGrad,
  sliceGrad,
  splitGrad,
} from './rules-structural.ts';

/** 2/√π, the derivative scale of erf. */
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/**
 * One gradient rule per op: (ctx, node, dy) → one gradient per input. x/a/b are inputs, y the output.
 * Broadcasting is undone by the walker, so binary rules return output-shaped gradients.
 */
/** Ops whose rule reads the gradients of every output (the walker rejects several output grads otherwise). */
export const MULTI_OUTPUT_RULES: ReadonlySet<string> = new Set(['Split']);

export const RULES: Readonly<Record<string, GradRule>> = {
  Identity: (_c, _n, dy) => [dy],
  Add: (c, _n, dy) => [when(c, 0, () => dy), when(c, 1, () => dy)],
  Sub: (c, _n, dy) => [when(c, 0, () => dy), when(c, 1, () => op.neg(dy))],
  // d(ab) = b·da + a·db
  Mul: (c, n, dy) => [
    when(c, 0, () => op.mul(dy, inputOf(n, 1))),
    when(c, 1, () => op.mul(dy, inputOf(n, 0))),
  ],
  // d(a/b) = da/b − (a/b)·db/b
  Div: (c, n, dy) => [
    when(c, 0, () => op.div(dy, inputOf(n, 1))),
    when(c, 1, () => op.neg(op.div(op.mul(dy, n.outputs[0]), inputOf(n, 1)))),
  ],
  Neg: (_c, _n, dy) => [op.neg(dy)],
  Exp: (_c, n, dy) => [op.mul(dy, n.outputs[0])],
  Log: (_c, n, dy) => [op.div(dy, inputOf(n, 0))],
  // d√x = 1/(2√x)
  Sqrt: (_c, n, dy) => [op.div(op.mul(dy, 0.5), n.outputs[0])],
  // d(x^p) = p·x^(p−1)·dx; d(x^p)/dp = x^p·ln x
  Pow: (c, n, dy) => {
    const x = inputOf(n, 0);
    const e = inputOf(n, 1);
    const p = e.kind === 'initializer' ? x.graph.valueOf(e) : undefined;
    const scalar = p && p.data.length === 1 ? Number(p.data[0]) : undefined;
    const dx = () =>
      scalar === 2
        ? op.mul(dy, op.mul(x, 2))
        : scalar !== undefined
          ? op.mul(dy, op.mul(op.pow(x, scalar - 1), scalar))
          : op.mul(dy, op.mul(op.pow(x, op.sub(inputOf(n, 1), 1)), inputOf(n, 1)));
    return [when(c, 0, dx), when(c, 1, () => op.mul(dy, op.mul(n.outputs[0], op.log(x))))];
  },
  // d tanh = 1 − y²
  Tanh: (_c, n, dy) => [op.mul(dy, op.sub(1, op.mul(n.outputs[0], n.outputs[0])))],
  // d erf = 2/√π · exp(−x²)
  Erf: (_c, n, dy) => {
    const x = inputOf(n, 0);
    return [op.mul(dy, op.mul(op.exp(op.neg(op.mul(x, x))), TWO_OVER_SQRT_PI))];
  },
  // dσ = y(1 − y)
  Sigmoid: (_c, n, dy) => [op.mul(dy, op.mul(n.outputs[0], op.sub(1, n.outputs[0])))],
  Relu: (_c, n, dy) => [op.where(op.greater(inputOf(n, 0), 0), dy, 0)],
  // d|x| = sign(x) (0 at 0 is not needed: the kink has measure zero)
  Abs: (_c, n, dy) => [op.where(op.less(inputOf(n, 0), 0), op.neg(dy), dy)],
  // d softplus = σ(x)
  Softplus: (_c, n, dy) => [op.mul(dy, op.sigmoid(inputOf(n, 0)))],
  // dx = y ⊙ (dy − Σ dy⊙y) along the softmax axis
  Softmax: (_c, n, dy) => {
    const y = n.outputs[0];
    const axis = intAttr(n, 'axis', -1);
    return [op.mul(y, op.sub(dy, op.reduceSum(op.mul(dy, y), { axes: [axis] })))];
  },
  // dx = dy − softmax(x) ⊙ Σ dy, with softmax(x) = exp(y)
  LogSoftmax: (_c, n, dy) => {
    const axis = intAttr(n, 'axis', -1);
    return [op.sub(dy, op.mul(op.exp(n.outputs[0]), op.reduceSum(dy, { axes: [axis] })))];
  },
  MatMul: matmulGrad,
  Gemm: gemmGrad,
  ReduceSum: reduceSumGrad,
  ReduceMean: reduceMeanGrad,
  ReduceMax: reduceMaxGrad,
  Reshape: (_c, n, dy) => [reshapeTo(dy, inputOf(n, 0)), undefined],
  Squeeze: (_c, n, dy) => [reshapeTo(dy, inputOf(n, 0)), undefined],
  Unsqueeze: (_c, n, dy) => [op.squeeze(dy, constInts(n, 1)!), undefined],
  Transpose: (_c, n, dy) => {
    const perm = intsAttr(n, 'perm') ?? dy.shape.map((_, i) => dy.rank - 1 - i);
    return [
      op.transpose(
        dy,
        perm.map((_, i) => perm.indexOf(i)),
      ),
    ];
  },
  Concat: concatGrad,
  Split: splitGrad,
  Slice: sliceGrad,
  // Expand is a broadcast: the walker's un-broadcast sums dy back to x's shape.
  Expand: (_c, _n, dy) => [dy, undefined],
  Where: (c, n, dy) => [
    undefined,
    when(c, 1, () => op.where(inputOf(n, 0), dy, 0)),
    when(c, 2, () => op.where(inputOf(n, 0), 0, dy)),
  ],
  Gather: gatherGrad,
  GatherElements: gatherElementsGrad,
  Cast: (_c, n, dy) => [op.cast(dy, inputOf(n, 0).dtype)],
};
