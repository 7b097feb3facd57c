/**
 * ACCEPTANCE D — ship a version-compatible, weight-stripped plan without the lean runtime inside
 * (`VERSION_COMPATIBLE` + `EXCLUDE_LEAN_RUNTIME` + `STRIP_PLAN`); on the client, load it through the lean runtime
 * library of the matching version (`runtime.loadRuntime(path)`), then refit it from the ONNX file.
 *
 * With TensorRT the lean runtime is `libnvinfer_lean.so.<major>`; the mock writes a stand-in file for its version.
 */
import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BuilderFlag, isTrtRefitError, maxRelativeError, readNpy } from '@trt-refit/core';
import { createMockBackend, writeLeanRuntime } from '@trt-refit/mock-backend';

const fixture = (p: string) => fileURLToPath(new URL(`../fixtures/convbn/${p}`, import.meta.url));

export async function main(log: (line: string) => void = console.log): Promise<boolean> {
  const backend = createMockBackend({ tensorrtVersion: '10.16' });
  const builder = backend.createBuilder();
  const network = builder.createNetwork();
  if (!(await backend.createOnnxParser(network).parseFromFile(fixture('convbn_a.onnx')))) return false;
  const config = builder.createBuilderConfig();
  config.setFlags([BuilderFlag.VERSION_COMPATIBLE, BuilderFlag.EXCLUDE_LEAN_RUNTIME, BuilderFlag.STRIP_PLAN]);
  const plan = await builder.buildSerializedNetwork(network, config);
  log(`version-compatible stripped plan without the lean runtime: ${plan.byteLength} bytes`);

  // A plain runtime cannot run it: the plan's engine code lives in the lean runtime it left out.
  const runtime = backend.createRuntime();
  runtime.setEngineHostCodeAllowed(true);
  const refused = await runtime.deserializeCudaEngine(plan).then(() => undefined, (e: unknown) => e);
  log(`plain runtime: ${isTrtRefitError(refused) ? `${refused.code}: ${refused.message}` : 'accepted (unexpected)'}`);
  if (!isTrtRefitError(refused)) return false;

  // The lean runtime of the matching version loads it; it refits like any stripped engine.
  const leanPath = join(mkdtempSync(join(tmpdir(), 'trt-refit-lean-')), 'libnvinfer_lean.so.10');
  await writeLeanRuntime(leanPath, '10.16');
  const lean = await runtime.loadRuntime(leanPath);
  const engine = await lean.deserializeCudaEngine(plan);
  const refitter = backend.createRefitter(engine);
  if (!(await backend.createParserRefitter(refitter).refitFromFile(fixture('convbn_a.onnx')))) return false;
  if (!(await refitter.refitCudaEngine())) return false;
  const input = readNpy(await readFile(fixture('input.npy')));
  const out = Object.values(await engine.createExecutionContext().execute({ input }))[0]!.data as Float32Array;
  const err = maxRelativeError(out, readNpy(await readFile(fixture('logits_a.npy'))).data as Float32Array);
  log(`through loadRuntime: refitted ${refitter.getAllWeights().length} weights; outputs match the original (max rel err ${err.toExponential(2)})`);
  return err <= 1e-5;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = (await main()) ? 0 : 1;
