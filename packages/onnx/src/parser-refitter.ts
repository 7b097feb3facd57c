import { Severity, requireFeature, silentLogger, type Feature, type Logger, type ParserError, type ParserRefitter, type RefitProgress, type Refitter, type Weights, hostBytes } from '@trt-refit/core';
import { foldBatchNorm, type FoldedBatchNorm } from './batch-norm.js';
import { toTrtWeights } from './importer.js';
import { lazyRawData } from './lazy-model.js';
import { OnnxModel, openOnnxModel, parseOnnxModel, type OnnxTensorInfo } from './onnx-model.js';
import { weightSources } from './weight-sources.js';

/** Options of {@link OnnxParserRefitter}. */
export interface OnnxParserRefitterOptions {
  /**
   * Streaming of weights read from files: external data, and the large embedded tensors of a model of 64 MiB or
   * more (opened lazily, see `OpenOnnxModelOptions.lazy`). A refitter holds the weights it is given by reference
   * until the refit, so host weights cannot be released one by one: without this option every such weight stays in
   * host memory until the caller's `refitCudaEngine()` (peak host memory = the model's weights, as with TensorRT's
   * parser refitter). With it, each such tensor is read, converted, and passed here; return the weights to set
   * instead, typically uploaded to a device buffer (`{ type, values: deviceBuffer, count }`, location DEVICE).
   * The tensors are read into one scratch buffer, reused for the next tensor once the returned promise resolves —
   * so copy or upload the bytes before resolving, never keep them — and host memory holds one tensor (the largest)
   * however large the model; device memory holds them all. Small embedded weights (views of the model's bytes)
   * and folded BatchNormalization weights are set as host weights either way.
   */
  readonly streamTo?: (name: string, weights: Weights) => Promise<{ weights: Weights; location: 'HOST' | 'DEVICE' }> | { weights: Weights; location: 'HOST' | 'DEVICE' };
  /** How `refitFromFile` opens models: see `OpenOnnxModelOptions.lazy` (default: lazily from 64 MiB on). */
  readonly lazy?: boolean;
  /**
   * The TensorRT version to behave as (a backend passes its own): loadModelProto, loadInitializer and
   * refitModelProto throw UnsupportedFeatureError before 10.13, as those methods do not exist there.
   */
  readonly tensorrtVersion?: string;
}

/** A model whose initializers may be replaced by bytes given with `loadInitializer`. */
class OverriddenModel extends OnnxModel {
  constructor(base: OnnxModel, private readonly overrides: ReadonlyMap<string, Uint8Array>) {
    super(base.proto, base.modelDir);
  }
  override async readTensor(info: OnnxTensorInfo, options: { into?: Uint8Array } = {}): Promise<Uint8Array> {
    const o = info.kind === 'initializer' ? this.overrides.get(info.name) : undefined;
    return o ?? super.readTensor(info, options);
  }
}

/**
 * `nvonnxparser::IParserRefitter` in TypeScript, over any backend's {@link Refitter}. Following onnx-tensorrt's
 * `ModelRefitter`, it walks the model (initializers, then nodes in topological order, recursing into If/Loop/Scan
 * subgraphs) and sets every weight whose name `refitter.getAllWeights()` lists: initializers, Constant values, and
 * BatchNormalization folds recomputed under the names a replay of the parser's traversal generates. Data types are
 * converted as at import (DOUBLE → FLOAT, UINT8 → INT32). It returns false, with errors (`getError`) naming every
 * weight that is missing from the model ("Only successfully refitted N weights out of M") or that does not match
 * the engine (dtype, count), and true when the engine has no refittable weights. It only sets weights: call
 * `refitter.refitCudaEngine()` afterwards. Progress is reported through {@link OnnxParserRefitter.onProgress}.
 *
 * @example
 * ```ts
 * const parserRefitter = new OnnxParserRefitter(refitter);
 * if (await parserRefitter.refitFromFile('model.onnx')) await refitter.refitCudaEngine();
 * ```
 */
export class OnnxParserRefitter implements ParserRefitter {
  onProgress?: RefitProgress | undefined;
  private readonly errors: ParserError[] = [];
  private loaded: OnnxModel | undefined;
  private loadedInitializers: Map<string, OnnxTensorInfo> | undefined;
  private readonly initializers = new Map<string, Uint8Array>();

  constructor(private readonly refitter: Refitter, private readonly logger: Logger = silentLogger, private readonly options: OnnxParserRefitterOptions = {}) {}

