// scripts/benchmarks-md.mjs: BENCHMARKS.md's figures are generated from run outputs, never typed by hand. The script
// runs here on a copy of the document, against bench JSON and a stream-bench device log written by the test.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const script = join(root, 'scripts/benchmarks-md.mjs');
const run = (args: string[]) => spawnSync(process.execPath, [script, ...args], { encoding: 'utf8' });

describe('benchmarks-md.mjs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trt-refit-benchmd-'));
  const doc = join(dir, 'BENCHMARKS.md');
  const skeleton = '# B\n\n<!-- bench:begin -->\nold\n<!-- bench:end -->\n\n## GPU\n\n<!-- gpu:begin -->\nold gpu\n<!-- gpu:end -->\ntail\n';

  it('writes one table per case from the runs, each figure with its min–max, the target and whether it was met; the JSON copied unedited', () => {
    writeFileSync(doc, skeleton);
    const mk = (ours: number, met: boolean) => [
      { name: 'plan-read', unit: 'GB/s', ours, baseline: 1.2, limit: 1.5, ratio: ours / 1.2, ratioToLimit: ours / 1.5, spread: { ours: [ours - 0.3, ours + 0.1], baseline: [1, 1.25], limit: [1.4, 1.6] }, baselineName: 'readFile + deserialize', limitName: 'readFile', target: 'ratioToLimit >= 0.9', met, planBytes: 1073827088 },
    ];
    const r1 = join(dir, 'a.json');
    const r2 = join(dir, 'b.json');
    writeFileSync(r1, JSON.stringify(mk(1.8, true)));
    writeFileSync(r2, JSON.stringify(mk(1.2, false)));
    const r = run(['--commit', 'abc1234', '--machine', 'a test VM', '--doc', doc, '--results', join(dir, 'results'), r1, r2]);
    expect(r.status, r.stderr).toBe(0);
    const out = readFileSync(doc, 'utf8');
    expect(out).not.toContain('\nold\n');
    expect(out).toContain('old gpu'); // the GPU block is left alone
    expect(out).toContain('Commit abc1234, a test VM; 2 consecutive');
    expect(out).toContain('**`plan-read`** — ours against readFile + deserialize; limit: readFile. Target: ratioToLimit >= 0.9.');
    expect(out).toContain('| 1 | GB/s | 1.80 (1.50–1.90) | 1.20 (1.00–1.25) | 1.50 (1.40–1.60) | 1.50 | 1.20 | yes | planBytes 1073827088 |');
    expect(out).toContain('| 2 | GB/s | 1.20 (0.900–1.30) | 1.20 (1.00–1.25) | 1.50 (1.40–1.60) | 1.00 | 0.800 | **no** |');
    expect(readdirSync(join(dir, 'results')).sort()).toEqual(['run-1.json', 'run-2.json']);
    expect(readFileSync(join(dir, 'results/run-2.json'), 'utf8')).toBe(readFileSync(r2, 'utf8'));
  });

  it('writes the GPU rows from the SUMMARY lines of stream-bench logs, ours beside the same-run C++ reference', () => {
    writeFileSync(doc, skeleton);
    const log = join(dir, '2026-01-01-h200-stream-bench.log');
    const summary = { case: 'fan', devices: [0, 1], weightBytes: 2 ** 31, readAhead: 3, oursGBps: { median: 22.63, min: 21.28, max: 23.34 }, referenceGBps: { median: 7.74, min: 7.7, max: 8.3 }, ratioOfMedians: 2.924, reference4ThreadsGBps: { median: 25.08, min: 23.09, max: 28.05 }, ratioTo4Threads: 0.902, peakRssMiB: 381.2, peakRssRatio: 0.1861, peakRssGrowthMiB: 129.4 };
    writeFileSync(log, `date\nENV CUDA_DEVICE_MAX_CONNECTIONS=2\nCASE ${JSON.stringify({ case: 'fan', device: { name: 'NVIDIA H200' } })}\nRUN {"run":0}\nSUMMARY ${JSON.stringify(summary)}\n`);
    const r = run(['--gpu', log, '--doc', doc]);
    expect(r.status, r.stderr).toBe(0);
    const out = readFileSync(doc, 'utf8');
    expect(out).toContain('old\n<!-- bench:end -->'); // the CPU block is left alone
    expect(out).toContain('| `2026-01-01-h200-stream-bench.log` | 2 × NVIDIA H200 | `CUDA_DEVICE_MAX_CONNECTIONS=2` | 2 GiB, external, fanned out (replicas), aggregate | 3 | 22.6 (21.3–23.3) | 7.74 (7.70–8.30) | 2.92 | 25.1 (23.1–28.1) | 0.902 | 381 MiB (0.186) | 129 MiB |');
  });

  it('refuses a document without the block it is to fill, and a call without runs', () => {
    writeFileSync(doc, '# nothing to fill\n');
    const log = join(dir, 'x.log');
    writeFileSync(log, '');
    expect(run(['--gpu', log, '--doc', doc]).stderr).toMatch(/has no <!-- gpu:begin -->/);
    expect(run(['--doc', doc]).status).toBe(2);
  });
});
