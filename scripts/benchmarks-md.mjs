#!/usr/bin/env node
// Writes BENCHMARKS.md's figures from `pnpm bench --json` outputs, so every figure there comes from a run:
//   node scripts/benchmarks-md.mjs --commit <sha> --machine "<text>" run1.json run2.json
// The JSON files are copied to bench/results/ (run-<n>.json) and the block between the markers
// <!-- bench:begin --> and <!-- bench:end --> of BENCHMARKS.md is replaced by one table per case: each run's ours,
// baseline and limit with min–max, the ratios, the target and whether it was met, and the case's other fields.
//
//   node scripts/benchmarks-md.mjs --gpu <stream-bench log> [--gpu <log> ...]
// replaces the block between <!-- gpu:begin --> and <!-- gpu:end --> of packages/native-backend/device-results/
// README.md (not BENCHMARKS.md, whose figures all come from `pnpm bench --json`) with one row per SUMMARY line of the device
// logs of packages/native-backend/scripts/stream-bench.mjs (committed, unedited, in that package's device-results/):
// ours beside the same-run C++ reference, each with its min–max, and the host RSS.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: opts, positionals: files } = parseArgs({ allowPositionals: true, options: { commit: { type: 'string' }, machine: { type: 'string' }, gpu: { type: 'string', multiple: true }, doc: { type: 'string' }, results: { type: 'string' } } });
// --doc and --results (default BENCHMARKS.md and bench/results/ of this checkout) let a test write elsewhere.
// The GPU table goes to the native backend's device-results README: BENCHMARKS.md holds only `pnpm bench` figures.
const path = opts.doc ?? join(root, opts.gpu ? 'packages/native-backend/device-results/README.md' : 'BENCHMARKS.md');
const resultsDir = opts.results ?? join(root, 'bench/results');
const fmt = (v) => (typeof v !== 'number' ? String(v ?? '') : Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 0.01 || v === 0 ? v.toPrecision(3) : v.toExponential(1));

/** BENCHMARKS.md with the block between `<!-- name:begin -->` and `<!-- name:end -->` replaced by `lines`. */
function replaceBlock(name, lines) {
  const doc = readFileSync(path, 'utf8');
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  const a = doc.indexOf(begin);
  const b = doc.indexOf(end);
  if (a < 0 || b < a) throw new Error(`${path} has no ${begin} … ${end} block`);
  writeFileSync(path, `${doc.slice(0, a + begin.length)}\n${lines.join('\n')}\n${doc.slice(b)}`);
}

if (opts.gpu) {
  replaceBlock('gpu', gpuTables(opts.gpu));
  console.error(`${path}: GPU rows from ${opts.gpu.length} log(s)`);
  process.exit(0);
}
if (files.length === 0 || !opts.commit || !opts.machine) {
  console.error('usage: benchmarks-md.mjs --commit <sha> --machine "<text>" run1.json [run2.json ...]\n       benchmarks-md.mjs --gpu <stream-bench log> [--gpu <log> ...]');
  process.exit(2);
}
const runs = files.map((f) => JSON.parse(readFileSync(f, 'utf8')));
mkdirSync(resultsDir, { recursive: true });
files.forEach((f, i) => copyFileSync(f, join(resultsDir, `run-${i + 1}.json`)));

const cell = (r, k) => (r[k] === undefined ? '–' : `${fmt(r[k])} (${fmt(r.spread?.[k]?.[0])}–${fmt(r.spread?.[k]?.[1])})`);
const SHOWN = new Set(['name', 'unit', 'ours', 'baseline', 'limit', 'ratio', 'ratioToLimit', 'spread', 'target', 'met', 'baselineName', 'limitName', 'spread100k']);
const extras = (r) =>
  Object.entries(r)
    .filter(([k]) => !SHOWN.has(k))
    .map(([k, v]) => `${k} ${typeof v === 'number' ? fmt(v) : Array.isArray(v) ? v.map(fmt).join('–') : v}`)
    .join('; ');

const out = [`Commit ${opts.commit}, ${opts.machine}; ${runs.length} consecutive \`pnpm bench --json\` runs on a fresh clone (\`bench/results/run-*.json\`, unedited).`, ''];
for (const first of runs[0]) {
  const rows = runs.map((run) => run.find((r) => r.name === first.name)).filter(Boolean);
  out.push(`**\`${first.name}\`** — ours against ${first.baselineName ?? 'no baseline'}; limit: ${first.limitName ?? 'none'}. Target: ${first.target ?? 'none'}.`, '');
  out.push(`| run | unit | ours (min–max) | baseline | limit | ratio | ratioToLimit | target met | other fields |`, '| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  rows.forEach((r, i) => {
    if (r.error) out.push(`| ${i + 1} | | error: ${String(r.error).split('\n')[0]} | | | | | | |`);
    else out.push(`| ${i + 1} | ${r.unit} | ${cell(r, 'ours')} | ${cell(r, 'baseline')} | ${cell(r, 'limit')} | ${fmt(r.ratio) || '–'} | ${fmt(r.ratioToLimit) || '–'} | ${r.met === undefined ? '–' : r.met ? 'yes' : '**no**'} | ${extras(r)} |`);
  });
  out.push('');
}
replaceBlock('bench', out);
console.error(`${path}: ${runs[0].length} cases × ${runs.length} runs`);

/** The GPU table: one row per SUMMARY line of stream-bench logs (see the header of this file). */
function gpuTables(logs) {
  const mm = (x) => `${fmt(x.median)} (${fmt(x.min)}–${fmt(x.max)})`;
  const gib = (b) => +(b / 2 ** 30).toFixed(2);
  const what = { ext: 'external data', emb: 'embedded', fan: 'external, fanned out (replicas), aggregate', tp: 'external, tensor-parallel halves (dim 0)' };
  const out = [
    '| log | GPUs | setting | model | readAhead | ours GB/s (min–max) | C++ reference, 1 reader | ours / ref | C++ reference, 4 readers | ours / ref | peak host RSS (÷ weights) | RSS growth |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const log of logs) {
    let device = '';
    let setting = 'CUDA defaults'; // an `ENV NAME=value` line in the log records a setting the runs were made with
    for (const line of readFileSync(log, 'utf8').split('\n')) {
      if (line.startsWith('ENV ')) setting = `\`${line.slice(4).trim()}\``;
      if (line.startsWith('CASE ')) device = JSON.parse(line.slice(5)).device?.name ?? '';
      if (!line.startsWith('SUMMARY ')) continue;
      const s = JSON.parse(line.slice(8));
      out.push(
        `| \`${log.split('/').pop()}\` | ${s.devices.length} × ${device} | ${setting} | ${gib(s.weightBytes)} GiB, ${what[s.case] ?? s.case} | ${s.readAhead ?? 1} | ${mm(s.oursGBps)} | ${mm(s.referenceGBps)} | ${fmt(s.ratioOfMedians)} | ${s.reference4ThreadsGBps ? mm(s.reference4ThreadsGBps) : '–'} | ${fmt(s.ratioTo4Threads) || '–'} | ${fmt(s.peakRssMiB)} MiB (${fmt(s.peakRssRatio)}) | ${fmt(s.peakRssGrowthMiB)} MiB |`,
      );
    }
  }
  return out;
}
