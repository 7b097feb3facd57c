import {
  BuilderFlag,
  InvalidFlagsError,
  Severity,
  TrtRefitError,
  TrtRefitErrorCode,
  UnsupportedFeatureError,
  checkBuilderFlags,
  hasFeature,
  networkIdentityManifest,
  resolveBuildMode,
  type IdentityManifest,
  type Builder,
  type BuilderConfig,
  type Feature,
} from '@trt-refit/core';
import { networkToOnnx } from '@trt-refit/onnx';
import type { NativeBuilder as RawBuilder, NativeBuilderConfig as RawConfig, NativeProfileDims } from './binding.js';
import type { NativeContext } from './context.js';
import type { LogBridge } from './diagnostics.js';
import { builderFlagMask, builderFlagNames, modelledMask } from './native-enums.js';
import { NativeNetworkDefinition } from './network.js';
import { NativeResource } from './native-resource.js';
import { NativeOnnxParser } from './onnx-parser.js';
import { onnxIdentityManifest, recordPlanIdentity } from './identity.js';
import { expectBuilderFlag, expectIterable, expectSize, expectString, typeError } from './validate.js';

/** An optimization profile entry for one input: dims at their minimum, optimum and maximum. */
export interface ProfileDims {
  readonly min: readonly number[];
  readonly opt: readonly number[];
  readonly max: readonly number[];
}

/**
 * `IBuilderConfig` of the native backend. Flags are names, mapped to the loaded major's numbers; `setFlags`
 * replaces the modelled flags and keeps TensorRT's own defaults for the others.
 */
export class NativeBuilderConfig extends NativeResource<RawConfig> implements BuilderConfig {
  /** @internal Profiles given with {@link setOptimizationProfile}, applied at build. */
  readonly profiles = new Map<string, ProfileDims>();

  /** @internal */
  constructor(
    native: RawConfig,
    log: LogBridge,
    private readonly ctx: NativeContext,
    /** @internal */ readonly owner: NativeBuilder,
  ) {
    super(native, log, 'BuilderConfig');
  }

  /**
   * IBuilderConfig::setFlag: see {@link BuilderConfig.setFlag}. Here: the name is mapped to the loaded major's bit
   * and set in TensorRT's mask; UnsupportedFeatureError for a flag this TensorRT version lacks.
   */
  setFlag(flag: BuilderFlag): void {
    const f = this.known(flag);
    this.call((n) => n.setFlags((n.getFlags() | (1 << this.ctx.flagBits[f])) >>> 0));
  }

  /** IBuilderConfig::clearFlag: see {@link BuilderConfig.clearFlag}. Here: clears the loaded major's bit in TensorRT's mask. */
  clearFlag(flag: BuilderFlag): void {
    const f = this.known(flag);
    this.call((n) => n.setFlags((n.getFlags() & ~(1 << this.ctx.flagBits[f])) >>> 0));
  }

  /** IBuilderConfig::getFlag: see {@link BuilderConfig.getFlag}. Here: reads the loaded major's bit from TensorRT's mask. */
  getFlag(flag: BuilderFlag): boolean {
    const f = this.known(flag);
    return this.call((n) => ((n.getFlags() >>> this.ctx.flagBits[f]) & 1) === 1);
  }

  setFlags(flags: Iterable<BuilderFlag>): void {
    const list = [...expectIterable<BuilderFlag>(flags, 'flags')].map((f, i) => this.known(f, `flags[${i}]`));
    const mask = builderFlagMask(list, this.ctx.flagBits);
    const keep = ~modelledMask(this.ctx.flagBits);
    this.call((n) => n.setFlags(((n.getFlags() & keep) | mask) >>> 0));
  }

  /**
   * IBuilderConfig::getFlags: see {@link BuilderConfig.getFlags}. Here: TensorRT's mask as names; only modelled
   * flags are listed, so TensorRT's own defaults in other bits do not appear.
   */
  getFlags(): BuilderFlag[] {
    return this.call((n) => builderFlagNames(n.getFlags(), this.ctx.flagBits));
  }

  /**
   * Sets the optimization profile of a dynamic input (trt-refit extension). Inputs with dynamic dimensions that
   * have none get `min`/`opt`/`max` of the backend's `dynamicDims` option in each dynamic dimension.
   */
  setOptimizationProfile(input: string, dims: ProfileDims): void {
    expectString(input, 'input');
    if (dims === null || typeof dims !== 'object') throw typeError('dims', 'an object { min, opt, max }', dims);
    for (const key of ['min', 'opt', 'max'] as const) {
      const d = dims[key];
      if (!Array.isArray(d)) throw typeError(`dims.${key}`, 'an array of integers', d);
      d.forEach((x, i) => expectSize(x, `dims.${key}[${i}]`));
    }
    this.live();
    this.profiles.set(input, { min: [...dims.min], opt: [...dims.opt], max: [...dims.max] });
  }

