import {
  CollectingErrorRecorder,
  DataType,
  InvalidArgumentError,
  Severity,
  TensorLocation,
  TrtRefitError,
  TrtRefitErrorCode,
  onnxParserRules,
  silentLogger,
  type Backend,
  type CudaEngine,
  type CudaStream,
  type Logger,
  type Refitter,
  type Weights,
} from '@trt-refit/core';
import type { FoldedBatchNorm } from './batch-norm.js';
import { matchCheckpoint, type CheckpointMatching, type MatchKind } from './checkpoint-match.js';
import type { LoraAdapter, LoraModule } from './lora-adapter.js';
import { LoraMergePool, type LoraFactor, type LoraLayout, type LoraMergeSpec } from './lora-merge.js';
import { openOnnxModel, type OnnxModel } from './onnx-model.js';
import { materializeSource } from './refit-recipe.js';
import { openSafetensors, type Safetensors } from './safetensors.js';
import { weightSources } from './weight-sources.js';

/** Where one adapter module is merged: the engine weight (an ONNX initializer) and how it was found. */
export interface LoraTarget {
  readonly adapter: LoraAdapter;
  readonly module: LoraModule;
  /** The base checkpoint's tensor for the module (with a base checkpoint; else the initializer's own name). */
  readonly checkpoint: string;
  /** The engine weight: the model's initializer. */
  readonly weight: string;
  /** `cols-rows` when the model stores the weight transposed ([in, out], an exporter's MatMul weight). */
  readonly layout: LoraLayout;
  /** How the checkpoint tensor was matched to the initializer (`name` without a base checkpoint). */
  readonly how: MatchKind;
}

/** An adapter module that could not be placed, and why. */
export interface LoraUnmatched {
  readonly adapter: string;
  readonly module: string;
  readonly reason: string;
}

/** Where every module of some adapters goes, and what did not match, both ways. */
export interface LoraResolution {
  readonly targets: readonly LoraTarget[];
  /** Adapter modules with no engine weight (no checkpoint tensor, not in the model, another shape or type). */
  readonly unmatchedModules: readonly LoraUnmatched[];
  /** Base checkpoint tensors that match no model initializer (with a base checkpoint). */
  readonly unmatchedCheckpoint: readonly string[];
}

/** Options of {@link resolveLoraTargets}. */
export interface ResolveLoraOptions {
  /**
   * The base model's checkpoint (its framework names), when the ONNX export renamed or transposed the weights
   * (`onnx::MatMul_123`): modules are found in it by name, and its tensors in the model by content (also
   * transposed), as `refit --safetensors` matches. Without it, module names must be the initializers' names.
   */
  readonly base?: Safetensors;
  /** Checkpoint name → initializer name, for what content cannot match (see `matchCheckpoint`). */
  readonly map?: Readonly<Record<string, string>>;
  /**
   * `matchCheckpoint(model, base, map)` when the caller already has it: matching reads and hashes every initializer
   * and checkpoint tensor, so resolving several adapters against one base should do it once.
   */
  readonly matching?: CheckpointMatching;
}

const KOHYA_PREFIXES = ['lora_unet_', 'lora_te1_', 'lora_te2_', 'lora_te_', 'lora_transformer_', 'lora_'];
const MERGEABLE = new Set([1, 10, 16]); // FLOAT, FLOAT16, BFLOAT16

/** The candidates for a module's weight among `names` (checkpoint or initializer names), best first. */
function weightNameOf(m: LoraModule, adapter: LoraAdapter, names: readonly string[]): { name?: string; reason?: string } {
  if (adapter.format === 'peft') {
    const exact = `${m.key}.weight`;
    if (names.includes(exact)) return { name: exact };
    const tail = names.filter((n) => n.endsWith(`.${exact}`));
    if (tail.length === 1) return { name: tail[0]! };
    return { reason: tail.length ? `${exact} is ambiguous: ${tail.join(', ')}` : `no tensor ${exact}` };
  }
  // kohya: dots became underscores, so compare mangled forms; the name keeps its own prefix (model., unet., …).
  const prefix = KOHYA_PREFIXES.find((p) => m.key.startsWith(p)) ?? '';
  const stripped = m.key.slice(prefix.length);
  const mangled = (n: string) => n.slice(0, -'.weight'.length).replace(/\./g, '_');
  const weights = names.filter((n) => n.endsWith('.weight'));
  const exact = weights.filter((n) => mangled(n) === stripped);
  if (exact.length === 1) return { name: exact[0]! };
  const tail = exact.length ? exact : weights.filter((n) => mangled(n).endsWith(`_${stripped}`));
  if (tail.length === 1) return { name: tail[0]! };
  return { reason: tail.length ? `${m.key} is ambiguous: ${tail.join(', ')}` : `no tensor whose name mangles to ${stripped}` };
}

