import { DataType, DisposedError, NetworkDefinition, requireFeature, type Weights } from '@trt-refit/core';
import type { NativeNetwork, NativeTensorInfo } from './binding.js';
import type { LogBridge } from './diagnostics.js';
import { dataTypeName } from './native-enums.js';
import { callNative } from './native-errors.js';
import type { OnnxSource } from './identity.js';

/**
 * A network of the native backend: a real `INetworkDefinition`, filled by TensorRT's ONNX parser
 * (`backend.createOnnxParser(network).parseFromFile(path)`).
 *
 * How core's {@link NetworkDefinition} maps onto it:
 * - `inputs` and `outputs` are read back from TensorRT after each successful parse.
 * - `markWeightsRefittable`, `unmarkWeightsRefittable` and `areWeightsMarkedRefittable` are forwarded to TensorRT
 *   once the network was parsed (the parser named the weights after the ONNX initializers and Constant outputs).
 * - `setWeightsName` names weights by their JS identity, which weights created by the parser do not have in JS:
 *   after a parse it returns false (the parser already named them); before, it applies to hand-built layers.
 * - Hand-built layers (`addLayer`, `addConstant`) stay in the TS IR until the build: the native builder writes
 *   them as ONNX (`networkToOnnx`: each weight an initializer named as the network names it) and parses that
 *   into the TensorRT network, then marks the weights marked here. Layers ONNX cannot carry under the same
 *   weight names (a hand-built `Scale`) are refused with UnsupportedFeatureError, never dropped.
 */
export class NativeNetworkDefinition extends NetworkDefinition {
  #parsed = false;
  /** @internal The ONNX model a parser filled this network from (for the identity manifest of REFIT_IDENTICAL builds). */
  onnxSource: OnnxSource | undefined;
  #lowered = -1;
  #disposed = false;

  /** @internal */
  constructor(
    readonly native: NativeNetwork,
    private readonly log: LogBridge,
    tensorrtVersion: string,
  ) {
    super(tensorrtVersion);
  }

  /** True once an ONNX parser filled the native network. */
  get parsed(): boolean {
    return this.#parsed;
  }

  /** True once the builder gave this network's hand-built layers to TensorRT (through its ONNX parser). */
  get lowered(): boolean {
    return this.#lowered >= 0;
  }

  /** How many hand-built layers TensorRT was given (-1 before). */
  get loweredLayers(): number {
    return this.#lowered;
  }

  /** @internal Called by the builder after parsing the hand-built layers written as ONNX. */
  markLowered(): void {
    this.#lowered = this.layers.length;
  }

  /** True once {@link NativeNetworkDefinition.dispose} was called. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /** @internal */
  live(): NativeNetwork {
    if (this.#disposed) throw new DisposedError('NetworkDefinition');
    return this.native;
  }

  /** Layers in the native network (what the parser created). */
  getNbLayers(): number {
    return this.call(() => this.live().getNbLayers());
  }

  /** @internal Called by the parser after a successful parse. */
  markParsed(): void {
    this.#parsed = true;
    const toDesc = (t: NativeTensorInfo) => ({ name: t.name, dtype: dataTypeName(t.dtype) ?? DataType.FLOAT, dims: t.dims.map((d) => (d < 0 ? -1 : d)) });
    this.inputs.splice(0, this.inputs.length, ...this.call(() => this.live().getInputs()).map(toDesc));
    this.outputs.splice(0, this.outputs.length, ...this.call(() => this.live().getOutputs()).map(toDesc));
  }

  override setWeightsName(weights: Weights, name: string | null): boolean {
    if (this.#parsed) {
      this.log.logger.log('WARNING', 'setWeightsName: weights created by the ONNX parser are named by the parser and have no JS identity; returning false');
      return false;
    }
    return super.setWeightsName(weights, name);
  }

  override markWeightsRefittable(name: string): boolean {
    requireFeature(this.tensorrtVersion, 'INetworkDefinition.markWeightsRefittable');
    if (!this.#parsed) return super.markWeightsRefittable(name);
    if (typeof name !== 'string') return false;
    return this.call(() => this.live().markWeightsRefittable(name));
  }

  override unmarkWeightsRefittable(name: string): boolean {
    requireFeature(this.tensorrtVersion, 'INetworkDefinition.unmarkWeightsRefittable');
    if (!this.#parsed) return super.unmarkWeightsRefittable(name);
    if (typeof name !== 'string') return false;
    return this.call(() => this.live().unmarkWeightsRefittable(name));
  }

  override areWeightsMarkedRefittable(name: string): boolean {
    requireFeature(this.tensorrtVersion, 'INetworkDefinition.areWeightsMarkedRefittable');
    if (!this.#parsed) return super.areWeightsMarkedRefittable(name);
    if (typeof name !== 'string') return false;
    return this.call(() => this.live().areWeightsMarkedRefittable(name));
  }

  /** Releases the native network and its parsers (which own the weights). Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.native.dispose();
    this.log.flush();
  }

  private call<T>(fn: () => T): T {
    try {
      return callNative(fn);
    } finally {
      this.log.flush();
    }
  }
}