  /** Workspace memory limit in bytes (`setMemoryPoolLimit(kWORKSPACE, bytes)`). */
  setWorkspaceLimit(bytes: number): void {
    const n = expectSize(bytes, 'bytes');
    this.call((c) => c.setMemoryPoolLimit(0, n));
  }

  private known(flag: unknown, parameter = 'flag'): BuilderFlag {
    const f = expectBuilderFlag(flag, parameter);
    if (!hasFeature(this.ctx.version, `BuilderFlag.${f}` as Feature)) {
      throw new UnsupportedFeatureError(`BuilderFlag.${f} is not available in TensorRT ${this.ctx.version}`, `BuilderFlag.${f}`, this.ctx.version);
    }
    return f;
  }

  /** @internal */
  raw(): RawConfig {
    return this.live();
  }
}

/** `IBuilder` of the native backend. Networks come from TensorRT's ONNX parser, hand-built ones through it too. */
export class NativeBuilder extends NativeResource<RawBuilder> implements Builder {
  readonly #networks = new Set<NativeNetworkDefinition>();
  readonly #configs = new Set<NativeBuilderConfig>();

  /** @internal */
  constructor(
    native: RawBuilder,
    log: LogBridge,
    private readonly ctx: NativeContext,
  ) {
    super(native, log, 'Builder');
  }

  /**
   * IBuilder::createNetwork: see {@link Builder.createNetwork}. Here: a real `INetworkDefinition`
   * (`createNetworkV2(0)`, explicit batch), empty until an ONNX parser fills it or hand-built layers are lowered at
   * build. Disposed with the builder.
   */
  createNetwork(): NativeNetworkDefinition {
    const raw = this.call((n) => n.createNetwork());
    const network = new NativeNetworkDefinition(raw, this.log, this.ctx.version);
    this.#networks.add(network);
    return network;
  }

  /**
   * IBuilder::createBuilderConfig: see {@link Builder.createBuilderConfig}. Here: TensorRT's config, with detailed
   * profiling verbosity so the engine inspector can report layers. Disposed with the builder.
   */
  createBuilderConfig(): NativeBuilderConfig {
    const raw = this.call((n) => n.createBuilderConfig());
    const config = new NativeBuilderConfig(raw, this.log, this.ctx, this);
    this.#configs.add(config);
    return config;
  }

  /**
   * Builds and serializes the network on a worker thread. Rejects with InvalidFlagsError for broken flag rules
   * (before TensorRT runs), UnsupportedFeatureError for hand-built layers ONNX cannot carry, and a BUILD_FAILED error carrying
   * TensorRT's logged errors when TensorRT fails.
   */
  async buildSerializedNetwork(network: NativeNetworkDefinition, config: NativeBuilderConfig): Promise<Uint8Array> {
    this.live();
    if (!(network instanceof NativeNetworkDefinition) || !this.#networks.has(network)) {
      throw typeError('network', 'a network created by this builder (builder.createNetwork())', network);
    }
    if (!(config instanceof NativeBuilderConfig) || config.owner !== this) {
      throw typeError('config', 'a config created by this builder (builder.createBuilderConfig())', config);
    }
    const flags = config.getFlags();
    const check = checkBuilderFlags(flags, this.ctx.version);
    if (check.violations.length) throw new InvalidFlagsError(check.violations);
    for (const w of check.warnings) this.log.logger.log(Severity.WARNING, w);
    if (network.layers.length > 0) await this.lowerHandBuilt(network);
    const rawNetwork = network.live();
    if (!network.parsed || rawNetwork.getNbLayers() === 0) {
      throw new TrtRefitError(TrtRefitErrorCode.BUILD_FAILED, 'the network is empty: parse an ONNX model into it first (backend.createOnnxParser(network).parseFromFile(path))');
    }
    this.applyProfiles(network, config);
    // REFIT_IDENTICAL promises refits with the build-time weights, which TensorRT does not check: record their
    // hashes so the refitter can (docs/fidelity.md, F-IDENTICAL).
    const identical = resolveBuildMode(flags, this.ctx.version).refit === 'identical';
    const manifest = identical ? await this.identityManifest(network) : undefined;
    const plan = await this.callAsync((n) => n.buildSerializedNetwork(rawNetwork, config.raw()));
    if (manifest) recordPlanIdentity(plan, manifest);
    return plan;
  }

