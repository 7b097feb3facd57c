// Real exported models (fixtures/models, scripts/export-fixtures.py with PyTorch on the GPU machine): a transformer
// block, a UNet-style block (ConvTranspose, Resize, Concat), an LSTM and a GRU, a Q/DQ-quantized conv net, and a
// TorchScript model with If and Loop. Each builds as a refittable plan and runs like onnxruntime, and survives
// build --strip -> refit from the ONNX model -> run with the same outputs.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BuilderFlag, readNpy, type Backend, type HostTensor } from '@trt-refit/core';
import { createMockBackend } from '@trt-refit/mock-backend';

const dir = fileURLToPath(new URL('../../../fixtures/models/', import.meta.url));
const meta = JSON.parse(readFileSync(`${dir}models.json`, 'utf8')) as { models: Record<string, { inputs: string[]; outputs: string[]; ops: string[] }> };

async function build(backend: Backend, model: string, flags: BuilderFlag[]) {
  const builder = backend.createBuilder();
  const network = builder.createNetwork();
  const parser = backend.createOnnxParser(network);
  expect(await parser.parseFromFile(model), parser.getError(0)?.desc).toBe(true);
  const config = builder.createBuilderConfig();
  config.setFlags(flags);
  return backend.createRuntime().deserializeCudaEngine(await builder.buildSerializedNetwork(network, config));
}

describe('real exported models on the mock, against onnxruntime', () => {
  it.each(Object.entries(meta.models))('%s', async (name, m) => {
    const model = `${dir}${name}.onnx`;
    const inputs: Record<string, HostTensor> = Object.fromEntries(m.inputs.map((i) => [i, readNpy(readFileSync(`${dir}${name}.${i}.npy`))]));
    const expectClose = (out: Record<string, HostTensor>) => {
      for (const o of m.outputs) {
        const want = readNpy(readFileSync(`${dir}${name}.out.${o}.npy`)).data as Float32Array;
        const got = out[o]!.data as Float32Array;
        expect(got.length, o).toBe(want.length);
        got.forEach((v, k) => expect(Math.abs(v - want[k]!), `${name} ${o}[${k}]: ${v} vs ${want[k]}`).toBeLessThanOrEqual(1e-3 * Math.max(1, Math.abs(want[k]!))));
      }
    };
    const backend = createMockBackend();
    const refittable = await build(backend, model, [BuilderFlag.REFIT]);
    expect(backend.createRefitter(refittable).getAllWeights().length).toBeGreaterThan(0);
    expectClose(await refittable.createExecutionContext().execute(inputs));
    // weight-stripped, then refitted from the model: the same outputs
    const stripped = await build(backend, model, [BuilderFlag.STRIP_PLAN]);
    const refitter = backend.createRefitter(stripped);
    const parserRefitter = backend.createParserRefitter(refitter);
    expect(await parserRefitter.refitFromFile(model), parserRefitter.getError(0)?.desc).toBe(true);
    expect(await refitter.refitCudaEngine()).toBe(true);
    expectClose(await stripped.createExecutionContext().execute(inputs));
  });
});
