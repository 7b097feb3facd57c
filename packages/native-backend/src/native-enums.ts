import {
  PARSER_ERROR_CODES,
  BUILDER_FLAG_VALUES,
  DATA_TYPE_INFO,
  ERROR_CODE_VALUES,
  SERIALIZATION_FLAG_VALUES,
  BuilderFlag,
  DataType,
  EngineStat,
  ErrorCode,
  SerializationFlag,
  Severity,
  TensorLocation,
  WeightsRole,
} from '@trt-refit/core';

/**
 * Names of the core enums to TensorRT's numbers and back. DataType, WeightsRole, TensorLocation, ErrorCode,
 * Severity and SerializationFlag are stable across 10.x and 11.x; BuilderFlag is per major.
 */

const DATA_TYPE_BY_NUMBER = new Map<number, DataType>(Object.entries(DATA_TYPE_INFO).map(([name, info]) => [info.trtValue, name as DataType]));

/** `nvinfer1::DataType` number of a DataType name. */
export function dataTypeNumber(type: DataType): number {
  return DATA_TYPE_INFO[type].trtValue;
}

/** DataType name of a `nvinfer1::DataType` number; undefined for a number trt-refit does not know. */
export function dataTypeName(value: number): DataType | undefined {
  return DATA_TYPE_BY_NUMBER.get(value);
}

const ROLES: readonly WeightsRole[] = [WeightsRole.KERNEL, WeightsRole.BIAS, WeightsRole.SHIFT, WeightsRole.SCALE, WeightsRole.CONSTANT, WeightsRole.ANY];

/** `nvinfer1::WeightsRole` number (declaration order, unchanged 8.6 to 11.x). */
export function roleNumber(role: WeightsRole): number {
  return ROLES.indexOf(role);
}

export function roleName(value: number): WeightsRole {
  return ROLES[value] ?? WeightsRole.ANY;
}

/** `nvinfer1::TensorLocation`: kDEVICE = 0, kHOST = 1. */
export function locationNumber(location: TensorLocation): number {
  return location === TensorLocation.DEVICE ? 0 : 1;
}

export function locationName(value: number): TensorLocation {
  return value === 0 ? TensorLocation.DEVICE : TensorLocation.HOST;
}

const SEVERITIES: readonly Severity[] = [Severity.INTERNAL_ERROR, Severity.ERROR, Severity.WARNING, Severity.INFO, Severity.VERBOSE];

/** `ILogger::Severity` number. */
export function severityNumber(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

export function severityName(value: number): Severity {
  return SEVERITIES[value] ?? Severity.ERROR;
}

const ERROR_CODE_BY_NUMBER = new Map<number, ErrorCode>(Object.entries(ERROR_CODE_VALUES).map(([name, value]) => [value, name as ErrorCode]));

export function errorCodeName(value: number): ErrorCode {
  return ERROR_CODE_BY_NUMBER.get(value) ?? ErrorCode.UNSPECIFIED_ERROR;
}



/** The name of parser error code `value` (core's one list), or `UNKNOWN_<n>`. */
export function parserErrorCodeName(value: number): string {
  return PARSER_ERROR_CODES[value] ?? `UNKNOWN_${value}`;
}

/** `EngineStat` numbers (10.14+). */
export function engineStatNumber(stat: EngineStat): number {
  return stat === EngineStat.TOTAL_WEIGHTS_SIZE ? 0 : 1;
}

/** `TensorIOMode` numbers. */
export const IO_MODE = { NONE: 0, INPUT: 1, OUTPUT: 2 } as const;

/** Bit numbers of the modelled builder flags for a TensorRT major, or undefined for a major trt-refit does not know. */
export function builderFlagBits(major: number): Readonly<Record<BuilderFlag, number>> | undefined {
  return major === 10 || major === 11 ? BUILDER_FLAG_VALUES[String(major) as '10' | '11'] : undefined;
}

/** Mask of `flags` (names) in a major's numbering. */
export function builderFlagMask(flags: Iterable<BuilderFlag>, bits: Readonly<Record<BuilderFlag, number>>): number {
  let mask = 0;
  for (const f of flags) mask |= 1 << bits[f];
  return mask >>> 0;
}

/** Names of the modelled flags set in `mask`. */
export function builderFlagNames(mask: number, bits: Readonly<Record<BuilderFlag, number>>): BuilderFlag[] {
  return (Object.keys(bits) as BuilderFlag[]).filter((f) => (mask >>> bits[f]) & 1);
}

/** Every modelled flag's bits, so a replacement keeps TensorRT's own defaults (e.g. TF32) in the other bits. */
export function modelledMask(bits: Readonly<Record<BuilderFlag, number>>): number {
  return builderFlagMask(Object.keys(bits) as BuilderFlag[], bits);
}

export function serializationFlagBit(flag: SerializationFlag): number {
  return SERIALIZATION_FLAG_VALUES[flag];
}

export function serializationFlagNames(mask: number): SerializationFlag[] {
  return (Object.values(SerializationFlag) as SerializationFlag[]).filter((f) => (mask >>> SERIALIZATION_FLAG_VALUES[f]) & 1);
}

export { BuilderFlag };
