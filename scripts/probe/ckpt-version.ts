// Scratch (not committed): a version directory from a training checkpoint, to evaluate mid-run.
import { readFileSync } from 'node:fs';
import { Tokenizer } from '../../src/data/tokenizer/index.ts';
import { loadCheckpoint } from '../../src/model/train/checkpoint.ts';
import { writeVersion } from '../../src/model/vlm/version.ts';
const [ckpt, data, out] = process.argv.slice(2);
const c = await loadCheckpoint(ckpt);
const tokenizer = Tokenizer.fromJSON(JSON.parse(readFileSync(`${data}/tokenizer.json`, 'utf8')));
const config = (c.meta as { config: never }).config;
await writeVersion(out, { config, weights: c.params, tokenizer, modelCard: '# checkpoint probe\n' });
