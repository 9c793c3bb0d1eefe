import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type AutodiffError,
  appendGradients,
  type GradRule,
  RULES,
} from '../../../src/model/autodiff/index.ts';
import { Graph, op, type Tensor } from '../../../src/model/graph/index.ts';
import { CASES } from './cases.ts';
import { checkGradients, type GradCase } from './gradcheck.ts';

/** x (B,T,C) → layer norm → Linear → tanh-GELU → Linear → log-softmax → target log-prob → mean NLL. */
const MLP: GradCase = {
  name: 'MLP with layer norm and softmax cross-entropy',
  inputs: [
    { name: 'x', shape: [2, 3, 6] },
    { name: 'gamma', shape: [6], sample: (r) => r.uniform(0.5, 1.5) },
    { name: 'beta', shape: [6] },
    { name: 'w1', shape: [6, 8] },
    { name: 'b1', shape: [8] },
    { name: 'w2', shape: [8, 5] },
    { name: 'b2', shape: [5] },
    { name: 'target', shape: [2, 3, 1], kind: 'int64', sample: (r) => r.int(0, 4) },
  ],
  build: (_g, v) => {
    const mean = op.reduceMean(v.x, { axes: [-1] }); // (B,T,1)
    const xc = op.sub(v.x, mean);
    const variance = op.reduceMean(op.mul(xc, xc), { axes: [-1] });
    const xn = op.div(xc, op.sqrt(op.add(variance, 1e-5)));
    const h = op.add(op.mul(xn, v.gamma), v.beta); // (B,T,C)
    const z = op.add(op.matmul(h, v.w1), v.b1); // (B,T,H)
    const inner = op.mul(op.add(z, op.mul(op.pow(z, 3), 0.044715)), Math.sqrt(2 / Math.PI));
    const gelu = op.mul(op.mul(z, 0.5), op.add(op.tanh(inner), 1));
    const logits = op.add(op.matmul(gelu, v.w2), v.b2); // (B,T,V)
    const picked = op.gatherElements(op.logSoftmax(logits, -1), v.target, 2); // (B,T,1)
    return op.neg(op.reduceMean(picked, { keepdims: false })); // ()
  },
};

test('a 2-layer MLP with layer norm and cross-entropy has the finite-difference gradient', async () => {
  const report = await checkGradients(MLP, { coords: 5 });
  assert.deepEqual(report.failures, []);
  assert.equal(report.checked, 35);
});

/** Causal multi-head self-attention, the decoder's core: (B,T,C) with 2 heads of 3. */
const ATTENTION: GradCase = {
  name: 'causal self-attention',
  inputs: [
    { name: 'x', shape: [2, 4, 6] },
    { name: 'wq', shape: [6, 6] },
    { name: 'wk', shape: [6, 6] },
    { name: 'wv', shape: [6, 6] },
  ],
  build: (g, v) => {
    const heads = (t: Tensor) => op.transpose(op.reshape(t, [0, 0, 2, 3]), [0, 2, 1, 3]); // (B,H,T,D)
    const q = heads(op.matmul(v.x, v.wq));
    const k = heads(op.matmul(v.x, v.wk));
    const val = heads(op.matmul(v.x, v.wv));
    const scores = op.mul(op.matmul(q, op.transpose(k, [0, 1, 3, 2])), 1 / Math.sqrt(3)); // (B,H,T,T)
    const causal = Uint8Array.from({ length: 16 }, (_, i) => (i % 4 <= Math.floor(i / 4) ? 1 : 0));
    const mask = g.initializer('causal', 'bool', [4, 4], causal);
    const p = op.softmax(op.where(mask, scores, -1e9), -1);
    return op.reshape(op.transpose(op.matmul(p, val), [0, 2, 1, 3]), [0, 0, 6]); // (B,T,C)
  },
};

test('causal self-attention has the finite-difference gradient', async () => {
  const report = await checkGradients(ATTENTION, { coords: 8 });
  assert.deepEqual(report.failures, []);
  assert.equal(report.checked, 32);
});

test('a deliberately wrong rule is caught by the checker', async () => {
  const flippedMul: GradRule = (c, n, dy) => RULES.Mul(c, n, dy).map((g) => g && op.neg(g));
  const droppedSoftmaxTerm: GradRule = (_c, n, dy) => [op.mul(n.outputs[0], dy)];
  const mulCase = CASES.find((c) => c.name === 'Mul broadcast')!;
  const softmaxCase = CASES.find((c) => c.name === 'Softmax last axis')!;
  const wrongMul = await checkGradients(mulCase, { rules: { ...RULES, Mul: flippedMul } });
  const wrongSoftmax = await checkGradients(softmaxCase, {
    rules: { ...RULES, Softmax: droppedSoftmaxTerm },
  });
  const wrongInMlp = await checkGradients(MLP, { rules: { ...RULES, Mul: flippedMul } });
  assert.equal(wrongMul.failures.length, wrongMul.checked);
  assert.ok(wrongSoftmax.failures.length > 0);
  assert.ok(wrongInMlp.failures.length > 0);
  // The same cases pass with the real table, so the failures come from the planted errors.
  assert.deepEqual((await checkGradients(mulCase)).failures, []);
  assert.deepEqual((await checkGradients(softmaxCase)).failures, []);
});

test('an op without a rule throws a coded error naming the op', () => {
  const g = new Graph();
  const x = g.input('x', 'float32', [3]);
  const [y] = g.node('Sin', [x], [{ dtype: 'float32', shape: [3] }]);
  const loss = op.reduceSum(y, { keepdims: false });
  assert.throws(
    () => appendGradients(g, loss, [x]),
    (e: AutodiffError) => e.code === 'AUTODIFF_NO_RULE' && /Sin/.test(e.message),
  );
  assert.throws(
    () => appendGradients(g, y, [x]),
    (e: AutodiffError) => e.code === 'AUTODIFF_BAD_LOSS',
  );
});

test('only nodes between the parameters and the loss are differentiated; unused parameters get zeros', () => {
  const g = new Graph();
  const x = g.input('x', 'float32', ['batch', 'seq', 16]);
  const w = g.parameter('w', 'float32', [16, 32]);
  const unused = g.parameter('unused', 'float32', [4]);
  const side = op.exp(op.matmul(x, w)); // not on the loss path
  g.output(side, 'side');
  const loss = op.reduceMean(op.matmul(x, w), { keepdims: false });
  const before = g.nodes.length;
  const grads = appendGradients(g, loss, [w, unused]);
  const added = g.nodes.slice(before).map((n) => n.op);
  assert.deepEqual(grads.get('w')!.shape, [16, 32]);
  assert.deepEqual(grads.get('unused')!.shape, [4]);
  // dW of a shared weight is one GEMM over the flattened batch, with no Transpose node and no Exp rule.
  assert.equal(added.filter((o) => o === 'Gemm').length, 1);
  assert.ok(
    !added.includes('Transpose') && !added.includes('MatMul') && !added.includes('Exp'),
    added.join(),
  );
});

test('a tensor used twice accumulates both contributions', () => {
  const g = new Graph();
  const x = g.parameter('x', 'float64', [2]);
  const loss = op.reduceSum(op.add(x, x), { keepdims: false });
  const before = g.nodes.length;
  const grad: Tensor = appendGradients(g, loss, [x]).get('x')!;
  assert.equal(g.producer(grad)?.op, 'Add');
  assert.ok(g.nodes.length > before);
});
