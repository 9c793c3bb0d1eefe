/** Stable codes for graph-building failures; the message names the op and the offending shapes. */
export type GraphErrorCode =
  | 'GRAPH_SHAPE_MISMATCH'
  | 'GRAPH_DTYPE_MISMATCH'
  | 'GRAPH_BAD_ARGUMENT'
  | 'GRAPH_DUPLICATE_NAME'
  | 'GRAPH_FOREIGN_TENSOR'
  | 'GRAPH_MISSING_VALUE'
  | 'GRAPH_BAD_EXTERNAL';

export class GraphError extends Error {
  readonly code: GraphErrorCode;

  constructor(code: GraphErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.name = 'GraphError';
    this.code = code;
  }
}
