import { describe, expect, it } from 'vitest';
import { runCli, ExitCode, type CliIo } from '@trt-refit/cli';

function io(): CliIo & { out: string; err: string } {
  const o = { out: '', err: '', isTTY: false, env: {}, cwd: process.cwd() } as CliIo & { out: string; err: string };
  o.stdout = (t) => void (o.out += t);
  o.stderr = (t) => void (o.err += t);
  return o;
}

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
});