  private gate(feature: Feature): void {
    if (this.options.tensorrtVersion !== undefined) requireFeature(this.options.tensorrtVersion, feature);
  }

  private error(code: string, desc: string): false {
    this.errors.push({ code, desc, node: -1, nodeName: '', nodeOperator: '' });
    this.logger.log(Severity.ERROR, desc);
    return false;
  }

  /** Number of errors recorded since creation or the last {@link clearErrors}; they accumulate across calls. */
  getNbErrors(): number {
    return this.errors.length;
  }
  /** The error at `index` (0 to `getNbErrors() - 1`), or undefined past the last. */
  getError(index: number): ParserError | undefined {
    return this.errors[index];
  }
  /** Forgets the recorded errors. */
  clearErrors(): void {
    this.errors.length = 0;
  }

  /** Refits from an ONNX file; external data resolves against its folder and is read tensor by tensor. */
  async refitFromFile(path: string): Promise<boolean> {
    let model: OnnxModel;
    try {
      model = await openOnnxModel(path, this.options.lazy !== undefined ? { lazy: this.options.lazy } : {});
    } catch (e) {
      return this.error('MODEL_DESERIALIZE_FAILED', `${path}: ${(e as Error).message}`);
    }
    return this.refit(model);
  }

  /**
   * Refits from a serialized model; `modelPath` (the .onnx file) anchors external data. Embedded weights are set as
   * views of `bytes` (no copy), so keep `bytes` unchanged until the refitter's refit is done.
   */
  async refitFromBytes(bytes: Uint8Array, modelPath?: string): Promise<boolean> {
    const model = this.parse(bytes, modelPath);
    return model ? this.refit(model) : false;
  }

  /**
   * Loads a model's structure for {@link refitModelProto}; only one model at a time (10.13+). Unlike TensorRT, which
   * copies it, `bytes` is referenced (weights are views of it): keep it unchanged until the refit is done.
   */
  loadModelProto(bytes: Uint8Array, modelPath?: string): Promise<boolean> {
    this.gate('IParserRefitter.loadModelProto'); // thrown synchronously: a missing API is a programming error
    return this.loadModelProtoNow(bytes, modelPath);
  }

  private async loadModelProtoNow(bytes: Uint8Array, modelPath?: string): Promise<boolean> {
    if (this.loaded) return this.error('INVALID_VALUE', 'loadModelProto: a model is already loaded; refit it with refitModelProto first');
    const model = this.parse(bytes, modelPath);
    if (!model) return false;
    this.loaded = model;
    this.loadedInitializers = undefined;
    this.initializers.clear();
    return true;
  }