/**
 * Places every module of `adapters` on an engine weight of `model`: adapter module → base checkpoint tensor (PEFT
 * names directly, kohya's underscore-mangled names against the checkpoint's) → model initializer (by name, or
 * with a base checkpoint by `matchCheckpoint`'s name, map, content and transposed content), checking shape
 * ([out, in(, kh, kw)], or [in, out] when stored transposed) and type (FLOAT, FLOAT16, BFLOAT16). What cannot be
 * placed is reported with its reason, as are base tensors the model does not have.
 */
export async function resolveLoraTargets(model: OnnxModel, adapters: readonly LoraAdapter[], options: ResolveLoraOptions = {}): Promise<LoraResolution> {
  const inits = new Map(model.tensors().filter((t) => t.kind === 'initializer').map((t) => [t.name, t]));
  let toInit: Map<string, { initializer: string; transpose: boolean; how: MatchKind }>;
  let unmatchedCheckpoint: string[] = [];
  let names: string[];
  if (options.base) {
    const matching = options.matching ?? (await matchCheckpoint(model, options.base, options.map ?? {}));
    toInit = new Map(matching.matches.map((m) => [m.checkpoint, { initializer: m.initializer, transpose: m.transpose, how: m.how }]));
    unmatchedCheckpoint = matching.unmatchedCheckpoint;
    names = options.base.tensors.map((t) => t.name);
  } else {
    toInit = new Map([...inits.keys()].map((n) => [n, { initializer: n, transpose: false, how: 'name' as const }]));
    names = [...inits.keys()];
  }
  const targets: LoraTarget[] = [];
  const unmatchedModules: LoraUnmatched[] = [];
  for (const adapter of adapters) {
    for (const m of adapter.modules) {
      const miss = (reason: string) => unmatchedModules.push({ adapter: adapter.path, module: m.key, reason });
      const found = weightNameOf(m, adapter, names);
      if (!found.name) {
        miss(`${found.reason} in ${options.base ? 'the base checkpoint' : 'the model (give the base checkpoint with `base` when the export renamed its weights)'}`);
        continue;
      }
      const hit = toInit.get(found.name);
      // A delta is added to the base, so the initializer must BE the checkpoint's weight: a match by shape alone
      // (what refit --safetensors falls back to when it replaces values) could be another weight, or one the export
      // changed (BatchNormalization folded into a Conv), and the merge would be silently wrong.
      if (hit && (hit.how === 'shape' || hit.how === 'shape-transposed')) {
        miss(`${found.name} matches no initializer of the model by name, map or content (only ${hit.initializer}'s shape matches: folded or changed by the export?)`);
        continue;
      }
      if (!hit) {
        miss(`${found.name} matches no initializer of the model (not by name, map or content: was it folded or changed by the export?)`);
        continue;
      }
      const t = inits.get(hit.initializer)!;
      const shape = hit.transpose ? [m.cols, m.rows] : m.weightShape;
      if (t.dims.join() !== shape.join()) {
        miss(`${hit.initializer} is [${t.dims.join(', ')}], the adapter needs [${shape.join(', ')}]`);
        continue;
      }
      if (!MERGEABLE.has(t.dataType)) {
        miss(`${hit.initializer} is ${t.dtypeName}: only FLOAT, FLOAT16 and BFLOAT16 weights can be merged`);
        continue;
      }
      targets.push({ adapter, module: m, checkpoint: found.name, weight: hit.initializer, layout: hit.transpose ? 'cols-rows' : 'rows-cols', how: hit.how });
    }
  }
  return { targets, unmatchedModules, unmatchedCheckpoint };
}

/** An adapter to merge, at a scale (default 1): W += scale · alpha / rank · B·A. */
export interface LoraApplication {
  readonly adapter: LoraAdapter;
  readonly scale?: number;
}

