/**
 * The one `chexpo` command. Each subcommand lives in its own module and is loaded only when used,
 * so `chexpo serve` does not pay for training code and vice versa.
 */
interface Command {
  summary: string;
  run: (argv: string[]) => Promise<void>;
}

const commands: Record<string, Command> = {
  serve: {
    summary: 'serve the current model version over HTTP',
    run: async (argv) => (await import('./server/serve-command.ts')).serveCommand(argv),
  },
  synth: {
    summary: 'generate synthetic chest radiographs, labels and instruction samples',
    run: async (argv) => (await import('./data/synth-command.ts')).synthCommand(argv),
  },
  train: {
    summary: 'train chexpo-tiny: "chexpo train sft --data DIR --out RUN_DIR"',
    run: async (argv) => (await import('./model/train/train-command.ts')).trainCommand(argv),
  },
  eval: {
    summary: 'evaluate a model version on a data split (task scores, safety metrics, calibration)',
    run: async (argv) => (await import('./eval-command.ts')).evalCommand(argv),
  },
  release: {
    summary: 'calibrate, evaluate and publish a trained version into a registry',
    run: async (argv) => (await import('./model/release-command.ts')).releaseCommand(argv),
  },
  loop: {
    summary: 'one CheXPO round: mine, pair, DPO, evaluate, gate, publish ("chexpo loop run --help")',
    run: async (argv) => (await import('./loop/command.ts')).loopCommand(argv),
  },
  experiment: {
    summary: "reproduce the paper's ablation table on this project's model (writes docs/results.md)",
    run: async (argv) => (await import('./loop/experiment/command.ts')).experimentCommand(argv),
  },
  import: {
    summary: 'turn a CheXpert/MIMIC-CXR-JPG label CSV and its images into a chexpo data set',
    run: async (argv) => (await import('./data/import-command.ts')).importCommand(argv),
  },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`);
  return `usage: chexpo <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun 'chexpo <command> --help' for a command's options.`;
}

const [name, ...rest] = process.argv.slice(2);
if (!name || name === '--help' || name === '-h') {
  console.log(usage());
} else if (!(name in commands)) {
  console.error(`chexpo: unknown command '${name}'\n\n${usage()}`);
  process.exitCode = 2;
} else {
  try {
    await commands[name].run(rest);
  } catch (err) {
    console.error(`chexpo ${name}: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}
