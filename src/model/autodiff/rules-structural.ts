import { type Node, op, type Tensor } from '../graph/index.ts';
import { normAxis } from '../graph/shape.ts';
import {
  constInts,
  expandTo,
  type GradContext,
  inputOf,
  intAttr,
  shapeTensor,
  when,
  zerosLike,
} from './context.ts';
import { AutodiffError } from './errors.ts';

/** Swap the last two axes. */
function transposeLast2(t: Tensor): Tensor {
  const perm = t.shape.map((_, i) => i);
  perm[t.rank - 2] = t.rank - 1;
  perm[t.rank - 1] = t.rank - 2;
  return op.transpose(t, perm);
}

/**
 * Y = A @ B: dA = dY @ Bᵀ, dB = Aᵀ @ dY. With shared 2-D weights (B,T,K)@(K,N), dB folds the batch into
 * one GEMM: (B·T,K)ᵀ @ (B·T,N), transposed by BLAS rather than by a Transpose node.
 */
export function matmulGrad(ctx: GradContext, node: Node, dy: Tensor): (Tensor | undefined)[] {
  const a = inputOf(node, 0);
  const b = inputOf(node, 1);
  if (a.rank < 2 || b.rank < 2)
    throw new AutodiffError(
      'AUTODIFF_UNSUPPORTED',
      `MatMul ${node.name}: 1-D operands are not differentiated`,
    );
  const k = b.shape[b.rank - 2];
  const n = b.shape[b.rank - 1];
  if (b.rank === 2 && typeof k === 'number' && typeof n === 'number') {
    // Shared 2-D weight: flatten the batch once and let GEMM transpose its operands.
    const dy2 = dy.rank === 2 ? dy : op.reshape(dy, [-1, n]); // (B·T, N)
    const dA = when(ctx, 0, () => {
      const d = op.gemm(dy2, b, { transB: true }); // (B·T, K)
      return a.rank === 2 ? d : op.reshape(d, shapeTensor(a), a.shape);
    });
    const dB = when(ctx, 1, () => op.gemm(a.rank === 2 ? a : op.reshape(a, [-1, k]), dy2, { transA: true }));
    return [dA, dB];
  }
  const dA = when(ctx, 0, () => op.matmul(dy, transposeLast2(b)));
  const dB = when(ctx, 1, () => op.matmul(transposeLast2(a), dy));
  return [dA, dB];
}

/** Y = op(A)·op(B) (+ C), alpha = beta = 1 as the builder emits it. */
export function gemmGrad(ctx: GradContext, node: Node, dy: Tensor): (Tensor | undefined)[] {
  const a = inputOf(node, 0);
  const b = inputOf(node, 1);
  const tA = intAttr(node, 'transA', 0) === 1;
  const tB = intAttr(node, 'transB', 0) === 1;
  if (intAttr(node, 'alpha', 1) !== 1 || intAttr(node, 'beta', 1) !== 1)
    throw new AutodiffError('AUTODIFF_UNSUPPORTED', `Gemm ${node.name}: alpha/beta other than 1`);
  const dA = when(ctx, 0, () =>
    tA ? op.gemm(b, dy, { transA: tB, transB: true }) : op.gemm(dy, b, { transB: !tB }),
  );
  const dB = when(ctx, 1, () =>
    tB ? op.gemm(dy, a, { transA: true, transB: tA }) : op.gemm(a, dy, { transA: !tA }),
  );
  return [dA, dB, when(ctx, 2, () => dy)];
}

/** The reduced axes of a Reduce* node (all when the axes input is omitted). */
function reducedAxes(node: Node, x: Tensor): number[] {
  const axes = constInts(node, 1);
  return axes && axes.length > 0 ? axes.map((a) => normAxis(a, x.rank)) : x.shape.map((_, i) => i);
}

/** dY with the reduced axes restored as size-1 dims, so it broadcasts against x. */
function keepDims(node: Node, x: Tensor, dy: Tensor): Tensor {
  if (intAttr(node, 'keepdims', 1) === 1) return dy;
  return op.unsqueeze(
    dy,
    reducedAxes(node, x).sort((p, q) => p - q),
  );
}

export function reduceSumGrad(_ctx: GradContext, node: Node, dy: Tensor): (Tensor | undefined)[] {
  const x = inputOf(node, 0);
  return [expandTo(keepDims(node, x, dy), x)];
}

export function reduceMeanGrad(_ctx: GradContext, node: Node, dy: Tensor): (Tensor | undefined)[] {
  const x = inputOf(node, 0);
  const dims = reducedAxes(node, x).map((a) => x.shape[a]);
  const count = dims.every((d) => typeof d === 'number')
    ? (dims as number[]).reduce((p, q) => p * q, 1)
    : op.cast(op.div(op.size(x), op.size(node.outputs[0])), x.dtype);
  return [expandTo(op.div(keepDims(node, x, dy), count), x)];
}

/** The gradient flows to the maximal elements (to each of them on exact ties). */
export function reduceMaxGrad(_ctx: GradContext, node: Node, dy: Tensor): (Tensor | undefined)[] {
  const x = inputOf(node, 0);
  const y = keepDims(node, x, node.outputs[0]);
  return [op.where(op.equal(x, y), keepDims(node, x, dy), 0)];
}

