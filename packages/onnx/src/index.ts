export * from './errors.js';
export * from './onnx-dtype.js';
export * from './external-data.js';
export { OnnxModel, openOnnxModel, parseOnnxModel } from './onnx-model.js';
export type { OnnxModelProto, OnnxGraphProto, OnnxNodeProto, OnnxTensorProto, OnnxTensorInfo, OnnxTensorKind } from './onnx-model.js';
export { int64ToBigInt, int64ToSafeNumber } from './int64.js';
export * from './safetensors.js';
export * from './onnx-writer.js';
export * from './importer.js';
