import { Option, type Command } from 'commander';
import { MemoryLogger, SerializationFlag, parseRecipe } from '@trt-refit/core';
import { RefitEngineError, refitEngine, type RefitSource } from '@trt-refit/onnx';
import { selectBackend } from '../backend.js';
import { CliError, ExitCode, progressBar, readInputFile, readNameMap, type CliIo } from '../io.js';
import { deserializePlanFile, serializePlanFile } from '../plan-io.js';
import type { CommandModule } from '../program.js';
import { loraSummary, refitWithLora } from './lora.js';

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
  lora?: string[];
  base?: string;
}


/**
 * `trt-refit refit <plan> --onnx <model> [--safetensors <file>] --out <plan>`: sets every refittable weight,
 * refits, and writes the full plan. Refused, writing nothing, when the model does not fit the engine.
 */
export async function refitPlan(io: CliIo, planPath: string, opts: RefitOptions): Promise<number> {
  if (opts.lora?.length) return loraRefitPlan(io, planPath, opts);
  if (opts.base) throw new CliError('--base <base.safetensors> goes with --lora (it resolves adapter modules on renamed exports)', ExitCode.USAGE);
  if (!opts.onnx === !opts.recipe) throw new CliError('give the weights as --onnx <model> or as --recipe <recipe.json> --safetensors <weights> (one of them)', ExitCode.USAGE);
  if (opts.recipe && !opts.safetensors) throw new CliError('--recipe needs --safetensors <weights> (trt-refit recipe <model> --weights-out writes it)', ExitCode.USAGE);
  const backend = await selectBackend(opts.backend);
  const engine = await deserializePlanFile(backend, planPath, opts);
  const logger = new MemoryLogger();
  const source: RefitSource = opts.recipe
    ? { recipe: parseRecipe(new TextDecoder().decode(await readInputFile(opts.recipe))), safetensors: opts.safetensors! }
    : {
        onnx: opts.onnx!,
        ...(opts.safetensors ? { safetensors: opts.safetensors } : {}),
        ...(opts.map ? { map: await readNameMap(opts.map) } : {}),
      };
  // A bar on a terminal while weights are read and set (the mock's parser refitter reports each weight).
  const bar = progressBar(io, 'setting weights', opts.json);
  let report;
  try {
    report = await refitEngine(backend, engine, source, { logger, onProgress: (p) => bar.update(p.done, p.total) });
  } catch (e) {
    if (e instanceof RefitEngineError) throw new CliError(`${opts.recipe ? `${opts.recipe} + ${opts.safetensors}` : opts.onnx} do${opts.recipe ? '' : 'es'} not fit ${planPath}; nothing written:\n  ${e.reasons.join('\n  ')}`);
    throw e;
  } finally {
    bar.stop();
  }
  const written = await writeFullPlan(engine, opts);
  const summary = {
    plan: opts.out,
    weights: report.weights,
    fromCheckpoint: report.fromCheckpoint,
    bytes: written,
    refittable: !!opts.includeRefit,
    ...(opts.safetensors && !opts.recipe ? { matched: report.matched, unmatchedCheckpoint: report.unmatchedCheckpoint, unmatchedModel: report.unmatchedModel } : {}),
    ...(opts.recipe ? { recipe: { set: report.fromCheckpoint, unusedSources: report.unmatchedCheckpoint } } : {}),
  };
  if (opts.json) io.stdout(JSON.stringify(summary) + '\n');
  else {
    io.stdout(`refitted ${summary.weights} weights${opts.recipe ? ` from ${opts.recipe} + ${opts.safetensors} (no ONNX)` : opts.safetensors ? ` (${report.fromCheckpoint} from ${opts.safetensors})` : ''}; wrote ${opts.out} (${written} bytes)\n`);
    for (const m of report.matched.filter((x) => x.how !== 'name')) io.stdout(`  ${m.checkpoint} -> ${m.initializer} (by ${m.how})\n`);
    if (report.unmatchedCheckpoint.length) io.stdout(`  not used from the checkpoint: ${report.unmatchedCheckpoint.join(', ')}\n`);
    if (report.unmatchedModel.length) io.stdout(`  kept from the model: ${report.unmatchedModel.join(', ')}\n`);
  }
  return ExitCode.OK;
}

