import { type DType, typedArrayFrom } from './dtype.ts';
import { GraphError } from './errors.ts';
import { attr, type Tensor } from './graph.ts';
import {
  addDims,
  broadcastShapes,
  type Dim,
  formatShape,
  normAxis,
  reshapeShape,
  type Shape,
  unknownDim,
} from './shape.ts';

/** Shape of a tensor as a run-time int64 vector (optionally dims [start, end)). */
export function shapeOf(x: Tensor, start?: number, end?: number): Tensor {
  const s = start === undefined ? 0 : normAxis(start, x.rank + 1, 'Shape');
  const e = end === undefined ? x.rank : end < 0 ? end + x.rank : end;
  const attrs = {
    ...(start === undefined ? {} : { start: attr.int(start) }),
    ...(end === undefined ? {} : { end: attr.int(end) }),
  };
  return x.graph.node('Shape', [x], [{ dtype: 'int64', shape: [Math.max(0, e - s)] }], attrs)[0];
}

/** Number of elements as a run-time int64 scalar. */
export function size(x: Tensor): Tensor {
  return x.graph.node('Size', [x], [{ dtype: 'int64', shape: [] }])[0];
}

function shapeInput(x: Tensor, target: readonly number[] | Tensor): Tensor {
  return Array.isArray(target) ? x.graph.constant('int64', target as number[]) : (target as Tensor);
}

function shapeFromTensor(op: string, target: Tensor, hint: Shape | undefined): Shape {
  if (hint) return hint;
  const n = target.shape[0];
  if (target.rank !== 1 || typeof n !== 'number')
    throw new GraphError(
      'GRAPH_BAD_ARGUMENT',
      `${op}: a run-time shape needs a static length or a shape hint`,
    );
  return Array.from({ length: n }, () => unknownDim());
}

/**
 * Reshape to a constant target (0 copies a dim, -1 is inferred) or to a run-time shape tensor; with a
 * tensor, pass `hint` (e.g. the shape of the tensor it came from) to keep dims known at build time.
 */
export function reshape(x: Tensor, target: readonly number[] | Tensor, hint?: Shape): Tensor {
  const shape = Array.isArray(target)
    ? reshapeShape(x.shape, target as number[])
    : shapeFromTensor('Reshape', target as Tensor, hint);
  return x.graph.node('Reshape', [x, shapeInput(x, target)], [{ dtype: x.dtype, shape }])[0];
}

/** Permutes axes; reverses them when `perm` is omitted (as ONNX does). */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  const p = perm ?? x.shape.map((_, i) => x.rank - 1 - i);
  if (p.length !== x.rank)
    throw new GraphError('GRAPH_BAD_ARGUMENT', `Transpose: perm ${p} for rank ${x.rank}`);
  const shape = p.map((i) => x.shape[i]);
  return x.graph.node('Transpose', [x], [{ dtype: x.dtype, shape }], { perm: attr.ints(p) })[0];
}

export function concat(xs: readonly Tensor[], axis: number): Tensor {
  const first = xs[0];
  const a = normAxis(axis, first.rank, 'Concat');
  const shape = [...first.shape];
  shape[a] = addDims(xs.map((x) => x.shape[a]));
  return first.graph.node('Concat', xs, [{ dtype: first.dtype, shape }], { axis: attr.int(a) })[0];
}

/** Splits along `axis` into pieces of the given sizes (constants, or a run-time int64 vector). */
export function split(x: Tensor, axis: number, sizes: readonly Dim[], sizesTensor?: Tensor): Tensor[] {
  const a = normAxis(axis, x.rank, 'Split');
  const input =
    sizesTensor ??
    (sizes.every((s) => typeof s === 'number') ? x.graph.constant('int64', sizes as number[]) : undefined);
  if (!input)
    throw new GraphError('GRAPH_BAD_ARGUMENT', 'Split: symbolic sizes need a run-time sizes tensor');
  const outs = sizes.map((s) => {
    const shape = [...x.shape];
    shape[a] = s;
    return { dtype: x.dtype, shape };
  });
  return x.graph.node('Split', [x, input], outs, { axis: attr.int(a) });
}

export interface SliceSpec {
  starts: readonly number[];
  ends: readonly number[];
  /** Default: 0..starts.length-1. */
  axes?: readonly number[];
  steps?: readonly number[];
}

/** Length of one sliced axis per the ONNX clamping rules; undefined when the dim is symbolic. */
export function slicedLength(dim: Dim, start: number, end: number, step: number): Dim {
  if (typeof dim !== 'number') return start === 0 && end >= 2 ** 31 && step === 1 ? dim : unknownDim();
  const norm = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + dim : v, lo), hi);
  if (step > 0) return Math.max(0, Math.ceil((norm(end, 0, dim) - norm(start, 0, dim)) / step));
  return Math.max(0, Math.ceil((norm(start, -1, dim - 1) - norm(end, -1, dim - 1)) / -step));
}

