/**
 * `chexpo eval --ood DIR`: how a version's OOD detector treats a folder of images — a hospital's own
 * films before going live. Every file is decoded and preprocessed as serving does, encoded, scored
 * and flagged at the version's threshold; files that do not decode are listed with the reason.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeImage, toModelInput } from '../../data/image/index.ts';
import { openVersion } from './run.ts';

export interface OodFileResult {
  file: string;
  score?: number;
  flagged?: boolean;
  error?: string;
}

export async function scoreFolder(
  versionDir: string,
  dir: string,
  threads?: number,
): Promise<OodFileResult[]> {
  const model = await openVersion(versionDir, { threads });
  try {
    if (!model.ood) throw new Error(`${versionDir} has no ood.json: nothing to score with`);
    const out: OodFileResult[] = [];
    const files = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
    for (const file of files.sort()) {
      try {
        const input = toModelInput(
          decodeImage(new Uint8Array(await readFile(join(dir, file)))),
          model.version.config.imageSize,
        );
        const { embeddings } = await model.generator.encodeImages([input]);
        const score = model.ood.score(embeddings[0], input);
        out.push({ file, score, flagged: score > model.ood.flagQuantile });
      } catch (e) {
        out.push({ file, error: (e as Error).message });
      }
    }
    return out;
  } finally {
    await model.close();
  }
}

export function formatFolder(results: readonly OodFileResult[]): string {
  const scored = results.filter((r) => r.score !== undefined);
  const flagged = scored.filter((r) => r.flagged).length;
  return [
    `${scored.length} images scored, ${flagged} flagged out of distribution (${scored.length ? ((100 * flagged) / scored.length).toFixed(1) : '0'} %); ${results.length - scored.length} not decoded`,
    ...results.map((r) =>
      r.score === undefined
        ? `  not decoded  ${r.file}: ${r.error}`
        : `  ${r.flagged ? 'FLAGGED' : 'in dist'}  ${r.score.toFixed(4)}  ${r.file}`,
    ),
  ].join('\n');
}
