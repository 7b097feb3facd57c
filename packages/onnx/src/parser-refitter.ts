import {
  Severity,
  hostBytes,
  requireFeature,
  silentLogger,
  type Feature,
  type Logger,
  type ParserError,
  type ParserRefitter,
  type RefitProgress,
  type Refitter,
  type RefitterObserver,
  type Weights,
} from '@trt-refit/core';
import type { FoldedBatchNorm } from './batch-norm.js';
import { OnnxModel, TensorReadAhead, openOnnxModel, parseOnnxModel, withInitializers, type OnnxNodeProto, type OnnxTensorInfo } from './onnx-model.js';
import { UniqueNames } from './parser-names.js';
import { onnxParserRules, type OnnxParserRules } from '@trt-refit/core';
import { materializeSource } from './refit-recipe.js';
import { weightSources, type WeightSource } from './weight-sources.js';

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
  /**
   * With `streamTo`: how many tensors are read ahead while `streamTo` of the previous one is pending (default 1:
   * double buffering, so reading the file overlaps the upload; 0: one at a time). Each read-ahead costs one more
   * staging buffer of the largest streamed tensor's size.
   */
  readonly readAhead?: number;
  /**
   * With `streamTo`: where streamed tensors are read to. Called once per refit with the largest streamed tensor's
   * size and the number of buffers wanted (`readAhead + 1`); return that many buffers of at least that size, e.g.
   * pinned host memory the upload can copy from directly (the native backend's `DeviceWeightsStreamer.staging`).
   * The caller owns them; each is reused for another tensor once the `streamTo` promise of the tensor in it
   * resolves. Default: plain host memory, allocated per refit.
   */
  readonly staging?: (byteLength: number, count: number) => readonly Uint8Array[];
  /** How `refitFromFile` opens models: see `OpenOnnxModelOptions.lazy` (default: lazily from 64 MiB on). */
  readonly lazy?: boolean;
  /**
   * The TensorRT version to behave as (a backend passes its own; default the newest known): its parser rules
   * (generated names, conversions, one model per parser refitter; `onnxParserRules`), and its API:
   * loadModelProto, loadInitializer and refitModelProto throw UnsupportedFeatureError before 10.13,
   * setRefitObserver before 11.2, as those methods do not exist there.
   */
  readonly tensorrtVersion?: string;
}

