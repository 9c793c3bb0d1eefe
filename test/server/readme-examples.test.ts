/**
 * The curl examples of the README ("curl examples") work as written:
 * the fenced `sh` block is parsed into its `npm start` line and its curl commands, `chexpo serve`
 * is started as a child process with that line's environment (on port 0, a random TEST_TINY version
 * in a temp registry, a temp store), and every curl command is replayed with the real curl binary.
 * The `js` block under "OpenAI client" then runs as written (node, the repo's `openai` package)
 * against the same server.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { MODEL_NAME, type TempRegistry, tempRegistry } from '../engine/helpers.ts';
import { until } from '../support/until.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const DOCUMENTED_BASE = 'http://127.0.0.1:8080';
const run = promisify(execFile);

/** Shell words of one command: single quotes, double quotes (with \-escapes) and bare words. */
function shellWords(command: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < command.length; i++) {
    const c = command[i];
    if (c === "'") {
      const end = command.indexOf("'", i + 1);
      assert.ok(end > i, `unclosed ' in: ${command}`);
      word = (word ?? '') + command.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      word ??= '';
      for (i++; i < command.length && command[i] !== '"'; i++) {
        if (command[i] === '\\' && '"\\$`'.includes(command[i + 1])) i++;
        word += command[i];
      }
      assert.ok(i < command.length, `unclosed " in: ${command}`);
    } else if (c === '\\') {
      word = (word ?? '') + command[++i];
    } else if (/\s/.test(c)) {
      if (word !== null) words.push(word);
      word = null;
    } else {
      assert.ok(!'$`|&;<>()'.includes(c), `shell syntax '${c}' would not replay: ${command}`);
      word = (word ?? '') + c;
    }
  }
  if (word !== null) words.push(word);
  return words;
}

/** The commands of the first ```sh block under "## curl examples": continuations joined, comments dropped. */
function documentedCommands(markdown: string): string[][] {
  const section = markdown.split(/^## curl examples$/m)[1];
  assert.ok(section, 'README.md has no "## curl examples" heading');
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(block, 'no ```sh block under "## curl examples"');
  return block
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !line.startsWith('#'))
    .map(shellWords);
}

/** The ```js block under "## OpenAI client". */
function openAiExample(markdown: string): string {
  const section = markdown.split(/^## OpenAI client$/m)[1];
  assert.ok(section, 'README.md has no "## OpenAI client" heading');
  const block = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(block, 'no ```js block under "## OpenAI client"');
  return block;
}

interface Server {
  child: ChildProcess;
  base: string;
  output: () => string;
}

/** `VAR=value … npm start` → `node bin/chexpo.js serve --port 0` with those variables. */
async function startServer(startLine: string[], env: Record<string, string>): Promise<Server> {
  const npmAt = startLine.indexOf('npm');
  assert.deepEqual(startLine.slice(npmAt), ['npm', 'start'], 'the block starts the server with npm start');
  const documentedEnv = Object.fromEntries(
    startLine.slice(0, npmAt).map((assignment) => {
      const eq = assignment.indexOf('=');
      assert.ok(eq > 0, `not an assignment: ${assignment}`);
      return [assignment.slice(0, eq), assignment.slice(eq + 1)];
    }),
  );
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('CHEXPO_')),
  );
  const child = spawn(process.execPath, ['bin/chexpo.js', 'serve', '--port', '0'], {
    cwd: REPO,
    env: { ...inherited, ...documentedEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const base = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const listening = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (listening) resolve(listening[1]);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`chexpo serve exited (${code}):\n${output}`)));
  });
  // Readiness flips after the version is loaded and warmed up; the child's exit fails the test above.
  await until(
    async () => {
      assert.equal(child.exitCode, null, output);
      const ready = await fetch(`${base}/v2/health/ready`).then(
        (r) => r.status,
        () => 0,
      );
      return ready === 200;
    },
    'chexpo serve to report ready',
    { everyMs: 100, timeoutMs: 100_000, state: () => output },
  );
  return { child, base, output: () => output };
}

async function stopServer(server: Server): Promise<void> {
  if (server.child.exitCode !== null) return;
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  await exited;
}

/** Replays one documented curl command against `base`; returns the HTTP status and the JSON body. */
async function replay(
  words: string[],
  base: string,
): Promise<{ status: number; body: unknown; url: string }> {
  const args = words.slice(1).map((w) => w.replace(DOCUMENTED_BASE, base));
  const url = args.find((a) => a.startsWith(base));
  assert.ok(url, `no ${DOCUMENTED_BASE} URL in: ${words.join(' ')}`);
  const { stdout } = await run('curl', [...args, '-w', '\n%{http_code}'], { cwd: REPO });
  const cut = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(cut + 1)), body: JSON.parse(stdout.slice(0, cut)), url };
}

