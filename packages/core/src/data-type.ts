/**
 * Element types of TensorRT weights and tensors (`nvinfer1::DataType`), as string-valued constants.
 *
 * @example
 * ```ts
 * import { DataType, byteLengthFor } from '@trt-refit/core';
 * byteLengthFor(DataType.INT4, 5); // 3: INT4 packs two elements per byte
 * ```
 */
export const DataType = {
  FLOAT: 'FLOAT',
  HALF: 'HALF',
  INT8: 'INT8',
  INT32: 'INT32',
  BOOL: 'BOOL',
  UINT8: 'UINT8',
  FP8: 'FP8',
  BF16: 'BF16',
  INT64: 'INT64',
  INT4: 'INT4',
  FP4: 'FP4',
  E8M0: 'E8M0',
} as const;
/** One of the {@link DataType} names. */
export type DataType = (typeof DataType)[keyof typeof DataType];

/** Facts about one {@link DataType}: its numeric value in TensorRT, its size and the version that introduced it. */
export interface DataTypeInfo {
  /** `nvinfer1::DataType` value (unchanged from 10.0 to 11.x). */
  readonly trtValue: number;
  /** Bits per element: 4 for the packed types INT4 and FP4 (two elements per byte). */
  readonly bits: 4 | 8 | 16 | 32 | 64;
  /** First TensorRT version with this type. */
  readonly since: string;
  readonly floating: boolean;
}

/** Per-type facts, from `NvInferRuntimeBase.h`. */
export const DATA_TYPE_INFO: Readonly<Record<DataType, DataTypeInfo>> = {
  FLOAT: { trtValue: 0, bits: 32, since: '8.6', floating: true },
  HALF: { trtValue: 1, bits: 16, since: '8.6', floating: true },
  INT8: { trtValue: 2, bits: 8, since: '8.6', floating: false },
  INT32: { trtValue: 3, bits: 32, since: '8.6', floating: false },
  BOOL: { trtValue: 4, bits: 8, since: '8.6', floating: false },
  UINT8: { trtValue: 5, bits: 8, since: '8.6', floating: false },
  FP8: { trtValue: 6, bits: 8, since: '8.6', floating: true },
  BF16: { trtValue: 7, bits: 16, since: '10.0', floating: true },
  INT64: { trtValue: 8, bits: 64, since: '10.0', floating: false },
  INT4: { trtValue: 9, bits: 4, since: '10.0', floating: false },
  FP4: { trtValue: 10, bits: 4, since: '10.16', floating: true },
  E8M0: { trtValue: 11, bits: 8, since: '10.16', floating: true },
};

const ALL_TYPES = new Set<string>(Object.values(DataType));

/** True when `value` names a {@link DataType}. */
export function isDataType(value: unknown): value is DataType {
  return typeof value === 'string' && ALL_TYPES.has(value);
}

/** Size of one element in bytes; 0.5 for the packed 4-bit types. */
export function elementSize(type: DataType): number {
  return DATA_TYPE_INFO[type].bits / 8;
}

/**
 * Bytes needed to hold `count` elements of `type`. Packed 4-bit types round up to whole bytes
 * (`ceil(count / 2)`), as TensorRT stores two elements per byte.
 */
export function byteLengthFor(type: DataType, count: number): number {
  const bits = DATA_TYPE_INFO[type].bits;
  return bits === 4 ? Math.ceil(count / 2) : count * (bits / 8);
}
