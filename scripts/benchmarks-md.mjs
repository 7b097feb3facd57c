#!/usr/bin/env node
// Writes BENCHMARKS.md's figures from `pnpm bench --json` outputs, so every figure there comes from a run:
//   node scripts/benchmarks-md.mjs --commit <sha> --machine "<text>" run1.json run2.json
// The JSON files are copied to bench/results/ (run-<n>.json) and the block between the markers
// <!-- bench:begin --> and <!-- bench:end --> of BENCHMARKS.md is replaced by one table per case: each run's ours,
// baseline and limit with min–max, the ratios, the target and whether it was met, and the case's other fields.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: opts, positionals: files } = parseArgs({ allowPositionals: true, options: { commit: { type: 'string' }, machine: { type: 'string' } } });
if (files.length === 0 || !opts.commit || !opts.machine) {
  console.error('usage: benchmarks-md.mjs --commit <sha> --machine "<text>" run1.json [run2.json ...]');
  process.exit(2);
}
const runs = files.map((f) => JSON.parse(readFileSync(f, 'utf8')));
mkdirSync(join(root, 'bench/results'), { recursive: true });
files.forEach((f, i) => copyFileSync(f, join(root, `bench/results/run-${i + 1}.json`)));

const fmt = (v) => (typeof v !== 'number' ? String(v ?? '') : Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 0.01 || v === 0 ? v.toPrecision(3) : v.toExponential(1));
const cell = (r, k) => (r[k] === undefined ? '–' : `${fmt(r[k])} (${fmt(r.spread?.[k]?.[0])}–${fmt(r.spread?.[k]?.[1])})`);
const SHOWN = new Set(['name', 'unit', 'ours', 'baseline', 'limit', 'ratio', 'ratioToLimit', 'spread', 'target', 'met', 'baselineName', 'limitName', 'spread100k']);
const extras = (r) =>
  Object.entries(r)
    .filter(([k]) => !SHOWN.has(k))
    .map(([k, v]) => `${k} ${typeof v === 'number' ? fmt(v) : v}`)
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
const path = join(root, 'BENCHMARKS.md');
const doc = readFileSync(path, 'utf8');
const begin = '<!-- bench:begin -->';
const end = '<!-- bench:end -->';
const a = doc.indexOf(begin);
const b = doc.indexOf(end);
if (a < 0 || b < a) throw new Error(`BENCHMARKS.md has no ${begin} … ${end} block`);
writeFileSync(path, `${doc.slice(0, a + begin.length)}\n${out.join('\n')}\n${doc.slice(b)}`);
console.error(`BENCHMARKS.md: ${runs[0].length} cases × ${runs.length} runs`);
