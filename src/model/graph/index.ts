/**
 * A small typed builder for ONNX graphs (default domain, opset 18), serialised with onnx-proto.
 *
 * Tensors carry dtype and shape; dims are numbers or symbolic names ('batch'). Ops are free functions
 * that infer the output dtype/shape and append one node to the graph their first tensor belongs to.
 * Numbers are accepted as scalar operands of elementwise ops.
 *
 * Parameters are named weights whose values can be set now or later (`setValue`); `toBytes` either bakes
 * them in as initializers (serving) or declares them as graph inputs (training feeds them each step, so
 * one session serves every step without re-serialising).
 *
 * @example
 * ```ts
 * import { Graph, op, toBytes } from './graph/index.ts';
 * import { appendGradients } from './autodiff/index.ts';
 *
 * const g = new Graph('mlp');
 * const x = g.input('x', 'float32', ['batch', 8]);          // (B, 8)
 * const y = g.input('y', 'int64', ['batch', 1]);            // target class per row
 * const w = g.parameter('w', 'float32', [8, 4], weights);  // (8, 4)
 * const logits = op.matmul(x, w);                           // (B, 4)
 * const logp = op.gatherElements(op.logSoftmax(logits, -1), y, 1); // (B, 1)
 * const loss = op.neg(op.reduceMean(logp, { keepdims: false }));   // ()
 * g.output(loss, 'loss');
 * const grads = appendGradients(g, loss, [w]);
 * g.output(grads.get('w')!, 'grad.w');
 * const bytes = toBytes(g, { parametersAs: 'inputs' });     // feed x, y, w; fetch loss, grad.w
 * ```
 */
export { type DType, isFloat, ONNX_DTYPE, type TypedArray, typedArrayFrom } from './dtype.ts';
export { GraphError, type GraphErrorCode } from './errors.ts';
export {
  type Attr,
  attr,
  type ConstantValue,
  Graph,
  type Node,
  type OutputSpec,
  Tensor,
  type TensorKind,
} from './graph.ts';
export * as op from './ops.ts';
export { IR_VERSION, OPSET, type SerializeOptions, toBytes, toModelProto } from './serialize.ts';
export {
  broadcastShapes,
  type Dim,
  formatShape,
  isStatic,
  multiplyDims,
  type Shape,
  sameShape,
  staticSize,
} from './shape.ts';
