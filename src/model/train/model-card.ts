import type { VlmConfig } from '../vlm/config.ts';

export interface CardFacts {
  name: string;
  config: VlmConfig;
  parameters: number;
  data: { dir: string; seed?: number; trainSamples: number; trainCases: number };
  training: { command: string; steps: number; epochs: number; minutes: number; finalValNll?: number };
}

/** The model card shipped in every version directory: intended use, data, known limits. */
export function modelCard(f: CardFacts): string {
  return `# ${f.name}

A small LLaVA-style chest X-ray vision-language model defined, trained and exported by chexpo.

## Intended use
Research and engineering of CXR VLM serving and hallucination reduction (CheXPO). **Not for diagnosis,
triage or any clinical decision.** It was trained only on synthetic phantoms and is expected to fail on real
radiographs; the server reports a high hallucination risk for images outside its training distribution.

## Model
- ${f.parameters.toLocaleString('en-US')} parameters: ViT encoder (${f.config.encoderLayers} layers, width ${f.config.encoderDim}) on
  ${f.config.imageSize}×${f.config.imageSize} inputs in ${f.config.patchSize}×${f.config.patchSize} patches${f.config.stemSubPatch ? ` with a pixel stem (${f.config.stemSubPatch}×${f.config.stemSubPatch}-pixel sub-patches, ${f.config.stemWidth} features each)` : ''}, pooled to ${f.config.imageTokens} image tokens${f.config.findingEvidence ? " that also carry the finding head's logits" : ''}; causal decoder
  (${f.config.decoderLayers} layers, width ${f.config.decoderDim}, ${f.config.decoderHeads} heads), tied word-level LM head (${f.config.vocabSize} tokens).
- Serving graphs: encoder.onnx, prefill.onnx, step.onnx (ONNX opset 18, default domain; weights as external
  data in weights.safetensors).

## Training data
Synthetic frontal chest radiographs with exact labels (\`chexpo synth\`), data set \`${f.data.dir}\`${f.data.seed !== undefined ? ` (seed ${f.data.seed})` : ''}:
${f.data.trainCases.toLocaleString('en-US')} training cases, ${f.data.trainSamples.toLocaleString('en-US')} instruction samples (closed, choice, open, abnormality list, report).

## Training
\`${f.training.command}\` — ${f.training.steps} AdamW steps over ${f.training.epochs} epoch(s), ${f.training.minutes.toFixed(1)} minutes
on CPU${f.training.finalValNll !== undefined ? `; final validation answer-token NLL ${f.training.finalValNll.toFixed(4)}` : ''}.

## Evaluation
See \`eval\` in manifest.json and docs/model.md (\`chexpo eval\` on the held-out test split, with bootstrap
intervals).

## Known limits
- Phantoms lack real parenchymal texture, overlapping anatomy and devices; nothing here transfers to real films.
- Mistakes concentrate on rare and subtle findings (small nodules, small apical pneumothorax, rib fractures)
  and on co-occurrence hallucinations: exactly what the CheXPO preference loop targets.
- Word-level vocabulary: words outside the training templates become \`<unk>\` and raise the reported risk.
`;
}
