import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PNG } from 'pngjs';
import { compile } from 'vega-lite';
import {
  captionedGrid,
  confidenceCurveSpec,
  dpoSpecs,
  gateSpec,
  movingMean,
  type PlotSpec,
  perFindingSpec,
  reliabilitySpec,
  renderPng,
  renderSvg,
  sftLossSpec,
  svgToPng,
} from '../../src/plots/index.ts';
import * as F from './fixtures.ts';

interface Compiled {
  marks: string[];
  axisTitles: string[];
  legendTitles: string[];
  title: string;
  warnings: string[];
}

/** Compiles with vega-lite (warnings collected) and lists the Vega spec's mark types, axis and legend titles. */
function compiled(spec: PlotSpec): Compiled {
  const warnings: string[] = [];
  const logger = {
    level: () => logger,
    error: (...m: unknown[]) => {
      warnings.push(`error ${m.join(' ')}`);
      return logger;
    },
    warn: (...m: unknown[]) => {
      warnings.push(m.join(' '));
      return logger;
    },
    info: () => logger,
    debug: () => logger,
  };
  // biome-ignore lint/suspicious/noExplicitAny: walking an untyped Vega spec
  const vg = compile(spec, { logger: logger as any }).spec as any;
  const out: Compiled = { marks: [], axisTitles: [], legendTitles: [], title: '', warnings };
  // biome-ignore lint/suspicious/noExplicitAny: walking an untyped Vega spec
  const walk = (node: any): void => {
    for (const m of node.marks ?? []) {
      out.marks.push(m.type === 'group' ? 'group' : (m.style?.[0] ?? m.type));
      walk(m);
    }
    for (const a of node.axes ?? []) if (a.title) out.axisTitles.push(String(a.title));
    for (const l of node.legends ?? []) if (l.title) out.legendTitles.push(String(l.title));
  };
  walk(vg);
  out.title = typeof vg.title === 'string' ? vg.title : String(vg.title?.text ?? '');
  return out;
}

const pngSize = (bytes: Uint8Array) => {
  const png = PNG.sync.read(Buffer.from(bytes));
  return { width: png.width, height: png.height, png };
};
const svgSize = (svg: string) => {
  const m = /<svg[^>]* width="(\d+)" height="(\d+)"/.exec(svg);
  assert.ok(m, 'svg has width and height');
  return { width: Number(m[1]), height: Number(m[2]) };
};

test('SFT loss: lines for training and validation, dots on validation, titled axes, a legend', () => {
  const c = compiled(sftLossSpec(F.sftInput));
  assert.deepEqual(c.warnings, []);
  assert.equal(c.title, 'SFT loss');
  assert.ok(c.marks.filter((m) => m === 'line').length >= 2, c.marks.join());
  assert.ok(c.marks.includes('point'));
  assert.deepEqual(c.axisTitles.sort(), ['loss (nats)', 'optimiser step']);
  const spec = sftLossSpec(F.sftInput) as { data: { values: Array<{ series: string; kind: string }> } };
  const series = new Set(spec.data.values.map((v) => `${v.series}/${v.kind}`));
  assert.deepEqual([...series].sort(), [
    'training loss/mean',
    'training loss/raw',
    'validation answer-token NLL/mean',
  ]);
});

test('movingMean is a trailing mean over what exists so far', () => {
  const pts = [1, 2, 3, 4].map((value, step) => ({ step, value }));
  assert.deepEqual(
    movingMean(pts, 2).map((p) => p.value),
    [1, 1.5, 2.5, 3.5],
  );
});

test('DPO: the four curves keep their file names, each titled, with reference lines; log-probs are rewards / β', () => {
  const specs = dpoSpecs(F.dpoSteps, 0.1);
  assert.deepEqual(Object.keys(specs), [
    'dpo-loss.png',
    'dpo-margins.png',
    'dpo-accuracy.png',
    'dpo-logps.png',
  ]);
  const titles = Object.values(specs).map((s) => compiled(s));
  for (const c of titles) {
    assert.deepEqual(c.warnings, []);
    assert.ok(c.marks.includes('line') && c.marks.includes('rule'), c.marks.join());
    assert.ok(c.axisTitles.includes('optimiser step'));
  }
  assert.deepEqual(
    titles.map((c) => c.title),
    [
      'DPO loss',
      'DPO reward margin (chosen − rejected)',
      'DPO reward accuracy',
      'Log-probability change from the reference model',
    ],
  );
  const logps = specs['dpo-logps.png'] as {
    data: { values: Array<{ step: number; series: string; kind: string; value: number }> };
  };
  const last = logps.data.values.find((v) => v.kind === 'raw' && v.series === 'rejected' && v.step === 119)!;
  assert.ok(Math.abs(last.value - F.dpoSteps[119]['rewards/rejected'] / 0.1) < 1e-12);
});

test('confidence curve: a line and sized points per task, a dashed rule and label per chosen threshold', () => {
  const spec = confidenceCurveSpec(F.curve, F.choices);
  const c = compiled(spec);
  assert.deepEqual(c.warnings, []);
  assert.equal(c.title, 'Error rate against confidence (mining)');
  for (const m of ['line', 'point', 'rule', 'text']) assert.ok(c.marks.includes(m), `${m} in ${c.marks}`);
  assert.ok(c.axisTitles.includes('answer confidence (bin mean)'));
  assert.ok(c.axisTitles.includes('error rate (share of wrong answers)'));
  assert.deepEqual(c.legendTitles, ['task']);
  const thresholds = (
    spec as { layer: Array<{ data: { values: Array<{ task: string; threshold: number }> } }> }
  ).layer[1].data.values;
  assert.deepEqual(
    thresholds.map((t) => [t.task, t.threshold]),
    [
      ['closed', 0.42],
      ['open', 0.3],
    ],
  );
});

