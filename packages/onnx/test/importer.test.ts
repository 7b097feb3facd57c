import { describe, expect, it } from 'vitest';
import { DataType, NetworkDefinition, WeightsRole, hostBytes } from '@trt-refit/core';
import { importOnnxModel, openOnnxModel, parseOnnxModel, writeOnnxModel, generatedWeightName } from '@trt-refit/onnx';
import { fixture, f32 } from './helpers.js';

async function importFixture(path: string) {
  const network = new NetworkDefinition();
  const result = await importOnnxModel(await openOnnxModel(fixture(path)), network);
  return { network, ...result };
}

describe('importer (TensorRT ONNX parser naming)', () => {
  it('convbn_a: Conv weights on the Conv layers, BN folded into Scale layers under generated names, Gemm weights as constants', async () => {
    const { network, errors } = await importFixture('convbn/convbn_a.onnx');
    expect(errors).toEqual([]);
    expect(network.inputs).toEqual([{ name: 'input', dtype: DataType.FLOAT, dims: ['batch', 3, 16, 16] }]);
    expect(network.outputs.map((o) => o.name)).toEqual(['logits']);
    const byName = new Map(network.weightsEntries().map((e) => [e.name, e]));
    expect(byName.get('c1.weight')).toMatchObject({ role: WeightsRole.KERNEL, dims: [8, 3, 3, 3], named: true });
    expect(byName.get('c1.bias')).toMatchObject({ role: WeightsRole.BIAS });
    expect(byName.get('c2.weight')).toMatchObject({ role: WeightsRole.KERNEL });
    expect(byName.get('fc.weight')).toMatchObject({ role: WeightsRole.CONSTANT, dims: [10, 16] });
    expect(byName.get('tmp_batch_norm_weight')).toMatchObject({ role: WeightsRole.SCALE, dims: [8] });
    expect(byName.get('tmp_batch_norm_weight_1')).toMatchObject({ role: WeightsRole.SHIFT, dims: [8] });
    expect(byName.get('tmp_batch_norm_weight_2')).toMatchObject({ role: WeightsRole.SCALE, dims: [16] });
    for (const bn of ['b1.weight', 'b1.running_mean', 'b2.running_var']) expect(byName.has(bn)).toBe(false);
    const scales = network.layers.filter((l) => l.type === 'Scale');
    expect(scales).toHaveLength(2);
    expect(scales[0]!.inputs).toEqual(['/c1/Conv_output_0']);
    const conv = network.layers.find((l) => l.type === 'Conv')!;
    expect(conv.inputs).toEqual(['input']);
    expect(conv.attributes.kernel_shape).toEqual([3, 3]);
    expect(network.layers.filter((l) => l.type === 'Constant').length).toBe(5); // 3 GELU constants + fc.weight + fc.bias
  });

  it('Conv weights are views into the model (no copy)', async () => {
    const model = await openOnnxModel(fixture('convbn/convbn_a.onnx'));
    const network = new NetworkDefinition();
    await importOnnxModel(model, network);
    const w = network.weightsEntries().find((e) => e.name === 'c1.weight')!.weights;
    expect(Buffer.from(hostBytes(w)).equals(Buffer.from(await model.readTensor(model.tensors()[0]!)))).toBe(true);
    expect((w.values as Uint8Array).buffer).toBe((await model.readTensor(model.tensors()[0]!)).buffer);
  });

  it('folds BatchNormalization exactly: scale = gamma / sqrt(var + eps), shift = beta - mean * scale', async () => {
    const c = 3;
    const gamma = [1, 2, 0.5];
    const beta = [0.1, -0.2, 0.3];
    const mean = [0.5, 1, -1];
    const variance = [4, 0.25, 1];
    const { model } = writeOnnxModel({
      inputs: [{ name: 'x', elemType: 1, dims: ['N', c, 2, 2] }],
      outputs: [{ name: 'y', elemType: 1, dims: ['N', c, 2, 2] }],
      nodes: [{ opType: 'BatchNormalization', inputs: ['x', 'g', 'b', 'm', 'v'], outputs: ['y'], attributes: { epsilon: { float: 0.01 } } }],
      initializers: [
        { name: 'g', dataType: 1, dims: [c], raw: f32(...gamma) },
        { name: 'b', dataType: 1, dims: [c], raw: f32(...beta) },
        { name: 'm', dataType: 1, dims: [c], raw: f32(...mean) },
        { name: 'v', dataType: 1, dims: [c], raw: f32(...variance) },
      ],
    });
    const network = new NetworkDefinition();
    expect((await importOnnxModel(parseOnnxModel(model), network)).errors).toEqual([]);
    const e = new Map(network.weightsEntries().map((x) => [x.name, x.weights]));
    const scale = Array.from(e.get('tmp_batch_norm_weight')!.values as Float32Array);
    const shift = Array.from(e.get('tmp_batch_norm_weight_1')!.values as Float32Array);
    for (let k = 0; k < c; k++) {
      const s = gamma[k]! / Math.sqrt(variance[k]! + 0.01);
      expect(scale[k]).toBeCloseTo(s, 6);
      expect(shift[k]).toBeCloseTo(beta[k]! - mean[k]! * s, 6);
    }
  });

  it('converts DOUBLE to FLOAT (clamped, with a warning) and UINT8 to INT32', async () => {
    const d = new Float64Array([1.5, 1e300, -1e300]);
    const { model } = writeOnnxModel({
      nodes: [{ opType: 'Add', inputs: ['d', 'u'], outputs: ['y'] }],
      initializers: [
        { name: 'd', dataType: 11, dims: [3], raw: new Uint8Array(d.buffer) },
        { name: 'u', dataType: 2, dims: [2], raw: new Uint8Array([7, 255]) },
      ],
    });
    const warnings: string[] = [];
    const network = new NetworkDefinition();
    await importOnnxModel(parseOnnxModel(model), network, { onWarning: (w) => warnings.push(w) });
    const e = new Map(network.weightsEntries().map((x) => [x.name, x.weights]));
    expect(e.get('d')!.type).toBe(DataType.FLOAT);
    expect(Array.from(e.get('d')!.values as Float32Array)).toEqual([1.5, 3.4028234663852886e38, -3.4028234663852886e38]);
    expect(warnings.join()).toMatch(/2 DOUBLE value\(s\) clamped/);
    expect(e.get('u')).toMatchObject({ type: DataType.INT32, count: 2 });
    expect(Array.from(e.get('u')!.values as Int32Array)).toEqual([7, 255]);
  });

  it('names every unsupported node, and still names the weights they use', async () => {
    const { model } = writeOnnxModel({
      nodes: [
        { opType: 'LSTM', name: 'lstm0', inputs: ['x', 'W'], outputs: ['a'] },
        { opType: 'Relu', inputs: ['a'], outputs: ['b'] },
        { opType: 'NonMaxSuppression', name: 'nms', inputs: ['b'], outputs: ['c'] },
        { opType: 'If', name: 'if0', inputs: ['c'], outputs: ['d'] },
      ],
      initializers: [{ name: 'W', dataType: 1, dims: [2], raw: f32(1, 2) }],
    });
    const network = new NetworkDefinition();
    const { errors } = await importOnnxModel(parseOnnxModel(model), network);
    expect(errors.map((e) => [e.code, e.nodeName, e.nodeOperator])).toEqual([
      ['UNSUPPORTED_NODE', 'lstm0', 'LSTM'],
      ['UNSUPPORTED_NODE', 'nms', 'NonMaxSuppression'],
      ['UNSUPPORTED_NODE', 'if0', 'If'],
    ]);
    expect(network.weightsEntries().map((e) => e.name)).toEqual(['W']);
  });

  it('tinyxf: every node imports; Constant outputs name their weights', async () => {
    const { network, errors } = await importFixture('tinyxf/tinyxf_a.onnx');
    expect(errors).toEqual([]);
    expect(network.inputs).toEqual([{ name: 'ids', dtype: DataType.INT64, dims: [2, 7] }]);
    const names = network.weightsEntries().map((e) => e.name);
    expect(names).toContain('emb.weight');
    expect(names).toContain('attn.in_proj_weight');
    expect(names.length).toBe(12 + 60);
    expect(network.layers.filter((l) => l.type !== 'Constant').length).toBe(107); // one layer per non-Constant node
  });

  it('imports the dynamo export of convbn (Gelu op, folded BN)', async () => {
    const { network, errors } = await importFixture('convbn/convbn_a_dynamo.onnx');
    expect(errors).toEqual([]);
    expect(network.layers.some((l) => l.type === 'Gelu')).toBe(true);
  });

  it('generated names skip names already taken', () => {
    const taken = new Set(['tmp_weight', 'tmp_weight_1']);
    expect(generatedWeightName('tmp_weight', taken)).toBe('tmp_weight_2');
    expect(generatedWeightName('other', taken)).toBe('other');
  });

  it('reads ConstantOfShape values into the layer attribute', async () => {
    const { model } = writeOnnxModel({ nodes: [{ opType: 'ConstantOfShape', name: 'cos', inputs: ['s'], outputs: ['y'], attributes: { value: { tensor: { name: 'v', dataType: 1, dims: [1], raw: f32(0.5) } } } }] });
    const network = new NetworkDefinition();
    await importOnnxModel(parseOnnxModel(model), network);
    expect(network.layers[0]!.attributes.value).toEqual([0.5]);
  });
});
