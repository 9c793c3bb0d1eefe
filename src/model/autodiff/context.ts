import { toNumbers } from '../graph/dtype.ts';
import { type Graph, isStatic, type Node, op, type Tensor } from '../graph/index.ts';
import { AutodiffError } from './errors.ts';

/** What a gradient rule may ask about the node it differentiates. */
export interface GradContext {
  readonly graph: Graph;
  /** Whether input `i` of the current node needs a gradient (skip building the others). */
  needs(i: number): boolean;
  /** dLoss/dOutput i, if that output reaches the loss (multi-output rules such as Split use it). */
  outputGrad(i: number): Tensor | undefined;
}

/**
 * A gradient rule: given the node and dLoss/dOutput (shaped like output 0), return dLoss/dInput per input,
 * `undefined` where the input is not differentiable or not needed. A returned gradient may have the
 * broadcast shape of the output; the walker un-broadcasts it to the input's shape.
 */
export type GradRule = (ctx: GradContext, node: Node, dy: Tensor) => (Tensor | undefined)[];

/** Build `make()` only when input `i` needs a gradient. */
export function when(ctx: GradContext, i: number, make: () => Tensor): Tensor | undefined {
  return ctx.needs(i) ? make() : undefined;
}

/** Input `i` of a node, which must be present. */
export function inputOf(node: Node, i: number): Tensor {
  const t = node.inputs[i];
  if (!t) throw new AutodiffError('AUTODIFF_UNSUPPORTED', `${node.op} ${node.name}: input ${i} is omitted`);
  return t;
}

/** The build-time integer values of an optional constant input (axes, starts…); undefined if omitted. */
export function constInts(node: Node, i: number): number[] | undefined {
  const t = node.inputs[i];
  if (!t) return undefined;
  const v = t.graph.valueOf(t);
  if (!v || t.kind !== 'initializer')
    throw new AutodiffError('AUTODIFF_UNSUPPORTED', `${node.op} ${node.name}: input ${i} must be a constant`);
  return toNumbers(v.data);
}

/** An integer attribute with a default. */
export function intAttr(node: Node, name: string, fallback: number): number {
  const a = node.attrs[name];
  return a && a.kind === 'int' ? a.value : fallback;
}

export function intsAttr(node: Node, name: string): readonly number[] | undefined {
  const a = node.attrs[name];
  return a && a.kind === 'ints' ? a.value : undefined;
}

/** x's shape as an int64 vector: a constant when static, else a Shape node. */
export function shapeTensor(x: Tensor): Tensor {
  return isStatic(x.shape) ? x.graph.constant('int64', x.shape) : op.shapeOf(x);
}

/** Broadcast `t` to x's shape (no-op when the shapes already agree). */
export function expandTo(t: Tensor, x: Tensor): Tensor {
  const same = t.rank === x.rank && t.shape.every((d, i) => d === x.shape[i]);
  return same ? t : op.expand(t, shapeTensor(x), x.shape);
}

/** Reshape `t` to x's shape. */
export function reshapeTo(t: Tensor, x: Tensor): Tensor {
  return op.reshape(t, shapeTensor(x), x.shape);
}

/** A zero tensor with x's shape and dtype. */
export function zerosLike(x: Tensor): Tensor {
  return op.constantOfShape(shapeTensor(x), x.dtype, 0, x.shape);
}
