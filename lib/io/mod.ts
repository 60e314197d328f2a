/**
 * File output: atomic writes, JSON lines, NumPy's `.npy` format; the safetensors format (read
 * and written).
 *
 * @module
 */
export { appendJsonl, writeFileAtomic, writeJsonAtomic } from "./atomic.ts";
export { decodeNpy, encodeNpy } from "./npy.ts";
export {
  decodeSafetensors,
  encodeSafetensors,
  f32Tensor,
  float32Of,
  SAFETENSORS_MAX_HEADER,
  type SafetensorsDtype,
  SafetensorsError,
  type SafetensorsFile,
  type SafetensorsTensor,
} from "./safetensors.ts";
