import {
  BuilderFlag,
  DisposedError,
  InvalidArgumentError,
  NetworkDefinition,
  Severity,
  TrtRefitError,
  TrtRefitErrorCode,
  checkBuilderFlags,
  defaultSerializationFlags,
  hostBytes,
  resolveBuildMode,
  silentLogger,
  type Builder,
  type BuilderConfig,
  type Logger,
} from '@trt-refit/core';
import { onnxParserRules } from '@trt-refit/core';
import { planEngine } from './engine-model.js';
import { contentHash } from './mock-engine.js';
import { writePlan } from './plan-file.js';

const ALL_FLAGS = new Set<string>(Object.values(BuilderFlag));

/** `IBuilderConfig` of the mock (flags only; rules are checked at build, all at once). */
export class MockBuilderConfig implements BuilderConfig {
  private readonly flags = new Set<BuilderFlag>();
  private static check(flag: BuilderFlag): void {
    if (!ALL_FLAGS.has(flag)) throw new InvalidArgumentError(`${JSON.stringify(flag)} is not a BuilderFlag (${[...ALL_FLAGS].join(', ')})`);
  }
  /**
   * IBuilderConfig::setFlag: see {@link BuilderConfig.setFlag}. Here: only recorded (flag rules are checked at
   * build); InvalidArgumentError for a name that is not a BuilderFlag.
   */
  setFlag(flag: BuilderFlag): void {
    MockBuilderConfig.check(flag);
    this.flags.add(flag);
  }
  /** IBuilderConfig::clearFlag: see {@link BuilderConfig.clearFlag}. Here: removes the recorded flag; InvalidArgumentError for a name that is not a BuilderFlag. */
  clearFlag(flag: BuilderFlag): void {
    MockBuilderConfig.check(flag);
    this.flags.delete(flag);
  }
  /** IBuilderConfig::getFlag: see {@link BuilderConfig.getFlag}. Here: whether the flag is recorded (none by default). */
  getFlag(flag: BuilderFlag): boolean {
    return this.flags.has(flag);
  }
  setFlags(flags: Iterable<BuilderFlag>): void {
    const list = [...flags];
    list.forEach(MockBuilderConfig.check);
    this.flags.clear();
    for (const f of list) this.flags.add(f);
  }
  /** IBuilderConfig::getFlags: see {@link BuilderConfig.getFlags}. Here: the recorded flags, in the order they were set. */
  getFlags(): BuilderFlag[] {
    return [...this.flags];
  }
}

/** `IBuilder` of the mock backend: applies the flag rules and the engine model, writes a flatbuffers plan. */
export class MockBuilder implements Builder {
  private _disposed = false;
  constructor(readonly tensorrtVersion: string, private readonly logger: Logger = silentLogger) {}
  /** True once {@link MockBuilder.dispose} was called. */
  get disposed(): boolean {
    return this._disposed;
  }
  private check(): void {
    if (this._disposed) throw new DisposedError('Builder');
  }
  /**
   * IBuilder::createNetwork: see {@link Builder.createNetwork}. Here: core's TS {@link NetworkDefinition} for the
   * emulated TensorRT version, filled by hand or by an ONNX importer.
   */
  createNetwork(): NetworkDefinition {
    this.check();
    return new NetworkDefinition(this.tensorrtVersion);
  }
  /** IBuilder::createBuilderConfig: see {@link Builder.createBuilderConfig}. Here: a {@link MockBuilderConfig} with no flags set. */
  createBuilderConfig(): BuilderConfig {
    this.check();
    return new MockBuilderConfig();
  }
  async buildSerializedNetwork(network: NetworkDefinition, config: BuilderConfig): Promise<Uint8Array> {
    this.check();
    if (!(network instanceof NetworkDefinition)) throw new InvalidArgumentError('buildSerializedNetwork: network must come from builder.createNetwork()');
    await new Promise<void>((r) => setImmediate(r)); // never block the caller's turn of the event loop
    const flags = config.getFlags();
    for (const w of checkBuilderFlags(flags, this.tensorrtVersion).warnings) this.logger.log(Severity.WARNING, w);
    const mode = resolveBuildMode(flags, this.tensorrtVersion);
    if (network.layers.length === 0 || network.outputs.length === 0) throw new TrtRefitError(TrtRefitErrorCode.BUILD_FAILED, 'the network has no layers or no outputs');
    // Building is not executing: every layer the importer produced is built; only execution may refuse an op the
    // CPU executor lacks (it names the op and the layer then).
    const engine = planEngine(network, mode);
    // TensorRT 11.3's documented known issue (rule P-GEMM-BIAS-11.3): warned, not emulated, since "can be dropped"
    // does not say when; the mock's outputs keep the bias.
    if (mode.refit === 'all' && onnxParserRules(this.tensorrtVersion).refitMayDropGemmBias) {
      const gemms = engine.layers.filter((l) => /(^|\+)(Gemm|MatMul)(\+|$)/.test(l.type) && (/\+Add/.test(l.type) || l.weights.length > 1)).map((l) => l.name);
      if (gemms.length) {
        this.logger.log(
          Severity.WARNING,
          `TensorRT ${this.tensorrtVersion} known issue: with BuilderFlag.REFIT a GEMM bias can be dropped and treated as zero, and that bias is not exposed through the refit API (layers: ${gemms.join(', ')}); use REFIT_IDENTICAL if the weights will not change. The mock keeps the bias.`,
        );
      }
    }
    const data = new Map(network.weightsEntries().map((e) => [e.name, hostBytes(e.weights)]));
    const names = new Map(network.weightsEntries().map((e) => [e.weights, e.name]));
    return writePlan({
      tensorrtVersion: this.tensorrtVersion,
      builderFlags: flags,
      serializationFlags: defaultSerializationFlags(mode),
      refittable: mode.refit !== 'none',
      strippedBuild: mode.strip !== 'none',
      weightsExcluded: mode.strip !== 'none',
      versionCompatible: mode.versionCompatible,
      leanRuntime: mode.versionCompatible ? (mode.excludeLeanRuntime ? 'excluded' : 'embedded') : 'none',
      inputs: network.inputs,
      outputs: network.outputs,
      networkLayers: network.layers.map((l) => ({
        name: l.name,
        type: l.type,
        inputs: l.inputs,
        outputs: l.outputs,
        attributes: l.attributes,
        weights: l.weights.map((w) => ({ role: w.role, name: names.get(w.weights) ?? network.getWeightsName(w.weights)! })),
      })),
      engineLayers: engine.layers,
      weights: engine.weights.map((w) => ({ ...w, contentHash: contentHash(data.get(w.name)!), data: w.stripped ? null : data.get(w.name)! })),
      fusionGroups: engine.fusionGroups,
    });
  }
  /** Marks the builder disposed: later calls throw DisposedError. Networks and configs it created stay usable. Idempotent. */
  dispose(): void {
    this._disposed = true;
  }
}
