/**
 * LoRA hot-swap: build a refittable engine from a base model exported with anonymised, transposed weights
 * (`onnx::MatMul_123`), merge a PEFT adapter and a kohya adapter into it (modules placed through the base
 * checkpoint), swap to another adapter, and back to the base — checking the outputs against onnxruntime's outputs
 * of the PyTorch-merged models each time, and the base's outputs exactly at the end.
 * Run: `pnpm exec vitest run --project cli examples` (the tests run every example), or `npx tsx examples/<file>.ts`.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { BuilderFlag, maxRelativeError, readNpy } from '@trt-refit/core';
import { createMockBackend } from '@trt-refit/mock-backend';
import { LoraRefitter, openLoraAdapter } from '@trt-refit/onnx';

const fixture = (p: string) => fileURLToPath(new URL(`../fixtures/lora/${p}`, import.meta.url));

export async function main(log: (line: string) => void = console.log): Promise<boolean> {
  const backend = createMockBackend();
  const builder = backend.createBuilder();
  const network = builder.createNetwork();
  await backend.createOnnxParser(network).parseFromFile(fixture('xf_base_anon.onnx'));
  const config = builder.createBuilderConfig();
  config.setFlag(BuilderFlag.REFIT);
  const engine = await backend.createRuntime().deserializeCudaEngine(await builder.buildSerializedNetwork(network, config));

  const input = readNpy(await readFile(fixture('xf_input.npy')));
  const run = async () => (await engine.createExecutionContext().execute({ x: input })).y!.data as Float32Array;
  const expected = async (file: string) => readNpy(await readFile(fixture(file))).data as Float32Array;
  const base = await run();

  const peftA = await openLoraAdapter(fixture('xf_peft_a')); // a PEFT folder: adapter_model.safetensors + adapter_config.json
  const kohyaA = await openLoraAdapter(fixture('xf_kohya_a.safetensors')); // kohya keys, per-module alphas
  const peftB = await openLoraAdapter(fixture('xf_peft_b'));
  const lora = await LoraRefitter.open(backend, engine, fixture('xf_base_anon.onnx'), { base: fixture('xf_base.safetensors') });
  let ok = true;
  try {
    const steps = [
      { label: 'PEFT a + kohya a × 0.7', adapters: [{ adapter: peftA }, { adapter: kohyaA, scale: 0.7 }], out: 'xf_peft_a_kohya_a07_out.npy' },
      { label: 'PEFT b × 0.5', adapters: [{ adapter: peftB, scale: 0.5 }], out: 'xf_peft_b_half_out.npy' },
    ];
    for (const step of steps) {
      const report = await lora.apply(step.adapters);
      const err = maxRelativeError(await run(), await expected(step.out));
      const where = report.merged.filter((m) => m.modules.length).map((m) => `${m.modules.map((x) => x.module).join(' + ')} → ${m.weight}`);
      log(`${step.label}: ${where.length} weights merged (${where[0]}, …), max relative error vs the merged model: ${err.toExponential(2)}`);
      ok &&= err <= 1e-4 && report.unmatchedModules.length === 0;
    }
    await lora.restoreBase();
    const same = Buffer.from((await run()).buffer).equals(Buffer.from(base.buffer));
    log(`back to the base: outputs ${same ? 'identical' : 'DIFFERENT'}`);
    ok &&= same;
  } finally {
    await lora.dispose();
  }
  return ok;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = (await main()) ? 0 : 1;
