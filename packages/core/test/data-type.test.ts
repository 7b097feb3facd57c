import { describe, expect, it } from 'vitest';
import { DataType, byteLengthFor, elementSize, weightsProblem } from '@trt-refit/core';

describe('DataType sizes', () => {
  it('packs INT4 and FP4 two per byte, rounding up', () => {
    expect(byteLengthFor(DataType.INT4, 5)).toBe(3);
    expect(byteLengthFor(DataType.FP4, 4)).toBe(2);
    expect(elementSize(DataType.INT4)).toBe(0.5);
  });
  it('reports a count that disagrees with the byte length', () => {
    expect(weightsProblem({ type: DataType.FLOAT, values: new Float32Array(3), count: 4 })).toMatch(/need 16 bytes.*12 bytes/);
  });
});
