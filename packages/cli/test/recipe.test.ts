import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { maxRelativeError, parseRecipe, readNpy } from '@trt-refit/core';
import { runCli } from '@trt-refit/cli';
import { captureIo, fixture, tmp } from './helpers.js';

async function json<T>(args: string[]): Promise<T> {
  const c = captureIo();
  const code = await runCli([...args, '--json'], c);
  expect(code, c.err).toBe(0);
  return JSON.parse(c.out) as T;
}
type Inspected = { weights: { name: string }[]; layers: { name: string; fusedFrom?: string[] }[] };

describe('generated names by TensorRT version, through the command', () => {
  it('build --refit --tensorrt-version 10.13 / 10.16, then inspect --json: tmp_batch_norm_weight, _0, _1, _2 / tmp_refittable_weight, _0, _1, _2', async () => {
    const d = tmp();
    for (const [v, base] of [['10.13', 'tmp_batch_norm_weight'], ['10.16', 'tmp_refittable_weight']]) {
      await json(['build', fixture('convbn/convbn_a.onnx'), '--refit', '--tensorrt-version', v!, '--out', join(d, `${v}.plan`)]);
      const plan = await json<Inspected>(['inspect', join(d, `${v}.plan`)]);
      expect(plan.weights.map((w) => w.name).filter((n) => n.startsWith('tmp_'))).toEqual([base, `${base}_0`, `${base}_1`, `${base}_2`]);
    }
  });

  it('a model starting with ConstantOfShape, then Conv -> BatchNormalization: at 10.16 the folds are tmp_refittable_weight_0 and _1, at 10.13 tmp_batch_norm_weight and _0; unnamed nodes are node_of_<output> layers', async () => {
    const d = tmp();
    const names = async (v: string) => {
      await json(['build', fixture('cosconvbn/cosconvbn_a.onnx'), '--refit', '--tensorrt-version', v, '--out', join(d, `${v}.plan`)]);
      return json<Inspected>(['inspect', join(d, `${v}.plan`)]);
    };
    const v16 = await names('10.16');
    expect(v16.weights.map((w) => w.name).filter((n) => n.startsWith('tmp_'))).toEqual(['tmp_refittable_weight', 'tmp_refittable_weight_0', 'tmp_refittable_weight_1']);
    const conv = v16.layers.find((l) => (l.fusedFrom ?? []).includes('node_of_y'))!;
    expect(conv.fusedFrom).toEqual(['node_of_y', 'node_of_z']); // Conv + BatchNormalization (Scale), fused
    const v13 = await names('10.13');
    expect(v13.weights.map((w) => w.name).filter((n) => n.startsWith('tmp_'))).toEqual(['tmp_batch_norm_weight', 'tmp_batch_norm_weight_0']);
  });
});

describe('trt-refit recipe', () => {
  it('recipe, then refit --recipe with the weights file and no ONNX model: the outputs equal onnxruntime\'s', async () => {
    const d = tmp();
    const model = fixture('cosconvbn/cosconvbn_b.onnx');
    await json(['build', fixture('cosconvbn/cosconvbn_a.onnx'), '--strip', '--refit', '--out', join(d, 's.plan')]);
    const summary = await json<{ records: number; weightsBytes: number }>(['recipe', model, '--engine', join(d, 's.plan'), '--out', join(d, 'r.json'), '--weights-out', join(d, 'w.safetensors')]);
    expect(summary.records).toBe(7); // the ConstantOfShape value, W, B, two folds, dscale, k (the INT64 shape is not refittable)
    const recipe = parseRecipe(readFileSync(join(d, 'r.json'), 'utf8'));
    expect(new Set(recipe.records.map((r) => r.kind))).toEqual(new Set(['IDENTITY', 'DOUBLE_TO_FLOAT', 'BATCH_NORM_FOLD_SCALE', 'BATCH_NORM_FOLD_BIAS', 'CONSTANT_NODE', 'CONSTANT_OF_SHAPE']));
    const refitted = await json<{ fromCheckpoint: number; recipe: { unusedSources: string[] } }>(['refit', join(d, 's.plan'), '--recipe', join(d, 'r.json'), '--safetensors', join(d, 'w.safetensors'), '--out', join(d, 'full.plan')]);
    expect(refitted.recipe.unusedSources).toEqual([]);
    expect(await runCli(['run', join(d, 'full.plan'), '--input', `x=${fixture('cosconvbn/input.npy')}`, '--output-dir', join(d, 'out')], captureIo())).toBe(0);
    const got = readNpy(readFileSync(join(d, 'out', 'out.npy'))).data as Float32Array;
    expect(maxRelativeError(got, readNpy(readFileSync(fixture('cosconvbn/out_b.npy'))).data as Float32Array)).toBeLessThanOrEqual(1e-5);
  });

  it('prints the records as text; a recipe that does not fit is refused, nothing written; --onnx and --recipe exclude each other', async () => {
    const d = tmp();
    const text = captureIo();
    expect(await runCli(['recipe', fixture('convbn/convbn_a.onnx'), '--tensorrt-version', '10.13'], text)).toBe(0);
    expect(text.out).toMatch(/tmp_batch_norm_weight_0\tBATCH_NORM_FOLD_BIAS\tFLOAT -> FLOAT\[8\]\tb1\.weight, b1\.bias, b1\.running_mean, b1\.running_var\teps=/);
    await json(['build', fixture('convbn/convbn_a.onnx'), '--strip', '--out', join(d, 's.plan')]);
    // a 10.13 recipe names the folds tmp_batch_norm_weight*, which the 10.16 engine does not have
    await json(['recipe', fixture('convbn/convbn_a.onnx'), '--tensorrt-version', '10.13', '--out', join(d, 'r.json'), '--weights-out', join(d, 'w.safetensors')]);
    const refused = captureIo();
    expect(await runCli(['refit', join(d, 's.plan'), '--recipe', join(d, 'r.json'), '--safetensors', join(d, 'w.safetensors'), '--out', join(d, 'x.plan')], refused)).toBe(1);
    expect(refused.err).toMatch(/engine weights the recipe does not cover: tmp_refittable_weight/);
    expect(existsSync(join(d, 'x.plan'))).toBe(false);
    const usage = captureIo();
    expect(await runCli(['refit', join(d, 's.plan'), '--onnx', fixture('convbn/convbn_a.onnx'), '--recipe', join(d, 'r.json'), '--out', join(d, 'x.plan')], usage)).toBe(2);
  });
});
