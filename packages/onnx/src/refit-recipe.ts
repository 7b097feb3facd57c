import {
  RefitTransformKind,
  Severity,
  TrtRefitError,
  TrtRefitErrorCode,
  byteLengthFor,
  hostBytes,
  identityDifferences,
  silentLogger,
  type IdentityManifest,
  type Logger,
  type RefitRecipe,
  type RefitRecord,
  type Refitter,
  type Weights,
} from '@trt-refit/core';
import { foldBatchNorm, refitterFoldType, type BatchNormParam, type FoldedBatchNorm } from './batch-norm.js';
import { conversionProblem, convertedType, toTrtWeights } from './convert-weights.js';
import type { OnnxModel, OnnxTensorInfo } from './onnx-model.js';
import { ONNX_DTYPES, onnxByteLength } from './onnx-dtype.js';
import { onnxParserRules, type OnnxParserRules } from '@trt-refit/core';
import { writeSafetensors, type Safetensors, type SafetensorsEntry } from './safetensors.js';
import { CONSTANT_OF_SHAPE_DEFAULT, weightSources, type WeightSource } from './weight-sources.js';

/** The record TensorRT's observer would report for a weight source, with the weights themselves when computed. */
export interface MaterializedWeight {
  readonly record: RefitRecord;
  readonly weights: Weights;
}

const asBytes = (w: Weights): Uint8Array => hostBytes(w);

/** The record of a source, without reading any data (fixed data aside). */
function recordOf(s: Exclude<WeightSource, { kind: 'error' }>, rules: OnnxParserRules, weights?: Weights): RefitRecord {
  switch (s.kind) {
    case 'tensor': {
      const constant = s.tensor.kind === 'constant';
      return {
        trtName: s.name,
        kind: constant ? RefitTransformKind.CONSTANT_NODE : s.tensor.dataType === 11 ? RefitTransformKind.DOUBLE_TO_FLOAT : RefitTransformKind.IDENTITY,
        onnxDtype: s.tensor.dataType,
        trtDtype: convertedType(s.tensor, { rules, refitter: true })!,
        count: s.tensor.count,
        sourceOnnxNames: [s.tensor.name],
        ...(constant && weights ? { fixedData: asBytes(weights).slice() } : {}),
      };
    }
    case 'bn-scale':
    case 'bn-shift':
      return {
        trtName: s.name,
        kind: s.kind === 'bn-scale' ? RefitTransformKind.BATCH_NORM_FOLD_SCALE : RefitTransformKind.BATCH_NORM_FOLD_BIAS,
        onnxDtype: s.params[0]!.dataType,
        trtDtype: refitterFoldType(s.params.map((p) => p.dataType)),
        count: s.params[0]!.count,
        sourceOnnxNames: s.params.map((p) => p.name),
        epsilon: s.epsilon,
      };
    case 'constant-of-shape':
      return {
        trtName: s.name,
        kind: RefitTransformKind.CONSTANT_OF_SHAPE,
        onnxDtype: s.value?.dataType ?? CONSTANT_OF_SHAPE_DEFAULT.dataType,
        trtDtype: s.value ? convertedType(s.value, { rules, refitter: true })! : convertedType({ dataType: 1 } as OnnxTensorInfo)!,
        count: s.value?.count ?? 1,
        sourceOnnxNames: [s.output],
        ...(weights ? { fixedData: asBytes(weights).slice() } : {}),
      };
  }
}

/**
 * Computes the weights of one source from the model as TensorRT's parser refitter does (conversion, batch-norm
 * fold, ConstantOfShape default), with its {@link RefitRecord}. `folds` caches a node's fold for its second weight;
 * `into` is a scratch buffer for tensors read from files. Returns the reason instead when TensorRT fails on it.
 */
