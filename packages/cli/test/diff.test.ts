import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { captureIo, fixture, tmp } from './helpers.js';
import { runCli } from '@trt-refit/cli';

const io = () => captureIo();
async function diff(...args: string[]) {
  const c = io();
  const code = await runCli(['diff', ...args, '--json'], c);
  return { code, d: code === 0 ? JSON.parse(c.out) : undefined, err: c.err };
}
const names = (xs: { name: string }[]) => xs.map((x) => x.name).sort();
const FINE_TUNED = ['b1.running_mean', 'c1.weight', 'fc.bias', 'fc.weight'];
async function plan(model: string, ...flags: string[]) {
  const out = join(tmp(), 'm.plan');
  expect(await runCli(['build', fixture(model), '--out', out, ...flags], io())).toBe(0);
  return out;
}
async function renamed() {
  const { renamedCheckpoint } = await import('../../onnx/test/helpers.js');
  const p = join(tmp(), 'ft.safetensors');
  writeFileSync(p, await renamedCheckpoint());
  return p;
}

describe('trt-refit diff', () => {
  it('ONNX vs ONNX: exactly the four weights the fine-tune changed, with sizes; the rest unchanged', async () => {
    const { d } = await diff(fixture('convbn/convbn_a.onnx'), fixture('convbn/convbn_b.onnx'));
    expect(names(d.changed)).toEqual(FINE_TUNED);
    expect(d.changed.find((c: { name: string }) => c.name === 'c1.weight').bytes).toBe(864);
    expect([d.onlyInA, d.onlyInB, d.notComparable]).toEqual([[], [], []]);
    expect(d.unchanged.length).toBeGreaterThan(0);
    expect(d.unchanged).not.toContain('c1.weight');
  });
  it('ONNX vs safetensors compares values under ONNX dtype names; constants the checkpoint lacks are only in A', async () => {
    const { d } = await diff(fixture('convbn/convbn_a.onnx'), fixture('convbn/convbn_b.safetensors'));
    expect(names(d.changed)).toEqual(FINE_TUNED);
    expect(d.onlyInA).toHaveLength(3);
    expect(d.onlyInB).toEqual([]);
    expect(d.matched).toEqual([]);
  });
  it('ONNX vs a checkpoint of other names: the same name matching as refit --safetensors (either order)', async () => {
    const ck = await renamed();
    const { d } = await diff(fixture('convbn/convbn_a.onnx'), ck);
    expect(names(d.changed)).toEqual(FINE_TUNED);
    expect(d.onlyInB).toEqual([]);
    expect(d.notInCheckpoint).toEqual([]);
    expect(d.matched.find((m: { initializer: string }) => m.initializer === 'fc.weight').how).toBe('shape-transposed');
    const back = (await diff(ck, fixture('convbn/convbn_a.onnx'))).d;
    expect(names(back.changed)).toEqual(FINE_TUNED);
    // And with an engine: the same refit set as the ONNX model B gives.
    const r = await plan('convbn/convbn_a.onnx', '--refit');
    const viaCkpt = (await diff(fixture('convbn/convbn_a.onnx'), ck, '--engine', r)).d;
    const viaOnnx = (await diff(fixture('convbn/convbn_a.onnx'), fixture('convbn/convbn_b.onnx'), '--engine', r)).d;
    expect(viaCkpt.refit).toEqual(viaOnnx.refit);
  });
  it('a --map that is not an object of names is a usage error (exit 2)', async () => {
    const m = join(tmp(), 'map.json');
    writeFileSync(m, '["fc.weight"]');
    const c = io();
    expect(await runCli(['diff', fixture('convbn/convbn_a.onnx'), fixture('convbn/convbn_b.safetensors'), '--map', m, '--json'], c)).toBe(2);
    expect(JSON.parse(c.out).error.message).toMatch(/one JSON object/);
  });
  it('with --engine: the refit set in engine names, and the fused weights that must come with it', async () => {
    const r = await plan('convbn/convbn_a.onnx', '--refit');
    const { d } = await diff(fixture('convbn/convbn_a.onnx'), fixture('convbn/convbn_b.onnx'), '--engine', r);
    expect(d.refit.set).toEqual(['c1.weight', 'tmp_refittable_weight_0', 'fc.weight', 'fc.bias']);
    expect(d.refit.missing).toEqual(['c1.bias', 'tmp_refittable_weight']);
    expect(d.refit.notInEngine).toEqual([]);
    expect(d.refit.otherShape).toEqual([]);
  });
  it('an unrelated engine: the changed weights are not in it (not "not refittable"), with a warning on stderr', async () => {
    const r = await plan('cosconvbn/cosconvbn_a.onnx', '--refit');
    const { d, err } = await diff(fixture('convbn/convbn_a.onnx'), fixture('convbn/convbn_b.onnx'), '--engine', r);
    expect(d.refit.set).toEqual([]);
    // The generated name tmp_refittable_weight_0 recurs in the other model, for a weight of another size.
    expect(d.refit.otherShape).toEqual(['tmp_refittable_weight_0']);
    expect(d.refit.notInEngine.length).toBe(d.changed.length - 1);
    expect(d.refit.missing).toEqual([]);
    expect(err).toMatch(/none of the \d+ changed weights is a refittable weight/);
  });
  it('ONNX vs a weight-stripped plan: its refittable weights are not comparable, not "changed"', async () => {
    const stripped = await plan('convbn/convbn_a.onnx', '--refit', '--strip');
    const { d } = await diff(fixture('convbn/convbn_a.onnx'), stripped);
    expect(d.changed).toEqual([]);
    expect(d.notComparable.length).toBeGreaterThan(0);
    expect(d.notComparable[0].reason).toMatch(/no data in .*m\.plan/);
    expect([d.onlyInA, d.onlyInB]).toEqual([[], []]);
    // A full plan of the same model: everything comparable and equal.
    const full = (await diff(fixture('convbn/convbn_a.onnx'), await plan('convbn/convbn_a.onnx', '--refit'))).d;
    expect([full.changed, full.notComparable, full.onlyInA, full.onlyInB]).toEqual([[], [], [], []]);
  });
  it('text output names each category; identical sources have no differences; an unreadable source exits 1', async () => {
    const c = io();
    expect(await runCli(['diff', fixture('convbn/convbn_a.onnx'), fixture('convbn/convbn_b.onnx')], c)).toBe(0);
    expect(c.out).toMatch(/^~ c1\.weight \(864 bytes; values\)$/m);
    expect(c.out).toMatch(/^4 changed, \d+ unchanged, 0 not comparable, 0 only in A, 0 only in B$/m);
    const { d } = await diff(fixture('convbn/convbn_a.onnx'), fixture('convbn/convbn_a_ext.onnx'));
    expect(d.changed).toEqual([]);
    expect((await diff(fixture('convbn/convbn_a.onnx'), '/nonexistent.onnx')).code).toBe(1);
  });
});
