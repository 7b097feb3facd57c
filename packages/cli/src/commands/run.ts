import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { EngineStat, hasFeature, readNpy, writeNpy, type CudaEngine, type HostTensor } from '@trt-refit/core';
import { selectBackend } from '../backend.js';
import { deserializePlanFile } from '../plan-io.js';
import { CliError, ExitCode, readInputFile, type CliIo } from '../io.js';
import type { CommandModule } from '../program.js';

interface RunOptions {
  input: string[];
  outputDir: string;
  json?: boolean;
  backend: string;
  allowHostCode?: boolean;
  leanRuntime?: string;
  allowStripped?: boolean;
}

/** True when the engine still misses weights stripped from its plan (its outputs would be zeros). */
function strippedAndNotRefitted(engine: CudaEngine, tensorrtVersion: string): boolean {
  if (!hasFeature(tensorrtVersion, 'ICudaEngine.getEngineStat')) return false;
  return engine.getEngineStat(EngineStat.STRIPPED_WEIGHTS_SIZE) > 0;
}

function parseInputs(specs: string[]): { name: string; file: string }[] {
  return specs.map((spec) => {
    const eq = spec.indexOf('=');
    if (eq <= 0 || eq === spec.length - 1) throw new CliError(`--input takes <name>=<file.npy>, received ${JSON.stringify(spec)}`, ExitCode.USAGE);
    return { name: spec.slice(0, eq), file: spec.slice(eq + 1) };
  });
}

/** Runs a plan on .npy inputs and writes each output as `<dir>/<output name>.npy`. */
export async function runPlan(io: CliIo, planPath: string, opts: RunOptions): Promise<number> {
  const inputs = parseInputs(opts.input);
  const backend = await selectBackend(opts.backend);
  const engine = await deserializePlanFile(backend, planPath, opts);
  if (strippedAndNotRefitted(engine, backend.tensorrtVersion)) {
    if (!opts.allowStripped) {
      engine.dispose();
      throw new CliError(`${planPath} is weight-stripped and was not refitted: its outputs would be zeros. Refit it first (trt-refit refit ${planPath} --onnx <model> --out <plan>) or pass --allow-stripped`);
    }
    io.stderr(`warning: ${planPath} is weight-stripped and was not refitted: the outputs are zeros\n`);
  }
  const tensors: Record<string, HostTensor> = {};
  for (const { name, file } of inputs) tensors[name] = readNpy(await readInputFile(file));
  const context = engine.createExecutionContext();
  try {
    const outputs = await context.execute(tensors);
    await mkdir(opts.outputDir, { recursive: true });
    const written: { name: string; file: string; dims: readonly number[] }[] = [];
    for (const [name, tensor] of Object.entries(outputs)) {
      const safe = name.replace(/[^A-Za-z0-9._-]/g, '_');
      const file = join(opts.outputDir, `${safe}.npy`);
      await writeFile(file, writeNpy(tensor));
      written.push({ name, file, dims: tensor.dims });
    }
    if (opts.json) io.stdout(JSON.stringify({ plan: planPath, backend: backend.name, outputs: written }) + '\n');
    else for (const w of written) io.stdout(`${w.name} [${w.dims.join(', ')}] -> ${w.file}\n`);
    return ExitCode.OK;
  } finally {
    context.dispose();
    engine.dispose();
  }
}

/** `trt-refit run <plan> --input <name>=<file.npy> ... --output-dir <dir>`. */
export const runCommand: CommandModule = {
  register(program: Command, io: CliIo, setExit) {
    program
      .command('run')
      .description('run a plan on .npy inputs (float32 or int64) and write each output as <dir>/<output>.npy')
      .argument('<plan>', 'plan file')
      .requiredOption('--input <name=file.npy>', 'an input tensor (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
      .requiredOption('--output-dir <dir>', 'folder for the outputs')
      .addOption(new Option('--backend <name>', 'backend').choices(['mock', 'native']).default('mock'))
      .option('--allow-host-code', 'allow a version-compatible plan with an embedded lean runtime')
      .option('--lean-runtime <path>', 'deserialize through this lean runtime (plans built with EXCLUDE_LEAN_RUNTIME)')
      .option('--allow-stripped', 'run a weight-stripped plan that was not refitted (its outputs are zeros)')
      .option('--json', 'machine-readable output')
      .action(async (plan: string, opts: RunOptions) => setExit(await runPlan(io, plan, opts)));
  },
};