/** The full plan of a refitted engine written to `out` (INCLUDE_REFIT keeps it refittable). */
async function writeFullPlan(engine: Awaited<ReturnType<typeof deserializePlanFile>>, opts: RefitOptions): Promise<number> {
  const config = engine.createSerializationConfig();
  config.clearFlag(SerializationFlag.EXCLUDE_WEIGHTS);
  if (opts.includeRefit) config.setFlag(SerializationFlag.INCLUDE_REFIT);
  return serializePlanFile(engine, config, opts.out);
}

/** `refit <plan> --onnx <base.onnx> --lora <adapter>[:scale] … [--base <ckpt>] --out <plan>`. */
async function loraRefitPlan(io: CliIo, planPath: string, opts: RefitOptions): Promise<number> {
  if (!opts.onnx) throw new CliError('--lora needs --onnx <base.onnx>: the model the plan was built from (the adapters are merged into its weights)', ExitCode.USAGE);
  if (opts.recipe || opts.safetensors || opts.map) throw new CliError('--lora goes with --onnx and --base, not with --recipe, --safetensors or --map', ExitCode.USAGE);
  const backend = await selectBackend(opts.backend);
  const engine = await deserializePlanFile(backend, planPath, opts);
  const report = await refitWithLora(io, backend, engine, opts.onnx, opts.lora!, opts);
  const written = await writeFullPlan(engine, opts);
  if (opts.json) io.stdout(JSON.stringify({ plan: opts.out, bytes: written, refittable: !!opts.includeRefit, ...report }) + '\n');
  else {
    const n = report.merged.filter((m) => m.modules.length).length;
    io.stdout(`merged ${report.merged.reduce((s, m) => s + m.modules.length, 0)} LoRA modules into ${n} weights (${report.refits} refit${report.refits === 1 ? '' : 's'}); wrote ${opts.out} (${written} bytes)\n`);
    for (const l of loraSummary(report)) io.stdout(`${l}\n`);
  }
  if (report.unmatchedModules.length) io.stderr(`warning: ${report.unmatchedModules.length} LoRA module(s) not merged (listed above${opts.json ? ' in unmatchedModules' : ''})\n`);
  return ExitCode.OK;
}

export const refitCommand: CommandModule = {
  register(program: Command, io: CliIo, setExit) {
    program
      .command('refit')
      .description('refit a plan from an ONNX model (optionally with weights from a safetensors checkpoint, or LoRA adapters merged into it) and write the full plan')
      .argument('<plan>', 'plan file')
      .option('--onnx <model>', 'the ONNX model the plan was built from')
      .option('--recipe <recipe.json>', 'refit with no ONNX model: a recipe (trt-refit recipe) and its --safetensors weights')
      .option('--safetensors <file>', 'with --onnx: take initializer values from this checkpoint (loadModelProto + loadInitializer; names matched automatically); with --recipe: the weights the recipe reads')
      .option('--map <map.json>', 'checkpoint name → ONNX initializer name, for names automatic matching cannot derive')
      .option('--lora <adapter[:scale]>', 'with --onnx: merge this LoRA adapter (PEFT folder or .safetensors, kohya .safetensors) into the base weights, at scale (default 1); repeat for several', (v: string, acc: string[]) => [...acc, v], [] as string[])
      .option('--base <base.safetensors>', 'with --lora: the base checkpoint, to place adapter modules on an export that renamed or transposed its weights')
      .requiredOption('--out <plan>', 'refitted plan to write')
      .option('--include-refit', 'SerializationFlag.INCLUDE_REFIT: keep the written plan refittable (10.14+)')
      .addOption(new Option('--backend <name>', 'backend').choices(['mock', 'native']).default('mock'))
      .option('--allow-host-code', 'allow a version-compatible plan with an embedded lean runtime')
      .option('--lean-runtime <path>', 'deserialize through this lean runtime')
      .option('--json', 'machine-readable output')
      .action(async (plan: string, opts: RefitOptions) => setExit(await refitPlan(io, plan, opts)));
  },
};
