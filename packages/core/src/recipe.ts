import { byteLengthFor, isDataType, type DataType } from './data-type.js';
import { InvalidArgumentError } from './errors.js';
import { parseTensorRtVersion } from './version.js';

/**
 * How a parser refit produces an engine weight from the ONNX model (`nvonnxparser::RefitTransformKind`, 11.2+).
 */
export const RefitTransformKind = {
  /** One initializer; the refit data is its data as is. */
  IDENTITY: 'IDENTITY',
  /** One DOUBLE initializer; the refit data is its FLOAT cast (clamped to the float range). */
  DOUBLE_TO_FLOAT: 'DOUBLE_TO_FLOAT',
  /** Four initializers (scale, bias, mean, variance): `scale / sqrt(variance + epsilon)`. */
  BATCH_NORM_FOLD_SCALE: 'BATCH_NORM_FOLD_SCALE',
  /** The same four: `bias - mean * combinedScale`. */
  BATCH_NORM_FOLD_BIAS: 'BATCH_NORM_FOLD_BIAS',
  /** A Constant node's value, carried in `fixedData`. */
  CONSTANT_NODE: 'CONSTANT_NODE',
  /** A ConstantOfShape node's value (0.0 without one), carried in `fixedData`. */
  CONSTANT_OF_SHAPE: 'CONSTANT_OF_SHAPE',
} as const;
export type RefitTransformKind = (typeof RefitTransformKind)[keyof typeof RefitTransformKind];

/**
 * One refittable weight as a parser refit produces it (`nvonnxparser::RefitRecord`): enough to set it again from
 * the source initializers alone, with no ONNX model.
 */
export interface RefitRecord {
  /** The engine weight: the name to pass to `setNamedWeights`. */
  readonly trtName: string;
  readonly kind: RefitTransformKind;
  /** ONNX element type of the source data before the transform (that of the first source for folds). */
  readonly onnxDtype: number;
  /** TensorRT type of the refit data. */
  readonly trtDtype: DataType;
  /** Elements of the refit data. */
  readonly count: number;
  /** Source initializer names (Constant and ConstantOfShape: the node's output); at most 4. */
  readonly sourceOnnxNames: readonly string[];
  /** Batch-norm folds: the epsilon of the fold. */
  readonly epsilon?: number;
  /** CONSTANT_NODE and CONSTANT_OF_SHAPE: the refit data itself (little-endian, `trtDtype`). */
  readonly fixedData?: Uint8Array;
}

/** Receives a {@link RefitRecord} per refittable weight during a parser refit (`nvonnxparser::IRefitterObserver`). */
export interface RefitterObserver {
  /** Called once per weight the parser refit sets, in traversal order; the record is the caller's to keep. */
  onRefittableWeight(record: RefitRecord): void;
}

/** A recipe: the records of one model for one TensorRT version, written as JSON (`fixedData` in base64). */
export interface RefitRecipe {
  readonly format: 'trt-refit-recipe';
  readonly version: 1;
  /** The TensorRT version whose parser rules named the weights. */
  readonly tensorrtVersion: string;
  readonly records: readonly RefitRecord[];
}

const KINDS = new Set<string>(Object.values(RefitTransformKind));

/** The recipe as JSON text (`fixedData` in base64). */
export function recipeToJson(recipe: RefitRecipe, space?: number): string {
  return JSON.stringify(
    {
      ...recipe,
      records: recipe.records.map((r) => ({ ...r, ...(r.fixedData ? { fixedData: Buffer.from(r.fixedData.buffer, r.fixedData.byteOffset, r.fixedData.byteLength).toString('base64') } : {}) })),
    },
    null,
    space,
  );
}

/**
 * Reads a recipe written by {@link recipeToJson}, checking every field.
 * @throws InvalidArgumentError naming the first record and field that is wrong.
 */
export function parseRecipe(text: string): RefitRecipe {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InvalidArgumentError(`a refit recipe must be JSON: ${(e as Error).message}`);
  }
  const bad = (why: string) => new InvalidArgumentError(`not a trt-refit recipe: ${why}`);
  if (raw === null || typeof raw !== 'object') throw bad('not an object');
  const o = raw as Record<string, unknown>;
  if (o.format !== 'trt-refit-recipe' || o.version !== 1) throw bad(`format ${JSON.stringify(o.format)} version ${JSON.stringify(o.version)} (expected "trt-refit-recipe" 1)`);
  if (typeof o.tensorrtVersion !== 'string') throw bad('tensorrtVersion must be a string');
  parseTensorRtVersion(o.tensorrtVersion);
  if (!Array.isArray(o.records)) throw bad('records must be an array');
  const records = o.records.map((r: unknown, i): RefitRecord => {
    const at = (why: string) => bad(`records[${i}]: ${why}`);
    if (r === null || typeof r !== 'object') throw at('not an object');
    const x = r as Record<string, unknown>;
    if (typeof x.trtName !== 'string' || x.trtName === '') throw at('trtName must be a non-empty string');
    if (typeof x.kind !== 'string' || !KINDS.has(x.kind)) throw at(`kind must be one of ${[...KINDS].join(', ')}`);
    if (!Number.isInteger(x.onnxDtype) || (x.onnxDtype as number) < 1 || (x.onnxDtype as number) > 26) throw at('onnxDtype must be an ONNX element type number');
    if (!isDataType(x.trtDtype)) throw at('trtDtype must be a DataType');
    if (!Number.isSafeInteger(x.count) || (x.count as number) < 0) throw at('count must be a non-negative integer');
    const sources = x.sourceOnnxNames;
    if (!Array.isArray(sources) || sources.length < 1 || sources.length > 4 || sources.some((s) => typeof s !== 'string')) throw at('sourceOnnxNames must hold 1 to 4 names');
    const kind = x.kind as RefitTransformKind;
    const fold = kind === RefitTransformKind.BATCH_NORM_FOLD_SCALE || kind === RefitTransformKind.BATCH_NORM_FOLD_BIAS;
    if (fold !== (sources.length === 4)) throw at(`${kind} takes ${fold ? '4 sources' : '1 source'}`);
    if (fold && (typeof x.epsilon !== 'number' || !Number.isFinite(x.epsilon))) throw at('a batch-norm fold needs a finite epsilon');
    const fixed = kind === RefitTransformKind.CONSTANT_NODE || kind === RefitTransformKind.CONSTANT_OF_SHAPE;
    if (fixed !== (typeof x.fixedData === 'string')) throw at(fixed ? `${kind} needs fixedData (base64)` : `${kind} takes no fixedData`);
    const fixedData = fixed ? new Uint8Array(Buffer.from(x.fixedData as string, 'base64')) : undefined;
    if (fixedData && fixedData.byteLength !== byteLengthFor(x.trtDtype, x.count as number)) throw at(`fixedData holds ${fixedData.byteLength} bytes, ${x.trtDtype}[${String(x.count)}] needs ${byteLengthFor(x.trtDtype, x.count as number)}`);
    return {
      trtName: x.trtName,
      kind,
      onnxDtype: x.onnxDtype as number,
      trtDtype: x.trtDtype,
      count: x.count as number,
      sourceOnnxNames: sources as string[],
      ...(fold ? { epsilon: x.epsilon as number } : {}),
      ...(fixedData ? { fixedData } : {}),
    };
  });
  return { format: 'trt-refit-recipe', version: 1, tensorrtVersion: o.tensorrtVersion, records };
}
