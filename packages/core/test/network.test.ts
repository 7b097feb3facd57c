import { describe, expect, it } from 'vitest';
import { DataType, NetworkDefinition, WeightsRole, TrtRefitErrorCode, defaultWeightsName, type Weights } from '@trt-refit/core';

const f32 = (n: number, values = new Float32Array(n)): Weights => ({ type: DataType.FLOAT, values, count: n });

function net(version = '10.16') {
  const n = new NetworkDefinition(version);
  const kernel = f32(8);
  const bias = f32(2);
  n.addInput('x', DataType.FLOAT, ['N', 1, 4, 4]);
  n.addLayer({ name: 'conv', type: 'Conv', inputs: ['x'], outputs: ['y'], weights: [
    { role: WeightsRole.KERNEL, weights: kernel, dims: [2, 1, 2, 2] },
    { role: WeightsRole.BIAS, weights: bias, dims: [2] },
  ] });
  n.markOutput('y');
  return { n, kernel, bias };
}

describe('NetworkDefinition: setWeightsName (INetworkDefinition::setWeightsName)', () => {
  it('names weights used in the network', () => {
    const { n, kernel } = net();
    expect(n.setWeightsName(kernel, 'k')).toBe(true);
    expect(n.getWeightsName(kernel)).toBe('k');
  });
  it('is associative: another Weights object with the same pointer, type and count gets the same name', () => {
    const { n, kernel } = net();
    const alias: Weights = { type: DataType.FLOAT, values: new Float32Array((kernel.values as Float32Array).buffer), count: 8 };
    expect(n.setWeightsName(alias, 'k')).toBe(true);
    expect(n.getWeightsName(kernel)).toBe('k');
  });
  it('a view at another offset of the same buffer is other weights', () => {
    const { n, kernel } = net();
    const other: Weights = { type: DataType.FLOAT, values: new Float32Array((kernel.values as Float32Array).buffer, 4, 7), count: 7 };
    expect(n.setWeightsName(other, 'k')).toBe(false);
  });
  it('refuses weights that are not used in the network', () => {
    expect(net().n.setWeightsName(f32(3), 'free')).toBe(false);
  });
  it('refuses a matching pointer with another type or count', () => {
    const { n, kernel } = net();
    expect(n.setWeightsName({ type: DataType.FLOAT, values: kernel.values, count: 4 } as Weights, 'k')).toBe(false);
    expect(n.setWeightsName({ type: DataType.INT32, values: kernel.values, count: 8 } as Weights, 'k')).toBe(false);
  });
  it('refuses a name already used for other weights, and allows renaming the same weights', () => {
    const { n, kernel, bias } = net();
    expect(n.setWeightsName(kernel, 'k')).toBe(true);
    expect(n.setWeightsName(bias, 'k')).toBe(false);
    expect(n.setWeightsName(kernel, 'k2')).toBe(true);
    expect(n.setWeightsName(bias, 'k')).toBe(true); // free again
  });
  it('null makes the weights unnamed again (default name <layer>_<role>)', () => {
    const { n, kernel } = net();
    n.setWeightsName(kernel, 'k');
    expect(n.setWeightsName(kernel, null)).toBe(true);
    expect(n.getWeightsName(kernel)).toBe(defaultWeightsName('conv', WeightsRole.KERNEL));
    expect(n.getWeightsName(kernel)).toBe('conv_kernel');
  });
  it('refuses empty and over-long names', () => {
    const { n, kernel } = net();
    expect(n.setWeightsName(kernel, '')).toBe(false);
    expect(n.setWeightsName(kernel, 'x'.repeat(4096))).toBe(false);
  });
  it('lists weights with names, roles, layers and dims', () => {
    const { n, kernel } = net();
    n.setWeightsName(kernel, 'k');
    expect(n.weightsEntries().map((e) => [e.name, e.named, e.role, e.layer, e.dims])).toEqual([
      ['k', true, 'KERNEL', 'conv', [2, 1, 2, 2]],
      ['conv_bias', false, 'BIAS', 'conv', [2]],
    ]);
  });
  it('addLayer refuses malformed weights with a typed error', () => {
    const n = new NetworkDefinition();
    expect(() => n.addLayer({ type: 'Conv', outputs: ['y'], weights: [{ role: WeightsRole.KERNEL, weights: { type: DataType.FLOAT, values: new Float32Array(1), count: 2 }, dims: [2] }] })).toThrow(
      expect.objectContaining({ code: TrtRefitErrorCode.INVALID_ARGUMENT }),
    );
  });
  it('gives layers unique names', () => {
    const n = new NetworkDefinition();
    const a = n.addLayer({ name: 'relu', type: 'Relu', inputs: ['x'], outputs: ['a'] });
    const b = n.addLayer({ name: 'relu', type: 'Relu', inputs: ['a'], outputs: ['b'] });
    const c = n.addLayer({ type: 'Relu', inputs: ['b'], outputs: ['c'] });
    expect(new Set([a.name, b.name, c.name]).size).toBe(3);
  });
});

