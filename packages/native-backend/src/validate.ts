import { BuilderFlag, SerializationFlag } from '@trt-refit/core';

/**
 * Argument checks of the public façade, done before a call crosses into C++. Errors name the parameter, what was
 * expected and what was received (TypeError for a wrong type, RangeError for a wrong value).
 */

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

export function typeError(parameter: string, expected: string, received: unknown): TypeError {
  return new TypeError(`${parameter} must be ${expected}, received ${describe(received)}`);
}

export function rangeError(parameter: string, expected: string, received: unknown): RangeError {
  return new RangeError(`${parameter} must be ${expected}, received ${describe(received)}`);
}

export function expectString(value: unknown, parameter: string): string {
  if (typeof value !== 'string') throw typeError(parameter, 'a string', value);
  return value;
}

export function expectBoolean(value: unknown, parameter: string): boolean {
  if (typeof value !== 'boolean') throw typeError(parameter, 'a boolean', value);
  return value;
}

/** A non-negative safe integer. */
export function expectSize(value: unknown, parameter: string): number {
  if (typeof value !== 'number') throw typeError(parameter, 'a number', value);
  if (!Number.isSafeInteger(value) || value < 0) throw rangeError(parameter, 'a non-negative safe integer', value);
  return value;
}

export function expectInteger(value: unknown, parameter: string): number {
  if (typeof value !== 'number') throw typeError(parameter, 'a number', value);
  if (!Number.isSafeInteger(value)) throw rangeError(parameter, 'an integer', value);
  return value;
}

export function expectView(value: unknown, parameter: string): ArrayBufferView {
  if (!ArrayBuffer.isView(value)) throw typeError(parameter, 'an ArrayBufferView (e.g. a Uint8Array)', value);
  return value;
}

export function expectBytes(value: unknown, parameter: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw typeError(parameter, 'a Uint8Array', value);
  return value;
}

export function expectOptionalString(value: unknown, parameter: string): string | undefined {
  if (value === undefined) return undefined;
  return expectString(value, parameter);
}

const BUILDER_FLAGS = new Set<string>(Object.values(BuilderFlag));
const SERIALIZATION_FLAGS = new Set<string>(Object.values(SerializationFlag));

export function expectBuilderFlag(value: unknown, parameter = 'flag'): BuilderFlag {
  if (typeof value !== 'string' || !BUILDER_FLAGS.has(value)) throw typeError(parameter, `a BuilderFlag (${[...BUILDER_FLAGS].join(', ')})`, value);
  return value as BuilderFlag;
}

export function expectSerializationFlag(value: unknown, parameter = 'flag'): SerializationFlag {
  if (typeof value !== 'string' || !SERIALIZATION_FLAGS.has(value)) {
    throw typeError(parameter, `a SerializationFlag (${[...SERIALIZATION_FLAGS].join(', ')})`, value);
  }
  return value as SerializationFlag;
}

export function expectIterable<T>(value: unknown, parameter: string): Iterable<T> {
  if (value === null || typeof value !== 'object' || typeof (value as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function') {
    throw typeError(parameter, 'an iterable (e.g. an array)', value);
  }
  return value as Iterable<T>;
}