/** The documented answer fields, with their types. */
function assertAnswer(body: Record<string, unknown>, command: string): void {
  assert.equal(typeof body.answer, 'string', command);
  assert.ok(Array.isArray(body.answer_span), command);
  for (const span of body.answer_span as { confidence: unknown }[]) {
    assert.ok(typeof span.confidence === 'number' && span.confidence >= 0 && span.confidence <= 1, command);
  }
  const tokens = body.tokens as { token: unknown; prob: number; logprob: number }[];
  assert.ok(Array.isArray(tokens) && tokens.length > 0, command);
  for (const t of tokens) {
    assert.equal(typeof t.token, 'string', command);
    assert.ok(Math.abs(Math.log(t.prob) - t.logprob) < 1e-4, command);
  }
  const confidence = body.confidence as Record<string, unknown>;
  for (const key of ['min_prob', 'mean_logprob', 'answer_prob'])
    assert.equal(typeof confidence[key], 'number');
  assert.ok(typeof body.risk === 'number' && body.risk >= 0 && body.risk <= 1, command);
  assert.equal(typeof body.flagged, 'boolean', command);
  assert.equal((body.model as { name: unknown }).name, MODEL_NAME, command);
  for (const key of ['queue', 'preprocess', 'encode', 'generate', 'total'])
    assert.equal(typeof (body.timings_ms as Record<string, unknown>)[key], 'number', command);
  assert.equal(typeof body.request_id, 'string', command);
  assert.match(String(body.disclaimer), /research/i, command);
  // What was decoded: the CR film's own tags, or the PNG's size.
  const image = body.image as Record<string, unknown>;
  assert.deepEqual(body.input_warnings, [], command);
  if (command.includes('CR-MONO1-10-chest.dcm')) {
    assert.deepEqual(
      [
        image.format,
        image.width,
        image.height,
        image.bits_stored,
        image.photometric,
        image.modality,
        image.view,
      ],
      ['dicom', 440, 440, 10, 'MONOCHROME1', 'CR', 'PA'],
      command,
    );
  } else {
    assert.deepEqual(
      [image.format, image.width, image.height, image.frame, image.frames],
      ['png', 512, 512, 1, 1],
    );
  }
}

/** The value of a `-F name=value` form field of a curl command (the last one, if repeated). */
const formFields = (words: string[], name: string): string[] =>
  words.flatMap((w, i) =>
    words[i - 1] === '-F' && w.startsWith(`${name}=`) ? [w.slice(name.length + 1)] : [],
  );

let reg: TempRegistry;
let storeDir: string;
before(async () => {
  reg = await tempRegistry();
  await reg.publish(17);
  storeDir = await mkdtemp(join(tmpdir(), 'chexpo-readme-store-'));
});
after(async () => {
  await reg.cleanup();
  await rm(storeDir, { recursive: true, force: true });
});

test('the curl examples of README.md are parsed: a start line and one command per task', async () => {
  const commands = documentedCommands(await readFile(join(REPO, 'README.md'), 'utf8'));
  assert.ok(commands[0].includes('npm'), 'the block begins by starting the server');
  const curls = commands.slice(1);
  assert.ok(
    curls.every((c) => c[0] === 'curl'),
    'every other command is curl',
  );
  const images = curls.flatMap((c) => formFields(c, 'image'));
  const tasks = curls.flatMap((c) => formFields(c, 'task'));
  assert.ok(
    curls.some((c) => formFields(c, 'options').length >= 2),
    'a choice question with options',
  );
  assert.ok(
    images.some((i) => /\.png$/.test(i)),
    'a PNG',
  );
  assert.ok(
    images.some((i) => i.includes('../shared/fixtures/real/CR-MONO1-10-chest.dcm')),
    'the CR DICOM, by its repo-relative path',
  );
  assert.ok(tasks.includes('vqa') && tasks.includes('report'), 'both tasks');
  assert.ok(
    curls.some((c) => c.some((w) => w.endsWith('/v1/feedback'))),
    'feedback',
  );
});

const curlMissing = await run('curl', ['--version']).then(
  () => false,
  () => true,
);

