import { writeFile } from 'node:fs/promises';
import { type Command } from 'commander';
import { NEWEST_KNOWN_TENSORRT, recipeToJson, type RefitRecord } from '@trt-refit/core';
import { ONNX_DTYPES, openOnnxModel, refitRecipe, writeRecipeWeights } from '@trt-refit/onnx';
import { selectBackend } from '../backend.js';
import { ExitCode, type CliIo } from '../io.js';
import { deserializePlanFile } from '../plan-io.js';
import type { CommandModule } from '../program.js';

interface RecipeOptions {
  tensorrtVersion?: string;
  engine?: string;
  backend: string;
  out?: string;
  weightsOut?: string;
  json?: boolean;
}

const describeRecord = (r: RefitRecord) =>
  `${r.trtName}\t${r.kind}\t${ONNX_DTYPES[r.onnxDtype]?.name ?? r.onnxDtype} -> ${r.trtDtype}[${r.count}]\t${r.fixedData ? `(${r.fixedData.byteLength} bytes in the recipe)` : r.sourceOnnxNames.join(', ')}${r.epsilon !== undefined ? `\teps=${r.epsilon}` : ''}`;

/**
 * `trt-refit recipe <model.onnx>`: the refit recipe of a model (TensorRT's `RefitRecord`s, named by the parser rules of
 * `--tensorrt-version`, or of `--engine`'s version and only its refittable weights), and with `--weights-out` the
 * source initializers as safetensors: with a weight-stripped plan, everything a client needs to refit without ONNX.
 */
export async function recipeCommandAction(io: CliIo, modelPath: string, opts: RecipeOptions): Promise<number> {
  let tensorrtVersion = opts.tensorrtVersion;
  let refittable: string[] | undefined;
  if (opts.engine) {
    const backend = await selectBackend(opts.backend, tensorrtVersion ? { tensorrtVersion } : {});
    const engine = await deserializePlanFile(backend, opts.engine, {});
    refittable = backend.createRefitter(engine).getAllWeights();
    tensorrtVersion ??= backend.tensorrtVersion;
  }
  const model = await openOnnxModel(modelPath);
  const recipe = await refitRecipe(model, { tensorrtVersion: tensorrtVersion ?? NEWEST_KNOWN_TENSORRT, ...(refittable ? { refittable } : {}) });
  if (opts.out) await writeFile(opts.out, recipeToJson(recipe, 1));
  const weightsBytes = opts.weightsOut ? await writeRecipeWeights(model, recipe, opts.weightsOut) : undefined;
  if (opts.json) {
    io.stdout((opts.out ? JSON.stringify({ recipe: opts.out, records: recipe.records.length, tensorrtVersion: recipe.tensorrtVersion, ...(opts.weightsOut ? { weights: opts.weightsOut, weightsBytes } : {}) }) : recipeToJson(recipe)) + '\n');
    return ExitCode.OK;
  }
  io.stdout(`refit recipe of ${modelPath} for TensorRT ${recipe.tensorrtVersion}${refittable ? ` (the ${refittable.length} refittable weights of ${opts.engine})` : ' (every candidate weight)'}: ${recipe.records.length} records\n`);
  for (const r of recipe.records) io.stdout(`  ${describeRecord(r)}\n`);
  if (opts.out) io.stdout(`wrote ${opts.out}\n`);
  if (opts.weightsOut) io.stdout(`wrote ${opts.weightsOut} (${weightsBytes} bytes)\n`);
  return ExitCode.OK;
}

export const recipeCommand: CommandModule = {
  register(program: Command, io: CliIo, setExit) {
    program
      .command('recipe')
      .description('the refit recipe of an ONNX model (IRefitterObserver records), and the weights it reads as safetensors')
      .argument('<model>', 'ONNX model')
      .option('--tensorrt-version <version>', `TensorRT version whose parser names the weights (default: the engine's, else ${NEWEST_KNOWN_TENSORRT})`)
      .option('--engine <plan>', 'only the refittable weights of this plan')
      .option('--backend <name>', 'backend that reads --engine', 'mock')
      .option('--out <recipe.json>', 'write the recipe here')
      .option('--weights-out <file.safetensors>', 'write the initializers the recipe reads here')
      .option('--json', 'the recipe (or, with --out, a summary) as JSON on stdout')
      .action(async (model: string, opts: RecipeOptions) => setExit(await recipeCommandAction(io, model, opts)));
  },
};