test('reliability diagram: bars from zero, mean-confidence dots, count labels, the diagonal; empty bins left out', () => {
  const spec = reliabilitySpec(F.reliability);
  const c = compiled(spec);
  assert.deepEqual(c.warnings, []);
  for (const m of ['bar', 'point', 'text', 'line']) assert.ok(c.marks.includes(m), `${m} in ${c.marks}`);
  assert.deepEqual(c.axisTitles.sort(), ['accuracy (share correct)', 'answer confidence']);
  const bins = (spec as { layer: Array<{ data: { values: Array<{ count: number; label: string }> } }> })
    .layer[0].data.values;
  assert.equal(bins.length, 11);
  assert.equal(bins[0].label, 'n=40');
  assert.match(JSON.stringify(spec), /ECE 0\.031 \[0\.020, 0\.045\] over 990 answers/);
});

test('per-finding bars: a panel per metric, a bar and an interval per finding × condition, missing values left out', () => {
  const spec = perFindingSpec([
    { name: 'own images', metrics: F.ownImages },
    { name: 'images permuted across cases', metrics: F.permutedImages },
  ]);
  const c = compiled(spec);
  assert.deepEqual(c.warnings, []);
  assert.ok(c.marks.includes('bar') && c.marks.includes('rule'), c.marks.join());
  const rows = (spec as { data: { values: Array<{ metric: string; finding: string; condition: string }> } })
    .data.values;
  // 12 findings × 3 metrics × 2 conditions, less consolidation's omission (no value) in both conditions.
  assert.equal(rows.length, 12 * 3 * 2 - 2);
  assert.equal(new Set(rows.map((r) => r.metric)).size, 3);
  assert.ok(!rows.some((r) => r.finding === 'consolidation' && r.metric.startsWith('omission')));
});

test('gate chart: current vs candidate with intervals per gated metric, and the paired difference coloured by check', () => {
  const spec = gateSpec(F.gateInput);
  const c = compiled(spec);
  assert.deepEqual(c.warnings, []);
  assert.equal(c.title, 'Gate: refuse (omission rate)');
  assert.ok(c.axisTitles.includes('metric value') && c.axisTitles.includes('candidate − current'));
  assert.deepEqual(c.legendTitles.sort(), ['gate check', 'version']);
  const [values, diffs] = (
    spec as { hconcat: Array<{ data: { values: Array<Record<string, unknown>> } }> }
  ).hconcat.map((h) => h.data.values);
  // pope is not in the comparison, so not drawn; nodule has no own interval in the records (null ends).
  assert.equal(diffs.length, 5);
  assert.deepEqual(
    diffs.map((d) => d.check),
    ['pass', 'pass', 'fail', 'pass', 'skipped'],
  );
  assert.equal(values.length, 10);
  assert.deepEqual(values.at(-1), {
    metric: 'accuracy of nodule ↑',
    model: 'candidate',
    value: 0.82,
    lo: null,
    hi: null,
  });
});

test('renderPng: a PNG twice the SVG size (scale 2) or as large at scale 1', async () => {
  const spec = reliabilitySpec(F.reliability);
  const svg = await renderSvg(spec);
  const size = svgSize(svg);
  const twice = pngSize(await renderPng(spec));
  assert.deepEqual([twice.width, twice.height], [size.width * 2, size.height * 2]);
  const once = pngSize(await renderPng(spec, { scale: 1 }));
  assert.deepEqual([once.width, once.height], [size.width, size.height]);
  for (const s of [
    sftLossSpec(F.sftInput),
    gateSpec(F.gateInput),
    ...Object.values(dpoSpecs(F.dpoSteps, 0.1)),
  ]) {
    const { width, height } = pngSize(await renderPng(s, { scale: 1 }));
    assert.ok(width > 300 && height > 200, `${width}×${height}`);
  }
});

test('golden-ish: axis titles, title and legend labels are text in the SVG', async () => {
  const svg = await renderSvg(sftLossSpec(F.sftInput));
  const texts = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
  for (const t of [
    'SFT loss',
    'loss (nats)',
    'optimiser step',
    'training loss',
    'validation answer-token NLL',
  ])
    assert.ok(texts.includes(t), `${t} not among ${texts.slice(0, 40).join(' | ')}`);
  assert.ok(!texts.some((t) => t.endsWith('…')), 'no label truncated');
});

test('text is drawn with the bundled font (system fonts are not loaded)', async () => {
  const svg =
    '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40"><rect width="200" height="40" fill="white"/>' +
    '<text x="4" y="28" font-size="24">Axis 0.5</text></svg>';
  const { png } = pngSize(await svgToPng(svg, { scale: 1 }));
  let dark = 0;
  for (let i = 0; i < png.data.length; i += 4) if (png.data[i] < 128) dark++;
  assert.ok(dark > 200, `only ${dark} dark pixels: no glyphs drawn`);
});

test('captioned grid: tiles plus caption lines under each, the size the layout says', async () => {
  const tile = (v: number) => ({
    width: 32,
    height: 32,
    bitsStored: 8,
    data: new Uint16Array(32 * 32).fill(v),
  });
  const grid = await captionedGrid(
    [
      { image: tile(40), caption: ['normal', 'no finding'] },
      { image: tile(200), caption: ['effusion', 'pleural_effusion right severe'] },
    ],
    { columns: 2, gap: 4, fontSize: 10 },
  );
  const { width, height, png } = pngSize(grid.png);
  assert.deepEqual([width, height], [grid.width, grid.height]);
  assert.match(grid.captions, />normal</);
  assert.match(grid.captions, /font-weight="bold">effusion</);
  // The first tile's pixels are its image (value 40).
  assert.equal(png.data[(6 * width + 6) * 4], 40);
});