export async function materializeSource(
  model: OnnxModel,
  s: Exclude<WeightSource, { kind: 'error' }>,
  rules: OnnxParserRules,
  options: { folds?: Map<string, FoldedBatchNorm | string>; read?: (t: OnnxTensorInfo) => Promise<Uint8Array>; warn?: (m: string) => void } = {},
): Promise<MaterializedWeight | string> {
  let weights: Weights;
  if (s.kind === 'tensor') {
    const problem = conversionProblem(s.tensor, { rules, refitter: true });
    if (problem) return problem;
    const bytes = options.read ? await options.read(s.tensor) : await model.readTensor(s.tensor);
    const w = toTrtWeights(s.tensor, bytes, options.warn, { rules, refitter: true });
    if (typeof w === 'string') return w;
    weights = w;
  } else if (s.kind === 'constant-of-shape') {
    if (s.value) {
      const problem = conversionProblem(s.value, { rules, refitter: true });
      if (problem) return `Failed to import ConstantOfShape node ${s.node}: ${problem}`;
      const w = toTrtWeights(s.value, await model.readTensor(s.value), options.warn, { rules, refitter: true });
      if (typeof w === 'string') return w;
      weights = w;
    } else {
      weights = { type: convertedType({ dataType: 1 } as OnnxTensorInfo)!, values: CONSTANT_OF_SHAPE_DEFAULT.bytes.slice(), count: 1 };
    }
  } else {
    const key = `${s.node}\0${s.epsilon}\0${s.params.map((p) => p.name).join('\0')}`;
    let f = options.folds?.get(key);
    if (f === undefined) {
      const params: BatchNormParam[] = [];
      for (const p of s.params) {
        const problem = conversionProblem(p, { rules, refitter: true });
        if (problem) return problem;
        params.push({ name: p.name, dataType: p.dataType, count: p.count, bytes: await model.readTensor(p) });
      }
      f = foldBatchNorm(params, s.epsilon, refitterFoldType(params.map((p) => p.dataType)));
      options.folds?.set(key, f);
    }
    if (typeof f === 'string') return `BatchNormalization ${s.node}: ${f}`;
    weights = s.kind === 'bn-scale' ? f.scale : f.shift;
  }
  return { record: recordOf(s, rules, weights), weights };
}

/**
 * The refit recipe of a model: one {@link RefitRecord} per weight TensorRT's parser refitter of `tensorrtVersion`
 * would set, in its order, named as it names them (`IRefitterObserver` of 11.2+, emulated for every version). With
 * `refittable` (an engine's `getAllWeights()`), only those; without, every candidate (a superset: consumers skip
 * names the engine does not list). Constant values are carried in the records; everything else names its source
 * initializers, so the recipe plus a weights file of those initializers refits the engine with no ONNX model.
 *
 * @example
 * ```ts
 * const recipe = await refitRecipe(await openOnnxModel('model.onnx'), { tensorrtVersion: '10.16' });
 * writeFileSync('model.recipe.json', recipeToJson(recipe));
 * ```
 */
export async function refitRecipe(model: OnnxModel, options: { tensorrtVersion?: string; refittable?: Iterable<string> } = {}): Promise<RefitRecipe> {
  const rules = onnxParserRules(options.tensorrtVersion);
  const only = options.refittable ? new Set(options.refittable) : undefined;
  const records: RefitRecord[] = [];
  const seen = new Set<string>();
  for (const s of weightSources(model, rules)) {
    if (s.kind === 'error') throw new RecipeError(s.message);
    if (seen.has(s.name) || (only && !only.has(s.name))) continue;
    seen.add(s.name);
    if (s.kind === 'tensor' && s.tensor.kind !== 'constant') {
      const problem = conversionProblem(s.tensor, { rules, refitter: true });
      if (problem) throw new RecipeError(problem);
      records.push(recordOf(s, rules));
      continue;
    }
    if (s.kind === 'bn-scale' || s.kind === 'bn-shift') {
      records.push(recordOf(s, rules));
      continue;
    }
    const m = await materializeSource(model, s, rules);
    if (typeof m === 'string') throw new RecipeError(m);
    records.push(m.record);
  }
  return { format: 'trt-refit-recipe', version: 1, tensorrtVersion: rules.tensorrtVersion, records };
}


/** A recipe that cannot be made or applied: the message names the record and what is wrong. */
export class RecipeError extends TrtRefitError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(TrtRefitErrorCode.REFIT_FAILED, message, details);
  }
}

/** Where a recipe's source initializers come from: their ONNX element type and little-endian bytes. */
export interface RecipeWeightsSource {
  /** The tensor of that name, or undefined when the source has none. */
  get(name: string): Promise<{ readonly onnxDtype: number; readonly bytes: Uint8Array } | undefined>;
  /** Every name it holds (to report those the recipe does not use). */
  names(): readonly string[];
}

const ST_TO_ONNX: Readonly<Record<string, number>> = Object.fromEntries(
  Object.entries(ONNX_DTYPES).flatMap(([n, d]) => (d.safetensors ? [[d.safetensors, Number(n)]] : [])),
);

/** A safetensors file as a recipe's weights source (tensor names = initializer names). */
export function safetensorsWeightsSource(st: Safetensors): RecipeWeightsSource {
  const byName = new Map(st.tensors.map((t) => [t.name, t]));
  return {
    names: () => st.tensors.map((t) => t.name),
    async get(name) {
      const t = byName.get(name);
      if (!t) return undefined;
      const onnxDtype = ST_TO_ONNX[t.dtype];
      if (onnxDtype === undefined) throw new RecipeError(`checkpoint tensor ${name} has dtype ${t.dtype}, which no ONNX element type holds`);
      return { onnxDtype, bytes: await st.read(name) };
    },
  };
}

