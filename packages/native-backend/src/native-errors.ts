import { InvalidStateError, NotRefittableError, TrtRefitError, TrtRefitErrorCode } from '@trt-refit/core';

const KNOWN_CODES = new Set<string>(Object.values(TrtRefitErrorCode));

/**
 * Turns an error thrown or rejected by the addon into a typed trt-refit error. The addon marks its errors with a
 * `code` from core's {@link TrtRefitErrorCode}; TypeErrors and RangeErrors (argument checks) pass through, as do
 * errors already typed. `context` (e.g. TensorRT's logged errors) is appended to the message.
 */
export function fromNative(e: unknown, context: readonly string[] = []): Error {
  if (e instanceof TrtRefitError || e instanceof TypeError || e instanceof RangeError) return e; // argument checks pass through
  if (!(e instanceof Error)) return new TrtRefitError(TrtRefitErrorCode.DEVICE, `native call failed: ${String(e)}`);
  const code = (e as Error & { code?: unknown }).code;
  if (typeof code !== 'string' || !KNOWN_CODES.has(code)) return e;
  const message = context.length ? `${e.message}: ${context.join('; ')}` : e.message;
  switch (code) {
    case TrtRefitErrorCode.NOT_REFITTABLE:
      return new NotRefittableError(message);
    case TrtRefitErrorCode.INVALID_STATE:
      return new InvalidStateError(message);
    default:
      return new TrtRefitError(code as TrtRefitErrorCode, message, {}, { cause: e });
  }
}

/** Runs a synchronous native call, translating what it throws. */
export function callNative<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw fromNative(e);
  }
}

/** Runs an asynchronous native call: what it throws or rejects with becomes a rejection with a typed error. */
export function callNativeAsync<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return fn().catch((e: unknown) => {
      throw fromNative(e);
    });
  } catch (e) {
    return Promise.reject(fromNative(e));
  }
}
