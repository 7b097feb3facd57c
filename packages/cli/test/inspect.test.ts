import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { captureIo, fixture } from './helpers.js';
import { runCli } from '@trt-refit/cli';
import { weightSha256 } from '../src/commands/inspect.js';

const io = () => captureIo();
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('trt-refit inspect', () => {
  it('--json --hash on an ONNX model: every weight with kind, scope, dtype, dims, storage, bytes and sha256', async () => {
    const c = io();
    expect(await runCli(['inspect', fixture('convbn/convbn_a.onnx'), '--json', '--hash'], c)).toBe(0);
    const info = JSON.parse(c.out) as { format: string; irVersion: number; opsets: unknown; weights: Record<string, unknown>[] };
    expect(info.format).toBe('onnx');
    expect(info.irVersion).toBe(8);
    expect(info.opsets).toEqual([{ domain: '', version: 17 }]);
    expect(info.weights).toHaveLength(16);
    const c1 = info.weights.find((w) => w.name === 'c1.weight')!;
    expect(c1).toMatchObject({ kind: 'initializer', scope: 'graph', dtype: 'FLOAT', dims: [8, 3, 3, 3], storage: 'raw', bytes: 864 });
    const ext = JSON.parse((await (async () => { const d = io(); await runCli(['inspect', fixture('convbn/convbn_a_ext.onnx'), '--json', '--hash'], d); return d.out; })())) as { weights: Record<string, unknown>[] };
    const c1ext = ext.weights.find((w) => w.name === 'c1.weight')!;
    expect(c1ext.storage).toBe('external');
    expect(c1ext.sha256).toBe(c1.sha256);
    const sidecar = readFileSync(fixture('convbn/convbn_a_ext.weights'));
    expect(Array.from({ length: sidecar.length - 863 }, (_, o) => sha(sidecar.subarray(o, o + 864))).includes(c1.sha256 as string)).toBe(true);
  });

  it('safetensors: format, ONNX dtype names, hashes equal to the ONNX model of the same weights', async () => {
    const a = io();
    expect(await runCli(['inspect', fixture('convbn/convbn_b.safetensors'), '--json', '--hash'], a)).toBe(0);
    const st = JSON.parse(a.out) as { format: string; weights: { name: string; dtype: string; sha256: string }[] };
    expect(st.format).toBe('safetensors');
    const b = io();
    await runCli(['inspect', fixture('convbn/convbn_b.onnx'), '--json', '--hash'], b);
    const onnx = new Map((JSON.parse(b.out) as { weights: { name: string; sha256: string }[] }).weights.map((w) => [w.name, w.sha256]));
    const fcw = st.weights.find((w) => w.name === 'fc.weight')!;
    expect(fcw.dtype).toBe('FLOAT');
    expect(fcw.sha256).toBe(onnx.get('fc.weight'));
  });

  it('a weight that cannot be read has "error" instead of sha256; the command still succeeds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trt-refit-cli-'));
    copyFileSync(fixture('convbn/convbn_a_ext.onnx'), join(dir, 'm.onnx')); // without its sidecar
    const c = io();
    expect(await runCli(['inspect', join(dir, 'm.onnx'), '--json', '--hash'], c)).toBe(0);
    const w = (JSON.parse(c.out) as { weights: Record<string, unknown>[] }).weights.find((x) => x.name === 'c1.weight')!;
    expect(w.sha256).toBeUndefined();
    expect(w.error).toMatch(/does not exist/);
  });

  it('a file that cannot be read at all exits 1 with the reason (and a JSON error with --json)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trt-refit-cli-'));
    writeFileSync(join(dir, 'bad.onnx'), new Uint8Array(32).fill(0xff));
    const c = io();
    expect(await runCli(['inspect', join(dir, 'bad.onnx'), '--json'], c)).toBe(1);
    expect(JSON.parse(c.out)).toEqual({ error: { code: 'ERR_TRT_REFIT_INVALID_MODEL', message: expect.stringContaining('not a valid ONNX model') } });
    expect(c.err).toMatch(/not a valid ONNX model/);
    const d = io();
    expect(await runCli(['inspect', join(dir, 'missing.onnx')], d)).toBe(1);
    expect(d.err).toMatch(/cannot open/);
  });

  it('lists subgraph, Constant and sparse tensors with their scope; unreadable ones carry "error" even without --hash', async () => {
    const { writeOnnxModel } = await import('@trt-refit/onnx');
    const w = (v: number) => new Uint8Array(new Float32Array([v]).buffer);
    const { model } = writeOnnxModel({
      nodes: [
        { opType: 'Constant', inputs: [], outputs: ['k'], attributes: { value_ints: [1, 2] } },
        { opType: 'If', name: 'if0', inputs: ['c'], outputs: ['y'], attributes: { then_branch: { graph: { nodes: [], initializers: [{ name: 'tw', dataType: 10, dims: [1], raw: new Uint8Array(2) }] } }, else_branch: { graph: { nodes: [] } } } },
      ],
      initializers: [
        { name: 'w', dataType: 1, dims: [1], raw: w(1) },
        { name: 'odd', dataType: 1, dims: [1], externalData: [{ key: 'location', value: 'x.bin' }, { key: 'shard', value: '1' }] },
      ],
      sparseInitializers: [{ values: { name: 'sp', dataType: 1, dims: [1], raw: w(2) }, indices: { name: 'sp_i', dataType: 7, dims: [1], raw: new Uint8Array(8) }, dims: [3] }],
    });
    const dir = mkdtempSync(join(tmpdir(), 'trt-refit-cli-'));
    writeFileSync(join(dir, 'm.onnx'), model);
    const c = io();
    expect(await runCli(['inspect', join(dir, 'm.onnx'), '--json'], c)).toBe(0);
    const weights = (JSON.parse(c.out) as { weights: Record<string, unknown>[] }).weights;
    expect(weights.map((x) => [x.name, x.kind, x.scope, x.dtype, x.storage])).toEqual([
      ['w', 'initializer', 'graph', 'FLOAT', 'raw'],
      ['odd', 'initializer', 'graph', 'FLOAT', 'external'],
      ['sp', 'sparse_initializer', 'graph', 'FLOAT', 'raw'],
      ['k', 'constant', 'graph', 'INT64', 'typed'],
      ['tw', 'initializer', 'graph/if0.then_branch', 'FLOAT16', 'raw'],
    ]);
    expect(weights.find((x) => x.name === 'odd')!.error).toMatch(/unknown external data key "shard"/);
    expect(weights.find((x) => x.name === 'sp')!.error).toMatch(/sparse/);
    expect(weights.find((x) => x.name === 'w')!.error).toBeUndefined();
    const h = io();
    expect(await runCli(['inspect', join(dir, 'm.onnx'), '--json', '--hash'], h)).toBe(0);
    const hashed = (JSON.parse(h.out) as { weights: Record<string, unknown>[] }).weights;
    expect(hashed.find((x) => x.name === 'k')!.sha256).toBe(sha(new Uint8Array(new BigInt64Array([1n, 2n]).buffer)));
    expect(hashed.find((x) => x.name === 'odd')).toMatchObject({ error: expect.stringMatching(/shard/) });
    expect(hashed.find((x) => x.name === 'odd')!.sha256).toBeUndefined();
  });

  it('a FIFO or a directory is refused with exit 1, without waiting for a writer', async () => {
    const { execFileSync } = await import('node:child_process');
    const dir = mkdtempSync(join(tmpdir(), 'trt-refit-cli-'));
    execFileSync('mkfifo', [join(dir, 'pipe.onnx')]);
    for (const p of [join(dir, 'pipe.onnx'), dir]) {
      const c = io();
      expect(await runCli(['inspect', p, '--json'], c)).toBe(1);
      expect(JSON.parse(c.out)).toMatchObject({ error: { message: expect.stringMatching(/not a regular file|a directory/) } });
    }
  });

  it('human output is a table with a total', async () => {
    const c = io();
    expect(await runCli(['inspect', fixture('convbn/convbn_a.onnx')], c)).toBe(0);
    expect(c.out).toMatch(/c1\.weight\s+initializer\s+FLOAT\s+\[8, 3, 3, 3\]\s+raw\s+864/);
    expect(c.out).toMatch(/16 weights, \d+ bytes/);
  });

  it('hashes sub-byte types unpacked one element per byte, signed ones sign-extended', () => {
    // INT4 elements 1, -1, 7, -8 packed low nibble first: 0xF1, 0x87
    const packed = new Uint8Array([0xf1, 0x87]);
    expect(weightSha256('INT4', 4, packed)).toBe(sha(new Uint8Array([1, 0xff, 7, 0xf8])));
    expect(weightSha256('UINT4', 4, packed)).toBe(sha(new Uint8Array([1, 15, 7, 8])));
    expect(weightSha256('INT2', 4, new Uint8Array([0b11100100]))).toBe(sha(new Uint8Array([0, 1, 0xfe, 0xff])));
    expect(weightSha256('FLOAT', 1, new Uint8Array([0, 0, 128, 63]))).toBe(sha(new Uint8Array([0, 0, 128, 63])));
  });
});

describe('the trt-refit binary', () => {
  it('exits cleanly when its output pipe closes early', async () => {
    const { spawnSync } = await import('node:child_process');
    const { existsSync } = await import('node:fs');
    const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
    if (!existsSync(bin)) return; // built by `pnpm build` (CI builds before testing)
    const r = spawnSync('bash', ['-c', `set -o pipefail; node ${bin} inspect ${fixture('tinyxf/tinyxf_a.onnx')} | head -1`], { encoding: 'utf8' });
    expect(r.stderr).not.toMatch(/EPIPE/);
    expect(r.status).toBe(0);
  });
});
