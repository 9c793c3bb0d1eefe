/**
 * Reverse-mode autodiff on ONNX graphs: `appendGradients(graph, loss, params)` appends standard-op
 * nodes computing dLoss/dParam. Rules live in one table (`rules.ts`); one walker (`backward.ts`).
 */
export { appendGradients, type GradientOptions } from './backward.ts';
export type { GradContext, GradRule } from './context.ts';
export { AutodiffError, type AutodiffErrorCode } from './errors.ts';
export { MULTI_OUTPUT_RULES, RULES } from './rules.ts';
