import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DataType,
  MemoryLogger,
  NetworkDefinition,
  RefitState,
  TensorLocation,
  hostBytes,
  type CudaEngine,
  type Refitter,
  type WeightInventory,
  type Weights,
} from '@trt-refit/core';
import { OnnxParserRefitter, TsOnnxParser, importOnnxModel, openOnnxModel, openSafetensors, writeOnnxModel, weightSources } from '@trt-refit/onnx';
import { fixture, fixtureBytes, f32, tmp } from './helpers.js';

/** A refitter over core's state machine, for an engine whose weights are those of an imported network (all stripped). */
async function fakeRefitter(modelPath: string, stripped = true): Promise<{ refitter: Refitter; state: RefitState }> {
  const network = new NetworkDefinition();
  await importOnnxModel(await openOnnxModel(modelPath), network);
  const weights = network.weightsEntries()
    .filter((e) => e.weights.type === DataType.FLOAT)
    .map((e) => ({ name: e.name, dtype: e.weights.type, count: e.weights.count, dims: e.dims, role: e.role, layer: e.layer }));
  const inventory: WeightInventory = { weights, fusionGroups: [], stripped: stripped ? weights.map((w) => w.name) : [] };
  const state = new RefitState(inventory, { logger: new MemoryLogger() });
  const refitter = new Proxy(state, {
    get: (t, p) => (p === 'engine' ? ({} as CudaEngine) : p === 'disposed' ? false : p === 'dispose' ? () => {} : (t as unknown as Record<string | symbol, unknown>)[p] instanceof Function ? ((t as unknown as Record<string | symbol, (...a: unknown[]) => unknown>)[p] as (...a: unknown[]) => unknown).bind(t) : (t as unknown as Record<string | symbol, unknown>)[p]),
  }) as unknown as Refitter;
  return { refitter, state };
}
const errorsOf = (p: OnnxParserRefitter) => Array.from({ length: p.getNbErrors() }, (_, i) => p.getError(i)!.desc).join('\n');

