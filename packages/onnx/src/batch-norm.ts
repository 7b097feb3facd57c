import { DataType, type Weights } from '@trt-refit/core';
import { bf16ToFloat, floatToBf16, floatToHalf, halfToFloat } from './half.js';
import type { OnnxModel, OnnxTensorInfo } from './onnx-model.js';

/** Scale and shift weights of a folded BatchNormalization. */
export interface FoldedBatchNorm {
  readonly scale: Weights;
  readonly shift: Weights;
}

const FLT_MAX = 3.4028234663852886e38;

/** A parameter's values as float32 numbers (DOUBLE clamped to the float range, as the parser converts it). */
function floats(p: OnnxTensorInfo, bytes: Uint8Array): Float32Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(p.count);
  for (let i = 0; i < p.count; i++) {
    switch (p.dataType) {
      case 1: out[i] = dv.getFloat32(4 * i, true); break;
      case 10: out[i] = halfToFloat(dv.getUint16(2 * i, true)); break;
      case 16: out[i] = bf16ToFloat(dv.getUint16(2 * i, true)); break;
      default: out[i] = Math.max(-FLT_MAX, Math.min(FLT_MAX, dv.getFloat64(8 * i, true)));
    }
  }
  return out;
}

/**
 * Folds BatchNormalization's scale (gamma), bias (beta), mean and variance into the per-channel scale and shift
 * of a `Scale` layer, as TensorRT's ONNX parser and parser refitter do: `scale = gamma / sqrt(var + eps)`,
 * `shift = beta - mean * scale`, in float32 arithmetic. The result is FLOAT16 when all four parameters are
 * FLOAT16, BFLOAT16 when all four are BFLOAT16 (epsilon then rounded to that type first), FLOAT otherwise
 * (DOUBLE parameters converted to FLOAT first). Returns the reason instead when the parameters cannot be folded
 * (other element types, different lengths).
 */
export async function foldBatchNorm(model: OnnxModel, params: readonly OnnxTensorInfo[], epsilon: number): Promise<FoldedBatchNorm | string> {
  if (params.length !== 4) return `it needs 4 parameters, received ${params.length}`;
  for (const p of params) {
    if (![1, 10, 11, 16].includes(p.dataType)) return `parameter ${p.name} is ${p.dtypeName}; only FLOAT, FLOAT16, BFLOAT16 and DOUBLE are folded`;
  }
  const c = params[0]!.count;
  if (!params.every((p) => p.count === c)) return `its four parameters have different lengths (${params.map((p) => p.count).join(', ')})`;
  const [gamma, beta, mean, variance] = (await Promise.all(params.map(async (p) => floats(p, await model.readTensor(p))))) as [Float32Array, Float32Array, Float32Array, Float32Array];
  const type = params.every((p) => p.dataType === 10) ? DataType.HALF : params.every((p) => p.dataType === 16) ? DataType.BF16 : DataType.FLOAT;
  const fround = Math.fround;
  const scale = new Float32Array(c);
  const shift = new Float32Array(c);
  // In the half and bfloat16 variants TensorRT's epsilon and stored scale are of that type.
  const narrow = type === DataType.HALF ? (v: number) => halfToFloat(floatToHalf(v)) : type === DataType.BF16 ? (v: number) => bf16ToFloat(floatToBf16(v)) : fround;
  const eps = narrow(epsilon);
  for (let k = 0; k < c; k++) {
    const s = narrow(fround(gamma[k]! / fround(Math.sqrt(fround(variance[k]! + eps)))));
    scale[k] = s;
    shift[k] = fround(beta[k]! - fround(mean[k]! * s));
  }
  if (type === DataType.FLOAT) return { scale: { type, values: scale, count: c }, shift: { type, values: shift, count: c } };
  const to = type === DataType.HALF ? floatToHalf : floatToBf16;
  return {
    scale: { type, values: Uint16Array.from(scale, to), count: c },
    shift: { type, values: Uint16Array.from(shift, to), count: c },
  };
}
