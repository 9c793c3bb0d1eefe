/**
 * Reverse-mode autodiff on ONNX graphs, made only of default-domain ops.
 *
 * `appendGradients(graph, loss, params)` appends the nodes computing dLoss/dParam and returns them by
 * parameter name; mark them as outputs to fetch them. Rules live in one table (`rules.ts`: op → one
 * gradient per input); one walker (`backward.ts`) visits only nodes between the parameters and the loss,
 * un-broadcasts in one place and accumulates fan-out by addition. An op without a rule throws
 * AutodiffError 'AUTODIFF_NO_RULE'. `options.seed` gives a vector-Jacobian product for a non-scalar
 * output; `options.rules` swaps the table (tests plant wrong rules to prove the checker catches them).
 *
 * @example
 * ```ts
 * const grads = appendGradients(g, loss, g.parameters);
 * for (const [name, grad] of grads) g.output(grad, `grad.${name}`);
 * const session = await OrtSession.create(toBytes(g, { parametersAs: 'inputs' }));
 * ```
 */
export { appendGradients, type GradientOptions } from './backward.ts';
export type { GradContext, GradRule } from './context.ts';
export { AutodiffError, type AutodiffErrorCode } from './errors.ts';
export { MULTI_OUTPUT_RULES, RULES } from './rules.ts';