describe('OnnxParserRefitter', () => {
  it('refitFromFile sets every refittable weight (BN folds included) and reports progress', async () => {
    const { refitter, state } = await fakeRefitter(fixture('convbn/convbn_a.onnx'));
    const p = new OnnxParserRefitter(refitter);
    const seen: string[] = [];
    p.onProgress = (e) => seen.push(`${e.done}/${e.total}`);
    expect(await p.refitFromFile(fixture('convbn/convbn_a.onnx')), errorsOf(p)).toBe(true);
    expect(state.getMissingWeights()).toEqual([]);
    expect(seen.at(-1)).toBe(`${state.getAllWeights().length}/${state.getAllWeights().length}`);
    expect(state.getAllWeights()).toContain('tmp_batch_norm_weight_3');
    expect(state.planRefit().ok).toBe(true);
  });

  it('sets the same values as the importer built (B over an A engine gives B values)', async () => {
    const { refitter, state } = await fakeRefitter(fixture('convbn/convbn_a.onnx'));
    expect(await new OnnxParserRefitter(refitter).refitFromFile(fixture('convbn/convbn_b.onnx'))).toBe(true);
    const b = new NetworkDefinition();
    await importOnnxModel(await openOnnxModel(fixture('convbn/convbn_b.onnx')), b);
    for (const e of b.weightsEntries()) {
      expect(Buffer.from(hostBytes(state.getNamedWeights(e.name))).equals(Buffer.from(hostBytes(e.weights))), e.name).toBe(true);
    }
  });

  it('weightSources names weights exactly as the importer does', async () => {
    for (const f of ['convbn/convbn_a.onnx', 'tinyxf/tinyxf_a.onnx', 'convbn/convbn_a_dynamo.onnx']) {
      const model = await openOnnxModel(fixture(f));
      const network = new NetworkDefinition();
      await importOnnxModel(model, network);
      expect(weightSources(model).map((s) => s.name).sort()).toEqual(network.weightsEntries().map((e) => e.name).sort());
    }
  });

  it('works through external data, from a file and from bytes + modelPath', async () => {
    const { refitter, state } = await fakeRefitter(fixture('convbn/convbn_a.onnx'));
    expect(await new OnnxParserRefitter(refitter).refitFromFile(fixture('convbn/convbn_a_ext.onnx'))).toBe(true);
    expect(state.getMissingWeights()).toEqual([]);
    const second = await fakeRefitter(fixture('convbn/convbn_a.onnx'));
    const p = new OnnxParserRefitter(second.refitter);
    expect(await p.refitFromBytes(fixtureBytes('convbn/convbn_a_ext.onnx'), fixture('convbn/convbn_a_ext.onnx')), errorsOf(p)).toBe(true);
    const third = await fakeRefitter(fixture('convbn/convbn_a.onnx'));
    const q = new OnnxParserRefitter(third.refitter);
    expect(await q.refitFromBytes(fixtureBytes('convbn/convbn_a_ext.onnx'))).toBe(false);
    expect(errorsOf(q)).toMatch(/convbn_a_ext\.weights does not exist/);
  });

  it('streams external tensors through streamTo, one at a time, and sets what it returns', async () => {
    const { refitter, state } = await fakeRefitter(fixture('convbn/convbn_a.onnx'));
    const uploaded: string[] = [];
    const device = (bytes: Uint8Array) => ({ byteLength: bytes.byteLength, deviceId: -1, disposed: false, upload() {}, uploadAsync: async () => {}, download: () => bytes.slice(), downloadAsync: async () => bytes.slice(), dispose() {} });
    const p = new OnnxParserRefitter(refitter, undefined, {
      streamTo: (name, w) => {
        uploaded.push(name);
        return { weights: { type: w.type, values: device(hostBytes(w)), count: w.count }, location: 'DEVICE' };
      },
    });
    expect(await p.refitFromFile(fixture('convbn/convbn_a_ext.onnx')), errorsOf(p)).toBe(true);
    // the five Conv/Gemm initializers come from external data; BN parameters are folded on the host
    expect(uploaded.sort()).toEqual(['c1.bias', 'c1.weight', 'c2.weight', 'fc.bias', 'fc.weight']);
    for (const n of uploaded) expect(state.getWeightsLocation(n)).toBe(TensorLocation.DEVICE);
  });

  it('loadModelProto + loadInitializer (from safetensors) + refitModelProto applies a checkpoint', async () => {
    const { refitter, state } = await fakeRefitter(fixture('convbn/convbn_a.onnx'));
    const p = new OnnxParserRefitter(refitter);
    expect(p.loadInitializer('c1.weight', new Uint8Array(4))).toBe(false); // nothing loaded yet
    expect(await p.loadModelProto(fixtureBytes('convbn/convbn_a.onnx'))).toBe(true);
    expect(await p.loadModelProto(fixtureBytes('convbn/convbn_a.onnx'))).toBe(false); // one at a time
    const st = await openSafetensors(fixture('convbn/convbn_b.safetensors'));
    for (const t of st.tensors) if (t.dtype === 'F32') p.loadInitializer(t.name, await st.read(t.name));
    expect(p.loadInitializer('c1.weight', new Uint8Array(3))).toBe(false); // wrong size
    expect(p.loadInitializer('nope', new Uint8Array(4))).toBe(false);
    expect(await p.refitModelProto(), errorsOf(p)).toBe(true);
    const b = new NetworkDefinition();
    await importOnnxModel(await openOnnxModel(fixture('convbn/convbn_b.onnx')), b);
    for (const e of b.weightsEntries()) expect(Buffer.from(hostBytes(state.getNamedWeights(e.name))).equals(Buffer.from(hostBytes(e.weights))), e.name).toBe(true);
    expect(await p.refitModelProto()).toBe(false); // the model was consumed
  });

  it('a model that does not fit is refused naming what is missing or mismatched', async () => {
    const { refitter } = await fakeRefitter(fixture('convbn/convbn_a.onnx'));
    const p = new OnnxParserRefitter(refitter);
    expect(await p.refitFromFile(fixture('tinyxf/tinyxf_a.onnx'))).toBe(false);
    expect(errorsOf(p)).toMatch(/Only successfully refitted \d+ weights out of \d+; not in the model: .*c1\.weight/);
    const dir = tmp();
    const { model } = writeOnnxModel({ nodes: [{ opType: 'Identity', inputs: ['c1.weight'], outputs: ['y'] }], initializers: [{ name: 'c1.weight', dataType: 1, dims: [2], raw: f32(1, 2) }] });
    writeFileSync(join(dir, 'm.onnx'), model);
    p.clearErrors();
    expect(await p.refitFromFile(join(dir, 'm.onnx'))).toBe(false);
    expect(errorsOf(p)).toMatch(/c1\.weight: the model has FLOAT\[2\] but the engine was built with FLOAT\[216\]/);
  });

  it('unreadable models and missing files are errors, not exceptions', async () => {
    const { refitter } = await fakeRefitter(fixture('convbn/convbn_a.onnx'));
    const p = new OnnxParserRefitter(refitter);
    expect(await p.refitFromFile('/nonexistent/model.onnx')).toBe(false);
    expect(await p.refitFromBytes(new Uint8Array([1, 2, 3]))).toBe(false);
    expect(p.getNbErrors()).toBe(2);
    expect(p.getError(0)?.code).toBe('MODEL_DESERIALIZE_FAILED');
  });

  it('an engine with no refittable weights needs nothing', async () => {
    const state = new RefitState({ weights: [], fusionGroups: [], stripped: [] });
    expect(await new OnnxParserRefitter(state as unknown as Refitter).refitFromFile(fixture('convbn/convbn_a.onnx'))).toBe(true);
  });

  it('external data outside the folder fails the refit naming the tensor', async () => {
    const dir = tmp();
    copyFileSync(fixture('convbn/convbn_a_ext.weights'), join(dir, 'convbn_a_ext.weights'));
    const bytes = Buffer.from(fixtureBytes('convbn/convbn_a_ext.onnx'));
    const patched = Buffer.from(bytes.toString('latin1').split('convbn_a_ext.weights').join('../convbn_a_ext.weig'), 'latin1');
    writeFileSync(join(dir, 'm.onnx'), patched);
    const { refitter } = await fakeRefitter(fixture('convbn/convbn_a.onnx'));
    const p = new OnnxParserRefitter(refitter);
    expect(await p.refitFromFile(join(dir, 'm.onnx'))).toBe(false);
    expect(errorsOf(p)).toMatch(/tensor c1\.weight: external data location "\.\.\/convbn_a_ext\.weig" contains "\.\."/);
  });
});

