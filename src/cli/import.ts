import { resolve } from 'node:path';
import { importDataset, type UncertainPolicy } from '../data/import/index.ts';
import { parseCommandArgs, UsageError } from './args.ts';

const HELP = `usage: chexpo import --csv LABELS.csv --images ROOT --out DIR [--uncertain ignore|positive|negative] [--seed S]

Turns a CheXpert / MIMIC-CXR-JPG style label CSV plus its image files into a data set with the same layout
as 'chexpo synth' (cases/<split>.jsonl, instructions/<split>.jsonl, tokenizer.json, manifest.json), so the
trainer and 'chexpo eval' read real data the same way. Images stay where they are (absolute paths).
Patient and study ids are salted hashes; splits are by patient.`;

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
