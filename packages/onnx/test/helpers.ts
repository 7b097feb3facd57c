import { mkdtempSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const fixture = (p: string) => fileURLToPath(new URL(`../../../fixtures/${p}`, import.meta.url));
export const fixtureBytes = (p: string) => readFileSync(fixture(p));
export const tmp = () => mkdtempSync(join(tmpdir(), 'trt-refit-onnx-'));
export const f32 = (...v: number[]) => new Uint8Array(new Float32Array(v).buffer);

export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Same-length replacement of every occurrence of `from` (keeps a protobuf valid). */
export function replaceAll(bytes: Uint8Array, from: string, to: string): Uint8Array {
  const out = new Uint8Array(bytes); // a copy (Buffer#slice would be a view)
  const f = Buffer.from(from);
  let i = Buffer.from(out).indexOf(f);
  while (i >= 0) {
    out.set(Buffer.from(to), i);
    i = Buffer.from(out).indexOf(f, i + 1);
  }
  return out;
}

/** float32 values of little-endian bytes (copied, so any alignment works). */
export const toF32 = (bytes: Uint8Array) => new Float32Array(new Uint8Array(bytes).buffer);
