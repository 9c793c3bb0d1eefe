import type { DType } from './dtype.ts';
import { GraphError } from './errors.ts';
import { type Attr, attr, type Graph, Tensor } from './graph.ts';
import { broadcastShapes, type Dim, formatShape, normAxis } from './shape.ts';

/** A tensor, or a plain number taken as a scalar constant of the other operand's dtype. */
export type Operand = Tensor | number;

function graphOf(...xs: Operand[]): Graph {
  const t = xs.find((x): x is Tensor => x instanceof Tensor);
  if (!t) throw new GraphError('GRAPH_BAD_ARGUMENT', 'at least one operand must be a tensor');
  return t.graph;
}

function asTensor(g: Graph, x: Operand, dtype: DType): Tensor {
  return x instanceof Tensor ? x : g.constant(dtype, x);
}

function dtypeOf(...xs: Operand[]): DType {
  return xs.find((x): x is Tensor => x instanceof Tensor)!.dtype;
}

function sameDtype(op: string, ...ts: Tensor[]): void {
  if (ts.some((t) => t.dtype !== ts[0].dtype))
    throw new GraphError('GRAPH_DTYPE_MISMATCH', `${op}: ${ts.map((t) => t.toString()).join(', ')}`);
}

function unary(op: string, x: Tensor, attrs: Record<string, Attr> = {}): Tensor {
  return x.graph.node(op, [x], [{ dtype: x.dtype, shape: x.shape }], attrs)[0];
}

function binary(op: string, a: Operand, b: Operand, outDtype?: DType): Tensor {
  const g = graphOf(a, b);
  const dt = dtypeOf(a, b);
  const ta = asTensor(g, a, dt);
  const tb = asTensor(g, b, dt);
  sameDtype(op, ta, tb);
  const shape = broadcastShapes(op, ta.shape, tb.shape);
  return g.node(op, [ta, tb], [{ dtype: outDtype ?? dt, shape }])[0];
}

export const add = (a: Operand, b: Operand): Tensor => binary('Add', a, b);
export const sub = (a: Operand, b: Operand): Tensor => binary('Sub', a, b);
export const mul = (a: Operand, b: Operand): Tensor => binary('Mul', a, b);
export const div = (a: Operand, b: Operand): Tensor => binary('Div', a, b);
/** x ** exponent; a numeric exponent becomes a constant (the autodiff rule reads it). */
export const pow = (x: Tensor, exponent: Operand): Tensor => binary('Pow', x, exponent);
export const equal = (a: Operand, b: Operand): Tensor => binary('Equal', a, b, 'bool');
export const less = (a: Operand, b: Operand): Tensor => binary('Less', a, b, 'bool');
export const greater = (a: Operand, b: Operand): Tensor => binary('Greater', a, b, 'bool');

export const neg = (x: Tensor): Tensor => unary('Neg', x);
export const exp = (x: Tensor): Tensor => unary('Exp', x);
export const log = (x: Tensor): Tensor => unary('Log', x);
export const sqrt = (x: Tensor): Tensor => unary('Sqrt', x);
export const tanh = (x: Tensor): Tensor => unary('Tanh', x);
export const erf = (x: Tensor): Tensor => unary('Erf', x);
export const sigmoid = (x: Tensor): Tensor => unary('Sigmoid', x);
export const relu = (x: Tensor): Tensor => unary('Relu', x);
export const abs = (x: Tensor): Tensor => unary('Abs', x);
/** log(1 + eˣ); log-sigmoid(x) = −softplus(−x) is the stable form for DPO. */
export const softplus = (x: Tensor): Tensor => unary('Softplus', x);
export const identity = (x: Tensor): Tensor => unary('Identity', x);
export const softmax = (x: Tensor, axis = -1): Tensor => unary('Softmax', x, { axis: attr.int(axis) });
export const logSoftmax = (x: Tensor, axis = -1): Tensor => unary('LogSoftmax', x, { axis: attr.int(axis) });

export function cast(x: Tensor, to: DType): Tensor {
  if (x.dtype === to) return x;
  const code = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11 }[to];
  return x.graph.node('Cast', [x], [{ dtype: to, shape: x.shape }], { to: attr.int(code) })[0];
}

/** where(cond, a, b), broadcasting all three; numbers take the tensor branch's dtype. */
export function where(cond: Tensor, a: Operand, b: Operand): Tensor {
  const g = cond.graph;
  const dt = dtypeOf(a, b);
  const ta = asTensor(g, a, dt);
  const tb = asTensor(g, b, dt);
  sameDtype('Where', ta, tb);
  const shape = broadcastShapes('Where', cond.shape, ta.shape, tb.shape);
  return g.node('Where', [cond, ta, tb], [{ dtype: dt, shape }])[0];
}

