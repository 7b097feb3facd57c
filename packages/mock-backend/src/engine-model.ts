import { DataType, DATA_TYPE_INFO, WeightsRole, type BuildMode, type Layer, type NetworkDefinition, type NetworkWeightsEntry } from '@trt-refit/core';

/** One weight of a mock engine, as its plan records it. */
export interface EngineWeight {
  readonly name: string;
  readonly role: WeightsRole;
  readonly layer: string;
  readonly dtype: DataType;
  readonly dims: readonly number[];
  readonly count: number;
  readonly refittable: boolean;
  readonly stripped: boolean;
  /** Index into {@link EngineModel.fusionGroups}, or -1. */
  readonly fusionGroup: number;
}

/** A layer of the engine after fusion, as the engine inspector lists it. */
export interface EngineLayer {
  readonly name: string;
  /** e.g. `Conv+Scale+GELU`. */
  readonly type: string;
  /** Network layers fused into this one, in execution order. */
  readonly fusedFrom: readonly string[];
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Names of the weights the layer uses. */
  readonly weights: readonly string[];
}

/** What the mock builder decides for a network and a build mode. */
export interface EngineModel {
  readonly weights: readonly EngineWeight[];
  readonly layers: readonly EngineLayer[];
  /** Refittable weights the engine combined; a set weight makes the rest of its group missing. */
  readonly fusionGroups: readonly (readonly string[])[];
}

/** Types TensorRT does not refit (trtexec: "Refit not supported for these types"). */
const NEVER_REFITTABLE = new Set<DataType>([DataType.BOOL, DataType.UINT8, DataType.FP8, DataType.INT4, DataType.FP4, DataType.E8M0]);
const LAYER_ROLES = new Set<WeightsRole>([WeightsRole.KERNEL, WeightsRole.BIAS, WeightsRole.SCALE, WeightsRole.SHIFT]);

/**
 * Whether a weight is refittable in `mode` (the mock's rules, README "engine model"): nothing without a refit flag;
 * REFIT: every weight of a refittable type except integer constants (shape constants are consumed at build);
 * REFIT_IDENTICAL: layer weights (kernels, biases, folded BN) and floating constants of more than one element,
 * while floating scalars (GELU coefficients, epsilons) are folded into the layers that use them;
 * REFIT_INDIVIDUAL: the marked weights only.
 */
export function isRefittableIn(mode: BuildMode, e: Pick<NetworkWeightsEntry, 'role' | 'weights' | 'markedRefittable'>): boolean {
  const type = e.weights.type;
  if (NEVER_REFITTABLE.has(type)) return false;
  const floating = DATA_TYPE_INFO[type].floating;
  switch (mode.refit) {
    case 'none':
      return false;
    case 'individual':
      return e.markedRefittable;
    case 'all':
      // INT8 constants are quantized weights (Q/DQ); other integer constants are shape arithmetic (A-INT-CONSTANTS)
      return LAYER_ROLES.has(e.role) || floating || type === DataType.INT8;
    case 'identical':
      return LAYER_ROLES.has(e.role) || (floating && e.weights.count > 1);
  }
}

const near = (a: number, b: number) => Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(b));

/**
 * Decides the engine for `network` built as `mode`: which weights are refittable and stripped, the fusions and
 * their weight groups, and the layers after fusion.
 */
