import { DataType, isDataType } from './data-type.js';
import { ErrorCode, Severity, TensorLocation, WeightsRole } from './enums.js';
import type { LayerWeightsRef, WeightsPrototype } from './interfaces.js';
import type { WeightInfo, WeightInventory } from './inventory.js';
import { silentLogger, type ErrorRecorder, type Logger } from './logger.js';
import { NEWEST_KNOWN_TENSORRT } from './version.js';
import { isDeviceValues, NULL_WEIGHTS, weightsProblem, type Weights } from './weights.js';
import { InvalidArgumentError } from './errors.js';
import { MAX_WEIGHTS_NAME_BYTES as MAX_NAME_BYTES } from './validate.js';

/** Options of {@link RefitState}. */
export interface RefitStateOptions {
  logger?: Logger;
  errorRecorder?: ErrorRecorder | null;
  tensorrtVersion?: string;
}

/** Weights currently set under a name. */
export interface SetWeights {
  readonly name: string;
  readonly weights: Weights;
  readonly location: TensorLocation;
  readonly info: WeightInfo;
}

/** What a refit would apply: every set weight, or the reasons it cannot run. */
export type RefitPlan = { ok: true; updates: SetWeights[] } | { ok: false; reasons: string[] };

/** Never an instance: the usual view of the packed 4-bit types, whose values always take the full checks of a set. */
class NoUsualView {}

/**
 * The typed array host values of each type usually come in, one whose element is the type's size (so its `length`
 * is the weight's count): see RefitState's fast path of a set. The packed 4-bit types have none.
 */
const USUAL_VIEW: Readonly<Record<DataType, new (...args: never[]) => object>> = {
  FLOAT: Float32Array,
  HALF: Uint16Array,
  BF16: Uint16Array,
  INT8: Int8Array,
  INT32: Int32Array,
  INT64: BigInt64Array,
  BOOL: Uint8Array,
  UINT8: Uint8Array,
  FP8: Uint8Array,
  E8M0: Uint8Array,
  INT4: NoUsualView,
  FP4: NoUsualView,
};
/** The data types by a small code (RefitState keeps one byte per weight), and each one's usual view. */
const KIND_DTYPE: readonly DataType[] = Object.values(DataType);
const KIND_VIEW = KIND_DTYPE.map((t) => USUAL_VIEW[t]);
const KIND_OF = new Map(KIND_DTYPE.map((t, k) => [t, k]));

/**
 * The refit state machine of `nvinfer1::IRefitter` over an engine's {@link WeightInventory}: named weights held by
 * reference (never copied), prototypes, the closed missing set, readiness to refit, weights validation, max
 * threads, logger and error recorder. Backends implement `Refitter` by delegating here and applying
 * {@link RefitState.planRefit}'s updates to their engine.
 *
 * @example
 * ```ts
 * const state = new RefitState({ weights, fusionGroups: [['conv.w', 'conv.b']], stripped: [] });
 * state.setNamedWeights('conv.w', { type: DataType.FLOAT, values: new Float32Array(9), count: 9 }); // true
 * state.getMissingWeights(); // ['conv.b']: the engine fused it with conv.w
 * ```
 */
