import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { importedInstructions, importLabelCsvFile, type UncertainPolicy } from '../data/import/index.ts';
import { splitForPatient } from '../data/splits.ts';
import { Tokenizer } from '../data/tokenizer/index.ts';
import type { Split } from '../data/types.ts';
import { parseCommandArgs, UsageError } from './args.ts';

const HELP = `usage: chexpo import --csv LABELS.csv --images ROOT --out DIR [--uncertain ignore|positive|negative] [--seed S]

Turns a CheXpert / MIMIC-CXR-JPG style label CSV plus its image files into a data set with the same layout
as 'chexpo synth' (cases/<split>.jsonl, instructions/<split>.jsonl, tokenizer.json, manifest.json), so the
trainer and 'chexpo eval' read real data the same way. Images stay where they are (absolute paths).
Patient and study ids are salted hashes; splits are by patient.`;

const SPLITS: Split[] = ['train', 'validation', 'test'];
const POLICIES: UncertainPolicy[] = ['ignore', 'positive', 'negative'];

export async function importCommand(argv: string[]): Promise<void> {
  const { values } = parseCommandArgs(HELP, {
    args: argv,
    options: {
      csv: { type: 'string' },
      images: { type: 'string' },
      out: { type: 'string' },
      uncertain: { type: 'string', default: 'ignore' },
      seed: { type: 'string', default: '1' },
      salt: { type: 'string', default: process.env.CHEXPO_ID_SALT ?? 'chexpo' },
    },
  });
  if (!values.csv || !values.images || !values.out)
    throw new UsageError(`--csv, --images and --out are required\n\n${HELP}`);
  const uncertain = values.uncertain as UncertainPolicy;
  if (!POLICIES.includes(uncertain))
    throw new UsageError(`--uncertain must be one of ${POLICIES.join(', ')}`);
  const summary = await importDataset({
    csvPath: values.csv,
    imageRoot: resolve(values.images),
    outDir: values.out,
    uncertain,
    seed: Number(values.seed),
    salt: values.salt,
  });
  console.log(JSON.stringify(summary, null, 2));
}

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
