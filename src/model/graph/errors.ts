/** Stable codes for graph-building failures; the message names the op and the offending shapes. */
import { defineErrors } from '../../errors/define.ts';

const BUG = 'a bug in the model code that builds the graph: the message names the op';

export class GraphError extends defineErrors('GraphError', {
  GRAPH_SHAPE_MISMATCH: { when: `Operands whose shapes do not fit the op (${BUG} and shapes).` },
  GRAPH_DTYPE_MISMATCH: { when: `Operands of different dtypes (${BUG} and tensors).` },
  GRAPH_BAD_ARGUMENT: {
    when: `An op argument out of range (axis, perm, operand rank, a float16 constant not given as bits; ${BUG}).`,
  },
  GRAPH_DUPLICATE_NAME: { when: 'Two tensors of one graph share a name (a bug in the model code).' },
  GRAPH_FOREIGN_TENSOR: { when: 'A tensor of another graph used as an operand (a bug in the model code).' },
  GRAPH_MISSING_VALUE: {
    when: "A parameter serialised as an initializer has no value: set it, or serialise with `parametersAs: 'inputs'`.",
  },
  GRAPH_BAD_EXTERNAL: {
    when: "An external-data range whose length differs from the tensor's bytes (a bug in the weights writer).",
  },
}) {}
export type GraphErrorCode = GraphError['code'];