export class RefitState {
  private readonly infos: readonly WeightInfo[];
  private readonly index = new Map<string, number>();
  /** Each weight's name, flat, and the weight a set found last: sets mostly come in the engine's order. */
  private readonly nameOf: string[];
  private cursor = -1;
  /** (layer, role) → weight index, or -1 when two weights share the pair; built on the first legacy call. */
  private byLayerRole: Map<string, number> | null = null;
  /** Union-find parent of each weight (fusion groups as components); fully compressed after construction. */
  private readonly parent: Int32Array;
  /**
   * Members of every component in one flat array (CSR): those of root r are
   * `memberList[memberStart[r] .. memberStart[r + 1])`. Flat typed arrays keep a 1M-weight engine cheap to load.
   */
  private readonly memberStart: Int32Array;
  private readonly memberList: Int32Array;
  private readonly stripped = new Set<number>();
  /**
   * The weights set, by weight index, and where (0 unset, 1 HOST, 2 DEVICE): flat arrays rather than a Map of
   * entries, so a set is a lookup (or none: see the next-weight guess in setNamedWeights) and two stores.
   */
  private readonly setWeightsOf: (Weights | undefined)[];
  private readonly setWhere: Uint8Array;
  private setCount = 0;
  /**
   * Each weight's count and type (as a code into KIND_DTYPE / KIND_VIEW), flat: the fast path of a set reads 9 bytes
   * per weight instead of the weight's info object (at 1M weights every byte a set reads is streamed from memory).
   */
  private readonly countOf: Float64Array;
  private readonly kindOf: Uint8Array;
  private missingCache: string[] | null = null;
  private markScratch: Uint8Array | undefined;
  private seenScratch: Uint8Array | undefined;
  private logger: Logger;
  private recorder: ErrorRecorder | null;
  private maxThreads = 1;
  private validation = true;
  readonly tensorrtVersion: string;

