#!/usr/bin/env node
// pnpm bench [--json] [--only <name,...>] [--runs N]
// Builds the packages (unless --no-build), then runs every benchmark case in its own child process
// (bench/run-case.mjs): each times ours, the baseline a user would otherwise write and the physical limit (Node's
// best loop for the same work) alternately in one process, one warm-up then >= 7 rounds (bench/lib.mjs
// `alternate`), and reports medians with min–max. Prints a table, or with --json a JSON array on stdout (per case:
// name, unit, ours, baseline, limit, ratio = ours/baseline, ratioToLimit = ours/limit, spread, target, met, and
// peakRssRatio / scaling where they apply). Progress and build output go to stderr.
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
  const range = (r, k) => (r.spread?.[k] ? ` (${fmt(r.spread[k][0])}–${fmt(r.spread[k][1])})` : '');
  const rows = results.map((r) =>
    r.error
      ? [r.name, 'error', '', '', '', '', '', r.error]
      : [
          r.name,
          `${fmt(r.ours)} ${r.unit}${range(r, 'ours')}`,
          r.baseline === undefined ? '' : `${fmt(r.baseline)}${range(r, 'baseline')}`,
          r.limit === undefined ? '' : `${fmt(r.limit)}${range(r, 'limit')}`,
          fmt(r.ratio),
          fmt(r.ratioToLimit),
          `${r.target ?? ''}${r.met === undefined ? '' : r.met ? ': met' : ': MISSED'}`,
          extra(r),
        ],
  );
  const head = ['case', 'ours (min–max)', 'baseline', 'limit', 'ratio', 'ratioToLimit', 'target', 'details'];
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
  const skip = new Set(['name', 'ours', 'baseline', 'limit', 'ratio', 'ratioToLimit', 'spread', 'unit', 'target', 'met', 'baselineName', 'limitName', 'what']);
  return Object.entries(r)
    .filter(([k]) => !skip.has(k))
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.map(fmt).join('–') : fmt(v)}`)
    .join(' ');
}
