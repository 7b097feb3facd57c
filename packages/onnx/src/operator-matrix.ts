import { compareTensorRtVersions } from '@trt-refit/core';

/**
 * The ONNX operators TensorRT's parser imports, from onnx-tensorrt `docs/operators.md` at the 10.16 submodule commit
 * 6bde6596eca84abf9afe9b4d21c18c32800fd3ad (identical list at 10.15 fa5aa9f; 10.14 c727277 lacks RMSNormalization and
 * RotaryEmbedding). Newer and older versions use this list too (their doc is not stored), except for those two.
 */
export const TENSORRT_ONNX_OPS: ReadonlySet<string> = new Set([
  'Abs', 'Acos', 'Acosh', 'Add', 'And', 'ArgMax', 'ArgMin', 'Asin', 'Asinh', 'Atan', 'Atanh', 'Attention',
  'AveragePool', 'BatchNormalization', 'BlackmanWindow', 'Cast', 'CastLike', 'Ceil', 'Celu', 'Clip', 'Concat',
  'Constant', 'ConstantOfShape', 'Conv', 'ConvTranspose', 'Cos', 'Cosh', 'CumSum', 'DeformConv', 'DepthToSpace',
  'DequantizeLinear', 'Div', 'Dropout', 'Einsum', 'Elu', 'Equal', 'Erf', 'Exp', 'Expand', 'EyeLike', 'Flatten',
  'Floor', 'Gather', 'GatherElements', 'GatherND', 'Gelu', 'Gemm', 'GlobalAveragePool', 'GlobalLpPool',
  'GlobalMaxPool', 'Greater', 'GreaterOrEqual', 'GridSample', 'GroupNormalization', 'GRU', 'HammingWindow',
  'HannWindow', 'HardSigmoid', 'HardSwish', 'Hardmax', 'Identity', 'If', 'ImageScaler', 'InstanceNormalization',
  'IsInf', 'IsNaN', 'LayerNormalization', 'LeakyRelu', 'Less', 'LessOrEqual', 'Log', 'LogSoftmax', 'Loop', 'LRN',
  'LSTM', 'LpNormalization', 'LpPool', 'MatMul', 'Max', 'MaxPool', 'Mean', 'MeanVarianceNormalization', 'Min',
  'Mish', 'Mod', 'Mul', 'Neg', 'NonMaxSuppression', 'NonZero', 'Not', 'OneHot', 'Or', 'Pad', 'ParametricSoftplus',
  'Pow', 'PRelu', 'QuantizeLinear', 'RandomNormal', 'RandomNormalLike', 'RandomUniform', 'RandomUniformLike',
  'Range', 'Reciprocal', 'ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceMax', 'ReduceMean',
  'ReduceMin', 'ReduceProd', 'ReduceSum', 'ReduceSumSquare', 'Relu', 'Reshape', 'Resize', 'ReverseSequence',
  'RMSNormalization', 'RNN', 'RoiAlign', 'RotaryEmbedding', 'Round', 'STFT', 'ScaledTanh', 'Scan', 'Scatter',
  'ScatterElements', 'ScatterND', 'Selu', 'Shape', 'Shrink', 'Sigmoid', 'Sign', 'Sin', 'Sinh', 'Size', 'Slice',
  'Softmax', 'Softplus', 'Softsign', 'SpaceToDepth', 'Split', 'Sqrt', 'Squeeze', 'Sub', 'Sum', 'Tan', 'Tanh',
  'TensorScatter', 'ThresholdedRelu', 'Tile', 'TopK', 'Transpose', 'Trilu', 'Unsqueeze', 'Upsample', 'Where', 'Xor',
]);

/** Operators the same document marks not supported (the static checker fails them: kUNSUPPORTED_NODE). */
export const TENSORRT_UNSUPPORTED_ONNX_OPS: ReadonlySet<string> = new Set([
  'AffineGrid', 'Bernoulli', 'BitShift', 'BitwiseAnd', 'BitwiseNot', 'BitwiseOr', 'BitwiseXor', 'CenterCropPad',
  'Col2Im', 'Compress', 'ConcatFromSequence', 'ConvInteger', 'DFT', 'Det', 'DynamicQuantizeLinear', 'ImageDecoder',
  'MatMulInteger', 'MaxRoiPool', 'MaxUnpool', 'MelWeightMatrix', 'Multinomial', 'NegativeLogLikelihoodLoss',
  'Optional', 'OptionalGetElement', 'OptionalHasElement', 'QLinearConv', 'QLinearMatMul', 'RegexFullMatch',
  'SequenceAt', 'SequenceConstruct', 'SequenceEmpty', 'SequenceErase', 'SequenceInsert', 'SequenceLength',
  'SequenceMap', 'SoftmaxCrossEntropyLoss', 'SplitToSequence', 'StringConcat', 'StringNormalizer', 'StringSplit',
  'TfIdfVectorizer', 'Unique',
]);

const SINCE: Readonly<Record<string, string>> = { RMSNormalization: '10.15', RotaryEmbedding: '10.15' };

/**
 * How TensorRT's parser of `version` treats an op of the default ONNX domain: `supported`; `unsupported` (listed as
 * not supported: kUNSUPPORTED_NODE); or `plugin` (unknown to the parser, so it looks for a plugin of that name, and
 * fails with kINVALID_NODE "Plugin not found" when there is none, as for every custom-domain op).
 */
export function tensorrtOpSupport(op: string, version: string): 'supported' | 'unsupported' | 'plugin' {
  if (TENSORRT_UNSUPPORTED_ONNX_OPS.has(op)) return 'unsupported';
  if (!TENSORRT_ONNX_OPS.has(op)) return 'plugin';
  const since = SINCE[op];
  return since && compareTensorRtVersions(version, since) < 0 ? 'plugin' : 'supported';
}
