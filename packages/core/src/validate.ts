import { BuilderFlag, SerializationFlag, TensorLocation } from './enums.js';
import { TrtRefitErrorCode } from './errors.js';

/**
 * Argument checks of the public objects, done once, before a backend sees the call. Errors name the parameter, what
 * was expected and what was received: {@link ArgumentTypeError} (a TypeError) for a wrong type,
 * {@link ArgumentRangeError} (a RangeError) for a wrong value; both carry `code` ERR_TRT_REFIT_INVALID_ARGUMENT.
 */

/** Longest weights name TensorRT takes, in UTF-8 bytes (names are C strings of at most 4095 bytes plus NUL). */
export const MAX_WEIGHTS_NAME_BYTES = 4095;

/** Why `name` cannot name weights (empty, NUL, longer than {@link MAX_WEIGHTS_NAME_BYTES}), or undefined. */
export function weightsNameProblem(name: string): string | undefined {
  if (name === '') return 'the name is empty';
  if (name.includes('\0')) return 'the name contains a NUL character';
  if (Buffer.byteLength(name) > MAX_WEIGHTS_NAME_BYTES) return `the name is longer than ${MAX_WEIGHTS_NAME_BYTES} bytes`;
  return undefined;
}

/** A wrong argument type: a TypeError with trt-refit's `code` and what it expected. */
export class ArgumentTypeError extends TypeError {
  readonly code = TrtRefitErrorCode.INVALID_ARGUMENT;
  constructor(readonly parameter: string, readonly expected: string, received: unknown) {
    super(`${parameter} must be ${expected}, received ${describe(received)}`);
    this.name = 'ArgumentTypeError';
  }
}

/** A wrong argument value: a RangeError with trt-refit's `code` and what it expected. */
export class ArgumentRangeError extends RangeError {
  readonly code = TrtRefitErrorCode.INVALID_ARGUMENT;
  constructor(readonly parameter: string, readonly expected: string, received: unknown) {
    super(`${parameter} must be ${expected}, received ${describe(received)}`);
    this.name = 'ArgumentRangeError';
  }
}

/** Short description of a received value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return `${typeof value} ${String(value)}`;
  if (typeof value === 'function') return 'a function';
  if (ArrayBuffer.isView(value)) return `${value.constructor.name} of ${value.byteLength} bytes`;
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  const name = (value as object).constructor?.name;
  return name && name !== 'Object' ? `a ${name}` : 'an object';
}

/** An {@link ArgumentTypeError}. */
export function typeError(parameter: string, expected: string, received: unknown): TypeError {
  return new ArgumentTypeError(parameter, expected, received);
}

/** An {@link ArgumentRangeError}. */
export function rangeError(parameter: string, expected: string, received: unknown): RangeError {
  return new ArgumentRangeError(parameter, expected, received);
}

/** `value` as a string, or an ArgumentTypeError. */
export function expectString(value: unknown, parameter: string): string {
  if (typeof value !== 'string') throw typeError(parameter, 'a string', value);
  return value;
}

/** `value` as a boolean, or an ArgumentTypeError. */
export function expectBoolean(value: unknown, parameter: string): boolean {
  if (typeof value !== 'boolean') throw typeError(parameter, 'a boolean', value);
  return value;
}

/** `value` as a non-negative safe integer, or an ArgumentTypeError / ArgumentRangeError. */
export function expectSize(value: unknown, parameter: string): number {
  if (typeof value !== 'number') throw typeError(parameter, 'a number', value);
  if (!Number.isSafeInteger(value) || value < 0) throw rangeError(parameter, 'a non-negative safe integer', value);
  return value;
}

/** `value` as a safe integer, or an ArgumentTypeError / ArgumentRangeError. */
export function expectInteger(value: unknown, parameter: string): number {
  if (typeof value !== 'number') throw typeError(parameter, 'a number', value);
  if (!Number.isSafeInteger(value)) throw rangeError(parameter, 'an integer', value);
  return value;
}

/** `value` as an ArrayBufferView, or an ArgumentTypeError. */
export function expectView(value: unknown, parameter: string): ArrayBufferView {
  if (!ArrayBuffer.isView(value)) throw typeError(parameter, 'an ArrayBufferView (e.g. a Uint8Array)', value);
  return value;
}

/** `value` as a Uint8Array, or an ArgumentTypeError. */
export function expectBytes(value: unknown, parameter: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw typeError(parameter, 'a Uint8Array', value);
  return value;
}

/** `value` as a string or undefined, or an ArgumentTypeError. */
export function expectOptionalString(value: unknown, parameter: string): string | undefined {
  if (value === undefined) return undefined;
  return expectString(value, parameter);
}

const BUILDER_FLAGS = new Set<string>(Object.values(BuilderFlag));
const SERIALIZATION_FLAGS = new Set<string>(Object.values(SerializationFlag));

/** `value` as a BuilderFlag name, or an ArgumentTypeError listing them. */
export function expectBuilderFlag(value: unknown, parameter = 'flag'): BuilderFlag {
  if (typeof value !== 'string' || !BUILDER_FLAGS.has(value)) throw typeError(parameter, `a BuilderFlag (${[...BUILDER_FLAGS].join(', ')})`, value);
  return value as BuilderFlag;
}

/** `value` as a SerializationFlag name, or an ArgumentTypeError listing them. */
export function expectSerializationFlag(value: unknown, parameter = 'flag'): SerializationFlag {
  if (typeof value !== 'string' || !SERIALIZATION_FLAGS.has(value)) {
    throw typeError(parameter, `a SerializationFlag (${[...SERIALIZATION_FLAGS].join(', ')})`, value);
  }
  return value as SerializationFlag;
}

/** `value` as an iterable, or an ArgumentTypeError. */
export function expectIterable<T>(value: unknown, parameter: string): Iterable<T> {
  if (value === null || typeof value !== 'object' || typeof (value as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function') {
    throw typeError(parameter, 'an iterable (e.g. an array)', value);
  }
  return value as Iterable<T>;
}

const LOCATIONS = new Set<string>([TensorLocation.HOST, TensorLocation.DEVICE]);

/** `value` as a TensorLocation (HOST by default when undefined), or an ArgumentTypeError. */
export function expectLocation(value: unknown, parameter = 'location'): TensorLocation {
  if (value === undefined) return TensorLocation.HOST;
  if (typeof value !== 'string' || !LOCATIONS.has(value)) throw typeError(parameter, 'TensorLocation.HOST or TensorLocation.DEVICE', value);
  return value as TensorLocation;
}
