import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { captureIo, fixture } from './helpers.js';
import { maxRelativeError, readNpy } from '@trt-refit/core';
import { runCli } from '@trt-refit/cli';

const io = () => captureIo();

describe('trt-refit run and demo', () => {
  it('run writes each output as <dir>/<name>.npy; a stripped plan gives zeros until refitted', async () => {
    const d = mkdtempSync(join(tmpdir(), 'trt-refit-run-'));
    expect(await runCli(['build', fixture('convbn/convbn_a.onnx'), '--out', join(d, 's.plan'), '--strip'], io())).toBe(0);
    // refused unless asked for: its outputs would be zeros
    const refused = io();
    expect(await runCli(['run', join(d, 's.plan'), '--input', `input=${fixture('convbn/input.npy')}`, '--output-dir', join(d, 'zeros')], refused)).toBe(1);
    expect(refused.err).toMatch(/weight-stripped and was not refitted.*--allow-stripped/s);
    const c = io();
    expect(await runCli(['run', join(d, 's.plan'), '--input', `input=${fixture('convbn/input.npy')}`, '--output-dir', join(d, 'zeros'), '--json', '--allow-stripped'], c)).toBe(0);
    expect(c.err).toMatch(/warning: .*outputs are zeros/);
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

  it('demo colours its checks on a terminal only, and never with NO_COLOR', async () => {
    const esc = /\u001b\[/;
    const tty = captureIo({ stdoutTTY: true });
    expect(await runCli(['demo'], tty)).toBe(0);
    expect(tty.out).toMatch(esc);
    expect(tty.out).toMatch(/1\. Build a weight-stripped plan/);
    const pipe = captureIo({ stdoutTTY: false });
    expect(await runCli(['demo'], pipe)).toBe(0);
    expect(pipe.out).not.toMatch(esc);
    const noColor = captureIo({ stdoutTTY: true, env: { NO_COLOR: '1' } });
    expect(await runCli(['demo'], noColor)).toBe(0);
    expect(noColor.out).not.toMatch(esc);
    expect(noColor.out.split('\n').length).toBe(pipe.out.split('\n').length); // same text; figures such as timings vary
  });
});
