/**
 * ACCEPTANCE A — refit: build a refittable engine from model A, hot-swap model B's weights, check the outputs.
 * Run: `pnpm exec vitest run --project cli examples` (the tests run every example), or `npx tsx examples/<file>.ts`.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { BuilderFlag, maxRelativeError, readNpy } from '@trt-refit/core';
import { createMockBackend } from '@trt-refit/mock-backend';

const fixture = (p: string) => fileURLToPath(new URL(`../fixtures/convbn/${p}`, import.meta.url));

export async function main(log: (line: string) => void = console.log): Promise<boolean> {
  const backend = createMockBackend();
  const builder = backend.createBuilder();
  const network = builder.createNetwork();
  await backend.createOnnxParser(network).parseFromFile(fixture('convbn_a.onnx'));
  const config = builder.createBuilderConfig();
  config.setFlag(BuilderFlag.REFIT);
  const engine = await backend.createRuntime().deserializeCudaEngine(await builder.buildSerializedNetwork(network, config));

  const refitter = backend.createRefitter(engine);
  // Change one weight: the engine fused it with others, which must be supplied too.
  const proto = refitter.getWeightsPrototype('c1.weight');
  refitter.setNamedWeights('c1.weight', { type: proto.type, values: new Float32Array(proto.count), count: proto.count });
  log(`missing after setting c1.weight: ${refitter.getMissingWeights().join(', ')}`);
  refitter.unsetNamedWeights('c1.weight');

  // Apply a whole fine-tune from its ONNX file, then refit.
  await backend.createParserRefitter(refitter).refitFromFile(fixture('convbn_b.onnx'));
  const ok = await refitter.refitCudaEngine();
  const input = readNpy(await readFile(fixture('input.npy')));
  const out = Object.values(await engine.createExecutionContext().execute({ input }))[0]!.data as Float32Array;
  const err = maxRelativeError(out, readNpy(await readFile(fixture('logits_b.npy'))).data as Float32Array);
  log(`refit ${ok ? 'succeeded' : 'failed'}; max relative error vs model B's outputs: ${err.toExponential(2)}`);
  return ok && err <= 1e-5;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = (await main()) ? 0 : 1;
