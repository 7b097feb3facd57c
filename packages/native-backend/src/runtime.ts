import { TrtRefitError, TrtRefitErrorCode, isTrtRefitError, type Runtime } from '@trt-refit/core';
import type { NativeRuntime as RawRuntime } from './binding.js';
import type { NativeContext } from './context.js';
import type { LogBridge } from './diagnostics.js';
import { planIdentityManifest } from './identity.js';
import { readRegularFile } from '@trt-refit/core';
import { NativeCudaEngine } from './engine.js';
import { NativeResource } from './native-resource.js';
import { expectBoolean, expectBytes, expectSize, expectString, rangeError } from './validate.js';

/**
 * `IRuntime` of the native backend. Deserialization runs on a worker thread; a plan TensorRT refuses (damaged,
 * foreign, another version, or needing host code or a lean runtime) rejects with an INVALID_PLAN error carrying
 * TensorRT's logged reasons and what to try.
 */
export class NativeRuntime extends NativeResource<RawRuntime> implements Runtime {
  /** @internal */
  constructor(
    native: RawRuntime,
    log: LogBridge,
    private readonly ctx: NativeContext,
  ) {
    super(native, log, 'Runtime');
  }

  async deserializeCudaEngine(plan: Uint8Array): Promise<NativeCudaEngine> {
    const bytes = expectBytes(plan, 'plan');
    if (bytes.byteLength === 0) throw rangeError('plan', 'a non-empty plan', bytes);
    const hostCode = this.getEngineHostCodeAllowed();
    try {
      const raw = await this.callAsync((n) => n.deserializeCudaEngine(bytes));
      const engine = new NativeCudaEngine(raw, this.log, this.ctx);
      const manifest = planIdentityManifest(plan);
      if (manifest) engine.setIdentityManifest(manifest);
      return engine;
    } catch (e) {
      if (!isTrtRefitError(e) || e.code !== TrtRefitErrorCode.INVALID_PLAN) throw e;
      const hints = [
        hostCode ? '' : 'a version-compatible plan with an embedded lean runtime needs runtime.setEngineHostCodeAllowed(true)',
        'a plan built with VERSION_COMPATIBLE + EXCLUDE_LEAN_RUNTIME deserializes only through runtime.loadRuntime(path) of its TensorRT version',
        `plans are specific to the TensorRT version (this is ${this.ctx.version}) unless built VERSION_COMPATIBLE`,
      ].filter(Boolean);
      throw new TrtRefitError(TrtRefitErrorCode.INVALID_PLAN, `${e.message}. If the plan is intact: ${hints.join('; ')}`, { hints }, { cause: e });
    }
  }

  /** IRuntime::deserializeCudaEngine of a plan file (a regular file; FIFOs and directories are refused without blocking). */
  async deserializeCudaEngineFromFile(path: string): Promise<NativeCudaEngine> {
    const file = expectString(path, 'path');
    const bytes = await readRegularFile(file, (what) => new TrtRefitError(TrtRefitErrorCode.INVALID_PLAN, `${file} is ${what}, not a plan file`));
    return this.deserializeCudaEngine(bytes);
  }

  /** Loads a lean runtime library (`IRuntime::loadRuntime`); the returned runtime deserializes its plans. */
  async loadRuntime(path: string): Promise<NativeRuntime> {
    const file = expectString(path, 'path');
    const raw = await this.callAsync((n) => n.loadRuntime(file));
    return new NativeRuntime(raw, this.log, this.ctx);
  }

  /**
   * IRuntime::setEngineHostCodeAllowed: see {@link Runtime.setEngineHostCodeAllowed}. Here: `allowed` checked to be
   * a boolean, then passed to TensorRT (needed for version-compatible plans with an embedded lean runtime).
   */
  setEngineHostCodeAllowed(allowed: boolean): void {
    const a = expectBoolean(allowed, 'allowed');
    this.call((n) => n.setEngineHostCodeAllowed(a));
  }

  /** IRuntime::getEngineHostCodeAllowed: see {@link Runtime.getEngineHostCodeAllowed}. Here: TensorRT's value. */
  getEngineHostCodeAllowed(): boolean {
    return this.call((n) => n.getEngineHostCodeAllowed());
  }

  /** Threads TensorRT may use while deserializing. */
  setMaxThreads(n: number): boolean {
    return this.call((r) => r.setMaxThreads(expectSize(n, 'n')));
  }
}
