import { DataType, byteLengthFor, isDataType } from './data-type.js';
import { InvalidArgumentError } from './errors.js';
import type { DeviceBuffer } from './device.js';

/**
 * Weights as TensorRT sees them (`nvinfer1::Weights`): a type, the values and the element count. `values` is
 * held by reference, never copied: host weights are any `ArrayBufferView` (little-endian element bytes; INT4
 * and FP4 packed two per byte), device weights a {@link DeviceBuffer}. Empty weights are `count: 0` with
 * `values: null`.
 *
 * @example
 * ```ts
 * const w: Weights = { type: DataType.FLOAT, values: new Float32Array([1, 2, 3]), count: 3 };
 * ```
 */
export interface Weights {
  readonly type: DataType;
  readonly values: ArrayBufferView | DeviceBuffer | null;
  readonly count: number;
}

/** The weights TensorRT returns for "nothing set" (`getNamedWeights` of an unset name). */
export const NULL_WEIGHTS: Weights = Object.freeze({ type: DataType.FLOAT, values: null, count: 0 });

/** True when `values` is a device buffer rather than host memory. */
export function isDeviceValues(values: Weights['values']): values is DeviceBuffer {
  return values !== null && typeof values === 'object' && !ArrayBuffer.isView(values) && 'byteLength' in values && 'deviceId' in values;
}

/** Byte length of host or device values (0 for null; throws nothing). */
export function valuesByteLength(values: Weights['values']): number {
  if (values === null) return 0;
  return values.byteLength;
}

/**
 * Why `w` is not well-formed, or `undefined` when it is: the type must be a {@link DataType}, `count` a
 * non-negative safe integer, and the values exactly `byteLengthFor(type, count)` bytes long (null only when
 * `count` is 0). A device buffer may be larger than needed (TensorRT reads `count` elements from it).
 */
export function weightsProblem(w: unknown): string | undefined {
  if (w === null || typeof w !== 'object') return `weights must be an object { type, values, count }, received ${w === null ? 'null' : typeof w}`;
  const { type, values, count } = w as Record<string, unknown>;
  if (!isDataType(type)) return `weights.type must be a DataType name, received ${JSON.stringify(type)}`;
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) {
    return `weights.count must be a non-negative integer, received ${String(count)}`;
  }
  if (values === null || values === undefined) {
    return count === 0 ? undefined : `weights.values is null but count is ${count}`;
  }
  const expected = byteLengthFor(type, count);
  if (ArrayBuffer.isView(values)) {
    if (values.byteLength !== expected) {
      return `weights of type ${type} with count ${count} need ${expected} bytes${type === 'INT4' || type === 'FP4' ? ' (two elements per byte)' : ''}, but values has ${values.byteLength} bytes`;
    }
    return undefined;
  }
  if (isDeviceValues(values as Weights['values'])) {
    const buf = values as DeviceBuffer;
    if (buf.disposed) return 'weights.values is a DeviceBuffer that was disposed';
    if (buf.byteLength < expected) {
      return `weights of type ${type} with count ${count} need ${expected} bytes, but the device buffer has ${buf.byteLength} bytes`;
    }
    return undefined;
  }
  return 'weights.values must be an ArrayBufferView (host), a DeviceBuffer (device) or null';
}

/** Throws {@link InvalidArgumentError} with {@link weightsProblem}'s reason when `w` is malformed. */
export function assertWeights(w: unknown, parameter = 'weights'): asserts w is Weights {
  const problem = weightsProblem(w);
  if (problem) throw new InvalidArgumentError(`${parameter}: ${problem}`, { parameter });
}

/** A read-only byte view over host weights, without copying. */
export function hostBytes(w: Weights): Uint8Array {
  const v = w.values;
  if (v === null) return new Uint8Array(0);
  if (!ArrayBuffer.isView(v)) throw new InvalidArgumentError('hostBytes needs host weights; these are in device memory');
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}