export function planEngine(network: NetworkDefinition, mode: BuildMode): EngineModel {
  const entries = network.weightsEntries();
  const refittable = new Map<string, boolean>();
  for (const e of entries) refittable.set(e.name, isRefittableIn(mode, e));
  const roleOf = new Map(entries.map((e) => [e.name, e.role]));
  // Weights names of every layer (a weights object used by several layers appears under each).
  const layerWeightNames = (l: Layer) => l.weights.map((w) => network.getWeightsName(w.weights) ?? `${l.name}_${w.role.toLowerCase()}`);

  const producer = new Map<string, Layer>();
  const consumers = new Map<string, Layer[]>();
  for (const l of network.layers) {
    for (const o of l.outputs) producer.set(o, l);
    for (const i of l.inputs) if (i) consumers.set(i, [...(consumers.get(i) ?? []), l]);
  }
  const outputs = new Set(network.outputs.map((o) => o.name));
  const soleConsumer = (tensor: string): Layer | undefined => {
    if (outputs.has(tensor)) return undefined;
    const c = consumers.get(tensor) ?? [];
    return c.length === 1 ? c[0] : undefined;
  };
  const constantValue = (tensor: string): { value: number; weight: string } | undefined => {
    const p = producer.get(tensor);
    if (!p || p.type !== 'Constant' || p.weights.length !== 1) return undefined;
    const w = p.weights[0]!.weights;
    if (w.type !== DataType.FLOAT || w.count !== 1 || !w.values || !ArrayBuffer.isView(w.values)) return undefined;
    const v = new DataView(w.values.buffer, w.values.byteOffset, 4).getFloat32(0, true);
    return { value: v, weight: layerWeightNames(p)[0]! };
  };
  const other = (l: Layer, x: string) => (l.inputs[0] === x ? l.inputs[1] : l.inputs[1] === x ? l.inputs[0] : undefined);

  /** Erf-form GELU starting at `div`: x/√2 → Erf → +1 → ·x → ·0.5 (operands in any order). Fusable only when its constants are not refittable. */
  const gelu = (div: Layer): { layers: Layer[]; x: string; out: string } | undefined => {
    if (div.type !== 'Div') return undefined;
    const x = div.inputs[0]!;
    const c1 = constantValue(div.inputs[1] ?? '');
    const erf = soleConsumer(div.outputs[0]!);
    if (!c1 || !near(c1.value, Math.SQRT2) || erf?.type !== 'Erf') return undefined;
    const add = soleConsumer(erf.outputs[0]!);
    const c2 = add?.type === 'Add' ? constantValue(other(add, erf.outputs[0]!) ?? '') : undefined;
    if (!add || !c2 || !near(c2.value, 1)) return undefined;
    const mul = soleConsumer(add.outputs[0]!);
    if (mul?.type !== 'Mul' || other(mul, add.outputs[0]!) !== x) return undefined;
    const half = soleConsumer(mul.outputs[0]!);
    const c3 = half?.type === 'Mul' ? constantValue(other(half, mul.outputs[0]!) ?? '') : undefined;
    if (!half || !c3 || !near(c3.value, 0.5)) return undefined;
    if ([c1, c2, c3].some((c) => refittable.get(c.weight))) return undefined;
    return { layers: [div, erf, add, mul, half], x, out: half.outputs[0]! };
  };

  const fused = new Set<string>();
  const layers: EngineLayer[] = [];
  const groups: string[][] = [];
  const emit = (parts: Layer[], type: string, extraWeights: string[] = []) => {
    for (const p of parts) fused.add(p.name);
    const produced = new Set(parts.flatMap((p) => p.outputs));
    const inputs = [...new Set(parts.flatMap((p) => p.inputs).filter((i) => i && !produced.has(i) && producer.get(i)?.type !== 'Constant'))];
    const last = parts[parts.length - 1]!;
    const weights = [...new Set([...parts.flatMap(layerWeightNames), ...extraWeights])];
    layers.push({ name: parts.map((p) => p.name).join(' + '), type, fusedFrom: parts.map((p) => p.name), inputs, outputs: last.outputs, weights });
    return weights;
  };
  const group = (names: string[]) => {
    const g = [...new Set(names)].filter((n) => refittable.get(n));
    if (g.length > 1) groups.push(g);
  };

  for (const l of network.layers) {
    if (fused.has(l.name) || l.type === 'Constant') continue;
    if (l.type === 'Conv' || l.type === 'ConvTranspose') {
      const parts = [l];
      const names = [l.type];
      let tail = l.outputs[0]!;
      const next = soleConsumer(tail);
      if (next?.type === 'Scale' && !fused.has(next.name)) {
        parts.push(next);
        names.push('Scale');
        tail = next.outputs[0]!;
      }
      const act = soleConsumer(tail);
      // GELU reads its input twice (x/√2 and x·…), so it is never the sole consumer: match it through the Div.
      const users = outputs.has(tail) ? [] : (consumers.get(tail) ?? []);
      const div = users.find((u) => u.type === 'Div');
      const g = div ? gelu(div) : undefined;
      const geluOnly = g !== undefined && users.every((u) => g.layers.includes(u));
      if (act && ['Relu', 'Sigmoid', 'Tanh', 'Gelu'].includes(act.type) && !fused.has(act.name)) {
        parts.push(act);
        names.push(act.type === 'Gelu' ? 'GELU' : act.type);
      } else if (g && geluOnly && g.x === tail) {
        parts.push(...g.layers);
        names.push('GELU');
      }
      const w = emit(parts, names.join('+'));
      group(w.filter((n) => LAYER_ROLES.has(roleOf.get(n)!)));
      continue;
    }
    if (l.type === 'Gemm' || l.type === 'MatMul') {
      const parts = [l];
      const constOperands = l.inputs.filter((i) => producer.get(i)?.type === 'Constant').map((i) => layerWeightNames(producer.get(i)!)[0]!);
      let type = l.type;
      const next = soleConsumer(l.outputs[0]!);
      const bias = next?.type === 'Add' ? other(next, l.outputs[0]!) : undefined;
      if (next && bias && producer.get(bias)?.type === 'Constant') {
        parts.push(next);
        constOperands.push(layerWeightNames(producer.get(bias)!)[0]!);
        type = `${l.type}+Add`;
      }
      emit(parts, type, constOperands);
      group(constOperands);
      continue;
    }
    const g = gelu(l);
    if (g) {
      emit(g.layers, 'GELU');
      continue;
    }
    emit([l], l.type);
  }

  const groupOf = new Map<string, number>();
  groups.forEach((g, i) => g.forEach((n) => groupOf.set(n, i)));
  const strips = (e: NetworkWeightsEntry) => refittable.get(e.name) === true && (mode.strip === 'all' || mode.strip === 'identical' || (mode.strip === 'marked' && e.markedRefittable));
  const weights: EngineWeight[] = entries.map((e) => ({
    name: e.name,
    role: e.role,
    layer: e.layer,
    dtype: e.weights.type,
    dims: e.dims,
    count: e.weights.count,
    refittable: refittable.get(e.name) === true,
    stripped: strips(e),
    fusionGroup: groupOf.get(e.name) ?? -1,
  }));
  return { weights, layers, fusionGroups: groups };
}
