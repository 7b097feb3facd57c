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
import { planEngine } from './engine-model.js';
import { unsupportedLayers } from './exec/index.js';
import { contentHash } from './mock-engine.js';
import { writePlan } from './plan-file.js';

const ALL_FLAGS = new Set<string>(Object.values(BuilderFlag));

/** `IBuilderConfig` of the mock (flags only; rules are checked at build, all at once). */
export class MockBuilderConfig implements BuilderConfig {
  private readonly flags = new Set<BuilderFlag>();
  private static check(flag: BuilderFlag): void {
    if (!ALL_FLAGS.has(flag)) throw new InvalidArgumentError(`${JSON.stringify(flag)} is not a BuilderFlag (${[...ALL_FLAGS].join(', ')})`);
  }
  setFlag(flag: BuilderFlag): void {
    MockBuilderConfig.check(flag);
    this.flags.add(flag);
  }
  clearFlag(flag: BuilderFlag): void {
    MockBuilderConfig.check(flag);
    this.flags.delete(flag);
  }
  getFlag(flag: BuilderFlag): boolean {
    return this.flags.has(flag);
  }
  setFlags(flags: Iterable<BuilderFlag>): void {
    const list = [...flags];
    list.forEach(MockBuilderConfig.check);
    this.flags.clear();
    for (const f of list) this.flags.add(f);
  }
  getFlags(): BuilderFlag[] {
    return [...this.flags];
  }
}

/** `IBuilder` of the mock backend: applies the flag rules and the engine model, writes a flatbuffers plan. */
export class MockBuilder implements Builder {
  private _disposed = false;
  constructor(readonly tensorrtVersion: string, private readonly logger: Logger = silentLogger) {}
  get disposed(): boolean {
    return this._disposed;
  }
  private check(): void {
    if (this._disposed) throw new DisposedError('Builder');
  }
  createNetwork(): NetworkDefinition {
    this.check();
    return new NetworkDefinition(this.tensorrtVersion);
  }
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
    const unsupported = unsupportedLayers(network.layers.map((l) => ({ ...l, weights: [] })));
    if (unsupported.length) throw new TrtRefitError(TrtRefitErrorCode.BUILD_FAILED, `the mock cannot build these layers: ${unsupported.map((u) => `${u.name} (${u.type})`).join(', ')}`, { unsupported });
    const engine = planEngine(network, mode);
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
  dispose(): void {
    this._disposed = true;
  }
}
