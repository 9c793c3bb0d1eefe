import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Graph, type GraphError, op, toBytes } from '../../../src/model/graph/index.ts';
import { type OrtError, OrtSession, ortTensor } from '../../../src/model/ort/session.ts';

test('a small graph with symbolic batch runs in onnxruntime and matches a JS reference', async () => {
  const g = new Graph('smoke');
  const x = g.input('x', 'float32', ['batch', 3]);
  const w = g.parameter('w', 'float32', [3, 2], Float32Array.from([1, 2, 3, 4, 5, 6]));
  const h = op.add(op.matmul(x, w), 1); // (batch, 2)
  assert.deepEqual(h.shape, ['batch', 2]);
  const p = op.softmax(h, -1);
  const s = op.reduceSum(p, { axes: [1], keepdims: false });
  assert.deepEqual(s.shape, ['batch']);
  g.output(h, 'h');
  g.output(s, 's');
  const session = await OrtSession.create(toBytes(g));
  const out = await session.run({ x: ortTensor('float32', Float32Array.from([1, 0, 0, 0, 1, 1]), [2, 3]) });
  assert.deepEqual(Array.from(out.h.data as Float32Array), [2, 3, 9, 11]);
  for (const v of out.s.data as Float32Array) assert.ok(Math.abs(v - 1) < 1e-6);
  assert.deepEqual(out.h.dims, [2, 2]);
});

test('parameters become graph inputs for training and weights can be swapped without rebuilding', async () => {
  const g = new Graph();
  const x = g.input('x', 'float64', [2]);
  const w = g.parameter('w', 'float64', [2]);
  g.output(op.mul(x, w), 'y');
  assert.throws(
    () => toBytes(g),
    (e: GraphError) => e.code === 'GRAPH_MISSING_VALUE',
  );
  const session = await OrtSession.create(toBytes(g, { parametersAs: 'inputs' }));
  assert.deepEqual([...session.inputNames].sort(), ['w', 'x']);
  const x64 = ortTensor('float64', Float64Array.from([2, 3]), [2]);
  const a = await session.run({ x: x64, w: ortTensor('float64', Float64Array.from([1, 1]), [2]) });
  const b = await session.run({ x: x64, w: ortTensor('float64', Float64Array.from([0.5, -1]), [2]) });
  assert.deepEqual(Array.from(a.y.data as Float64Array), [2, 3]);
  assert.deepEqual(Array.from(b.y.data as Float64Array), [1, -3]);
  g.setValue('w', Float64Array.from([10, 10]));
  const baked = await OrtSession.create(toBytes(g));
  assert.deepEqual(baked.inputNames, ['x']);
  assert.deepEqual(Array.from((await baked.run({ x: x64 })).y.data as Float64Array), [20, 30]);
});

test('shape ops infer shapes that onnxruntime agrees with', async () => {
  const g = new Graph();
  const x = g.input('x', 'float32', [2, 3, 4]);
  const idx = g.input('idx', 'int64', [5]);
  const outs = {
    reshape: op.reshape(x, [0, -1]),
    transpose: op.transpose(x, [2, 0, 1]),
    concat: op.concat([x, x], 1),
    slice: op.slice(x, { starts: [1, -3], ends: [100, -1], axes: [1, 2] }),
    unsq: op.unsqueeze(x, [0, -1]),
    sq: op.squeeze(op.unsqueeze(x, [1]), [1]),
    expand: op.expand(op.reduceMax(x, { axes: [2] }), [2, 3, 4]),
    gather: op.gather(x, idx, 2),
    mean: op.reduceMean(x, { axes: [0, 2], keepdims: false }),
    cast: op.cast(op.less(x, 0.5), 'float32'),
    where: op.where(op.greater(x, 0), x, 0),
    shape: op.shapeOf(x),
    split0: op.split(x, 2, [1, 3])[1],
    gemm: op.gemm(op.reshape(x, [6, 4]), op.reshape(x, [6, 4]), { transA: true }),
    pad: op.pad(x, [0, 1, 0, 0, 2, 1]),
  };
  for (const [name, t] of Object.entries(outs)) g.output(t, name);
  const session = await OrtSession.create(toBytes(g));
  const data = Float32Array.from({ length: 24 }, (_, i) => i / 10 - 1);
  const res = await session.run({
    x: ortTensor('float32', data, [2, 3, 4]),
    idx: ortTensor('int64', BigInt64Array.from([0n, 3n, 1n, 1n, -1n]), [5]),
  });
  for (const [name, t] of Object.entries(outs)) assert.deepEqual(res[t.name].dims, t.shape, name);
  assert.deepEqual(Array.from(res.shape.data as BigInt64Array), [2n, 3n, 4n]);
});