/** Numpy matmul: (..., M, K) @ (..., K, N) → (broadcast ..., M, N); 1-D operands as numpy treats them. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  sameDtype('MatMul', a, b);
  if (a.rank === 0 || b.rank === 0) throw new GraphError('GRAPH_BAD_ARGUMENT', 'MatMul: scalar operand');
  const as = a.rank === 1 ? [1, a.shape[0]] : a.shape;
  const bs = b.rank === 1 ? [b.shape[0], 1] : b.shape;
  const k1 = as[as.length - 1];
  const k2 = bs[bs.length - 2];
  if (typeof k1 === 'number' && typeof k2 === 'number' && k1 !== k2)
    throw new GraphError('GRAPH_SHAPE_MISMATCH', `MatMul: ${formatShape(a.shape)} @ ${formatShape(b.shape)}`);
  const batch = broadcastShapes('MatMul', as.slice(0, -2), bs.slice(0, -2));
  const shape: Dim[] = [...batch];
  if (a.rank > 1) shape.push(as[as.length - 2]);
  if (b.rank > 1) shape.push(bs[bs.length - 1]);
  return a.graph.node('MatMul', [a, b], [{ dtype: a.dtype, shape }])[0];
}

/** Gemm on 2-D operands: alpha·op(a)·op(b) (+ c), op = optional transpose. Lets BLAS transpose for free. */
export function gemm(
  a: Tensor,
  b: Tensor,
  opts: { transA?: boolean; transB?: boolean; c?: Tensor } = {},
): Tensor {
  sameDtype('Gemm', a, b);
  if (a.rank !== 2 || b.rank !== 2) throw new GraphError('GRAPH_BAD_ARGUMENT', 'Gemm: operands must be 2-D');
  const m = opts.transA ? a.shape[1] : a.shape[0];
  const n = opts.transB ? b.shape[0] : b.shape[1];
  const attrs: Record<string, Attr> = {};
  if (opts.transA) attrs.transA = attr.int(1);
  if (opts.transB) attrs.transB = attr.int(1);
  const inputs = opts.c ? [a, b, opts.c] : [a, b];
  return a.graph.node('Gemm', inputs, [{ dtype: a.dtype, shape: [m, n] }], attrs)[0];
}

export interface ReduceOptions {
  /** Axes to reduce; all axes when omitted. */
  axes?: readonly number[];
  keepdims?: boolean;
}

/** Shape after reducing `axes` (all when undefined). */
export function reducedShape(
  shape: readonly Dim[],
  axes: readonly number[] | undefined,
  keepdims: boolean,
): Dim[] {
  const set = new Set((axes ?? shape.map((_, i) => i)).map((a) => normAxis(a, shape.length, 'Reduce')));
  const out: Dim[] = [];
  shape.forEach((d, i) => {
    if (!set.has(i)) out.push(d);
    else if (keepdims) out.push(1);
  });
  return out;
}

/** Opset 18 reductions take axes as an int64 input (ReduceSum since 13, the rest since 18). */
function reduce(op: string, x: Tensor, opts: ReduceOptions): Tensor {
  const keepdims = opts.keepdims ?? true;
  const axesInput = opts.axes ? x.graph.constant('int64', opts.axes) : undefined;
  const shape = reducedShape(x.shape, opts.axes, keepdims);
  return x.graph.node(op, axesInput ? [x, axesInput] : [x], [{ dtype: x.dtype, shape }], {
    keepdims: attr.int(keepdims ? 1 : 0),
  })[0];
}

export const reduceSum = (x: Tensor, opts: ReduceOptions = {}): Tensor => reduce('ReduceSum', x, opts);
export const reduceMean = (x: Tensor, opts: ReduceOptions = {}): Tensor => reduce('ReduceMean', x, opts);
export const reduceMax = (x: Tensor, opts: ReduceOptions = {}): Tensor => reduce('ReduceMax', x, opts);

/** Index of the maximum along `axis` (int64). */
export function argMax(x: Tensor, axis = -1, keepdims = false): Tensor {
  const a = normAxis(axis, x.rank, 'ArgMax');
  const shape = reducedShape(x.shape, [a], keepdims);
  return x.graph.node('ArgMax', [x], [{ dtype: 'int64', shape }], {
    axis: attr.int(a),
    keepdims: attr.int(keepdims ? 1 : 0),
  })[0];
}
