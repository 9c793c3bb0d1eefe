/** Gradient-check cases: one or more per rule in the table. */
import { op } from '../../../src/model/graph/index.ts';
import { FLOAT32_TOLERANCE, type GradCase } from './gradcheck.ts';

const positive = { sample: (r: { uniform(a: number, b: number): number }) => r.uniform(0.5, 2) };
/** Away from Relu's kink and from exact ties. */
const offZero = {
  sample: (r: { uniform(a: number, b: number): number }) =>
    r.uniform(0.1, 1.5) * (r.uniform(0, 1) < 0.5 ? -1 : 1),
};
const f = (name: string, shape: number[], extra = {}) => ({ name, shape, ...extra });
const ints = (name: string, shape: number[], lo: number, hi: number) => ({
  name,
  shape,
  kind: 'int64' as const,
  sample: (r: { int(a: number, b: number): number }) => r.int(lo, hi),
});

/** Every rule in the table, in float64 unless ORT's CPU kernel lacks double (stated per case). */
export const CASES: GradCase[] = [
  { name: 'Add broadcast', inputs: [f('a', [2, 3, 4]), f('b', [4])], build: (_g, x) => op.add(x.a, x.b) },
  {
    name: 'Add inner broadcast',
    inputs: [f('a', [2, 3, 4]), f('b', [3, 1])],
    build: (_g, x) => op.add(x.a, x.b),
  },
  { name: 'Sub broadcast', inputs: [f('a', [3, 1]), f('b', [2, 1, 4])], build: (_g, x) => op.sub(x.a, x.b) },
  {
    name: 'Mul broadcast',
    inputs: [f('a', [2, 3, 4]), f('b', [1, 3, 1])],
    build: (_g, x) => op.mul(x.a, x.b),
  },
  { name: 'Div', inputs: [f('a', [2, 3]), f('b', [3], positive)], build: (_g, x) => op.div(x.a, x.b) },
  { name: 'Neg', inputs: [f('x', [2, 3])], build: (_g, x) => op.neg(x.x) },
  { name: 'Exp', inputs: [f('x', [2, 3])], build: (_g, x) => op.exp(x.x) },
  { name: 'Log', inputs: [f('x', [2, 3], positive)], build: (_g, x) => op.log(x.x) },
  { name: 'Sqrt', inputs: [f('x', [2, 3], positive)], build: (_g, x) => op.sqrt(x.x) },
  { name: 'Pow 3', inputs: [f('x', [2, 3], positive)], build: (_g, x) => op.pow(x.x, 3) },
  { name: 'Pow 2', inputs: [f('x', [2, 3])], build: (_g, x) => op.pow(x.x, 2) },
  { name: 'Pow -0.5', inputs: [f('x', [2, 3], positive)], build: (_g, x) => op.pow(x.x, -0.5) },
  { name: 'Tanh', inputs: [f('x', [2, 3])], build: (_g, x) => op.tanh(x.x) },
  { name: 'Sigmoid', inputs: [f('x', [2, 3])], build: (_g, x) => op.sigmoid(x.x) },
  { name: 'Relu', inputs: [f('x', [2, 3], offZero)], build: (_g, x) => op.relu(x.x) },
  // ORT's CPU Erf has no double kernel: float32, eps 1e-2, |err| ≤ 2e-3 + 2e-2·|grad|.
  { name: 'Abs', inputs: [f('x', [2, 3], offZero)], build: (_g, x) => op.abs(x.x) },
  { name: 'Softplus', inputs: [f('x', [2, 3])], build: (_g, x) => op.softplus(x.x) },
  {
    name: 'Split, one piece unused',
    inputs: [f('x', [2, 7])],
    coords: 14,
    build: (_g, x) => {
      const [a, , c] = op.split(x.x, 1, [2, 3, 2]);
      return op.mul(a, c);
    },
  },
  { name: 'Erf', dtype: 'float32', inputs: [f('x', [2, 3])], build: (_g, x) => op.erf(x.x) },
  {
    name: 'GELU (erf form)',
    dtype: 'float32',
    inputs: [f('x', [2, 5])],
    build: (_g, x) => op.mul(op.mul(x.x, 0.5), op.add(op.erf(op.mul(x.x, Math.SQRT1_2)), 1)),
  },
  { name: 'Softmax last axis', inputs: [f('x', [2, 3, 4])], build: (_g, x) => op.softmax(x.x, -1) },
  { name: 'Softmax axis 1', inputs: [f('x', [2, 3, 4])], build: (_g, x) => op.softmax(x.x, 1) },
  { name: 'LogSoftmax', inputs: [f('x', [2, 5])], build: (_g, x) => op.logSoftmax(x.x, -1) },
  { name: 'MatMul 2-D', inputs: [f('a', [3, 4]), f('b', [4, 5])], build: (_g, x) => op.matmul(x.a, x.b) },
  {
    name: 'MatMul shared weight (B,T,C)@(C,D)',
    inputs: [f('a', [2, 3, 4]), f('b', [4, 5])],
    build: (_g, x) => op.matmul(x.a, x.b),
  },
  {
    name: 'MatMul batched',
    inputs: [f('a', [2, 3, 4]), f('b', [2, 4, 5])],
    build: (_g, x) => op.matmul(x.a, x.b),
  },
  {
    name: 'MatMul broadcast batch',
    inputs: [f('a', [2, 1, 3, 4]), f('b', [3, 4, 2])],
    build: (_g, x) => op.matmul(x.a, x.b),
  },
  {
    name: 'MatMul symbolic batch',
    inputs: [f('a', [2, 3, 4], { declared: ['batch', 'seq', 4] }), f('b', [4, 5])],
    build: (_g, x) => op.reshape(op.matmul(x.a, x.b), [2, 3, 5]),
  },
  {
    name: 'Gemm transA transB',
    inputs: [f('a', [4, 3]), f('b', [5, 4]), f('c', [5])],
    build: (_g, x) => op.gemm(x.a, x.b, { transA: true, transB: true, c: x.c }),
  },
  { name: 'Gemm plain', inputs: [f('a', [3, 4]), f('b', [4, 5])], build: (_g, x) => op.gemm(x.a, x.b) },
  {
    name: 'ReduceSum axis 1 no keepdims',
    inputs: [f('x', [2, 3, 4])],
    build: (_g, x) => op.reduceSum(x.x, { axes: [1], keepdims: false }),
  },
  { name: 'ReduceSum all', inputs: [f('x', [2, 3])], build: (_g, x) => op.reduceSum(x.x) },
  {
    name: 'ReduceMean axes 0,2',
    inputs: [f('x', [2, 3, 4])],
    build: (_g, x) => op.reduceMean(x.x, { axes: [0, 2], keepdims: true }),
  },
  {
    name: 'ReduceMean symbolic',
    inputs: [f('x', [2, 3], { declared: ['n', 3] })],
    build: (_g, x) => op.reduceMean(x.x, { axes: [0], keepdims: false }),
  },
  {
    name: 'ReduceMax last axis',
    coords: 30,
    inputs: [f('x', [2, 3, 4])],
    build: (_g, x) => op.reduceMax(x.x, { axes: [-1], keepdims: false }),
  },
  { name: 'Reshape', inputs: [f('x', [2, 3, 4])], build: (_g, x) => op.reshape(x.x, [4, -1]) },
  {
    name: 'Reshape symbolic',
    inputs: [f('x', [2, 3, 4], { declared: ['b', 3, 4] })],
    build: (_g, x) => op.reshape(op.reshape(x.x, [-1, 4]), [6, 4]),
  },
  { name: 'Transpose', inputs: [f('x', [2, 3, 4])], build: (_g, x) => op.transpose(x.x, [2, 0, 1]) },
  {
    name: 'Concat axis 1',
    inputs: [f('a', [2, 1, 3]), f('b', [2, 4, 3]), f('c', [2, 2, 3])],
    build: (_g, x) => op.concat([x.a, x.b, x.c], 1),
  },
  {
    name: 'Concat symbolic',
    inputs: [f('a', [2, 3], { declared: ['n', 3] }), f('b', [2, 3], { declared: ['m', 3] })],
    build: (_g, x) => op.reshape(op.concat([x.a, x.b], 0), [4, 3]),
  },
  {
    name: 'Slice',
    coords: 60,
    inputs: [f('x', [3, 5, 4])],
    build: (_g, x) => op.slice(x.x, { starts: [1, -3], ends: [1000, -1], axes: [1, 2] }),
  },
  {
    name: 'Slice symbolic (next-token shift)',
    coords: 30,
    inputs: [f('x', [2, 5, 3], { declared: [2, 'seq', 3] })],
    build: (_g, x) => op.reshape(op.slice(x.x, { starts: [1], ends: [2 ** 62], axes: [1] }), [2, 4, 3]),
  },
  {
    name: 'Slice symbolic, run-time pads on both ends',
    coords: 30,
    inputs: [f('x', [2, 5, 3], { declared: [2, 'seq', 3] })],
    build: (_g, x) => op.reshape(op.slice(x.x, { starts: [-4], ends: [4], axes: [1] }), [2, 3, 3]),
  },
  {
    name: 'Unsqueeze then Squeeze',
    inputs: [f('x', [2, 3])],
    build: (_g, x) => op.mul(op.unsqueeze(x.x, [0, 2]), op.squeeze(op.unsqueeze(x.x, [1]), [1])),
  },
  { name: 'Expand', inputs: [f('x', [3, 1])], build: (_g, x) => op.expand(x.x, [2, 3, 4]) },
  {
    name: 'Where',
    inputs: [
      { name: 'c', shape: [2, 3], kind: 'bool', sample: (r) => (r.next() < 0.5 ? 1 : 0) },
      f('a', [2, 3]),
      f('b', [3]),
    ],
    build: (_g, x) => op.where(x.c, x.a, x.b),
  },
  {
    name: 'Gather embedding (repeated ids)',
    coords: 30,
    inputs: [f('w', [5, 3]), ints('ids', [2, 4], 0, 4)],
    build: (_g, x) => op.gather(x.w, x.ids, 0),
  },
  {
    name: 'Gather axis 1',
    coords: 30,
    inputs: [f('w', [2, 4, 3]), ints('ids', [2, 2], 0, 3)],
    build: (_g, x) => op.gather(x.w, x.ids, 1),
  },
  {
    name: 'Gather scalar index',
    inputs: [f('w', [2, 4, 3])],
    build: (g, x) => op.gather(x.w, g.constant('int64', -1), 1),
  },
  {
    name: 'GatherElements target log-probs',
    coords: 30,
    inputs: [f('x', [2, 3, 5]), ints('t', [2, 3, 1], 0, 4)],
    build: (_g, x) => op.gatherElements(op.logSoftmax(x.x, -1), x.t, 2),
  },
  {
    name: 'Cast through float32',
    tolerance: FLOAT32_TOLERANCE,
    inputs: [f('x', [2, 3])],
    build: (_g, x) => op.cast(op.tanh(op.cast(x.x, 'float32')), 'float64'),
  },
  {
    name: 'Fan-out accumulates',
    inputs: [f('x', [2, 3])],
    build: (_g, x) => op.add(op.mul(x.x, x.x), op.mul(op.exp(x.x), x.x)),
  },
];
