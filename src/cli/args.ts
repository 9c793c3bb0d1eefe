/**
 * The one argument layer of the `chexpo` command (commander): every command declares its options as
 * a node:util `parseArgs` config and its help text, and gets the same behaviour — `--help`/`-h`
 * prints the help and exits 0, an unknown option, a missing value, a stray argument or a missing
 * required option is a UsageError (exit 2), and the values come back as parseArgs would give them.
 */
import type { ParseArgsConfig, parseArgs } from 'node:util';
import { Command, CommanderError } from 'commander';

/** A usage error: the message and the command's help go to stderr, the exit code is 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly exitCode = 2;
}

/** Help or version was printed: the command stops here with this exit code (0). */
export class CliExit extends Error {
  override readonly name = 'CliExit';
  readonly exitCode: number;
  constructor(exitCode: number) {
    super(`exit ${exitCode}`);
    this.exitCode = exitCode;
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

const camel = (name: string): string => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * parseArgs' result for `config.args`, parsed by commander with `help` as the `--help` text.
 * `required` names options without which the command cannot run (a UsageError, not a failure).
 */
export function parseCommandArgs<T extends ParseArgsConfig & { options: Options }>(
  help: string,
  config: T,
  required: readonly (keyof T['options'] & string)[] = [],
): Pick<ReturnType<typeof parseArgs<T>>, 'values'> {
  const command = new Command()
    .exitOverride()
    .allowExcessArguments(false)
    .helpOption('-h, --help')
    .configureOutput({ writeOut: (text) => process.stdout.write(text), writeErr: () => {} });
  command.helpInformation = () => `${help}\n`;
  for (const [name, spec] of Object.entries(config.options)) {
    if (name === 'help') continue;
    const flags = `${spec.short ? `-${spec.short}, ` : ''}--${name}${spec.type === 'string' ? ' <value>' : ''}`;
    // commander reads `--no-x` as the negation of `x` (true unless given): no default of its own.
    if (name.startsWith('no-')) command.option(flags, '');
    else command.option(flags, '', spec.default as string | boolean | undefined);
  }
  try {
    command.parse([...(config.args ?? [])], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.help') throw new CliExit(0);
      throw new UsageError(`${error.message.replace(/^error: /, '')}\n\n${help}`);
    }
    throw error;
  }
  const parsed = command.opts();
  const values: Record<string, unknown> = {};
  for (const name of Object.keys(config.options)) {
    const value = name.startsWith('no-') ? parsed[camel(name.slice(3))] === false : parsed[camel(name)];
    if (value !== undefined) values[name] = value;
  }
  const missing = required.filter((name) => values[name] === undefined);
  if (missing.length > 0)
    throw new UsageError(`${missing.map((m) => `--${m}`).join(', ')} required\n\n${help}`);
  return { values } as Pick<ReturnType<typeof parseArgs<T>>, 'values'>;
}
