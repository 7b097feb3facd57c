import { Option, type Command } from 'commander';
import { MemoryLogger, SerializationFlag, parseRecipe, type CudaEngine, type ParserRefitter, type Refitter } from '@trt-refit/core';
import { applyRecipe, matchCheckpoint, openSafetensors, parseOnnxModel, safetensorsWeightsSource, transpose2d, type CheckpointMatching, type RecipeReport } from '@trt-refit/onnx';
import { selectBackend } from '../backend.js';
import { CliError, ExitCode, progressBar, readInputFile, type CliIo } from '../io.js';
import { deserializePlanFile, serializePlanFile } from '../plan-io.js';
import type { CommandModule } from '../program.js';

interface RefitOptions {
  onnx?: string;
  recipe?: string;
  safetensors?: string;
  map?: string;
  out: string;
  includeRefit?: boolean;
  backend: string;
  allowHostCode?: boolean;
  leanRuntime?: string;
  json?: boolean;
}

const errorsOf = (p: ParserRefitter) => Array.from({ length: p.getNbErrors() }, (_, i) => p.getError(i)!.desc);

/**
 * `trt-refit refit <plan> --onnx <model> [--safetensors <file>] --out <plan>`: sets every refittable weight,
 * refits, and writes the full plan. Refused, writing nothing, when the model does not fit the engine.
 */
export async function refitPlan(io: CliIo, planPath: string, opts: RefitOptions): Promise<number> {
  if (!opts.onnx === !opts.recipe) throw new CliError('give the weights as --onnx <model> or as --recipe <recipe.json> --safetensors <weights> (one of them)', ExitCode.USAGE);
  if (opts.recipe && !opts.safetensors) throw new CliError('--recipe needs --safetensors <weights> (trt-refit recipe <model> --weights-out writes it)', ExitCode.USAGE);
  const backend = await selectBackend(opts.backend);
  const engine = await deserializePlanFile(backend, planPath, opts);
  const logger = new MemoryLogger();
  const refitter = backend.createRefitter(engine, logger);
  const parserRefitter = backend.createParserRefitter(refitter, logger);
  // with --recipe the parser refitter is never used
  // A bar on a terminal while weights are read and set (the mock's parser refitter reports each weight).
  const bar = progressBar(io, 'setting weights', opts.json);
  parserRefitter.onProgress = (p) => bar.update(p.done, p.total);
  try {
    return await refitWith(io, planPath, opts, engine, refitter, parserRefitter, logger);
  } finally {
    bar.stop();
  }
}

