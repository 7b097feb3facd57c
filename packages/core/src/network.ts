import { DataType, isDataType } from './data-type.js';
import { WeightsRole } from './enums.js';
import { InvalidArgumentError } from './errors.js';
import { requireFeature } from './version.js';
import { NEWEST_KNOWN_TENSORRT } from './version.js';
import { assertWeights, type Weights } from './weights.js';
import { weightsNameProblem } from './validate.js';

/** A tensor dimension: a size, or a name (or -1) for a dynamic one such as the batch. */
export type Dim = number | string;

/** A network input or output. */
export interface TensorDesc {
  readonly name: string;
  readonly dtype: DataType;
  readonly dims: readonly Dim[];
}

/** Value of a layer attribute (ONNX attribute semantics; `bigint` never appears: ints are numbers). */
export type AttributeValue = number | string | readonly number[] | readonly string[];

/** Weights a layer owns, with their role and their shape. */
export interface LayerWeights {
  readonly role: WeightsRole;
  readonly weights: Weights;
  readonly dims: readonly number[];
}

/**
 * One layer of the network: an operator (ONNX op names; `Scale` for a folded BatchNormalization, `Constant`
 * for a constant tensor) reading and writing named tensors. Weights are attached by role, not as inputs.
 */
export interface Layer {
  readonly name: string;
  readonly type: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  readonly weights: readonly LayerWeights[];
}

/** What `addLayer` takes. */
export interface LayerSpec {
  name?: string;
  type: string;
  inputs?: readonly string[];
  outputs: readonly string[];
  attributes?: Record<string, AttributeValue>;
  weights?: readonly LayerWeights[];
}

/** A weight as the network sees it: its (given or default) name, where it is used, and its marking. */
export interface NetworkWeightsEntry {
  readonly name: string;
  /** True when the name came from `setWeightsName`, false for a default `<layer>_<role>` name. */
  readonly named: boolean;
  readonly weights: Weights;
  readonly dims: readonly number[];
  readonly layer: string;
  readonly role: WeightsRole;
  readonly markedRefittable: boolean;
}

/** Dtypes TensorRT cannot refit (trtexec: "Refit not supported for these types"), so they cannot be marked. */
const NOT_REFITTABLE_TYPES = new Set<DataType>([DataType.BOOL, DataType.UINT8, DataType.FP8, DataType.INT4, DataType.FP4, DataType.E8M0]);

interface WeightsRecord {
  readonly weights: Weights;
  readonly uses: { layer: string; role: WeightsRole; dims: readonly number[] }[];
  /** The name in effect, unique in the network: the given one, or a default `<layer>_<role>` (suffixed when taken). */
  name: string;
  /** True when `name` came from `setWeightsName`. */
  explicit: boolean;
  /** The mark of `markWeightsRefittable`; it belongs to the weights, so it follows them through renames. */
  marked: boolean;
}

/** Identity of host weights: TensorRT keys them by value pointer; in JS that is (buffer, byteOffset). */
function pointerOf(w: Weights): object | null {
  const v = w.values;
  if (v === null) return null;
  return ArrayBuffer.isView(v) ? v.buffer : v;
}
function offsetOf(w: Weights): number {
  const v = w.values;
  return v !== null && ArrayBuffer.isView(v) ? v.byteOffset : 0;
}

/**
 * The network definition (`nvinfer1::INetworkDefinition`) as a small IR: inputs, layers in topological order,
 * outputs, and the naming and marking of weights. Importers fill it; backends build engines from it.
 *
 * @example
 * ```ts
 * const net = builder.createNetwork();
 * const kernel: Weights = { type: DataType.FLOAT, values: new Float32Array(27), count: 27 };
 * net.addInput('x', DataType.FLOAT, ['batch', 3, 8, 8]);
 * net.addLayer({ type: 'Conv', inputs: ['x'], outputs: ['y'], weights: [{ role: WeightsRole.KERNEL, weights: kernel, dims: [1, 3, 3, 3] }] });
 * net.markOutput('y');
 * net.setWeightsName(kernel, 'conv.weight'); // true
 * ```
 */
