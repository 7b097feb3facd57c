import { DataType, type Weights } from '@trt-refit/core';
import type { OnnxTensorInfo } from './onnx-model.js';
import { ONNX_DTYPES } from './onnx-dtype.js';
import { onnxParserRules, type OnnxParserRules } from '@trt-refit/core';

const FLT_MAX = 3.4028234663852886e38;

/** How weights are converted: by the importer (UINT8 widened to INT32) or the parser refitter (per version). */
export interface ConvertOptions {
  /** The parser rules of the emulated version (default: the newest known). */
  readonly rules?: OnnxParserRules;
  /** Convert as the parser refitter does (`convertOnnxWeights` only) rather than as the importer does (`parseNode` too). */
  readonly refitter?: boolean;
}

/**
 * Why TensorRT's `convertOnnxWeights` refuses this tensor before reading it, or undefined: element types TensorRT
 * has no weights type for, and (from 10.2, rule P-EXTERNAL-DOUBLE) DOUBLE stored as external data, whose FLOAT size
 * the parser compares with the DOUBLE length.
 */
export function conversionProblem(info: OnnxTensorInfo, options: ConvertOptions = {}): string | undefined {
  const dtype = ONNX_DTYPES[info.dataType];
  if (!dtype?.trt) return `tensor ${info.name} has element type ${info.dtypeName}, which TensorRT does not support`;
  const rules = options.rules ?? onnxParserRules();
  if (info.dataType === 11 && info.storage === 'external' && rules.externalDouble === 'refuse') {
    return `tensor ${info.name}: Unexpected size for the external weights! Expected size: ${info.count * 4} bytes. Actual size: ${info.count * 8} bytes (TensorRT ${rules.tensorrtVersion} converts external DOUBLE data to FLOAT before checking its size)`;
  }
  return undefined;
}

/** The TensorRT type a tensor's weights have after conversion (DOUBLE → FLOAT; UINT8 → INT32 except in newer refitters). */
export function convertedType(info: OnnxTensorInfo, options: ConvertOptions = {}): DataType | undefined {
  if (info.dataType === 2) return options.refitter && (options.rules ?? onnxParserRules()).refitterUint8 === 'UINT8' ? DataType.UINT8 : DataType.INT32;
  return ONNX_DTYPES[info.dataType]?.trt ?? undefined;
}

/**
 * Converted weights of a tensor as TensorRT's parser converts them: DOUBLE → FLOAT (clamped to the float range, with
 * a warning), UINT8 → INT32 (the importer; the parser refitter from 10.2 reads UINT8 raw, rule P-UINT8-REFIT).
 * Other types are views of `bytes`. Returns the reason instead when TensorRT refuses the tensor.
 */
export function toTrtWeights(info: OnnxTensorInfo, bytes: Uint8Array, warn?: (m: string) => void, options: ConvertOptions = {}): Weights | string {
  const problem = conversionProblem(info, options);
  if (problem) return problem;
  if (info.dataType === 11) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const out = new Float32Array(info.count);
    let clamped = 0;
    for (let i = 0; i < info.count; i++) {
      const v = dv.getFloat64(8 * i, true);
      const c = Math.max(-FLT_MAX, Math.min(FLT_MAX, v));
      if (c !== v && !Number.isNaN(v)) clamped++;
      out[i] = c;
    }
    if (clamped) warn?.(`tensor ${info.name}: ${clamped} DOUBLE value(s) clamped to the FLOAT range`);
    return { type: DataType.FLOAT, values: out, count: info.count };
  }
  const type = convertedType(info, options)!;
  if (info.dataType === 2 && type === DataType.INT32) return { type, values: Int32Array.from(bytes), count: info.count };
  // No conversion: the weights are a view of the model's bytes (or of the one buffer read for external data).
  return { type, values: bytes, count: info.count };
}
