import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TrtRefitErrorCode } from '@trt-refit/core';
import { openOnnxModel, openSafetensors, parseSafetensors, MAX_SAFETENSORS_HEADER } from '@trt-refit/onnx';
import { fixture, fixtureBytes, tmp } from './helpers.js';

function build(header: object, data: Uint8Array, headerLengthOverride?: bigint): Uint8Array {
  const h = Buffer.from(JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, headerLengthOverride ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

describe('safetensors reader', () => {
  it('convbn_b.safetensors holds exactly the float initializers of convbn_b.onnx', async () => {
    const st = await openSafetensors(fixture('convbn/convbn_b.safetensors'));
    const onnx = await openOnnxModel(fixture('convbn/convbn_b.onnx'));
    const inits = new Map(onnx.tensors().filter((t) => t.kind === 'initializer').map((t) => [t.name, t]));
    let compared = 0;
    for (const t of st.tensors) {
      const o = inits.get(t.name);
      if (!o) continue;
      expect(t.shape).toEqual(o.dims);
      expect(Buffer.from(await st.read(t.name)).equals(Buffer.from(await onnx.readTensor(o))), t.name).toBe(true);
      compared++;
    }
    expect(compared).toBe(13);
  });
  it('parseSafetensors gives views into the input (no copy)', async () => {
    const bytes = fixtureBytes('convbn/convbn_b.safetensors');
    const st = parseSafetensors(bytes);
    expect((await st.read(st.tensors[0]!.name)).buffer).toBe(bytes.buffer);
  });
  it('reads metadata and refuses unknown names', async () => {
    const st = parseSafetensors(build({ __metadata__: { format: 'pt' }, a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4)));
    expect(st.metadata).toEqual({ format: 'pt' });
    await expect(st.read('b')).rejects.toMatchObject({ code: TrtRefitErrorCode.INVALID_MODEL });
  });
  it.each([
    ['a file shorter than the length prefix', new Uint8Array(4), /fewer than the 8-byte/],
    ['a header bomb (length beyond the cap)', build({}, new Uint8Array(0), BigInt(MAX_SAFETENSORS_HEADER + 1)), /more than the 100000000 allowed/],
    ['a header past the end of the file', build({}, new Uint8Array(0), 1000n), /header claims 1000 bytes/],
    ['a header that is not JSON', (() => { const b = build({ a: 1 }, new Uint8Array(0)); b[9] = 0x7b; b[10] = 0x7b; return b; })(), /not UTF-8 JSON/],
    ['a header that is an array', build([1, 2], new Uint8Array(0)), /not a JSON object/],
    ['an unknown dtype', build({ a: { dtype: 'F128', shape: [1], data_offsets: [0, 16] } }, new Uint8Array(16)), /unknown dtype "F128"/],
    ['a negative dim', build({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4)), /invalid shape/],
    ['offsets past the data', build({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, new Uint8Array(4)), /past the 4 bytes of data/],
    ['reversed offsets', build({ a: { dtype: 'F32', shape: [0], data_offsets: [4, 0] } }, new Uint8Array(4)), /invalid data_offsets/],
    ['a size that disagrees with the shape', build({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, new Uint8Array(8)), /need 8/],
    ['overlapping tensors', build({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8)), /overlap/],
    ['a shape whose product overflows', build({ a: { dtype: 'F32', shape: [2 ** 30, 2 ** 30, 2 ** 30], data_offsets: [0, 4] } }, new Uint8Array(4)), /overflows/],
    ['bad metadata', build({ __metadata__: { n: 1 } }, new Uint8Array(0)), /__metadata__/],
  ])('refuses %s with a typed error', (_l, bytes, why) => {
    expect(() => parseSafetensors(bytes)).toThrow(expect.objectContaining({ code: TrtRefitErrorCode.INVALID_MODEL, message: expect.stringMatching(why) }));
  });
  it('openSafetensors reads only the header until a tensor is asked for, and validates the same way', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'ok.safetensors'), build({ w: { dtype: 'BF16', shape: [3], data_offsets: [0, 6] } }, new Uint8Array([1, 2, 3, 4, 5, 6])));
    writeFileSync(join(dir, 'bomb.safetensors'), build({}, new Uint8Array(0), 2n ** 62n));
    const st = await openSafetensors(join(dir, 'ok.safetensors'));
    expect(st.tensors).toEqual([{ name: 'w', dtype: 'BF16', shape: [3], byteLength: 6, fileOffset: expect.any(Number) }]);
    expect(Array.from(await st.read('w'))).toEqual([1, 2, 3, 4, 5, 6]);
    await expect(openSafetensors(join(dir, 'bomb.safetensors'))).rejects.toThrow(/more than the 100000000 allowed/);
    await expect(openSafetensors(join(dir, 'missing.safetensors'))).rejects.toMatchObject({ code: TrtRefitErrorCode.INVALID_MODEL });
  });
  it('sub-byte dtypes pack their elements (F4: two per byte, F6: four in three bytes) and must fill whole bytes', () => {
    const st = parseSafetensors(build({ q: { dtype: 'F4', shape: [4], data_offsets: [0, 2] }, s: { dtype: 'F6_E2M3', shape: [2, 2], data_offsets: [2, 5] }, c: { dtype: 'C64', shape: [1], data_offsets: [8, 16] } }, new Uint8Array(16)));
    expect(st.tensors.map((t) => [t.name, t.byteLength])).toEqual([['q', 2], ['s', 3], ['c', 8]]);
    expect(() => parseSafetensors(build({ q: { dtype: 'F4', shape: [3], data_offsets: [0, 2] } }, new Uint8Array(2)))).toThrow(/3 F4 elements do not fill whole bytes/);
  });
  it('openSafetensors refuses a FIFO or a directory without hanging', async () => {
    const dir = tmp();
    execFileSync('mkfifo', [join(dir, 'f.safetensors')]);
    await expect(openSafetensors(join(dir, 'f.safetensors'))).rejects.toMatchObject({ code: TrtRefitErrorCode.INVALID_MODEL, message: expect.stringMatching(/a FIFO, not a regular file/) });
    await expect(openSafetensors(dir)).rejects.toMatchObject({ code: TrtRefitErrorCode.INVALID_MODEL, message: expect.stringMatching(/a directory/) });
  });
});
