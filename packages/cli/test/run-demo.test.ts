import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { maxRelativeError, readNpy } from '@trt-refit/core';
import { runCli, type CliIo } from '@trt-refit/cli';

const fixture = (p: string) => fileURLToPath(new URL(`../../../fixtures/${p}`, import.meta.url));
function io(): CliIo & { out: string; err: string } {
  const o = { out: '', err: '', isTTY: false, env: {}, cwd: process.cwd() } as CliIo & { out: string; err: string };
  o.stdout = (t) => void (o.out += t);
  o.stderr = (t) => void (o.err += t);
  return o;
}

describe('trt-refit run and demo', () => {
  it('run writes each output as <dir>/<name>.npy; a stripped plan gives zeros until refitted', async () => {
    const d = mkdtempSync(join(tmpdir(), 'trt-refit-run-'));
    expect(await runCli(['build', fixture('convbn/convbn_a.onnx'), '--out', join(d, 's.plan'), '--strip'], io())).toBe(0);
    const c = io();
    expect(await runCli(['run', join(d, 's.plan'), '--input', `input=${fixture('convbn/input.npy')}`, '--output-dir', join(d, 'zeros'), '--json'], c)).toBe(0);
    expect(JSON.parse(c.out).outputs[0]).toMatchObject({ name: 'logits', dims: [2, 10] });
    expect(Array.from(readNpy(readFileSync(join(d, 'zeros', 'logits.npy'))).data as Float32Array).every((v) => v === 0)).toBe(true);
    expect(await runCli(['refit', join(d, 's.plan'), '--onnx', fixture('convbn/convbn_a.onnx'), '--out', join(d, 'full.plan')], io())).toBe(0);
    expect(await runCli(['run', join(d, 'full.plan'), '--input', `input=${fixture('convbn/input.npy')}`, '--output-dir', join(d, 'out')], io())).toBe(0);
    const got = readNpy(readFileSync(join(d, 'out', 'logits.npy'))).data as Float32Array;
    expect(maxRelativeError(got, readNpy(readFileSync(fixture('convbn/logits_a.npy'))).data as Float32Array)).toBeLessThanOrEqual(1e-5);
  });

  it('run reads int64 inputs (tinyxf ids)', async () => {
    const d = mkdtempSync(join(tmpdir(), 'trt-refit-run-'));
    expect(await runCli(['build', fixture('tinyxf/tinyxf_a.onnx'), '--out', join(d, 't.plan'), '--refit'], io())).toBe(0);
    expect(await runCli(['run', join(d, 't.plan'), '--input', `ids=${fixture('tinyxf/ids.npy')}`, '--output-dir', d], io())).toBe(0);
    const got = readNpy(readFileSync(join(d, 'logits.npy')));
    expect(got.dims).toEqual([2, 7, 50]);
    expect(maxRelativeError(got.data as Float32Array, readNpy(readFileSync(fixture('tinyxf/logits_a.npy'))).data as Float32Array)).toBeLessThanOrEqual(1e-5);
  });

  it('demo runs the whole weight-stripping story and every check passes', async () => {
    const c = io();
    expect(await runCli(['demo', '--json'], c)).toBe(0);
    const { checks } = JSON.parse(c.out) as { checks: { step: string; ok: boolean; detail: string }[] };
    expect(checks.length).toBe(7);
    expect(checks.filter((x) => !x.ok)).toEqual([]);
  });
});
