/**
 * The denoising networks: the 2-D MLP and UNet-S, their configurations and building blocks.
 *
 * @module
 */
export {
  type ApplyOptions,
  type DiffusionModel,
  MLP_TIME_EMBEDDINGS,
  type MlpConfig,
  type MlpTimeEmbedding,
  MODEL_KINDS,
  type ModelConfig,
  type ModelKind,
  type UnetSConfig,
} from "./types.ts";
export { createModel } from "./create_model.ts";
export { createMlp, resolveMlpConfig } from "./mlp.ts";
export { createUnetS, resolveUnetSConfig } from "./unet_s.ts";
export {
  conv1x1,
  conv2d,
  dense,
  dropout,
  embeddingLookup,
  groupNorm,
  silu,
  timestepEmbedding,
  upsample2x,
} from "./layers.ts";
export { type ConvParams, type DenseParams, type GroupNormParams, ParamStore } from "./params.ts";
export {
  fromTorch,
  type TorchLayout,
  type TorchParam,
  torchParams,
  toTorch,
} from "./torch_layout.ts";
export {
  decodeModelFile,
  encodeModelFile,
  MODEL_FILE_FORMAT,
  MODEL_FILE_PREFIXES,
  MODEL_FILE_VERSION,
  ModelFileError,
  type ModelFileState,
  type ModelFileWeights,
} from "./model_file.ts";
