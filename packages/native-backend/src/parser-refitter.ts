import { resolve } from 'node:path';
import { IDENTICAL_REFIT_TENSORRT, UnsupportedFeatureError, byteLengthFor, requireFeature, type ParserRefitter, type RefitProgress, type RefitterObserver } from '@trt-refit/core';
import type { NativeParserRefitter as RawParserRefitter } from './binding.js';
import type { NativeContext } from './context.js';
import type { LogBridge } from './diagnostics.js';
import { NativeParserBase } from './parser-error.js';
import type { OnnxSource } from './identity.js';
import { modelIdentityDifferences, openOnnxModel, parseOnnxModel } from '@trt-refit/onnx';
import type { NativeRefitter } from './refitter.js';
import { expectBytes, expectOptionalString, expectString, expectView } from './validate.js';

/**
 * TensorRT's own ONNX parser refitter (`nvonnxparser::IParserRefitter`) over a native refitter. It sets weights
 * only: call `refitter.refitCudaEngine()` afterwards. Its calls run on a worker thread, serialized with the
 * refitter's other asynchronous calls. The weights it converts live in TensorRT's memory for as long as the
 * refitter does; `refitter.getNamedWeights` returns copies of them.
 *
 * TensorRT reports no per-weight progress, so `onProgress` is called for every refittable weight after a call that
 * set them all succeeded.
 */
export class NativeParserRefitter extends NativeParserBase<RawParserRefitter> implements ParserRefitter {
  onProgress?: RefitProgress | undefined;

  /** @internal */
  constructor(
    native: RawParserRefitter,
    log: LogBridge,
    private readonly refitter: NativeRefitter,
    private readonly ctx: NativeContext,
  ) {
    super(native, log, 'ParserRefitter');
  }

  private async run(operation: (n: RawParserRefitter) => Promise<boolean>, source?: OnnxSource): Promise<boolean> {
    this.live();
    this.refitter.raw();
    // A REFIT_IDENTICAL engine: TensorRT would take other weights silently, so the model is checked in TS first.
    const manifest = this.refitter.engine.getIdentityManifest();
    if (manifest && source) {
      let differ: string[];
      try {
        const model = 'path' in source ? await openOnnxModel(source.path) : parseOnnxModel(source.bytes, source.modelPath ? { modelPath: source.modelPath } : {});
        differ = await modelIdentityDifferences(model, manifest, this.ctx.version);
      } catch {
        differ = []; // TensorRT's parser reports what it cannot read
      }
      if (differ.length) {
        return this.fail(`the engine was built with REFIT_IDENTICAL, but the model's weights differ from the build-time ones: ${differ.join(', ')}. ${IDENTICAL_REFIT_TENSORRT}; trt-refit refuses it before TensorRT sees them`);
      }
    }
    const ok = await this.refitter.queue.run(() => this.callAsync(operation));
    this.refitter.reconcile();
    if (ok && this.onProgress) this.reportProgress();
    return ok;
  }

  private reportProgress(): void {
    const names = this.refitter.getAllWeights();
    names.forEach((name, i) => {
      const p = this.refitter.getWeightsPrototype(name);
      this.onProgress?.({ done: i + 1, total: names.length, name, bytes: byteLengthFor(p.type, Math.max(0, p.count)) });
    });
  }

  /**
   * IParserRefitter::refitFromFile: see {@link ParserRefitter.refitFromFile}. Here: TensorRT reads the model on a
   * worker thread, serialized with the refitter's other asynchronous calls; it only sets weights.
   */
  refitFromFile(path: string): Promise<boolean> {
    const file = expectString(path, 'path');
    return this.run((n) => n.refitFromFile(file), { path: resolve(file) });
  }

  /** `modelPath` locates external data; it is made absolute, as TensorRT requires. */
  refitFromBytes(bytes: Uint8Array, modelPath?: string): Promise<boolean> {
    const data = expectBytes(bytes, 'bytes');
    const path = expectOptionalString(modelPath, 'modelPath');
    return this.run((n) => n.refitFromBytes(data, path === undefined ? null : resolve(path)), { bytes: data, modelPath: path === undefined ? undefined : resolve(path) });
  }

  /** 10.13+. Only one model at a time: a second call without refitting is refused by TensorRT. */
  loadModelProto(bytes: Uint8Array, modelPath?: string): Promise<boolean> {
    requireFeature(this.ctx.version, 'IParserRefitter.loadModelProto');
    const data = expectBytes(bytes, 'bytes');
    const path = expectOptionalString(modelPath, 'modelPath');
    return this.run((n) => n.loadModelProto(data, path === undefined ? null : resolve(path)));
  }

  /** 10.13+. `data` is held by reference until the refitter is disposed (TensorRT keeps the pointer that long). */
  loadInitializer(name: string, data: ArrayBufferView): boolean {
    requireFeature(this.ctx.version, 'IParserRefitter.loadInitializer');
    expectString(name, 'name');
    const view = expectView(data, 'data');
    this.refitter.raw();
    const ok = this.call((n) => n.loadInitializer(name, view));
    if (ok) this.refitter.keepAlive(view);
    return ok;
  }

  /** 10.13+. */
  refitModelProto(): Promise<boolean> {
    requireFeature(this.ctx.version, 'IParserRefitter.refitModelProto');
    return this.run((n) => n.refitModelProto());
  }

  /**
   * IParserRefitter::setRefitObserver (11.2+): see {@link ParserRefitter.setRefitObserver}. Here: the addon is
   * compiled against the 11.1 headers, which do not declare `IRefitterObserver`, so this throws
   * UnsupportedFeatureError on every TensorRT (before 11.2 because the API does not exist). A recipe of the same
   * records comes from `refitRecipe` of `@trt-refit/onnx` for any version.
   */
  setRefitObserver(observer: RefitterObserver | null): void {
    requireFeature(this.ctx.version, 'IParserRefitter.setRefitObserver');
    void observer;
    throw new UnsupportedFeatureError(
      `IParserRefitter.setRefitObserver: the native addon was compiled against TensorRT 11.1 headers, which lack IRefitterObserver; use refitRecipe() from @trt-refit/onnx for the same records`,
      'IParserRefitter.setRefitObserver',
      this.ctx.version,
    );
  }
}