/** What {@link applyRecipe} did. */
export interface RecipeReport {
  /** True when every weight the engine lists was set and nothing failed. */
  readonly ok: boolean;
  /** Engine weights set, in recipe order. */
  readonly set: readonly string[];
  /** Records whose engine weight this engine does not list (a candidate superset, or another version's names). */
  readonly notInEngine: readonly string[];
  /** Engine weights no record covers. */
  readonly notInRecipe: readonly string[];
  /** Weights-source tensors no record uses. */
  readonly unusedSources: readonly string[];
  /** Every failure, each naming the record. */
  readonly errors: readonly string[];
}

/**
 * Refits from a recipe and a weights file (initializer names), with no ONNX model: each record's transform is
 * replayed on its sources (as the parser refitter computes it) and the result set with `setNamedWeights`. Every
 * problem is reported, not just the first; the engine is not refitted: call `refitter.refitCudaEngine()` when
 * `report.ok`. Weights are held by the refitter by reference, as with any host weights.
 *
 * @example
 * ```ts
 * const report = await applyRecipe(refitter, parseRecipe(text), safetensorsWeightsSource(await openSafetensors('w.safetensors')));
 * if (report.ok) await refitter.refitCudaEngine();
 * ```
 */
export async function applyRecipe(refitter: Refitter, recipe: RefitRecipe, source: RecipeWeightsSource, logger: Logger = silentLogger): Promise<RecipeReport> {
  const rules = onnxParserRules(recipe.tensorrtVersion);
  const engine = new Set(refitter.getAllWeights());
  const set: string[] = [];
  const notInEngine: string[] = [];
  const errors: string[] = [];
  const used = new Set<string>();
  const folds = new Map<string, FoldedBatchNorm | string>();
  for (const r of recipe.records) {
    if (!engine.has(r.trtName)) {
      notInEngine.push(r.trtName);
      continue;
    }
    if (set.includes(r.trtName)) continue; // first record wins, as in the parser refitter
    let weights: Weights | string;
    try {
      weights = await replay(r, source, rules, folds, used, (m) => logger.log(Severity.WARNING, m));
    } catch (e) {
      weights = (e as Error).message;
    }
    if (typeof weights === 'string') {
      errors.push(`${r.trtName}: ${weights}`);
      continue;
    }
    const proto = refitter.getWeightsPrototype(r.trtName);
    if (proto.type !== weights.type || proto.count !== weights.count) {
      errors.push(`${r.trtName}: the recipe gives ${weights.type}[${weights.count}] but the engine was built with ${proto.type}[${proto.count}]`);
      continue;
    }
    if (!refitter.setNamedWeights(r.trtName, weights)) {
      errors.push(`${r.trtName}: setNamedWeights refused the weights (see the refitter's log)`);
      continue;
    }
    set.push(r.trtName);
  }
  const covered = new Set(recipe.records.map((r) => r.trtName));
  const notInRecipe = [...engine].filter((n) => !covered.has(n));
  for (const e of errors) logger.log(Severity.ERROR, e);
  return { ok: errors.length === 0 && notInRecipe.length === 0, set, notInEngine, notInRecipe, unusedSources: source.names().filter((n) => !used.has(n)), errors };
}