test('shape errors are coded and name the op', () => {
  const g = new Graph();
  const a = g.input('a', 'float32', [2, 3]);
  const b = g.input('b', 'float32', [4, 5]);
  assert.throws(
    () => op.matmul(a, b),
    (e: GraphError) => e.code === 'GRAPH_SHAPE_MISMATCH' && /MatMul/.test(e.message),
  );
  assert.throws(
    () => op.add(a, b),
    (e: GraphError) => e.code === 'GRAPH_SHAPE_MISMATCH',
  );
  assert.throws(
    () => op.reshape(a, [4, 2]),
    (e: GraphError) => e.code === 'GRAPH_SHAPE_MISMATCH',
  );
  assert.throws(
    () => g.input('a', 'float32', [1]),
    (e: GraphError) => e.code === 'GRAPH_DUPLICATE_NAME',
  );
});

test('symbolic dims carry through reshape as products', () => {
  const g = new Graph();
  const x = g.input('x', 'float32', ['batch', 'seq', 8]);
  const flat = op.reshape(x, [-1, 8]);
  assert.deepEqual(flat.shape, ['batch*seq', 8]);
  assert.deepEqual(op.reshape(flat, [-1, 4, 2]).shape, ['batch*seq', 4, 2]);
  assert.deepEqual(op.matmul(x, g.parameter('w', 'float32', [8, 16])).shape, ['batch', 'seq', 16]);
});

test('the session wrapper reports every missing input at once and describes inputs on failure', async () => {
  const g = new Graph();
  const a = g.input('a', 'float32', ['n']);
  const b = g.input('b', 'float32', ['n']);
  const c = g.input('c', 'float32', ['n']);
  g.output(op.add(op.add(a, b), c), 'sum');
  const s = await OrtSession.create(toBytes(g), { logSeverity: 4 });
  await assert.rejects(
    s.run({ a: ortTensor('float32', new Float32Array(2), [2]) }),
    (e: OrtError) => e.code === 'ORT_MISSING_INPUTS' && /b, c/.test(e.message),
  );
  const t = (n: number) => ortTensor('float32', new Float32Array(n), [n]);
  await assert.rejects(
    s.run({ a: t(2), b: t(3), c: t(2) }),
    (e: OrtError) => e.code === 'ORT_RUN_FAILED' && /b: float32\[3\]/.test(e.message),
  );
  await assert.rejects(
    OrtSession.create(new Uint8Array([1, 2, 3])),
    (e: OrtError) => e.code === 'ORT_CREATE_FAILED',
  );
});

test('outputs are renamed in place, small constants are shared, unused initializers are dropped', async () => {
  const g = new Graph();
  const x = g.input('x', 'float64', [2]);
  const y = op.mul(op.add(x, 1), 1);
  g.output(y, 'y');
  g.output(x, 'x_again'); // an input cannot be renamed: an Identity is added
  g.constant('float64', [5, 6, 7]); // never used
  assert.equal(y.name, 'y');
  assert.equal(g.nodes.filter((n) => n.op === 'Identity').length, 1);
  assert.equal(new Set(g.nodes.flatMap((n) => n.inputs.map((i) => i?.name))).size, 3); // x, const 1, add out
  const s = await OrtSession.create(toBytes(g));
  const out = await s.run({ x: ortTensor('float64', Float64Array.from([1, 2]), [2]) });
  assert.deepEqual(Array.from(out.y.data as Float64Array), [2, 3]);
  assert.deepEqual(Array.from(out.x_again.data as Float64Array), [1, 2]);
});
