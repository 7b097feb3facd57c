export * from './errors.js';
export * from './onnx-dtype.js';
export * from './external-data.js';
export { OnnxModel, openOnnxModel, parseOnnxModel, withInitializers } from './onnx-model.js';
export type {
  OnnxModelProto,
  OnnxGraphProto,
  OnnxNodeProto,
  OnnxTensorProto,
  OnnxTensorInfo,
  OnnxTensorKind,
  ParseOnnxModelOptions,
  OpenOnnxModelOptions,
  ReadTensorOptions,
  StreamTensorsOptions,
} from './onnx-model.js';
export { int64ToBigInt, int64ToSafeNumber, type Int64Like } from './int64.js';
export { halfToFloat, floatToHalf, bf16ToFloat, floatToBf16 } from './half.js';
export { topologicalOrder, type NodeLike } from './topological-order.js';
export { openRegularFile, readFully, readRegularFile } from '@trt-refit/core';
export * from './safetensors.js';
export * from './onnx-writer.js';
export * from './network-to-onnx.js';
export * from './parser-names.js';
export * from './batch-norm.js';
export * from './convert-weights.js';
export * from './operator-matrix.js';
export * from './importer.js';
export * from './refit-recipe.js';
export * from './refit-engine.js';
export * from './weight-sources.js';
export * from './parser-refitter.js';
export * from './onnx-parser.js';
export * from './checkpoint-match.js';
export * from './lora-adapter.js';
export * from './lora-merge.js';
export * from './lora-refit.js';