test('every curl example answers 200 with the documented fields against a real server', {
  skip: curlMissing && 'curl is not installed',
  timeout: 5 * 60_000,
}, async () => {
  const commands = documentedCommands(await readFile(join(REPO, 'README.md'), 'utf8'));
  const server = await startServer(commands[0], {
    CHEXPO_MODEL_DIR: reg.registry.root,
    CHEXPO_MODEL_NAME: MODEL_NAME,
    CHEXPO_STORE_URI: storeDir,
    CHEXPO_STORE_IMAGES: '1',
    CHEXPO_WORKERS: '1',
    CHEXPO_AUDIT_LOG: join(storeDir, 'audit.jsonl'),
    CHEXPO_JOURNAL_DIR: join(storeDir, 'journal'),
    CHEXPO_LOOP_ENABLED: '0',
  });
  const answers = new Map<string, Record<string, unknown>>();
  const readme = await readFile(join(REPO, 'README.md'), 'utf8');
  try {
    for (const words of commands.slice(1)) {
      const command = words.join(' ');
      const { status, body, url } = await replay(words, server.base);
      assert.equal(status, 200, `${command}\n→ ${JSON.stringify(body)}\n${server.output().slice(-2000)}`);
      const fields = body as Record<string, unknown>;
      if (url.endsWith('/v1/feedback')) {
        const sent = JSON.parse(words[words.indexOf('-d') + 1]) as { request_id: string };
        assert.deepEqual(fields, { request_id: sent.request_id, status: 'recorded' });
        assert.ok(answers.has(sent.request_id), 'feedback refers to an answer of this block');
        continue;
      }
      assertAnswer(fields, command);
      const [requestId] = formFields(words, 'request_id');
      if (requestId) assert.equal(fields.request_id, requestId, command);
      const [topLogprobs] = formFields(words, 'top_logprobs');
      for (const t of fields.tokens as { top_logprobs?: unknown[] }[])
        assert.equal(t.top_logprobs?.length ?? 0, Number(topLogprobs ?? 0), command);
      answers.set(String(fields.request_id), fields);
    }
    await replayOpenAiExample(openAiExample(readme), server.base, commands);
  } finally {
    await stopServer(server);
  }
  // Nothing the server logged (stdout/stderr at info level) or appended to its audit log carries the
  // CR fixture's DICOM tag values or a client's request id.
  const audit = await readFile(join(storeDir, 'audit.jsonl'), 'utf8');
  assert.ok(server.output().includes('/v1/answer') && audit.includes('feedback'), 'both logs were written');
  for (const phi of ['FUJI PHOTO FILM', 'Anonymized', '1995.07.20', '1993.02.24', ...answers.keys()]) {
    assert.ok(!server.output().includes(phi), `the server log holds ${phi}`);
    assert.ok(!audit.includes(phi), `the audit log holds ${phi}`);
  }
  // CHEXPO_STORE_IMAGES reached the engine and the store: the flagged rows hold re-encoded PNGs
  // (checked after the graceful stop flushed the queue), and no DICOM header text.
  const stored = await storeBytes(storeDir);
  assert.ok(stored.includes('\x89PNG\r\n\x1a\n'), 'a de-identified PNG is stored with the hard examples');
  assert.ok(!stored.includes('FUJI PHOTO FILM'), 'no DICOM tag reaches the store');
});

/**
 * Runs the README's `openai` example as an ES module from the repo's root (so `openai` resolves
 * to the devDependency) against `base`, and checks what it printed against /v1/answer asked the
 * same question about the same image with the same key.
 */
async function replayOpenAiExample(code: string, base: string, commands: string[][]): Promise<void> {
  assert.ok(code.includes(DOCUMENTED_BASE), 'the example uses the documented base URL');
  const { stdout } = await run(
    process.execPath,
    ['--input-type=module', '-e', code.replaceAll(DOCUMENTED_BASE, base)],
    { cwd: REPO, timeout: 120_000 },
  );
  const key = /apiKey: '([^']+)'/.exec(code)?.[1];
  const image = /readFileSync\('([^']+)'\)/.exec(code)?.[1];
  const question = /type: 'text', text: '([^']+)'/.exec(code)?.[1];
  assert.ok(key && image && question, 'the example names its key, image and question');
  assert.ok(
    commands[0].some((w) => w.includes(`${key}:answer`)),
    'the example uses the key the server was started with',
  );
  const form = new FormData();
  form.append('image', new Blob([await readFile(join(REPO, image))]), 'image.png');
  form.append('question', question);
  const direct = await fetch(`${base}/v1/answer`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}` },
    body: form,
  });
  assert.equal(direct.status, 200);
  const expected = (await direct.json()) as { answer: string; finish_reason: string; tokens: unknown[] };
  const lines = stdout.trimEnd().split('\n');
  const [first, ...rest] = lines;
  const head = `${expected.answer} ${expected.finish_reason} `;
  assert.ok(first.startsWith(head), `first line "${first}" vs ${expected.answer}`);
  const risk = Number(first.slice(head.length));
  assert.ok(risk >= 0 && risk <= 1, `risk ${first.slice(head.length)}`);
  const tokenLines = rest.slice(0, -1);
  assert.equal(tokenLines.length, expected.tokens.length, stdout);
  assert.equal(tokenLines.map((l) => l.split('\t')[0]).join(''), expected.answer, 'tokens spell the answer');
  for (const line of tokenLines) {
    const p = Number(line.split('\t')[1]);
    assert.ok(p >= 0 && p <= 1, line);
  }
  assert.equal(rest.at(-1), expected.answer, 'the streamed text is the answer');
}

/** Every file under a directory, concatenated as latin1. */
async function storeBytes(dir: string): Promise<string> {
  const parts: string[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) parts.push((await readFile(join(entry.parentPath, entry.name))).toString('latin1'));
  }
  return parts.join('\n');
}
