/** Role of weights in a layer (`nvinfer1::WeightsRole`), used by the legacy `setWeights(layer, role)` API. */
export const WeightsRole = {
  KERNEL: 'KERNEL',
  BIAS: 'BIAS',
  SHIFT: 'SHIFT',
  SCALE: 'SCALE',
  CONSTANT: 'CONSTANT',
  ANY: 'ANY',
} as const;
export type WeightsRole = (typeof WeightsRole)[keyof typeof WeightsRole];

/** Where weights live (`nvinfer1::TensorLocation`). */
export const TensorLocation = {
  DEVICE: 'DEVICE',
  HOST: 'HOST',
} as const;
export type TensorLocation = (typeof TensorLocation)[keyof typeof TensorLocation];

/**
 * Builder flags that matter to refit and weight stripping (`nvinfer1::BuilderFlag`). String-valued because
 * TensorRT renumbered the enum between 10.x and 11.0; see {@link BUILDER_FLAG_VALUES}.
 */
export const BuilderFlag = {
  REFIT: 'REFIT',
  REFIT_IDENTICAL: 'REFIT_IDENTICAL',
  REFIT_INDIVIDUAL: 'REFIT_INDIVIDUAL',
  STRIP_PLAN: 'STRIP_PLAN',
  VERSION_COMPATIBLE: 'VERSION_COMPATIBLE',
  EXCLUDE_LEAN_RUNTIME: 'EXCLUDE_LEAN_RUNTIME',
  WEIGHT_STREAMING: 'WEIGHT_STREAMING',
} as const;
export type BuilderFlag = (typeof BuilderFlag)[keyof typeof BuilderFlag];

/** Flags of a serialization config (`nvinfer1::SerializationFlag`). */
export const SerializationFlag = {
  EXCLUDE_WEIGHTS: 'EXCLUDE_WEIGHTS',
  EXCLUDE_LEAN_RUNTIME: 'EXCLUDE_LEAN_RUNTIME',
  INCLUDE_REFIT: 'INCLUDE_REFIT',
} as const;
export type SerializationFlag = (typeof SerializationFlag)[keyof typeof SerializationFlag];

/** Error codes reported through an {@link ErrorRecorder} (`nvinfer1::ErrorCode`). */
export const ErrorCode = {
  SUCCESS: 'SUCCESS',
  UNSPECIFIED_ERROR: 'UNSPECIFIED_ERROR',
  INTERNAL_ERROR: 'INTERNAL_ERROR',
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  INVALID_CONFIG: 'INVALID_CONFIG',
  FAILED_ALLOCATION: 'FAILED_ALLOCATION',
  FAILED_INITIALIZATION: 'FAILED_INITIALIZATION',
  FAILED_EXECUTION: 'FAILED_EXECUTION',
  FAILED_COMPUTATION: 'FAILED_COMPUTATION',
  INVALID_STATE: 'INVALID_STATE',
  UNSUPPORTED_STATE: 'UNSUPPORTED_STATE',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Numeric values of {@link ErrorCode} in TensorRT (stable since 8.6). */
export const ERROR_CODE_VALUES: Readonly<Record<ErrorCode, number>> = {
  SUCCESS: 0,
  UNSPECIFIED_ERROR: 1,
  INTERNAL_ERROR: 2,
  INVALID_ARGUMENT: 3,
  INVALID_CONFIG: 4,
  FAILED_ALLOCATION: 5,
  FAILED_INITIALIZATION: 6,
  FAILED_EXECUTION: 7,
  FAILED_COMPUTATION: 8,
  INVALID_STATE: 9,
  UNSUPPORTED_STATE: 10,
};

/** Engine statistics (`nvinfer1::EngineStat`, TensorRT 10.14+). */
export const EngineStat = {
  TOTAL_WEIGHTS_SIZE: 'TOTAL_WEIGHTS_SIZE',
  STRIPPED_WEIGHTS_SIZE: 'STRIPPED_WEIGHTS_SIZE',
} as const;
export type EngineStat = (typeof EngineStat)[keyof typeof EngineStat];

/** Severity of a logger message (`nvinfer1::ILogger::Severity`). */
export const Severity = {
  INTERNAL_ERROR: 'INTERNAL_ERROR',
  ERROR: 'ERROR',
  WARNING: 'WARNING',
  INFO: 'INFO',
  VERBOSE: 'VERBOSE',
} as const;
export type Severity = (typeof Severity)[keyof typeof Severity];

/**
 * Numeric values of each {@link BuilderFlag} per TensorRT major, from the headers of 10.16 and 11.1
 * (`NvInfer.h`). The native backend maps names to these; never hard-code them across majors.
 */
export const BUILDER_FLAG_VALUES: Readonly<Record<'10' | '11', Readonly<Record<BuilderFlag, number>>>> = {
  '10': {
    REFIT: 4,
    VERSION_COMPATIBLE: 13,
    EXCLUDE_LEAN_RUNTIME: 14,
    STRIP_PLAN: 19,
    REFIT_IDENTICAL: 20,
    WEIGHT_STREAMING: 21,
    REFIT_INDIVIDUAL: 23,
  },
  '11': {
    REFIT: 4,
    VERSION_COMPATIBLE: 12,
    EXCLUDE_LEAN_RUNTIME: 13,
    STRIP_PLAN: 18,
    REFIT_IDENTICAL: 19,
    WEIGHT_STREAMING: 20,
    REFIT_INDIVIDUAL: 22,
  },
};

/** Numeric values of {@link SerializationFlag} (same in 10.x and 11.x). */
export const SERIALIZATION_FLAG_VALUES: Readonly<Record<SerializationFlag, number>> = {
  EXCLUDE_WEIGHTS: 0,
  EXCLUDE_LEAN_RUNTIME: 1,
  INCLUDE_REFIT: 2,
};

/** `nvonnxparser::ErrorCode` names in TensorRT's order (the number of each is its index; 10.x and 11.x). */
export const PARSER_ERROR_CODES = [
  'SUCCESS',
  'INTERNAL_ERROR',
  'MEM_ALLOC_FAILED',
  'MODEL_DESERIALIZE_FAILED',
  'INVALID_VALUE',
  'INVALID_GRAPH',
  'INVALID_NODE',
  'UNSUPPORTED_GRAPH',
  'UNSUPPORTED_NODE',
  'UNSUPPORTED_NODE_ATTR',
  'UNSUPPORTED_NODE_INPUT',
  'UNSUPPORTED_NODE_DATATYPE',
  'UNSUPPORTED_NODE_DYNAMIC',
  'UNSUPPORTED_NODE_SHAPE',
  'REFIT_FAILED',
] as const;
/** One of the {@link PARSER_ERROR_CODES}: the `code` of a ParserError. */
export type ParserErrorCode = (typeof PARSER_ERROR_CODES)[number];
