/**
 * Static checks of the two images (no Docker engine here, so nothing is built): both run the same
 * start command as a non-root user under tini with a health check, install production dependencies
 * only, copy files that exist, set only known configuration, and the GPU image differs from the CPU
 * image by the reviewed list in its header and nothing else.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { IMAGE_JEMALLOC, JEMALLOC_CONF } from '../../src/engine/allocator.ts';
import { loadConfig } from '../../src/server/config.ts';

const repo = (path: string): string => fileURLToPath(new URL(`../../${path}`, import.meta.url));

interface Instruction {
  op: string;
  args: string;
}

interface Stage {
  from: string;
  name?: string;
  body: Instruction[];
}

/** Instructions (continuations joined, comments dropped), grouped by FROM into stages. */
function parseDockerfile(path: string): { args: Instruction[]; stages: Stage[] } {
  const logical: string[] = [];
  let pending = '';
  for (const raw of readFileSync(repo(path), 'utf8').split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    logical.push(pending + line);
    pending = '';
  }
  const args: Instruction[] = [];
  const stages: Stage[] = [];
  for (const text of logical) {
    const [, op, rest] = /^(\S+)\s*(.*)$/.exec(text)!;
    const instruction = { op: op.toUpperCase(), args: rest };
    if (instruction.op === 'FROM') {
      const [from, as, name] = rest.split(/\s+/);
      stages.push({ from, ...(as?.toUpperCase() === 'AS' ? { name } : {}), body: [] });
    } else if (stages.length === 0) args.push(instruction);
    else stages.at(-1)!.body.push(instruction);
  }
  return { args, stages };
}

/** `ENV A=1 B=2` lines of a stage as one map. */
function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { args } of stage.body.filter((i) => i.op === 'ENV')) {
    for (const pair of args.split(/\s+/)) {
      const [key, ...value] = pair.split('=');
      env[key] = value.join('=');
    }
  }
  return env;
}

const only = (stage: Stage, op: string): Instruction[] => stage.body.filter((i) => i.op === op);

const cpu = parseDockerfile('Dockerfile');
const gpu = parseDockerfile('Dockerfile.gpu');
const finalOf = (file: typeof cpu): Stage => file.stages.at(-1)!;
const depsOf = (file: typeof cpu): Stage => file.stages.find((s) => s.name === 'deps')!;

for (const [name, file] of [
  ['Dockerfile', cpu],
  ['Dockerfile.gpu', gpu],
] as const) {
  test(`${name}: non-root USER, HEALTHCHECK on liveness, tini entrypoint, the npm start command`, () => {
    const final = finalOf(file);
    const users = only(final, 'USER');
    assert.equal(users.length, 1);
    assert.doesNotMatch(users[0].args, /^(root|0)(:|$)/);
    assert.equal(final.body.at(-1)?.op, 'CMD', 'nothing runs after the start command is declared');
    const lastRun = final.body.findLastIndex((i) => i.op === 'RUN');
    assert.ok(
      final.body.indexOf(users[0]) > lastRun,
      'USER comes after every RUN, so the app never runs as root',
    );

    const health = only(final, 'HEALTHCHECK');
    assert.equal(health.length, 1);
    assert.match(health[0].args, /CMD .*127\.0\.0\.1:8080\/v2\/health\/live/);
    assert.deepEqual(JSON.parse(only(final, 'ENTRYPOINT')[0].args), ['/usr/bin/tini', '--']);
    assert.ok(only(final, 'RUN').some((r) => /apt-get install .*\btini\b/.test(r.args)));

    // `npm start` = [NAME=value …] command: the image sets the same variables with ENV, runs the command.
    const start = JSON.parse(readFileSync(repo('package.json'), 'utf8')).scripts.start as string;
    const words = start.split(' ');
    const assignments = words.filter((w) => /^[A-Z_][A-Z0-9_]*=/.test(w));
    assert.deepEqual(JSON.parse(only(final, 'CMD')[0].args), words.slice(assignments.length));
    for (const a of assignments) {
      const [name, value] = a.split('=');
      assert.equal(envOf(final)[name], value, `the image sets ${name} as npm start does`);
    }
    assert.deepEqual(
      only(final, 'EXPOSE').map((i) => i.args),
      [envOf(final).CHEXPO_PORT],
    );
  });

  test(`${name}: jemalloc installed, linked at one path and preloaded with the measured MALLOC_CONF`, () => {
    const final = finalOf(file);
    const install = final.body.findIndex(
      (i) => i.op === 'RUN' && /apt-get install .*\blibjemalloc2\b/.test(i.args),
    );
    assert.ok(install >= 0, 'libjemalloc2 is installed');
    assert.ok(final.body[install].args.includes(`ln -s "$(dpkg -L libjemalloc2 | grep `));
    assert.ok(final.body[install].args.includes(` ${IMAGE_JEMALLOC} && test -f ${IMAGE_JEMALLOC}`));
    const env = envOf(final);
    assert.equal(env.LD_PRELOAD, IMAGE_JEMALLOC);
    assert.equal(env.MALLOC_CONF, JEMALLOC_CONF);
    const preload = final.body.findIndex((i) => i.op === 'ENV' && /\bLD_PRELOAD=/.test(i.args));
    assert.ok(preload > install, 'LD_PRELOAD is set only once the library is there');
  });

  test(`${name}: production dependencies only, built in the deps stage; every COPY source exists`, () => {
    const deps = depsOf(file);
    assert.ok(only(deps, 'RUN').some((r) => /\bnpm ci --omit=dev\b/.test(r.args)));
    for (const stage of file.stages) {
      for (const run of only(stage, 'RUN')) assert.doesNotMatch(run.args, /\bnpm (install|i)\b/);
    }
    assert.ok(!only(finalOf(file), 'RUN').some((r) => /\bnpm\b/.test(r.args)), 'no npm in the final stage');
    for (const copy of only(finalOf(file), 'COPY').concat(only(deps, 'COPY'))) {
      if (copy.args.startsWith('--from=')) continue;
      const sources = copy.args.split(/\s+/).slice(0, -1);
      for (const source of sources) assert.ok(existsSync(repo(source)), `${name}: COPY ${source}`);
    }
    // The bundled model is what the image serves without network access.
    assert.ok(only(finalOf(file), 'COPY').some((c) => c.args === 'models ./models'));
  });

  test(`${name}: the environment it sets is known configuration and loads as production`, () => {
    const env = envOf(finalOf(file));
    assert.equal(env.NODE_ENV, 'production');
    const { config, warnings } = loadConfig({ ...env, CHEXPO_API_KEYS: 'k'.repeat(24).concat(':answer') });
    assert.deepEqual(warnings, []);
    assert.equal(config.host, '0.0.0.0');
    assert.throws(() => loadConfig(env), /CHEXPO_API_KEYS is empty in production/);
  });
}