  private async identityManifest(network: NativeNetworkDefinition): Promise<IdentityManifest | undefined> {
    try {
      if (network.layers.length > 0) return networkIdentityManifest(network);
      if (network.onnxSource) return await onnxIdentityManifest(network.onnxSource, this.ctx.version);
      this.log.logger.log(Severity.WARNING, 'REFIT_IDENTICAL build: the network\'s weights are not known in JS, so refits of this engine are not checked against them');
    } catch (e) {
      this.log.logger.log(Severity.WARNING, `REFIT_IDENTICAL build: the weights could not be hashed for the identity check (${(e as Error).message}); refits of this engine are not checked`);
    }
    return undefined;
  }

  /**
   * Gives TensorRT a hand-built network: core's layers are written as ONNX (`networkToOnnx`, every weight an
   * initializer named as the network names it) and parsed by TensorRT's ONNX parser into the native network, so
   * TensorRT's weights carry the same names; the weights marked refittable in TS are then marked in TensorRT.
   * Done once per network; a network an ONNX parser already filled cannot take hand-built layers too.
   */
  private async lowerHandBuilt(network: NativeNetworkDefinition): Promise<void> {
    if (network.lowered) {
      if (network.loweredLayers === network.layers.length) return;
      throw new UnsupportedFeatureError(
        `layers were added after this network was given to TensorRT (${network.loweredLayers} then, ${network.layers.length} now); TensorRT's network cannot change: build a new network`,
        'handBuiltNetworks',
        this.ctx.version,
      );
    }
    if (network.parsed) {
      throw new UnsupportedFeatureError(
        `this network was filled by TensorRT's ONNX parser and also has ${network.layers.length} hand-built layer(s); build hand-built layers in a network of their own`,
        'handBuiltNetworks',
        this.ctx.version,
      );
    }
    if (!this.ctx.parserAvailable) {
      throw new TrtRefitError(TrtRefitErrorCode.BACKEND_UNAVAILABLE, `hand-built networks reach TensorRT through its ONNX parser, which is unavailable: ${this.ctx.parserProblem ?? 'libnvonnxparser was not loaded'}`);
    }
    const bytes = networkToOnnx(network, { tensorrtVersion: this.ctx.version });
    const marked = network.weightsEntries().filter((e) => e.markedRefittable).map((e) => e.name);
    const parser = new NativeOnnxParser(this.call(() => this.ctx.tensorrt.createOnnxParser(network.live(), this.log.sink)), this.log, network, this.ctx.logSeverity);
    try {
      if (!(await parser.parse(bytes))) {
        const reasons = Array.from({ length: parser.getNbErrors() }, (_, i) => parser.getError(i)?.desc).filter(Boolean);
        throw new TrtRefitError(TrtRefitErrorCode.BUILD_FAILED, `TensorRT's ONNX parser refused the hand-built network: ${reasons.join('; ') || 'no reason given'}`);
      }
      network.markLowered();
      for (const name of marked) {
        if (!this.call(() => network.live().markWeightsRefittable(name))) {
          throw new TrtRefitError(TrtRefitErrorCode.BUILD_FAILED, `TensorRT has no weights named ${name} to mark refittable after parsing the hand-built network`);
        }
      }
    } finally {
      parser.dispose(); // the native network keeps the parser (and the weights it owns) alive
    }
  }

  /** Adds one optimization profile covering every dynamic input, unless TensorRT already has one. */
  private applyProfiles(network: NativeNetworkDefinition, config: NativeBuilderConfig): void {
    const raw = config.raw();
    if (raw.getNbOptimizationProfiles() > 0) return;
    const specs: NativeProfileDims[] = [];
    for (const input of network.live().getInputs()) {
      const given = config.profiles.get(input.name);
      if (given) {
        specs.push({ name: input.name, ...given });
        continue;
      }
      if (!input.dims.some((d) => d < 0)) continue;
      const { min, opt, max } = this.ctx.dynamicDims;
      const pick = (v: number) => input.dims.map((d) => (d < 0 ? v : d));
      specs.push({ name: input.name, min: pick(min), opt: pick(opt), max: pick(max) });
    }
    if (specs.length === 0) return;
    const index = this.call((n) => raw.addOptimizationProfile(n, specs));
    if (index < 0) {
      throw new TrtRefitError(TrtRefitErrorCode.BUILD_FAILED, `TensorRT refused the optimization profile ${JSON.stringify(specs)} (see the logged errors)`);
    }
  }

  /** Sets how many threads the builder may use. */
  setMaxThreads(n: number): boolean {
    return this.call((b) => b.setMaxThreads(expectSize(n, 'n')));
  }

  protected override onDispose(): void {
    for (const c of this.#configs) c.dispose();
    for (const n of this.#networks) n.dispose();
    this.#configs.clear();
    this.#networks.clear();
  }
}
