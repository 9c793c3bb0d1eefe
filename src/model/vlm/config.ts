import { VlmError } from './errors.ts';

/**
 * The shape of a chexpo-tiny model. Graphs are built from it; weights are data checked against it.
 *
 * Image path: (imageSize/patchSize)² patches → ViT encoder → average-pooled to `imageTokens` → projector.
 * Text path: word tokens with learned positions; the decoder sees [image tokens][text tokens].
 */
export interface VlmConfig {
  /** Side of the square single-channel input image, in pixels. */
  imageSize: number;
  /** Side of a square patch; imageSize must be a multiple of it. */
  patchSize: number;
  encoderDim: number;
  encoderLayers: number;
  encoderHeads: number;
  /**
   * Image tokens given to the decoder after square average pooling of the patch grid (a square number;
   * e.g. 16 from an 8×8 grid by 2×2 pooling). Keeps the decoder sequence short.
   */
  imageTokens: number;
  decoderDim: number;
  decoderLayers: number;
  decoderHeads: number;
  /** MLP hidden width = mlpRatio × model width, in both stacks. */
  mlpRatio: number;
  /** Set from the tokenizer (`tokenizer.vocabSize`). */
  vocabSize: number;
  /** Text positions (learned position embeddings); image tokens do not count. */
  maxSeqLen: number;
  /**
   * Width of the pooled image embedding (the LanceDB vector). It is the mean of the encoder's output
   * tokens, so it must equal encoderDim: a projection head would stay untrained (no loss reaches it).
   */
  embeddingDim: number;
  /**
   * Auxiliary per-finding presence head on the encoder (one logit per FINDING_KEYS entry, pooled over
   * patches by log-mean-exp): trained with a BCE loss beside SFT so the encoder must see every finding,
   * however rarely it is asked about. Absent in configs without it (v0001, v0002).
   */
  findingHead?: number;
  /**
   * Optional pixel stem beside the linear patch embedding: every patch is cut into sub-patches of this
   * side, each mapped by Linear → GELU to `stemWidth` features, and the patch's sub-patch features are
   * projected to encoderDim and added to the patch embedding (a two-layer convolution with kernel =
   * stride). It gives the embedding a nonlinearity at pixel scale, which a thin line or a small round
   * opacity needs; the projection starts at zero, so a model extended with a stem starts as its parent.
   */
  stemSubPatch?: number;
  /** Features per stem sub-patch (with stemSubPatch). */
  stemWidth?: number;
  /**
   * The decoder reads the finding head (with findingHead): its logits, projected to decoderDim, are added
   * to every image token. Average pooling dilutes a thin line or a small nodule that the head's soft
   * maximum over patches keeps (v0005: central-line AUROC 0.84 in the head, 0.75 omission in the
   * answers). The projection starts at zero, so a model extended with it starts as its parent.
   */
  findingEvidence?: boolean;
}

/** Optional fields a trained version can be extended with (each starts at zero: step 0 is the parent). */
export const EXTENSION_FIELDS = ['stemSubPatch', 'stemWidth', 'findingEvidence'] as const;

/**
 * The bundled model: ~1.5 M parameters. 64×64 input in 8×8 patches (64 patches, pooled 2×2 to 16 image
 * tokens), width 128, 3 encoder + 4 decoder layers of 4 heads. vocabSize is a placeholder (the synthetic
 * corpus has ~290 words): the trainer sets it to the tokenizer's size. maxSeqLen 256 covers the longest
 * synthetic reports (~200 text tokens with the prompt; questions take 35–65).
 */
export const CHEXPO_TINY: VlmConfig = {
  imageSize: 64,
  patchSize: 8,
  encoderDim: 128,
  encoderLayers: 3,
  encoderHeads: 4,
  imageTokens: 16,
  decoderDim: 128,
  decoderLayers: 4,
  decoderHeads: 4,
  mlpRatio: 4,
  vocabSize: 384,
  maxSeqLen: 256,
  embeddingDim: 128,
};

/**
 * chexpo-tiny at 128 px (v0003 on): 16×16 patches keep the 64-patch grid and the decoder's 16 image
 * tokens, so the larger input costs mostly the patch projection; plus the finding head.
 */
export const CHEXPO_TINY_128: VlmConfig = {
  ...CHEXPO_TINY,
  imageSize: 128,
  patchSize: 16,
  findingHead: 12,
};

/** Tests: 16×16 image in 4×4 patches pooled to 4 image tokens, width 16, one layer per stack. */
export const TEST_TINY: VlmConfig = {
  imageSize: 16,
  patchSize: 4,
  encoderDim: 16,
  encoderLayers: 1,
  encoderHeads: 2,
  imageTokens: 4,
  decoderDim: 16,
  decoderLayers: 1,
  decoderHeads: 2,
  mlpRatio: 2,
  vocabSize: 24,
  maxSeqLen: 16,
  embeddingDim: 16,
};

/** Sizes derived from a config. */
export interface Geometry {
  /** Patches per side. */
  grid: number;
  /** Patches per image. */
  patches: number;
  /** Pixels per patch (the patch embedding's input width). */
  patchPixels: number;
  /** Image tokens per side after pooling. */
  pooledGrid: number;
  /** Patches per pooling window side. */
  pool: number;
  /** Stem sub-patches per patch (0 without a stem). */
  stemCells: number;
}

function check(ok: boolean, message: string): void {
  if (!ok) throw new VlmError('VLM_BAD_CONFIG', message);
}

/** Validates `config` and returns its derived sizes. */
export function geometry(config: VlmConfig): Geometry {
  const { findingEvidence, ...sizes } = config;
  const positive = Object.entries(sizes).filter(([, v]) => !Number.isInteger(v) || v < 1);
  check(positive.length === 0, `fields must be positive integers: ${positive.map(([k]) => k).join(', ')}`);
  check(config.imageSize % config.patchSize === 0, 'imageSize must be a multiple of patchSize');
  const grid = config.imageSize / config.patchSize;
  const pooledGrid = Math.round(Math.sqrt(config.imageTokens));
  check(pooledGrid * pooledGrid === config.imageTokens, 'imageTokens must be a square number');
  check(grid % pooledGrid === 0, `a ${grid}×${grid} patch grid cannot pool to ${pooledGrid}×${pooledGrid}`);
  check(config.encoderDim % config.encoderHeads === 0, 'encoderDim must be a multiple of encoderHeads');
  check(config.decoderDim % config.decoderHeads === 0, 'decoderDim must be a multiple of decoderHeads');
  check(
    config.embeddingDim === config.encoderDim,
    'embeddingDim must equal encoderDim (mean-pooled encoder)',
  );
  const stem = config.stemSubPatch ?? 0;
  check((config.stemWidth === undefined) === (stem === 0), 'stemSubPatch and stemWidth go together');
  check(stem === 0 || config.patchSize % stem === 0, 'patchSize must be a multiple of stemSubPatch');
  check(
    findingEvidence === undefined || (typeof findingEvidence === 'boolean' && !!config.findingHead),
    'findingEvidence is a boolean and needs findingHead',
  );
  return {
    grid,
    patches: grid * grid,
    patchPixels: config.patchSize * config.patchSize,
    pooledGrid,
    pool: grid / pooledGrid,
    stemCells: stem === 0 ? 0 : (config.patchSize / stem) ** 2,
  };
}
