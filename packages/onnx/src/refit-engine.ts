import { CollectingErrorRecorder, Severity, TrtRefitError, TrtRefitErrorCode, silentLogger, readRegularFile, type Backend, type CudaEngine, type Logger, type RefitProgress, type RefitRecipe, type Refitter } from '@trt-refit/core';
import { matchCheckpoint, transpose2d, type CheckpointMatch } from './checkpoint-match.js';
import { parseOnnxModel } from './onnx-model.js';
import { applyRecipe, safetensorsWeightsSource } from './refit-recipe.js';
import { openSafetensors } from './safetensors.js';

/**
 * Where new weights come from: an ONNX model (the parser refitter's names); an ONNX model for the structure and a
 * safetensors checkpoint for the values (names matched automatically, or with `map`); or a refit recipe and its
 * safetensors weights (no ONNX model at all).
 */
export type RefitSource =
  | { readonly onnx: string; readonly safetensors?: string; readonly map?: Readonly<Record<string, string>> }
  | { readonly recipe: RefitRecipe; readonly safetensors: string };

/** Options of {@link refitEngine}. */
export interface RefitEngineOptions {
  readonly logger?: Logger;
  /** Called as weights are set (parser refits report each weight). */
  readonly onProgress?: RefitProgress;
}

/** What {@link refitEngine} did. */
export interface RefitReport {
  /** Engine weights set. */
  readonly weights: number;
  /** Weights whose values came from the checkpoint (or the recipe's weights file). */
  readonly fromCheckpoint: number;
  /** How checkpoint names were matched to the model's (with `safetensors` + `onnx`). */
  readonly matched: readonly CheckpointMatch[];
  /** Checkpoint tensors no weight used. */
  readonly unmatchedCheckpoint: readonly string[];
  /** Model initializers the checkpoint did not provide (kept from the model). */
  readonly unmatchedModel: readonly string[];
}

/** A refit that could not be done: `reasons` lists every one; the engine was not refitted. */
export class RefitEngineError extends TrtRefitError {
  constructor(readonly reasons: readonly string[]) {
    super(TrtRefitErrorCode.REFIT_FAILED, `the refit was not done:\n  ${reasons.join('\n  ')}`, { reasons });
  }
}

const errorsOf = (p: { getNbErrors(): number; getError(i: number): { desc: string } | undefined }) => Array.from({ length: p.getNbErrors() }, (_, i) => p.getError(i)!.desc);

/**
 * Refits `engine` in one call: resolves names (the parser's, a checkpoint's by name, map, content or shape, or a
 * recipe's), sets every weight, checks itself that nothing is missing, then refits. Returns what it did; throws
 * {@link RefitEngineError} naming every reason when it cannot, without calling `refitCudaEngine` (the engine keeps
 * its weights). The refitter it creates is disposed.
 *
 * @example
 * ```ts
 * const report = await refitEngine(backend, engine, { onnx: 'model.onnx', safetensors: 'finetune.safetensors' });
 * console.log(report.matched, report.unmatchedCheckpoint);
 * ```
 */
export async function refitEngine(backend: Backend, engine: CudaEngine, source: RefitSource, options: RefitEngineOptions = {}): Promise<RefitReport> {
  const logger = options.logger ?? silentLogger;
  const refitter = backend.createRefitter(engine, logger);
  const recorder = new CollectingErrorRecorder();
  refitter.setErrorRecorder(recorder);
  try {
    const report = await setWeights(backend, refitter, source, logger, options);
    const missing = refitter.getMissingWeights();
    if (missing.length) throw new RefitEngineError([`weights still missing: ${missing.join(', ')}`]);
    if (!(await refitter.refitCudaEngine())) {
      const logged = Array.from({ length: recorder.getNbErrors() }, (_, i) => recorder.getErrorDesc(i));
      throw new RefitEngineError(logged.length ? logged : ['refitCudaEngine returned false (see the logger)']);
    }
    return report;
  } finally {
    refitter.dispose();
  }
}

async function setWeights(backend: Backend, refitter: Refitter, source: RefitSource, logger: Logger, options: RefitEngineOptions): Promise<RefitReport> {
  const weights = refitter.getAllWeights().length;
  if ('recipe' in source) {
    const report = await applyRecipe(refitter, source.recipe, safetensorsWeightsSource(await openSafetensors(source.safetensors)), logger);
    const reasons = [...report.errors, ...(report.notInRecipe.length ? [`engine weights the recipe does not cover: ${report.notInRecipe.join(', ')}`] : [])];
    if (reasons.length) throw new RefitEngineError(reasons);
    return { weights, fromCheckpoint: report.set.length, matched: [], unmatchedCheckpoint: report.unusedSources, unmatchedModel: [] };
  }
  const parserRefitter = backend.createParserRefitter(refitter, logger);
  if (options.onProgress) parserRefitter.onProgress = options.onProgress;
  if (!source.safetensors) {
    if (!(await parserRefitter.refitFromFile(source.onnx))) throw new RefitEngineError(errorsOf(parserRefitter));
    return { weights, fromCheckpoint: 0, matched: [], unmatchedCheckpoint: [], unmatchedModel: [] };
  }
  const onnxBytes = await readRegularFile(source.onnx, (what) => new TrtRefitError(TrtRefitErrorCode.INVALID_MODEL, `${source.onnx} is ${what}, not an ONNX model`));
  if (!(await parserRefitter.loadModelProto(onnxBytes, source.onnx))) throw new RefitEngineError(errorsOf(parserRefitter));
  const checkpoint = await openSafetensors(source.safetensors);
  // Checkpoint names often differ from the model's: derive the map (names, map, content, unique shapes).
  const model = parseOnnxModel(onnxBytes, { modelPath: source.onnx });
  const matching = await matchCheckpoint(model, checkpoint, source.map ?? {});
  const dims = new Map(model.tensors().map((t) => [t.name, t]));
  let fromCheckpoint = 0;
  for (const m of matching.matches) {
    let data = await checkpoint.read(m.checkpoint);
    const t = dims.get(m.initializer)!;
    if (m.transpose) data = transpose2d(data, t.dims[1]!, t.dims[0]!, data.length / (t.count || 1));
    if (parserRefitter.loadInitializer(m.initializer, data)) fromCheckpoint++;
    else logger.log(Severity.WARNING, `${m.checkpoint} -> ${m.initializer} was refused (see the errors)`);
  }
  if (!(await parserRefitter.refitModelProto())) throw new RefitEngineError(errorsOf(parserRefitter));
  return { weights, fromCheckpoint, matched: matching.matches, unmatchedCheckpoint: matching.unmatchedCheckpoint, unmatchedModel: matching.unmatchedModel };
}