/** Slice with constant starts/ends/axes/steps (the autodiff rule needs them at build time). */
export function slice(x: Tensor, spec: SliceSpec): Tensor {
  const g = x.graph;
  const axes = (spec.axes ?? spec.starts.map((_, i) => i)).map((a) => normAxis(a, x.rank, 'Slice'));
  const steps = spec.steps ?? axes.map(() => 1);
  const shape = [...x.shape];
  axes.forEach((a, i) => {
    shape[a] = slicedLength(x.shape[a], spec.starts[i], spec.ends[i], steps[i]);
  });
  const inputs = [
    x,
    g.constant('int64', spec.starts),
    g.constant('int64', spec.ends),
    g.constant('int64', axes),
    g.constant('int64', steps),
  ];
  return g.node('Slice', inputs, [{ dtype: x.dtype, shape }])[0];
}

export function unsqueeze(x: Tensor, axes: readonly number[]): Tensor {
  const rank = x.rank + axes.length;
  const norm = new Set(axes.map((a) => normAxis(a, rank, 'Unsqueeze')));
  const shape: Dim[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) shape.push(norm.has(i) ? 1 : x.shape[j++]);
  return x.graph.node('Unsqueeze', [x, x.graph.constant('int64', axes)], [{ dtype: x.dtype, shape }])[0];
}

export function squeeze(x: Tensor, axes: readonly number[]): Tensor {
  const norm = new Set(axes.map((a) => normAxis(a, x.rank, 'Squeeze')));
  for (const a of norm)
    if (x.shape[a] !== 1)
      throw new GraphError('GRAPH_SHAPE_MISMATCH', `Squeeze: axis ${a} of ${formatShape(x.shape)} is not 1`);
  const shape = x.shape.filter((_, i) => !norm.has(i));
  return x.graph.node('Squeeze', [x, x.graph.constant('int64', axes)], [{ dtype: x.dtype, shape }])[0];
}

/** Broadcasts x to `target` (constant dims or a run-time shape tensor plus a hint). */
export function expand(x: Tensor, target: readonly number[] | Tensor, hint?: Shape): Tensor {
  const t = Array.isArray(target) ? (target as number[]) : shapeFromTensor('Expand', target as Tensor, hint);
  const shape = broadcastShapes('Expand', x.shape, t);
  return x.graph.node('Expand', [x, shapeInput(x, target)], [{ dtype: x.dtype, shape }])[0];
}

/** data[..., indices, ...] along `axis`: out shape = data[:axis] + indices.shape + data[axis+1:]. */
export function gather(data: Tensor, indices: Tensor, axis = 0): Tensor {
  const a = normAxis(axis, data.rank, 'Gather');
  const shape = [...data.shape.slice(0, a), ...indices.shape, ...data.shape.slice(a + 1)];
  return data.graph.node('Gather', [data, indices], [{ dtype: data.dtype, shape }], { axis: attr.int(a) })[0];
}

/** out[i][j] = data[indices[i][j]][j] (axis 0) etc.; out has the shape of `indices`. */
export function gatherElements(data: Tensor, indices: Tensor, axis: number): Tensor {
  const a = normAxis(axis, data.rank, 'GatherElements');
  return data.graph.node('GatherElements', [data, indices], [{ dtype: data.dtype, shape: indices.shape }], {
    axis: attr.int(a),
  })[0];
}

export type ScatterReduction = 'none' | 'add' | 'mul' | 'max' | 'min';

export function scatterND(
  data: Tensor,
  indices: Tensor,
  updates: Tensor,
  reduction: ScatterReduction = 'none',
): Tensor {
  return data.graph.node('ScatterND', [data, indices, updates], [{ dtype: data.dtype, shape: data.shape }], {
    reduction: attr.string(reduction),
  })[0];
}

export function scatterElements(
  data: Tensor,
  indices: Tensor,
  updates: Tensor,
  axis: number,
  reduction: ScatterReduction = 'none',
): Tensor {
  const a = normAxis(axis, data.rank, 'ScatterElements');
  return data.graph.node(
    'ScatterElements',
    [data, indices, updates],
    [{ dtype: data.dtype, shape: data.shape }],
    {
      axis: attr.int(a),
      reduction: attr.string(reduction),
    },
  )[0];
}

/** A tensor of `shape` (run-time int64 vector) filled with `value`. */
export function constantOfShape(shape: Tensor, dtype: DType, value: number, hint?: Shape): Tensor {
  const g = shape.graph;
  const out = shapeFromTensor('ConstantOfShape', shape, hint);
  const data = { dtype, shape: [1], data: typedArrayFrom(dtype, [value]) };
  return g.node('ConstantOfShape', [shape], [{ dtype, shape: out }], { value: attr.tensor(data) })[0];
}

/** Zero padding: `pads` = [begin_0, …, begin_{r-1}, end_0, …, end_{r-1}] (constants or run-time int64). */
export function pad(x: Tensor, pads: readonly number[] | Tensor, hint?: Shape): Tensor {
  let shape: Shape;
  if (Array.isArray(pads)) {
    const p = pads as number[];
    shape = x.shape.map((d, i) => (typeof d === 'number' ? d + p[i] + p[i + x.rank] : unknownDim()));
  } else shape = hint ?? x.shape.map(() => unknownDim());
  return x.graph.node('Pad', [x, shapeInput(x, pads)], [{ dtype: x.dtype, shape }])[0];
}
