/**
 * A probe of what the encoder sees: the finding head's presence logits on a split's cases, scored by
 * AUROC per finding against the exact labels. The head reads the encoder's patch features directly,
 * so a finding at 0.5 here is one the decoder cannot be reading from the image either.
 */
import { join } from 'node:path';
import { FINDING_KEYS, type FindingKey, type Split } from '../../data/types.ts';
import { aurocIntervals, type CasePoint } from '../../eval/auroc-interval.ts';
import { auroc } from '../../eval/risk-quality.ts';
import { Graph } from '../../model/graph/index.ts';
import { OrtSession, ortTensor } from '../../model/ort/session.ts';
import { type CaseRow, findingTargets, loadCaseImage, readJsonl } from '../../model/train/dataset.ts';
import { ModelBuilder } from '../../model/vlm/layers.ts';
import { servingBytes } from '../../model/vlm/serving.ts';
import { loadVersionWeights } from '../../model/vlm/version.ts';
import { encodeImage, findingLogits } from '../../model/vlm/vlm.ts';

export interface FindingHeadScore {
  finding: FindingKey;
  /** Cases with the finding present / with its label known. */
  positives: number;
  known: number;
  /** NaN when a class is missing. */
  auroc: number;
  /** 95% case-bootstrap interval (1,000 replicates). */
  interval95: [number, number];
}

export interface FindingHeadOptions {
  /** The first N cases of the split (default all). */
  cases?: number;
  threads?: number;
  batchSize?: number;
}

export async function probeFindingHead(
  versionDir: string,
  dataDir: string,
  split: Split,
  o: FindingHeadOptions = {},
): Promise<FindingHeadScore[]> {
  const { config, weights } = await loadVersionWeights(versionDir);
  if (!config.findingHead) throw new Error(`${versionDir}: this model has no finding head to probe`);
  const g = new Graph('chexpo_finding_probe');
  const m = new ModelBuilder(g, config);
  const image = g.input('image', m.dtype, ['batch', 1, config.imageSize, config.imageSize]);
  g.output(findingLogits(m, encodeImage(m, image).patchFeatures), 'finding_logits');
  const session = await OrtSession.create(servingBytes(g, config, weights), { intraOpThreads: o.threads });

  let rows = await readJsonl<CaseRow>(join(dataDir, 'cases', `${split}.jsonl`));
  if (o.cases !== undefined) rows = rows.slice(0, o.cases);
  const f = FINDING_KEYS.length;
  const points = FINDING_KEYS.map(() => [] as CasePoint[]);
  const batch = o.batchSize ?? 32;
  const pixels = config.imageSize * config.imageSize;
  try {
    for (let i = 0; i < rows.length; i += batch) {
      const part = rows.slice(i, i + batch);
      const images = new Float32Array(part.length * pixels);
      for (const [k, row] of part.entries())
        images.set(await loadCaseImage(dataDir, row, config.imageSize), k * pixels);
      const out = await session.run({
        image: ortTensor('float32', images, [part.length, 1, config.imageSize, config.imageSize]),
      });
      const logits = out.finding_logits.data as Float32Array;
      for (const [k, row] of part.entries()) {
        const { labels, mask } = findingTargets(row.findings);
        for (let j = 0; j < f; j++)
          if (mask[j] > 0)
            points[j].push({ risk: logits[k * f + j], wrong: labels[j] === 1, caseIndex: i + k });
      }
    }
  } finally {
    await session.release();
  }
  const intervals = aurocIntervals(points, rows.length);
  return FINDING_KEYS.map((finding, j) => ({
    finding,
    positives: points[j].filter((p) => p.wrong).length,
    known: points[j].length,
    auroc: auroc(points[j]),
    interval95: intervals[j],
  }));
}

export function formatFindingHead(scores: readonly FindingHeadScore[]): string {
  const lines = [
    'finding             positives / known  head AUROC [95% CI]',
    '------------------  -----------------  -------------------------',
  ];
  const ci = ([lo, hi]: [number, number]) =>
    Number.isNaN(lo) ? '' : ` [${lo.toFixed(3)}, ${hi.toFixed(3)}]`;
  for (const s of scores)
    lines.push(
      `${s.finding.replaceAll('_', ' ').padEnd(18)}  ${`${s.positives} / ${s.known}`.padEnd(17)}  ${Number.isNaN(s.auroc) ? '-' : `${s.auroc.toFixed(3)}${ci(s.interval95)}`}`,
    );
  return lines.join('\n');
}
