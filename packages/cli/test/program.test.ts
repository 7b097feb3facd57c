import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { captureIo, fixture, tmp } from './helpers.js';
import { runCli, ExitCode } from '@trt-refit/cli';

const io = () => captureIo();

describe('trt-refit command', () => {
  it('--help lists the commands and exits 0', async () => {
    const c = io();
    expect(await runCli(['--help'], c)).toBe(ExitCode.OK);
    expect(c.out).toMatch(/run \[options\] <plan>/);
    expect(c.out).toMatch(/demo/);
  });
  it('an unknown command is a usage error (2)', async () => {
    const c = io();
    expect(await runCli(['bogus'], c)).toBe(ExitCode.USAGE);
    expect(c.err).toMatch(/unknown command 'bogus'/);
  });
  it('run: a malformed --input is a usage error naming the form', async () => {
    const c = io();
    expect(await runCli(['run', 'x.plan', '--input', 'nofile', '--output-dir', '/tmp/x'], c)).toBe(ExitCode.USAGE);
    expect(c.err).toMatch(/<name>=<file\.npy>/);
  });
  it('run: a missing required option is a usage error', async () => {
    expect(await runCli(['run', 'x.plan'], io())).toBe(ExitCode.USAGE);
  });
  it('run: an unknown backend is refused by the option parser', async () => {
    const c = io();
    expect(await runCli(['run', 'x.plan', '--input', 'a=b.npy', '--output-dir', '/tmp/x', '--backend', 'gpu'], c)).toBe(ExitCode.USAGE);
    expect(c.err).toMatch(/Allowed choices are mock, native/);
  });
  it('--json errors are one JSON object on stdout with a code', async () => {
    const c = io();
    const code = await runCli(['run', '/nonexistent/x.plan', '--input', 'a=b.npy', '--output-dir', '/tmp/x', '--json'], c);
    expect(code).toBe(ExitCode.REFUSED);
    const parsed = JSON.parse(c.out.trim()) as { error: { code: string; message: string } };
    expect(parsed.error.code).toMatch(/^ERR_/);
  });

  it('every command refuses a FIFO, a directory or a missing file as input (exit 1, no hang), naming the path', async () => {
    const d = tmp();
    const fifo = join(d, 'pipe');
    execFileSync('mkfifo', [fifo]); // nobody ever writes to it: a blocking read would hang the test
    const plan = join(d, 'p.plan');
    expect(await runCli(['build', fixture('convbn/convbn_a.onnx'), '--out', plan, '--refit'], io())).toBe(0);
    const cases: string[][] = [
      ['inspect', fifo],
      ['build', fifo, '--out', join(d, 'x.plan')],
      ['refit', fifo, '--onnx', fixture('convbn/convbn_a.onnx'), '--out', join(d, 'y.plan')],
      ['refit', plan, '--onnx', fifo, '--out', join(d, 'y.plan')],
      ['refit', plan, '--onnx', fixture('convbn/convbn_a.onnx'), '--safetensors', fixture('convbn/convbn_b.safetensors'), '--map', fifo, '--out', join(d, 'y.plan')],
      ['refit', plan, '--onnx', fifo, '--safetensors', fixture('convbn/convbn_b.safetensors'), '--out', join(d, 'y.plan')],
      ['run', fifo, '--input', 'input=x.npy', '--output-dir', d],
      ['run', plan, '--input', `input=${fifo}`, '--output-dir', d],
      ['run', plan, '--input', `input=${d}`, '--output-dir', d],
      ['run', plan, '--input', `input=${join(d, 'absent.npy')}`, '--output-dir', d],
      ['diff', fifo, fixture('convbn/convbn_b.onnx')],
      ['diff', fixture('convbn/convbn_a.onnx'), fixture('convbn/convbn_b.onnx'), '--engine', fifo],
      ['refit', plan, '--onnx', fixture('convbn/convbn_a.onnx'), '--lean-runtime', fifo, '--out', join(d, 'y.plan')],
    ];
    for (const args of cases) {
      const c = io();
      const code = await runCli(args, c);
      expect(code, `${args.join(' ')}: ${c.err}`).toBe(ExitCode.REFUSED);
      expect(c.err, args.join(' ')).toMatch(/pipe|absent\.npy|directory|trt-refit-cli-/);
    }
  }, 30_000);
});

describe('what a newcomer meets (issue 16)', () => {
  it('--version answers; bare trt-refit prints help and exits 2; a usage error under --json is one JSON document, exit 2', async () => {
    const { readFileSync } = await import('node:fs');
    const { VERSION } = await import('@trt-refit/cli');
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    const v = captureIo();
    expect(await runCli(['--version'], v)).toBe(0);
    expect(v.out.trim()).toBe(pkg.version);
    expect(VERSION).toBe(pkg.version);
    const bare = captureIo();
    expect(await runCli([], bare)).toBe(2);
    expect(bare.err).toMatch(/Usage: trt-refit/);
    expect(bare.out).toBe('');
    const usage = captureIo();
    expect(await runCli(['build', '--json'], usage)).toBe(2);
    expect(JSON.parse(usage.out)).toMatchObject({ error: { code: 'USAGE', message: expect.stringMatching(/required option '--out <plan>' not specified/) } });
    expect(usage.err).toBe('');
  });
  it('inspect <plan> in text: a table with the weights\' real dims (not a crash); JSON has the same weight fields', async () => {
    const d = tmp();
    expect(await runCli(['build', fixture('convbn/convbn_a.onnx'), '--strip', '--out', join(d, 's.plan')], captureIo())).toBe(0);
    const text = captureIo();
    expect(await runCli(['inspect', join(d, 's.plan')], text)).toBe(0);
    expect(text.out).toMatch(/c1\.weight\s+refittable\s+FLOAT\s+\[8, 3, 3, 3\]\s+stripped/);
    const json = captureIo();
    expect(await runCli(['inspect', join(d, 's.plan'), '--json'], json)).toBe(0);
    expect((JSON.parse(json.out) as { weights: object[] }).weights[0]).toMatchObject({ name: 'c1.weight', kind: 'refittable', dtype: 'FLOAT', dims: [8, 3, 3, 3], storage: 'stripped' });
  });
  it('warnings go to stderr, results to stdout', async () => {
    const d = tmp();
    const c = captureIo();
    expect(await runCli(['build', fixture('convbn/convbn_a.onnx'), '--refit', '--tensorrt-version', '11.3', '--out', join(d, 'p.plan')], c)).toBe(0);
    expect(c.out).toMatch(/^wrote /);
    expect(c.out).not.toMatch(/warning/);
    expect(c.err).toMatch(/warning: .*GEMM bias can be dropped/);
  });
});