export class NetworkDefinition {
  readonly inputs: TensorDesc[] = [];
  readonly outputs: TensorDesc[] = [];
  readonly layers: Layer[] = [];
  /** Free-form facts an importer records (e.g. the ONNX opsets), kept in the plan. */
  readonly metadata: Record<string, string> = {};
  private readonly layerNames = new Set<string>();
  private readonly records: WeightsRecord[] = [];
  /** Host and device weights by value pointer: (buffer, byteOffset); one record per distinct (type, count) there. */
  private readonly byPointer = new WeakMap<object, Map<number, WeightsRecord[]>>();
  /** Empty weights (null values) have no pointer; they are told apart by object identity. */
  private readonly byIdentity = new WeakMap<Weights, WeightsRecord>();
  /** Every name in effect, given or default: lookups by name are O(1) and names stay unique. */
  private readonly byName = new Map<string, WeightsRecord>();
  /** Next suffix to try per default base name, so that uniquifying stays linear. */
  private readonly nextSuffix = new Map<string, number>();
  private counter = 0;

  constructor(readonly tensorrtVersion: string = NEWEST_KNOWN_TENSORRT) {}

  /** Declares a network input. */
  addInput(name: string, dtype: DataType, dims: readonly Dim[]): TensorDesc {
    if (typeof name !== 'string' || name === '') throw new InvalidArgumentError('addInput: name must be a non-empty string');
    if (!isDataType(dtype)) throw new InvalidArgumentError(`addInput: dtype must be a DataType, received ${String(dtype)}`);
    const t = { name, dtype, dims: [...dims] };
    this.inputs.push(t);
    return t;
  }

  /** Marks a tensor as a network output. */
  markOutput(name: string, dtype: DataType = DataType.FLOAT, dims: readonly Dim[] = []): TensorDesc {
    const t = { name, dtype, dims: [...dims] };
    this.outputs.push(t);
    return t;
  }

  /** Appends a layer (layers must be added in topological order). A missing name becomes `<type>_<n>`. */
  addLayer(spec: LayerSpec): Layer {
    const name = spec.name && !this.layerNames.has(spec.name) ? spec.name : this.uniqueLayerName(spec.name ?? spec.type);
    for (const lw of spec.weights ?? []) assertWeights(lw.weights, `layer ${name} ${lw.role} weights`);
    const layer: Layer = {
      name,
      type: spec.type,
      inputs: [...(spec.inputs ?? [])],
      outputs: [...spec.outputs],
      attributes: { ...(spec.attributes ?? {}) },
      weights: [...(spec.weights ?? [])],
    };
    this.layers.push(layer);
    this.layerNames.add(name);
    for (const lw of layer.weights) this.recordUse(lw.weights, name, lw.role, lw.dims);
    return layer;
  }

  /** Adds a `Constant` layer producing `output` from `weights` (role CONSTANT). */
  addConstant(output: string, weights: Weights, dims: readonly number[], name?: string): Layer {
    return this.addLayer({ name: name ?? output, type: 'Constant', outputs: [output], weights: [{ role: WeightsRole.CONSTANT, weights, dims }] });
  }

  private uniqueLayerName(base: string): string {
    let n: string;
    do n = `${base}_${this.counter++}`;
    while (this.layerNames.has(n));
    return n;
  }

  private recordUse(w: Weights, layer: string, role: WeightsRole, dims: readonly number[]): void {
    const rec = this.candidates(w).find((r) => r.weights.type === w.type && r.weights.count === w.count);
    if (rec) {
      rec.uses.push({ layer, role, dims });
      return;
    }
    const fresh: WeightsRecord = { weights: w, uses: [{ layer, role, dims }], name: this.freeDefaultName(layer, role), explicit: false, marked: false };
    this.records.push(fresh);
    this.byName.set(fresh.name, fresh);
    const p = pointerOf(w);
    if (p) {
      let m = this.byPointer.get(p);
      if (!m) this.byPointer.set(p, (m = new Map()));
      const off = offsetOf(w);
      const list = m.get(off);
      if (list) list.push(fresh);
      else m.set(off, [fresh]);
    } else {
      this.byIdentity.set(w, fresh);
    }
  }

  /** Records at the value pointer of `w` (any type or count), or the record of `w` itself for empty weights. */
  private candidates(w: Weights): readonly WeightsRecord[] {
    const p = pointerOf(w);
    if (p) return this.byPointer.get(p)?.get(offsetOf(w)) ?? [];
    const r = this.byIdentity.get(w);
    return r ? [r] : [];
  }

