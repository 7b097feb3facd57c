import { DataType } from '@trt-refit/core';

/** An ONNX `TensorProto.DataType` (1..26 as of ONNX 1.18+), with its storage facts. */
export interface OnnxDtypeInfo {
  readonly name: string;
  /** Bits per element in `raw_data`; 0 for STRING (variable). */
  readonly bits: number;
  /** TensorRT's type after the ONNX parser's conversion (UINT8 → INT32, DOUBLE → FLOAT), or null when TensorRT has none. */
  readonly trt: DataType | null;
  /** Typed field that holds the values when there is no `raw_data`. */
  readonly field: 'floatData' | 'int32Data' | 'int64Data' | 'doubleData' | 'uint64Data' | 'stringData';
  readonly signed: boolean;
  /** The safetensors dtype name that holds it, when there is one. */
  readonly safetensors?: string;
}

/**
 * Element types by number. Types newer than onnx-proto's schema (ONNX 1.10) are handled by number here:
 * FLOAT8* (17-20), UINT4/INT4 (21, 22), FLOAT4E2M1 (23), FLOAT8E8M0 (24), UINT2/INT2 (25, 26).
 */
export const ONNX_DTYPES: Readonly<Record<number, OnnxDtypeInfo>> = {
  1: { name: 'FLOAT', bits: 32, trt: DataType.FLOAT, field: 'floatData', signed: true, safetensors: 'F32' },
  2: { name: 'UINT8', bits: 8, trt: DataType.INT32, field: 'int32Data', signed: false, safetensors: 'U8' },
  3: { name: 'INT8', bits: 8, trt: DataType.INT8, field: 'int32Data', signed: true, safetensors: 'I8' },
  4: { name: 'UINT16', bits: 16, trt: null, field: 'int32Data', signed: false, safetensors: 'U16' },
  5: { name: 'INT16', bits: 16, trt: null, field: 'int32Data', signed: true, safetensors: 'I16' },
  6: { name: 'INT32', bits: 32, trt: DataType.INT32, field: 'int32Data', signed: true, safetensors: 'I32' },
  7: { name: 'INT64', bits: 64, trt: DataType.INT64, field: 'int64Data', signed: true, safetensors: 'I64' },
  8: { name: 'STRING', bits: 0, trt: null, field: 'stringData', signed: false },
  9: { name: 'BOOL', bits: 8, trt: DataType.BOOL, field: 'int32Data', signed: false, safetensors: 'BOOL' },
  10: { name: 'FLOAT16', bits: 16, trt: DataType.HALF, field: 'int32Data', signed: true, safetensors: 'F16' },
  11: { name: 'DOUBLE', bits: 64, trt: DataType.FLOAT, field: 'doubleData', signed: true, safetensors: 'F64' },
  12: { name: 'UINT32', bits: 32, trt: null, field: 'uint64Data', signed: false, safetensors: 'U32' },
  13: { name: 'UINT64', bits: 64, trt: null, field: 'uint64Data', signed: false, safetensors: 'U64' },
  14: { name: 'COMPLEX64', bits: 64, trt: null, field: 'floatData', signed: true, safetensors: 'C64' },
  15: { name: 'COMPLEX128', bits: 128, trt: null, field: 'doubleData', signed: true },
  16: { name: 'BFLOAT16', bits: 16, trt: DataType.BF16, field: 'int32Data', signed: true, safetensors: 'BF16' },
  17: { name: 'FLOAT8E4M3FN', bits: 8, trt: DataType.FP8, field: 'int32Data', signed: true, safetensors: 'F8_E4M3' },
  18: { name: 'FLOAT8E4M3FNUZ', bits: 8, trt: null, field: 'int32Data', signed: true, safetensors: 'F8_E4M3FNUZ' },
  19: { name: 'FLOAT8E5M2', bits: 8, trt: null, field: 'int32Data', signed: true, safetensors: 'F8_E5M2' },
  20: { name: 'FLOAT8E5M2FNUZ', bits: 8, trt: null, field: 'int32Data', signed: true, safetensors: 'F8_E5M2FNUZ' },
  21: { name: 'UINT4', bits: 4, trt: null, field: 'int32Data', signed: false },
  22: { name: 'INT4', bits: 4, trt: DataType.INT4, field: 'int32Data', signed: true },
  23: { name: 'FLOAT4E2M1', bits: 4, trt: DataType.FP4, field: 'int32Data', signed: true, safetensors: 'F4' },
  24: { name: 'FLOAT8E8M0', bits: 8, trt: DataType.E8M0, field: 'int32Data', signed: false, safetensors: 'F8_E8M0' },
  25: { name: 'UINT2', bits: 2, trt: null, field: 'int32Data', signed: false },
  26: { name: 'INT2', bits: 2, trt: null, field: 'int32Data', signed: true },
};

/** Bytes of `count` elements of ONNX type `dtype` in `raw_data` (sub-byte types packed, rounded up). */
export function onnxByteLength(dtype: number, count: number): number {
  const info = ONNX_DTYPES[dtype];
  if (!info || info.bits === 0) return NaN;
  return Math.ceil((count * info.bits) / 8);
}

/** ONNX element type of each TensorRT weight type (the one that holds it without conversion). */
const ONNX_OF_TRT: Partial<Record<DataType, number>> = {
  [DataType.FLOAT]: 1,
  [DataType.UINT8]: 2,
  [DataType.INT8]: 3,
  [DataType.INT32]: 6,
  [DataType.INT64]: 7,
  [DataType.BOOL]: 9,
  [DataType.HALF]: 10,
  [DataType.BF16]: 16,
  [DataType.FP8]: 17,
  [DataType.INT4]: 22,
  [DataType.FP4]: 23,
  [DataType.E8M0]: 24,
};

/** The ONNX element type number that holds TensorRT type `type` as is, or undefined when ONNX has none. */
export function onnxTypeOf(type: DataType): number | undefined {
  return ONNX_OF_TRT[type];
}
