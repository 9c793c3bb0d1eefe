import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeDicom, encodePng8, encodePng16 } from '../image/index.ts';
import { synthesizeInstructions } from '../instructions/index.ts';
import { type PhantomConfig, renderCase, sampleCase } from '../phantom/index.ts';
import { Rng } from '../random.ts';
import { splitForPatient } from '../splits.ts';
import type { InstructionSample, PhantomCase, Split } from '../types.ts';

export type ImageFormat = 'png16' | 'png8' | 'dicom';

export interface ChunkTask {
  seeds: number[];
  outDir: string;
  size: number;
  formats: ImageFormat[];
  /** Label statistics; the phantom defaults when absent. */
  phantomConfig?: PhantomConfig;
}

export interface CaseRecord extends PhantomCase {
  split: Split;
  /** Paths relative to the output directory, by format. */
  images: Partial<Record<ImageFormat, string>>;
}

export interface ChunkResult {
  cases: CaseRecord[];
  samples: Array<InstructionSample & { split: Split }>;
}

const FORMAT_FILES: Record<ImageFormat, { dir: string; ext: string }> = {
  png16: { dir: 'images', ext: 'png' },
  png8: { dir: 'preview', ext: 'png' },
  dicom: { dir: 'dicom', ext: 'dcm' },
};

export function imagePath(format: ImageFormat, caseId: string): string {
  const { dir, ext } = FORMAT_FILES[format];
  return join(dir, `${caseId}.${ext}`);
}

/** Generates, renders and writes one chunk of cases; returns their labels and instruction samples. */
export async function generateChunk(task: ChunkTask): Promise<ChunkResult> {
  const result: ChunkResult = { cases: [], samples: [] };
  await Promise.all(
    task.formats.map((f) => mkdir(join(task.outDir, FORMAT_FILES[f].dir), { recursive: true })),
  );
  for (const seed of task.seeds) {
    const phantom = sampleCase(seed, task.phantomConfig);
    const split = splitForPatient(phantom.patient_id);
    const image = renderCase(phantom, { size: task.size });
    const images: CaseRecord['images'] = {};
    for (const format of task.formats) {
      const bytes =
        format === 'png16'
          ? encodePng16(image)
          : format === 'png8'
            ? encodePng8(image)
            : encodeDicom(image, { seed, view: phantom.view });
      images[format] = imagePath(format, phantom.id);
      await writeFile(join(task.outDir, images[format]), bytes);
    }
    result.cases.push({ ...phantom, split, images });
    for (const sample of synthesizeInstructions(phantom, Rng.derive(seed, 'instructions'))) {
      result.samples.push({ ...sample, split });
    }
  }
  return result;
}
