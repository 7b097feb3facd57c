import { readFile, writeFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { MemoryLogger, SerializationFlag, type ParserRefitter } from '@trt-refit/core';
import { openSafetensors } from '@trt-refit/onnx';
import { selectBackend } from '../backend.js';
import { CliError, ExitCode, type CliIo } from '../io.js';
import { deserializePlanFile } from '../plan-io.js';
import type { CommandModule } from '../program.js';

interface RefitOptions {
  onnx: string;
  safetensors?: string;
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
  const backend = await selectBackend(opts.backend);
  const engine = await deserializePlanFile(backend, planPath, opts);
  const logger = new MemoryLogger();
  const refitter = backend.createRefitter(engine, logger);
  const parserRefitter = backend.createParserRefitter(refitter, logger);
  let ok: boolean;
  let fromCheckpoint = 0;
  if (opts.safetensors) {
    ok = await parserRefitter.loadModelProto(new Uint8Array(await readFile(opts.onnx)), opts.onnx);
    const st = await openSafetensors(opts.safetensors);
    for (const t of st.tensors) if (ok && parserRefitter.loadInitializer(t.name, await st.read(t.name))) fromCheckpoint++;
    parserRefitter.clearErrors(); // checkpoint tensors the model does not have are not an error here
    ok = ok && (await parserRefitter.refitModelProto());
  } else {
    ok = await parserRefitter.refitFromFile(opts.onnx);
  }
  if (!ok) throw new CliError(`${opts.onnx} does not fit ${planPath}; nothing written:\n  ${errorsOf(parserRefitter).join('\n  ')}`);
  if (!(await refitter.refitCudaEngine())) throw new CliError(`refit of ${planPath} failed; nothing written:\n  ${logger.errors().join('\n  ')}`);
  const config = engine.createSerializationConfig();
  config.clearFlag(SerializationFlag.EXCLUDE_WEIGHTS);
  if (opts.includeRefit) config.setFlag(SerializationFlag.INCLUDE_REFIT);
  const out = engine.serializeWithConfig(config);
  await writeFile(opts.out, out);
  const summary = { plan: opts.out, weights: refitter.getAllWeights().length, fromCheckpoint, bytes: out.byteLength, refittable: !!opts.includeRefit };
  if (opts.json) io.stdout(JSON.stringify(summary) + '\n');
  else io.stdout(`refitted ${summary.weights} weights${opts.safetensors ? ` (${fromCheckpoint} from ${opts.safetensors})` : ''}; wrote ${opts.out} (${out.byteLength} bytes)\n`);
  return ExitCode.OK;
}

export const refitCommand: CommandModule = {
  register(program: Command, io: CliIo, setExit) {
    program
      .command('refit')
      .description('refit a plan from an ONNX model (optionally with weights from a safetensors checkpoint) and write the full plan')
      .argument('<plan>', 'plan file')
      .requiredOption('--onnx <model>', 'the ONNX model the plan was built from')
      .option('--safetensors <file>', 'take initializer values from this checkpoint (loadModelProto + loadInitializer)')
      .requiredOption('--out <plan>', 'refitted plan to write')
      .option('--include-refit', 'SerializationFlag.INCLUDE_REFIT: keep the written plan refittable (10.14+)')
      .addOption(new Option('--backend <name>', 'backend').choices(['mock', 'native']).default('mock'))
      .option('--allow-host-code', 'allow a version-compatible plan with an embedded lean runtime')
      .option('--lean-runtime <path>', 'deserialize through this lean runtime')
      .option('--json', 'machine-readable output')
      .action(async (plan: string, opts: RefitOptions) => setExit(await refitPlan(io, plan, opts)));
  },
};