  /**
   * Supplies an initializer's bytes (little-endian, the model's element type) for {@link refitModelProto}; held by
   * reference. False before loadModelProto, for a name that is not an initializer, or a size that differs.
   */
  loadInitializer(name: string, data: ArrayBufferView): boolean {
    this.gate('IParserRefitter.loadInitializer');
    if (!this.loaded) return this.error('INVALID_VALUE', 'loadInitializer: call loadModelProto first');
    if (!this.loadedInitializers) {
      this.loadedInitializers = new Map();
      for (const t of this.loaded.tensors()) if (t.kind === 'initializer' && !this.loadedInitializers.has(t.name)) this.loadedInitializers.set(t.name, t);
    }
    const info = this.loadedInitializers.get(name);
    if (!info) return this.error('INVALID_VALUE', `loadInitializer: ${name} is not an initializer of the loaded model`);
    if (!ArrayBuffer.isView(data) || data.byteLength !== info.byteLength) {
      return this.error('INVALID_VALUE', `loadInitializer: ${name} needs ${info.byteLength} bytes (${info.dtypeName} [${info.dims.join(', ')}]), received ${ArrayBuffer.isView(data) ? data.byteLength : typeof data}`);
    }
    this.initializers.set(name, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return true;
  }

  /** Refits from the loaded model with the loaded initializers in place of the model's own. */
  refitModelProto(): Promise<boolean> {
    this.gate('IParserRefitter.refitModelProto');
    return this.refitModelProtoNow();
  }

  private async refitModelProtoNow(): Promise<boolean> {
    if (!this.loaded) return this.error('INVALID_VALUE', 'refitModelProto: no model is loaded (loadModelProto)');
    const model = new OverriddenModel(this.loaded, this.initializers);
    this.loaded = undefined;
    try {
      return await this.refit(model);
    } finally {
      this.initializers.clear();
    }
  }

  private parse(bytes: Uint8Array, modelPath?: string): OnnxModel | undefined {
    try {
      return parseOnnxModel(bytes, modelPath ? { modelPath } : {});
    } catch (e) {
      this.error('MODEL_DESERIALIZE_FAILED', (e as Error).message);
      return undefined;
    }
  }

  private async refit(model: OnnxModel): Promise<boolean> {
    const refittable = new Set(this.refitter.getAllWeights());
    if (refittable.size === 0) return true;
    let sources;
    try {
      sources = weightSources(model).filter((s) => refittable.has(s.name));
    } catch (e) {
      return this.error('INVALID_GRAPH', (e as Error).message);
    }
    const set = new Set<string>();
    let ok = true;
    const folds = new Map<string, FoldedBatchNorm | string>();
    // With streamTo, external tensors go through one scratch buffer of the largest one's size.
    // Tensors read from a file when asked for: external data, and large embedded data of a model opened lazily.
    const fromFile = (t: OnnxTensorInfo) => t.storage === 'external' || (t.storage === 'raw' && lazyRawData(t.proto) !== undefined);
    const streamed = this.options.streamTo ? sources.flatMap((x) => (x.kind === 'tensor' && fromFile(x.tensor) ? [x.tensor.byteLength] : [])) : [];
    const scratch = streamed.length ? new Uint8Array(streamed.reduce((m, b) => (Number.isFinite(b) && b > m ? b : m), 0)) : undefined;
    for (const s of sources) {
      if (set.has(s.name)) {
        this.logger.log(Severity.WARNING, `${s.name} appears more than once (e.g. in subgraphs); this only works if all copies have the same values`);
        continue;
      }
      let weights: Weights;
      let location: 'HOST' | 'DEVICE' = 'HOST';
      try {
        if (s.kind === 'tensor') {
          const into = scratch && fromFile(s.tensor) ? scratch : undefined;
          const w = toTrtWeights(s.tensor, await model.readTensor(s.tensor, { into }), (m) => this.logger.log(Severity.WARNING, m));
          if (typeof w === 'string') {
            ok = this.error('UNSUPPORTED_NODE_DATATYPE', w);
            continue;
          }
          weights = w;
          if (this.options.streamTo && fromFile(s.tensor)) {
            ({ weights, location } = await this.options.streamTo(s.name, w));
            // Host weights that still view the scratch buffer would change with the next tensor: keep a copy.
            const v = weights.values;
            if (scratch && ArrayBuffer.isView(v) && v.buffer === scratch.buffer) weights = { ...weights, values: new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice() };
          }
        } else {
          const key = `${s.node}\0${s.epsilon}\0${s.params.map((p) => p.name).join('\0')}`;
          let f = folds.get(key);
          if (f === undefined) {
            f = await foldBatchNorm(model, s.params, s.epsilon);
            folds.set(key, f);
          }
          if (typeof f === 'string') {
            ok = this.error('UNSUPPORTED_NODE_DATATYPE', `BatchNormalization ${s.node}: ${f}`);
            continue;
          }
          weights = s.kind === 'bn-scale' ? f.scale : f.shift;
        }
      } catch (e) {
        ok = this.error('INVALID_VALUE', `${s.name}: ${(e as Error).message}`);
        continue;
      }
      const proto = this.refitter.getWeightsPrototype(s.name);
      if (proto.type !== weights.type || proto.count !== weights.count) {
        ok = this.error('REFIT_FAILED', `${s.name}: the model has ${weights.type}[${weights.count}] but the engine was built with ${proto.type}[${proto.count}]`);
        continue;
      }
      if (!this.refitter.setNamedWeights(s.name, weights, location)) {
        ok = this.error('REFIT_FAILED', `${s.name}: setNamedWeights refused the weights (see the refitter's log)`);
        continue;
      }
      set.add(s.name);
      this.onProgress?.({ done: set.size, total: refittable.size, name: s.name, bytes: location === 'HOST' && weights.values ? hostBytes(weights).byteLength : 0 });
    }
    const missing = [...refittable].filter((n) => !set.has(n));
    if (missing.length) {
      const shown = missing.slice(0, 50).join(', ') + (missing.length > 50 ? `, … (${missing.length - 50} more)` : '');
      return this.error('REFIT_FAILED', `Only successfully refitted ${set.size} weights out of ${refittable.size}; not in the model: ${shown}`);
    }
    return ok;
  }
}
