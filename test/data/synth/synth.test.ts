import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import dicomParser from 'dicom-parser';
import { type SynthResult, synthesize } from '../../../src/data/synth/run.ts';
import type { InstructionSample, PhantomCase, Split } from '../../../src/data/types.ts';

const tmp: string[] = [];
async function run(seed: number, cases: number): Promise<{ dir: string; result: SynthResult }> {
  const dir = await mkdtemp(join(tmpdir(), 'chexpo-synth-'));
  tmp.push(dir);
  const result = await synthesize({
    cases,
    seed,
    outDir: dir,
    size: 128,
    formats: ['png16', 'dicom'],
    chunkSize: 7,
  });
  return { dir, result };
}

async function treeDigest(dir: string): Promise<string> {
  const hash = createHash('sha256');
  for (const entry of (await readdir(dir, { recursive: true, withFileTypes: true })).sort((a, b) =>
    join(a.parentPath, a.name).localeCompare(join(b.parentPath, b.name)),
  )) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    hash.update(path.slice(dir.length)).update(await readFile(path));
  }
  return hash.digest('hex');
}

async function readJsonl<T>(path: string): Promise<T[]> {
  const text = await readFile(path, 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);
}

let first: { dir: string; result: SynthResult };
before(async () => {
  first = await run(11, 40);
});
after(async () => {
  await Promise.all(tmp.map((d) => rm(d, { recursive: true, force: true })));
});

test('the same seed writes the same bytes; another seed writes different ones', async () => {
  const again = await run(11, 40);
  const other = await run(12, 40);
  const digest = await treeDigest(first.dir);
  assert.equal(await treeDigest(again.dir), digest);
  assert.notEqual(await treeDigest(other.dir), digest);
});

test('splits are disjoint by patient and every case has its samples in its own split', async () => {
  const splits: Split[] = ['train', 'validation', 'test'];
  const patientsBySplit = new Map<Split, Set<string>>();
  const caseSplit = new Map<string, Split>();
  let total = 0;
  for (const split of splits) {
    const cases = await readJsonl<PhantomCase>(join(first.dir, 'cases', `${split}.jsonl`));
    total += cases.length;
    patientsBySplit.set(split, new Set(cases.map((c) => c.patient_id)));
    for (const c of cases) caseSplit.set(c.id, split);
    const samples = await readJsonl<InstructionSample>(join(first.dir, 'instructions', `${split}.jsonl`));
    for (const s of samples)
      assert.equal(caseSplit.get(s.case_id), split, `sample ${s.id} is in the wrong split`);
  }
  assert.equal(total, 40);
  for (const a of splits)
    for (const b of splits)
      if (a < b) for (const p of patientsBySplit.get(a)!) assert.ok(!patientsBySplit.get(b)!.has(p));
  assert.equal(first.result.summary.cases, 40);
});

test('the summary counts what was written, and DICOM files carry no patient identity', async () => {
  const s = first.result.summary;
  const samples = Object.values(s.samplesBySplit).reduce((a, b) => a + b, 0);
  assert.equal(
    Object.values(s.samplesByTask).reduce((a, b) => a + b, 0),
    samples,
  );
  const dicomFiles = await readdir(join(first.dir, 'dicom'));
  assert.equal(dicomFiles.length, 40);
  const ds = dicomParser.parseDicom(new Uint8Array(await readFile(join(first.dir, 'dicom', dicomFiles[0]))));
  assert.equal(ds.string('x00280004'), 'MONOCHROME2');
  assert.ok(!ds.string('x00100010'), 'PatientName must be empty');
  assert.ok(!ds.string('x00100020'), 'PatientID must be empty');
});