describe('NetworkDefinition: every weight has a name of its own', () => {
  it('a given name takes precedence over another weight\'s default name, which gets a suffix', () => {
    const n = new NetworkDefinition();
    const a = f32(2);
    const b = f32(3);
    n.addConstant('x', a, [2], 'A');
    n.addConstant('y', b, [3], 'B');
    expect(n.setWeightsName(b, 'A_constant')).toBe(true);
    expect(n.getWeightsName(b)).toBe('A_constant');
    expect(n.getWeightsName(a)).toBe('A_constant_1');
    expect(n.weightsEntries().map((e) => [e.name, e.named])).toEqual([['A_constant_1', false], ['A_constant', true]]);
  });
  it('a default name that a given name already holds gets a suffix', () => {
    const n = new NetworkDefinition();
    const a = f32(2);
    const b = f32(3);
    n.addConstant('x', a, [2], 'A');
    expect(n.setWeightsName(a, 'B_constant')).toBe(true);
    n.addConstant('y', b, [3], 'B');
    expect(n.getWeightsName(b)).toBe('B_constant_1');
  });
  it('two weights of one role in one layer get distinct names', () => {
    const n = new NetworkDefinition();
    const a = f32(2);
    const b = f32(3);
    n.addLayer({ name: 'L', type: 'X', outputs: ['o'], weights: [{ role: WeightsRole.ANY, weights: a, dims: [2] }, { role: WeightsRole.ANY, weights: b, dims: [3] }] });
    expect(n.weightsEntries().map((e) => e.name)).toEqual(['L_any', 'L_any_1']);
  });
  it('a displaced default name keeps its mark on the weights', () => {
    const n = new NetworkDefinition();
    const a = f32(2);
    const b = f32(3);
    n.addConstant('x', a, [2], 'A');
    n.addConstant('y', b, [3], 'B');
    expect(n.markWeightsRefittable('A_constant')).toBe(true);
    n.setWeightsName(b, 'A_constant');
    expect(n.areWeightsMarkedRefittable('A_constant')).toBe(false);
    expect(n.areWeightsMarkedRefittable('A_constant_1')).toBe(true);
  });
  it('unnaming returns to the default name, or a suffixed one when it was taken meanwhile', () => {
    const n = new NetworkDefinition();
    const a = f32(2);
    const b = f32(3);
    n.addConstant('x', a, [2], 'A');
    n.addConstant('y', b, [3], 'B');
    n.setWeightsName(a, 'k');
    n.setWeightsName(b, 'A_constant');
    expect(n.setWeightsName(a, null)).toBe(true);
    expect(n.getWeightsName(a)).toBe('A_constant_1');
    expect(n.setWeightsName(a, null)).toBe(true); // already unnamed
  });
  it('empty weights (null values) are told apart by identity', () => {
    const n = new NetworkDefinition();
    const e: Weights = { type: DataType.FLOAT, values: null, count: 0 };
    n.addConstant('x', e, [0], 'E');
    expect(n.setWeightsName(e, 'e')).toBe(true);
    expect(n.setWeightsName({ ...e }, 'e2')).toBe(false);
    expect(n.getWeightsName(e)).toBe('e');
  });
  it('a pointer used with two counts is two weights, neither of which can be named', () => {
    const n = new NetworkDefinition();
    const buf = new Float32Array(4);
    const w4: Weights = { type: DataType.FLOAT, values: buf, count: 4 };
    const w2: Weights = { type: DataType.FLOAT, values: buf.subarray(0, 2), count: 2 };
    n.addConstant('x', w4, [4], 'A');
    n.addConstant('y', w2, [2], 'B');
    expect(n.weightsEntries().map((e) => e.name)).toEqual(['A_constant', 'B_constant']);
    expect(n.setWeightsName(w4, 'a')).toBe(false);
    expect(n.setWeightsName(w2, 'b')).toBe(false);
    expect(n.getWeightsName(w2)).toBe('B_constant');
  });
  it('a weight used by two layers is one weight, named after its first use', () => {
    const n = new NetworkDefinition();
    const a = f32(2);
    n.addConstant('x', a, [2], 'A');
    n.addConstant('y', { ...a }, [2], 'B');
    expect(n.weightsEntries().map((e) => e.name)).toEqual(['A_constant']);
  });
  it('refuses a non-object instead of throwing', () => {
    const { n } = net();
    expect(n.setWeightsName(null as unknown as Weights, 'k')).toBe(false);
    expect(n.getWeightsName(null as unknown as Weights)).toBeNull();
  });
});

