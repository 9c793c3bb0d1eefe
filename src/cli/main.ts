/**
 * The one `chexpo` command. Each subcommand lives in its own module and is loaded only when used,
 * so `chexpo serve` does not pay for training code and vice versa.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ChexpoError } from '../errors/define.ts';
import { CliExit, UsageError } from './args.ts';

interface Subcommand {
  summary: string;
  run: (argv: string[]) => Promise<void>;
}

const commands: Record<string, Subcommand> = {
  serve: {
    summary: 'serve the current model version over HTTP',
    run: async (argv) => (await import('./serve.ts')).serveCommand(argv),
  },
  synth: {
    summary: 'generate synthetic chest radiographs, labels and instruction samples',
    run: async (argv) => (await import('./synth.ts')).synthCommand(argv),
  },
  train: {
    summary: 'train chexpo-tiny: "chexpo train sft --data DIR --out RUN_DIR"',
    run: async (argv) => (await import('./train.ts')).trainCommand(argv),
  },
  eval: {
    summary: 'evaluate a model version on a data split (task scores, safety metrics, calibration)',
    run: async (argv) => (await import('./eval.ts')).evalCommand(argv),
  },
  release: {
    summary: 'calibrate, evaluate and publish a trained version into a registry',
    run: async (argv) => (await import('./release.ts')).releaseCommand(argv),
  },
  loop: {
    summary: 'one CheXPO round: mine, pair, DPO, evaluate, gate, publish ("chexpo loop run --help")',
    run: async (argv) => (await import('./loop.ts')).loopCommand(argv),
  },
  experiment: {
    summary: "reproduce the paper's ablation table on this project's model (writes docs/results.md)",
    run: async (argv) => (await import('./experiment.ts')).experimentCommand(argv),
  },
  import: {
    summary: 'turn a CheXpert/MIMIC-CXR-JPG label CSV and its images into a chexpo data set',
    run: async (argv) => (await import('./import.ts')).importCommand(argv),
  },
};

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/**
 * The program: `--version`, `--help` and the command list here; each command parses its own options
 * through the same layer (args.ts), so `chexpo <command> --help` is the command's help. Exit
 * codes: 0 done (or help/version), 1 the command failed, 2 a usage error (unknown command or option,
 * missing value or required option, stray argument).
 */
const program = new Command('chexpo')
  .version(version, '-V, --version', 'print the chexpo version')
  .usage('<command> [options]')
  .enablePositionalOptions()
  .exitOverride()
  .configureOutput({ writeErr: (text) => process.stderr.write(text) })
  .showHelpAfterError()
  .addHelpText('after', "\nRun 'chexpo <command> --help' for a command's options.");
let chosen: { name: string; args: string[] } | undefined;
for (const [name, c] of Object.entries(commands)) {
  program
    .command(name)
    .description(c.summary)
    .helpOption(false)
    .passThroughOptions()
    .allowUnknownOption()
    .argument('[args...]')
    .action((args: string[]) => {
      chosen = { name, args };
    });
}

/** A coded error is shown led by its code (the message never repeats it). */
const describe = (err: unknown): string =>
  err instanceof ChexpoError
    ? `${err.code}: ${err.message}`
    : err instanceof Error
      ? err.message
      : String(err);

try {
  program.parse(process.argv);
  if (!chosen) program.help();
} catch (error) {
  // commander has printed help, the version or the usage error already.
  if (error instanceof CommanderError) process.exitCode = error.exitCode === 0 ? 0 : 2;
  else throw error;
}
if (chosen) {
  try {
    await commands[chosen.name].run(chosen.args);
  } catch (err) {
    if (err instanceof CliExit) process.exitCode = err.exitCode;
    else if (err instanceof UsageError) {
      console.error(`chexpo ${chosen.name}: ${err.message}`);
      process.exitCode = err.exitCode;
    } else {
      console.error(`chexpo ${chosen.name}: ${describe(err)}`);
      process.exitCode = 1;
    }
  }
}
