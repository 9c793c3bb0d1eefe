export { warmCodecs } from './codecs.ts';
export { decodeImage } from './decode.ts';
export type { DecodedImage, DecodedImageMeta, ImageFormat } from './decoded-image.ts';
export { type DicomDecodeOptions, defaultFrameIndex } from './dicom.ts';
export {
  CHEXPO_IMPLEMENTATION_CLASS_UID,
  type DicomEncodeOptions,
  DX_FOR_PRESENTATION_SOP_CLASS,
  encodeDicom,
  encodePng8,
  encodePng16,
  uidFromSeed,
} from './encode.ts';
export { IMAGE_ERROR_CODES, ImageError, type ImageErrorCode } from './errors.ts';
export {
  checkInput,
  DEFAULT_INPUT_GATE,
  type ImageInfo,
  INPUT_WARNING_CODES,
  type InputGateConfig,
  type InputWarning,
  imageInfo,
  intensityStats,
  WARNING_RISK_BUMP,
  warningRisk,
} from './gate.ts';
export { DEFAULT_DECODE_LIMITS, type DecodeLimits } from './limits.ts';
export {
  grayToDecoded,
  type IntensityImage,
  MODEL_INPUT_MEAN,
  MODEL_INPUT_STD,
  toModelInput,
} from './preprocess.ts';
export {
  SUPPORTED_SYNTAXES_TEXT,
  SUPPORTED_TRANSFER_SYNTAXES,
  transferSyntaxName,
} from './transfer-syntax.ts';
