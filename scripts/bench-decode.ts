/**
 * `npm run bench:decode`: decode + preprocess (prepareImage: decode, input gate, resize to the model
 * input, sha256) on a 3000×2500 16-bit DICOM, a 2000×2000 8-bit JPEG and a 1024² 8-bit PNG, against
 * (a) the full-size path (decodeImage + toModelInput, what serving did before) and (b) a Python peer
 * doing the same decode and resize (pydicom + NumPy; Pillow with draft mode). Also times the bundled
 * model's encode + generate for a closed question, the budget preprocessing should stay within.
 *
 * The Python peer runs on Debian's python3 with python3-pydicom, python3-pil and python3-numpy; this
 * script installs them with apt-get when they are missing (as root; never from npm ci). `--no-peer`
 * skips it. Options: `--rounds N` (default 20).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import {
  DEFAULT_INPUT_GATE,
  decodeImage,
  encodeDicom,
  encodePng8,
  encodePng16,
  toModelInput,
} from '../src/data/image/index.ts';
import { Rng } from '../src/data/index.ts';
import { renderCase, sampleCase } from '../src/data/phantom/index.ts';
import { Engine, prepareImage } from '../src/engine/index.ts';
import { BUNDLED_MODELS_ROOT } from '../src/registry/index.ts';
import { fmt, loadAverage, mean, median, padRow } from './bench/stats.ts';

const { values: args } = parseArgs({
  options: { rounds: { type: 'string', default: '20' }, 'no-peer': { type: 'boolean', default: false } },
});
const ROUNDS = Number(args.rounds);
const PYTHON = '/usr/bin/python3';
const PEER = fileURLToPath(new URL('./bench_decode_peer.py', import.meta.url));

/** A phantom film at w×h, bilinearly enlarged from a 1024² render, with quantum-like noise. */
function film(w: number, h: number, maxValue: number, seed: number): Uint16Array {
  const src = renderCase(sampleCase(seed), { size: 1024 });
  const scale = maxValue / (2 ** src.bitsStored - 1);
  const rng = new Rng(seed);
  const out = new Uint16Array(w * h);
  const side = Math.max(w, h);
  for (let y = 0; y < h; y++) {
    const sy = ((y + (side - h) / 2) / side) * 1023;
    const y0 = Math.floor(sy);
    const fy = sy - y0;
    for (let x = 0; x < w; x++) {
      const sx = ((x + (side - w) / 2) / side) * 1023;
      const x0 = Math.floor(sx);
      const fx = sx - x0;
      const at = (yy: number, xx: number) => src.data[Math.min(1023, yy) * 1024 + Math.min(1023, xx)];
      const v =
        (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1)) +
        fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1));
      out[y * w + x] = Math.max(
        0,
        Math.min(maxValue, Math.round(v * scale + (rng.next() - 0.5) * maxValue * 0.02)),
      );
    }
  }
  return out;
}

async function inputs(dir: string): Promise<{ name: string; path: string; bytes: Uint8Array }[]> {
  const dicom = encodeDicom(
    { width: 3000, height: 2500, bitsStored: 16, data: film(3000, 2500, 65535, 3) },
    { seed: 3, view: 'PA' },
  );
  const jpegPixels = Buffer.from(Uint8Array.from(film(2000, 2000, 255, 4)));
  const jpeg = await sharp(jpegPixels, { raw: { width: 2000, height: 2000, channels: 1 } })
    .toColourspace('b-w')
    .jpeg({ quality: 90 })
    .toBuffer();
  const png = encodePng8({ width: 1024, height: 1024, bitsStored: 8, data: film(1024, 1024, 255, 5) });
  const files = [
    { name: 'DICOM 3000×2500 16-bit', path: join(dir, 'film.dcm'), bytes: dicom },
    { name: 'JPEG 2000×2000 8-bit', path: join(dir, 'film.jpg'), bytes: new Uint8Array(jpeg) },
    { name: 'PNG 1024² 8-bit', path: join(dir, 'film.png'), bytes: png },
  ];
  for (const f of files) writeFileSync(f.path, f.bytes);
  return files;
}

async function time(fn: () => unknown | Promise<unknown>, rounds: number): Promise<number[]> {
  for (let i = 0; i < 3; i++) await fn();
  const ms: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  return ms;
}