  /**
   * @throws InvalidArgumentError when the inventory is malformed (a name missing or listed twice, a dtype that is not
   * a DataType, a count that is not a non-negative integer): a refitter over it would report wrong names or sizes.
   */
  constructor(inventory: WeightInventory, options: RefitStateOptions = {}) {
    this.infos = inventory.weights;
    this.logger = options.logger ?? silentLogger;
    this.recorder = options.errorRecorder ?? null;
    this.tensorrtVersion = options.tensorrtVersion ?? NEWEST_KNOWN_TENSORRT;
    const n = this.infos.length;
    for (let i = 0; i < n; i++) {
      const w = this.infos[i]!;
      if (typeof w.name !== 'string' || w.name.length === 0) throw new InvalidArgumentError(`weight inventory: entry ${i} has no name`, { index: i });
      if (!isDataType(w.dtype)) throw new InvalidArgumentError(`weight inventory: ${w.name} has dtype ${String(w.dtype)}, not a DataType`, { name: w.name });
      if (!Number.isSafeInteger(w.count) || w.count < 0) throw new InvalidArgumentError(`weight inventory: ${w.name} has count ${String(w.count)}`, { name: w.name });
      // One hash per name: a repeated name leaves the size short (hashing dominates loading a 1M-weight engine).
      this.index.set(w.name, i);
      if (this.index.size !== i + 1) throw new InvalidArgumentError(`weight inventory: ${w.name} is listed twice`, { name: w.name });
    }
    this.nameOf = this.infos.map((w) => w.name);
    this.setWeightsOf = new Array<Weights | undefined>(n).fill(undefined);
    this.countOf = new Float64Array(n);
    this.kindOf = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const w = this.infos[i]!;
      this.countOf[i] = w.count;
      this.kindOf[i] = KIND_OF.get(w.dtype)!;
    }
    this.setWhere = new Uint8Array(n);
    const parent = (this.parent = new Int32Array(n));
    for (let i = 0; i < n; i++) parent[i] = i;
    for (const group of inventory.fusionGroups) {
      let first = -1;
      for (const name of group) {
        const i = this.index.get(name);
        if (i === undefined) continue; // non-refittable members of a fusion are not the refitter's concern
        if (first < 0) first = i;
        else this.union(first, i);
      }
    }
    // Compress fully so find() is one read from here on; count members per root.
    const start = (this.memberStart = new Int32Array(n + 1));
    for (let i = 0; i < n; i++) {
      const r = this.find(i);
      parent[i] = r;
      start[r + 1]!++;
    }
    for (let r = 0; r < n; r++) start[r + 1]! += start[r]!;
    const fill = start.slice(0, n);
    const list = (this.memberList = new Int32Array(n));
    for (let i = 0; i < n; i++) list[fill[parent[i]!]!++] = i;
    for (const name of inventory.stripped) {
      const i = this.index.get(name);
      if (i !== undefined) this.stripped.add(i);
    }
  }

  private find(i: number): number {
    const p = this.parent;
    let r = i;
    while (p[r] !== r) r = p[r]!;
    while (p[i] !== r) {
      const next = p[i]!;
      p[i] = r;
      i = next;
    }
    return r;
  }
  private union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
  /** Logs `message` at ERROR and reports it to the error recorder. */
  private fail(code: ErrorCode, message: string): false {
    this.logger.log(Severity.ERROR, message);
    this.recorder?.reportError(code, message);
    return false;
  }

  private lookup(name: unknown): number | undefined {
    return typeof name === 'string' ? this.index.get(name) : undefined;
  }

  /**
   * Sets weights for a name (`IRefitter::setNamedWeights`). False, with the reason logged and recorded, for an
   * unknown name, a type or count other than the prototype's, malformed weights, or values that do not match
   * `location` (DEVICE needs a DeviceBuffer, HOST an ArrayBufferView). The weights are held by reference.
   */
  setNamedWeights(name: string, weights: Weights, location: TensorLocation = TensorLocation.HOST): boolean {
    if (typeof name !== 'string' || name.length === 0) return this.fail(ErrorCode.INVALID_ARGUMENT, 'setNamedWeights: name must be a non-empty string');
    // UTF-8 needs at most 3 bytes per UTF-16 unit: only long names need counting.
    if (name.length * 3 > MAX_NAME_BYTES && Buffer.byteLength(name) > MAX_NAME_BYTES) return this.fail(ErrorCode.INVALID_ARGUMENT, `setNamedWeights: name is longer than ${MAX_NAME_BYTES} bytes`);
    // Sets mostly come in the engine's order (getAllWeights(), a model's initializers in order): the weight after
    // the one found last is tried before the name is hashed. The comparison reads the two names side by side (or
    // none, for the same string); a Map lookup at 1M names is a few cache misses, which made the sets scale ~20×
    // from 100k to 1M weights where the names' count grows 10×.
    const next = this.cursor + 1;
    const i = next < this.nameOf.length && this.nameOf[next] === name ? next : this.lookup(name);
    if (i === undefined) return this.fail(ErrorCode.INVALID_ARGUMENT, `setNamedWeights: ${name} does not correspond to any refittable weights`);
    this.cursor = i;
    // The common case first: host weights of the prototype's type and count (validated when the inventory was
    // loaded), in the typed array usual for the type (its element the type's size) with `count` elements, checked
    // against flat copies of the inventory (no per-weight object to load: at 1M weights those loads were a fifth of
    // a set). `instanceof` fixes the element size (subclasses such as Buffer keep it), `length` the count (a typed
    // array's `byteLength` cost a third of a 1M-weight set loop; `length` is nearly free); a view that only pretends
    // (a prototype swapped, `length` shadowed) is caught by the byteLength check planRefit makes of every set weight
    // before a refit applies anything. Anything else takes the full checks below, which say what is wrong.
    const v = weights !== null && typeof weights === 'object' ? weights.values : undefined;
    const kind = this.kindOf[i]!;
    if (location === TensorLocation.HOST && v !== undefined && weights.type === KIND_DTYPE[kind] && weights.count === this.countOf[i] && ArrayBuffer.isView(v) && v instanceof KIND_VIEW[kind]! && (v as unknown as ArrayLike<unknown>).length === weights.count) {
      if (this.setWhere[i] === 0) this.setCount++;
      this.setWeightsOf[i] = weights;
      this.setWhere[i] = 1;
      this.missingCache = null;
      return true;
    }
    const info = this.infos[i]!;
    if (location !== TensorLocation.HOST && location !== TensorLocation.DEVICE) {
      return this.fail(ErrorCode.INVALID_ARGUMENT, `setNamedWeights(${name}): location must be HOST or DEVICE, received ${String(location)}`);
    }
    const problem = weightsProblem(weights);
    if (problem) return this.fail(ErrorCode.INVALID_ARGUMENT, `setNamedWeights(${name}): ${problem}`);
    if (weights.type !== info.dtype) {
      return this.fail(ErrorCode.INVALID_ARGUMENT, `setNamedWeights(${name}): type ${weights.type} is inconsistent with the prototype's type ${info.dtype}`);
    }
    if (weights.count !== info.count) {
      return this.fail(ErrorCode.INVALID_ARGUMENT, `setNamedWeights(${name}): count ${weights.count} is inconsistent with the prototype's count ${info.count}`);
    }
    if (weights.values !== null) {
      const onDevice = isDeviceValues(weights.values);
      if (onDevice !== (location === TensorLocation.DEVICE)) {
        return this.fail(
          ErrorCode.INVALID_ARGUMENT,
          `setNamedWeights(${name}): location ${location} needs ${location === TensorLocation.DEVICE ? 'a DeviceBuffer' : 'host values (an ArrayBufferView)'} as values`,
        );
      }
    }
    if (this.setWhere[i] === 0) this.setCount++;
    this.setWeightsOf[i] = weights;
    this.setWhere[i] = location === TensorLocation.HOST ? 1 : 2;
    this.missingCache = null;
    return true;
  }

  /** The weights last set for `name`; null weights (and an error to the recorder) when never set. */
  getNamedWeights(name: string): Weights {
    const i = this.lookup(name);
    if (i === undefined || this.setWhere[i] === 0) {
      this.fail(ErrorCode.INVALID_ARGUMENT, `getNamedWeights: no weights were set for ${String(name)}`);
      return NULL_WEIGHTS;
    }
    return this.setWeightsOf[i]!;
  }

  /** Where the weights set for `name` are; HOST (and an error to the recorder) when never set. */
  getWeightsLocation(name: string): TensorLocation {
    const i = this.lookup(name);
    if (i === undefined || this.setWhere[i] === 0) {
      this.fail(ErrorCode.INVALID_ARGUMENT, `getWeightsLocation: no weights were set for ${String(name)}`);
      return TensorLocation.HOST;
    }
    return this.setWhere[i] === 1 ? TensorLocation.HOST : TensorLocation.DEVICE;
  }

  /** Forgets the weights set for `name` (later refits do not use them); false when they were never set. */
  unsetNamedWeights(name: string): boolean {
    const i = this.lookup(name);
    if (i === undefined || this.setWhere[i] === 0) return false;
    this.setWhere[i] = 0;
    this.setWeightsOf[i] = undefined;
    this.setCount--;
    this.missingCache = null;
    return true;
  }

  /** Type and count of the weights used at build; count -1 for a name that is not refittable. */
  getWeightsPrototype(name: string): WeightsPrototype {
    const i = this.lookup(name);
    if (i === undefined) return { type: DataType.FLOAT, count: -1 };
    const w = this.infos[i]!;
    return { type: w.dtype, count: w.count };
  }

  /** Every refittable weight, in the engine's order. */
  getAllWeights(): string[] {
    return this.infos.map((w) => w.name);
  }

  /**
   * Weights that must be supplied before a refit: the fusion-group components of every set weight and of every
   * stripped weight not yet refitted, minus what is set. Closed: supplying exactly these never makes more go
   * missing (DESIGN's "plus unset stripped weights" alone is not closed when a fusion group is only partly stripped).
   * Linear in the engine's weights; cached until the next set or unset.
   */
  getMissingWeights(): string[] {
    if (this.missingCache) return [...this.missingCache];
    const n = this.infos.length;
    // Scratch marks kept between calls (cleared, not reallocated: 2 bytes a weight).
    const mark = (this.markScratch ??= new Uint8Array(n)).fill(0);
    const seen = (this.seenScratch ??= new Uint8Array(n)).fill(0);
    // Seeds: what is set, and stripped weights not yet refitted (they must be set, so their fusion partners
    // must be too; seeding with them keeps the set closed when a group is only partly stripped).
    const seed = (i: number) => {
      const r = this.parent[i]!;
      if (seen[r]) return;
      seen[r] = 1;
      const end = this.memberStart[r + 1]!;
      for (let k = this.memberStart[r]!; k < end; k++) mark[this.memberList[k]!] = 1;
    };
    const where = this.setWhere;
    if (this.setCount) for (let i = 0; i < n; i++) if (where[i] !== 0) seed(i);
    for (const i of this.stripped) seed(i);
    let count = 0;
    for (let i = 0; i < n; i++) if (mark[i] && where[i] === 0) count++;
    const out = new Array<string>(count);
    for (let i = 0, k = 0; k < count; i++) if (mark[i] && where[i] === 0) out[k++] = this.infos[i]!.name;
    this.missingCache = out;
    return [...out];
  }

  /** Legacy `setWeights(layerName, role, weights)`: the weights of that layer and role. */
  setWeights(layerName: string, role: WeightsRole, weights: Weights): boolean {
    if (!this.byLayerRole) {
      const m = (this.byLayerRole = new Map<string, number>());
      this.infos.forEach((w, i) => {
        const key = `${w.layer}\u0000${w.role}`;
        m.set(key, m.has(key) ? -1 : i);
      });
    }
    const i = this.byLayerRole.get(`${layerName}\u0000${role}`);
    if (i === undefined) return this.fail(ErrorCode.INVALID_ARGUMENT, `setWeights: layer ${String(layerName)} has no refittable ${String(role)} weights`);
    if (i < 0) return this.fail(ErrorCode.INVALID_ARGUMENT, `setWeights: layer ${String(layerName)} has several refittable ${String(role)} weights; set them by name with setNamedWeights`);
    return this.setNamedWeights(this.infos[i]!.name, weights);
  }

  /** Legacy `getMissing`: the missing weights as (layer, role) pairs. */
  getMissing(): LayerWeightsRef[] {
    return this.getMissingWeights().map((n) => this.ref(n));
  }

  /** Legacy `getAll`: every refittable weight as a (layer, role) pair. */
  getAll(): LayerWeightsRef[] {
    return this.infos.map((w) => ({ layerName: w.layer, role: w.role }));
  }

  private ref(name: string): LayerWeightsRef {
    const w = this.infos[this.index.get(name)!]!;
    return { layerName: w.layer, role: w.role };
  }

  /** Threads a refit may use (default 1); false and an INVALID_ARGUMENT error below 1 (or beyond TensorRT's int32). */
  setMaxThreads(n: number): boolean {
    if (!Number.isInteger(n) || n < 1 || n > 0x7fffffff) {
      return this.fail(ErrorCode.INVALID_ARGUMENT, `setMaxThreads: must be an integer from 1 to 2147483647, received ${String(n)}`);
    }
    this.maxThreads = n;
    return true;
  }
  /** Threads a refit may use (default 1). */
  getMaxThreads(): number {
    return this.maxThreads;
  }
  /**
   * Validation of weights at refit (default true), as TensorRT's: it concerns the conversions the engine makes
   * (FLOAT given, HALF or BF16 kept, see `WeightInfo.engineType`): values the narrowing overflows are a warning and
   * the refit goes on. Off: no check (faster refits).
   */
  setWeightsValidation(enabled: boolean): void {
    this.validation = !!enabled;
  }
  /** Whether weights validation is on (default true); see {@link RefitState.planRefit}. */
  getWeightsValidation(): boolean {
    return this.validation;
  }
  /** Attaches the recorder that receives every refusal's reason (as the logger does); null detaches it. */
  setErrorRecorder(recorder: ErrorRecorder | null): void {
    this.recorder = recorder;
  }
  /** The error recorder attached, or null. */
  getErrorRecorder(): ErrorRecorder | null {
    return this.recorder;
  }
  /** The logger from the options (a silent one by default), which receives every refusal's reason at ERROR. */
  getLogger(): Logger {
    return this.logger;
  }

  /** True while `name` was stripped from the plan and no refit has supplied it. */
  isStripped(name: string): boolean {
    const i = this.lookup(name);
    return i !== undefined && this.stripped.has(i);
  }
  /** Names stripped from the plan that no refit has supplied yet, in the engine's order. */
  strippedNames(): string[] {
    return [...this.stripped].sort((a, b) => a - b).map((i) => this.infos[i]!.name);
  }

  /** Every weight currently set, in the engine's order. */
  setEntries(): SetWeights[] {
    const out: SetWeights[] = [];
    if (this.setCount === 0) return out;
    const where = this.setWhere;
    for (let i = 0; i < where.length; i++) {
      if (where[i] === 0) continue;
      const info = this.infos[i]!;
      out.push({ name: info.name, weights: this.setWeightsOf[i]!, location: where[i] === 1 ? TensorLocation.HOST : TensorLocation.DEVICE, info });
    }
    return out;
  }

  /**
   * What `refitCudaEngine` applies: every set weight, once nothing is missing and every set weight still
   * validates (host buffers not detached or shrunk, device buffers not disposed). Otherwise false with the
   * reasons, each logged at ERROR and recorded. Weights validation is TensorRT's: it concerns conversions the engine
   * makes (FLOAT given, HALF or BF16 kept: see `WeightInfo.engineType`), where values the narrowing overflows are a
   * WARNING and the refit goes on; weights kept in the type they are given (NaN included) are not inspected.
   */
  planRefit(): RefitPlan {
    const reasons: string[] = [];
    const missing = this.getMissingWeights();
    if (missing.length) {
      const shown = missing.slice(0, 20).join(', ') + (missing.length > 20 ? `, … (${missing.length - 20} more)` : '');
      reasons.push(`refit: ${missing.length} weight(s) missing: ${shown}`);
    }
    const updates = this.setEntries();
    for (const s of updates) {
      const problem = weightsProblem(s.weights);
      if (problem) {
        reasons.push(`refit: weights set for ${s.name} are no longer valid: ${problem}`);
        continue;
      }
      const target = s.info.engineType;
      if (this.validation && target && target !== s.info.dtype && s.info.dtype === DataType.FLOAT && (target === DataType.HALF || target === DataType.BF16) && s.location === TensorLocation.HOST && s.weights.values !== null) {
        const over = countOverflows(s.weights.values as ArrayBufferView, target === DataType.HALF ? HALF_MAX : BF16_MAX);
        if (over) this.logger.log(Severity.WARNING, `refit: weights validation: ${over} value(s) of ${s.name} overflow the conversion from FLOAT to ${target} (they become infinite)`);
      }
    }
    if (reasons.length) {
      for (const r of reasons) this.fail(r.includes('missing') ? ErrorCode.INVALID_STATE : ErrorCode.INVALID_ARGUMENT, r);
      return { ok: false, reasons };
    }
    return { ok: true, updates };
  }

  /** Records that a backend applied `names`: stripped weights among them hold data from now on. */
  commitRefit(names: Iterable<string>): void {
    for (const n of names) {
      const i = this.index.get(n);
      if (i !== undefined && this.stripped.delete(i)) this.missingCache = null;
    }
  }
}

