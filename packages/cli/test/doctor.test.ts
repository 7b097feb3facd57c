import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, ExitCode, type CliIo } from '@trt-refit/cli';

/** An io whose environment points the native backend at an addon that does not exist, so the result is the same everywhere. */
function io(): CliIo & { out: string; err: string } {
  const missing = join(mkdtempSync(join(tmpdir(), 'trt-refit-doctor-')), 'trt_refit_native.node');
  const env: NodeJS.ProcessEnv = { TRT_REFIT_NATIVE_ADDON: missing };
  const o = { out: '', err: '', isTTY: false, env, cwd: process.cwd() } as unknown as CliIo & { out: string; err: string };
  o.stdout = (t) => void (o.out += t);
  o.stderr = (t) => void (o.err += t);
  return o;
}

interface Report {
  backends: { name: string; available: boolean; version: string | null; reasons: { cause: string; fix: string }[] }[];
}

describe('trt-refit doctor', () => {
  it('--json lists every backend with available, version and reasons (cause + fix)', async () => {
    const c = io();
    expect(await runCli(['doctor', '--json'], c)).toBe(ExitCode.OK);
    const report = JSON.parse(c.out) as Report;
    expect(report.backends.map((b) => b.name)).toEqual(['mock', 'native']);
    for (const b of report.backends) {
      expect(typeof b.available).toBe('boolean');
      expect(b.version === null || typeof b.version === 'string').toBe(true);
      expect(b.available || b.reasons.length > 0).toBe(true);
      for (const r of b.reasons) expect(r).toEqual({ cause: expect.any(String), fix: expect.any(String) });
    }
    const native = report.backends[1]!;
    expect(native.available).toBe(false);
    expect(native.version).toBeNull();
    expect(native.reasons).toHaveLength(1);
    expect(native.reasons[0]!.cause).toMatch(/native addon is not built/);
    expect(native.reasons[0]!.fix).toMatch(/node \S*scripts\/build-native\.mjs/);
  });

  it('the mock backend is reported available when its package provides createMockBackend', async () => {
    const c = io();
    await runCli(['doctor', '--json'], c);
    const mock = (JSON.parse(c.out) as Report).backends[0]!;
    const mod = (await import('@trt-refit/mock-backend')) as Record<string, unknown>;
    if (typeof mod.createMockBackend === 'function') {
      expect(mock).toMatchObject({ available: true, reasons: [] });
      expect(mock.version).toMatch(/^\d+\.\d+/);
    } else {
      expect(mock.available).toBe(false);
      expect(mock.reasons[0]!.cause).toMatch(/createMockBackend/);
    }
  });

  it('prints a readable report with each cause and its fix', async () => {
    const c = io();
    expect(await runCli(['doctor'], c)).toBe(ExitCode.OK);
    expect(c.out).toMatch(/^mock: (available|unavailable)/m);
    expect(c.out).toMatch(/^native: unavailable\n {2}- the native addon is not built.*\n {4}fix: build the addon: node \S*scripts\/build-native\.mjs/m);
  });

  it('--require exits 1 when that backend is unavailable, and refuses unknown names', async () => {
    expect(await runCli(['doctor', '--require', 'native'], io())).toBe(ExitCode.REFUSED);
    const c = io();
    expect(await runCli(['doctor', '--require', 'gpu'], c)).toBe(ExitCode.USAGE);
    expect(c.err).toMatch(/--require takes one of mock, native, received "gpu"/);
  });

  it('--backend reports that backend only', async () => {
    for (const name of ['mock', 'native']) {
      const c = io();
      expect(await runCli(['doctor', '--backend', name, '--json'], c)).toBe(ExitCode.OK);
      expect((JSON.parse(c.out) as Report).backends.map((b) => b.name)).toEqual([name]);
    }
    expect(await runCli(['doctor', '--backend', 'gpu'], io())).toBe(ExitCode.USAGE);
  });
});