test('both images run the Node.js major that package.json engines asks for (an LTS line)', () => {
  const engines = JSON.parse(readFileSync(repo('package.json'), 'utf8')).engines.node as string;
  const major = Number(/^>=(\d+)/.exec(engines)?.[1]);
  assert.ok(major >= 22 && major % 2 === 0, `engines ${engines}`);
  for (const file of [cpu, gpu]) {
    for (const stage of file.stages.filter((s) => s.from.startsWith('node:'))) {
      assert.equal(stage.from, `node:${major}-bookworm-slim`, stage.from);
    }
  }
});

test('the GPU image: CUDA runtime base with cuDNN, cuda12 ORT install, cuda provider', () => {
  const base = gpu.args.find((a) => a.op === 'ARG' && a.args.startsWith('CUDA_IMAGE='))?.args ?? '';
  assert.match(base, /^CUDA_IMAGE=nvidia\/cuda:12\.\d+\.\d+-cudnn-runtime-ubuntu22\.04$/);
  assert.match(finalOf(gpu).from, /^\$\{CUDA_IMAGE\}$/);
  const deps = depsOf(gpu);
  const installEnv = deps.body.findIndex(
    (i) => i.op === 'ENV' && /ONNXRUNTIME_NODE_INSTALL=cuda12/.test(i.args),
  );
  const npmCi = deps.body.findIndex((i) => i.op === 'RUN' && /npm ci/.test(i.args));
  assert.ok(installEnv >= 0 && installEnv < npmCi, 'the cuda12 install flag is set before npm ci');
  assert.equal(envOf(finalOf(gpu)).CHEXPO_EXECUTION_PROVIDER, 'cuda');
  assert.equal(
    loadConfig({ ...envOf(finalOf(gpu)), CHEXPO_AUTH_DISABLED: '1' }).config.model.executionProvider,
    'cuda',
  );
  // The CPU image keeps the CPU provider (the default) and skips the CUDA download with
  // onnxruntime-node's own environment switch, set before npm ci (not only .npmrc's key, which
  // npm warns it will stop passing on).
  assert.equal(envOf(finalOf(cpu)).CHEXPO_EXECUTION_PROVIDER, undefined);
  const cpuDeps = depsOf(cpu).body;
  const skip = cpuDeps.findIndex((i) => i.op === 'ENV' && i.args === 'ONNXRUNTIME_NODE_INSTALL=skip');
  assert.ok(skip >= 0 && skip < cpuDeps.findIndex((i) => i.op === 'RUN' && /npm ci/.test(i.args)));
  assert.match(readFileSync(repo('.npmrc'), 'utf8'), /onnxruntime-node-install=skip/);
});

test('the GPU image differs from the CPU image only by the reviewed list', () => {
  const text = (i: Instruction): string => `${i.op} ${i.args}`;
  // 1. deps: the same stage but the install flag (cuda12 instead of skip).
  const flag = (i: Instruction) => i.op === 'ENV' && i.args.startsWith('ONNXRUNTIME_NODE_INSTALL=');
  assert.deepEqual(
    depsOf(gpu).body.map((i) => (flag(i) ? 'FLAG' : text(i))),
    depsOf(cpu).body.map((i) => (flag(i) ? 'FLAG' : text(i))),
  );
  assert.equal(depsOf(gpu).from, depsOf(cpu).from);
  // 2. the runtime base: node copied from the CPU image's base, tini plus a `node` user.
  const node = gpu.stages.find((s) => s.name === 'node');
  assert.equal(node?.from, finalOf(cpu).from);
  const gpuFinal = finalOf(gpu).body;
  const cpuFinal = finalOf(cpu).body;
  const nodeCopy = 'COPY --from=node /usr/local/bin/node /usr/local/bin/node';
  assert.ok(gpuFinal.some((i) => text(i) === nodeCopy));
  const [gpuRun, cpuRun] = [gpuFinal[0], cpuFinal[0]].map(text);
  assert.ok(gpuRun.startsWith(cpuRun), 'the same tini install, then the user');
  assert.match(
    gpuRun.slice(cpuRun.length),
    /^ && groupadd --gid 1000 node && useradd --uid 1000 --gid node /,
  );
  // 3. one more environment variable; everything else line for line.
  const strip = (body: Instruction[]) =>
    body
      .slice(1)
      .filter((i) => text(i) !== nodeCopy)
      .map((i) =>
        i.op === 'ENV' ? `ENV ${i.args.replace(' CHEXPO_EXECUTION_PROVIDER=cuda', '')}` : text(i),
      );
  assert.deepEqual(strip(gpuFinal), strip(cpuFinal));
});
