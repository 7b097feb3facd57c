import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BuilderFlag, DataType, NetworkDefinition, resolveBuildMode } from '@trt-refit/core';
import { importOnnxModel, openOnnxModel } from '@trt-refit/onnx';
import { planEngine } from '@trt-refit/mock-backend';

const fixture = (p: string) => fileURLToPath(new URL(`../../../fixtures/${p}`, import.meta.url));
async function network(path: string, prepare?: (n: NetworkDefinition) => void) {
  const n = new NetworkDefinition();
  const { errors } = await importOnnxModel(await openOnnxModel(fixture(path)), n);
  expect(errors).toEqual([]);
  prepare?.(n);
  return n;
}
const mode = (...flags: BuilderFlag[]) => resolveBuildMode(flags, '10.16');
const GELU_CONSTANTS = ['/Constant_output_0', '/Constant_1_output_0', '/Constant_2_output_0'];

describe('mock engine model on convbn', () => {
  it('REFIT: every float weight refittable (GELU constants too), Conv+BN groups and the Gemm group', async () => {
    const e = planEngine(await network('convbn/convbn_a.onnx'), mode(BuilderFlag.REFIT));
    const refittable = e.weights.filter((w) => w.refittable).map((w) => w.name);
    for (const c of GELU_CONSTANTS) expect(refittable).toContain(c);
    expect(e.fusionGroups).toEqual([
      ['c1.weight', 'c1.bias', 'tmp_refittable_weight', 'tmp_refittable_weight_0'],
      ['c2.weight', 'tmp_refittable_weight_1', 'tmp_refittable_weight_2'],
      ['fc.weight', 'fc.bias'],
    ]);
    // refittable GELU constants block the GELU fusion
    expect(e.layers.map((l) => l.type)).toEqual(['Conv+Scale+Relu', 'Conv+Scale', 'Div', 'Erf', 'Add', 'Mul', 'Mul', 'ReduceMean', 'Gemm']);
    expect(e.weights.every((w) => !w.stripped)).toBe(true);
  });

  it('REFIT_IDENTICAL: scalars are folded, so the GELU fuses into the Conv', async () => {
    const e = planEngine(await network('convbn/convbn_a.onnx'), mode(BuilderFlag.REFIT_IDENTICAL));
    for (const c of GELU_CONSTANTS) expect(e.weights.find((w) => w.name === c)?.refittable).toBe(false);
    expect(e.layers.map((l) => l.type)).toEqual(['Conv+Scale+Relu', 'Conv+Scale+GELU', 'ReduceMean', 'Gemm']);
    expect(e.layers[1]!.fusedFrom).toHaveLength(7);
    expect(e.fusionGroups).toHaveLength(3);
  });

  it('STRIP_PLAN strips exactly the refittable weights; no flag makes nothing refittable', async () => {
    const net = await network('convbn/convbn_a.onnx');
    const s = planEngine(net, mode(BuilderFlag.STRIP_PLAN));
    expect(s.weights.filter((w) => w.stripped).map((w) => w.name)).toEqual(s.weights.filter((w) => w.refittable).map((w) => w.name));
    expect(s.weights.filter((w) => w.stripped)).toHaveLength(9);
    const none = planEngine(net, mode());
    expect(none.weights.some((w) => w.refittable || w.stripped)).toBe(false);
    expect(none.fusionGroups).toEqual([]);
  });

  it('REFIT_INDIVIDUAL: only the marked weights; STRIP_PLAN strips only those', async () => {
    const net = await network('convbn/convbn_a.onnx', (n) => {
      n.markWeightsRefittable('fc.weight');
      n.markWeightsRefittable('fc.bias');
      n.markWeightsRefittable('c1.weight');
    });
    const e = planEngine(net, mode(BuilderFlag.REFIT_INDIVIDUAL, BuilderFlag.STRIP_PLAN));
    expect(e.weights.filter((w) => w.refittable).map((w) => w.name).sort()).toEqual(['c1.weight', 'fc.bias', 'fc.weight']);
    expect(e.weights.filter((w) => w.stripped).map((w) => w.name).sort()).toEqual(['c1.weight', 'fc.bias', 'fc.weight']);
    expect(e.fusionGroups).toEqual([['fc.weight', 'fc.bias']]); // c1.weight's partners are not refittable
    expect(e.layers.map((l) => l.type)).toContain('Conv+Scale+GELU');
  });

  it('tinyxf under REFIT: integer (shape) constants are never refittable; MatMul + bias Add fuse', async () => {
    const e = planEngine(await network('tinyxf/tinyxf_a.onnx'), mode(BuilderFlag.REFIT));
    expect(e.weights.filter((w) => w.dtype === DataType.INT64).every((w) => !w.refittable)).toBe(true);
    expect(e.weights.find((w) => w.name === 'emb.weight')?.refittable).toBe(true);
    expect(e.layers.some((l) => l.type === 'MatMul+Add')).toBe(true);
    expect(e.layers.some((l) => l.type === 'Constant')).toBe(false);
  });
});
