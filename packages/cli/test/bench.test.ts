// `pnpm bench --json`: every case reports ours, baseline and limit with medians, spreads and ratios (a small run of
// two cases, on 8 MiB models; the figures themselves are BENCHMARKS.md's business, not a test's).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const built = existsSync(`${root}packages/onnx/dist/index.js`) && existsSync(`${root}packages/mock-backend/dist/index.js`);

describe('pnpm bench --json', () => {
  it.skipIf(!built)('reports ours, baseline, limit, ratio, ratioToLimit and spreads per case (skipped until `pnpm build` has run: the cases run the built packages)', () => {
    const r = spawnSync(process.execPath, ['scripts/bench.mjs', '--no-build', '--json', '--only', 'onnx-read-external,mock-refit', '--runs', '1'], {
      cwd: root,
      env: { ...process.env, TRT_REFIT_BENCH_BYTES: String(8 << 20) },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const cases = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(cases.map((c) => c.name)).toEqual(['onnx-read-external', 'mock-refit']);
    for (const c of cases) {
      expect(c).toMatchObject({ unit: 'GB/s', ours: expect.any(Number), baseline: expect.any(Number), limit: expect.any(Number), ratio: expect.any(Number), ratioToLimit: expect.any(Number), met: expect.any(Boolean) });
      const spread = c.spread as Record<string, [number, number]>;
      for (const k of ['ours', 'baseline', 'limit']) expect(spread[k]![0]).toBeLessThanOrEqual(spread[k]![1]!);
      expect(c.ratio).toBeCloseTo((c.ours as number) / (c.baseline as number), 10);
      expect(c.ratioToLimit).toBeCloseTo((c.ours as number) / (c.limit as number), 10);
    }
    expect(cases[0]!.peakRssRatio).toEqual(expect.any(Number));
  });
});
