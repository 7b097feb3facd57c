/**
 * ACCEPTANCE E — fine-grained refit: mark only the weights a fine-tune changes (REFIT_INDIVIDUAL), so the rest keeps
 * full-speed fusions, then apply the fine-tune.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { BuilderFlag, maxRelativeError, readNpy } from '@trt-refit/core';
import { createMockBackend } from '@trt-refit/mock-backend';

const fixture = (p: string) => fileURLToPath(new URL(`../fixtures/convbn/${p}`, import.meta.url));

export async function main(log: (line: string) => void = console.log): Promise<boolean> {
  const backend = createMockBackend();
  const build = async (flags: BuilderFlag[], mark: string[]) => {
    const builder = backend.createBuilder();
    const network = builder.createNetwork();
    await backend.createOnnxParser(network).parseFromFile(fixture('convbn_a.onnx'));
    for (const name of mark) network.markWeightsRefittable(name);
    const config = builder.createBuilderConfig();
    config.setFlags(flags);
    return backend.createRuntime().deserializeCudaEngine(await builder.buildSerializedNetwork(network, config));
  };
  const individual = await build([BuilderFlag.REFIT_INDIVIDUAL], ['fc.weight', 'fc.bias', 'c1.weight', 'c1.bias', 'tmp_refittable_weight', 'tmp_refittable_weight_0']);
  const everything = await build([BuilderFlag.REFIT], []);
  log(`layers: ${individual.getLayers().length} with REFIT_INDIVIDUAL, ${everything.getLayers().length} with REFIT`);
  const refitter = backend.createRefitter(individual);
  log(`refittable: ${refitter.getAllWeights().join(', ')}`);
  const ok = (await backend.createParserRefitter(refitter).refitFromFile(fixture('convbn_b.onnx'))) && (await refitter.refitCudaEngine());
  const input = readNpy(await readFile(fixture('input.npy')));
  const out = Object.values(await individual.createExecutionContext().execute({ input }))[0]!.data as Float32Array;
  const err = maxRelativeError(out, readNpy(await readFile(fixture('logits_b.npy'))).data as Float32Array);
  log(`fine-tune applied: ${ok}; max rel err vs model B: ${err.toExponential(2)}`);
  return ok && err <= 1e-5;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = (await main()) ? 0 : 1;
