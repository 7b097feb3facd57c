// One public API, the same answer from every backend: a table of good and bad calls run against the mock and
// against the native adapter (over the fake addon); outcomes (value, or error class and code) must be equal.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BuilderFlag, DataType, SerializationFlag, TensorLocation, type Backend, type BuilderConfig, type CudaEngine, type ParserRefitter, type Refitter, type Runtime } from '@trt-refit/core';
import { createMockBackend } from '@trt-refit/mock-backend';
import { onnxAsFakeModel } from './fake-binding.js';
import { setup } from './helpers.js';

const model = fileURLToPath(new URL('../../../fixtures/convbn/convbn_a.onnx', import.meta.url));
const f32 = (n: number) => ({ type: DataType.FLOAT, values: new Float32Array(n), count: n });

interface World {
  backend: Backend;
  config: BuilderConfig;
  runtime: Runtime;
  engine: CudaEngine;
  refitter: Refitter;
  parserRefitter: ParserRefitter;
}

async function world(backend: Backend): Promise<World> {
  const builder = backend.createBuilder();
  const network = builder.createNetwork();
  expect(await backend.createOnnxParser(network).parseFromFile(model)).toBe(true);
  const config = builder.createBuilderConfig();
  config.setFlag(BuilderFlag.REFIT);
  const runtime = backend.createRuntime();
  const engine = await runtime.deserializeCudaEngine(await builder.buildSerializedNetwork(network, config));
  const refitter = backend.createRefitter(engine);
  return { backend, config, runtime, engine, refitter, parserRefitter: backend.createParserRefitter(refitter) };
}

