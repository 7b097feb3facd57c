import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { captureIo, fixture } from './helpers.js';
import { runCli } from '@trt-refit/cli';

const io = () => captureIo();
async function diff(...args: string[]) {
  const c = io();
  const code = await runCli(['diff', ...args, '--json'], c);
  return { code, d: code === 0 ? JSON.parse(c.out) : undefined, err: c.err };
}

describe('trt-refit diff', () => {
  it('ONNX vs ONNX: exactly the four weights the fine-tune changed, with sizes', async () => {
    const { d } = await diff(fixture('convbn/convbn_a.onnx'), fixture('convbn/convbn_b.onnx'));
    expect(d.changed.map((c: { name: string }) => c.name).sort()).toEqual(['b1.running_mean', 'c1.weight', 'fc.bias', 'fc.weight']);
    expect(d.changed.find((c: { name: string }) => c.name === 'c1.weight').bytes).toBe(864);
    expect([d.added, d.removed]).toEqual([[], []]);
  });
  it('ONNX vs safetensors compares values under ONNX dtype names; constants the checkpoint lacks are removed', async () => {
    const { d } = await diff(fixture('convbn/convbn_a.onnx'), fixture('convbn/convbn_b.safetensors'));
    expect(d.changed.map((c: { name: string }) => c.name).sort()).toEqual(['b1.running_mean', 'c1.weight', 'fc.bias', 'fc.weight']);
    expect(d.removed).toHaveLength(3);
  });
  it('with --engine: the refit set in engine names, and the fused weights that must come with it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trt-refit-diff-'));
    expect(await runCli(['build', fixture('convbn/convbn_a.onnx'), '--out', join(dir, 'r.plan'), '--refit'], io())).toBe(0);
    const { d } = await diff(fixture('convbn/convbn_a.onnx'), fixture('convbn/convbn_b.onnx'), '--engine', join(dir, 'r.plan'));
    expect(d.refit.set).toEqual(['c1.weight', 'tmp_refittable_weight_0', 'fc.weight', 'fc.bias']);
    expect(d.refit.missing).toEqual(['c1.bias', 'tmp_refittable_weight']);
    expect(d.refit.notRefittable).toEqual([]);
  });
  it('identical sources have no differences; an unreadable source exits 1', async () => {
    const { d } = await diff(fixture('convbn/convbn_a.onnx'), fixture('convbn/convbn_a_ext.onnx'));
    expect(d.changed).toEqual([]);
    expect((await diff(fixture('convbn/convbn_a.onnx'), '/nonexistent.onnx')).code).toBe(1);
  });
});