/** Largest finite HALF; FLOAT values beyond it (rounded) become infinite in HALF. */
const HALF_MAX = 65520; // values at or above 65520 round to infinity (65504 is the largest finite half)
/** FLOAT values at or beyond this magnitude round to infinity in BF16. */
const BF16_MAX = 3.3961775292304e38;

/**
 * How many finite FLOAT values have a magnitude of `limit` or more (they overflow a narrowing conversion). Blocks
 * are skipped with a branch-free max of |x| (about 2.5x faster than testing each value); NaN is not an overflow.
 */
function countOverflows(v: ArrayBufferView, limit: number): number {
  let over = 0;
  const test = (x: number) => Number.isFinite(x) && Math.abs(x) >= limit;
  if (v.byteOffset % 4 !== 0) {
    const d = new DataView(v.buffer, v.byteOffset, v.byteLength);
    for (let o = 0; o + 4 <= v.byteLength; o += 4) if (test(d.getFloat32(o, true))) over++;
    return over;
  }
  const f = new Float32Array(v.buffer, v.byteOffset, v.byteLength >> 2);
  const BLOCK = 1 << 16;
  for (let start = 0; start < f.length; start += BLOCK) {
    const end = Math.min(f.length, start + BLOCK);
    let m = 0;
    for (let i = start; i < end; i++) {
      const a = Math.abs(f[i]!);
      m = a > m ? a : m; // NaN never wins a comparison; infinities already overflowed before the conversion
    }
    if (m < limit) continue;
    for (let j = start; j < end; j++) if (test(f[j]!)) over++;
  }
  return over;
}
