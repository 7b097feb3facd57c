#!/usr/bin/env node
// pnpm bench [--json] [--only <name,...>] [--runs N]
// Runs every benchmark case in its own child process (bench/run-case.mjs), each measuring our figure and its
// baseline on the same data in the same run (warm-up, then the median of several runs), and prints a table, or a
// JSON array on stdout with --json. Progress and build output go to stderr so stdout stays machine-readable.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const json = args.includes('--json');
const onlyIdx = args.indexOf('--only');
const only = onlyIdx >= 0 ? new Set(args[onlyIdx + 1].split(',')) : null;
const runsIdx = args.indexOf('--runs');
const runs = runsIdx >= 0 ? Number(args[runsIdx + 1]) : 7;

if (!existsSync(join(root, 'packages/onnx/dist/index.js')) || !args.includes('--no-build')) {
  const b = spawnSync('pnpm', ['run', 'build'], { cwd: root, stdio: ['ignore', 2, 2] });
  if (b.status !== 0) process.exit(b.status ?? 1);
}
// Imported after the build: the cases import the packages' built output.
const { CASES } = await import('../bench/cases/index.mjs');

const results = [];
for (const c of CASES) {
  if (only && !only.has(c.name)) continue;
  process.stderr.write(`bench ${c.name} ...\n`);
  const child = spawnSync(process.execPath, ['--expose-gc', ...(c.nodeArgs ?? []), join(root, 'bench/run-case.mjs'), c.name, String(runs)], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 24,
    timeout: 30 * 60_000,
  });
  const out = child.stdout.toString().trim().split('\n').pop() ?? '';
  let result;
  try {
    result = JSON.parse(out);
  } catch {
    result = { name: c.name, error: `case exited with ${child.status ?? child.signal}: ${out.slice(0, 500)}` };
  }
  results.push(result);
}

if (json) {
  process.stdout.write(JSON.stringify(results, null, 2) + '\n');
} else {
  const rows = results.map((r) =>
    r.error
      ? [r.name, 'error', '', '', '', r.error]
      : [r.name, `${fmt(r.ours)} ${r.unit}`, `${fmt(r.baseline)} ${r.unit}`, fmt(r.ratio), r.target ?? '', r.met === undefined ? '' : r.met ? 'met' : 'MISSED', extra(r)],
  );
  const head = ['case', 'ours', 'baseline', 'ratio', 'target', '', 'details'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i] ?? '').length)));
  const line = (r) => r.map((c, i) => String(c ?? '').padEnd(widths[i])).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}
process.exitCode = results.some((r) => r.error) ? 1 : 0;

function fmt(v) {
  return typeof v === 'number' ? (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3)) : String(v ?? '');
}
function extra(r) {
  const skip = new Set(['name', 'ours', 'baseline', 'ratio', 'unit', 'target', 'met', 'baselineName', 'what']);
  return Object.entries(r)
    .filter(([k]) => !skip.has(k))
    .map(([k, v]) => `${k}=${fmt(v)}`)
    .join(' ');
}