describe('NetworkDefinition: marking (10.2+)', () => {
  it('mark, are-marked and unmark return what TensorRT documents', () => {
    const { n, kernel } = net();
    n.setWeightsName(kernel, 'k');
    expect(n.areWeightsMarkedRefittable('k')).toBe(false);
    expect(n.markWeightsRefittable('k')).toBe(true);
    expect(n.areWeightsMarkedRefittable('k')).toBe(true);
    expect(n.unmarkWeightsRefittable('k')).toBe(true);
    expect(n.areWeightsMarkedRefittable('k')).toBe(false);
    expect(n.unmarkWeightsRefittable('k')).toBe(true); // exists, merely not marked
  });
  it('is false for unknown names', () => {
    const { n } = net();
    expect(n.markWeightsRefittable('nope')).toBe(false);
    expect(n.unmarkWeightsRefittable('nope')).toBe(false);
    expect(n.areWeightsMarkedRefittable('nope')).toBe(false);
  });
  it('works with default names, and the mark follows a rename', () => {
    const { n, bias } = net();
    expect(n.markWeightsRefittable('conv_bias')).toBe(true);
    n.setWeightsName(bias, 'b');
    expect(n.areWeightsMarkedRefittable('b')).toBe(true);
    expect(n.areWeightsMarkedRefittable('conv_bias')).toBe(false);
    expect(n.weightsEntries().find((e) => e.name === 'b')?.markedRefittable).toBe(true);
  });
  it.each([DataType.BOOL, DataType.UINT8, DataType.FP8, DataType.INT4, DataType.FP4, DataType.E8M0])('weights of type %s cannot be marked', (type) => {
    const n = new NetworkDefinition();
    const w: Weights = { type, values: new Uint8Array(2), count: type === 'INT4' || type === 'FP4' ? 4 : 2 };
    n.addConstant('c', w, [w.count]);
    expect(n.markWeightsRefittable('c_constant')).toBe(false);
    expect(n.areWeightsMarkedRefittable('c_constant')).toBe(false);
  });
  it('is refused before TensorRT 10.2, as TensorRT has no such API there', () => {
    const { n } = net('10.1');
    for (const call of [() => n.markWeightsRefittable('conv_kernel'), () => n.unmarkWeightsRefittable('conv_kernel'), () => n.areWeightsMarkedRefittable('conv_kernel')]) {
      expect(call).toThrow(expect.objectContaining({ code: TrtRefitErrorCode.UNSUPPORTED_FEATURE }));
    }
  });
});
