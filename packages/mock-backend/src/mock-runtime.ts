import { writeFile } from 'node:fs/promises';
import { readRegularFile } from '@trt-refit/onnx';
import { DisposedError, TrtRefitError, TrtRefitErrorCode, compareTensorRtVersions, silentLogger, type CudaEngine, type Logger, type Runtime } from '@trt-refit/core';
import { MockEngine } from './mock-engine.js';
import { readPlan, readPlanFile, type PlanContents } from './plan-file.js';

const LEAN_MAGIC = 'trt-refit mock lean runtime';

/**
 * Writes the mock's lean-runtime library for `version`: what `runtime.loadRuntime(path)` loads to run plans built
 * with VERSION_COMPATIBLE + EXCLUDE_LEAN_RUNTIME.
 */
export async function writeLeanRuntime(path: string, version: string): Promise<void> {
  await writeFile(path, JSON.stringify({ magic: LEAN_MAGIC, version }) + '\n');
}

const planVersionError = (m: string) => new TrtRefitError(TrtRefitErrorCode.PLAN_VERSION, m);

/** `IRuntime` of the mock backend. A runtime from `loadRuntime` is a lean runtime of one version. */
export class MockRuntime implements Runtime {
  private _disposed = false;
  private hostCodeAllowed = false;
  constructor(readonly tensorrtVersion: string, private readonly logger: Logger = silentLogger, readonly leanVersion?: string) {}

  /** True once {@link MockRuntime.dispose} was called. */
  get disposed(): boolean {
    return this._disposed;
  }
  private check(): void {
    if (this._disposed) throw new DisposedError('Runtime');
  }

  async deserializeCudaEngine(bytes: Uint8Array): Promise<CudaEngine> {
    this.check();
    await new Promise<void>((r) => setImmediate(r));
    return this.engineOf(readPlan(bytes));
  }

  /**
   * Deserializes a plan file, verifying it while it is read (as TensorRT's `deserializeCudaEngine(IStreamReader)`
   * reads a plan from a stream): checksums cost little beyond the read, and no second copy of the plan is made.
   * The same refusals as {@link deserializeCudaEngine}, and InvalidPlanError for a file that is not a regular file.
   */
  async deserializeCudaEngineFromFile(path: string): Promise<CudaEngine> {
    this.check();
    return this.engineOf(await readPlanFile(path));
  }

  private engineOf(plan: PlanContents): CudaEngine {
    if (this.leanVersion !== undefined) {
      if (plan.tensorrtVersion !== this.leanVersion) throw planVersionError(`the plan was built with TensorRT ${plan.tensorrtVersion}; this lean runtime is ${this.leanVersion}`);
    } else if (plan.leanRuntime === 'excluded') {
      throw planVersionError('the plan was built with EXCLUDE_LEAN_RUNTIME: deserialize it through runtime.loadRuntime(<lean runtime of its version>)');
    } else if (plan.leanRuntime === 'embedded') {
      if (!this.hostCodeAllowed) throw planVersionError('the plan embeds a lean runtime (VERSION_COMPATIBLE): call setEngineHostCodeAllowed(true) to allow its host code');
      if (compareTensorRtVersions(plan.tensorrtVersion, this.tensorrtVersion) > 0) throw planVersionError(`the plan was built with TensorRT ${plan.tensorrtVersion}, newer than this runtime (${this.tensorrtVersion})`);
    } else if (plan.tensorrtVersion !== this.tensorrtVersion) {
      throw planVersionError(`the plan was built with TensorRT ${plan.tensorrtVersion}; this runtime is ${this.tensorrtVersion} (build with VERSION_COMPATIBLE to run it on other versions)`);
    }
    return new MockEngine(plan, this.leanVersion ?? this.tensorrtVersion);
  }

  async loadRuntime(path: string): Promise<Runtime> {
    this.check();
    let info: { magic?: unknown; version?: unknown };
    try {
      info = JSON.parse(new TextDecoder().decode(await readRegularFile(path, (what) => new Error(`it is ${what}`), 1 << 16))) as typeof info;
    } catch (e) {
      throw new TrtRefitError(TrtRefitErrorCode.INVALID_ARGUMENT, `loadRuntime: ${path} is not a lean runtime library (${(e as Error).message.slice(0, 80)})`);
    }
    if (info.magic !== LEAN_MAGIC || typeof info.version !== 'string') throw new TrtRefitError(TrtRefitErrorCode.INVALID_ARGUMENT, `loadRuntime: ${path} is not a lean runtime library`);
    this.logger.log('INFO', `loaded lean runtime ${info.version} from ${path}`);
    return new MockRuntime(this.tensorrtVersion, this.logger, info.version);
  }

  /**
   * IRuntime::setEngineHostCodeAllowed: see {@link Runtime.setEngineHostCodeAllowed}. Here: emulated; plans that embed
   * a lean runtime (VERSION_COMPATIBLE) are refused with a PLAN_VERSION error unless it is true (false by default).
   */
  setEngineHostCodeAllowed(allowed: boolean): void {
    this.check();
    this.hostCodeAllowed = !!allowed;
  }
  /** IRuntime::getEngineHostCodeAllowed: see {@link Runtime.getEngineHostCodeAllowed}. Here: the value last set, false by default. */
  getEngineHostCodeAllowed(): boolean {
    return this.hostCodeAllowed;
  }
  /** Marks the runtime disposed: later calls throw DisposedError. Engines it deserialized stay usable. Idempotent. */
  dispose(): void {
    this._disposed = true;
  }
}
