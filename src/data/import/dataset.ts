/**
 * A CheXpert / MIMIC-CXR-JPG label CSV and its images as a data set in the layout of `chexpo synth`
 * (cases/<split>.jsonl, instructions/<split>.jsonl, tokenizer.json, manifest.json); `chexpo import`
 * runs it. Images stay where they are (absolute paths); splits are by patient.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { splitForPatient } from '../splits.ts';
import { Tokenizer } from '../tokenizer/index.ts';
import type { Split } from '../types.ts';
import { importedInstructions, importLabelCsvFile, type UncertainPolicy } from './chexpert.ts';

const SPLITS: Split[] = ['train', 'validation', 'test'];

export interface ImportDatasetOptions {
  csvPath: string;
  imageRoot: string;
  outDir: string;
  uncertain: UncertainPolicy;
  seed: number;
  salt: string;
}

export async function importDataset(o: ImportDatasetOptions) {
  const records = await importLabelCsvFile(o.csvPath, {
    imageRoot: o.imageRoot,
    uncertain: o.uncertain,
    salt: o.salt,
  });
  await mkdir(join(o.outDir, 'cases'), { recursive: true });
  await mkdir(join(o.outDir, 'instructions'), { recursive: true });
  const cases: Record<Split, string[]> = { train: [], validation: [], test: [] };
  const samples: Record<Split, string[]> = { train: [], validation: [], test: [] };
  const trainTexts: string[] = [];
  for (const record of records) {
    const split = splitForPatient(record.patientId);
    const row = { ...record.case, patient_id: record.patientId, split, images: { source: record.imagePath } };
    cases[split].push(JSON.stringify(row));
    for (const s of importedInstructions([record], o.seed)) {
      samples[split].push(JSON.stringify({ ...s, split }));
      if (split === 'train') trainTexts.push(s.question, s.target_text);
    }
  }
  for (const split of SPLITS) {
    await writeFile(join(o.outDir, 'cases', `${split}.jsonl`), cases[split].map((l) => `${l}\n`).join(''));
    await writeFile(
      join(o.outDir, 'instructions', `${split}.jsonl`),
      samples[split].map((l) => `${l}\n`).join(''),
    );
  }
  const tokenizer = Tokenizer.build(trainTexts);
  await writeFile(join(o.outDir, 'tokenizer.json'), `${JSON.stringify(tokenizer.toJSON())}\n`);
  const summary = {
    generator: 'chexpo import',
    uncertain: o.uncertain,
    seed: o.seed,
    cases: Object.fromEntries(SPLITS.map((s) => [s, cases[s].length])),
    samples: Object.fromEntries(SPLITS.map((s) => [s, samples[s].length])),
    unmappedPositive: records.reduce((n, r) => n + r.unmappedPositive.length, 0),
  };
  await writeFile(join(o.outDir, 'manifest.json'), `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}
