/**
 * ACCEPTANCE B and C — ship a weight-stripped plan, refit it on the client from the ONNX file (here with external
 * data), save a full plan that stays refittable (INCLUDE_REFIT).
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { BuilderFlag, EngineStat, SerializationFlag, maxRelativeError, readNpy } from '@trt-refit/core';
import { createMockBackend } from '@trt-refit/mock-backend';

const fixture = (p: string) => fileURLToPath(new URL(`../fixtures/convbn/${p}`, import.meta.url));

export async function main(log: (line: string) => void = console.log): Promise<boolean> {
  const backend = createMockBackend();
  // Build side: a small plan without the weights.
  const builder = backend.createBuilder();
  const network = builder.createNetwork();
  await backend.createOnnxParser(network).parseFromFile(fixture('convbn_a.onnx'));
  const config = builder.createBuilderConfig();
  config.setFlag(BuilderFlag.STRIP_PLAN);
  const stripped = await builder.buildSerializedNetwork(network, config);

  // Client side: deserialize, refit from the model (weights in an external-data file), run.
  const engine = await backend.createRuntime().deserializeCudaEngine(stripped);
  log(`stripped plan: ${stripped.byteLength} bytes; ${engine.getEngineStat(EngineStat.STRIPPED_WEIGHTS_SIZE)} bytes of weights to supply`);
  const refitter = backend.createRefitter(engine);
  const parserRefitter = backend.createParserRefitter(refitter);
  if (!(await parserRefitter.refitFromFile(fixture('convbn_a_ext.onnx')))) return false;
  if (!(await refitter.refitCudaEngine())) return false;
  const input = readNpy(await readFile(fixture('input.npy')));
  const out = Object.values(await engine.createExecutionContext().execute({ input }))[0]!.data as Float32Array;
  const err = maxRelativeError(out, readNpy(await readFile(fixture('logits_a.npy'))).data as Float32Array);

  // Cache a full plan that can still be refitted later.
  const ser = engine.createSerializationConfig();
  ser.clearFlag(SerializationFlag.EXCLUDE_WEIGHTS);
  ser.setFlag(SerializationFlag.INCLUDE_REFIT);
  const full = await backend.createRuntime().deserializeCudaEngine(engine.serializeWithConfig(ser));
  log(`outputs match the original (max rel err ${err.toExponential(2)}); full plan refittable: ${full.isRefittable()}`);
  return err <= 1e-5 && full.isRefittable();
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = (await main()) ? 0 : 1;
