/**
 * The fair baseline of the ablation: the SFT model trained further with SFT's own recipe (its learning
 * rate and schedule shape, answer-token weight and finding-head loss) for the same number of steps as a
 * DPO arm, each step seeing as many sequences as a DPO step does (both sides of every pair plus the
 * replay batch), so a DPO gain cannot be explained by "it simply trained longer".
 */
import type { InstructionSample } from '../../data/types.ts';
import type { DataCase } from '../../inference/offline/index.ts';
import { findingTargets, loadCaseImage, weightAnswerTokens } from '../../model/train/dataset.ts';
import { runTraining } from '../../model/train/run-training.ts';
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
  /** SFT's answer-token weight and finding-head loss weight (v0003: 3 and 2). */
  answerWeight: number;
  findingLossWeight: number;
  seed: number;
  threads: number;
}

export async function continueSft(
  o: ContinueSftOptions,
): Promise<{ versionDir: string; steps: number; tokens: number }> {
  const version = await loadVersion(o.baseVersionDir);
  const { config, weights } = await loadVersionWeights(o.baseVersionDir);
  const byId = new Map(o.cases.map((c) => [c.id, c]));
  const images = new Map<string, Float32Array>();
  const findings = new Map<string, { labels: Float32Array; mask: Float32Array }>();
  const examples = [];
  for (const sample of o.samples) {
    const sequence = trainingSequence(
      version.tokenizer,
      sample.question,
      sample.target_text,
      Number.POSITIVE_INFINITY,
    );
    if (sequence.inputIds.length > config.maxSeqLen) continue;
    if (!images.has(sample.case_id)) {
      const row = byId.get(sample.case_id)!;
      images.set(sample.case_id, await loadCaseImage(o.dataDir, row, config.imageSize));
      findings.set(sample.case_id, findingTargets(row.findings));
    }
    examples.push({
      sample,
      sequence: weightAnswerTokens(sequence, sample, version.tokenizer, o.answerWeight),
    });
  }
  const program = sftProgram(
    config,
    { examples, images, findings, tooLong: 0 },
    o.batchSize,
    o.seed,
    o.findingLossWeight,
  );
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
    modelCard: `# SFT continued (experiment baseline)\n\n${examples.length} more SFT samples, ${logs.length} steps at peak learning rate ${o.learningRate}.\n`,
  });
  return { versionDir, steps: logs.length, tokens: logs.reduce((n, l) => n + l.tokens, 0) };
}