/**
 * `nvonnxparser::IParserRefitter` in TypeScript, over any backend's {@link Refitter}, following onnx-tensorrt's
 * `ModelRefitter` of the emulated version (rules in `onnxParserRules`, docs/fidelity.md). It walks the model
 * (initializers, then nodes in topological order, recursing into If/Loop/Scan subgraphs) and sets every weight whose
 * name `refitter.getAllWeights()` lists: initializers, Constant values, BatchNormalization folds and (10.14+)
 * ConstantOfShape values recomputed under the names a replay of the parser's traversal generates. Data types are
 * converted as TensorRT converts them. As in TensorRT it stops at the first weight that fails (weights set before
 * stay set), reports "Only successfully refitted N weights out of M" when the model lacks some, returns true when
 * the engine has no refittable weights, and takes one model in its life ("A model was previously parsed!"); its
 * generated-name counter is never reset. It only sets weights: call `refitter.refitCudaEngine()` afterwards.
 * Progress is reported through {@link OnnxParserRefitter.onProgress}; 11.2+ reports a `RefitRecord` per weight to
 * the observer of {@link OnnxParserRefitter.setRefitObserver}.
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
  private readonly rules: OnnxParserRules;
  /** The generated-name set and counter of this parser refitter: TensorRT never resets them. */
  private readonly names = new UniqueNames();
  /** The model this parser refitter has taken (TensorRT keeps it; a second one is refused from 10.2). */
  private model: OnnxModel | undefined;
  private loaded = false;
  private loadedInitializers: Map<string, OnnxTensorInfo> | undefined;
  private readonly initializers = new Map<string, Uint8Array>();
  private observer: RefitterObserver | null = null;

  constructor(private readonly refitter: Refitter, private readonly logger: Logger = silentLogger, private readonly options: OnnxParserRefitterOptions = {}) {
    this.rules = onnxParserRules(options.tensorrtVersion);
  }

  private gate(feature: Feature): void {
    requireFeature(this.rules.tensorrtVersion, feature);
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

  /**
   * IParserRefitter::setRefitObserver (11.2+): the observer receives a `RefitRecord` for each weight set by the
   * following refits, in traversal order; null detaches it. UnsupportedFeatureError before 11.2.
   */
  setRefitObserver(observer: RefitterObserver | null): void {
    this.gate('IParserRefitter.setRefitObserver');
    this.observer = observer;
  }

  /** Takes `model` as this parser refitter's one model; false (TensorRT's error) when it already has one. */
  private take(model: () => OnnxModel | undefined | Promise<OnnxModel | undefined>): Promise<OnnxModel | undefined> | OnnxModel | undefined {
    if (this.model && this.rules.oneModelPerParserRefitter) {
      this.error('MODEL_DESERIALIZE_FAILED', 'A model was previously parsed! (one IParserRefitter refits one model: create another for the next one)');
      return undefined;
    }
    return model();
  }

  /** Refits from an ONNX file; external data resolves against its folder and is read tensor by tensor. */
  async refitFromFile(path: string): Promise<boolean> {
    const model = await this.take(async () => {
      try {
        return await openOnnxModel(path, this.options.lazy !== undefined ? { lazy: this.options.lazy } : {});
      } catch (e) {
        this.error('MODEL_DESERIALIZE_FAILED', `${path}: ${(e as Error).message}`);
        return undefined;
      }
    });
    if (!model) return false;
    this.model = model;
    return this.refit(model);
  }

  /**
   * Refits from a serialized model; `modelPath` (the .onnx file) anchors external data. Embedded weights are set as
   * views of `bytes` (no copy), so keep `bytes` unchanged until the refitter's refit is done.
   */
  async refitFromBytes(bytes: Uint8Array, modelPath?: string): Promise<boolean> {
    const model = await this.take(() => this.parse(bytes, modelPath));
    if (!model) return false;
    this.model = model;
    return this.refit(model);
  }

  /**
   * Loads a model's structure for {@link refitModelProto} (10.13+); one model in the parser refitter's life. Unlike
   * TensorRT, which copies it, `bytes` is referenced (weights are views of it): keep it unchanged until the refit is
   * done.
   */
  loadModelProto(bytes: Uint8Array, modelPath?: string): Promise<boolean> {
    this.gate('IParserRefitter.loadModelProto'); // thrown synchronously: a missing API is a programming error
    return this.loadModelProtoNow(bytes, modelPath);
  }

  private async loadModelProtoNow(bytes: Uint8Array, modelPath?: string): Promise<boolean> {
    const model = await this.take(() => this.parse(bytes, modelPath));
    if (!model) return false;
    this.model = model;
    this.loaded = true;
    this.loadedInitializers = undefined;
    this.initializers.clear();
    return true;
  }

  /**
   * Supplies an initializer's bytes (little-endian, the model's element type) for {@link refitModelProto}; held by
   * reference; a later call for the same name replaces it. False before loadModelProto, for a name that is not an
   * initializer of the main graph (TensorRT looks only there), or a size that differs.
   */
  loadInitializer(name: string, data: ArrayBufferView): boolean {
    this.gate('IParserRefitter.loadInitializer');
    if (!this.loaded || !this.model) return this.error('INVALID_VALUE', 'loadInitializer: An ONNX model has not been loaded yet - cannot load initializer.');
    if (!this.loadedInitializers) this.loadedInitializers = new Map(this.model.graphTensors(this.model.graph).initializers);
    const info = this.loadedInitializers.get(name);
    if (!info) return this.error('INVALID_VALUE', `loadInitializer: Cannot find initializer name: ${name} in model! (only initializers of the main graph can be loaded)`);
    if (!ArrayBuffer.isView(data) || data.byteLength !== info.byteLength) {
      return this.error('INVALID_VALUE', `loadInitializer: ${name} needs ${info.byteLength} bytes (${info.dtypeName} [${info.dims.join(', ')}]), received ${ArrayBuffer.isView(data) ? data.byteLength : typeof data}`);
    }
    this.initializers.set(name, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return true;
  }

  /**
   * Refits from the loaded model with the loaded initializers in place of the model's own. As in TensorRT the
   * model stays loaded, and a second call walks it again with the generated-name counter where the first left it.
   */
  refitModelProto(): Promise<boolean> {
    this.gate('IParserRefitter.refitModelProto');
    return this.refitModelProtoNow();
  }

  private async refitModelProtoNow(): Promise<boolean> {
    if (!this.loaded || !this.model) return this.error('INVALID_VALUE', 'refitModelProto: An ONNX model has not been loaded yet - cannot refit an empty model.');
    return this.refit(withInitializers(this.model, this.initializers));
  }

  /**
   * TensorRT's importer takes an If's then_branch before its else_branch, its refitter takes them in attribute order
   * (ModelRefitter.cpp `refitOnnxIfNode`): where else_branch comes first and the branches generate names, the two
   * name them differently and a refit sets swapped values without an error. Reproduced, and said.
   */
  private warnBranchOrder(model: OnnxModel): void {
    const walk = (nodes: readonly OnnxNodeProto[]): string[] =>
      nodes.flatMap((n) => {
        const attrs = n.attribute ?? [];
        const order = attrs.map((a) => a.name);
        const flagged = n.opType === 'If' && order.indexOf('else_branch') >= 0 && order.indexOf('else_branch') < order.indexOf('then_branch') ? [n.name || n.output?.[0] || '?'] : [];
        return [...flagged, ...attrs.flatMap((a) => (a.g ? walk(a.g.node ?? []) : []))];
      });
    const flagged = walk(model.graph.node ?? []);
    if (flagged.length) {
      this.logger.log(Severity.WARNING, `If node(s) ${flagged.join(', ')} list else_branch before then_branch: TensorRT's parser names generated weights of the branches then-first at build and in attribute order at refit, so their values may be swapped silently (as in TensorRT); reorder the attributes`);
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
      sources = weightSources(model, this.rules, this.names);
    } catch (e) {
      return this.error('INVALID_GRAPH', `Failed to sort the model topologically: ${(e as Error).message}`);
    }
    this.warnBranchOrder(model);
    // With streamTo, the tensors read from a file when asked for (external data, large embedded data of a model
    // opened lazily) go through staging buffers, read ahead in the order the walk sets them.
    let reader: TensorReadAhead | undefined;
    if (this.options.streamTo) {
      const seen = new Set<string>();
      const order = sources.flatMap((x) => (x.kind === 'tensor' && refittable.has(x.name) && !seen.has(x.name) && (seen.add(x.name), OnnxModel.readsFromFile(x.tensor)) ? [x.tensor] : []));
      try {
        reader = new TensorReadAhead(model, order, { ...(this.options.readAhead !== undefined ? { readAhead: this.options.readAhead } : {}), ...(this.options.staging ? { allocate: this.options.staging } : {}) });
      } catch (e) {
        return this.error('INVALID_VALUE', `streaming: ${(e as Error).message}`);
      }
    }
    try {
      return await this.setAll(model, sources, refittable, reader);
    } finally {
      await reader?.close();
    }
  }

  private async setAll(model: OnnxModel, sources: WeightSource[], refittable: Set<string>, reader: TensorReadAhead | undefined): Promise<boolean> {
    const total = refittable.size;
    let done = 0;
    const folds = new Map<string, FoldedBatchNorm | string>();
    for (const s of sources) {
      // TensorRT throws where the traversal meets a node it cannot handle: the refit stops there.
      if (s.kind === 'error') return this.error(s.code, s.message);
      // A name is set once: the set of refittable names loses it when it is set (later duplicates are skipped).
      if (!refittable.has(s.name)) continue;
      refittable.delete(s.name);
      const streaming = reader !== undefined && s.kind === 'tensor' && OnnxModel.readsFromFile(s.tensor);
      let weights: Weights;
      let location: 'HOST' | 'DEVICE' = 'HOST';
      try {
        const m = await materializeSource(model, s, this.rules, { folds, ...(streaming ? { read: (t: OnnxTensorInfo) => reader!.read(t) } : {}), warn: (w) => this.logger.log(Severity.WARNING, w) });
        if (typeof m === 'string') return this.error(s.kind === 'tensor' ? 'UNSUPPORTED_NODE' : 'REFIT_FAILED', `Failed to import initializer. ${m}`);
        weights = m.weights;
        if (streaming) {
          ({ weights, location } = await this.options.streamTo!(s.name, weights));
          // Host weights that still view a staging buffer would change with a later tensor: keep a copy.
          const v = weights.values;
          if (ArrayBuffer.isView(v) && reader!.holds(v)) weights = { ...weights, values: new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice() };
        }
        const proto = this.refitter.getWeightsPrototype(s.name);
        if (proto.type !== weights.type || proto.count !== weights.count) {
          return this.error('REFIT_FAILED', `Failed to set named weights: ${s.name}: the model has ${weights.type}[${weights.count}] but the engine was built with ${proto.type}[${proto.count}]`);
        }
        if (!this.refitter.setNamedWeights(s.name, weights, location)) return this.error('REFIT_FAILED', `Failed to set named weights: ${s.name} (see the refitter's log)`);
        this.observer?.onRefittableWeight(m.record);
      } catch (e) {
        return this.error('INVALID_VALUE', `${s.name}: ${(e as Error).message}`);
      }
      done++;
      this.onProgress?.({ done, total, name: s.name, bytes: location === 'HOST' && weights.values ? hostBytes(weights).byteLength : 0 });
    }
    if (refittable.size) {
      const missing = [...refittable];
      const shown = missing.slice(0, 50).join(', ') + (missing.length > 50 ? `, … (${missing.length - 50} more)` : '');
      return this.error('REFIT_FAILED', `Only successfully refitted ${done} weights out of ${total}; not in the model: ${shown}`);
    }
    return true;
  }
}
