/**
 * How visible each finding is at a model's input resolution, measured on phantoms: the same patient
 * rendered with and without the finding (editCase), both preprocessed exactly as the model sees them.
 *
 * contrast-to-clutter = mean |with − without| over the finding's core (pixels changed by at least half
 *                       the largest change: robust to thin lines in large boxes)
 *                       ÷ RMS of the finding-free image's local texture (image − 5×5 box mean) in the
 *                       finding's region.
 * A ratio ≥ 1 means the finding changes the input by more than the anatomy already varies around it.
 * Ceiling: on a balanced yes/no probe an observer that sees only visible findings scores
 * (1 + share visible) / 2 (invisible positives look like negatives, so those pairs are coin flips).
 */
import { CATALOGUE } from '../data/catalogue.ts';
import { toModelInput } from '../data/image/index.ts';
import { grayToDecoded } from '../data/image/preprocess.ts';
import { editCase, findingRegion, renderCase, sampleCase } from '../data/phantom/index.ts';
import { FINDING_KEYS, type FindingKey, type PhantomCase } from '../data/types.ts';

export interface VisibilityOptions {
  /** The model's input side (64 for v0001–v0002, 128 from v0003). */
  modelSize: number;
  /** Rendering side before preprocessing (the data set's; default 256). */
  renderSize?: number;
  /** Patients per finding (default 20). */
  cases?: number;
  /** Patient seeds start here (default 900000, far from synth's own seeds). */
  seed?: number;
  /** Ratio at or above which a case counts as visible (default 1). */
  threshold?: number;
}

export interface FindingVisibility {
  finding: FindingKey;
  cases: number;
  median_ratio: number;
  /** Share of cases whose ratio ≥ threshold. */
  visible_share: number;
  /** Balanced yes/no accuracy an observer of only the visible cases reaches. */
  ceiling: number;
  visible: boolean;
}

function input(c: PhantomCase, renderSize: number, modelSize: number): Float32Array {
  return toModelInput(grayToDecoded(renderCase(c, { size: renderSize })), modelSize);
}

/** 5×5 box mean with clamped edges. */
function boxMean(img: Float32Array, size: number): Float32Array {
  const out = new Float32Array(img.length);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      let s = 0;
      let n = 0;
      for (let dy = -2; dy <= 2; dy++)
        for (let dx = -2; dx <= 2; dx++) {
          const yy = y + dy;
          const xx = x + dx;
          if (yy < 0 || xx < 0 || yy >= size || xx >= size) continue;
          s += img[yy * size + xx];
          n++;
        }
      out[y * size + x] = s / n;
    }
  return out;
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0
    ? Number.NaN
    : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Contrast-to-clutter of one finding on one patient (the finding added when absent). */
export function contrastToClutter(
  c: PhantomCase,
  finding: FindingKey,
  renderSize: number,
  modelSize: number,
): number {
  const present = c.findings.find((f) => f.name === finding)?.present
    ? c
    : editCase(c, { finding, change: 'add' });
  const absent = editCase(present, { finding, change: 'remove' });
  const a = input(present, renderSize, modelSize);
  const b = input(absent, renderSize, modelSize);
  const box = findingRegion(present, finding, renderSize);
  const scale = modelSize / renderSize;
  const x0 = Math.floor(box.x0 * scale);
  const y0 = Math.floor(box.y0 * scale);
  const x1 = Math.max(x0 + 1, Math.ceil(box.x1 * scale));
  const y1 = Math.max(y0 + 1, Math.ceil(box.y1 * scale));
  const smooth = boxMean(b, modelSize);
  const diffs: number[] = [];
  let texture = 0;
  let n = 0;
  for (let y = y0; y < Math.min(y1, modelSize); y++)
    for (let x = x0; x < Math.min(x1, modelSize); x++) {
      const i = y * modelSize + x;
      diffs.push(Math.abs(a[i] - b[i]));
      texture += (b[i] - smooth[i]) ** 2;
      n++;
    }
  const clutter = Math.sqrt(texture / Math.max(1, n));
  const peak = Math.max(0, ...diffs);
  const core = diffs.filter((d) => d >= peak / 2);
  const signal = core.length > 0 ? core.reduce((x, y) => x + y, 0) / core.length : 0;
  return signal / Math.max(clutter, 1e-6);
}

export function visibilityTable(o: VisibilityOptions): FindingVisibility[] {
  const renderSize = o.renderSize ?? 256;
  const cases = o.cases ?? 20;
  const seed = o.seed ?? 900000;
  const threshold = o.threshold ?? 1;
  const patients = Array.from({ length: cases }, (_, i) => sampleCase(seed + i));
  return FINDING_KEYS.map((finding) => {
    const ratios = patients.map((c) => contrastToClutter(c, finding, renderSize, o.modelSize));
    const share = ratios.filter((r) => r >= threshold).length / ratios.length;
    const median = quantile(ratios, 0.5);
    return {
      finding,
      cases,
      median_ratio: median,
      visible_share: share,
      ceiling: (1 + share) / 2,
      visible: median >= threshold,
    };
  });
}

/** The findings visible at this input size: median contrast-to-clutter ≥ the threshold (default 1). */
export function visibleFindings(
  modelSize: number,
  o: Omit<VisibilityOptions, 'modelSize'> = {},
): Set<FindingKey> {
  return new Set(
    visibilityTable({ ...o, modelSize })
      .filter((r) => r.visible)
      .map((r) => r.finding),
  );
}

export function formatVisibility(rows: readonly FindingVisibility[], modelSize: number): string {
  const header = ['finding', 'median contrast/clutter', 'share visible', 'closed ceiling', 'visible'];
  const cells = rows.map((r) => [
    CATALOGUE[r.finding].display,
    r.median_ratio.toFixed(2),
    r.visible_share.toFixed(2),
    r.ceiling.toFixed(2),
    r.visible ? 'yes' : 'no',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) =>
    c
      .map((x, i) => x.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [
    `visibility at ${modelSize} px (${rows[0]?.cases ?? 0} phantoms per finding, with vs without it)`,
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...cells.map(line),
  ].join('\n');
}
