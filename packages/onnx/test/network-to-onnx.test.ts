import { describe, expect, it } from 'vitest';
import { DataType, NetworkDefinition, TrtRefitErrorCode, UnsupportedFeatureError, WeightsRole, hostBytes, type Weights } from '@trt-refit/core';
import { importOnnxModel, networkToOnnx, parseOnnxModel } from '@trt-refit/onnx';

const floats = (n: number, seed: number): Weights => {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.sin(seed * 31 + i * 0.37);
  return { type: DataType.FLOAT, values: a, count: n };
};
const scalar = (v: number): Weights => ({ type: DataType.FLOAT, values: new Float32Array([v]), count: 1 });

/** Conv + the Erf form of GELU, as ACCEPTANCE E builds it by hand. */
function convGelu() {
  const net = new NetworkDefinition('10.16');
  const kernel = floats(4 * 3 * 9, 1);
  const bias = floats(4, 2);
  net.addInput('x', DataType.FLOAT, ['N', 3, 6, 6]);
  net.addLayer({ name: 'conv', type: 'Conv', inputs: ['x'], outputs: ['c'], attributes: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, weights: [
    { role: WeightsRole.KERNEL, weights: kernel, dims: [4, 3, 3, 3] },
    { role: WeightsRole.BIAS, weights: bias, dims: [4] },
  ] });
  net.addConstant('sqrt2', scalar(Math.SQRT2), []);
  net.addConstant('one', scalar(1), []);
  net.addConstant('half', scalar(0.5), []);
  net.addLayer({ name: 'div', type: 'Div', inputs: ['c', 'sqrt2'], outputs: ['d'] });
  net.addLayer({ name: 'erf', type: 'Erf', inputs: ['d'], outputs: ['e'] });
  net.addLayer({ name: 'add', type: 'Add', inputs: ['e', 'one'], outputs: ['a'] });
  net.addLayer({ name: 'mul', type: 'Mul', inputs: ['c', 'a'], outputs: ['m'] });
  net.addLayer({ name: 'mul_half', type: 'Mul', inputs: ['m', 'half'], outputs: ['y'] });
  net.markOutput('y', DataType.FLOAT, ['N', 4, 6, 6]);
  return { net, kernel, bias };
}

describe('networkToOnnx', () => {
  it('writes a hand-built network that imports back with the same weight names, bytes, layers and I/O', async () => {
    const { net, kernel } = convGelu();
    expect(net.setWeightsName(kernel, 'conv.kernel')).toBe(true);
    const bytes = networkToOnnx(net);
    const back = new NetworkDefinition('10.16');
    await importOnnxModel(parseOnnxModel(bytes), back);
    const names = (n: NetworkDefinition) => new Map(n.weightsEntries().map((e) => [e.name, Buffer.from(hostBytes(e.weights)).toString('hex')]));
    expect([...names(back).keys()].sort()).toEqual(['conv.kernel', 'conv_bias', 'half_constant', 'one_constant', 'sqrt2_constant']);
    expect(names(back)).toEqual(names(net));
    expect(back.layers.filter((l) => l.type !== 'Constant').map((l) => l.type)).toEqual(['Conv', 'Div', 'Erf', 'Add', 'Mul', 'Mul']);
    expect(back.inputs).toEqual([{ name: 'x', dtype: DataType.FLOAT, dims: ['N', 3, 6, 6] }]);
    expect(back.outputs.map((o) => o.name)).toEqual(['y']);
  });

  it('keeps float attributes floats, forwards a constant that is a network output, and a computed Conv bias', async () => {
    const net = new NetworkDefinition();
    net.addInput('x', DataType.FLOAT, [1, 2, 4, 4]);
    net.addInput('b', DataType.FLOAT, [3]);
    net.addLayer({ name: 'conv', type: 'Conv', inputs: ['x', '', 'b'], outputs: ['c'], attributes: { kernel_shape: [1, 1] }, weights: [{ role: WeightsRole.KERNEL, weights: floats(6, 3), dims: [3, 2, 1, 1] }] });
    net.addLayer({ name: 'lrelu', type: 'LeakyRelu', inputs: ['c'], outputs: ['y'], attributes: { alpha: 1 } });
    net.addConstant('k', scalar(7), [1]);
    net.markOutput('y');
    net.markOutput('k');
    const model = parseOnnxModel(networkToOnnx(net));
    const g = model.graph;
    const conv = g.node!.find((n) => n.opType === 'Conv')!;
    expect(conv.input).toEqual(['x', 'conv_kernel', 'b']);
    expect(g.node!.find((n) => n.opType === 'LeakyRelu')!.attribute![0]).toMatchObject({ name: 'alpha', type: 1, f: 1 });
    expect(g.node!.find((n) => n.opType === 'Identity')).toMatchObject({ input: ['k_constant'], output: ['k'] });
  });

  it('refuses what the parser would not rebuild under the same names, naming the layer', () => {
    const net = new NetworkDefinition();
    net.addInput('x', DataType.FLOAT, [1, 2, 4, 4]);
    net.addLayer({ name: 'bn', type: 'Scale', inputs: ['x'], outputs: ['y'], attributes: { mode: 'channel' }, weights: [
      { role: WeightsRole.SCALE, weights: floats(2, 1), dims: [2] },
      { role: WeightsRole.SHIFT, weights: floats(2, 2), dims: [2] },
    ] });
    net.markOutput('y');
    let err: unknown;
    try {
      networkToOnnx(net);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnsupportedFeatureError);
    expect((err as UnsupportedFeatureError).code).toBe(TrtRefitErrorCode.UNSUPPORTED_FEATURE);
    expect((err as Error).message).toMatch(/layer bn \(Scale\) holds SCALE, SHIFT weights/);
  });
});
