/**
 * Export as a TRL preference dataset for vision-language models: `train.jsonl` in TRL's
 * conversational preference format (what TRL's DPO docs and its VLM example use: a user turn whose
 * content is `[{type: 'image'}, {type: 'text', text}]`, assistant turns for chosen and rejected),
 * an `images` column of relative PNG paths (one image per row, matching the single image
 * placeholder), and the plain strings, kind, weight and provenance alongside. Image-counterfactual
 * rows add `rejected_images`; stock TRL shows `images` to both sides, so README.md explains how to
 * drop or handle those rows.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PairKind } from '../../store/contract.ts';
import type { ImageRef, PairCandidate, PairProvenance } from '../types.ts';
import { sentenceCase } from './casing.ts';
import { encodeImageRef, imageRefSlug } from './image-ref.ts';
import type { ImageResolver } from './images.ts';
import { TRL_README } from './trl-readme.ts';

type TextPart = { type: 'text'; text: string };
type ImagePart = { type: 'image' };

export interface TrlRow {
  prompt: [{ role: 'user'; content: [ImagePart, TextPart] }];
  chosen: [{ role: 'assistant'; content: [TextPart] }];
  rejected: [{ role: 'assistant'; content: [TextPart] }];
  /** Relative to the export directory. */
  images: [string];
  /** Only for image-counterfactual pairs: the image the rejected side must be scored with. */
  rejected_images?: [string];
  question: string;
  chosen_text: string;
  rejected_text: string;
  kind: PairKind;
  weight: number;
  provenance: PairProvenance;
}

export interface TrlExportResult {
  rows: number;
  images: number;
  path: string;
}

function assistant(text: string): [{ role: 'assistant'; content: [TextPart] }] {
  return [{ role: 'assistant', content: [{ type: 'text', text }] }];
}

export function toTrlRow(c: PairCandidate, imagePath: (ref: ImageRef) => string): TrlRow {
  // One casing on both sides (casing.ts), also for pairs stored before pairs were generated so.
  const chosen = sentenceCase(c.chosen);
  const rejected = sentenceCase(c.rejected);
  const row: TrlRow = {
    prompt: [{ role: 'user', content: [{ type: 'image' }, { type: 'text', text: c.prompt }] }],
    chosen: assistant(chosen),
    rejected: assistant(rejected),
    images: [imagePath(c.chosenImage)],
    question: c.prompt,
    chosen_text: chosen,
    rejected_text: rejected,
    kind: c.kind,
    weight: c.weight,
    provenance: c.provenance,
  };
  if (encodeImageRef(c.rejectedImage) !== encodeImageRef(c.chosenImage))
    row.rejected_images = [imagePath(c.rejectedImage)];
  return row;
}

/** Writes train.jsonl, images/*.png (one file per distinct reference) and README.md under outDir. */
export async function exportTrl(
  outDir: string,
  candidates: readonly PairCandidate[],
  resolver: Pick<ImageResolver, 'png16'>,
): Promise<TrlExportResult> {
  await mkdir(join(outDir, 'images'), { recursive: true });
  const paths = new Map<string, string>();
  const used = new Set<string>();
  const imagePath = (ref: ImageRef): string => {
    const key = encodeImageRef(ref);
    let path = paths.get(key);
    if (!path) {
      const slug = imageRefSlug(ref).replace(/[^A-Za-z0-9._~-]/g, '_');
      let name = `images/${slug}.png`;
      for (let n = 2; used.has(name); n++) name = `images/${slug}-${n}.png`;
      used.add(name);
      paths.set(key, (path = name));
    }
    return path;
  };
  const rows = candidates.map((c) => toTrlRow(c, imagePath));
  const refs = new Map<string, ImageRef>();
  for (const c of candidates)
    for (const ref of [c.chosenImage, c.rejectedImage]) refs.set(encodeImageRef(ref), ref);
  for (const [key, ref] of refs) await writeFile(join(outDir, paths.get(key)!), await resolver.png16(ref));
  const path = join(outDir, 'train.jsonl');
  await writeFile(path, rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
  await writeFile(join(outDir, 'README.md'), TRL_README);
  return { rows: rows.length, images: refs.size, path };
}
