/** `--stem SxW`: a pixel stem of S-pixel sub-patches with W features each (VlmConfig.stemSubPatch/Width). */
import { UsageError } from './args.ts';

export interface StemFields {
  stemSubPatch: number;
  stemWidth: number;
}

export function parseStemOption(text: string): StemFields {
  const match = /^(\d+)x(\d+)$/.exec(text);
  const [s, w] = match ? [Number(match[1]), Number(match[2])] : [0, 0];
  if (!(s >= 1 && w >= 1))
    throw new UsageError(
      `--stem ${text}: expected SUBPATCHxWIDTH, e.g. 4x16 (4-px sub-patches, 16 features)`,
    );
  return { stemSubPatch: s, stemWidth: w };
}
