import { writeFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { BuilderFlag, MemoryLogger, type BuilderFlag as Flag } from '@trt-refit/core';
import { selectBackend } from '../backend.js';
import { CliError, ExitCode, type CliIo } from '../io.js';
import type { CommandModule } from '../program.js';

interface BuildOptions {
  out: string;
  refit?: boolean;
  refitIdentical?: boolean;
  refitIndividual?: string;
  strip?: boolean;
  versionCompatible?: boolean;
  excludeLeanRuntime?: boolean;
  backend: string;
  tensorrtVersion?: string;
  json?: boolean;
}

/** `trt-refit build <model.onnx> --out <plan> [flags]`: parses the model and builds a (stripped, refittable) plan. */
export async function buildPlan(io: CliIo, model: string, opts: BuildOptions): Promise<number> {
  const modes = [opts.refit, opts.refitIdentical, opts.refitIndividual !== undefined].filter(Boolean).length;
  if (modes > 1) throw new CliError('--refit, --refit-identical and --refit-individual exclude each other (REFIT_INDIVIDUAL cannot be combined with REFIT or REFIT_IDENTICAL)', ExitCode.USAGE);
  const flags: Flag[] = [];
  if (opts.refit) flags.push(BuilderFlag.REFIT);
  if (opts.refitIdentical) flags.push(BuilderFlag.REFIT_IDENTICAL);
  if (opts.refitIndividual !== undefined) flags.push(BuilderFlag.REFIT_INDIVIDUAL);
  if (opts.strip) flags.push(BuilderFlag.STRIP_PLAN);
  if (opts.versionCompatible) flags.push(BuilderFlag.VERSION_COMPATIBLE);
  if (opts.excludeLeanRuntime) flags.push(BuilderFlag.EXCLUDE_LEAN_RUNTIME);
  const backend = await selectBackend(opts.backend, opts.tensorrtVersion ? { tensorrtVersion: opts.tensorrtVersion } : {});
  const logger = new MemoryLogger();
  const builder = backend.createBuilder(logger);
  try {
    const network = builder.createNetwork();
    const parser = backend.createOnnxParser(network, logger);
    if (!(await parser.parseFromFile(model))) {
      const errors = Array.from({ length: parser.getNbErrors() }, (_, i) => parser.getError(i)!.desc);
      throw new CliError(`${model} cannot be built:\n  ${errors.join('\n  ')}`);
    }
    const marked = (opts.refitIndividual ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const unknown = marked.filter((n) => !network.markWeightsRefittable(n));
    if (unknown.length) throw new CliError(`--refit-individual: no refittable weights named ${unknown.join(', ')} (see trt-refit inspect ${model})`);
    const config = builder.createBuilderConfig();
    config.setFlags(flags);
    const plan = await builder.buildSerializedNetwork(network, config);
    await writeFile(opts.out, plan);
    const summary = { plan: opts.out, backend: backend.name, tensorrtVersion: backend.tensorrtVersion, builderFlags: flags, bytes: plan.byteLength, warnings: logger.messages.filter((m) => m.severity === 'WARNING').map((m) => m.message) };
    if (opts.json) io.stdout(JSON.stringify(summary) + '\n');
    else {
      io.stdout(`wrote ${opts.out} (${plan.byteLength} bytes; flags ${flags.join(', ') || 'none'})\n`);
      for (const w of summary.warnings) io.stderr(`warning: ${w}\n`); // warnings go to stderr, results to stdout
    }
    return ExitCode.OK;
  } finally {
    builder.dispose();
  }
}

export const buildCommand: CommandModule = {
  register(program: Command, io: CliIo, setExit) {
    program
      .command('build')
      .description('build a plan from an ONNX model (refittable and/or weight-stripped)')
      .argument('<model>', 'ONNX model')
      .requiredOption('--out <plan>', 'plan file to write')
      .option('--refit', 'BuilderFlag.REFIT: every weight refittable')
      .option('--refit-identical', 'BuilderFlag.REFIT_IDENTICAL: refit with identical weights (full speed)')
      .option('--refit-individual <names>', 'BuilderFlag.REFIT_INDIVIDUAL with these weights marked refittable (comma-separated)')
      .option('--strip', 'BuilderFlag.STRIP_PLAN: leave the refittable weights out of the plan')
      .option('--version-compatible', 'BuilderFlag.VERSION_COMPATIBLE')
      .option('--exclude-lean-runtime', 'BuilderFlag.EXCLUDE_LEAN_RUNTIME (with --version-compatible)')
      .addOption(new Option('--backend <name>', 'backend').choices(['mock', 'native']).default('mock'))
      .option('--tensorrt-version <version>', 'TensorRT version the mock emulates')
      .option('--json', 'machine-readable output')
      .action(async (model: string, opts: BuildOptions) => setExit(await buildPlan(io, model, opts)));
  },
};
