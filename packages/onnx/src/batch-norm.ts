import { DataType, type Weights } from '@trt-refit/core';
import { bf16ToFloat, floatToBf16, floatToHalf, halfToFloat } from './half.js';

/** Scale and shift weights of a folded BatchNormalization. */
export interface FoldedBatchNorm {
  readonly scale: Weights;
  readonly shift: Weights;
}

/** One BatchNormalization parameter (scale, bias, mean or variance) as stored: ONNX element type and bytes. */
export interface BatchNormParam {
  readonly name: string;
  /** ONNX element type number of `bytes` (FLOAT, FLOAT16, BFLOAT16 or DOUBLE). */
  readonly dataType: number;
  readonly count: number;
  readonly bytes: Uint8Array;
}

const FLT_MAX = 3.4028234663852886e38;
const FOLDABLE = new Set([1, 10, 11, 16]);

/** A parameter's values as float32 numbers (DOUBLE clamped to the float range, as the parser converts it). */
function floats(p: BatchNormParam): Float32Array {
  const dv = new DataView(p.bytes.buffer, p.bytes.byteOffset, p.bytes.byteLength);
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

/** The TensorRT type of a parameter after the parser's conversion (DOUBLE → FLOAT), as fold types are compared. */
export function batchNormParamType(dataType: number): DataType | undefined {
  return dataType === 1 || dataType === 11 ? DataType.FLOAT : dataType === 10 ? DataType.HALF : dataType === 16 ? DataType.BF16 : undefined;
}

/**
 * The type the parser refitter folds in (ModelRefitter.cpp `refitOnnxBatchNormNode`): the four parameters' type when
 * they are all FLOAT16 or all BFLOAT16, FLOAT otherwise. The importer decides differently (it also compares the
 * input's type): see `importOnnxModel`.
 */
export function refitterFoldType(dataTypes: readonly number[]): DataType {
  const t = dataTypes.map(batchNormParamType);
  return t.every((x) => x === DataType.HALF) ? DataType.HALF : t.every((x) => x === DataType.BF16) ? DataType.BF16 : DataType.FLOAT;
}

/**
 * Folds BatchNormalization's scale (gamma), bias (beta), mean and variance into the per-channel scale and shift
 * of a `Scale` layer, as TensorRT's ONNX parser and parser refitter do: `scale = gamma / sqrt(var + eps)`,
 * `shift = beta - mean * scale`, in float32 arithmetic, stored as `type` (FLOAT, HALF or BF16; with HALF and BF16
 * the epsilon and the stored scale are of that type first). Returns the reason instead when the parameters cannot
 * be folded (other element types, different lengths).
 */
export function foldBatchNorm(params: readonly BatchNormParam[], epsilon: number, type: DataType): FoldedBatchNorm | string {
  if (params.length !== 4) return `it needs 4 parameters, received ${params.length}`;
  for (const p of params) {
    if (!FOLDABLE.has(p.dataType)) return `parameter ${p.name} has ONNX element type ${p.dataType}; only FLOAT, FLOAT16, BFLOAT16 and DOUBLE are folded`;
  }
  if (type !== DataType.FLOAT && type !== DataType.HALF && type !== DataType.BF16) return `it cannot be folded in ${type}`;
  const c = params[0]!.count;
  if (!params.every((p) => p.count === c)) return `Inputs to BatchNormalization must have the same shape! (${params.map((p) => p.count).join(', ')} values)`;
  const [gamma, beta, mean, variance] = params.map(floats) as [Float32Array, Float32Array, Float32Array, Float32Array];
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