  /**
   * `<layer>_<role>`, or `<layer>_<role>_<k>` when that is taken (a layer with two weights of one role, or a given
   * name equal to it): every weight keeps a name of its own, as the engine's weight table needs.
   */
  private freeDefaultName(layer: string, role: WeightsRole): string {
    const base = defaultWeightsName(layer, role);
    if (!this.byName.has(base)) return base;
    let k = this.nextSuffix.get(base) ?? 1;
    while (this.byName.has(`${base}_${k}`)) k++;
    this.nextSuffix.set(base, k + 1);
    return `${base}_${k}`;
  }

  /**
   * Names weights already used in the network (`INetworkDefinition::setWeightsName`). Lookup is associative:
   * the name applies to all weights with the same type, value pointer and count. Returns false when no such
   * weights are used in the network, when weights with the same pointer but another type or count exist,
   * or when the name is already given to other weights. `null` makes the weights unnamed (a default name).
   * A given name takes precedence over a default one: weights that only had it by default get another
   * (suffixed) default name, so names stay unique.
   */
  setWeightsName(weights: Weights, name: string | null): boolean {
    if (name !== null && (typeof name !== 'string' || weightsNameProblem(name) !== undefined)) return false;
    if (weights === null || typeof weights !== 'object') return false;
    const candidates = this.candidates(weights);
    if (candidates.length !== 1) return false; // none used, or the pointer is shared by another type or count
    const rec = candidates[0]!;
    if (rec.weights.type !== weights.type || rec.weights.count !== weights.count) return false;
    if (name === null) {
      if (!rec.explicit) return true;
      this.byName.delete(rec.name);
      rec.explicit = false;
      rec.name = this.freeDefaultName(rec.uses[0]!.layer, rec.uses[0]!.role);
      this.byName.set(rec.name, rec);
      return true;
    }
    const owner = this.byName.get(name);
    if (owner && owner !== rec && owner.explicit) return false;
    this.byName.delete(rec.name);
    rec.name = name;
    rec.explicit = true;
    this.byName.set(name, rec);
    if (owner && owner !== rec) {
      owner.name = this.freeDefaultName(owner.uses[0]!.layer, owner.uses[0]!.role);
      this.byName.set(owner.name, owner);
    }
    return true;
  }

  /** The name of `weights`, given or default, or null when they are not used in the network. */
  getWeightsName(weights: Weights): string | null {
    if (weights === null || typeof weights !== 'object') return null;
    return this.candidates(weights).find((r) => r.weights.type === weights.type && r.weights.count === weights.count)?.name ?? null;
  }

  /**
   * Marks weights refittable for `BuilderFlag.REFIT_INDIVIDUAL` (10.2+). False when no weights have that name
   * or their type cannot be refitted.
   */
  markWeightsRefittable(name: string): boolean {
    requireFeature(this.tensorrtVersion, 'INetworkDefinition.markWeightsRefittable');
    const rec = this.lookup(name);
    if (!rec || NOT_REFITTABLE_TYPES.has(rec.weights.type)) return false;
    rec.marked = true;
    return true;
  }

  /** Removes the refittable mark (10.2+). False when no weights have that name. */
  unmarkWeightsRefittable(name: string): boolean {
    requireFeature(this.tensorrtVersion, 'INetworkDefinition.unmarkWeightsRefittable');
    const rec = this.lookup(name);
    if (!rec) return false;
    rec.marked = false;
    return true;
  }

  /** True when the weights exist, can be refitted and are marked (10.2+). */
  areWeightsMarkedRefittable(name: string): boolean {
    requireFeature(this.tensorrtVersion, 'INetworkDefinition.areWeightsMarkedRefittable');
    const rec = this.lookup(name);
    return !!rec && !NOT_REFITTABLE_TYPES.has(rec.weights.type) && rec.marked;
  }

  private lookup(name: string): WeightsRecord | undefined {
    return typeof name === 'string' ? this.byName.get(name) : undefined;
  }

  /** Every distinct weights object used in the network, with its name, first use and marking. */
  weightsEntries(): NetworkWeightsEntry[] {
    return this.records.map((r) => {
      const use = r.uses[0]!;
      return { name: r.name, named: r.explicit, weights: r.weights, dims: use.dims, layer: use.layer, role: use.role, markedRefittable: r.marked };
    });
  }
}

/**
 * Name TensorRT gives unnamed weights in this model: `<layer>_<role>` (lower-case role). The network suffixes it
 * (`_1`, `_2`, …) where that name is already taken.
 */
export function defaultWeightsName(layer: string, role: WeightsRole): string {
  return `${layer}_${role.toLowerCase()}`;
}
