/**
 * The fair baseline of the ablation: the SFT model trained on as many more SFT samples as the
 * preference arms get pairs, with the same optimiser settings, so a DPO gain cannot be explained by
 * "it simply trained longer".
 */
import type { InstructionSample } from '../../data/types.ts';
import type { DataCase } from '../../evaluation-run/index.ts';
import { loadCaseImage } from '../../model/train/dataset.ts';
import { runTraining } from '../../model/train/loop.ts';
import { parameterShapes, sftProgram } from '../../model/train/sft.ts';
import { trainingSequence } from '../../model/vlm/tokens.ts';
import { loadVersion, loadVersionWeights, writeVersion } from '../../model/vlm/version.ts';
import { noWeightDecay } from '../../model/vlm/weights.ts';

export interface ContinueSftOptions {
  baseVersionDir: string;
  dataDir: string;
  cases: readonly DataCase[];
  samples: readonly InstructionSample[];
  outDir: string;
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  threads: number;
}

export async function continueSft(o: ContinueSftOptions): Promise<{ versionDir: string; steps: number }> {
  const version = await loadVersion(o.baseVersionDir);
  const { config, weights } = await loadVersionWeights(o.baseVersionDir);
  const byId = new Map(o.cases.map((c) => [c.id, c]));
  const images = new Map<string, Float32Array>();
  const examples = [];
  for (const sample of o.samples) {
    const sequence = trainingSequence(
      version.tokenizer,
      sample.question,
      sample.target_text,
      Number.POSITIVE_INFINITY,
    );
    if (sequence.inputIds.length > config.maxSeqLen) continue;
    if (!images.has(sample.case_id))
      images.set(sample.case_id, await loadCaseImage(o.dataDir, byId.get(sample.case_id)!, config.imageSize));
    examples.push({ sample, sequence });
  }
  const program = sftProgram(config, { examples, images, tooLong: 0 }, o.batchSize, o.seed);
  const totalSteps = program.batches(0).length * o.epochs;
  const logs = await runTraining(program, {
    params: weights,
    shapes: parameterShapes(config),
    epochs: o.epochs,
    schedule: { peak: o.learningRate, warmupSteps: Math.ceil(totalSteps * 0.1), minRatio: 0.1, totalSteps },
    noDecay: noWeightDecay,
    intraOpThreads: o.threads,
  });
  const versionDir = `${o.outDir}/version`;
  await writeVersion(versionDir, {
    config,
    weights,
    tokenizer: version.tokenizer,
    modelCard: `# SFT continued (experiment baseline)\n\n${examples.length} more SFT samples, ${logs.length} steps.\n`,
  });
  return { versionDir, steps: logs.length };
}