describe('TsOnnxParser', () => {
  it('parses the fixtures into a network and reports errors for damaged input', async () => {
    const network = new NetworkDefinition();
    const parser = new TsOnnxParser(network);
    expect(await parser.parseFromFile(fixture('convbn/convbn_a.onnx'))).toBe(true);
    expect(network.layers.length).toBeGreaterThan(5);
    const bad = new TsOnnxParser(new NetworkDefinition());
    expect(await bad.parse(new Uint8Array([0xff, 0xff]))).toBe(false);
    expect(await bad.parseFromFile('/nonexistent.onnx')).toBe(false);
    expect(bad.getNbErrors()).toBe(2);
    bad.clearErrors();
    expect(bad.getNbErrors()).toBe(0);
  });
  it('reports every unsupported node', async () => {
    const { model } = writeOnnxModel({ nodes: [{ opType: 'Foo', inputs: [], outputs: ['a'] }, { opType: 'Bar', inputs: ['a'], outputs: ['b'] }] });
    const parser = new TsOnnxParser(new NetworkDefinition());
    expect(await parser.parse(model)).toBe(false);
    expect([parser.getError(0)?.nodeOperator, parser.getError(1)?.nodeOperator]).toEqual(['Foo', 'Bar']);
  });
});

export type { Weights };