export function concatGrad(ctx: GradContext, node: Node, dy: Tensor): (Tensor | undefined)[] {
  const xs = node.inputs.map((_, i) => inputOf(node, i));
  const axis = normAxis(intAttr(node, 'axis', 0), dy.rank);
  const sizes = xs.map((x) => x.shape[axis]);
  const sizesTensor = sizes.every((s) => typeof s === 'number')
    ? undefined
    : op.concat(
        xs.map((x) => op.shapeOf(x, axis, axis + 1)),
        0,
      );
  const parts = op.split(dy, axis, sizes, sizesTensor);
  return parts.map((p, i) => (ctx.needs(i) ? p : undefined));
}

/** The gradients of the pieces, concatenated back (zeros for pieces that do not reach the loss). */
export function splitGrad(ctx: GradContext, node: Node, _dy: Tensor): (Tensor | undefined)[] {
  const axis = intAttr(node, 'axis', 0);
  const parts = node.outputs.map((o, i) => ctx.outputGrad(i) ?? zerosLike(o));
  return [op.concat(parts, axis), undefined];
}

/** Slice with unit steps: the gradient is dY zero-padded back to x's extent (run-time pads if symbolic). */
export function sliceGrad(_ctx: GradContext, node: Node, dy: Tensor): (Tensor | undefined)[] {
  const x = inputOf(node, 0);
  const starts = constInts(node, 1)!;
  const ends = constInts(node, 2)!;
  const axes = (constInts(node, 3) ?? starts.map((_, i) => i)).map((a) => normAxis(a, x.rank));
  const steps = constInts(node, 4) ?? axes.map(() => 1);
  if (steps.some((s) => s !== 1))
    throw new AutodiffError('AUTODIFF_UNSUPPORTED', `Slice ${node.name}: only unit steps are differentiated`);
  const g = x.graph;
  const begin: (number | Tensor)[] = x.shape.map(() => 0);
  const end: (number | Tensor)[] = x.shape.map(() => 0);
  axes.forEach((a, i) => {
    const dim = x.shape[a];
    if (typeof dim === 'number') {
      const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim);
      begin[a] = clamp(starts[i]);
      end[a] = dim - Math.max(clamp(ends[i]), clamp(starts[i]));
      return;
    }
    const runtimeDim = () => op.shapeOf(x, a, a + 1);
    begin[a] = starts[i] >= 0 ? starts[i] : op.add(runtimeDim(), starts[i]);
    end[a] = ends[i] >= 2 ** 31 ? 0 : ends[i] < 0 ? -ends[i] : op.sub(runtimeDim(), ends[i]);
  });
  const all = [...begin, ...end];
  const pads = all.every((p) => typeof p === 'number')
    ? (all as number[])
    : op.concat(
        all.map((p) => (typeof p === 'number' ? g.constant('int64', [p]) : p)),
        0,
      );
  return [op.pad(dy, pads, x.shape)];
}

/** Embedding-style Gather: dData = zeros scattered-added with dY rows (ScatterND, reduction='add'). */
export function gatherGrad(_ctx: GradContext, node: Node, dy: Tensor): (Tensor | undefined)[] {
  const data = inputOf(node, 0);
  let indices = inputOf(node, 1);
  const axis = normAxis(intAttr(node, 'axis', 0), data.rank);
  if (indices.rank === 0) {
    indices = op.unsqueeze(indices, [0]);
    dy = op.unsqueeze(dy, [axis]);
  }
  const q = indices.rank;
  const idx = op.unsqueeze(indices, [-1]); // (...indices, 1)
  if (axis === 0) return [op.scatterND(zerosLike(data), idx, dy, 'add'), undefined];
  // Move the gathered axis to the front: data' = (D_axis, D_0..D_{axis-1}, D_{axis+1}..).
  const r = data.rank;
  const dataPerm = [axis, ...Array.from({ length: r }, (_, i) => i).filter((i) => i !== axis)];
  const dyPerm = [
    ...Array.from({ length: q }, (_, i) => axis + i),
    ...Array.from({ length: axis }, (_, i) => i),
    ...Array.from({ length: r - axis - 1 }, (_, i) => axis + q + i),
  ];
  const zeros = zerosLike(op.transpose(data, dataPerm));
  const scattered = op.scatterND(zeros, idx, op.transpose(dy, dyPerm), 'add');
  const inverse = dataPerm.map((_, i) => dataPerm.indexOf(i));
  return [op.transpose(scattered, inverse), undefined];
}

/** Picking log-probs of target tokens: dData = zeros scatter-added with dY at the picked positions. */
export function gatherElementsGrad(_ctx: GradContext, node: Node, dy: Tensor): (Tensor | undefined)[] {
  const data = inputOf(node, 0);
  const axis = intAttr(node, 'axis', 0);
  return [op.scatterElements(zerosLike(data), inputOf(node, 1), dy, axis, 'add'), undefined];
}
