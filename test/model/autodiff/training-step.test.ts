import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../../src/data/random.ts';
import { appendGradients } from '../../../src/model/autodiff/index.ts';
import { Graph, op, toBytes } from '../../../src/model/graph/index.ts';
import { OrtSession, ortTensor } from '../../../src/model/ort/session.ts';

test('the documented example trains: one session, weights fed each step, loss goes down', async () => {
  const rng = Rng.derive(1, 'training-step');
  const g = new Graph('mlp');
  const x = g.input('x', 'float32', ['batch', 8]);
  const y = g.input('y', 'int64', ['batch', 1]);
  const w = g.parameter('w', 'float32', [8, 4]);
  const logits = op.matmul(x, w); // (B, 4)
  const logp = op.gatherElements(op.logSoftmax(logits, -1), y, 1); // (B, 1)
  const loss = op.neg(op.reduceMean(logp, { keepdims: false })); // ()
  g.output(loss, 'loss');
  const grads = appendGradients(g, loss, [w]);
  g.output(grads.get('w')!, 'grad.w');
  const session = await OrtSession.create(toBytes(g, { parametersAs: 'inputs' }));

  // A separable task: the class is the argmax of the first four features.
  const batch = 32;
  const xs = Float32Array.from({ length: batch * 8 }, () => rng.normal());
  const ys = BigInt64Array.from({ length: batch }, (_, b) => {
    const row = Array.from(xs.subarray(b * 8, b * 8 + 4));
    return BigInt(row.indexOf(Math.max(...row)));
  });
  const weights = new Float32Array(32);
  const losses: number[] = [];
  for (let step = 0; step < 30; step++) {
    const out = await session.run({
      x: ortTensor('float32', xs, [batch, 8]),
      y: ortTensor('int64', ys, [batch, 1]),
      w: ortTensor('float32', weights, [8, 4]),
    });
    losses.push((out.loss.data as Float32Array)[0]);
    const grad = out['grad.w'].data as Float32Array;
    for (let i = 0; i < weights.length; i++) weights[i] -= 0.5 * grad[i];
  }
  assert.ok(Math.abs(losses[0] - Math.log(4)) < 1e-5, `initial loss ${losses[0]}`);
  assert.ok(losses[29] < 0.5 * losses[0], `loss ${losses[0]} → ${losses[29]}`);
});
