import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSafetensors, transpose2d } from '@trt-refit/onnx';

export const fixture = (p: string) => fileURLToPath(new URL(`../../../fixtures/${p}`, import.meta.url));
export const fixtureBytes = (p: string) => readFileSync(fixture(p));
export const tmp = () => mkdtempSync(join(tmpdir(), 'trt-refit-onnx-'));
export const f32 = (...v: number[]) => new Uint8Array(new Float32Array(v).buffer);

export { halfToFloat } from '@trt-refit/onnx';

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

/** B's checkpoint as another framework would write it: prefixed names, the classifier weight stored transposed. */
export async function renamedCheckpoint(): Promise<Uint8Array> {
  const st = await openSafetensors(fixture('convbn/convbn_b.safetensors'));
  const header: Record<string, unknown> = {};
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const t of st.tensors) {
    let data = await st.read(t.name);
    let shape = [...t.shape];
    if (t.name === 'fc.weight') {
      data = transpose2d(data, shape[0]!, shape[1]!, 4);
      shape = [shape[1]!, shape[0]!];
    }
    header[`model.${t.name}`] = { dtype: t.dtype, shape, data_offsets: [offset, offset + data.length] };
    parts.push(data);
    offset += data.length;
  }
  const h = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  return Buffer.concat([len, h, ...parts]);
}


/** Every .onnx file under ../shared/corpus, or none when the corpus is not on this machine (tests then skip). */
export function corpusModels(): string[] {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.onnx')) files.push(p);
    }
  };
  const corpus = fixture('../../shared/corpus');
  if (existsSync(corpus)) walk(corpus);
  return files;
}
