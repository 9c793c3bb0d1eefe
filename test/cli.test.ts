/**
 * The `chexpo` command as scripts see it, run as a real process (node bin/chexpo.js): --version,
 * --help on every command (exit 0), every usage error exit 2, --json output that parses, and a
 * read-only command that creates nothing. The argument layer itself (src/cli/args.ts) directly.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CliExit, parseCommandArgs, UsageError } from '../src/cli/args.ts';
import { Tokenizer } from '../src/data/tokenizer/index.ts';

const REPO = fileURLToPath(new URL('../', import.meta.url));

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

function chexpo(...args: string[]): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/chexpo.js', ...args],
      { cwd: REPO, timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Every command line a user can ask for help on. */
const COMMANDS = [
  ['serve'],
  ['synth'],
  ['import'],
  ['train', 'sft'],
  ['eval'],
  ['release'],
  ['loop', 'run'],
  ['loop', 'export'],
  ['experiment'],
];

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'chexpo-cli-'));
});
after(() => rm(work, { recursive: true, force: true }));

test('--version prints the package version; no command is a usage error', async () => {
  const pkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8'));
  const version = await chexpo('--version');
  assert.equal(version.code, 0);
  assert.equal(version.stdout.trim(), pkg.version);
  const help = await chexpo('--help');
  assert.equal(help.code, 0);
  for (const [name] of COMMANDS) assert.match(help.stdout, new RegExp(`^  ${name}\\b`, 'm'), name);
  assert.equal((await chexpo()).code, 2);
});

test('every command answers --help with its usage on stdout, exit 0', async () => {
  for (const command of COMMANDS) {
    const { code, stdout, stderr } = await chexpo(...command, '--help');
    assert.equal(code, 0, `${command.join(' ')}: ${stderr}`);
    assert.match(stdout, new RegExp(`usage: chexpo ${command.join(' ')}`), command.join(' '));
    assert.equal(stderr, '', command.join(' '));
    assert.equal((await chexpo(...command, '-h')).code, 0, `${command.join(' ')} -h`);
  }
});

test('every usage error exits 2 and says what was wrong', async () => {
  for (const command of COMMANDS) {
    const unknown = await chexpo(...command, '--no-such-option');
    assert.equal(unknown.code, 2, command.join(' '));
    assert.match(unknown.stderr, /unknown option '--no-such-option'/, command.join(' '));
  }
  const cases: [string[], RegExp][] = [
    [['no-such-command'], /unknown command/],
    [['synth', '--cases'], /argument missing/],
    [['serve', 'stray'], /too many arguments/],
    [['train', 'dpo'], /unknown training kind/],
    [['loop', 'rerun'], /unknown loop subcommand/],
    [['train', 'sft', '--data', work], /--data and --out are required/],
    [['loop', 'export', '--store', work], /--data, --out required/],
    [['loop', 'run', '--registry', work, '--store', work, '--trigger', 'cron'], /--trigger must be one of/],
    [['synth', '--out', work, '--formats', 'tiff'], /unknown --formats/],
  ];
  for (const [args, message] of cases) {
    const { code, stderr } = await chexpo(...args);
    assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
    assert.match(stderr, message, args.join(' '));
  }
});

test('commands a script parses have --json; synth --json prints one JSON object', async () => {
  for (const command of [
    ['synth'],
    ['release'],
    ['loop', 'run'],
    ['loop', 'export'],
    ['experiment'],
    ['eval'],
  ]) {
    assert.match((await chexpo(...command, '--help')).stdout, /--json/, command.join(' '));
  }
  const out = join(work, 'synth');
  const { code, stdout } = await chexpo('synth', '--cases', '3', '--size', '64', '--out', out, '--json');
  assert.equal(code, 0);
  const result = JSON.parse(stdout);
  assert.equal(result.out, out);
  assert.equal(result.summary.cases, 3);
  const written = Tokenizer.fromJSON(JSON.parse(await readFile(join(out, 'tokenizer.json'), 'utf8')));
  assert.equal(result.vocab_size, written.vocabSize);
});

test('loop export on a store that does not exist fails and creates nothing', async () => {
  const store = join(work, 'no-store-here');
  const out = join(work, 'export-out');
  const { code, stderr } = await chexpo('loop', 'export', '--store', store, '--data', work, '--out', out);
  assert.equal(code, 1);
  assert.match(stderr, /no store at/);
  assert.equal(existsSync(store), false, 'no store was created');
  assert.equal(existsSync(out), false, 'no output was written');
});

test('the argument layer: values as parseArgs gives them, --no-x, required, help', () => {
  const options = {
    store: { type: 'string' },
    'max-cases': { type: 'string', default: '7' },
    'no-publish': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  } as const;
  const parse = (...args: string[]) => parseCommandArgs('usage: test', { args, options }, ['store']).values;
  assert.deepEqual(parse('--store', 's'), { store: 's', 'max-cases': '7', 'no-publish': false, json: false });
  assert.deepEqual(parse('--store=s', '--max-cases', '3', '--no-publish', '--json'), {
    store: 's',
    'max-cases': '3',
    'no-publish': true,
    json: true,
  });
  assert.throws(
    () => parse(),
    (e: unknown) => e instanceof UsageError && /--store required/.test(e.message),
  );
  assert.throws(() => parse('--store', 's', 'extra'), UsageError);
  const written: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string) => written.push(chunk) > 0) as typeof process.stdout.write;
  try {
    assert.throws(
      () => parse('--help'),
      (e: unknown) => e instanceof CliExit && e.exitCode === 0,
    );
  } finally {
    process.stdout.write = write;
  }
  assert.deepEqual(written, ['usage: test\n']);
});
