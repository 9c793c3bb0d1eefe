import { type Graph, isFloat, type Node, op, type Tensor } from '../graph/index.ts';
import { formatShape } from '../graph/shape.ts';
import { type GradContext, type GradRule, zerosLike } from './context.ts';
import { AutodiffError } from './errors.ts';
import { MULTI_OUTPUT_RULES, RULES } from './rules.ts';

export interface GradientOptions {
  /** Rule table to use instead of the built-in one (tests inject deliberately wrong rules). */
  rules?: Readonly<Record<string, GradRule>>;
  /**
   * dLoss/dOutput to start from (a vector-Jacobian product): then `loss` may be any float tensor and the
   * seed must have its shape. Default: 1 for a scalar loss.
   */
  seed?: Tensor;
}

/**
 * Sums `g` (shaped like a broadcast result) back to `shape`: over leading extra axes and over axes where
 * the input had a static 1. The one place where broadcasting is undone.
 */
function unbroadcast(g: Tensor, target: Tensor): Tensor {
  const lead = g.rank - target.rank;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++)
    if (i < lead || (target.shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  if (axes.length === 0) return g;
  if (axes.every((a) => a < lead)) return op.reduceSum(g, { axes, keepdims: false });
  const summed = op.reduceSum(g, { axes, keepdims: true });
  return lead > 0
    ? op.squeeze(
        summed,
        Array.from({ length: lead }, (_, i) => i),
      )
    : summed;
}

/** Tensors that depend on a parameter through float-valued ops (the only ones that carry gradients). */
function reachableFrom(graph: Graph, params: readonly Tensor[]): Set<Tensor> {
  const reach = new Set<Tensor>(params);
  for (const n of graph.nodes)
    if (n.inputs.some((i) => i && reach.has(i)))
      for (const o of n.outputs) if (isFloat(o.dtype)) reach.add(o);
  return reach;
}

/**
 * Appends nodes computing dLoss/dParam for each parameter and returns them by parameter name.
 * Walks nodes in reverse topological order, visiting only those on a path from a parameter to the loss;
 * a tensor used several times accumulates its gradient contributions by addition. A parameter that does
 * not reach the loss gets a zero gradient.
 */
export function appendGradients(
  graph: Graph,
  loss: Tensor,
  params: readonly Tensor[],
  options: GradientOptions = {},
): Map<string, Tensor> {
  const rules = options.rules ?? RULES;
  const seed = options.seed;
  if (seed && (seed.dtype !== loss.dtype || seed.rank !== loss.rank))
    throw new AutodiffError('AUTODIFF_BAD_LOSS', `seed ${seed.toString()} does not fit ${loss.toString()}`);
  if (!isFloat(loss.dtype) || (!seed && loss.shape.some((d) => d !== 1)))
    throw new AutodiffError('AUTODIFF_BAD_LOSS', `loss must be a float scalar, got ${loss.toString()}`);
  for (const p of params)
    if (p.graph !== graph || !isFloat(p.dtype))
      throw new AutodiffError('AUTODIFF_BAD_PARAM', `cannot differentiate with respect to ${p.toString()}`);

  const reach = reachableFrom(graph, params);
  const grads = new Map<Tensor, Tensor>();
  const accumulate = (x: Tensor, g: Tensor) => {
    const shaped = unbroadcast(g, x);
    const clash = shaped.shape.some(
      (d, i) => typeof d === 'number' && typeof x.shape[i] === 'number' && d !== x.shape[i],
    );
    if (shaped.rank !== x.rank || clash)
      throw new AutodiffError(
        'AUTODIFF_UNSUPPORTED',
        `gradient ${formatShape(shaped.shape)} does not fit ${x.toString()}`,
      );
    const prev = grads.get(x);
    grads.set(x, prev ? op.add(prev, shaped) : shaped);
  };
  grads.set(loss, seed ?? graph.constant(loss.dtype, [1], loss.shape as number[]));

  const nodes = graph.nodes.slice(0, graph.nodes.findIndex((n) => n.outputs.includes(loss)) + 1);
  for (let k = nodes.length - 1; k >= 0; k--) {
    const node: Node = nodes[k];
    const outGrads = node.outputs.map((o) => grads.get(o));
    if (!outGrads.some(Boolean)) continue;
    const wanted = node.inputs.map((i) => !!i && reach.has(i));
    if (!wanted.some(Boolean)) continue;
    if (outGrads.slice(1).some(Boolean) && !MULTI_OUTPUT_RULES.has(node.op))
      throw new AutodiffError(
        'AUTODIFF_UNSUPPORTED',
        `${node.op} ${node.name}: gradients of several outputs`,
      );
    const rule = rules[node.op];
    if (!rule)
      throw new AutodiffError('AUTODIFF_NO_RULE', `no gradient rule for op ${node.op} (node ${node.name})`);
    const ctx: GradContext = { graph, needs: (i) => wanted[i], outputGrad: (i) => outGrads[i] };
    const inGrads = rule(ctx, node, outGrads[0] ?? zerosLike(node.outputs[0]));
    node.inputs.forEach((x, i) => {
      const g = inGrads[i];
      if (x && wanted[i] && g) accumulate(x, g);
    });
  }
  return new Map(params.map((p) => [p.name, grads.get(p) ?? zerosLike(p)]));
}