/** One engine weight set by {@link LoraRefitter.apply}: the modules merged into it (none: the base restored). */
export interface LoraMerged {
  readonly weight: string;
  readonly modules: readonly { adapter: string; module: string; scale: number; rank: number; alpha: number; how: MatchKind; layout: LoraLayout }[];
}

/** What {@link LoraRefitter.apply} did. */
export interface LoraReport {
  /** Every weight set from a merge or restored to the base, in the order set. */
  readonly merged: readonly LoraMerged[];
  /** Weights the engine also needed (fusion partners of a merged weight, folded BatchNormalization), from the base. */
  readonly missingFromBase: readonly string[];
  readonly unmatchedModules: readonly LoraUnmatched[];
  readonly unmatchedCheckpoint: readonly string[];
  /** `refitCudaEngine` calls (one per batch). */
  readonly refits: number;
}

/** Options of {@link LoraRefitter.open}. */
export interface LoraRefitterOptions {
  /** The base checkpoint (safetensors), for exports that renamed or transposed the weights. */
  readonly base?: string;
  readonly map?: Readonly<Record<string, string>>;
  readonly logger?: Logger;
  /** Merge workers (default: a pool of the machine's parallelism, closed with the refitter). */
  readonly pool?: LoraMergePool;
  /**
   * Host bytes of merged weights set before a refit is done and they are released (default 256 MiB): each batch
   * brings its missing set and is refitted, so host memory stays near one batch plus the adapters' factors however
   * large the model. Infinity: one refit.
   */
  readonly maxBatchBytes?: number;
  /**
   * Where merges run, instead of the CPU pool: given the weight's name, its base bytes (read from the model) and
   * the merge, return the weights to set and where they are — e.g. the native backend's device merger, which keeps
   * each base weight resident in device memory (uploaded the first time its name is seen) and merges there,
   * returning DEVICE weights. A restore to the base calls it with no factors.
   */
  readonly merge?: (weight: string, base: Uint8Array, spec: LoraMergeSpec) => Promise<{ weights: Weights; location: 'HOST' | 'DEVICE' }>;
  /**
   * Refit on this stream (`refitCudaEngineAsync(stream)`, after the merges enqueued on it, e.g. the device merger's)
   * instead of `refitCudaEngine()`; each batch's promise resolves when its refit is done.
   */
  readonly stream?: CudaStream;
  /** Called after each weight is set. */
  readonly onProgress?: (p: { done: number; total: number; weight: string }) => void;
}

/** A refit that failed: every reason; the engine may hold some of the new weights (TensorRT leaves them undefined). */
export class LoraRefitError extends TrtRefitError {
  constructor(readonly reasons: readonly string[]) {
    super(TrtRefitErrorCode.REFIT_FAILED, `the LoRA refit failed:\n  ${reasons.join('\n  ')}`, { reasons });
  }
}

const TRT_OF: Record<number, DataType> = { 1: DataType.FLOAT, 10: DataType.HALF, 16: DataType.BF16 };

/**
 * Hot-swaps LoRA adapters into a refittable engine built from `onnx`: `apply([{ adapter, scale }])` merges each
 * adapter into the base weights (W' = W + Σ scaleᵢ · alphaᵢ/rankᵢ · Bᵢ·Aᵢ, in float32 per element from the base,
 * rounded once to the weight's type, transposed where the model stores it so), sets them, brings in what the
 * engine needs with them (the rest of their fusion groups, folded BatchNormalization, from the base model) and
 * refits; `apply([])` (or {@link LoraRefitter.restoreBase}) puts the base back. Every apply starts from the base
 * weights read from the model, so swapping A → B → base never accumulates error, and the base model is parsed
 * once. Weights that a previous apply changed and this one does not target are restored.
 *
 * @example
 * ```ts
 * const lora = await LoraRefitter.open(backend, engine, 'base.onnx', { base: 'base.safetensors' });
 * await lora.apply([{ adapter: await openLoraAdapter('style.safetensors'), scale: 0.8 }]);
 * await lora.restoreBase();
 * await lora.dispose();
 * ```
 */
export class LoraRefitter {
  #applied = new Set<string>();
  #resolved = new Map<LoraAdapter, LoraResolution>();
  #matching: Promise<CheckpointMatching> | undefined;
  #disposed = false;

