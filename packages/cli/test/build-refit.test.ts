import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { captureIo, fixture, tmp } from './helpers.js';
import { runCli } from '@trt-refit/cli';

const io = () => captureIo();
async function json(args: string[]) {
  const c = io();
  const code = await runCli([...args, '--json'], c);
  return { code, value: code === 0 ? (JSON.parse(c.out) as Record<string, unknown>) : undefined, err: c.err };
}

describe('trt-refit build / refit / inspect <plan> (mock backend)', () => {
  it('builds a stripped plan, inspects it, refits it from the ONNX file into a full plan', async () => {
    const d = tmp();
    const built = await json(['build', fixture('convbn/convbn_a.onnx'), '--out', join(d, 's.plan'), '--strip']);
    expect(built.code).toBe(0);
    expect(built.value).toMatchObject({ backend: 'mock', builderFlags: ['STRIP_PLAN'] });
    const inspected = (await json(['inspect', join(d, 's.plan')])).value as { format: string; refittable: boolean; weights: { name: string; stripped: boolean; refittable: boolean }[]; layers: { type: string }[] };
    expect(inspected.format).toBe('plan');
    expect(inspected.refittable).toBe(true);
    expect(inspected.weights.find((w) => w.name === 'c1.weight')).toMatchObject({ refittable: true, stripped: true });
    expect(inspected.layers.map((l) => l.type)).toContain('Conv+Scale+GELU');
    // --backend: the same plan through a backend's public API (what inspects a real TensorRT plan with --backend native)
    const viaBackend = (await json(['inspect', join(d, 's.plan'), '--backend', 'mock'])).value as { backend: string; refittable: boolean; weights: { name: string; kind: string; storage: string }[]; missing: string[]; layers: { type: string }[]; io: { name: string }[] };
    expect(viaBackend).toMatchObject({ backend: 'mock', refittable: true });
    expect(viaBackend.weights.map((w) => w.name).sort()).toEqual(inspected.weights.filter((w) => w.refittable).map((w) => w.name).sort());
    expect(viaBackend.missing.sort()).toEqual(inspected.weights.filter((w) => w.stripped).map((w) => w.name).sort()); // nothing supplied yet
    expect(viaBackend.layers.map((l) => l.type)).toContain('Conv+Scale+GELU');
    expect(viaBackend.io.map((t) => t.name)).toEqual(['input', 'logits']);
    const human = io();
    expect(await runCli(['inspect', join(d, 's.plan'), '--backend', 'mock'], human)).toBe(0);
    expect(human.out).toMatch(/c1\.weight\s+refittable\s+FLOAT\s+\[216\]/);
    const refitted = await json(['refit', join(d, 's.plan'), '--onnx', fixture('convbn/convbn_a.onnx'), '--out', join(d, 'full.plan')]);
    expect(refitted.code).toBe(0);
    const full = (await json(['inspect', join(d, 'full.plan')])).value as { refittable: boolean; weights: { stripped: boolean }[] };
    expect(full.refittable).toBe(false);
    expect(full.weights.every((w) => !w.stripped)).toBe(true);
    expect(readFileSync(join(d, 'full.plan')).length).toBeGreaterThan(readFileSync(join(d, 's.plan')).length);
  });

  it('--include-refit keeps the written plan refittable; --safetensors takes the weights from a checkpoint', async () => {
    const d = tmp();
    expect((await json(['build', fixture('convbn/convbn_a.onnx'), '--out', join(d, 'r.plan'), '--refit'])).code).toBe(0);
    const r = await json(['refit', join(d, 'r.plan'), '--onnx', fixture('convbn/convbn_a.onnx'), '--safetensors', fixture('convbn/convbn_b.safetensors'), '--out', join(d, 'b.plan'), '--include-refit']);
    expect(r.value).toMatchObject({ fromCheckpoint: 13, refittable: true });
    expect(((await json(['inspect', join(d, 'b.plan')])).value as { refittable: boolean }).refittable).toBe(true);
  });

  it('refuses, writing nothing, a model that does not fit or differs under REFIT_IDENTICAL', async () => {
    const d = tmp();
    await json(['build', fixture('convbn/convbn_a.onnx'), '--out', join(d, 's.plan'), '--strip']);
    const other = await json(['refit', join(d, 's.plan'), '--onnx', fixture('tinyxf/tinyxf_a.onnx'), '--out', join(d, 'x.plan')]);
    expect(other.code).toBe(1);
    expect(other.err).toMatch(/Only successfully refitted 0 weights out of 9/);
    const changed = await json(['refit', join(d, 's.plan'), '--onnx', fixture('convbn/convbn_b.onnx'), '--out', join(d, 'y.plan')]);
    expect(changed.code).toBe(1);
    expect(changed.err).toMatch(/differ from the build-time ones: c1\.weight/);
    expect(existsSync(join(d, 'x.plan')) || existsSync(join(d, 'y.plan'))).toBe(false);
  });

  it('--refit-individual marks the named weights; conflicting modes are a usage error', async () => {
    const d = tmp();
    expect((await json(['build', fixture('convbn/convbn_a.onnx'), '--out', join(d, 'i.plan'), '--refit-individual', 'fc.weight,fc.bias', '--strip'])).code).toBe(0);
    const info = (await json(['inspect', join(d, 'i.plan')])).value as { weights: { name: string; refittable: boolean }[] };
    expect(info.weights.filter((w) => w.refittable).map((w) => w.name)).toEqual(['fc.weight', 'fc.bias']);
    expect((await json(['build', fixture('convbn/convbn_a.onnx'), '--out', join(d, 'x.plan'), '--refit', '--refit-individual', 'fc.weight'])).code).toBe(2);
    const unknown = await json(['build', fixture('convbn/convbn_a.onnx'), '--out', join(d, 'x.plan'), '--refit-individual', 'nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/no refittable weights named nope/);
  });

  it('a damaged plan is refused by inspect and refit', async () => {
    const d = tmp();
    await json(['build', fixture('convbn/convbn_a.onnx'), '--out', join(d, 's.plan'), '--refit']);
    const bytes = readFileSync(join(d, 's.plan'));
    bytes[bytes.length >> 1] ^= 0xff;
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(d, 'bad.plan'), bytes);
    const c = io();
    expect(await runCli(['inspect', join(d, 'bad.plan'), '--json'], c)).toBe(1);
    expect(JSON.parse(c.out).error.code).toBe('ERR_TRT_REFIT_INVALID_PLAN');
  });
});

describe('progress bars', () => {
  it('refit and inspect --hash draw a bar on a terminal, nothing on a pipe, with --json or under CI', async () => {
    const d = tmp();
    expect((await json(['build', fixture('convbn/convbn_a.onnx'), '--out', join(d, 's.plan'), '--strip'])).code).toBe(0);
    const refit = (over: Parameters<typeof captureIo>[0], extra: string[] = []) => {
      const c = captureIo(over);
      return runCli(['refit', join(d, 's.plan'), '--onnx', fixture('convbn/convbn_a.onnx'), '--out', join(d, 'f.plan'), ...extra], c).then((code) => ({ code, c }));
    };
    const tty = await refit({ isTTY: true });
    expect(tty.code).toBe(0);
    expect(tty.c.drawn).toMatch(/setting weights \[[=-]*\] \d+% \| \d+\/\d+/);
    expect(tty.c.drawn).toMatch(/100% \| (\d+)\/\1/); // reaches every weight
    expect(tty.c.out).not.toMatch(/setting weights/); // stdout stays clean for the summary
    for (const [over, extra] of [[{ isTTY: false }, []], [{ isTTY: true }, ['--json']], [{ isTTY: true, env: { CI: '1' } }, []]] as const) {
      const r = await refit(over, [...extra]);
      expect(r.code).toBe(0);
      expect(r.c.drawn).toBe('');
    }
    const c = captureIo({ isTTY: true });
    expect(await runCli(['inspect', fixture('convbn/convbn_a_ext.onnx'), '--hash'], c)).toBe(0);
    expect(c.drawn).toMatch(/hashing \[/);
  });
});

describe('trt-refit refit --safetensors with other names', () => {
  it('derives the name map (content, unique shapes, transposed) and the refitted plan gives model B outputs', async () => {
    const { renamedCheckpoint } = await import('../../onnx/test/helpers.js');
    const { writeFileSync } = await import('node:fs');
    const { maxRelativeError, readNpy } = await import('@trt-refit/core');
    const d = tmp();
    writeFileSync(join(d, 'ft.safetensors'), await renamedCheckpoint());
    expect((await json(['build', fixture('convbn/convbn_a.onnx'), '--out', join(d, 'r.plan'), '--refit'])).code).toBe(0);
    const r = await json(['refit', join(d, 'r.plan'), '--onnx', fixture('convbn/convbn_a.onnx'), '--safetensors', join(d, 'ft.safetensors'), '--out', join(d, 'b.plan')]);
    expect(r.code).toBe(0);
    const value = r.value as { fromCheckpoint: number; matched: { checkpoint: string; initializer: string; how: string }[]; unmatchedModel: string[] };
    expect(value.fromCheckpoint).toBe(13);
    expect(value.unmatchedModel).toEqual([]);
    expect(value.matched.find((m) => m.initializer === 'fc.weight')?.how).toBe('shape-transposed');
    expect(await runCli(['run', join(d, 'b.plan'), '--input', `input=${fixture('convbn/input.npy')}`, '--output-dir', d], io())).toBe(0);
    const got = readNpy(readFileSync(join(d, 'logits.npy'))).data as Float32Array;
    expect(maxRelativeError(got, readNpy(readFileSync(fixture('convbn/logits_b.npy'))).data as Float32Array)).toBeLessThanOrEqual(1e-5);
  });
});
