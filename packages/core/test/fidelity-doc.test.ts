import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PARSER_RULES } from '@trt-refit/core';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const doc = readFileSync(`${root}docs/fidelity.md`, 'utf8');
const rows = doc
  .split('\n')
  .filter((l) => /^\| [PFA]-[A-Z0-9.-]+ \|/.test(l))
  .map((l) => ({ id: l.split('|')[1]!.trim(), line: l }));

describe('docs/fidelity.md', () => {
  it('has one row per id, and a row for every rule of the PARSER_RULES table', () => {
    const ids = rows.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const r of PARSER_RULES) expect(ids, r.id).toContain(r.id);
    expect(rows.length).toBeGreaterThanOrEqual(25);
  });

  it.each(rows.map((r) => [r.id, r.line] as const))('%s names a source and tests that exist and carry the quoted name', (id, line) => {
    // a source: a commit of onnx-tensorrt or TensorRT, or a documentation URL
    expect(line, id).toMatch(/@[0-9a-f]{7}|https:\/\/docs\.nvidia\.com|ONNX Runtime/);
    const tests = [...line.matchAll(/`((?:packages)\/[^`]+\.ts)` › "([^"]+)"/g)];
    expect(tests.length, `${id} names no test`).toBeGreaterThan(0);
    for (const [, file, fragment] of tests) {
      expect(existsSync(`${root}${file}`), `${id}: ${file}`).toBe(true);
      expect(readFileSync(`${root}${file}`, 'utf8').includes(fragment!), `${id}: ${file} has no test "${fragment}"`).toBe(true);
    }
  });

  it('every P-/F-/A- id a test names is a row of the document', () => {
    const files = ['packages/mock-backend/test/fidelity.test.ts', 'packages/onnx/test/importer.test.ts', 'packages/onnx/test/parser-refitter.test.ts'];
    const named = new Set(files.flatMap((f) => [...readFileSync(`${root}${f}`, 'utf8').matchAll(/it\('([PFA]-[A-Z0-9.-]+[A-Z0-9])[: ]/g)].map((m) => m[1]!)));
    for (const id of named) expect(rows.map((r) => r.id), id).toContain(id);
  });
});