function ensurePeer(): boolean {
  const probe = () =>
    spawnSync(PYTHON, ['-c', 'import pydicom, PIL, numpy'], { stdio: 'ignore' }).status === 0;
  if (probe()) return true;
  if (process.getuid?.() !== 0) {
    console.log('python peer skipped: python3-pydicom/pil/numpy missing and not root to apt-get them');
    return false;
  }
  console.log('installing the Python peer: apt-get install python3-pydicom python3-pil python3-numpy');
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  spawnSync('apt-get', ['install', '-y', '-qq', 'python3-pydicom', 'python3-pil', 'python3-numpy'], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return probe();
}

async function modelBudget(): Promise<{ encode: number; generate: number; version: string }> {
  const engine = await Engine.start({
    registryRoot: BUNDLED_MODELS_ROOT,
    modelName: 'chexpo-tiny',
    workers: 1,
    executionProvider: 'cpu',
    maxQueue: 4,
    watch: false,
  });
  try {
    const image = encodePng16(renderCase(sampleCase(11), { size: 256 }));
    const runs: { encode: number; generate: number }[] = [];
    for (let i = 0; i < 3 + ROUNDS; i++) {
      const a = await engine.answer({
        image,
        task: 'vqa',
        question: 'Is there a pleural effusion?',
        topLogprobs: 0,
      });
      if (i >= 3) runs.push({ encode: a.timings_ms.encode, generate: a.timings_ms.generate });
    }
    return {
      encode: median(runs.map((r) => r.encode)),
      generate: median(runs.map((r) => r.generate)),
      version: engine.model?.version ?? '?',
    };
  } finally {
    await engine.close();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'chexpo-bench-decode-'));
try {
  const cores = cpus();
  console.log(`machine: ${cores[0]?.model ?? '?'}, ${cores.length} cores, node ${process.version}`);
  console.log(`load average (1/5/15 min) at start: ${loadAverage()}`);
  const SIZE = 64;
  const files = await inputs(dir);
  const budget = await modelBudget();
  console.log(
    `model: chexpo-tiny ${budget.version}, closed question p50: encode ${fmt(budget.encode)} ms + generate ${fmt(budget.generate)} ms = ${fmt(budget.encode + budget.generate)} ms`,
  );
  const peerOk = !args['no-peer'] && ensurePeer();
  const peer = new Map<string, number[]>();
  if (peerOk) {
    const out = execFileSync(PYTHON, [PEER, String(SIZE), String(ROUNDS), ...files.map((f) => f.path)], {
      encoding: 'utf8',
      env: { ...process.env, OPENBLAS_NUM_THREADS: '1' },
    });
    for (const line of out.trim().split('\n')) {
      const { file, ms } = JSON.parse(line) as { file: string; ms: number[] };
      peer.set(file, ms);
    }
    const versions = execFileSync(
      PYTHON,
      ['-c', 'import pydicom, PIL, numpy; print(pydicom.__version__, PIL.__version__, numpy.__version__)'],
      {
        encoding: 'utf8',
      },
    ).trim();
    console.log(`python peer: ${PYTHON} pydicom / Pillow / NumPy ${versions.split(' ').join(' / ')}`);
  }
  console.log(`\ndecode + preprocess to ${SIZE}² (sha256 included), ${ROUNDS} rounds after 3 warm-up, ms`);
  const widths = [25, 10, 5, 15, 11, 14, 8];
  const row = (cells: string[]) => padRow(cells, widths, { sep: ' ', left: 1 });
  console.log(
    row(['input', 'chexpo p50', 'mean', 'full-size p50', 'python p50', 'chexpo/python', '≤ model']),
  );
  for (const f of files) {
    const fast = await time(() => prepareImage(f.bytes, SIZE, false, DEFAULT_INPUT_GATE), ROUNDS);
    const full = await time(() => toModelInput(decodeImage(f.bytes), SIZE), Math.min(ROUNDS, 10));
    const py = peer.get(f.path);
    const ratio = py ? fmt(median(fast) / median(py), 2) : '-';
    const fits = median(fast) <= budget.encode + budget.generate ? 'yes' : 'no';
    console.log(
      row([
        f.name,
        fmt(median(fast)),
        fmt(mean(fast)),
        fmt(median(full)),
        py ? fmt(median(py)) : '-',
        ratio,
        fits,
      ]),
    );
  }
  console.log(`\nload average at end: ${loadAverage()}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