  private constructor(
    private readonly backend: Backend,
    private readonly refitter: Refitter,
    private readonly recorder: CollectingErrorRecorder,
    readonly model: OnnxModel,
    private readonly base: Safetensors | undefined,
    private readonly options: LoraRefitterOptions,
    private readonly pool: LoraMergePool,
    private readonly ownPool: boolean,
  ) {}

  /** Opens the base model (lazily: weights are read when merged) and the engine's refitter. */
  static async open(backend: Backend, engine: CudaEngine, onnx: string, options: LoraRefitterOptions = {}): Promise<LoraRefitter> {
    if (options.maxBatchBytes !== undefined && !(options.maxBatchBytes > 0)) throw new InvalidArgumentError(`LoraRefitter: maxBatchBytes must be positive, got ${options.maxBatchBytes}`);
    const model = await openOnnxModel(onnx);
    const base = options.base ? await openSafetensors(options.base) : undefined;
    const refitter = backend.createRefitter(engine, options.logger ?? silentLogger);
    const recorder = new CollectingErrorRecorder();
    refitter.setErrorRecorder(recorder);
    return new LoraRefitter(backend, refitter, recorder, model, base, options, options.pool ?? new LoraMergePool(), options.pool === undefined);
  }

  /** Where the modules of `adapter` go (cached per adapter). */
  async resolve(adapter: LoraAdapter): Promise<LoraResolution> {
    let r = this.#resolved.get(adapter);
    if (!r) {
      // The base checkpoint is matched to the model once per refitter, whatever the number of adapters.
      if (this.base && !this.#matching) this.#matching = matchCheckpoint(this.model, this.base, this.options.map ?? {});
      const matching = this.#matching ? await this.#matching : undefined;
      r = await resolveLoraTargets(this.model, [adapter], { ...(this.base ? { base: this.base } : {}), ...(matching ? { matching } : {}) });
      this.#resolved.set(adapter, r);
    }
    return r;
  }

  /**
   * Merges `adapters` into the base weights and refits (see the class). Modules that match nothing are reported,
   * not fatal; a weight the engine does not let be refitted is.
   * @throws LoraRefitError when a weight cannot be set or the refit fails (the reasons from the refitter's log).
   */
  async apply(adapters: readonly LoraApplication[]): Promise<LoraReport> {
    if (this.#disposed) throw new TrtRefitError(TrtRefitErrorCode.DISPOSED, 'LoraRefitter: apply() after dispose()');
    for (const a of adapters) if (a.scale !== undefined && !Number.isFinite(a.scale)) throw new InvalidArgumentError(`LoraRefitter: the scale of ${a.adapter.path} is ${a.scale}`);
    const byWeight = new Map<string, { target: LoraTarget; scale: number }[]>();
    const unmatchedModules: LoraUnmatched[] = [];
    const unmatchedCheckpoint = new Set<string>();
    const refittable = new Set(this.refitter.getAllWeights());
    for (const a of adapters) {
      const r = await this.resolve(a.adapter);
      unmatchedModules.push(...r.unmatchedModules);
      r.unmatchedCheckpoint.forEach((n) => unmatchedCheckpoint.add(n));
      for (const t of r.targets) {
        if (!refittable.has(t.weight)) {
          unmatchedModules.push({ adapter: a.adapter.path, module: t.module.key, reason: `${t.weight} is not a refittable weight of the engine (folded or constant-folded at build?)` });
          continue;
        }
        const list = byWeight.get(t.weight) ?? [];
        list.push({ target: t, scale: a.scale ?? 1 });
        byWeight.set(t.weight, list);
      }
    }
    // Weights merged last time and not now go back to the base.
    const order = [...byWeight.keys(), ...[...this.#applied].filter((w) => !byWeight.has(w))];
    const inits = new Map(this.model.tensors().filter((t) => t.kind === 'initializer').map((t) => [t.name, t]));
    const merged: LoraMerged[] = [];
    const missingFromBase: string[] = [];
    const maxBatch = this.options.maxBatchBytes ?? 256 * 2 ** 20;
    let batchBytes = 0;
    let refits = 0;
    let done = 0;
    const setNow = new Set<string>();
    const flush = async () => {
      missingFromBase.push(...(await this.fillMissing(setNow)));
      this.recorder.clear();
      const ok = this.options.stream ? await this.refitter.refitCudaEngineAsync(this.options.stream) : await this.refitter.refitCudaEngine();
      if (!ok) throw new LoraRefitError(this.reasons(`${this.options.stream ? 'refitCudaEngineAsync' : 'refitCudaEngine'} returned false`));
      refits++;
      batchBytes = 0;
      setNow.clear();
    };
    for (const weight of order) {
      const info = inits.get(weight)!;
      const list = byWeight.get(weight) ?? [];
      const type = TRT_OF[info.dataType]!;
      const base = await this.model.readTensor(info);
      const factors: LoraFactor[] = [];
      for (const { target, scale } of list) {
        const { a, b } = await target.adapter.readFactors(target.module);
        factors.push({ a, b, rank: target.module.rank, scale: (scale * target.module.alpha) / target.module.rank });
      }
      const first = list[0]?.target.module;
      const spec: LoraMergeSpec = { type, rows: first?.rows ?? 1, cols: first?.cols ?? info.count, layout: list[0]?.target.layout ?? 'rows-cols', factors };
      let w: Weights;
      let location: 'HOST' | 'DEVICE' = 'HOST';
      if (this.options.merge) ({ weights: w, location } = await this.options.merge(weight, base, spec));
      else w = { type, values: list.length ? await this.pool.merge(base, spec) : base, count: info.count };
      this.recorder.clear();
      if (!this.refitter.setNamedWeights(weight, w, location === 'DEVICE' ? TensorLocation.DEVICE : TensorLocation.HOST)) throw new LoraRefitError(this.reasons(`setNamedWeights(${weight}) returned false`));
      setNow.add(weight);
      merged.push({
        weight,
        modules: list.map(({ target: t, scale }) => ({ adapter: t.adapter.path, module: t.module.key, scale, rank: t.module.rank, alpha: t.module.alpha, how: t.how, layout: t.layout })),
      });
      this.options.onProgress?.({ done: ++done, total: order.length, weight });
      batchBytes += location === 'HOST' && w.values ? w.values.byteLength : 0;
      if (batchBytes >= maxBatch) await flush();
    }
    if (setNow.size || refits === 0) await flush();
    this.#applied = new Set(byWeight.keys());
    return { merged, missingFromBase: [...new Set(missingFromBase)], unmatchedModules, unmatchedCheckpoint: [...unmatchedCheckpoint], refits };
  }

  /** Puts the base weights back (what `apply([])` does). */
  restoreBase(): Promise<LoraReport> {
    return this.apply([]);
  }

  /** Sets, from the base model, the weights the engine still misses (the fusion partners of what was set). */
  private async fillMissing(set: ReadonlySet<string>): Promise<string[]> {
    const missing = new Set(this.refitter.getMissingWeights());
    if (!missing.size) return [];
    const rules = onnxParserRules(this.backend.tensorrtVersion);
    const folds = new Map<string, FoldedBatchNorm | string>();
    const filled: string[] = [];
    for (const s of weightSources(this.model, rules)) {
      if (s.kind === 'error') throw new LoraRefitError([`the base model cannot provide ${[...missing].join(', ')}: ${s.message}`]);
      if (!missing.has(s.name) || set.has(s.name)) continue;
      missing.delete(s.name);
      const m = await materializeSource(this.model, s, rules, { folds, warn: (w) => (this.options.logger ?? silentLogger).log(Severity.WARNING, w) });
      if (typeof m === 'string') throw new LoraRefitError([`${s.name}: ${m}`]);
      this.recorder.clear();
      if (!this.refitter.setNamedWeights(s.name, m.weights)) throw new LoraRefitError(this.reasons(`setNamedWeights(${s.name}) returned false`));
      filled.push(s.name);
      if (!missing.size) break;
    }
    if (missing.size) throw new LoraRefitError([`the engine needs ${[...missing].join(', ')}, which the base model does not provide`]);
    return filled;
  }

  private reasons(fallback: string): string[] {
    const logged = Array.from({ length: this.recorder.getNbErrors() }, (_, i) => this.recorder.getErrorDesc(i));
    return logged.length ? logged : [fallback];
  }

  /** Disposes the refitter (and the merge pool when it made it). Idempotent. */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    this.refitter.dispose();
    if (this.ownPool) await this.pool.close();
  }
}
