import { describe, expect, it } from 'vitest';
import { DATA_TYPE_INFO, DataType, byteLengthFor, elementSize, isDataType, weightsProblem, assertWeights, hostBytes, TrtRefitErrorCode } from '@trt-refit/core';

const BITS: Record<string, number> = { FLOAT: 32, HALF: 16, BF16: 16, INT8: 8, INT32: 32, INT64: 64, BOOL: 8, UINT8: 8, FP8: 8, INT4: 4, FP4: 4, E8M0: 8 };
const TRT_VALUES: Record<string, number> = { FLOAT: 0, HALF: 1, INT8: 2, INT32: 3, BOOL: 4, UINT8: 5, FP8: 6, BF16: 7, INT64: 8, INT4: 9, FP4: 10, E8M0: 11 };

describe('DataType', () => {
  it('has exactly the twelve TensorRT types with their numeric values', () => {
    expect(Object.keys(DataType).sort()).toEqual(Object.keys(TRT_VALUES).sort());
    for (const t of Object.values(DataType)) expect(DATA_TYPE_INFO[t].trtValue).toBe(TRT_VALUES[t]);
  });
  it('recognises names and refuses others', () => {
    expect(isDataType('FLOAT')).toBe(true);
    expect(isDataType('float')).toBe(false);
    expect(isDataType(0)).toBe(false);
  });
  describe.each(Object.values(DataType))('%s', (type) => {
    const bits = BITS[type]!;
    it('element size and byte length for counts 0, 1, 2, 3, 7', () => {
      expect(elementSize(type)).toBe(bits / 8);
      for (const n of [0, 1, 2, 3, 7]) expect(byteLengthFor(type, n)).toBe(Math.ceil((n * bits) / 8));
    });
    it('weights of the exact byte length validate; one byte more or less is refused with the sizes', () => {
      const need = byteLengthFor(type, 5);
      expect(weightsProblem({ type, values: new Uint8Array(need), count: 5 })).toBeUndefined();
      const more = weightsProblem({ type, values: new Uint8Array(need + 1), count: 5 });
      expect(more).toContain(`need ${need} bytes`);
      expect(more).toContain(`${need + 1} bytes`);
      expect(weightsProblem({ type, values: new Uint8Array(need - 1), count: 5 })).toContain(`${need - 1} bytes`);
    });
  });
  it('explains packing for the 4-bit types', () => {
    expect(weightsProblem({ type: DataType.INT4, values: new Uint8Array(2), count: 5 })).toMatch(/two elements per byte/);
  });
});

describe('Weights validation', () => {
  it('accepts empty weights (count 0, values null) and refuses null values with a count', () => {
    expect(weightsProblem({ type: DataType.FLOAT, values: null, count: 0 })).toBeUndefined();
    expect(weightsProblem({ type: DataType.FLOAT, values: null, count: 3 })).toMatch(/null but count is 3/);
  });
  it.each([
    [null, /must be an object/],
    [{ type: 'DOUBLE', values: null, count: 0 }, /DataType name/],
    [{ type: DataType.FLOAT, values: new Float32Array(1), count: -1 }, /non-negative integer/],
    [{ type: DataType.FLOAT, values: new Float32Array(1), count: 1.5 }, /non-negative integer/],
    [{ type: DataType.FLOAT, values: [1, 2], count: 2 }, /ArrayBufferView/],
  ])('refuses %j', (w, why) => {
    expect(weightsProblem(w)).toMatch(why);
  });
  it('assertWeights throws a typed InvalidArgumentError naming the parameter', () => {
    expect(() => assertWeights({ type: DataType.FLOAT, values: new Float32Array(2), count: 3 }, 'w')).toThrow(
      expect.objectContaining({ code: TrtRefitErrorCode.INVALID_ARGUMENT, message: expect.stringMatching(/^w: /) }),
    );
  });
  it('hostBytes is a view, not a copy', () => {
    const values = new Float32Array([1, 2]);
    const bytes = hostBytes({ type: DataType.FLOAT, values, count: 2 });
    values[0] = 3;
    expect(new Float32Array(bytes.buffer, bytes.byteOffset, 2)[0]).toBe(3);
  });
  it('device buffers may be larger than needed but not smaller, and not disposed', () => {
    const dev = (byteLength: number, disposed = false) => ({ byteLength, deviceId: 0, disposed, upload() {}, uploadAsync: async () => {}, download: () => new Uint8Array(), downloadAsync: async () => new Uint8Array(), dispose() {} });
    expect(weightsProblem({ type: DataType.FLOAT, values: dev(64), count: 4 })).toBeUndefined();
    expect(weightsProblem({ type: DataType.FLOAT, values: dev(8), count: 4 })).toMatch(/device buffer has 8 bytes/);
    expect(weightsProblem({ type: DataType.FLOAT, values: dev(64, true), count: 4 })).toMatch(/disposed/);
  });
});
