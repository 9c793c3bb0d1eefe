/** `chexpo experiment summarize`: several seeds' results.json side by side (src/loop/experiment/seeds-summary.ts). */
import { readFile, writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { type ResultsJsonFile, type SeedRun, seedsSummary } from '../loop/experiment/seeds-summary.ts';
import { parseCommandArgs, UsageError } from './args.ts';

const HELP = `usage: chexpo experiment summarize --runs [LABEL=]RESULTS_JSON,… [--out FILE]

Prints each arm's relative gain over SFT and over continued SFT per seed, the safety metrics, the
issue's targets for the full loop per seed and the preference-accuracy trend (markdown).
A run's label is LABEL, else "seed N" from the file's seed field, else the file name.`;

export async function summarizeCommand(argv: string[]): Promise<void> {
  const { values } = parseCommandArgs(
    HELP,
    { args: argv, options: { runs: { type: 'string' }, out: { type: 'string' } } },
    ['runs'],
  );
  const runs: SeedRun[] = [];
  for (const spec of (values.runs ?? '').split(',').filter((s) => s.length > 0)) {
    const at = spec.indexOf('=');
    const path = at >= 0 ? spec.slice(at + 1) : spec;
    let results: ResultsJsonFile;
    try {
      results = JSON.parse(await readFile(resolve(path), 'utf8')) as ResultsJsonFile;
    } catch (error) {
      throw new UsageError(`cannot read ${path} as a results.json: ${(error as Error).message}`);
    }
    if (!Array.isArray(results.arms)) throw new UsageError(`${path} has no "arms" list: not a results.json`);
    const label =
      at >= 0 ? spec.slice(0, at) : results.seed !== undefined ? `seed ${results.seed}` : basename(path);
    runs.push({ label, results });
  }
  if (runs.length === 0) throw new UsageError(`--runs names no file\n\n${HELP}`);
  const text = `${seedsSummary(runs)}\n`;
  if (values.out) await writeFile(resolve(values.out), text);
  process.stdout.write(text);
}
