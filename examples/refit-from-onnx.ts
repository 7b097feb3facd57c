/**
 * ACCEPTANCE C — refit a stripped engine straight from ONNX with the parser refitter: from bytes in memory
 * (external data found through `modelPath`), then a fine-tune applied from a safetensors checkpoint onto the
 * model's structure (`loadModelProto` + `loadInitializer` + `refitModelProto`, TensorRT 10.13+), and a model that
 * is not the engine's refused with the names that differ.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { BuilderFlag, maxRelativeError, readNpy, type CudaEngine } from '@trt-refit/core';
import { openSafetensors } from '@trt-refit/onnx';
import { createMockBackend } from '@trt-refit/mock-backend';

const fixture = (p: string) => fileURLToPath(new URL(`../fixtures/${p}`, import.meta.url));

export async function main(log: (line: string) => void = console.log): Promise<boolean> {
  const backend = createMockBackend();
  const builder = backend.createBuilder();
  const network = builder.createNetwork();
  if (!(await backend.createOnnxParser(network).parseFromFile(fixture('convbn/convbn_a.onnx')))) return false;
  const config = builder.createBuilderConfig();
  config.setFlags([BuilderFlag.STRIP_PLAN, BuilderFlag.REFIT]); // all weights stripped, and refittable with any values
  const engine = await backend.createRuntime().deserializeCudaEngine(await builder.buildSerializedNetwork(network, config));
  const input = readNpy(await readFile(fixture('convbn/input.npy')));
  const logits = async (e: CudaEngine) => Object.values(await e.createExecutionContext().execute({ input }))[0]!.data as Float32Array;
  const expected = async (name: string) => readNpy(await readFile(fixture(`convbn/${name}`))).data as Float32Array;

  // 1. From bytes in memory: the model keeps its weights in convbn_a_ext.weights, found beside modelPath.
  const refitter = backend.createRefitter(engine);
  const parserRefitter = backend.createParserRefitter(refitter);
  const modelPath = fixture('convbn/convbn_a_ext.onnx');
  if (!(await parserRefitter.refitFromBytes(await readFile(modelPath), modelPath))) return false;
  if (!(await refitter.refitCudaEngine())) return false;
  const errA = maxRelativeError(await logits(engine), await expected('logits_a.npy'));
  log(`refitFromBytes (external data beside modelPath): ${refitter.getAllWeights().length} weights, outputs match A (max rel err ${errA.toExponential(2)})`);

  // 2. A fine-tune from a checkpoint: the model's structure, the checkpoint's values. One parser refitter takes one
  //    model in its life (TensorRT: "A model was previously parsed!"), so this is a new one.
  const fineTune = backend.createParserRefitter(refitter);
  if (!(await fineTune.loadModelProto(await readFile(fixture('convbn/convbn_a.onnx'))))) return false;
  const checkpoint = await openSafetensors(fixture('convbn/convbn_b.safetensors'));
  let loaded = 0;
  for (const t of checkpoint.tensors) if (fineTune.loadInitializer(t.name, await checkpoint.read(t.name))) loaded++;
  if (!(await fineTune.refitModelProto()) || !(await refitter.refitCudaEngine())) return false;
  const errB = maxRelativeError(await logits(engine), await expected('logits_b.npy'));
  log(`loadModelProto + ${loaded} × loadInitializer (safetensors) + refitModelProto: outputs match B (max rel err ${errB.toExponential(2)})`);

  // 3. Another model: refused, naming what does not fit (TensorRT stops at the first weight that does not fit;
  //    weights set before it stay set, so do not refit after a refusal).
  const other = backend.createParserRefitter(refitter);
  const refused = !(await other.refitFromFile(fixture('tinyxf/tinyxf_a.onnx')));
  log(`another model refused: ${refused} — ${other.getError(0)?.desc.slice(0, 100) ?? ''}…`);
  return errA <= 1e-5 && errB <= 1e-5 && loaded > 0 && refused;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = (await main()) ? 0 : 1;