type Call = [string, (w: World) => unknown];
const CALLS: Call[] = [
  ['config.setFlag(BOGUS)', (w) => w.config.setFlag('BOGUS' as BuilderFlag)],
  ['config.setFlag(42)', (w) => w.config.setFlag(42 as unknown as BuilderFlag)],
  ['config.clearFlag(BOGUS)', (w) => w.config.clearFlag('BOGUS' as BuilderFlag)],
  ['config.getFlag(BOGUS)', (w) => w.config.getFlag('BOGUS' as BuilderFlag)],
  ['config.setFlags(null)', (w) => w.config.setFlags(null as never)],
  ['config.setFlags([REFIT, BOGUS])', (w) => w.config.setFlags([BuilderFlag.REFIT, 'BOGUS' as BuilderFlag])],
  ['config.setFlags([STRIP_PLAN]) then getFlags', (w) => (w.config.setFlags([BuilderFlag.STRIP_PLAN]), w.config.getFlags())],
  ['config.getFlag(REFIT)', (w) => w.config.getFlag(BuilderFlag.REFIT)],
  ['setNamedWeights(42, w)', (w) => w.refitter.setNamedWeights(42 as unknown as string, f32(216))],
  ['setNamedWeights(name, w, BOGUS)', (w) => w.refitter.setNamedWeights('c1.weight', f32(216), 'BOGUS' as TensorLocation)],
  ['setNamedWeights(name, null)', (w) => w.refitter.setNamedWeights('c1.weight', null as never)],
  ['setNamedWeights(name, { type: FLOAT64 })', (w) => w.refitter.setNamedWeights('c1.weight', { type: 'FLOAT64' as DataType, values: new Float32Array(1), count: 1 })],
  ['setNamedWeights(name, { count: "1" })', (w) => w.refitter.setNamedWeights('c1.weight', { type: DataType.FLOAT, values: new Float32Array(1), count: '1' as never })],
  ['setNamedWeights(unknown name)', (w) => w.refitter.setNamedWeights('no.such.weight', f32(4))],
  ['setNamedWeights(wrong count)', (w) => w.refitter.setNamedWeights('c1.weight', f32(215))],
  ['setNamedWeights(wrong type)', (w) => w.refitter.setNamedWeights('c1.weight', { type: DataType.HALF, values: new Uint16Array(216), count: 216 })],
  ['setNamedWeights(empty name)', (w) => w.refitter.setNamedWeights('', f32(216))],
  ['setNamedWeights(4096-byte name)', (w) => w.refitter.setNamedWeights('x'.repeat(4096), f32(216))],
  ['setNamedWeights(host values, DEVICE)', (w) => w.refitter.setNamedWeights('c1.weight', f32(216), TensorLocation.DEVICE)],
  ['setNamedWeights(good)', (w) => w.refitter.setNamedWeights('c1.weight', f32(216))],
  ['getWeightsPrototype(c1.weight)', (w) => w.refitter.getWeightsPrototype('c1.weight')],
  ['getWeightsPrototype(unknown).count', (w) => w.refitter.getWeightsPrototype('no.such.weight').count],
  ['getWeightsPrototype(7)', (w) => w.refitter.getWeightsPrototype(7 as never)],
  ['getNamedWeights(1)', (w) => w.refitter.getNamedWeights(1 as never)],
  ['getWeightsLocation(1)', (w) => w.refitter.getWeightsLocation(1 as never)],
  ['unsetNamedWeights(unknown)', (w) => w.refitter.unsetNamedWeights('no.such.weight')],
  ['unsetNamedWeights(null)', (w) => w.refitter.unsetNamedWeights(null as never)],
  ['getAllWeights() sorted', (w) => [...w.refitter.getAllWeights()].sort()],
  ['setMaxThreads("2")', (w) => w.refitter.setMaxThreads('2' as never)],
  ['setWeightsValidation("yes")', (w) => w.refitter.setWeightsValidation('yes' as never)],
  ['setErrorRecorder(5)', (w) => w.refitter.setErrorRecorder(5 as never)],
  ['setWeights(layer, BOGUS role, w)', (w) => w.refitter.setWeights('l', 'BOGUS' as never, f32(1))],
  ['refitCudaEngineAsync(null)', (w) => w.refitter.refitCudaEngineAsync(null as never)],
  ['parserRefitter.refitFromFile(3)', (w) => w.parserRefitter.refitFromFile(3 as never)],
  ['parserRefitter.refitFromBytes("x")', (w) => w.parserRefitter.refitFromBytes('x' as never)],
  ['parserRefitter.loadInitializer(5, data)', (w) => w.parserRefitter.loadInitializer(5 as never, new Uint8Array(4))],
  ['parserRefitter.setRefitObserver({})', (w) => w.parserRefitter.setRefitObserver({} as never)],
  ['parserRefitter.setRefitObserver(null) on 10.16', (w) => w.parserRefitter.setRefitObserver(null)],
  ['runtime.deserializeCudaEngine("x")', (w) => w.runtime.deserializeCudaEngine('x' as never)],
  ['runtime.setEngineHostCodeAllowed(1)', (w) => w.runtime.setEngineHostCodeAllowed(1 as never)],
  ['runtime.loadRuntime(5)', (w) => w.runtime.loadRuntime(5 as never)],
  ['serializationConfig.setFlag(BOGUS)', (w) => w.engine.createSerializationConfig().setFlag('BOGUS' as SerializationFlag)],
  ['serializationConfig.setFlags([EXCLUDE_WEIGHTS]) then getFlags', (w) => {
    const c = w.engine.createSerializationConfig();
    c.setFlags([SerializationFlag.EXCLUDE_WEIGHTS]);
    return c.getFlags();
  }],
  ['engine.isRefittable()', (w) => w.engine.isRefittable()],
  ['backend.createRefitter(null)', (w) => w.backend.createRefitter(null as never)],
  ['backend.createOnnxParser(5)', (w) => w.backend.createOnnxParser(5 as never)],
  ['backend.createParserRefitter(null)', (w) => w.backend.createParserRefitter(null as never)],
];

async function outcome(f: () => unknown): Promise<unknown> {
  try {
    const v = await f();
    return { value: v === undefined ? 'undefined' : JSON.parse(JSON.stringify(v)) };
  } catch (e) {
    const err = e as Error & { code?: string };
    return { error: e instanceof TypeError ? 'TypeError' : e instanceof RangeError ? 'RangeError' : err.name, code: err.code };
  }
}

describe('parity: the mock and the native adapter answer every call alike', () => {
  it('the table of good and bad calls gives equal outcomes', async () => {
    const s = setup();
    s.binding.files.set(model, (await onnxAsFakeModel(readFileSync(model)))!);
    const native = await world(s.backend);
    const mock = await world(createMockBackend());
    const rows: { call: string; mock: unknown; native: unknown }[] = [];
    for (const [call, f] of CALLS) rows.push({ call, mock: await outcome(() => f(mock)), native: await outcome(() => f(native)) });
    if (process.env.PARITY_PRINT) console.log(rows.map((r) => `${r.call}: ${JSON.stringify(r.mock)} | ${JSON.stringify(r.native)}`).join("\n"));
    for (const r of rows) expect(r.native, r.call).toEqual(r.mock);
    // the table is not vacuous: it holds TypeErrors, TensorRT's false, and values
    expect(rows.filter((r) => (r.mock as { error?: string }).error === 'TypeError').length).toBeGreaterThan(20);
    expect(rows.filter((r) => (r.mock as { value?: unknown }).value === false).length).toBeGreaterThan(3);
  });
});