async function replay(
  r: RefitRecord,
  source: RecipeWeightsSource,
  rules: OnnxParserRules,
  folds: Map<string, FoldedBatchNorm | string>,
  used: Set<string>,
  warn: (m: string) => void,
): Promise<Weights | string> {
  if (r.fixedData) {
    if (r.fixedData.byteLength !== byteLengthFor(r.trtDtype, r.count)) return `fixedData holds ${r.fixedData.byteLength} bytes, ${r.trtDtype}[${r.count}] needs ${byteLengthFor(r.trtDtype, r.count)}`;
    return { type: r.trtDtype, values: r.fixedData, count: r.count };
  }
  const read = async (name: string) => {
    const t = await source.get(name);
    if (!t) return `source ${name} is not in the weights file`;
    used.add(name);
    return t;
  };
  if (r.kind === RefitTransformKind.IDENTITY || r.kind === RefitTransformKind.DOUBLE_TO_FLOAT) {
    const name = r.sourceOnnxNames[0]!;
    const t = await read(name);
    if (typeof t === 'string') return t;
    if (t.onnxDtype !== r.onnxDtype) return `source ${name} is ${ONNX_DTYPES[t.onnxDtype]?.name ?? t.onnxDtype}, the recipe says ${ONNX_DTYPES[r.onnxDtype]?.name ?? r.onnxDtype}`;
    if (t.bytes.byteLength !== onnxByteLength(r.onnxDtype, r.count)) return `source ${name} holds ${t.bytes.byteLength} bytes, ${r.count} values of ${ONNX_DTYPES[r.onnxDtype]?.name} need ${onnxByteLength(r.onnxDtype, r.count)}`;
    const info = { name, kind: 'initializer', scope: 'recipe', dataType: r.onnxDtype, dtypeName: ONNX_DTYPES[r.onnxDtype]?.name ?? '', dims: [r.count], count: r.count, storage: 'raw', byteLength: t.bytes.byteLength, proto: {} } as OnnxTensorInfo;
    const w = toTrtWeights(info, t.bytes, warn, { rules, refitter: true });
    if (typeof w === 'string') return w;
    if (w.type !== r.trtDtype) return `the source converts to ${w.type}, the recipe says ${r.trtDtype}`;
    return w;
  }
  if (r.kind === RefitTransformKind.BATCH_NORM_FOLD_SCALE || r.kind === RefitTransformKind.BATCH_NORM_FOLD_BIAS) {
    const key = `${r.epsilon}\0${r.sourceOnnxNames.join('\0')}`;
    let f = folds.get(key);
    if (f === undefined) {
      const params: BatchNormParam[] = [];
      for (const name of r.sourceOnnxNames) {
        const t = await read(name);
        if (typeof t === 'string') return t;
        const bits = ONNX_DTYPES[t.onnxDtype]?.bits ?? 0;
        params.push({ name, dataType: t.onnxDtype, count: bits ? (t.bytes.byteLength * 8) / bits : 0, bytes: t.bytes });
      }
      const type = refitterFoldType(params.map((p) => p.dataType));
      f = type !== r.trtDtype ? `the sources fold to ${type}, the recipe says ${r.trtDtype}` : foldBatchNorm(params, r.epsilon ?? 1e-5, type);
      folds.set(key, f);
    }
    if (typeof f === 'string') return f;
    const w = r.kind === RefitTransformKind.BATCH_NORM_FOLD_SCALE ? f.scale : f.shift;
    return w.count === r.count ? w : `the fold has ${w.count} values, the recipe says ${r.count}`;
  }
  return `${r.kind} needs fixedData`;
}

/**
 * Writes the initializers a recipe's records read (every source of IDENTITY, DOUBLE_TO_FLOAT and batch-norm fold
 * records; constants travel in the recipe) to a safetensors file under their ONNX names and types, one tensor in
 * memory at a time: with the recipe and a weight-stripped plan, all a client needs to refit without the ONNX model.
 * Resolves to the file's size.
 */
export async function writeRecipeWeights(model: OnnxModel, recipe: RefitRecipe, path: string): Promise<number> {
  const byName = new Map<string, OnnxTensorInfo>();
  for (const t of model.tensors()) if (t.kind === 'initializer' && !byName.has(t.name)) byName.set(t.name, t);
  const names = [...new Set(recipe.records.filter((r) => !r.fixedData).flatMap((r) => r.sourceOnnxNames))];
  const entries: SafetensorsEntry[] = names.map((name) => {
    const t = byName.get(name);
    if (!t) throw new RecipeError(`the recipe reads ${name}, which is not an initializer of the model`);
    const dtype = ONNX_DTYPES[t.dataType]?.safetensors;
    if (!dtype) throw new RecipeError(`initializer ${name} is ${t.dtypeName}, which safetensors cannot hold`);
    return { name, dtype, shape: t.dims, read: () => model.readTensor(t) };
  });
  return writeSafetensors(path, entries, { format: 'trt-refit-recipe-weights', tensorrtVersion: recipe.tensorrtVersion });
}

/**
 * The names of the weights a parser refit of `model` would set to other bytes than `manifest` records (the
 * build-time weights of a REFIT_IDENTICAL engine), computed in TS as TensorRT's parser refitter of the version
 * would compute them, one weight at a time. Weights the manifest does not list are not read.
 */
export async function modelIdentityDifferences(model: OnnxModel, manifest: IdentityManifest, tensorrtVersion?: string): Promise<string[]> {
  const rules = onnxParserRules(tensorrtVersion);
  const folds = new Map<string, FoldedBatchNorm | string>();
  const seen = new Set<string>();
  const out: string[] = [];
  for (const s of weightSources(model, rules)) {
    if (s.kind === 'error' || seen.has(s.name) || manifest.weights[s.name] === undefined) continue;
    seen.add(s.name);
    const m = await materializeSource(model, s, rules, { folds });
    if (typeof m === 'string') continue; // the refit itself reports it
    out.push(...identityDifferences(manifest, [{ name: s.name, bytes: hostBytes(m.weights) }]));
  }
  return out;
}