async function refitWith(io: CliIo, planPath: string, opts: RefitOptions, engine: CudaEngine, refitter: Refitter, parserRefitter: ParserRefitter, logger: MemoryLogger): Promise<number> {
  let ok: boolean;
  let fromCheckpoint = 0;
  let matching: CheckpointMatching | undefined;
  let report: RecipeReport | undefined;
  if (opts.recipe) {
    // No ONNX model: each record's transform is replayed on the initializers of the weights file.
    const recipe = parseRecipe(new TextDecoder().decode(await readInputFile(opts.recipe)));
    report = await applyRecipe(refitter, recipe, safetensorsWeightsSource(await openSafetensors(opts.safetensors!)), logger);
    if (!report.ok) {
      const why = [...report.errors, ...(report.notInRecipe.length ? [`engine weights the recipe does not cover: ${report.notInRecipe.join(', ')}`] : [])];
      throw new CliError(`${opts.recipe} + ${opts.safetensors} do not fit ${planPath}; nothing written:\n  ${why.join('\n  ')}`);
    }
    fromCheckpoint = report.set.length;
    ok = true;
  } else if (opts.safetensors) {
    const onnx = opts.onnx!;
    const onnxBytes = await readInputFile(onnx);
    ok = await parserRefitter.loadModelProto(onnxBytes, onnx);
    const st = await openSafetensors(opts.safetensors);
    const map = opts.map ? (JSON.parse(new TextDecoder().decode(await readInputFile(opts.map))) as Record<string, string>) : {};
    // Checkpoint names often differ from the model's: derive the map (names, --map, content, unique shapes).
    const model = parseOnnxModel(onnxBytes, { modelPath: onnx });
    matching = await matchCheckpoint(model, st, map);
    const dims = new Map(model.tensors().map((t) => [t.name, t]));
    for (const m of matching.matches) {
      let data = await st.read(m.checkpoint);
      const t = dims.get(m.initializer)!;
      if (m.transpose) data = transpose2d(data, t.dims[1]!, t.dims[0]!, data.length / (t.count || 1));
      if (ok && parserRefitter.loadInitializer(m.initializer, data)) fromCheckpoint++;
    }
    ok = ok && (await parserRefitter.refitModelProto());
  } else {
    ok = await parserRefitter.refitFromFile(opts.onnx!);
  }
  if (!ok) throw new CliError(`${opts.onnx} does not fit ${planPath}; nothing written:\n  ${errorsOf(parserRefitter).join('\n  ')}`);
  if (!(await refitter.refitCudaEngine())) throw new CliError(`refit of ${planPath} failed; nothing written:\n  ${logger.errors().join('\n  ')}`);
  const config = engine.createSerializationConfig();
  config.clearFlag(SerializationFlag.EXCLUDE_WEIGHTS);
  if (opts.includeRefit) config.setFlag(SerializationFlag.INCLUDE_REFIT);
  const written = await serializePlanFile(engine, config, opts.out);
  const summary = {
    plan: opts.out,
    weights: refitter.getAllWeights().length,
    fromCheckpoint,
    bytes: written,
    refittable: !!opts.includeRefit,
    ...(matching ? { matched: matching.matches, unmatchedCheckpoint: matching.unmatchedCheckpoint, unmatchedModel: matching.unmatchedModel } : {}),
    ...(report ? { recipe: { set: report.set.length, notInEngine: report.notInEngine, unusedSources: report.unusedSources } } : {}),
  };
  if (opts.json) io.stdout(JSON.stringify(summary) + '\n');
  else {
    io.stdout(`refitted ${summary.weights} weights${opts.recipe ? ` from ${opts.recipe} + ${opts.safetensors} (no ONNX)` : opts.safetensors ? ` (${fromCheckpoint} from ${opts.safetensors})` : ''}; wrote ${opts.out} (${written} bytes)\n`);
    for (const m of matching?.matches.filter((x) => x.how !== 'name') ?? []) io.stdout(`  ${m.checkpoint} -> ${m.initializer} (by ${m.how})\n`);
    if (matching?.unmatchedCheckpoint.length) io.stdout(`  not used from the checkpoint: ${matching.unmatchedCheckpoint.join(', ')}\n`);
    if (matching?.unmatchedModel.length) io.stdout(`  kept from the model: ${matching.unmatchedModel.join(', ')}\n`);
  }
  return ExitCode.OK;
}

export const refitCommand: CommandModule = {
  register(program: Command, io: CliIo, setExit) {
    program
      .command('refit')
      .description('refit a plan from an ONNX model (optionally with weights from a safetensors checkpoint) and write the full plan')
      .argument('<plan>', 'plan file')
      .option('--onnx <model>', 'the ONNX model the plan was built from')
      .option('--recipe <recipe.json>', 'refit with no ONNX model: a recipe (trt-refit recipe) and its --safetensors weights')
      .option('--safetensors <file>', 'with --onnx: take initializer values from this checkpoint (loadModelProto + loadInitializer; names matched automatically); with --recipe: the weights the recipe reads')
      .option('--map <map.json>', 'checkpoint name → ONNX initializer name, for names automatic matching cannot derive')
      .requiredOption('--out <plan>', 'refitted plan to write')
      .option('--include-refit', 'SerializationFlag.INCLUDE_REFIT: keep the written plan refittable (10.14+)')
      .addOption(new Option('--backend <name>', 'backend').choices(['mock', 'native']).default('mock'))
      .option('--allow-host-code', 'allow a version-compatible plan with an embedded lean runtime')
      .option('--lean-runtime <path>', 'deserialize through this lean runtime')
      .option('--json', 'machine-readable output')
      .action(async (plan: string, opts: RefitOptions) => setExit(await refitPlan(io, plan, opts)));
  },
};
