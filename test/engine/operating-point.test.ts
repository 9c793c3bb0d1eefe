import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Tokenizer } from '../../src/data/tokenizer/index.ts';
import type { Engine } from '../../src/engine/index.ts';
import { OPERATING_POINT_FILE, OPERATING_POINT_FORMAT } from '../../src/inference/operating-point.ts';
import type { Weights } from '../../src/model/vlm/index.ts';
import { startTestEngine, type TempRegistry, tempRegistry, testPng } from './helpers.ts';

/**
 * A model whose every next token is "yes" with P(yes) / (P(yes) + P(no)) = 0.8, whatever it sees: the
 * decoder's final layer norm outputs a constant (gain 0, bias 1), and the tied LM head gives "yes" and
 * "no" logits 8 and 8 − ln 4, every other token 0.
 */
function yesAtPoint8(w: Weights, tokenizer: Tokenizer): void {
  w['dec.ln_f.weight'].fill(0);
  w['dec.ln_f.bias'].fill(1);
  const wte = w['dec.wte'];
  const d = w['dec.ln_f.bias'].length;
  wte.fill(0);
  wte.fill(8 / d, tokenizer.idOf('yes')! * d, (tokenizer.idOf('yes')! + 1) * d);
  wte.fill((8 - Math.log(4)) / d, tokenizer.idOf('no')! * d, (tokenizer.idOf('no')! + 1) * d);
}

const operatingPoint = (threshold: number) =>
  JSON.stringify({ format: OPERATING_POINT_FORMAT, closed_yes_threshold: threshold });

let reg: TempRegistry;
before(async () => {
  reg = await tempRegistry();
});
after(() => reg.cleanup());

async function firstTokens(engine: Engine): Promise<{ question: string; choice: string }> {
  const ask = async (options?: string[]) =>
    (
      await engine.answer({
        image: testPng(1),
        task: 'vqa',
        question: 'Is there an effusion?',
        options,
        maxTokens: 2,
        topLogprobs: 0,
      })
    ).tokens[0];
  const question = await ask();
  const choice = await ask(['yes', 'no']);
  return { question: `${question.token} ${question.prob.toFixed(3)}`, choice: choice.token };
}

test('the served version answers yes/no questions at its operating point; choice questions keep the argmax', async () => {
  await reg.publish(1, { weights: yesAtPoint8 });
  const plain = await startTestEngine(reg);
  try {
    const { question, choice } = await firstTokens(plain);
    assert.match(question, /^yes /, 'without operating-point.json: the argmax');
    assert.equal(choice, 'yes');
  } finally {
    await plain.close();
  }
  // Threshold 0.9 > 0.8: "no", with the shifted probability 0.2·9 / (0.8 + 0.2·9) of the two, not a forced 1.
  await reg.publish(1, { weights: yesAtPoint8, files: { [OPERATING_POINT_FILE]: operatingPoint(0.9) } });
  const strict = await startTestEngine(reg);
  try {
    const { question, choice } = await firstTokens(strict);
    const shifted = (0.2 * 9) / (0.8 + 0.2 * 9);
    const [token, prob] = question.split(' ');
    assert.equal(token, 'no');
    assert.ok(
      Number(prob) < shifted && Number(prob) > shifted - 0.05,
      `${prob} vs ${shifted} (less the other tokens' mass)`,
    );
    assert.equal(choice, 'yes', 'a question with options is not a yes/no decision of the operating point');
  } finally {
    await strict.close();
  }
  // Threshold 0.7 < 0.8: still "yes".
  await reg.publish(1, { weights: yesAtPoint8, files: { [OPERATING_POINT_FILE]: operatingPoint(0.7) } });
  const loose = await startTestEngine(reg);
  try {
    assert.match((await firstTokens(loose)).question, /^yes /);
  } finally {
    await loose.close();
  }
});
