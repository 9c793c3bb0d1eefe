import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodePng8 } from '../../../src/data/image/encode.ts';
import { Rng } from '../../../src/data/random.ts';
import { Tokenizer } from '../../../src/data/tokenizer/index.ts';
import type { ImageRef, PairCandidate } from '../../../src/loop/types.ts';
import { TEST_TINY, type VlmConfig } from '../../../src/model/vlm/config.ts';
import { writeVersion } from '../../../src/model/vlm/version.ts';
import { initWeights } from '../../../src/model/vlm/weights.ts';

export const QUESTION = 'is there an effusion ?';
export const YES = 'yes . the angle is blunted .';
export const NO = 'no . the angle is sharp .';

/** Cases c0…c(n-1); even cases have the effusion (answer yes), odd ones do not. */
export function closedPairs(n: number): PairCandidate[] {
  return Array.from({ length: n }, (_, i) => {
    const present = i % 2 === 0;
    const ref: ImageRef = { kind: 'case', case_id: `c${i}` };
    return {
      prompt: QUESTION,
      chosen: present ? YES : NO,
      rejected: present ? NO : YES,
      kind: 'negation',
      weight: 1,
      chosenImage: ref,
      rejectedImage: ref,
      provenance: {
        sample_id: `c${i}/closed/0`,
        case_id: `c${i}`,
        task: 'closed',
        finding: 'pleural_effusion',
        reason: 'wrong',
        generator: 'test',
        seed: i,
      },
    };
  });
}

/**
 * A model input per case that says whether the effusion is there: a bright lower band for even
 * (present) cases, plus seeded noise so no two images are equal.
 */
export function caseImage(config: VlmConfig, caseId: string): Float32Array {
  const index = Number(caseId.slice(1));
  const rng = Rng.derive(index, 'dpo-test-image');
  const s = config.imageSize;
  return Float32Array.from({ length: s * s }, (_, p) => {
    const lower = Math.floor(p / s) >= s / 2;
    return (index % 2 === 0 && lower ? 1.5 : -0.5) + rng.normal(0, 0.3);
  });
}

export function testTokenizer(): Tokenizer {
  return Tokenizer.build([QUESTION, YES, NO, 'a very long answer that does not fit']);
}

/** A TEST_TINY version directory with random weights (and a stray calibrator a DPO run must not copy). */
export async function writeBaseVersion(dir: string, seed = 3): Promise<VlmConfig> {
  const tokenizer = testTokenizer();
  const config: VlmConfig = { ...TEST_TINY, vocabSize: tokenizer.vocabSize };
  await writeVersion(dir, {
    config,
    weights: initWeights(config, seed),
    tokenizer,
    modelCard: '# test base\n',
  });
  await writeFile(join(dir, 'calibrator.json'), '{"kind":"test"}\n');
  return config;
}

/** A data set directory (cases/train.jsonl + 8-bit PNGs) whose case c<i> has the test image pattern. */
export async function writeDataSet(dir: string, cases: number, size: number): Promise<void> {
  await mkdir(join(dir, 'cases'), { recursive: true });
  await mkdir(join(dir, 'images'), { recursive: true });
  const rows: string[] = [];
  for (let i = 0; i < cases; i++) {
    const data = new Uint16Array(size * size);
    for (let p = 0; p < data.length; p++)
      data[p] = i % 2 === 0 && Math.floor(p / size) >= size / 2 ? 220 : 40 + ((p * 7 + i) % 30);
    const file = `images/c${i}.png`;
    await writeFile(join(dir, file), encodePng8({ width: size, height: size, bitsStored: 8, data }));
    rows.push(JSON.stringify({ id: `c${i}`, images: { png16: file } }));
  }
  await writeFile(join(dir, 'cases', 'train.jsonl'), `${rows.join('\n')}\n`);
}
