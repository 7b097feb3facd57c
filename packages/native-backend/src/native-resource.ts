import { DisposedError, type Severity } from '@trt-refit/core';
import type { NativeDisposable } from './binding.js';
import { errorsOf, type LogBridge, type RecorderBridge } from './diagnostics.js';
import { fromNative } from './native-errors.js';

/**
 * Base of the TS objects over a native TensorRT object: explicit idempotent `dispose()`, `DisposedError` on use
 * afterwards, and every native call followed by a flush of TensorRT's log and error-recorder queues, with the
 * logged errors added to any exception.
 */
export abstract class NativeResource<N extends NativeDisposable> {
  #disposed = false;
  /** @internal */
  protected recorderBridge: RecorderBridge | undefined;
  /** @internal */
  protected readonly native: N;
  /** @internal */
  protected readonly log: LogBridge;
  readonly #what: string;

  protected constructor(native: N, log: LogBridge, what: string) {
    this.native = native;
    this.log = log;
    this.#what = what;
  }

  /** True once `dispose()` was called. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /** The native object; throws DisposedError after dispose(). */
  protected live(): N {
    if (this.#disposed) throw new DisposedError(this.#what);
    return this.native;
  }

  /**
   * Moves TensorRT's queued log messages into the JS logger and the queued error-recorder reports into the JS
   * recorder (when one is set); returns the log messages, so callers can quote the errors.
   */
  protected flushAll(): { severity: Severity; message: string }[] {
    const messages = this.log.flush();
    this.recorderBridge?.flush();
    return messages;
  }

  /** A synchronous native call. */
  protected call<T>(fn: (native: N) => T): T {
    const n = this.live();
    const mark = this.log.mark();
    let result: T;
    try {
      result = fn(n);
    } catch (e) {
      this.flushAll();
      throw fromNative(e, errorsOf(this.log.since(mark)));
    }
    this.flushAll();
    return result;
  }

  /** An asynchronous native call; TensorRT's errors logged while it ran are added to a rejection. */
  protected async callAsync<T>(fn: (native: N) => Promise<T>): Promise<T> {
    const n = this.live();
    const mark = this.log.mark();
    let result: T;
    try {
      result = await fn(n);
    } catch (e) {
      this.flushAll();
      throw fromNative(e, errorsOf(this.log.since(mark)));
    }
    this.flushAll();
    return result;
  }

  /** Releases the native object (TensorRT deletes it once nothing depending on it remains). Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    try {
      this.onDispose();
      this.native.dispose();
    } finally {
      this.flushAll();
      this.recorderBridge?.close();
      this.recorderBridge = undefined;
    }
  }

  /** Same as `dispose()`, for `using` declarations. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** Children to release first. */
  protected onDispose(): void {}
}
