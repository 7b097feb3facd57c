import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Option, type Command } from 'commander';
import picocolors from 'picocolors';
import {
  BuilderFlag,
  EngineStat,
  SerializationFlag,
  hostBytes,
  maxRelativeError,
  readNpy,
  type Backend,
  type CudaEngine,
  type HostTensor,
  type NetworkDefinition,
} from '@trt-refit/core';
import { selectBackend } from '../backend.js';
import { ExitCode, colorsFor, type CliIo } from '../io.js';
import type { CommandModule } from '../program.js';

const asset = (name: string) => fileURLToPath(new URL(`../../assets/${name}`, import.meta.url));
const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

interface Check {
  step: string;
  ok: boolean;
  detail: string;
}

/**
 * The whole weight-stripping story on the bundled convbn model, step by step, with figures. Resolves to the
 * checks it made; the command exits non-zero if any failed.
 */
export async function runDemo(backend: Backend, say: (line: string) => void, pc: ReturnType<typeof colorsFor> = picocolors.createColors(false)): Promise<Check[]> {
  const checks: Check[] = [];
  const check = (step: string, ok: boolean, detail: string) => {
    checks.push({ step, ok, detail });
    say(`   ${ok ? pc.green('✓') : pc.red('✗')} ${detail}`);
  };
  const modelA = asset('convbn_a.onnx');
  const modelB = asset('convbn_b.onnx');
  const input = readNpy(new Uint8Array(await readFile(asset('input.npy'))));
  const logitsA = readNpy(new Uint8Array(await readFile(asset('logits_a.npy')))).data as Float32Array;
  const logitsB = readNpy(new Uint8Array(await readFile(asset('logits_b.npy')))).data as Float32Array;
  const run = async (engine: CudaEngine): Promise<Float32Array> => {
    const ctx = engine.createExecutionContext();
    try {
      const out: Record<string, HostTensor> = await ctx.execute({ input });
      return Object.values(out)[0]!.data as Float32Array;
    } finally {
      ctx.dispose();
    }
  };
  const parse = async (path: string, prepare?: (n: NetworkDefinition) => void) => {
    const builder = backend.createBuilder();
    const network = builder.createNetwork();
    const parser = backend.createOnnxParser(network);
    if (!(await parser.parseFromFile(path))) throw new Error(`parsing ${path} failed: ${parser.getError(0)?.desc ?? ''}`);
    prepare?.(network);
    return { builder, network };
  };
  const build = async (path: string, flags: BuilderFlag[], prepare?: (n: NetworkDefinition) => void) => {
    const { builder, network } = await parse(path, prepare);
    const config = builder.createBuilderConfig();
    config.setFlags(flags);
    const plan = await builder.buildSerializedNetwork(network, config);
    builder.dispose();
    return plan;
  };
  const runtime = backend.createRuntime();

  say(pc.bold(`trt-refit demo — backend ${backend.name}, TensorRT ${backend.tensorrtVersion}, model convbn (Conv+BN+ReLU, Conv+BN+GELU, Gemm)`));

  say(pc.bold('\n1. Build a weight-stripped plan (STRIP_PLAN) beside a full one (REFIT_IDENTICAL)'));
  const full = await build(modelA, [BuilderFlag.REFIT_IDENTICAL]);
  const stripped = await build(modelA, [BuilderFlag.STRIP_PLAN]);
  say(`   full plan ${kib(full.byteLength)}, stripped plan ${kib(stripped.byteLength)} (${(100 * (1 - stripped.byteLength / full.byteLength)).toFixed(0)}% smaller)`);
  check('stripped plan is smaller', stripped.byteLength < full.byteLength, 'the stripped plan holds no refittable weight data');

  say(pc.bold('\n2. Run the stripped engine before any refit'));
  const engine = await runtime.deserializeCudaEngine(stripped);
  say(`   weights ${kib(engine.getEngineStat(EngineStat.TOTAL_WEIGHTS_SIZE))} in all, ${kib(engine.getEngineStat(EngineStat.STRIPPED_WEIGHTS_SIZE))} stripped`);
  const zeros = await run(engine);
  check('zeros before refit', zeros.every((v) => v === 0), `all ${zeros.length} outputs are zero: the stripped weights read as zeros`);

  say(pc.bold('\n3. What the refitter knows'));
  const refitter = backend.createRefitter(engine);
  const all = refitter.getAllWeights();
  say(`   getAllWeights(): ${all.length} refittable weights: ${all.join(', ')}`);
  say(`   getMissingWeights() before anything is set: ${refitter.getMissingWeights().length} (every stripped weight)`);
  // Missing weights are clearest on an engine that is not stripped: only the fusion group of what was set.
  const fullEngine = await runtime.deserializeCudaEngine(full);
  const fullRefitter = backend.createRefitter(fullEngine);
  const probe = all.includes('c1.weight') ? 'c1.weight' : all[0]!;
  const proto = fullRefitter.getWeightsPrototype(probe);
  fullRefitter.setNamedWeights(probe, { type: proto.type, values: new Float32Array(proto.count), count: proto.count });
  const group = fullRefitter.getMissingWeights();
  say(`   on the full engine, set ${probe} alone → getMissingWeights(): ${group.join(', ')}`);
  check('fusion group', group.length > 0 && !group.includes(probe), `the engine fused ${probe} with ${group.length} other weight(s); supplying exactly those completes the set`);
  fullRefitter.dispose();
  fullEngine.dispose();

  say(pc.bold('\n4. Refit from the ONNX file (parser refitter), then refitCudaEngine()'));
  const parserRefitter = backend.createParserRefitter(refitter);
  let set = 0;
  parserRefitter.onProgress = () => set++;
  const t0 = performance.now();
  const parsed = await parserRefitter.refitFromFile(modelA);
  const refitted = parsed && (await refitter.refitCudaEngine());
  check('refit', refitted, `${set} weights set from convbn_a.onnx, refitCudaEngine() → ${refitted} in ${(performance.now() - t0).toFixed(1)} ms`);

  say(pc.bold('\n5. Verify against onnxruntime'));
  const errA = maxRelativeError(await run(engine), logitsA);
  check('outputs equal', errA <= 1e-5, `max relative error vs logits_a.npy: ${errA.toExponential(2)} (≤ 1e-5)`);

  say(pc.bold('\n6. Serialize a full plan (EXCLUDE_WEIGHTS cleared)'));
  const config = engine.createSerializationConfig();
  say(`   default serialization flags of the stripped engine: ${config.getFlags().join(', ') || '(none)'}`);
  config.clearFlag(SerializationFlag.EXCLUDE_WEIGHTS);
  const fullAgain = engine.serializeWithConfig(config);
  const reloaded = await runtime.deserializeCudaEngine(fullAgain);
  const errFull = maxRelativeError(await run(reloaded), logitsA);
  check('full plan runs without refit', errFull <= 1e-5, `full plan ${kib(fullAgain.byteLength)} runs with no refit (max rel err ${errFull.toExponential(2)}); refittable: ${reloaded.isRefittable()}`);

  say(pc.bold('\n7. Fine-grained refit (REFIT_INDIVIDUAL): mark only what a fine-tune changed'));
  const a = await parse(modelA);
  const b = await parse(modelB);
  const bWeights = new Map(b.network.weightsEntries().map((e) => [e.name, e.weights]));
  const changed = a.network.weightsEntries().filter((e) => {
    const other = bWeights.get(e.name);
    return other !== undefined && !Buffer.from(hostBytes(e.weights)).equals(Buffer.from(hostBytes(other)));
  });
  a.builder.dispose();
  b.builder.dispose();
  say(`   weights that differ between convbn_a and convbn_b: ${changed.map((e) => e.name).join(', ')}`);
  const individualPlan = await build(modelA, [BuilderFlag.REFIT_INDIVIDUAL], (n) => {
    for (const e of changed) n.markWeightsRefittable(e.name);
  });
  const individual = await runtime.deserializeCudaEngine(individualPlan);
  const refitPlan = await runtime.deserializeCudaEngine(await build(modelA, [BuilderFlag.REFIT]));
  say(`   engine layers: ${individual.getLayers().length} with REFIT_INDIVIDUAL, ${refitPlan.getLayers().length} with REFIT (fewer fusions are blocked)`);
  const r2 = backend.createRefitter(individual);
  say(`   refittable: ${r2.getAllWeights().join(', ')}`);
  const ok2 = (await backend.createParserRefitter(r2).refitFromFile(modelB)) && (await r2.refitCudaEngine());
  const errB = maxRelativeError(await run(individual), logitsB);
  check('fine-grained refit', ok2 && errB <= 1e-5, `refitted from convbn_b.onnx: max relative error vs logits_b.npy ${errB.toExponential(2)}`);

  const failed = checks.filter((c) => !c.ok);
  say(failed.length ? pc.red(`\n${failed.length} check(s) failed: ${failed.map((c) => c.step).join(', ')}`) : pc.green(`\nAll ${checks.length} checks passed.`));
  return checks;
}

/** `trt-refit demo`: what `pnpm demo` runs. */
export const demoCommand: CommandModule = {
  register(program: Command, io: CliIo, setExit) {
    program
      .command('demo')
      .description('the weight-stripping story on a bundled model: build stripped, run, refit from ONNX, verify, serialize, fine-grained refit')
      .addOption(new Option('--backend <name>', 'backend').choices(['mock', 'native']).default('mock'))
      .option('--json', 'print the checks as JSON')
      .action(async (opts: { backend: string; json?: boolean }) => {
        const backend = await selectBackend(opts.backend);
        const lines: string[] = [];
        const checks = await runDemo(backend, opts.json ? (l) => lines.push(l) : (l) => io.stdout(l + '\n'), colorsFor(io));
        if (opts.json) io.stdout(JSON.stringify({ backend: backend.name, checks }) + '\n');
        setExit(checks.every((c) => c.ok) ? ExitCode.OK : ExitCode.REFUSED);
      });
  },
};
